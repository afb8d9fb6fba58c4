/**
 * One simulated peer: the real Peer (src/peer/peer.ts — sessions, forwarding, leader duties,
 * membership, watches, the Replica's Ready loop) on a SimHost, with
 *   - Transport over the SimNetwork (wire bytes as the peer encodes them; it decodes them itself),
 *   - ReplicaStorage over the simulated disk (the Raft simulator's SimReplicaStorage: one persist
 *     batch is one atomic disk batch then an fsync; a crash loses what was not synced),
 *   - Clock: node-local time that drifts with the node's clock (`now()` runs (1 + drift) times as
 *     fast as virtual time, timers fire (1 + drift) times sooner), keeps running while the node is
 *     frozen, and timers that wait while it is frozen and die with its incarnation.
 * Every incarnation (start, and each restart) is a new Peer from the disk's durable state, seeded
 * afresh; the clients living on the node start a new life with it.
 */

import { assert } from '../../core/assert.js';
import type { Config, PeerId } from '../../core/consensus/index.js';
import type { Prng } from '../../core/prng.js';
import type { DataTree } from '../../core/tree/index.js';
import type { Cancel, Clock, PersistBatch, Transport } from '../../peer/interfaces.js';
import { Peer, type PeerObserver } from '../../peer/peer.js';
import type { UnsafeRuntimeMutations } from '../../peer/host.js';
import type { Scheduler } from '../scheduler.js';
import { hashString } from '../raft/hash.js';
import type { SafetyMonitor } from '../raft/monitor.js';
import { SimViolation } from '../raft/monitor.js';
import { persistedStateOf, SimReplicaStorage, type RaftHost } from '../raft/replica-storage.js';
import type { SimClient } from './workload.js';

/** Node-local wall time at virtual time 0 (a plausible epoch, so txn times look like times). */
export const LOCAL_EPOCH_MS = 1_700_000_000_000;

/** What a node needs of the simulation around it. */
export interface PeerNodeContext {
  readonly scheduler: Scheduler;
  readonly monitor: SafetyMonitor;
  readonly snapshotEntriesInterval: number;
  readonly targetVoters: number;
  readonly unsafeRuntimeMutations: UnsafeRuntimeMutations;
  trace(line: string): void;
  send(from: PeerId, to: PeerId, bytes: Uint8Array): void;
  /** A replica applied an entry (the first to apply each index feeds the committed log). */
  onApplied(node: PeerNode, entry: Parameters<NonNullable<PeerObserver['applied']>>[0], tree: DataTree): void;
  /** A snapshot from the leader was installed (not the one loaded at start). */
  onSnapshotInstalled(node: PeerNode): void;
}

/** The node-local clock a Peer sees (see the file comment). */
class SimPeerClock implements Clock {
  private drift = 0;
  private anchorVirtual = 0;
  private anchorLocal = LOCAL_EPOCH_MS;

  constructor(
    private readonly host: RaftHost,
    private readonly scheduler: Scheduler,
  ) {}

  now(): number {
    return this.anchorLocal + (this.scheduler.now() - this.anchorVirtual) * (1 + this.drift);
  }

  setDrift(ratio: number): void {
    this.anchorLocal = this.now();
    this.anchorVirtual = this.scheduler.now();
    this.drift = ratio;
  }

  after(ms: number, fn: () => void): Cancel {
    const id = this.host.timer(Math.max(0, ms) / (1 + this.drift), 'timer', fn);
    return () => void this.scheduler.cancel(id);
  }
}

function describeBatch(batch: PersistBatch): string {
  const parts: string[] = [];
  const first = batch.entries[0];
  if (first !== undefined) parts.push(`[${first.index}..${first.index + batch.entries.length - 1}]`);
  if (batch.hardState !== null) parts.push(`hs=t${batch.hardState.term}/v:${batch.hardState.vote ?? '-'}/c:${batch.hardState.commit}`);
  if (batch.snapshot !== null) parts.push(`snap=${batch.snapshot.meta.term}/${batch.snapshot.meta.index}`);
  return parts.join(' ');
}

export class PeerNode {
  readonly id: PeerId;
  readonly host: RaftHost;
  readonly clock: SimPeerClock;
  readonly clients: SimClient[] = [];
  private readonly bootstrap: Config;
  private readonly contacts: readonly PeerId[];
  private readonly context: PeerNodeContext;
  private readonly seeds: Prng;
  private peerNow: Peer | null = null;
  private handler: ((from: PeerId, bytes: Uint8Array) => void) | null = null;
  snapshotsInstalled = 0;
  /** Forward probes sent and lost forwards found (as leader), summed over this node's earlier
   *  incarnations (each start begins its counters at 0). */
  private probesBefore = { probes: 0, lost: 0 };

  constructor(options: { id: PeerId; host: RaftHost; bootstrap: Config; contacts: readonly PeerId[]; context: PeerNodeContext; seeds: Prng }) {
    this.id = options.id;
    this.host = options.host;
    this.bootstrap = options.bootstrap;
    this.contacts = options.contacts;
    this.context = options.context;
    this.seeds = options.seeds;
    this.clock = new SimPeerClock(this.host, this.context.scheduler);
  }

  /** The running peer (null while it starts, and after a crash until the restart). */
  get peer(): Peer | null {
    return this.peerNow;
  }

  /** Forward probes this node sent and lost forwards it found as leader, over all its lives. */
  forwardProbes(): { probes: number; lost: number } {
    const counters = this.peerNow?.status().counters;
    return { probes: this.probesBefore.probes + (counters?.forwardProbes ?? 0), lost: this.probesBefore.lost + (counters?.forwardsLost ?? 0) };
  }

  /** Running (not crashed or frozen) with a started peer. */
  isUp(): boolean {
    return this.host.process.state() === 'running' && this.peerNow !== null;
  }

  /** A message arrives (on the node's thread). */
  receive(from: PeerId, bytes: Uint8Array): void {
    this.handler?.(from, bytes);
  }

  /** SimHost.onStart: a new incarnation from the durable state. */
  start(): void {
    this.probesBefore = this.forwardProbes();
    this.peerNow = null;
    this.handler = null;
    const { monitor } = this.context;
    const durable = persistedStateOf(this.host.storage);
    if (durable !== null) monitor.checkLog(this.id, { snapshot: durable.snapshot.meta, entries: durable.entries }, 'durable');
    const storage = new SimReplicaStorage({
      host: this.host,
      beforeWrite: (batch) => {
        monitor.onPersist(this.id, batch, (index) => this.termOnDisk(index));
        this.context.trace(`${this.id} write ${describeBatch(batch)}`);
      },
    });
    const transport: Transport = {
      self: this.id,
      send: (to, bytes) => this.context.send(this.id, to, bytes),
      onMessage: (handler) => {
        this.handler = handler;
      },
    };
    Peer.start(
      {
        transport,
        storage,
        clock: this.clock,
        seed: this.seeds.u32() | 0,
        bootstrap: this.bootstrap,
        contacts: this.contacts,
        targetVoters: this.context.targetVoters,
        snapshotEntriesInterval: this.context.snapshotEntriesInterval,
        observer: this.observer(),
        unsafeRuntimeMutations: this.context.unsafeRuntimeMutations,
      },
      (result) => {
        if (!result.ok) throw new SimViolation('assertion', `${this.id}: could not start: ${result.error.message}`);
        this.peerNow = result.peer;
        for (const client of this.clients) client.incarnate();
      },
    );
  }

  /** The node crashed: its peer and clients are gone with everything they held in memory. */
  stopped(): void {
    this.checkNoDivergence();
    this.peerNow = null;
    this.handler = null;
    for (const client of this.clients) client.crashed();
  }

  /** No unsafe recovery runs here, so no replica may ever see a leader contradict what it
   *  committed (Peer.divergesFromCommitted drops a diverged history; Raft never needs it). */
  checkNoDivergence(): void {
    const resets = this.peerNow?.status().counters.divergedResets ?? 0;
    if (resets > 0) throw new SimViolation('state-machine-safety', `${this.id}: a leader contradicted its committed log (${resets} diverged history reset(s))`);
  }

  private observer(): PeerObserver {
    const { monitor } = this.context;
    return {
      softState: (state, replica) => {
        const status = replica.status();
        this.context.trace(`${this.id} ${state.role} t${status.term} leader=${state.leader ?? '-'}`);
        if (state.role === 'leader') monitor.onLeader(this.id, status.term, replica.inspectLog());
      },
      applied: (entry, tree) => {
        monitor.onApplied(this.id, entry, hashString(tree.digest()));
        this.context.onApplied(this, entry, tree);
      },
      restored: (snapshot, tree, atStart) => {
        monitor.onRestored(this.id, snapshot.meta.index, hashString(tree.digest()));
        if (atStart) return;
        this.snapshotsInstalled += 1;
        this.context.trace(`${this.id} installed snapshot ${snapshot.meta.term}/${snapshot.meta.index}`);
        this.context.onSnapshotInstalled(this);
      },
    };
  }

  private termOnDisk(index: number): number | undefined {
    const disk = this.host.storage;
    const entry = disk.record(index);
    if (entry !== undefined) return entry.term;
    const snapshot = disk.get('snapshot');
    if (snapshot?.kind === 'snapshot' && snapshot.snapshot.meta.index === index) return snapshot.snapshot.meta.term;
    return undefined;
  }

  /** The peer's tree (asserting it runs). */
  tree(): DataTree {
    const peer = this.peerNow;
    assert(peer !== null, `${this.id} runs`);
    return peer.tree;
  }
}
