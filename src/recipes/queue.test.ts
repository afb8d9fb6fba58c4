// Proves the Queue recipe (ZooKeeper Recipes and Solutions, "Queues"; Curator's DistributedQueue)
// on the real standalone ensemble with several sessions: FIFO order, each item taken exactly once
// by concurrent takers while producers offer, take waiting on an empty queue (and timeout / abort
// leaving no watch), and unknown outcomes injected into offer and take resolved without a lost or
// duplicated item.
import { afterEach, describe, expect, it } from 'vitest';
import type { Keeper } from '../index.js';
import { ensemble, faulty, hasNoWatch, isSettled, rejectionOf, sleep, type Ensemble } from '../test-support/recipes.js';
import { Queue } from './index.js';

let open: Ensemble | null = null;
afterEach(async () => {
  await open?.close();
  open = null;
});

async function keepers(count: number): Promise<Keeper[]> {
  open = await ensemble(count, 'queue');
  return open.keepers;
}

const text = (bytes: Uint8Array | null): string | null => (bytes === null ? null : new TextDecoder().decode(bytes));

describe('Queue', () => {
  it('is FIFO: peek shows the head, take removes it, in offer order', async () => {
    const [a] = (await keepers(1)) as [Keeper];
    const queue = new Queue(a, '/queues/fifo');
    expect(await queue.peek()).toBeNull();
    expect(await queue.size()).toBe(0);
    for (const item of ['one', 'two', 'three']) await queue.offer(item);
    expect(text(await queue.peek())).toBe('one');
    expect(await queue.size()).toBe(3);
    expect([text(await queue.take()), text(await queue.take()), text(await queue.take())]).toEqual(['one', 'two', 'three']);
    expect(await queue.peek()).toBeNull();
    expect((await a.exists('/queues/fifo'))?.ephemeralOwner).toBeNull(); // the queue node is persistent
  });

  it('gives each item to exactly one of 4 concurrent takers while 2 producers offer 100 items', async () => {
    const [p1, p2, ...takers] = (await keepers(6)) as [Keeper, Keeper, ...Keeper[]];
    const ITEMS_PER_PRODUCER = 50;
    const offered: string[] = [];
    const producers = [p1, p2].map(async (keeper, p) => {
      const queue = new Queue(keeper, '/queues/work');
      for (let i = 0; i < ITEMS_PER_PRODUCER; i++) {
        const item = `p${p}-${i}`;
        offered.push(item);
        await queue.offer(item);
      }
    });
    const taken: string[][] = takers.map(() => []);
    let remaining = 2 * ITEMS_PER_PRODUCER;
    const consumers = takers.map(async (keeper, t) => {
      const queue = new Queue(keeper, '/queues/work');
      while (remaining > 0) {
        const item = await queue.take({ timeoutMs: 200 }).catch(() => null);
        if (item === null) continue;
        remaining -= 1;
        taken[t]?.push(text(item) as string);
      }
    });
    await Promise.all([...producers, ...consumers]);
    const all = taken.flat();
    expect(all).toHaveLength(100);
    expect(new Set(all).size).toBe(100);
    expect([...all].sort()).toEqual([...offered].sort());
    // Each producer's items come out in the order it offered them (per taker, too).
    for (const mine of taken) {
      for (const producer of ['p0', 'p1']) {
        const seq = mine.filter((item) => item.startsWith(producer)).map((item) => Number(item.split('-')[1]));
        expect(seq).toEqual([...seq].sort((x, y) => x - y));
      }
    }
    expect(await p1.getChildren('/queues/work')).toEqual([]);
  });

  it('take waits on an empty queue; timeout and abort leave no watch', async () => {
    const [a, b] = (await keepers(2)) as [Keeper, Keeper];
    const consumer = new Queue(b, '/queues/wait');
    expect(((await rejectionOf(consumer.take({ timeoutMs: 30 }))) as DOMException).name).toBe('TimeoutError');
    expect(await hasNoWatch(b, '/queues/wait')).toBe(true);
    const controller = new AbortController();
    const aborted = consumer.take({ signal: controller.signal });
    await sleep(10);
    controller.abort();
    expect(((await rejectionOf(aborted)) as DOMException).name).toBe('AbortError');
    expect(await hasNoWatch(b, '/queues/wait')).toBe(true);
    const waiting = consumer.take();
    await sleep(20);
    expect(await isSettled(waiting)).toBe(false);
    await new Queue(a, '/queues/wait').offer('late');
    expect(text(await waiting)).toBe('late');
    expect(await hasNoWatch(b, '/queues/wait')).toBe(true); // the watch fired and is gone
  });

  it('resolves unknown outcomes: a lost offer answer does not duplicate, a lost take answer does not lose the item', async () => {
    const [a] = (await keepers(1)) as [Keeper];
    let lose = true;
    const lossy = faulty(a, (op) => {
      if ((op === 'create' || op === 'multi') && lose) {
        lose = false;
        return 'lose-after';
      }
      return 'pass';
    });
    const queue = new Queue(lossy, '/queues/lossy');
    await queue.offer('x'); // first create: done, answer lost → found by its id
    expect(await queue.size()).toBe(1);
    lose = true;
    expect(text(await queue.take())).toBe('x'); // the delete+receipt multi: done, answer lost → the receipt says ours
    expect(await queue.size()).toBe(0);
    expect(await a.getChildren('/queues/lossy')).toEqual([]); // no receipt left behind

    let drop = true;
    const dropping = faulty(a, (op, args) => {
      const ops = args[0] as { op: string }[] | undefined;
      if (op === 'multi' && drop && Array.isArray(ops) && ops.length === 2) {
        drop = false;
        return 'lose-before';
      }
      return 'pass';
    });
    const again = new Queue(dropping, '/queues/lossy');
    await again.offer('y');
    expect(text(await again.take())).toBe('y'); // the first take never happened: taken by the retry
    expect(await a.getChildren('/queues/lossy')).toEqual([]);
  });
});
