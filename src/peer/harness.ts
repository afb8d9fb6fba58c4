/**
 * An in-process ensemble for tests (and a starting point for the simulator): N Peers over one
 * MemoryNetwork (deferred delivery through a ManualClock, 1 ms per hop by default), each with its
 * MemoryStore, all driven by one ManualClock and seeded from one seed. Nothing real: a run
 * replays exactly from its seed.
 *
 *   const ensemble = new Ensemble({ seed, voters: ['a', 'b', 'c'] });
 *   ensemble.runUntil(() => ensemble.leader() !== undefined);
 *   const client = ensemble.client('b');             // a session served by b
 *   const result = ensemble.call(client, { op: 'create', ... });
 */

import { assert } from '../core/assert.js';
import { EMPTY_CONFIG, makeConfig, type PeerId, type Snapshot } from '../core/consensus/index.js';
import type { WatchEvent } from '../core/tree/types.js';
import { MemoryStorage, MemoryStore } from '../adapters/storage-memory.js';
import { MemoryNetwork, type MemoryTransport } from '../adapters/transport-memory.js';
import { ManualClock } from './clock-manual.js';
import type { PeerTiming } from './constants.js';
import type { Clock, PersistBatch, ReplicaStorage } from './interfaces.js';
import { Peer } from './peer.js';
import type { SessionRequest, SessionResult, SessionState } from './serving-api.js';

export interface EnsembleOptions {
  readonly seed: number;
  /** The first voters (bootstrapped together). */
  readonly voters: readonly PeerId[];
  /** Peers that join later (bootstrapped with EMPTY_CONFIG, every other peer as a contact). */
  readonly joiners?: readonly PeerId[];
  readonly latencyMs?: number;
  readonly targetVoters?: number;
  readonly timing?: Partial<PeerTiming>;
  readonly snapshotEntriesInterval?: number;
  /** When set, every storage write completes this many ms later (as IndexedDB or fsync do), so
   *  the replica queues work while a batch persists; 0 or unset: at once. */
  readonly storageDelayMs?: number;
}

/** Memory storage whose writes complete after a delay on the clock (loads at once; writes too
 *  while `immediate`, so that a peer starts synchronously). */
export class DelayedStorage implements ReplicaStorage {
  private readonly inner: MemoryStorage;
  immediate = true;

  constructor(
    store: MemoryStore,
    private readonly clock: Clock,
    private readonly delayMs: number,
  ) {
    this.inner = new MemoryStorage(store);
  }

  load(done: Parameters<ReplicaStorage['load']>[0]): void {
    this.inner.load(done);
  }

  persist(batch: PersistBatch, done: (error: Error | null) => void): void {
    if (this.immediate) return this.inner.persist(batch, done);
    this.clock.after(this.delayMs, () => this.inner.persist(batch, done));
  }

  compact(snapshot: Snapshot, done: (error: Error | null) => void): void {
    this.clock.after(this.delayMs, () => this.inner.compact(snapshot, done));
  }
}

/** A session opened through the harness: what its listener heard, in order. */
export interface Client {
  readonly peer: PeerId;
  readonly sessionId: string;
  readonly timeoutMs: number;
  readonly events: WatchEvent[];
  readonly states: SessionState[];
  /** Everything the client heard, in order: events, states and results (for order checks). */
  readonly log: string[];
}

export class Ensemble {
  readonly clock = new ManualClock();
  readonly network: MemoryNetwork;
  readonly peers = new Map<PeerId, Peer>();
  readonly stores = new Map<PeerId, MemoryStore>();
  readonly transports = new Map<PeerId, MemoryTransport>();
  private readonly starts = new Map<PeerId, number>();

  constructor(readonly options: EnsembleOptions) {
    const latency = options.latencyMs ?? 1;
    this.network = new MemoryNetwork({ delivery: (deliver) => void this.clock.after(latency, deliver) });
    for (const id of options.voters) this.start(id, makeConfig(options.voters));
    for (const id of options.joiners ?? []) this.start(id, EMPTY_CONFIG);
  }

  private allIds(): PeerId[] {
    return [...this.options.voters, ...(this.options.joiners ?? [])];
  }

  /** Starts (or restarts, from its store) peer `id`. Each start gets its own seed. */
  start(id: PeerId, bootstrap = EMPTY_CONFIG): Peer {
    const count = (this.starts.get(id) ?? 0) + 1;
    this.starts.set(id, count);
    let store = this.stores.get(id);
    if (store === undefined) {
      store = new MemoryStore();
      this.stores.set(id, store);
    }
    const transport = this.network.connect(id);
    this.transports.set(id, transport);
    const index = this.allIds().indexOf(id);
    let peer: Peer | undefined;
    const delayed = (this.options.storageDelayMs ?? 0) > 0 ? new DelayedStorage(store, this.clock, this.options.storageDelayMs as number) : null;
    Peer.start(
      {
        transport,
        storage: delayed ?? new MemoryStorage(store),
        clock: this.clock,
        seed: (this.options.seed * 31 + index * 1009 + count * 7919) | 0,
        bootstrap,
        contacts: this.allIds().filter((other) => other !== id),
        ...(this.options.targetVoters === undefined ? {} : { targetVoters: this.options.targetVoters }),
        ...(this.options.timing === undefined ? {} : { timing: this.options.timing }),
        ...(this.options.snapshotEntriesInterval === undefined ? {} : { snapshotEntriesInterval: this.options.snapshotEntriesInterval }),
      },
      (result) => {
        if (!result.ok) throw result.error;
        peer = result.peer;
      },
    );
    assert(peer !== undefined, `ensemble: ${id} started`);
    if (delayed !== null) delayed.immediate = false;
    this.peers.set(id, peer);
    return peer;
  }

  peer(id: PeerId): Peer {
    const peer = this.peers.get(id);
    assert(peer !== undefined, `ensemble: no peer ${id}`);
    return peer;
  }

  /** A crash: the peer stops at once, its connections drop; its store survives for restart(). */
  crash(id: PeerId): void {
    this.peer(id).stop();
    this.transports.get(id)?.close();
    this.peers.delete(id);
  }

  restart(id: PeerId): Peer {
    assert(!this.peers.has(id), `ensemble: ${id} is not running`);
    return this.start(id);
  }

  run(ms: number, stepMs = 10): void {
    for (let elapsed = 0; elapsed < ms; elapsed += stepMs) this.clock.advance(Math.min(stepMs, ms - elapsed));
  }

  /** Runs until `done()` holds (checked every `stepMs`), at most `maxMs`; returns whether it held. */
  runUntil(done: () => boolean, maxMs = 60_000, stepMs = 10): boolean {
    for (let elapsed = 0; elapsed <= maxMs; elapsed += stepMs) {
      if (done()) return true;
      this.clock.advance(stepMs);
    }
    return done();
  }

  /** The running leader with the highest term (undefined if none). */
  leader(): Peer | undefined {
    let best: Peer | undefined;
    for (const peer of this.peers.values()) {
      const status = peer.status();
      if (status.role !== 'leader') continue;
      if (best === undefined || status.term > best.status().term) best = peer;
    }
    return best;
  }

  /** Runs until some peer leads and every running peer agrees on it. */
  elect(maxMs = 30_000): Peer {
    const agreed = (): boolean => {
      const leader = this.leader();
      if (leader === undefined) return false;
      return [...this.peers.values()].every((peer) => peer.status().leaderId === leader.peerId);
    };
    assert(this.runUntil(agreed, maxMs), 'ensemble: a leader was elected');
    return this.leader() as Peer;
  }

  /** Opens a session served by `peerId` and runs until it is established. */
  client(peerId: PeerId, timeoutMs = 10_000, maxMs = 30_000): Client {
    const events: WatchEvent[] = [];
    const states: SessionState[] = [];
    const log: string[] = [];
    let opened: { sessionId: string; timeoutMs: number } | null = null;
    let failed: string | null = null;
    this.peer(peerId).openSession(
      {
        timeoutMs,
        listener: {
          event: (event) => {
            events.push(event);
            log.push(`event ${event.type} ${event.path} @${event.zxid}`);
          },
          state: (state) => {
            states.push(state);
            log.push(`state ${state}`);
          },
        },
      },
      (result) => {
        if (result.ok) opened = result.session;
        else failed = result.code;
      },
    );
    assert(this.runUntil(() => opened !== null || failed !== null, maxMs), `ensemble: a session on ${peerId} opened or failed`);
    const session = opened as { sessionId: string; timeoutMs: number } | null;
    assert(session !== null, `ensemble: session on ${peerId} failed with ${String(failed)}`);
    return { peer: peerId, sessionId: session.sessionId, timeoutMs: session.timeoutMs, events, states, log };
  }

  /** Submits a request; the returned box fills when its `done` is called. */
  submit(client: Client, request: SessionRequest): { result: SessionResult | null } {
    const box: { result: SessionResult | null } = { result: null };
    this.peer(client.peer).submit(client.sessionId, request, (result) => {
      assert(box.result === null, 'done is called once');
      box.result = result;
      client.log.push(`result ${request.op} ${describe(result)}`);
    });
    return box;
  }

  /** Submits and runs until answered. */
  call(client: Client, request: SessionRequest, maxMs = 30_000): SessionResult {
    const box = this.submit(client, request);
    assert(this.runUntil(() => box.result !== null, maxMs), `ensemble: ${request.op} answered`);
    return box.result as SessionResult;
  }

  close(client: Client, maxMs = 30_000): { ok: boolean; code?: string } {
    let answer: { ok: boolean; code?: string } | null = null;
    this.peer(client.peer).closeSession(client.sessionId, (result) => {
      answer = result.ok ? { ok: true } : { ok: false, code: result.code };
    });
    assert(this.runUntil(() => answer !== null, maxMs), 'ensemble: close answered');
    return answer as unknown as { ok: boolean; code?: string };
  }

  /** The digests of every running peer's tree at its applied index, by peer. */
  digests(): Map<PeerId, { applied: number; digest: string }> {
    const out = new Map<PeerId, { applied: number; digest: string }>();
    for (const [id, peer] of this.peers) out.set(id, { applied: peer.status().appliedIndex, digest: peer.tree.digest() });
    return out;
  }

  /** Runs until a leader has committed its whole log and every running peer has applied it, then
   *  returns whether their trees agree. */
  converge(maxMs = 30_000): boolean {
    const settled = (): boolean => {
      const leader = this.leader()?.status();
      if (leader === undefined || leader.commitIndex < leader.lastIndex) return false;
      return [...this.peers.values()].every((peer) => {
        const status = peer.status();
        return status.commitIndex === leader.commitIndex && status.appliedIndex === leader.commitIndex;
      });
    };
    if (!this.runUntil(settled, maxMs)) return false;
    return new Set([...this.digests().values()].map((entry) => entry.digest)).size === 1;
  }
}

export function describe(result: SessionResult): string {
  if (!result.ok) return `fail ${result.code}`;
  if (result.op === 'create') return `ok ${result.path}`;
  return 'ok';
}

const utf8 = new TextEncoder();

/** Bytes of a string (for create/setData in tests). */
export function bytes(value: string): Uint8Array {
  return utf8.encode(value);
}
