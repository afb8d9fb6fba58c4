/**
 * One simulated peer: a real Replica (src/peer/replica.ts, the same Ready loop the real peers run)
 * around a real RawNode, on a SimHost (thread, tick source, disk), with the register machine, and
 * the server side of the simulated clients' requests (proposals waiting for their entry to apply,
 * reads waiting for their ReadIndex and for the applied index to reach it).
 *
 * Every incarnation (start, and each restart) builds a fresh Replica and state machine from the
 * disk's durable state; what the previous incarnation held in memory (pending requests included)
 * is gone, as in a real crash, so a client that was waiting on it hears nothing.
 */

import { assert } from '../../core/assert.js';
import type { Config, Entry, Message, PeerId, ReadState, Snapshot, SoftState, UnsafeMutations } from '../../core/consensus/index.js';
import type { Prng } from '../../core/prng.js';
import type { PersistBatch } from '../../peer/interfaces.js';
import { Replica } from '../../peer/replica.js';
import type { ReadReply, WriteReply } from './clients.js';
import type { SafetyMonitor } from './monitor.js';
import { SimViolation } from './monitor.js';
import type { RaftSimProfile } from './profiles.js';
import { encodeRegisterCommand, RegisterMachine, type RegisterCommand } from './register-machine.js';
import { persistedStateOf, SimReplicaStorage, type RaftHost } from './replica-storage.js';

/** What a node needs of the simulation around it. */
export interface NodeContext {
  readonly profile: RaftSimProfile;
  readonly unsafeMutations: UnsafeMutations;
  readonly monitor: SafetyMonitor;
  now(): number;
  trace(line: string): void;
  send(message: Message): void;
  /** Called when a batch is written, before it is durable (crash-at-write hooks here). */
  afterWrite(node: SimNode): void;
  /** Counts a snapshot installed from the leader (not the one loaded at start). */
  onSnapshotInstalled(): void;
}

interface PendingWrite {
  readonly index: number;
  readonly reply: (answer: WriteReply) => void;
}

interface PendingRead {
  readonly key: string;
  index: number | null;
  readonly reply: (answer: ReadReply) => void;
}

/** `[3..5] hs=t4/v:n2/c:3 snap=2/40 sync`: what one persist batch writes. */
function describeBatch(batch: PersistBatch): string {
  const parts: string[] = [];
  const first = batch.entries[0];
  if (first !== undefined) parts.push(`[${first.index}..${first.index + batch.entries.length - 1}]`);
  if (batch.hardState !== null) parts.push(`hs=t${batch.hardState.term}/v:${batch.hardState.vote ?? '-'}/c:${batch.hardState.commit}`);
  if (batch.snapshot !== null) parts.push(`snap=${batch.snapshot.meta.term}/${batch.snapshot.meta.index}`);
  parts.push(batch.sync ? 'sync' : 'no-sync');
  return parts.join(' ');
}

export class SimNode {
  readonly id: PeerId;
  readonly host: RaftHost;
  readonly bootstrap: Config;
  private readonly context: NodeContext;
  private readonly raftPrng: Prng;
  private replicaNow: Replica | null = null;
  private machine = new RegisterMachine();
  /** Stopped for good (removed from the ensemble). */
  retired = false;
  /** A crash waiting for this node's next write (crash-at-write). */
  crashArmed = false;
  private readonly writes = new Map<string, PendingWrite>();
  /** Pending proposals by index (several: a leader re-elected may propose at an index again). */
  private readonly writeAtIndex = new Map<number, string[]>();
  private readonly reads = new Map<string, PendingRead>();

  constructor(options: { id: PeerId; host: RaftHost; bootstrap: Config; context: NodeContext; raftPrng: Prng }) {
    this.id = options.id;
    this.host = options.host;
    this.bootstrap = options.bootstrap;
    this.context = options.context;
    this.raftPrng = options.raftPrng;
  }

  /** The running replica (null while it bootstraps, and after a crash until the restart). */
  get replica(): Replica | null {
    return this.replicaNow;
  }

  /** Whether the node's thread is running (not crashed, paused or retired) with a replica. */
  isUp(): boolean {
    return !this.retired && this.host.process.state() === 'running' && this.replicaNow !== null;
  }

  /** SimHost.onStart: a new incarnation from the durable state. */
  start(): void {
    this.replicaNow = null;
    this.machine = new RegisterMachine();
    this.writes.clear();
    this.writeAtIndex.clear();
    this.reads.clear();
    const durable = persistedStateOf(this.host.storage);
    if (durable !== null) {
      this.context.monitor.checkLog(this.id, { snapshot: durable.snapshot.meta, entries: durable.entries }, 'durable');
    }
    const machine = this.machine;
    const storage = new SimReplicaStorage({
      host: this.host,
      beforeWrite: (batch) => {
        this.context.monitor.onPersist(this.id, batch, (index) => this.termOnDisk(index));
        this.context.trace(`${this.id} write ${describeBatch(batch)}`);
      },
      afterWrite: () => this.context.afterWrite(this),
      onDurable: () => this.context.trace(`${this.id} durable`),
    });
    const { profile } = this.context;
    let started = false;
    Replica.start(
      {
        raft: { id: this.id, prng: this.raftPrng.fork(), ...profile.raft, unsafeMutations: this.context.unsafeMutations },
        storage,
        stateMachine: machine,
        send: (message) => this.context.send(message),
        bootstrap: this.bootstrap,
        snapshotEntriesInterval: profile.snapshotEntriesInterval,
        events: {
          softState: (state) => this.onSoftState(state),
          readState: (state) => this.onReadState(state),
          applied: (entry) => this.onApplied(machine, entry),
          restored: (snapshot) => this.onRestored(machine, snapshot, started),
          fatal: (error) => {
            throw new SimViolation('assertion', `${this.id}: storage failed: ${error.message}`);
          },
        },
      },
      (result) => {
        if (!result.ok) throw new SimViolation('assertion', `${this.id}: could not start: ${result.error.message}`);
        this.replicaNow = result.replica;
      },
    );
    started = true;
  }

  /** The node crashed or was retired: the replica stops; requests it held are forgotten. */
  stopped(): void {
    this.replicaNow?.stop();
    this.replicaNow = null;
    this.writes.clear();
    this.writeAtIndex.clear();
    this.reads.clear();
  }

  private termOnDisk(index: number): number | undefined {
    const disk = this.host.storage;
    const entry = disk.record(index);
    if (entry !== undefined) return entry.term;
    const snapshot = disk.get('snapshot');
    if (snapshot?.kind === 'snapshot' && snapshot.snapshot.meta.index === index) return snapshot.snapshot.meta.term;
    return undefined;
  }

  private onSoftState(state: SoftState): void {
    const replica = this.replicaNow;
    assert(replica !== null, `${this.id} changes role only once started`);
    const status = replica.status();
    this.context.trace(`${this.id} ${state.role} t${status.term} leader=${state.leader ?? '-'}`);
    if (state.role === 'leader') this.context.monitor.onLeader(this.id, status.term, replica.inspectLog());
  }

  private onApplied(machine: RegisterMachine, entry: Entry): void {
    this.context.monitor.onApplied(this.id, entry, machine.stateHash());
    if (entry.kind === 'config') this.context.trace(`${this.id} applied config ${entry.term}/${entry.index}`);
    const waiting = this.writeAtIndex.get(entry.index);
    if (waiting !== undefined) {
      this.writeAtIndex.delete(entry.index);
      const last = machine.lastApplied();
      for (const id of waiting) {
        const pending = this.writes.get(id);
        this.writes.delete(id);
        const mine = entry.kind === 'normal' && last !== null && last.id === id;
        pending?.reply(mine ? { kind: 'applied', changed: last.changed } : { kind: 'lost', leaderHint: this.leaderHint() });
      }
    }
    this.serveReads(entry.index);
  }

  private onRestored(machine: RegisterMachine, snapshot: Snapshot, started: boolean): void {
    const index = snapshot.meta.index;
    this.context.monitor.onRestored(this.id, index, machine.stateHash());
    if (started) {
      this.context.onSnapshotInstalled();
      this.context.trace(`${this.id} installed snapshot ${snapshot.meta.term}/${index} (${snapshot.data.length} bytes)`);
    }
    for (const [id, pending] of [...this.writes]) {
      if (pending.index > index) continue;
      this.writes.delete(id);
      this.writeAtIndex.delete(pending.index);
      const changed = machine.resultOf(id);
      pending.reply(changed === undefined ? { kind: 'lost', leaderHint: this.leaderHint() } : { kind: 'applied', changed });
    }
    this.serveReads(index);
  }

  private onReadState(state: ReadState): void {
    const pending = this.reads.get(state.requestId);
    if (pending === undefined || pending.index !== null) return; // an earlier incarnation's, or a duplicate
    pending.index = state.index;
    this.serveReads(this.replicaNow?.applied ?? 0);
  }

  private serveReads(applied: number): void {
    if (this.reads.size === 0) return;
    for (const [id, pending] of [...this.reads]) {
      if (pending.index === null || pending.index > applied) continue;
      this.reads.delete(id);
      pending.reply({ kind: 'value', value: this.machine.read(pending.key) });
    }
  }

  private leaderHint(): string | null {
    return this.replicaNow?.status().leader ?? null;
  }

  /** A client's write arrives (on this node's thread): propose it here. */
  handleWrite(command: RegisterCommand, reply: (answer: WriteReply) => void): void {
    const replica = this.replicaNow;
    if (replica === null) return reply({ kind: 'refused', leaderHint: null });
    const data = encodeRegisterCommand(command);
    const accepted = replica.withNode((node) => {
      const outcome = node.propose(data);
      if (!outcome.ok) return reply({ kind: 'refused', leaderHint: node.status().leader });
      this.writes.set(command.id, { index: outcome.index, reply });
      const atIndex = this.writeAtIndex.get(outcome.index);
      if (atIndex === undefined) this.writeAtIndex.set(outcome.index, [command.id]);
      else atIndex.push(command.id);
    });
    if (!accepted) reply({ kind: 'refused', leaderHint: null });
  }

  /** A client's read arrives: ask for a ReadIndex here, serve it once applied reaches it. */
  handleRead(requestId: string, key: string, reply: (answer: ReadReply) => void): void {
    const replica = this.replicaNow;
    if (replica === null) return reply({ kind: 'refused', leaderHint: null });
    const accepted = replica.withNode((node) => {
      const outcome = node.readIndex(requestId);
      if (!outcome.ok) return reply({ kind: 'refused', leaderHint: node.status().leader });
      this.reads.set(requestId, { key, index: null, reply });
    });
    if (!accepted) reply({ kind: 'refused', leaderHint: null });
  }

  /** The node's register machine (final checks read it). */
  stateMachine(): RegisterMachine {
    return this.machine;
  }
}
