// Proves ReplicaStorage over the simulated disk keeps the Ready contract's persistence duties
// (raw-node.ts step 1): a batch is one atomic write (snapshot, then entries replacing any suffix,
// then hard state), `done` comes only when it is durable, a crash before that loses exactly the
// unsynced batches, compaction keeps the entries after the snapshot, and a restart loads exactly
// what was durable.
import { describe, expect, it } from 'vitest';
import { Prng } from '../../core/prng.js';
import { RawNode, makeConfig, type Entry } from '../../core/consensus/index.js';
import { SimHost } from '../host.js';
import { Scheduler } from '../scheduler.js';
import { SimStorage } from '../storage.js';
import { SimReplicaStorage, persistedStateOf, type StoredValue } from './replica-storage.js';

const entry = (index: number, term: number): Entry => ({ index, term, kind: 'noop', data: new Uint8Array(0) });

function setUp() {
  const scheduler = new Scheduler();
  const disk = new SimStorage<Entry, StoredValue>({ scheduler, prng: new Prng(1), name: 'a', fsyncDelayMsMin: 5, fsyncDelayMsMax: 5 });
  const host = new SimHost<Entry, StoredValue>({ scheduler, network: { setNodeUp: () => undefined }, storage: disk, name: 'a', tickMs: 1000, onStart: () => undefined, onTick: () => undefined });
  host.start();
  const storage = new SimReplicaStorage({ host });
  const bootstrap = RawNode.bootstrapState(makeConfig(['a', 'b', 'c']));
  let done = 0;
  storage.persist({ hardState: bootstrap.hardState, snapshot: bootstrap.snapshot, entries: [], sync: true }, () => done++);
  scheduler.runUntil(10);
  expect(done).toBe(1);
  return { scheduler, disk, host, storage, bootstrap };
}

describe('SimReplicaStorage', () => {
  it('writes a batch atomically, replaces a conflicting suffix, and calls back once durable', () => {
    const { scheduler, disk, storage } = setUp();
    let done = 0;
    storage.persist({ hardState: { term: 1, vote: 'a', commit: 0 }, snapshot: null, entries: [entry(1, 1), entry(2, 1), entry(3, 1)], sync: true }, () => done++);
    expect(done).toBe(0);
    scheduler.runUntil(20);
    expect(done).toBe(1);
    storage.persist({ hardState: { term: 2, vote: 'b', commit: 1 }, snapshot: null, entries: [entry(2, 2)], sync: true }, () => done++);
    scheduler.runUntil(30);
    const state = persistedStateOf(disk);
    expect(state?.entries.map((e) => `${e.index}/${e.term}`)).toEqual(['1/1', '2/2']);
    expect(state?.hardState).toEqual({ term: 2, vote: 'b', commit: 1 });
  });

  it('loses exactly the unsynced batch in a crash, and the callback never runs', () => {
    const { scheduler, disk, host, storage } = setUp();
    let done = 0;
    storage.persist({ hardState: { term: 1, vote: 'a', commit: 0 }, snapshot: null, entries: [entry(1, 1)], sync: true }, () => done++);
    scheduler.runUntil(20);
    storage.persist({ hardState: { term: 2, vote: 'c', commit: 0 }, snapshot: null, entries: [entry(2, 2)], sync: true }, () => done++);
    scheduler.runUntil(22); // written, not durable
    host.crash();
    scheduler.runUntil(40);
    expect(done).toBe(1);
    const state = persistedStateOf(disk);
    expect(state?.hardState).toEqual({ term: 1, vote: 'a', commit: 0 });
    expect(state?.entries.map((e) => e.index)).toEqual([1]);
  });

  it('installs a received snapshot in place of the log, and compacts keeping later entries', () => {
    const { scheduler, disk, storage, bootstrap } = setUp();
    storage.persist({ hardState: null, snapshot: null, entries: [entry(1, 1), entry(2, 1), entry(3, 1)], sync: true }, () => undefined);
    scheduler.runUntil(20);
    storage.compact({ meta: { index: 2, term: 1, config: bootstrap.snapshot.meta.config }, data: new Uint8Array([7]) }, () => undefined);
    scheduler.runUntil(30);
    let state = persistedStateOf(disk);
    expect(state?.snapshot.meta.index).toBe(2);
    expect(state?.entries.map((e) => e.index)).toEqual([3]);
    storage.persist({ hardState: { term: 3, vote: null, commit: 9 }, snapshot: { meta: { index: 9, term: 3, config: bootstrap.snapshot.meta.config }, data: new Uint8Array([9]) }, entries: [entry(10, 3)], sync: true }, () => undefined);
    scheduler.runUntil(40);
    state = persistedStateOf(disk);
    expect(state?.snapshot.meta.index).toBe(9);
    expect(state?.entries.map((e) => e.index)).toEqual([10]);
  });
});
