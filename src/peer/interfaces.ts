/**
 * The small interfaces through which a peer meets the world: storage, transport and clock. The
 * runtime (replica.ts, and the peer built on it) sees only these; memory implementations serve unit
 * tests and the simulator, IndexedDB / files / WebRTC the real peers (src/adapters).
 *
 * Callback style, not promises: a driver (the simulator) completes each call from its own event
 * queue, so a run replays exactly from its seed; real adapters wrap their promises in callbacks.
 */

import type { Entry, HardState, PeerId, PersistedState, Snapshot } from '../core/consensus/index.js';

/** One Ready's worth of durable state, written as ONE atomic storage transaction (DESIGN.md:
 *  group commit; idb's rule: nothing else awaited inside the transaction). */
export interface PersistBatch {
  /** Replaces the stored hard state when not null. */
  readonly hardState: HardState | null;
  /** A received snapshot: store it and delete every stored entry (the log restarts after it). */
  readonly snapshot: Snapshot | null;
  /** Appended; an entry at index i replaces any stored entry at i and deletes every entry after i. */
  readonly entries: readonly Entry[];
  /** Must reach stable storage before `done` (strict durability / fsync). */
  readonly sync: boolean;
}

export interface ReplicaStorage {
  /** What a restart needs; `null` for a brand-new replica (nothing ever persisted). */
  load(done: (result: { ok: true; state: PersistedState | null } | { ok: false; error: Error }) => void): void;
  /** Writes a batch atomically; `done` once durable (when `sync`) or written. */
  persist(batch: PersistBatch, done: (error: Error | null) => void): void;
  /** Log compaction: stores `snapshot` and deletes stored entries at or below its index (entries
   *  after it stay). One atomic transaction. */
  compact(snapshot: Snapshot, done: (error: Error | null) => void): void;
}

/** Messages between peers: best effort, ordered per pair while a connection lasts. */
export interface Transport {
  readonly self: PeerId;
  send(to: PeerId, bytes: Uint8Array): void;
  /** The one handler for every message that arrives (set by the runtime). */
  onMessage(handler: (from: PeerId, bytes: Uint8Array) => void): void;
}

export type Cancel = () => void;

/** Time as the runtime sees it: wall-clock ms for txn headers and session deadlines, and timers. */
export interface Clock {
  now(): number;
  /** Calls `fn` once after `ms`; returns a function that cancels it. */
  after(ms: number, fn: () => void): Cancel;
}

/** The state machine a replica applies committed entries to: the data tree for meshkeeper, a
 *  register for the Raft simulator. */
export interface StateMachine {
  /** Applies one committed `normal` entry (noop and config entries are not passed). */
  apply(entry: Entry): void;
  /** Replaces the whole state with a snapshot's bytes (received from the leader, or on restart). */
  restore(snapshot: Snapshot): void;
  /** The state's bytes at the last applied index (for compaction and InstallSnapshot). */
  snapshot(): Uint8Array;
}
