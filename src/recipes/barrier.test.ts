// Proves the Barrier and DoubleBarrier recipes (ZooKeeper Recipes and Solutions, "Barriers" and
// "Double Barriers"; Curator's DistributedBarrier / DistributedDoubleBarrier) on the real
// standalone ensemble with several sessions: waiters pass only once the barrier is removed; members
// enter together and leave together; timeout and abort leave no member node and no watch.
import { afterEach, describe, expect, it } from 'vitest';
import type { Keeper } from '../index.js';
import { ensemble, ephemeralsOf, eventually, hasNoWatch, isSettled, rejectionOf, sleep, type Ensemble } from '../test-support/recipes.js';
import { Barrier, DoubleBarrier } from './index.js';

let open: Ensemble | null = null;
afterEach(async () => {
  await open?.close();
  open = null;
});

async function keepers(count: number): Promise<Keeper[]> {
  open = await ensemble(count, 'barrier');
  return open.keepers;
}

describe('Barrier', () => {
  it('holds every waiter while set and lets them all through when removed', async () => {
    const [coordinator, ...workers] = (await keepers(4)) as [Keeper, ...Keeper[]];
    await new Barrier(workers[0] as Keeper, '/gates/g').waitOnBarrier({ timeoutMs: 0 }); // not set: passes
    const gate = new Barrier(coordinator, '/gates/g');
    await gate.set();
    await gate.set(); // idempotent
    const waiting = workers.map((keeper) => new Barrier(keeper, '/gates/g').waitOnBarrier());
    await sleep(30);
    for (const wait of waiting) expect(await isSettled(wait)).toBe(false);
    await gate.remove();
    await Promise.all(waiting);
    for (const keeper of workers) expect(await hasNoWatch(keeper, '/gates/g')).toBe(true);
    await gate.remove(); // idempotent
  });

  it('timeout and abort end the wait and remove its watch', async () => {
    const [a, b] = (await keepers(2)) as [Keeper, Keeper];
    await new Barrier(a, '/gates/t').set();
    const waiter = new Barrier(b, '/gates/t');
    expect(((await rejectionOf(waiter.waitOnBarrier({ timeoutMs: 30 }))) as DOMException).name).toBe('TimeoutError');
    expect(await hasNoWatch(b, '/gates/t')).toBe(true);
    const controller = new AbortController();
    const waiting = waiter.waitOnBarrier({ signal: controller.signal });
    await sleep(10);
    controller.abort();
    expect(((await rejectionOf(waiting)) as DOMException).name).toBe('AbortError');
    expect(await hasNoWatch(b, '/gates/t')).toBe(true);
  });
});

describe('DoubleBarrier', () => {
  it('lets 3 members in together and out together', async () => {
    const all = await keepers(3);
    const members = all.map((keeper) => new DoubleBarrier(keeper, '/rounds/r1', 3));
    const log: string[] = [];
    const entering = members.slice(0, 2).map((member, i) => member.enter().then(() => log.push(`in ${i}`)));
    await sleep(30);
    expect(log).toEqual([]); // 2 of 3: nobody passes
    await members[2]?.enter();
    await Promise.all(entering);
    expect(log.sort()).toEqual(['in 0', 'in 1']);
    const leaving = members.slice(0, 2).map((member, i) => member.leave().then(() => log.push(`out ${i}`)));
    await sleep(30);
    expect(log.filter((entry) => entry.startsWith('out'))).toEqual([]); // member 2 is still inside
    await members[2]?.leave();
    await Promise.all(leaving);
    const [first] = all as [Keeper];
    await eventually(async () => (await first.getChildren('/rounds/r1')).length === 0, 'members and ready gone');
    for (const keeper of all) expect(await ephemeralsOf(keeper, '/rounds')).toEqual([]);
  });

  it('a timed-out or aborted enter leaves no member node and no watch', async () => {
    const [a, b] = (await keepers(2)) as [Keeper, Keeper];
    const member = new DoubleBarrier(a, '/rounds/r2', 2);
    expect(((await rejectionOf(member.enter({ timeoutMs: 30 }))) as DOMException).name).toBe('TimeoutError');
    expect(await ephemeralsOf(a, '/rounds')).toEqual([]);
    expect(await hasNoWatch(a, '/rounds/r2/ready')).toBe(true);
    const controller = new AbortController();
    const entering = member.enter({ signal: controller.signal });
    await sleep(10);
    controller.abort();
    expect(((await rejectionOf(entering)) as DOMException).name).toBe('AbortError');
    expect(await ephemeralsOf(a, '/rounds')).toEqual([]);
    // The member is outside again and can enter for real.
    await Promise.all([member.enter(), new DoubleBarrier(b, '/rounds/r2', 2).enter()]);
    expect(((await rejectionOf(member.enter())) as DOMException).name).toBe('InvalidStateError');
  });
});
