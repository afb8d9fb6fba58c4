// Proves the Lock recipe (ZooKeeper Recipes and Solutions, "Locks"; Curator's InterProcessMutex) on
// the real standalone ensemble with several sessions: mutual exclusion under contention (a counter
// guarded only by the lock stays exact, holder intervals never overlap, fencing tokens strictly
// increase), herd-free hand-off, reentrancy, abort and timeout leaving no node and no watch, the
// holder's session closing handing the lock on at once, `lost`, and protected mode under injected
// connection losses. Session *expiry* cannot be provoked on the standalone ensemble: closing the
// holder's keeper (the same 'closed'/'expired' path in the recipe) and deleting its node stand in.
import { afterEach, describe, expect, it } from 'vitest';
import { KeeperError, type Keeper } from '../index.js';
import { ensemble, ephemeralsOf, eventually, faulty, hasNoWatch, isSettled, rejectionOf, sleep, withStates, type Ensemble } from '../test-support/recipes.js';
import { ABORT_CLEANUP_WAIT_MS, Lock, type LockLostEvent } from './index.js';

let open: Ensemble | null = null;
afterEach(async () => {
  await open?.close();
  open = null;
});

async function keepers(count: number): Promise<Keeper[]> {
  open = await ensemble(count, 'lock');
  return open.keepers;
}

describe('Lock', () => {
  it('acquires a free lock with a fencing token (its node\'s czxid) and deletes the node on release', async () => {
    const [keeper] = (await keepers(1)) as [Keeper];
    const lock = new Lock(keeper, '/locks/printer');
    const { token } = await lock.acquire();
    expect(lock.isHeld).toBe(true);
    const [node] = await keeper.getChildren('/locks/printer');
    expect(node).toMatch(/^_c_[0-9a-f]{32}-lock-\d{10}$/);
    expect(token).toBe((await keeper.exists(`/locks/printer/${node}`))?.czxid);
    expect(lock.token).toBe(token);
    await lock.release();
    expect(lock.isHeld).toBe(false);
    expect(await keeper.getChildren('/locks/printer')).toEqual([]);
    expect(await ephemeralsOf(keeper, '/locks')).toEqual([]);
    expect((await keeper.exists('/locks/printer'))?.ephemeralOwner).toBeNull(); // a container, not ours
  });

  it('5 keepers, 100 acquisitions: a counter guarded only by the lock ends exact, intervals never overlap, tokens strictly increase', async () => {
    const all = await keepers(5);
    const [first] = all as [Keeper];
    await first.create('/counter', '0');
    const intervals: { start: number; end: number; token: number }[] = [];
    let inside = 0;
    const ACQUISITIONS_PER_KEEPER = 20;
    await Promise.all(
      all.map(async (keeper) => {
        const lock = new Lock(keeper, '/locks/counter');
        for (let i = 0; i < ACQUISITIONS_PER_KEEPER; i++) {
          const { token } = await lock.acquire();
          inside += 1;
          expect(inside).toBe(1);
          const start = performance.now();
          const value = Number(new TextDecoder().decode((await keeper.getData('/counter')).data));
          await sleep(Math.random() < 0.3 ? 1 : 0); // an await between the read and the write
          await keeper.setData('/counter', String(value + 1));
          intervals.push({ start, end: performance.now(), token });
          inside -= 1;
          await lock.release();
        }
      }),
    );
    await first.sync('/counter');
    expect(new TextDecoder().decode((await first.getData('/counter')).data)).toBe('100');
    expect(intervals).toHaveLength(100);
    for (let i = 1; i < intervals.length; i++) {
      const [before, after] = [intervals[i - 1], intervals[i]] as [(typeof intervals)[0], (typeof intervals)[0]];
      expect(after.start).toBeGreaterThanOrEqual(before.end);
      expect(after.token).toBeGreaterThan(before.token);
    }
    expect(await first.getChildren('/locks/counter')).toEqual([]);
  });

  it('hands off herd-free: a release wakes only the next waiter, which alone looks again', async () => {
    const all = await keepers(4);
    const listings: number[] = [0, 0, 0, 0];
    const locks = all.map(
      (keeper, index) =>
        new Lock(
          faulty(keeper, (op) => {
            if (op === 'getChildren') listings[index] = (listings[index] ?? 0) + 1;
            return 'pass';
          }),
          '/locks/herd',
        ),
    );
    const [holder, ...waiters] = locks as [Lock, Lock, Lock, Lock];
    await holder.acquire();
    const pending = waiters.map((lock) => lock.acquire());
    await eventually(async () => (await (all[0] as Keeper).getChildren('/locks/herd')).length === 4, 'all four queued');
    await sleep(20);
    const before = [...listings];
    await holder.release();
    await pending[0];
    await sleep(20);
    // Only the next in line listed the children again; the others did not even wake.
    expect(listings.map((count, i) => count - (before[i] ?? 0))).toEqual([0, 1, 0, 0]);
    expect(await isSettled(pending[1] as Promise<unknown>)).toBe(false);
    await (waiters[0] as Lock).release();
    await pending[1];
    await (waiters[1] as Lock).release();
    await pending[2];
    await (waiters[2] as Lock).release();
  });

  it('is reentrant for the same object (Curator): one node, the same token, deleted at the last release', async () => {
    const [keeper] = (await keepers(1)) as [Keeper];
    const lock = new Lock(keeper, '/locks/re');
    const first = await lock.acquire();
    const second = await lock.acquire();
    expect(second.token).toBe(first.token);
    expect(lock.holdCount).toBe(2);
    expect(await keeper.getChildren('/locks/re')).toHaveLength(1);
    await lock.release();
    expect(lock.isHeld).toBe(true);
    expect(await keeper.getChildren('/locks/re')).toHaveLength(1);
    await lock.release();
    expect(lock.isHeld).toBe(false);
    expect(await keeper.getChildren('/locks/re')).toEqual([]);
    const error = await rejectionOf(lock.release());
    expect(error).toBeInstanceOf(DOMException);
    expect((error as DOMException).name).toBe('InvalidStateError');
    // Concurrent acquires of one object: the second waits for the first and counts up.
    const [a, b] = await Promise.all([lock.acquire(), lock.acquire()]);
    expect(a.token).toBe(b.token);
    expect(lock.holdCount).toBe(2);
    expect(await keeper.getChildren('/locks/re')).toHaveLength(1);
    await lock.release();
    await lock.release();
  });

  it('excludes other objects of the same session (the owner is the object, not the session)', async () => {
    const [keeper] = (await keepers(1)) as [Keeper];
    const one = new Lock(keeper, '/locks/objects');
    const two = new Lock(keeper, '/locks/objects');
    await one.acquire();
    const error = await rejectionOf(two.acquire({ timeoutMs: 50 }));
    expect((error as DOMException).name).toBe('TimeoutError');
    await one.release();
  });

  it('abort while waiting: rejects with the signal\'s reason, deletes the waiter\'s node and removes its watch', async () => {
    const [holderKeeper, waiterKeeper] = (await keepers(2)) as [Keeper, Keeper];
    const holder = new Lock(holderKeeper, '/locks/abort');
    await holder.acquire();
    const holderNode = holder.nodePath as string;
    const controller = new AbortController();
    const waiting = new Lock(waiterKeeper, '/locks/abort').acquire({ signal: controller.signal });
    await eventually(async () => (await ephemeralsOf(waiterKeeper, '/locks')).length === 1, 'the waiter queued');
    await sleep(10);
    const reason = new Error('changed my mind');
    controller.abort(reason);
    expect(await rejectionOf(waiting)).toBe(reason);
    expect(await ephemeralsOf(waiterKeeper, '/locks')).toEqual([]);
    expect(await hasNoWatch(waiterKeeper, holderNode)).toBe(true);
    // A plain abort() rejects with the AbortError DOMException; an already aborted signal sends nothing.
    const aborted = AbortSignal.abort();
    const error = await rejectionOf(new Lock(waiterKeeper, '/locks/abort').acquire({ signal: aborted }));
    expect((error as DOMException).name).toBe('AbortError');
    expect(await holderKeeper.getChildren('/locks/abort')).toHaveLength(1);
    await holder.release();
  });

  it('timeout: rejects with a TimeoutError and leaves nothing; timeoutMs 0 is a try-lock', async () => {
    const [holderKeeper, waiterKeeper] = (await keepers(2)) as [Keeper, Keeper];
    const holder = new Lock(holderKeeper, '/locks/timeout');
    expect((await holder.acquire({ timeoutMs: 0 })).token).toBeGreaterThan(0); // free: taken at once
    const waiter = new Lock(waiterKeeper, '/locks/timeout');
    const started = performance.now();
    const error = await rejectionOf(waiter.acquire({ timeoutMs: 100 }));
    expect((error as DOMException).name).toBe('TimeoutError');
    expect(performance.now() - started).toBeGreaterThanOrEqual(95);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(await ephemeralsOf(waiterKeeper, '/locks')).toEqual([]);
    expect(await hasNoWatch(waiterKeeper, holder.nodePath as string)).toBe(true);
    expect(((await rejectionOf(waiter.acquire({ timeoutMs: 0 }))) as DOMException).name).toBe('TimeoutError');
    expect(await ephemeralsOf(waiterKeeper, '/locks')).toEqual([]);
    expect(waiter.isHeld).toBe(false);
    await holder.release();
  });

  it("the holder's session closing hands the lock on at once, and the holder hears 'lost'", async () => {
    const [holderKeeper, waiterKeeper] = (await keepers(2)) as [Keeper, Keeper];
    const holder = new Lock(holderKeeper, '/locks/close');
    const { token } = await holder.acquire();
    const lost: LockLostEvent[] = [];
    holder.on('lost', (event) => lost.push(event));
    const waiter = new Lock(waiterKeeper, '/locks/close');
    const waiting = waiter.acquire();
    await eventually(async () => (await waiterKeeper.getChildren('/locks/close')).length === 2, 'the waiter queued');
    const closedAt = performance.now();
    await holderKeeper.close();
    const next = await waiting;
    expect(performance.now() - closedAt).toBeLessThan(500);
    expect(next.token).toBeGreaterThan(token);
    expect(lost).toEqual([{ path: expect.stringContaining('/locks/close/_c_'), reason: 'session', token }]);
    expect(holder.isHeld).toBe(false);
    await holder.release(); // after a loss, release() owes nothing and resolves
    await waiter.release();
  });

  it("'lost' when another session deletes the holder's node; the next waiter gets the lock", async () => {
    const [holderKeeper, other] = (await keepers(2)) as [Keeper, Keeper];
    const holder = new Lock(holderKeeper, '/locks/vanish');
    await holder.acquire();
    await holder.acquire(); // held twice
    const lost: LockLostEvent[] = [];
    holder.on('lost', (event) => lost.push(event));
    await other.delete(holder.nodePath as string);
    await eventually(() => lost.length === 1, "the 'lost' event");
    expect(lost[0]?.reason).toBe('vanished');
    expect(holder.isHeld).toBe(false);
    await holder.release();
    await holder.release();
    expect(((await rejectionOf(holder.release())) as DOMException).name).toBe('InvalidStateError');
    const next = new Lock(other, '/locks/vanish');
    await next.acquire({ timeoutMs: 1000 });
    await next.release();
  });

  it("'lost' with reason 'session' when the keeper reports its session expired", async () => {
    const [keeper] = (await keepers(1)) as [Keeper];
    const { keeper: view, setState } = withStates(keeper);
    const lock = new Lock(view, '/locks/expiry');
    const { token } = await lock.acquire();
    const lost: LockLostEvent[] = [];
    lock.on('lost', (event) => lost.push(event));
    setState('expired');
    expect(lost).toEqual([{ path: expect.stringContaining('/locks/expiry/_c_'), reason: 'session', token }]);
    expect(lock.isHeld).toBe(false);
    await lock.release(); // owes nothing
    await keeper.delete(lost[0]?.path as string); // what the ensemble's expiry does to the node
    // A waiter hears the expiry too: it stops waiting with SESSIONEXPIRED.
    const other = (await open?.join()) as Keeper;
    const holder = new Lock(other, '/locks/expiry');
    await holder.acquire({ timeoutMs: 1000 });
    const { keeper: waiterView, setState: setWaiterState } = withStates(keeper);
    const waiting = rejectionOf(new Lock(waiterView, '/locks/expiry').acquire());
    await eventually(async () => (await keeper.getChildren('/locks/expiry')).length === 2, 'the waiter queued');
    await sleep(10);
    setWaiterState('expired');
    expect(((await waiting) as KeeperError).code).toBe('SESSIONEXPIRED');
    await holder.release();
  });

  it('a waiter whose session closes rejects with SESSIONEXPIRED instead of waiting for ever', async () => {
    const [holderKeeper, waiterKeeper] = (await keepers(2)) as [Keeper, Keeper];
    const holder = new Lock(holderKeeper, '/locks/waiter-closes');
    await holder.acquire();
    const waiting = new Lock(waiterKeeper, '/locks/waiter-closes').acquire();
    await eventually(async () => (await holderKeeper.getChildren('/locks/waiter-closes')).length === 2, 'the waiter queued');
    const rejected = rejectionOf(waiting);
    await waiterKeeper.close();
    const error = await rejected;
    expect(error).toBeInstanceOf(KeeperError);
    expect((error as KeeperError).code).toBe('SESSIONEXPIRED');
    expect(await holderKeeper.getChildren('/locks/waiter-closes')).toHaveLength(1);
    await holder.release();
  });

  it('protected mode: a create whose answer is lost is found by its id, never duplicated', async () => {
    const [keeper, other] = (await keepers(2)) as [Keeper, Keeper];
    let creates = 0;
    const lossy = faulty(keeper, (op) => {
      if (op !== 'create') return 'pass';
      creates += 1;
      return creates === 1 ? 'lose-after' : 'pass'; // the first create happens, its answer is lost
    });
    const lock = new Lock(lossy, '/locks/protected');
    await lock.acquire();
    expect(await keeper.getChildren('/locks/protected')).toHaveLength(1);
    expect(lock.nodePath).toBe(`/locks/protected/${(await keeper.getChildren('/locks/protected'))[0]}`);
    await lock.release();
    expect(await keeper.getChildren('/locks/protected')).toEqual([]);

    // A create that is lost before it is sent: the search finds nothing and it is created again.
    let dropped = 0;
    const dropping = faulty(keeper, (op, args) => {
      if (op === 'create' && String(args[0]).includes('-lock-') && dropped < 2) {
        dropped += 1;
        return 'lose-before';
      }
      return 'pass';
    });
    const again = new Lock(dropping, '/locks/protected');
    await again.acquire();
    expect(dropped).toBe(2);
    expect(await other.getChildren('/locks/protected')).toHaveLength(1);
    await again.release();
  });

  it('an ensemble that does not answer cannot hold a timeout: rejects ABORT_CLEANUP_WAIT_MS later, cleans up once it answers', async () => {
    const [keeper, other] = (await keepers(2)) as [Keeper, Keeper];
    let answer!: () => void;
    const gate = new Promise<void>((resolve) => {
      answer = resolve;
    });
    const stalled = faulty(keeper, (op) => (op === 'getChildren' ? gate : 'pass'));
    const lock = new Lock(stalled, '/locks/stalled');
    const started = performance.now();
    const error = await rejectionOf(lock.acquire({ timeoutMs: 50 }));
    const elapsed = performance.now() - started;
    expect((error as DOMException).name).toBe('TimeoutError');
    expect(elapsed).toBeGreaterThanOrEqual(50 + ABORT_CLEANUP_WAIT_MS - 5);
    expect(elapsed).toBeLessThan(50 + ABORT_CLEANUP_WAIT_MS + 500);
    expect(await ephemeralsOf(keeper, '/locks')).toHaveLength(1); // the cleanup waits for the stalled call
    answer();
    await eventually(async () => (await ephemeralsOf(keeper, '/locks')).length === 0, 'the background cleanup');
    expect(lock.isHeld).toBe(false); // the lock was free: granted after the caller gave up, so given back
    const free = new Lock(other, '/locks/stalled');
    await free.acquire({ timeoutMs: 0 });
    await free.release();
  });

  it('refuses bad arguments with BADARGUMENTS', async () => {
    const [keeper] = (await keepers(1)) as [Keeper];
    expect(() => new Lock(keeper, 'relative')).toThrow(KeeperError);
    expect(() => new Lock(keeper, '/')).toThrow(/root/);
    const lock = new Lock(keeper, '/locks/args');
    expect(((await rejectionOf(lock.acquire({ timeoutMs: -1 }))) as KeeperError).code).toBe('BADARGUMENTS');
    expect(((await rejectionOf(lock.acquire({ signal: 'no' as never }))) as KeeperError).code).toBe('BADARGUMENTS');
    expect(await ephemeralsOf(keeper, '/')).toEqual([]);
  });
});
