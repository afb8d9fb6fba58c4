/**
 * A replica: one Raft node, its storage and its state machine, driven through the Ready loop
 *
 *   ready -> persist (one storage transaction) -> send -> apply -> read states -> advance
 *
 * (raw-node.ts documents each duty). Everything that would touch the node while a batch is being
 * persisted (ticks, messages, proposals, compaction) is queued and run after `advance`, so the node
 * is only ever driven in one straight line and "persist before send" cannot be interleaved wrongly.
 * While one batch persists, proposals pile up in the queue and leave together in the next Ready:
 * group commit falls out of the loop. At most one storage operation is in flight at a time.
 *
 * No timers and no promises here: the owner (the peer runtime, or the simulator) calls `tick()`,
 * `step()` and `withNode()`, and storage calls back. That keeps a simulated run deterministic.
 */

import { assert } from '../core/assert.js';
import { RawNode, type Entry, type Message, type PeerId, type PersistedState, type RaftOptions, type ReadState, type Ready, type Snapshot, type SoftState, type Config } from '../core/consensus/index.js';
import type { ReplicaStorage, StateMachine } from './interfaces.js';

/** The most actions queued while a batch persists (ticks, messages, proposals). A storage write
 *  takes ~1 ms (IndexedDB) to a few ms (fsync); 100,000 queued actions means the peer is hopelessly
 *  overloaded, and refusing beats growing without bound. */
export const REPLICA_QUEUE_ACTIONS_MAX = 100_000;

/** Compact the log once this many entries were applied since the last snapshot: bounds the log a
 *  replica keeps (memory and IndexedDB) and the replay on restart, while keeping snapshots rare
 *  (each one serializes the whole tree). */
export const SNAPSHOT_ENTRIES_INTERVAL = 10_000;

export interface ReplicaEvents {
  /** Leader or role changed (status and routing only, never safety). */
  softState?(state: SoftState): void;
  /** A confirmed ReadIndex: serve read `requestId` once applied >= index (the replica calls this
   *  after applying the batch it came with; the owner checks `applied`). */
  readState?(state: ReadState): void;
  /** An entry was applied (after the state machine applied it, for `normal` ones). */
  applied?(entry: Entry): void;
  /** The state machine was replaced by a snapshot (received, or loaded at start). */
  restored?(snapshot: Snapshot): void;
  /** Storage failed: the replica has stopped (continuing could lose acknowledged data). */
  fatal?(error: Error): void;
}

export interface ReplicaOptions {
  readonly raft: RaftOptions;
  readonly storage: ReplicaStorage;
  readonly stateMachine: StateMachine;
  /** Sends one Raft message (the owner encodes it and picks the transport). */
  readonly send: (message: Message) => void;
  /** The configuration a brand-new replica starts from: the first voters of a new ensemble, or
   *  EMPTY_CONFIG for a peer that joins one. Ignored when storage holds state. */
  readonly bootstrap: Config;
  readonly events?: ReplicaEvents;
  /** Defaults to SNAPSHOT_ENTRIES_INTERVAL (tests and the simulator lower it). */
  readonly snapshotEntriesInterval?: number;
}

type Action = (node: RawNode) => void;

/** How a replaceState ended: the new state in force, or refused by its builder (`fatal` false) or
 *  by storage (`fatal` true: the replica has stopped). */
export type ReplaceOutcome = { readonly ok: true; readonly state: PersistedState } | { readonly ok: false; readonly reason: string; readonly fatal: boolean };

export class Replica {
  readonly id: PeerId;
  private node: RawNode | null = null;
  private readonly queue: Action[] = [];
  private busy = false;
  private stopped = false;
  private appliedIndex = 0;
  private snapshotIndex = 0;
  private compactRetryAt = 0;
  private lastTermValue = 0;

  private constructor(private readonly options: ReplicaOptions) {
    this.id = options.raft.id;
  }

  /** Loads storage (or bootstraps and persists a new replica) and calls back with a running replica. */
  static start(options: ReplicaOptions, done: (result: { ok: true; replica: Replica } | { ok: false; error: Error }) => void): void {
    const replica = new Replica(options);
    options.storage.load((loaded) => {
      if (!loaded.ok) return done(loaded);
      if (loaded.state !== null) {
        replica.open(loaded.state);
        return done({ ok: true, replica });
      }
      const state = RawNode.bootstrapState(options.bootstrap);
      options.storage.persist({ hardState: state.hardState, snapshot: state.snapshot, entries: [], sync: true }, (error) => {
        if (error !== null) return done({ ok: false, error });
        replica.open(state);
        done({ ok: true, replica });
      });
    });
  }

  private open(state: PersistedState): void {
    this.node = new RawNode(this.options.raft, state);
    if (state.snapshot.meta.index > 0) this.options.stateMachine.restore(state.snapshot);
    this.appliedIndex = state.snapshot.meta.index;
    this.snapshotIndex = state.snapshot.meta.index;
    this.lastTermValue = state.entries[state.entries.length - 1]?.term ?? state.snapshot.meta.term;
    if (state.snapshot.meta.index > 0) this.options.events?.restored?.(state.snapshot);
    this.pump();
  }

  /** The term of the last entry of the node's log (or of its snapshot), as of the last Ready
   *  taken: a batch's entries end the log (an entry at i deletes every entry after i). Cheap, for
   *  the peer's per-message checks (inspectLog copies the log). */
  get lastTerm(): number {
    return this.lastTermValue;
  }

  get applied(): number {
    return this.appliedIndex;
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  /** The node's status (readable at any time, even mid-batch). */
  status(): ReturnType<RawNode['status']> {
    assert(this.node !== null, 'replica is open');
    return this.node.status();
  }

  /** status() without the leader's per-peer progress (null): for the per-message paths. */
  summary(): ReturnType<RawNode['summary']> {
    assert(this.node !== null, 'replica is open');
    return this.node.summary();
  }

  /** The node's in-memory log after its snapshot (readable at any time, even mid-batch). */
  inspectLog(): ReturnType<RawNode['inspectLog']> {
    assert(this.node !== null, 'replica is open');
    return this.node.inspectLog();
  }

  /** Runs `action` on the node now, or after the batch being persisted. Returns false (and runs
   *  nothing) when the replica has stopped or the queue is full. */
  withNode(action: Action): boolean {
    if (this.stopped || this.node === null) return false;
    if (this.busy) {
      if (this.queue.length >= REPLICA_QUEUE_ACTIONS_MAX) return false;
      this.queue.push(action);
      return true;
    }
    action(this.node);
    this.pump();
    return true;
  }

  tick(): void {
    this.withNode((node) => node.tick());
  }

  step(message: Message): void {
    this.withNode((node) => {
      node.step(message);
    });
  }

  /**
   * Replaces the replica's whole durable state and restarts the node from it, as a restart from
   * storage would: the operator's unsafe recovery (Peer.unsafeRecover), or a replica dropping a
   * history it can no longer follow. `build` runs once no batch is being persisted (it is queued
   * like any action), so it sees the applied state as it is; it returns the new state (a snapshot
   * and a hard state committed through it, no entries) or a reason to refuse. The state is
   * written as one atomic storage transaction, and the storage contract (PersistBatch.snapshot)
   * deletes every stored entry, so the log restarts after the snapshot. Then the state machine is
   * restored from the snapshot (`restored` is reported). A storage error stops the replica
   * (`fatal`). Returns false (and calls nothing) when the replica has stopped or its queue is full.
   */
  replaceState(build: () => PersistedState | string, done: (outcome: ReplaceOutcome) => void): boolean {
    return this.withNode(() => {
      const state = build();
      if (typeof state === 'string') return done({ ok: false, reason: state, fatal: false });
      assert(state.entries.length === 0, 'replaceState: a snapshot and a hard state, no entries');
      assert(state.hardState.commit === state.snapshot.meta.index, 'replaceState: committed exactly through the snapshot');
      this.busy = true;
      let returned = false;
      this.options.storage.persist({ hardState: state.hardState, snapshot: state.snapshot, entries: [], sync: true }, (error) => {
        if (this.stopped) return;
        if (error !== null) {
          this.fail(error);
          return done({ ok: false, reason: `storage failed: ${error.message}`, fatal: true });
        }
        this.node = new RawNode(this.options.raft, state);
        this.options.stateMachine.restore(state.snapshot);
        this.appliedIndex = state.snapshot.meta.index;
        this.snapshotIndex = state.snapshot.meta.index;
        this.lastTermValue = state.snapshot.meta.term;
        this.compactRetryAt = 0;
        this.busy = false;
        this.options.events?.restored?.(state.snapshot);
        done({ ok: true, state });
        if (returned) this.pump();
      });
      returned = true;
    });
  }

  /** Stops driving the node: storage callbacks that arrive later are ignored (a crash, to the
   *  simulator; a graceful stop, to a peer that already handed off). */
  stop(): void {
    this.stopped = true;
    this.queue.length = 0;
  }

  /** Runs queued actions and the Ready loop until the node is idle or a storage write is pending. */
  private pump(): void {
    while (!this.busy && !this.stopped) {
      // Read each time round: replaceState swaps the node (at once, with a synchronous storage).
      const node = this.node;
      if (node === null) return;
      const action = this.queue.shift();
      if (action !== undefined) {
        action(node);
        continue;
      }
      if (node.hasReady()) {
        this.handleReady(node, node.ready());
        continue;
      }
      if (this.maybeCompact(node)) continue;
      return;
    }
  }

  private handleReady(node: RawNode, ready: Ready): void {
    this.busy = true;
    if (ready.snapshot !== null) this.lastTermValue = ready.snapshot.meta.term;
    const lastEntry = ready.entries[ready.entries.length - 1];
    if (lastEntry !== undefined) this.lastTermValue = lastEntry.term;
    if (ready.softState !== null) this.options.events?.softState?.(ready.softState);
    // Step 0: a leader's appends and heartbeats go out while its batch persists (§10.2.1).
    for (const message of ready.messagesBeforePersist) this.options.send(message);
    const batch = { hardState: ready.hardState, snapshot: ready.snapshot, entries: ready.entries, sync: ready.mustSync };
    if (batch.hardState === null && batch.snapshot === null && batch.entries.length === 0) {
      this.afterPersist(node, ready);
      return;
    }
    let returned = false;
    this.options.storage.persist(batch, (error) => {
      if (this.stopped) return;
      if (error !== null) return this.fail(error);
      this.afterPersist(node, ready);
      // A storage that calls back synchronously (memory) is already inside pump(): let its loop go
      // on rather than recursing once per batch.
      if (returned) this.pump();
    });
    returned = true;
  }

  private afterPersist(node: RawNode, ready: Ready): void {
    for (const message of ready.messages) this.options.send(message);
    if (ready.snapshot !== null) {
      this.options.stateMachine.restore(ready.snapshot);
      this.appliedIndex = ready.snapshot.meta.index;
      this.snapshotIndex = ready.snapshot.meta.index;
      this.options.events?.restored?.(ready.snapshot);
    }
    for (const entry of ready.committedEntries) {
      if (entry.index <= this.appliedIndex) continue;
      assert(entry.index === this.appliedIndex + 1, `apply in order: ${entry.index} after ${this.appliedIndex}`);
      if (entry.kind === 'normal') this.options.stateMachine.apply(entry);
      this.appliedIndex = entry.index;
      this.options.events?.applied?.(entry);
    }
    for (const readState of ready.readStates) this.options.events?.readState?.(readState);
    node.advance(ready);
    this.busy = false;
  }

  /** Compacts the log when enough entries were applied since the last snapshot. */
  private maybeCompact(node: RawNode): boolean {
    const interval = this.options.snapshotEntriesInterval ?? SNAPSHOT_ENTRIES_INTERVAL;
    if (this.appliedIndex - this.snapshotIndex < interval || this.appliedIndex < this.compactRetryAt) return false;
    const outcome = node.compact(this.appliedIndex, this.options.stateMachine.snapshot());
    if (!outcome.ok) {
      // Not expected (applied is the node's applied index); never retry on every pump.
      this.compactRetryAt = this.appliedIndex + Math.max(1, Math.floor(interval / 10));
      return false;
    }
    this.snapshotIndex = outcome.snapshot.meta.index;
    this.busy = true;
    let returned = false;
    this.options.storage.compact(outcome.snapshot, (error) => {
      if (this.stopped) return;
      if (error !== null) return this.fail(error);
      this.busy = false;
      if (returned) this.pump();
    });
    returned = true;
    return true;
  }

  private fail(error: Error): void {
    this.stop();
    this.options.events?.fatal?.(error);
  }
}
