// Proves the ReadWriteLock recipe (ZooKeeper Recipes and Solutions, "Shared Locks"; Curator's
// InterProcessReadWriteLock) on the real standalone ensemble with several sessions: readers share,
// a writer excludes everyone, a reader arriving behind a waiting writer waits (no writer
// starvation) and is not woken by earlier writers, downgrade works and upgrade is refused, an
// aborted reader leaves nothing, and a randomized mix of readers and writers never breaks the
// invariant (a writer alone; readers only without a writer).
import { afterEach, describe, expect, it } from 'vitest';
import type { Keeper } from '../index.js';
import { ensemble, ephemeralsOf, eventually, faulty, isSettled, rejectionOf, sleep, type Ensemble } from '../test-support/recipes.js';
import { ReadWriteLock } from './index.js';

let open: Ensemble | null = null;
afterEach(async () => {
  await open?.close();
  open = null;
});

async function keepers(count: number): Promise<Keeper[]> {
  open = await ensemble(count, 'rwlock');
  return open.keepers;
}

const queued = (keeper: Keeper, path: string, count: number): Promise<void> =>
  eventually(async () => (await keeper.getChildren(path)).length === count, `${count} nodes under ${path}`);

describe('ReadWriteLock', () => {
  it('lets readers share and makes a writer wait for them all', async () => {
    const [a, b, c] = (await keepers(3)) as [Keeper, Keeper, Keeper];
    const readers = [new ReadWriteLock(a, '/rw/share'), new ReadWriteLock(b, '/rw/share')];
    for (const rw of readers) await rw.readLock.acquire({ timeoutMs: 1000 });
    const writer = new ReadWriteLock(c, '/rw/share');
    const writing = writer.writeLock.acquire();
    await queued(c, '/rw/share', 3);
    await sleep(20);
    expect(await isSettled(writing)).toBe(false);
    await readers[0]?.readLock.release();
    await sleep(20);
    expect(await isSettled(writing)).toBe(false);
    await readers[1]?.readLock.release();
    await writing;
    expect(writer.writeLock.isHeld).toBe(true);
    await writer.writeLock.release();
  });

  it('makes a reader that arrives behind a waiting writer wait for it (no writer starvation)', async () => {
    const [a, b, c] = (await keepers(3)) as [Keeper, Keeper, Keeper];
    const first = new ReadWriteLock(a, '/rw/fair');
    const writer = new ReadWriteLock(b, '/rw/fair');
    const late = new ReadWriteLock(c, '/rw/fair');
    const order: string[] = [];
    await first.readLock.acquire();
    order.push('reader 1');
    const writing = writer.writeLock.acquire().then(() => order.push('writer'));
    await queued(a, '/rw/fair', 2);
    const reading = late.readLock.acquire().then(() => order.push('reader 2'));
    await queued(a, '/rw/fair', 3);
    await sleep(20);
    expect(order).toEqual(['reader 1']); // reader 2 does not join reader 1 past the writer
    await first.readLock.release();
    await writing;
    await sleep(20);
    expect(order).toEqual(['reader 1', 'writer']);
    await writer.writeLock.release();
    await reading;
    expect(order).toEqual(['reader 1', 'writer', 'reader 2']);
    await late.readLock.release();
  });

  it('wakes a waiting reader only when the last writer before it goes', async () => {
    const [a, b, c] = (await keepers(3)) as [Keeper, Keeper, Keeper];
    let listings = 0;
    const w1 = new ReadWriteLock(a, '/rw/wake');
    const w2 = new ReadWriteLock(b, '/rw/wake');
    const reader = new ReadWriteLock(
      faulty(c, (op) => {
        if (op === 'getChildren') listings += 1;
        return 'pass';
      }),
      '/rw/wake',
    );
    await w1.writeLock.acquire();
    const second = w2.writeLock.acquire();
    await queued(a, '/rw/wake', 2);
    const reading = reader.readLock.acquire();
    await queued(a, '/rw/wake', 3);
    await sleep(20);
    const before = listings;
    await w1.writeLock.release();
    await second;
    await sleep(20);
    expect(listings).toBe(before); // w1 leaving did not wake the reader: it watches w2
    await w2.writeLock.release();
    await reading;
    expect(listings).toBe(before + 1);
    await reader.readLock.release();
  });

  it('downgrades (write holder takes the read lock at once) and refuses an upgrade', async () => {
    const [a] = (await keepers(1)) as [Keeper];
    const rw = new ReadWriteLock(a, '/rw/grade');
    await rw.writeLock.acquire();
    await rw.readLock.acquire({ timeoutMs: 0 });
    await rw.writeLock.release();
    expect(rw.readLock.isHeld).toBe(true);
    const error = await rejectionOf(rw.writeLock.acquire({ timeoutMs: 0 }));
    expect((error as DOMException).name).toBe('InvalidStateError');
    await rw.readLock.release();
    expect(await a.getChildren('/rw/grade')).toEqual([]);
  });

  it('an aborted waiting reader leaves no node; a timed-out writer neither', async () => {
    const [a, b] = (await keepers(2)) as [Keeper, Keeper];
    const holder = new ReadWriteLock(a, '/rw/abort');
    await holder.writeLock.acquire();
    const controller = new AbortController();
    const reading = new ReadWriteLock(b, '/rw/abort').readLock.acquire({ signal: controller.signal });
    await queued(a, '/rw/abort', 2);
    controller.abort();
    expect(((await rejectionOf(reading)) as DOMException).name).toBe('AbortError');
    expect(((await rejectionOf(new ReadWriteLock(b, '/rw/abort').writeLock.acquire({ timeoutMs: 30 }))) as DOMException).name).toBe('TimeoutError');
    expect(await ephemeralsOf(b, '/rw')).toEqual([]);
    await holder.writeLock.release();
  });

  it('keeps the invariant under a random mix of 4 keepers reading and writing', async () => {
    const all = await keepers(4);
    let readers = 0;
    let writers = 0;
    let maxReaders = 0;
    const tokens: number[] = [];
    await Promise.all(
      all.map(async (keeper) => {
        const rw = new ReadWriteLock(keeper, '/rw/mix');
        for (let i = 0; i < 15; i++) {
          if (Math.random() < 0.4) {
            const { token } = await rw.writeLock.acquire();
            expect([readers, writers]).toEqual([0, 0]);
            writers += 1;
            tokens.push(token);
            await sleep(1);
            writers -= 1;
            await rw.writeLock.release();
          } else {
            await rw.readLock.acquire();
            expect(writers).toBe(0);
            readers += 1;
            maxReaders = Math.max(maxReaders, readers);
            await sleep(1);
            readers -= 1;
            await rw.readLock.release();
          }
        }
      }),
    );
    for (let i = 1; i < tokens.length; i++) expect(tokens[i]).toBeGreaterThan(tokens[i - 1] as number);
    expect(await (all[0] as Keeper).getChildren('/rw/mix')).toEqual([]);
  });
});
