// Proves keeper.locks — the Web Locks API (https://w3c.github.io/web-locks/) ensemble-wide, on the
// read-write lock recipe — on the real standalone ensemble with several sessions, for the spec's
// behaviours that make sense across an ensemble: exclusive and shared modes (with no writer
// starvation), the lock held while the callback's promise is pending and the request settling with
// the callback's outcome after release, ifAvailable, steal (the broken holder's request rejects with
// AbortError, pending requests keep their place), signal (a waiting request aborts with the
// signal's reason and leaves the queue), query() across sessions, the option errors of the
// request algorithm, and a holder's session closing handing the lock on.
import { afterEach, describe, expect, it } from 'vitest';
import { KeeperError, type Keeper } from '../index.js';
import { ensemble, ephemeralsOf, eventually, isSettled, rejectionOf, sleep, type Ensemble } from '../test-support/recipes.js';
import { decodeLockName, encodeLockName } from './web-locks.js';
import { LOCKS_BASE_PATH, type KeeperLock } from './index.js';

let open: Ensemble | null = null;
afterEach(async () => {
  await open?.close();
  open = null;
});

async function keepers(count: number): Promise<Keeper[]> {
  open = await ensemble(count, 'weblocks');
  return open.keepers;
}

/** A callback that holds the lock until `release()` is called. */
function holding(): { callback: (lock: KeeperLock | null) => Promise<string>; granted: Promise<KeeperLock | null>; release: () => void } {
  let release!: () => void;
  let grant!: (lock: KeeperLock | null) => void;
  const granted = new Promise<KeeperLock | null>((resolve) => {
    grant = resolve;
  });
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  return {
    granted,
    release,
    callback: async (lock) => {
      grant(lock);
      await released;
      return 'done';
    },
  };
}

const pendingCount = async (keeper: Keeper, name: string): Promise<number> => (await keeper.locks.query()).pending.filter((info) => info.name === name).length;

describe('keeper.locks', () => {
  it('runs the callback with the lock held and settles with its outcome after release', async () => {
    const [a] = (await keepers(1)) as [Keeper];
    expect(a.locks).toBe(a.locks);
    let seen: KeeperLock | null = null;
    const result = await a.locks.request('printer', async (lock) => {
      seen = lock;
      expect((await a.locks.query()).held).toEqual([{ name: 'printer', mode: 'exclusive', clientId: a.sessionId }]);
      return 42;
    });
    expect(result).toBe(42);
    expect(seen).toMatchObject({ name: 'printer', mode: 'exclusive' });
    expect((seen as unknown as KeeperLock).token).toBeGreaterThan(0);
    expect(await a.locks.query()).toEqual({ held: [], pending: [] }); // released before the promise settled
    const failure = new Error('callback failed');
    expect(
      await rejectionOf(
        a.locks.request('printer', () => {
          throw failure;
        }),
      ),
    ).toBe(failure);
    expect(await a.locks.query()).toEqual({ held: [], pending: [] });
    expect(await a.getChildren(LOCKS_BASE_PATH)).toEqual([encodeLockName('printer')]);
  });

  it('exclusive excludes across sessions; shared shares; a shared request behind a waiting exclusive one waits', async () => {
    const [a, b, c] = (await keepers(3)) as [Keeper, Keeper, Keeper];
    const reader = holding();
    const readDone = a.locks.request('doc', { mode: 'shared' }, reader.callback);
    await reader.granted;
    const second = holding();
    const secondDone = b.locks.request('doc', { mode: 'shared' }, second.callback);
    expect((await second.granted)?.mode).toBe('shared'); // two shared holders at once
    const writer = holding();
    const writeDone = c.locks.request('doc', writer.callback);
    await eventually(async () => (await pendingCount(a, 'doc')) === 1, 'the writer pending');
    const late = holding();
    const lateDone = b.locks.request('doc', { mode: 'shared' }, late.callback);
    await eventually(async () => (await pendingCount(a, 'doc')) === 2, 'the late reader pending');
    const snapshot = await a.locks.query();
    expect(snapshot.held.map((info) => [info.mode, info.clientId])).toEqual([
      ['shared', a.sessionId],
      ['shared', b.sessionId],
    ]);
    expect(snapshot.pending.map((info) => [info.mode, info.clientId])).toEqual([
      ['exclusive', c.sessionId],
      ['shared', b.sessionId],
    ]);
    reader.release();
    second.release();
    await Promise.all([readDone, secondDone]);
    expect((await writer.granted)?.mode).toBe('exclusive');
    await sleep(20);
    expect(await isSettled(late.granted)).toBe(false); // no writer starvation: it waits its turn
    writer.release();
    expect(await writeDone).toBe('done');
    await late.granted;
    late.release();
    await lateDone;
  });

  it('ifAvailable: the callback gets null when the lock is not grantable at once, and nothing is queued', async () => {
    const [a, b] = (await keepers(2)) as [Keeper, Keeper];
    const holder = holding();
    const held = a.locks.request('res', holder.callback);
    await holder.granted;
    expect(await b.locks.request('res', { ifAvailable: true }, (lock) => lock)).toBeNull();
    expect(await b.locks.request('res', { ifAvailable: true, mode: 'shared' }, (lock) => lock)).toBeNull();
    expect(await ephemeralsOf(b, LOCKS_BASE_PATH)).toEqual([]);
    expect((await b.locks.request('other', { ifAvailable: true }, (lock) => lock))?.name).toBe('other');
    holder.release();
    await held;
    expect((await b.locks.request('res', { ifAvailable: true }, (lock) => lock))?.mode).toBe('exclusive');
  });

  it('steal: breaks the holders (their requests reject with AbortError), takes the lock at once, pending requests keep their place', async () => {
    const [a, b, c] = (await keepers(3)) as [Keeper, Keeper, Keeper];
    const victim = holding();
    const victimDone = rejectionOf(a.locks.request('res', victim.callback));
    const victimLock = await victim.granted;
    const waiter = holding();
    const waiterDone = b.locks.request('res', waiter.callback);
    await eventually(async () => (await pendingCount(a, 'res')) === 1, 'a pending request');
    const thief = holding();
    const thiefDone = c.locks.request('res', { steal: true }, thief.callback);
    const stolen = await thief.granted;
    const error = await victimDone;
    expect(error).toBeInstanceOf(DOMException);
    expect((error as DOMException).name).toBe('AbortError');
    expect(stolen?.token).toBeGreaterThan(victimLock?.token as number);
    const snapshot = await a.locks.query();
    expect(snapshot.held).toEqual([{ name: 'res', mode: 'exclusive', clientId: c.sessionId }]);
    expect(snapshot.pending).toEqual([{ name: 'res', mode: 'exclusive', clientId: b.sessionId }]);
    victim.release(); // the broken holder's callback finishing changes nothing now
    await sleep(20);
    expect(await isSettled(waiter.granted)).toBe(false);
    thief.release();
    await thiefDone;
    await waiter.granted; // the pending request was not dropped
    waiter.release();
    await waiterDone;
    expect(await a.locks.query()).toEqual({ held: [], pending: [] });
  });

  it('signal: aborting a waiting request rejects it with the reason and removes it from the queue', async () => {
    const [a, b] = (await keepers(2)) as [Keeper, Keeper];
    const holder = holding();
    const held = a.locks.request('res', holder.callback);
    await holder.granted;
    const controller = new AbortController();
    const waiting = b.locks.request('res', { signal: controller.signal }, () => 'never');
    await eventually(async () => (await pendingCount(a, 'res')) === 1, 'the request pending');
    const reason = new Error('user navigated away');
    controller.abort(reason);
    expect(await rejectionOf(waiting)).toBe(reason);
    expect(await a.locks.query()).toMatchObject({ pending: [] });
    expect(await ephemeralsOf(b, LOCKS_BASE_PATH)).toEqual([]);
    // Already aborted: rejected at once with the reason, nothing sent.
    expect(((await rejectionOf(b.locks.request('res', { signal: AbortSignal.abort() }, () => 1))) as DOMException).name).toBe('AbortError');
    // Aborting after the grant changes nothing (the spec).
    holder.release();
    await held;
    const late = new AbortController();
    expect(
      await b.locks.request('res', { signal: late.signal }, async () => {
        late.abort();
        await sleep(5);
        return 'kept';
      }),
    ).toBe('kept');
  });

  it("hands the lock on at once when the holder's session closes; the holder's request rejects", async () => {
    const [a, b] = (await keepers(2)) as [Keeper, Keeper];
    const holder = holding();
    const held = rejectionOf(a.locks.request('res', holder.callback));
    await holder.granted;
    const next = holding();
    const nextDone = b.locks.request('res', next.callback);
    await eventually(async () => (await pendingCount(b, 'res')) === 1, 'the next request pending');
    await a.close();
    await next.granted;
    expect(((await held) as KeeperError).code).toBe('SESSIONEXPIRED');
    next.release();
    await nextDone;
  });

  it('refuses bad options as the request algorithm does (TypeError, NotSupportedError)', async () => {
    const [a] = (await keepers(1)) as [Keeper];
    const name = async (promise: Promise<unknown>): Promise<string> => {
      const error = await rejectionOf(promise);
      return error instanceof DOMException ? `DOMException ${error.name}` : (error as Error).constructor.name;
    };
    const call = a.locks.request.bind(a.locks) as (...args: unknown[]) => Promise<unknown>;
    expect(await name(call('x'))).toBe('TypeError');
    expect(await name(call('x', {}))).toBe('TypeError'); // no callback
    expect(await name(call('x', { mode: 'foo' }, () => {}))).toBe('TypeError');
    expect(await name(call('x', { mode: null }, () => {}))).toBe('TypeError');
    expect(await name(call('x', { signal: 'no' }, () => {}))).toBe('TypeError');
    expect(await name(call('-reserved', () => {}))).toBe('DOMException NotSupportedError');
    expect(await name(call('x', { steal: true, ifAvailable: true }, () => {}))).toBe('DOMException NotSupportedError');
    expect(await name(call('x', { steal: true, mode: 'shared' }, () => {}))).toBe('DOMException NotSupportedError');
    expect(await name(call('x', { signal: new AbortController().signal, steal: true }, () => {}))).toBe('DOMException NotSupportedError');
    expect(await name(call('x', { signal: new AbortController().signal, ifAvailable: true }, () => {}))).toBe('DOMException NotSupportedError');
    expect(await call('x', null, () => 'null options are the defaults')).toBe('null options are the defaults');
    expect(await call(7, (lock: KeeperLock) => lock.name)).toBe('7'); // names are converted to strings
  });

  it('encodes any name losslessly into one znode name', () => {
    for (const name of ['', '.', '..', 'a/b', 'printer', '%41', 'héllo ✓', '\uD800', 'x'.repeat(600), '-x', 'n-foo', '%u00']) {
      const encoded = encodeLockName(name);
      expect(encoded).toMatch(/^n-[A-Za-z0-9_.~%-]*$/);
      expect(decodeLockName(encoded)).toBe(name);
    }
    expect(decodeLockName('other')).toBeNull();
    expect(decodeLockName('n-%zz')).toBeNull();
  });
});
