import { describe, expect, it } from 'vitest';
import type { NetworkedPeer } from '../client/network.js';
import type { PeerStatus } from '../peer/peer.js';
import { ManualClock } from '../peer/clock-manual.js';
import { localStorageRegistry, SLOT_BALANCE_INTERVAL_MS, SLOT_HANDBACK_WAIT_MS, slotLockName, slotRegistryKey, startProfileSlots, type LockInfo, type SlotLocks, type SlotRegistry, type SlotsView } from './slots.js';

/**
 * Web Locks as the spec has them, for one profile: one holder per name, a FIFO queue of requests,
 * `ifAvailable` (granted at once or called with null), AbortSignal for queued requests, and
 * query() listing held and pending locks with their client ids (a client is a tab).
 */
class FakeLockManager {
  private readonly holders = new Map<string, string>();
  private readonly queues = new Map<string, { clientId: string; callback: (lock: unknown) => Promise<unknown>; resolve: (value: unknown) => void; reject: (error: unknown) => void; signal?: AbortSignal }[]>();

  client(clientId: string): SlotLocks & { crash(): void } {
    return {
      request: (name, options, callback) =>
        new Promise((resolve, reject) => {
          if (options.ifAvailable === true) {
            if (this.holders.has(name) || (this.queues.get(name)?.length ?? 0) > 0) {
              callback(null).then(resolve, reject);
              return;
            }
            this.grant(name, { clientId, callback, resolve, reject });
            return;
          }
          const entry = { clientId, callback, resolve, reject, ...(options.signal === undefined ? {} : { signal: options.signal }) };
          options.signal?.addEventListener('abort', () => {
            const queue = this.queues.get(name) ?? [];
            const at = queue.indexOf(entry);
            if (at < 0) return;
            queue.splice(at, 1);
            reject(new DOMException('aborted', 'AbortError'));
          });
          const queue = this.queues.get(name) ?? [];
          queue.push(entry);
          this.queues.set(name, queue);
          this.next(name);
        }),
      query: () => {
        const held: LockInfo[] = [...this.holders].map(([name, holder]) => ({ name, clientId: holder }));
        const pending: LockInfo[] = [];
        for (const [name, queue] of this.queues) for (const entry of queue) pending.push({ name, clientId: entry.clientId });
        return Promise.resolve({ held, pending });
      },
      crash: () => {
        // The tab is gone: its locks are released and its queued requests dropped.
        for (const [name, queue] of this.queues) this.queues.set(name, queue.filter((entry) => entry.clientId !== clientId));
        for (const [name, holder] of [...this.holders]) {
          if (holder !== clientId) continue;
          this.holders.delete(name);
          this.next(name);
        }
      },
    };
  }

  private next(name: string): void {
    if (this.holders.has(name)) return;
    const entry = this.queues.get(name)?.shift();
    if (entry !== undefined) this.grant(name, entry);
  }

  private grant(name: string, entry: { clientId: string; callback: (lock: unknown) => Promise<unknown>; resolve: (value: unknown) => void; reject: (error: unknown) => void }): void {
    this.holders.set(name, entry.clientId);
    entry.callback({ name }).then(
      (value) => {
        if (this.holders.get(name) === entry.clientId) this.holders.delete(name);
        entry.resolve(value);
        this.next(name);
      },
      (error: unknown) => {
        if (this.holders.get(name) === entry.clientId) this.holders.delete(name);
        entry.reject(error);
        this.next(name);
      },
    );
  }
}

interface FakePeer extends NetworkedPeer {
  readonly id: string;
  state: 'running' | 'suspended' | 'left';
}

/** A profile: its lock manager, registry (one localStorage) and a log of peer starts. */
class Profile {
  readonly locks = new FakeLockManager();
  readonly store = new Map<string, string>();
  readonly clock = new ManualClock();
  readonly started: FakePeer[] = [];
  private ids = 0;

  registry(): SlotRegistry {
    const registry = localStorageRegistry('room', 'ws://relay', { getItem: (key) => this.store.get(key) ?? null, setItem: (key, value) => void this.store.set(key, value) });
    if (registry === null) throw new Error('no registry');
    return registry;
  }

  peer(id: string): FakePeer {
    const peer: FakePeer = {
      id,
      state: 'running',
      serving: {} as NetworkedPeer['serving'],
      status: () => ({ peerId: id, role: 'follower' }) as PeerStatus,
      onStatus: () => () => undefined,
      leave: () => {
        peer.state = 'left';
        return Promise.resolve();
      },
      suspend: () => {
        peer.state = 'suspended';
        return Promise.resolve();
      },
      suspendNow: () => {
        peer.state = 'suspended';
      },
    };
    this.started.push(peer);
    return peer;
  }

  async open(tab: string): Promise<{ peer: NetworkedPeer & { slots(): SlotsView }; locks: ReturnType<FakeLockManager['client']> }> {
    const locks = this.locks.client(tab);
    const opening = startProfileSlots({
      room: 'room',
      slotsMax: 3,
      locks,
      registry: this.registry(),
      clock: this.clock,
      newPeerId: () => `tab-${(this.ids += 1)}`,
      startSlot: (peerId) => Promise.resolve(this.peer(peerId)),
      startTransient: () => Promise.resolve(this.peer(`transient-${(this.ids += 1)}`)),
    });
    // Hand-backs take balance rounds on the clock; advance it while the tab waits.
    let done = false;
    void opening.finally(() => (done = true));
    for (let round = 0; round < 40 && !done; round++) {
      await settle();
      if (!done) this.clock.advance(SLOT_BALANCE_INTERVAL_MS / 5);
    }
    return { peer: await opening, locks };
  }

  /** Lets the balance rounds run for `ms`. */
  async run(ms: number): Promise<void> {
    for (let t = 0; t < ms; t += SLOT_BALANCE_INTERVAL_MS / 5) {
      this.clock.advance(SLOT_BALANCE_INTERVAL_MS / 5);
      await settle();
    }
  }

  running(id: string): FakePeer[] {
    return this.started.filter((peer) => peer.id === id && peer.state === 'running');
  }
}

async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
}

const hostedSlots = (peer: { slots(): SlotsView }): number[] => peer.slots().hosted.map((entry) => entry.slot);

describe('profile slots (Web Locks)', () => {
  it('each tab opened takes a slot of its own, up to the voter target; a lone first tab creates only one', async () => {
    const profile = new Profile();
    const a = await profile.open('A');
    expect(a.peer.slots().home.slot).toBe(0);
    expect(hostedSlots(a.peer)).toEqual([0]);
    expect(profile.registry().ids()).toHaveLength(1);
    const b = await profile.open('B');
    const c = await profile.open('C');
    expect([b.peer.slots().home.slot, c.peer.slots().home.slot]).toEqual([1, 2]);
    await profile.run(2 * SLOT_BALANCE_INTERVAL_MS);
    expect([hostedSlots(a.peer), hostedSlots(b.peer), hostedSlots(c.peer)]).toEqual([[0], [1], [2]]);
    // A fourth tab: every slot held, nobody hosts two: a transient peer at once.
    const d = await profile.open('D');
    expect(d.peer.slots().home.slot).toBeNull();
    expect(d.peer.status().peerId).toMatch(/^transient-/);
  });

  it('a closed tab\'s slot is adopted at once by a waiting tab, which resumes the same identity; the last tab hosts every slot', async () => {
    const profile = new Profile();
    const a = await profile.open('A');
    const b = await profile.open('B');
    const c = await profile.open('C');
    await profile.run(2 * SLOT_BALANCE_INTERVAL_MS); // every tab queues on the slots made after it opened
    const ids = profile.registry().ids();
    b.peer.leaveNow?.();
    b.locks.crash();
    await settle();
    // Slot 1's identity was suspended in B and runs again elsewhere, exactly once.
    expect(profile.started.filter((peer) => peer.id === ids[1]).map((peer) => peer.state)).toEqual(['suspended', 'running']);
    expect([...hostedSlots(a.peer), ...hostedSlots(c.peer)].sort()).toEqual([0, 1, 2]);
    // C crashes (no leaveNow): its locks are released, its slot adopted by A.
    c.locks.crash();
    await settle();
    expect(hostedSlots(a.peer)).toEqual([0, 1, 2]);
    for (const id of ids) expect(profile.running(id).length).toBeGreaterThanOrEqual(1);
  });

  it('reopened tabs get slots handed back until each tab hosts one', async () => {
    const profile = new Profile();
    const a = await profile.open('A');
    const b = await profile.open('B');
    const c = await profile.open('C');
    await profile.run(2 * SLOT_BALANCE_INTERVAL_MS);
    b.peer.leaveNow?.();
    b.locks.crash();
    c.peer.leaveNow?.();
    c.locks.crash();
    await settle();
    expect(hostedSlots(a.peer)).toEqual([0, 1, 2]);
    const d = await profile.open('D');
    expect(d.peer.slots().home.slot).not.toBeNull();
    const e = await profile.open('E');
    expect(e.peer.slots().home.slot).not.toBeNull();
    await profile.run(4 * SLOT_BALANCE_INTERVAL_MS);
    expect([hostedSlots(a.peer), hostedSlots(d.peer), hostedSlots(e.peer)].map((slots) => slots.length)).toEqual([1, 1, 1]);
    expect(hostedSlots(a.peer)).toEqual([0]); // the home slot never moves
    // Each identity runs in exactly one tab.
    for (const id of profile.registry().ids()) expect(profile.running(id)).toHaveLength(1);
  });

  it('a tab that finds every slot held and nobody hosting two does not wait; one that finds a host with several waits at most SLOT_HANDBACK_WAIT_MS', async () => {
    const profile = new Profile();
    const a = await profile.open('A');
    await profile.open('B');
    await profile.open('C');
    const startedAt = profile.clock.now();
    const d = await profile.open('D');
    expect(profile.clock.now() - startedAt).toBeLessThan(SLOT_BALANCE_INTERVAL_MS);
    expect(d.peer.slots().home.slot).toBeNull();
    expect(hostedSlots(a.peer)).toEqual([0]);
  });

  it('leave() suspends the slots another tab waits for, leaves with the others, and releases the locks; the identity resumes later', async () => {
    const profile = new Profile();
    const a = await profile.open('A');
    const b = await profile.open('B');
    await profile.run(2 * SLOT_BALANCE_INTERVAL_MS); // B queues on slot 0
    const [id0, id1] = profile.registry().ids();
    await a.peer.leave();
    await settle();
    // B waited for slot 0: suspended in A (the identity stays a member), resumed in B.
    expect(profile.started.filter((peer) => peer.id === id0).map((peer) => peer.state)).toEqual(['suspended', 'running']);
    expect(hostedSlots(b.peer)).toEqual([0, 1]);
    // B, alone now, leaves: nobody waits, so both identities leave the ensemble (their votes go
    // to live peers) and their locks are free.
    await b.peer.leave();
    expect(profile.running(id0 as string)).toEqual([]);
    expect(profile.started.filter((peer) => peer.id === id1).map((peer) => peer.state)).toEqual(['left']);
    const state = await b.locks.query();
    expect(state.held?.filter((lock) => lock.name === slotLockName('room', 0) || lock.name === slotLockName('room', 1))).toEqual([]);
    // A later visit resumes the same identities from their kept replicas.
    const again = await profile.open('A2');
    expect(again.peer.status().peerId).toBe(id0);
    await profile.run(2 * SLOT_BALANCE_INTERVAL_MS);
    expect(hostedSlots(again.peer)).toEqual([0, 1]);
  });
});

describe('localStorageRegistry', () => {
  const storage = (): Pick<Storage, 'getItem' | 'setItem'> & { map: Map<string, string> } => {
    const map = new Map<string, string>();
    return { map, getItem: (key) => map.get(key) ?? null, setItem: (key, value) => void map.set(key, value) };
  };

  it('keeps ids in order per room, and refuses a room whose slots were made another way', () => {
    const store = storage();
    const registry = localStorageRegistry('r', 'ws://a', store);
    expect(registry?.add('tab-1')).toBe(0);
    expect(registry?.add('tab-2')).toBe(1);
    expect(localStorageRegistry('r', 'ws://a', store)?.ids()).toEqual(['tab-1', 'tab-2']);
    expect(localStorageRegistry('r', 'tabs', store)).toBeNull();
    expect(localStorageRegistry('other', 'tabs', store)?.ids()).toEqual([]);
  });

  it('reads malformed or hostile contents as empty or up to the first bad id, bounded', () => {
    const store = storage();
    store.map.set(slotRegistryKey('r'), '{not json');
    expect(localStorageRegistry('r', 'ws://a', store)?.ids()).toEqual([]);
    store.map.set(slotRegistryKey('r'), JSON.stringify({ way: 'ws://a', ids: ['tab-1', 42, 'tab-3'] }));
    expect(localStorageRegistry('r', 'ws://a', store)?.ids()).toEqual(['tab-1']);
    store.map.set(slotRegistryKey('r'), JSON.stringify({ way: 'ws://a', ids: Array.from({ length: 100 }, (_, i) => `tab-${i}`) }));
    expect(localStorageRegistry('r', 'ws://a', store)?.ids().length).toBeLessThanOrEqual(7);
    expect(localStorageRegistry('r', 'ws://a', undefined)).toBeNull();
  });
});

// The wait for a hand-back is bounded (a named constant), so a join never hangs on it.
it('SLOT_HANDBACK_WAIT_MS covers several balance rounds', () => {
  expect(SLOT_HANDBACK_WAIT_MS).toBeGreaterThanOrEqual(3 * SLOT_BALANCE_INTERVAL_MS);
});
