/**
 * A simulated durable store for one node: a log of records (Raft entries) and a small key/value
 * space (hard state, snapshot, config). The shape of IndexedDB as the design uses it: one batch
 * of writes per `ready()` is one atomic transaction.
 *
 * - `write(batch)` applies a batch to what the node reads at once, but it is only *pending*.
 * - `sync(onDurable)` asks for durability: after a simulated fsync delay, every batch written
 *   before the call is durable, and `onDurable` runs. Syncs complete in the order they were
 *   asked (a disk's queue).
 * - `crash()` loses every pending batch (or, to model a torn tail, keeps a prefix of them as
 *   the caller says) and cancels syncs in flight: their callbacks never run.
 * - `durableState()` is exactly what a restarted node reads back.
 *
 * Records and values are stored by reference: the caller must not mutate them after writing.
 */

import { assert } from '../core/assert.js';
import type { Prng } from '../core/prng.js';
import type { EventId, Scheduler } from './scheduler.js';

/** Pending (written, not yet durable) batches. A Raft driver syncs every ready() batch before it
 *  sends, so a handful are pending at once; thousands mean a driver that forgot to sync. */
export const STORAGE_PENDING_BATCHES_MAX = 10_000;

/** Records in the log. A simulation compacts into snapshots long before this; a run that keeps a
 *  million entries without compacting has lost its snapshot path. */
export const STORAGE_LOG_RECORDS_MAX = 1_000_000;

/** Syncs in flight at once (one per ready() batch at most; a few are normal). */
export const STORAGE_SYNCS_IN_FLIGHT_MAX = 1024;

/** Keys in the key/value space (hard state, snapshot metadata, config: a handful). */
export const STORAGE_KEYS_MAX = 1024;

export type StorageWrite<Record, Value> =
  /** Appends after the last record. */
  | { readonly kind: 'append'; readonly records: readonly Record[] }
  /** Drops the records at `fromIndex` and after (a conflicting suffix). */
  | { readonly kind: 'truncate'; readonly fromIndex: number }
  /** Drops the records before `beforeIndex` (compaction into a snapshot); the first index becomes
   *  `beforeIndex`, even past the last record (a snapshot ahead of the log empties it). */
  | { readonly kind: 'compact'; readonly beforeIndex: number }
  | { readonly kind: 'put'; readonly key: string; readonly value: Value }
  | { readonly kind: 'delete'; readonly key: string };

/** A whole store's contents. */
export interface StorageState<Record, Value> {
  /** The index of records[0] (or of the next record, when the log is empty). */
  readonly firstIndex: number;
  readonly records: readonly Record[];
  readonly values: ReadonlyMap<string, Value>;
}

export interface StorageCounters {
  batchesWritten: number;
  batchesDurable: number;
  batchesLost: number;
  syncsRequested: number;
  syncsCompleted: number;
  syncsCancelled: number;
  crashes: number;
}

export interface SimStorageOptions {
  scheduler: Scheduler;
  prng: Prng;
  /** For trace labels. */
  name: string;
  /** Integers, 0 <= min <= max. IndexedDB commits measured 0.6-0.8 ms; disks vary more. */
  fsyncDelayMsMin: number;
  fsyncDelayMsMax: number;
  /** The index of the first record of an empty store (Raft: 1). */
  firstIndex?: number;
}

/** A mutable copy of a store's contents, with the operations batches are made of. */
class Contents<Record, Value> {
  constructor(
    public firstIndex: number,
    public records: Record[],
    public values: Map<string, Value>,
  ) {}

  static empty<Record, Value>(firstIndex: number): Contents<Record, Value> {
    return new Contents<Record, Value>(firstIndex, [], new Map());
  }

  copy(): Contents<Record, Value> {
    return new Contents(this.firstIndex, [...this.records], new Map(this.values));
  }

  nextIndex(): number {
    return this.firstIndex + this.records.length;
  }

  apply(write: StorageWrite<Record, Value>): void {
    switch (write.kind) {
      case 'append':
        assert(this.records.length + write.records.length <= STORAGE_LOG_RECORDS_MAX, `at most ${STORAGE_LOG_RECORDS_MAX} records`);
        this.records.push(...write.records);
        return;
      case 'truncate':
        assert(write.fromIndex >= this.firstIndex, 'truncate: fromIndex >= firstIndex (compacted records are final)');
        assert(write.fromIndex <= this.nextIndex(), 'truncate: fromIndex <= the next index');
        this.records.length = write.fromIndex - this.firstIndex;
        return;
      case 'compact':
        assert(write.beforeIndex >= this.firstIndex, 'compact: beforeIndex >= firstIndex');
        this.records = this.records.slice(Math.min(write.beforeIndex - this.firstIndex, this.records.length));
        this.firstIndex = write.beforeIndex;
        return;
      case 'put':
        this.values.set(write.key, write.value);
        assert(this.values.size <= STORAGE_KEYS_MAX, `at most ${STORAGE_KEYS_MAX} keys`);
        return;
      case 'delete':
        this.values.delete(write.key);
        return;
    }
  }
}

interface PendingBatch<Record, Value> {
  readonly sequence: number;
  readonly writes: readonly StorageWrite<Record, Value>[];
}

export class SimStorage<Record, Value> {
  private readonly scheduler: Scheduler;
  private readonly prng: Prng;
  private readonly name: string;
  private fsyncDelayMsMin: number;
  private fsyncDelayMsMax: number;
  /** What the node reads: durable plus pending. */
  private view: Contents<Record, Value>;
  private durable: Contents<Record, Value>;
  private readonly pending: PendingBatch<Record, Value>[] = [];
  private batchSequenceNext = 0;
  private readonly syncsInFlight = new Map<EventId, number>();
  /** The completion time of the last sync asked for: syncs complete in order. */
  private lastSyncTime = -Infinity;
  private readonly counts: StorageCounters = {
    batchesWritten: 0,
    batchesDurable: 0,
    batchesLost: 0,
    syncsRequested: 0,
    syncsCompleted: 0,
    syncsCancelled: 0,
    crashes: 0,
  };

  constructor(options: SimStorageOptions) {
    this.scheduler = options.scheduler;
    this.prng = options.prng;
    this.name = options.name;
    this.fsyncDelayMsMin = options.fsyncDelayMsMin;
    this.fsyncDelayMsMax = options.fsyncDelayMsMax;
    this.assertDelays();
    const firstIndex = options.firstIndex ?? 1;
    assert(Number.isInteger(firstIndex), 'firstIndex is an integer');
    this.durable = Contents.empty(firstIndex);
    this.view = Contents.empty(firstIndex);
  }

  // --- what the running node reads -------------------------------------------------------

  firstIndex(): number {
    return this.view.firstIndex;
  }

  /** The index of the last record, or firstIndex - 1 when the log is empty. */
  lastIndex(): number {
    return this.view.nextIndex() - 1;
  }

  record(index: number): Record | undefined {
    if (index < this.view.firstIndex || index > this.lastIndex()) return undefined;
    return this.view.records[index - this.view.firstIndex];
  }

  /** The records with indexes in [from, to). */
  records(from: number, to: number): Record[] {
    assert(from >= this.view.firstIndex, 'records: from >= firstIndex');
    assert(to >= from && to <= this.view.nextIndex(), 'records: from <= to <= lastIndex + 1');
    return this.view.records.slice(from - this.view.firstIndex, to - this.view.firstIndex);
  }

  get(key: string): Value | undefined {
    return this.view.values.get(key);
  }

  // --- writing --------------------------------------------------------------------------

  /** Applies one atomic batch; it is pending until a later `sync` completes. */
  write(batch: readonly StorageWrite<Record, Value>[]): void {
    assert(batch.length > 0, 'a batch writes something');
    assert(this.pending.length < STORAGE_PENDING_BATCHES_MAX, `at most ${STORAGE_PENDING_BATCHES_MAX} pending batches (sync them)`);
    // Validate on a copy first, so a bad batch changes nothing (atomic).
    const next = this.view.copy();
    for (const write of batch) next.apply(write);
    this.view = next;
    this.pending.push({ sequence: this.batchSequenceNext++, writes: [...batch] });
    this.counts.batchesWritten += 1;
  }

  /** Makes every batch written so far durable after a simulated fsync delay, then calls
   *  `onDurable` (never, if the node crashes first). */
  sync(onDurable: () => void): void {
    assert(this.syncsInFlight.size < STORAGE_SYNCS_IN_FLIGHT_MAX, `at most ${STORAGE_SYNCS_IN_FLIGHT_MAX} syncs in flight`);
    const covers = this.batchSequenceNext; // batches with a smaller sequence
    const delay = this.prng.int(this.fsyncDelayMsMin, this.fsyncDelayMsMax);
    const time = Math.max(this.scheduler.now() + delay, this.lastSyncTime);
    this.lastSyncTime = time;
    this.counts.syncsRequested += 1;
    const id = this.scheduler.scheduleAt(time, `fsync ${this.name}`, () => {
      this.syncsInFlight.delete(id);
      this.makeDurable(covers);
      this.counts.syncsCompleted += 1;
      onDurable();
    });
    this.syncsInFlight.set(id, covers);
  }

  /** Changes the fsync delay range (a slow-disk fault). */
  setFsyncDelay(delayMsMin: number, delayMsMax: number): void {
    this.fsyncDelayMsMin = delayMsMin;
    this.fsyncDelayMsMax = delayMsMax;
    this.assertDelays();
  }

  // --- faults ---------------------------------------------------------------------------

  /**
   * The node crashed: pending batches are lost, except the first `keepPendingBatches` (a torn
   * tail: the disk had written some in order before the power went); syncs in flight are
   * cancelled. What the node reads becomes exactly the durable state.
   */
  crash(options: { keepPendingBatches?: number } = {}): void {
    const keep = options.keepPendingBatches ?? 0;
    assert(Number.isInteger(keep) && keep >= 0 && keep <= this.pending.length, 'keepPendingBatches within the pending batches');
    const kept = this.pending.slice(0, keep);
    for (const batch of kept) for (const write of batch.writes) this.durable.apply(write);
    this.counts.batchesDurable += kept.length;
    this.counts.batchesLost += this.pending.length - keep;
    this.pending.length = 0;
    for (const id of this.syncsInFlight.keys()) {
      const cancelled = this.scheduler.cancel(id);
      assert(cancelled, 'a sync in flight is queued');
      this.counts.syncsCancelled += 1;
    }
    this.syncsInFlight.clear();
    this.lastSyncTime = -Infinity;
    this.view = this.durable.copy();
    this.counts.crashes += 1;
  }

  /** Exactly what a restarted node reads back (a copy). */
  durableState(): StorageState<Record, Value> {
    const copy = this.durable.copy();
    return { firstIndex: copy.firstIndex, records: copy.records, values: copy.values };
  }

  pendingBatches(): number {
    return this.pending.length;
  }

  counters(): Readonly<StorageCounters> {
    return { ...this.counts };
  }

  private makeDurable(covers: number): void {
    while (this.pending.length > 0 && (this.pending[0]?.sequence ?? Infinity) < covers) {
      const batch = this.pending.shift() as PendingBatch<Record, Value>;
      for (const write of batch.writes) this.durable.apply(write);
      this.counts.batchesDurable += 1;
    }
  }

  private assertDelays(): void {
    assert(Number.isInteger(this.fsyncDelayMsMin) && this.fsyncDelayMsMin >= 0, 'fsyncDelayMsMin is a non-negative integer');
    assert(Number.isInteger(this.fsyncDelayMsMax) && this.fsyncDelayMsMax >= this.fsyncDelayMsMin, 'fsyncDelayMsMax >= fsyncDelayMsMin');
  }
}
