// Proves the simulated store's contract: a write is visible at once but durable only when a sync
// asked after it completes; a crash loses exactly the pending batches (or keeps the prefix it is
// told to: a torn tail), cancels syncs in flight, and leaves exactly the durable state, which is
// what a restart reads; syncs complete in order; log truncation and compaction behave as Raft
// needs; batches are atomic. A seeded random workload is checked against a reference model.

import { describe, expect, it } from 'vitest';
import { Prng } from '../core/prng.js';
import { testSeed, withSeed } from '../test-support/seed.js';
import { Scheduler } from './scheduler.js';
import { SimStorage, type StorageState, type StorageWrite } from './storage.js';

type Write = StorageWrite<string, number>;

function setup(seed = 1, delays: [number, number] = [2, 8]) {
  const scheduler = new Scheduler();
  const storage = new SimStorage<string, number>({
    scheduler,
    prng: new Prng(seed),
    name: 'n1',
    fsyncDelayMsMin: delays[0],
    fsyncDelayMsMax: delays[1],
  });
  return { scheduler, storage };
}

const plain = (state: StorageState<string, number>) => ({
  firstIndex: state.firstIndex,
  records: [...state.records],
  values: Object.fromEntries(state.values),
});

describe('SimStorage durability', () => {
  it('shows a write at once, and makes it durable only when a later sync completes', () => {
    const { scheduler, storage } = setup();
    storage.write([{ kind: 'append', records: ['e1', 'e2'] }, { kind: 'put', key: 'term', value: 3 }]);
    expect(storage.records(1, 3)).toEqual(['e1', 'e2']);
    expect(storage.get('term')).toBe(3);
    expect(plain(storage.durableState())).toEqual({ firstIndex: 1, records: [], values: {} });
    let durableAt = -1;
    storage.sync(() => (durableAt = scheduler.now()));
    scheduler.runUntilIdle();
    expect(durableAt).toBeGreaterThanOrEqual(2);
    expect(durableAt).toBeLessThanOrEqual(8);
    expect(plain(storage.durableState())).toEqual({ firstIndex: 1, records: ['e1', 'e2'], values: { term: 3 } });
    expect(storage.pendingBatches()).toBe(0);
  });

  it('loses exactly the pending batches in a crash, and never runs the cancelled sync', () => {
    const { scheduler, storage } = setup();
    storage.write([{ kind: 'append', records: ['e1'] }]);
    storage.sync(() => undefined);
    scheduler.runUntilIdle();
    storage.write([{ kind: 'append', records: ['e2'] }]);
    storage.write([{ kind: 'put', key: 'vote', value: 2 }]);
    let called = false;
    storage.sync(() => (called = true));
    storage.crash();
    scheduler.runUntilIdle();
    expect(called).toBe(false);
    expect(plain(storage.durableState())).toEqual({ firstIndex: 1, records: ['e1'], values: {} });
    expect(storage.lastIndex()).toBe(1); // the node now reads exactly the durable state
    expect(storage.get('vote')).toBeUndefined();
    expect(storage.counters()).toMatchObject({ batchesWritten: 3, batchesDurable: 1, batchesLost: 2, syncsCancelled: 1, crashes: 1 });
  });

  it('makes durable only the batches written before the sync was asked', () => {
    const { scheduler, storage } = setup(2, [5, 5]);
    storage.write([{ kind: 'append', records: ['a'] }]);
    storage.sync(() => undefined);
    storage.write([{ kind: 'append', records: ['b'] }]); // after the sync: not covered
    scheduler.runUntilIdle();
    expect(storage.durableState().records).toEqual(['a']);
    storage.crash();
    expect(storage.records(1, 2)).toEqual(['a']);
  });

  it('completes syncs in the order asked, whatever their drawn delays', () => {
    withSeed('storage sync order', testSeed(), (prng) => {
      const { scheduler, storage } = setup(prng.u32(), [0, 50]);
      const completed: number[] = [];
      for (let index = 0; index < 100; index++) {
        storage.write([{ kind: 'append', records: [`e${index}`] }]);
        storage.sync(() => completed.push(index));
        scheduler.runUntil(scheduler.now() + prng.int(0, 3));
      }
      scheduler.runUntilIdle();
      expect(completed).toEqual(Array.from({ length: 100 }, (_, index) => index));
    });
  });

  it('keeps a prefix of the pending batches when told to (a torn tail)', () => {
    const { storage } = setup();
    for (const record of ['a', 'b', 'c']) storage.write([{ kind: 'append', records: [record] }]);
    storage.crash({ keepPendingBatches: 2 });
    expect(storage.durableState().records).toEqual(['a', 'b']);
    expect(() => storage.crash({ keepPendingBatches: 1 })).toThrow(/within the pending/);
  });
});

describe('SimStorage log operations', () => {
  it('truncates a conflicting suffix and compacts a prefix, keeping indexes', () => {
    const { storage } = setup();
    storage.write([{ kind: 'append', records: ['e1', 'e2', 'e3', 'e4'] }]);
    storage.write([{ kind: 'truncate', fromIndex: 3 }, { kind: 'append', records: ['x3'] }]);
    expect(storage.records(1, 4)).toEqual(['e1', 'e2', 'x3']);
    storage.write([{ kind: 'compact', beforeIndex: 3 }]);
    expect(storage.firstIndex()).toBe(3);
    expect(storage.lastIndex()).toBe(3);
    expect(storage.record(2)).toBeUndefined();
    expect(storage.record(3)).toBe('x3');
    // A snapshot ahead of the log empties it.
    storage.write([{ kind: 'compact', beforeIndex: 10 }, { kind: 'put', key: 'snapshot', value: 9 }]);
    expect(storage.firstIndex()).toBe(10);
    expect(storage.lastIndex()).toBe(9);
    storage.write([{ kind: 'append', records: ['e10'] }, { kind: 'delete', key: 'snapshot' }]);
    expect(storage.record(10)).toBe('e10');
    expect(storage.get('snapshot')).toBeUndefined();
  });

  it('applies a batch atomically: a bad write changes nothing', () => {
    const { storage } = setup();
    storage.write([{ kind: 'append', records: ['e1', 'e2'] }]);
    expect(() => storage.write([{ kind: 'append', records: ['e3'] }, { kind: 'truncate', fromIndex: 9 }])).toThrow(/truncate/);
    expect(storage.lastIndex()).toBe(2);
    expect(storage.pendingBatches()).toBe(1);
    expect(() => storage.write([{ kind: 'compact', beforeIndex: 0 }])).toThrow(/compact/);
    expect(() => storage.write([])).toThrow(/writes something/);
  });
});

/** The reference: the same semantics, the obvious way. */
class Reference {
  durable: { firstIndex: number; records: string[]; values: Map<string, number> } = { firstIndex: 1, records: [], values: new Map() };
  pending: Write[][] = [];
  apply(target: Reference['durable'], write: Write): void {
    if (write.kind === 'append') target.records.push(...write.records);
    if (write.kind === 'truncate') target.records.length = write.fromIndex - target.firstIndex;
    if (write.kind === 'compact') {
      target.records = target.records.slice(Math.min(write.beforeIndex - target.firstIndex, target.records.length));
      target.firstIndex = write.beforeIndex;
    }
    if (write.kind === 'put') target.values.set(write.key, write.value);
    if (write.kind === 'delete') target.values.delete(write.key);
  }
  flush(count: number): void {
    for (const batch of this.pending.splice(0, count)) for (const write of batch) this.apply(this.durable, write);
  }
}

describe('SimStorage against a reference', () => {
  it('matches the reference through random writes, syncs and crashes', () => {
    withSeed('storage reference', testSeed(), (prng) => {
      const { scheduler, storage } = setup(prng.u32(), [0, 20]);
      const reference = new Reference();
      /** Batches written so far (a sync covers those written before it). */
      let written = 0;
      let flushed = 0;
      for (let step = 0; step < 2000; step++) {
        const roll = prng.int(0, 9);
        if (roll < 5) {
          const batch: Write[] = [];
          const last = storage.lastIndex();
          if (prng.chance(0.2) && last >= storage.firstIndex()) batch.push({ kind: 'truncate', fromIndex: prng.int(storage.firstIndex(), last + 1) });
          if (prng.chance(0.05)) batch.push({ kind: 'compact', beforeIndex: prng.int(storage.firstIndex(), last + 3) });
          batch.push({ kind: 'append', records: [`s${step}`] });
          if (prng.chance(0.3)) batch.push({ kind: 'put', key: prng.pick(['term', 'vote']), value: step });
          storage.write(batch);
          reference.pending.push(batch);
          written += 1;
        } else if (roll < 8) {
          const covers = written;
          storage.sync(() => {
            reference.flush(covers - flushed);
            flushed = covers;
          });
        } else if (roll < 9) {
          scheduler.runUntil(scheduler.now() + prng.int(0, 15));
        } else {
          const keep = prng.chance(0.3) ? prng.int(0, storage.pendingBatches()) : 0;
          storage.crash({ keepPendingBatches: keep });
          reference.flush(keep);
          reference.pending = [];
          written = flushed = flushed + keep;
          const durable = storage.durableState();
          expect({ ...plain(durable) }).toEqual({
            firstIndex: reference.durable.firstIndex,
            records: reference.durable.records,
            values: Object.fromEntries(reference.durable.values),
          });
        }
      }
    });
  });
});
