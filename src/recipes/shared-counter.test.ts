// Proves the SharedCounter recipe (Curator's SharedCount, with add() by optimistic compare-and-set)
// on the real standalone ensemble with several sessions: get creates the node with the initial
// value, trySetCount fails on a stale version, add under contention from 5 keepers loses no update,
// and a lost CAS answer is reported as an unknown outcome (CONNECTIONLOSS), never retried blindly.
import { afterEach, describe, expect, it } from 'vitest';
import { KeeperError, type Keeper } from '../index.js';
import { ensemble, faulty, rejectionOf, type Ensemble } from '../test-support/recipes.js';
import { SharedCounter } from './index.js';

let open: Ensemble | null = null;
afterEach(async () => {
  await open?.close();
  open = null;
});

async function keepers(count: number): Promise<Keeper[]> {
  open = await ensemble(count, 'counter');
  return open.keepers;
}

describe('SharedCounter', () => {
  it('starts at its initial value and sets only at the expected version', async () => {
    const [a, b] = (await keepers(2)) as [Keeper, Keeper];
    const mine = new SharedCounter(a, '/counters/c', 7);
    expect(await mine.get()).toEqual({ value: 7, version: 0 });
    const theirs = new SharedCounter(b, '/counters/c');
    expect(await theirs.trySetCount(10, 0)).toBe(true);
    expect(await mine.trySetCount(11, 0)).toBe(false); // stale version
    await a.sync('/counters/c');
    expect(await mine.get()).toEqual({ value: 10, version: 1 });
    expect(new TextDecoder().decode((await a.getData('/counters/c')).data)).toBe('10');
  });

  it('adds without losing an update: 5 keepers add 20 times each', async () => {
    const all = await keepers(5);
    await Promise.all(
      all.map(async (keeper) => {
        const counter = new SharedCounter(keeper, '/counters/hits');
        for (let i = 0; i < 20; i++) await counter.add(1);
      }),
    );
    const [first] = all as [Keeper];
    await first.sync('/counters/hits');
    expect((await new SharedCounter(first, '/counters/hits').get()).value).toBe(100);
    expect(await new SharedCounter(first, '/counters/hits').add(-100)).toBe(0);
  });

  it('reports a lost CAS answer as CONNECTIONLOSS (the outcome is unknown) and refuses bad values', async () => {
    const [a] = (await keepers(1)) as [Keeper];
    const counter = new SharedCounter(faulty(a, (op) => (op === 'setData' ? 'lose-after' : 'pass')), '/counters/lossy');
    const error = await rejectionOf(counter.add(1));
    expect((error as KeeperError).code).toBe('CONNECTIONLOSS');
    expect((await new SharedCounter(a, '/counters/lossy').get()).value).toBe(1); // it did happen here
    expect(() => new SharedCounter(a, '/counters/x', 1.5)).toThrow(KeeperError);
    expect(((await rejectionOf(new SharedCounter(a, '/counters/lossy').add(Number.MAX_SAFE_INTEGER))) as KeeperError).code).toBe('BADARGUMENTS');
    await a.setData('/counters/lossy', 'not a number');
    expect(((await rejectionOf(new SharedCounter(a, '/counters/lossy').get())) as KeeperError).code).toBe('BADARGUMENTS');
  });
});
