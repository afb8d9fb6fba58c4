/**
 * ReplicaStorage (src/peer/interfaces.ts) over a simulated disk (SimStorage): the log is the
 * disk's record log (record index = entry index), the hard state and the snapshot are two keys.
 *
 * persist(batch) is ONE atomic SimStorage batch, then a sync when the batch asks for one; `done`
 * runs when the sync completes, on the node's thread (SimHost.sync: it waits while the node is
 * paused and never runs after a crash). A crash loses every batch not yet synced, which is exactly
 * what a replica that acknowledged before persisting must not survive.
 *
 * One instance per incarnation of a node; the SimStorage (the disk) outlives incarnations.
 */

import { assert } from '../../core/assert.js';
import type { Entry, HardState, PersistedState, Snapshot } from '../../core/consensus/index.js';
import type { PersistBatch, ReplicaStorage } from '../../peer/interfaces.js';
import type { SimHost } from '../host.js';
import type { SimStorage, StorageWrite } from '../storage.js';

export type StoredValue = { readonly kind: 'hard-state'; readonly hardState: HardState } | { readonly kind: 'snapshot'; readonly snapshot: Snapshot };

export type RaftDisk = SimStorage<Entry, StoredValue>;
export type RaftHost = SimHost<Entry, StoredValue>;

const HARD_STATE_KEY = 'hard-state';
const SNAPSHOT_KEY = 'snapshot';

/** What a disk holds, as a restarted replica loads it; null before the bootstrap write. */
export function persistedStateOf(disk: Pick<RaftDisk, 'get' | 'firstIndex' | 'lastIndex' | 'records'>): PersistedState | null {
  const hard = disk.get(HARD_STATE_KEY);
  const snap = disk.get(SNAPSHOT_KEY);
  if (hard === undefined || snap === undefined) {
    assert(hard === undefined && snap === undefined, 'hard state and snapshot are written together first');
    return null;
  }
  assert(hard.kind === 'hard-state' && snap.kind === 'snapshot', 'stored values under their keys');
  const first = disk.firstIndex();
  assert(first === snap.snapshot.meta.index + 1, `the stored log starts after the snapshot (${first} after ${snap.snapshot.meta.index})`);
  return { hardState: hard.hardState, snapshot: snap.snapshot, entries: disk.records(first, disk.lastIndex() + 1) };
}

/** The writes of one persist batch, in the Ready contract's order: snapshot, entries, hard state. */
export function writesOf(batch: PersistBatch, disk: Pick<RaftDisk, 'firstIndex'>): StorageWrite<Entry, StoredValue>[] {
  const writes: StorageWrite<Entry, StoredValue>[] = [];
  let firstIndex = disk.firstIndex();
  if (batch.snapshot !== null) {
    const after = batch.snapshot.meta.index + 1;
    assert(after >= firstIndex, `a received snapshot (${batch.snapshot.meta.index}) is not behind the stored one`);
    writes.push({ kind: 'truncate', fromIndex: firstIndex }, { kind: 'compact', beforeIndex: after });
    writes.push({ kind: 'put', key: SNAPSHOT_KEY, value: { kind: 'snapshot', snapshot: batch.snapshot } });
    firstIndex = after;
  }
  const first = batch.entries[0];
  if (first !== undefined) {
    assert(first.index >= firstIndex, `entries (${first.index}) do not rewrite the snapshot (log starts at ${firstIndex})`);
    writes.push({ kind: 'truncate', fromIndex: first.index }, { kind: 'append', records: batch.entries });
  }
  if (batch.hardState !== null) writes.push({ kind: 'put', key: HARD_STATE_KEY, value: { kind: 'hard-state', hardState: batch.hardState } });
  return writes;
}

export interface SimReplicaStorageOptions {
  readonly host: RaftHost;
  /** Called with each batch before it is written (the checkers read the log it extends). */
  readonly beforeWrite?: (batch: PersistBatch) => void;
  /** Called after a batch is written, before it is durable (crash points hook here). */
  readonly afterWrite?: () => void;
  /** Called when a synced batch became durable, before `done`. */
  readonly onDurable?: () => void;
}

export class SimReplicaStorage implements ReplicaStorage {
  private readonly host: RaftHost;
  private readonly beforeWrite: (batch: PersistBatch) => void;
  private readonly afterWrite: () => void;
  private readonly onDurable: () => void;

  constructor(options: SimReplicaStorageOptions) {
    this.host = options.host;
    this.beforeWrite = options.beforeWrite ?? (() => undefined);
    this.afterWrite = options.afterWrite ?? (() => undefined);
    this.onDurable = options.onDurable ?? (() => undefined);
  }

  load(done: Parameters<ReplicaStorage['load']>[0]): void {
    done({ ok: true, state: persistedStateOf(this.host.storage) });
  }

  persist(batch: PersistBatch, done: (error: Error | null) => void): void {
    const writes = writesOf(batch, this.host.storage);
    if (writes.length === 0) return done(null);
    this.beforeWrite(batch);
    this.host.storage.write(writes);
    this.afterWrite();
    if (!batch.sync) return done(null);
    this.host.sync(() => {
      this.onDurable();
      done(null);
    });
  }

  compact(snapshot: Snapshot, done: (error: Error | null) => void): void {
    const disk = this.host.storage;
    const after = snapshot.meta.index + 1;
    assert(after > disk.firstIndex(), 'compaction moves the log start forward');
    assert(snapshot.meta.index <= disk.lastIndex(), 'compaction covers only stored entries');
    disk.write([
      { kind: 'put', key: SNAPSHOT_KEY, value: { kind: 'snapshot', snapshot } },
      { kind: 'compact', beforeIndex: after },
    ]);
    this.host.sync(() => done(null));
  }
}
