// Proves the Semaphore recipe (Curator's InterProcessSemaphoreV2) on the real standalone ensemble
// with several sessions: never more than `permits` leases at once under contention, leases go to
// waiters as they are released, a holder's session closing frees its permit, and abort and timeout
// leave neither a lease node nor a mutex node nor a watch behind.
import { afterEach, describe, expect, it } from 'vitest';
import { KeeperError, type Keeper } from '../index.js';
import { ensemble, ephemeralsOf, eventually, hasNoWatch, isSettled, rejectionOf, sleep, type Ensemble } from '../test-support/recipes.js';
import { Semaphore } from './index.js';

let open: Ensemble | null = null;
afterEach(async () => {
  await open?.close();
  open = null;
});

async function keepers(count: number): Promise<Keeper[]> {
  open = await ensemble(count, 'semaphore');
  return open.keepers;
}

describe('Semaphore', () => {
  it('never exceeds its permits: 5 keepers, 3 permits, 60 leases', async () => {
    const all = await keepers(5);
    let holding = 0;
    let most = 0;
    await Promise.all(
      all.map(async (keeper) => {
        const semaphore = new Semaphore(keeper, '/sem/pool', 3);
        for (let i = 0; i < 12; i++) {
          const lease = await semaphore.acquire();
          holding += 1;
          most = Math.max(most, holding);
          expect(holding).toBeLessThanOrEqual(3);
          await sleep(Math.random() * 3);
          holding -= 1;
          await lease.release();
        }
      }),
    );
    expect(most).toBe(3);
    const [first] = all as [Keeper];
    expect(await first.getChildren('/sem/pool/leases')).toEqual([]);
    expect(await first.getChildren('/sem/pool/locks')).toEqual([]);
  });

  it('makes the next acquirer wait until a lease is released, and a holder closing frees its permit', async () => {
    const [a, b, c] = (await keepers(3)) as [Keeper, Keeper, Keeper];
    const one = await new Semaphore(a, '/sem/two', 2).acquire();
    await new Semaphore(b, '/sem/two', 2).acquire({ timeoutMs: 1000 });
    const waiting = new Semaphore(c, '/sem/two', 2).acquire();
    await sleep(30);
    expect(await isSettled(waiting)).toBe(false);
    await one.release();
    const third = await waiting;
    expect(third.path).toMatch(/^\/sem\/two\/leases\/_c_[0-9a-f]{32}-lease-\d{10}$/);
    const fourth = new Semaphore(a, '/sem/two', 2).acquire();
    await sleep(30);
    expect(await isSettled(fourth)).toBe(false);
    await b.close(); // its lease is ephemeral: the permit comes back at once
    await (await fourth).release();
    await third.release();
    await third.release(); // idempotent
  });

  it('abort and timeout leave no lease, no mutex node and no watch', async () => {
    const [a, b] = (await keepers(2)) as [Keeper, Keeper];
    const held = await new Semaphore(a, '/sem/one', 1).acquire();
    const timedOut = await rejectionOf(new Semaphore(b, '/sem/one', 1).acquire({ timeoutMs: 50 }));
    expect((timedOut as DOMException).name).toBe('TimeoutError');
    expect(await ephemeralsOf(b, '/sem')).toEqual([]);
    expect(await hasNoWatch(b, '/sem/one/leases')).toBe(true);
    const controller = new AbortController();
    const waiting = new Semaphore(b, '/sem/one', 1).acquire({ signal: controller.signal });
    await eventually(async () => (await a.getChildren('/sem/one/leases')).length === 2, 'the waiter leased');
    controller.abort();
    expect(((await rejectionOf(waiting)) as DOMException).name).toBe('AbortError');
    expect(await ephemeralsOf(b, '/sem')).toEqual([]);
    expect(await hasNoWatch(b, '/sem/one/leases')).toBe(true);
    await held.release();
  });

  it('refuses permits outside 1..SEMAPHORE_PERMITS_MAX', async () => {
    const [a] = (await keepers(1)) as [Keeper];
    expect(() => new Semaphore(a, '/sem/bad', 0)).toThrow(KeeperError);
    expect(() => new Semaphore(a, '/sem/bad', 1.5)).toThrow(/permits/);
  });
});
