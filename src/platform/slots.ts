/**
 * Identities that outlive tabs (DESIGN.md "Membership"). A browser profile keeps, per room, up to
 * `slotsMax` peer identities ("slots"): slot k is a persistent peer id (the registry, localStorage)
 * with its own IndexedDB replica, hosted by whichever tab of the profile holds the Web Lock
 * `meshkeeper:<room>:slot:<k>`. So a tab closing or crashing is, to the ensemble, a brief restart of
 * a member rather than a lost voter:
 *
 * - Joining, a tab takes a free slot (`ifAvailable`), or creates the next one while fewer than
 *   `slotsMax` exist: that is its home slot, whose peer serves the tab's Keepers. If every slot is
 *   held and some tab hosts several, it waits (at most SLOT_HANDBACK_WAIT_MS) for one to be handed
 *   back; otherwise its home is a transient peer (a fresh id whose replica is deleted when it
 *   leaves: the tabs beyond the slots are extra observers, as every tab was before slots).
 * - Every tab queues on the locks of the slots it does not host, so when a hosting tab closes or
 *   crashes the browser grants the slot to a waiting tab at once, and that tab resumes the slot's
 *   peer from IndexedDB (adoption). A lone tab ends up hosting every slot.
 * - Slots spread back out: every SLOT_BALANCE_INTERVAL_MS a tab reads `navigator.locks.query()`.
 *   A tab hosting two or more slots hands one back (Peer.suspend: leadership handed on, the
 *   identity kept; then the lock released) when the first tab waiting for it hosts at least two
 *   fewer; and a waiting tab that hosts slots steps behind waiters that host fewer (it re-queues),
 *   so the poorest waiter is first in line. The home slot is never handed back (it serves this
 *   tab's sessions).
 * - A closing tab (pagehide) suspends at once the slots another tab waits for (Peer.suspendNow: its
 *   sessions close, a leader hands on with TimeoutNow, the members keep the vote for
 *   SLOT_RETURN_GRACE_MS); slots nobody waits for leave the ensemble as a tab's peer always did
 *   (Peer.leaveNow: their votes go to live peers at once), and a later visit resumes them from
 *   IndexedDB as joining members. A crashed tab says nothing, and its slots' peers, resumed
 *   elsewhere, close the sessions of their earlier life (Peer.closeOrphans).
 *
 * Slots exist for IndexedDB storage only (memory storage has nothing to resume), and for one way
 * of meeting per room and profile: the registry records the relay URL (or "tabs") that made them,
 * and a join of the same room another way gets a transient peer.
 */

import type { NetworkedPeer } from '../client/network.js';
import { peerIdProblem } from '../core/consensus/config.js';
import type { PeerId } from '../core/consensus/index.js';
import type { Cancel, Clock } from '../peer/interfaces.js';

/** How often a tab compares its slots with the waiting tabs (one `navigator.locks.query()`). Two
 *  balance rounds (a waiter re-queueing, a host handing back) spread slots within about a second,
 *  well inside SLOT_HANDBACK_WAIT_MS. */
export const SLOT_BALANCE_INTERVAL_MS = 500;

/** How long a joining tab waits for a slot to be handed back when every slot is held and some tab
 *  hosts several: two or three balance rounds plus the host's graceful suspend (a leadership
 *  transfer takes a round trip). Past it, the tab joins with a transient peer. */
export const SLOT_HANDBACK_WAIT_MS = 3000;

/** The Web Lock that hosts slot k of `room`. */
export function slotLockName(room: string, k: number): string {
  return `meshkeeper:${room}:slot:${k}`;
}

/** The Web Lock held while the registry of `room` is read and extended (two tabs creating slot k at
 *  once must not give it two ids). */
export function slotRegistryLockName(room: string): string {
  return `meshkeeper:${room}:slots`;
}

/** One lock in `navigator.locks.query()`. */
export interface LockInfo {
  readonly name?: string;
  readonly clientId?: string;
}

/** What slots use of navigator.locks. */
export interface SlotLocks {
  request(name: string, options: { ifAvailable?: boolean; signal?: AbortSignal }, callback: (lock: unknown) => Promise<unknown>): Promise<unknown>;
  query(): Promise<{ held?: LockInfo[]; pending?: LockInfo[] }>;
}

/** The profile's slot ids for one room, shared by its tabs (localStorage in browsers). */
export interface SlotRegistry {
  /** The ids of slots 0..n-1, read fresh. */
  ids(): PeerId[];
  /** Appends a slot with `id` and returns its index. Called under slotRegistryLockName. */
  add(id: PeerId): number;
}

export interface SlotPieces {
  readonly room: string;
  /** At most this many slots (the target voter count: one profile alone can host a full set). */
  readonly slotsMax: number;
  readonly locks: SlotLocks;
  readonly registry: SlotRegistry;
  readonly clock: Clock;
  newPeerId(): PeerId;
  /** Starts (or resumes, from its kept replica) the peer of a slot. */
  startSlot(peerId: PeerId): Promise<NetworkedPeer>;
  /** Starts a transient peer (its replica deleted when it leaves). */
  startTransient(): Promise<NetworkedPeer>;
}

/** What a tab hosts, for tests and the status board. */
export interface SlotsView {
  readonly home: { readonly slot: number | null; readonly peerId: PeerId };
  readonly hosted: readonly { readonly slot: number; readonly peerId: PeerId }[];
}

interface Hosted {
  readonly slot: number;
  readonly peerId: PeerId;
  peer: NetworkedPeer | null;
  readonly release: () => void;
  handingBack: boolean;
}

/** Starts this tab's part of the profile's slots; resolves with the home peer (serving Keepers). */
export async function startProfileSlots(pieces: SlotPieces): Promise<NetworkedPeer & { slots(): SlotsView }> {
  const slots = new ProfileSlots(pieces);
  return slots.start();
}

class ProfileSlots {
  private readonly hosted = new Map<number, Hosted>();
  private readonly waiting = new Map<number, AbortController>();
  private homeSlot: number | null = null;
  private homePeer: NetworkedPeer | null = null;
  private transient = false;
  private closed = false;
  private balanceTimer: Cancel | null = null;
  private balancing = false;
  private firstGrant: ((slot: number) => void) | null = null;
  /** Slots another tab of the profile waits for, as of the last balance round: those suspend when
   *  this tab goes (the waiter resumes them); the others leave the ensemble as a tab's peer did
   *  before slots, so no member keeps a vote for an identity nobody is about to host. */
  private adoptable = new Set<number>();

  constructor(private readonly pieces: SlotPieces) {}

  async start(): Promise<NetworkedPeer & { slots(): SlotsView }> {
    let home = await this.takeFree();
    if (home === null && (await this.someTabHostsSeveral())) home = await this.awaitHandBack();
    if (home !== null) {
      this.homeSlot = home;
      this.homePeer = this.hosted.get(home)?.peer ?? null;
    }
    if (this.homePeer === null) {
      this.homeSlot = null;
      this.transient = true;
      try {
        this.homePeer = await this.pieces.startTransient();
      } catch (error) {
        await this.leave();
        throw error;
      }
    }
    this.queueAll();
    this.scheduleBalance();
    return this.facade(this.homePeer);
  }

  private facade(home: NetworkedPeer): NetworkedPeer & { slots(): SlotsView } {
    return {
      serving: home.serving,
      status: () => home.status(),
      onStatus: (listener) => home.onStatus(listener),
      ...(home.board === undefined ? {} : { board: home.board }),
      leave: () => this.leave(),
      leaveNow: () => this.leaveNow(),
      // The home slot's peer: the identity this tab shows (its status, its sessions).
      ...(home.unsafeRecover === undefined ? {} : { unsafeRecover: home.unsafeRecover.bind(home) }),
      slots: () => ({
        home: { slot: this.homeSlot, peerId: home.status().peerId },
        hosted: [...this.hosted.values()].filter((entry) => entry.peer !== null).map((entry) => ({ slot: entry.slot, peerId: entry.peerId })).sort((a, b) => a.slot - b.slot),
      }),
    };
  }

  // --- Taking slots -------------------------------------------------------------------------------

  /** A free slot, or a new one below the cap, started: its index; null if every slot is held. */
  private async takeFree(): Promise<number | null> {
    // Each round either finds a slot or creates one; a slot created here can be taken by another
    // tab first, so the rounds are bounded by the cap.
    for (let round = 0; round <= this.pieces.slotsMax; round++) {
      const ids = this.pieces.registry.ids();
      for (let slot = 0; slot < Math.min(ids.length, this.pieces.slotsMax); slot++) {
        if (this.hosted.has(slot)) continue;
        if (await this.acquire(slot, true)) return slot;
      }
      if (ids.length >= this.pieces.slotsMax) return null;
      const created = await this.pieces.locks.request(slotRegistryLockName(this.pieces.room), {}, () => {
        const now = this.pieces.registry.ids();
        return Promise.resolve(now.length >= this.pieces.slotsMax ? null : this.pieces.registry.add(this.pieces.newPeerId()));
      });
      if (created === null) return null;
    }
    return null;
  }

  private async someTabHostsSeveral(): Promise<boolean> {
    const counts = slotCounts((await this.pieces.locks.query()).held ?? [], this.pieces.room);
    return [...counts.values()].some((count) => count >= 2);
  }

  /** Queues on every slot and waits for the first one granted (a hand-back), or null. */
  private async awaitHandBack(): Promise<number | null> {
    const granted = new Promise<number | null>((resolve) => {
      const cancel = this.pieces.clock.after(SLOT_HANDBACK_WAIT_MS, () => {
        this.firstGrant = null;
        resolve(null);
      });
      this.firstGrant = (slot) => {
        cancel();
        this.firstGrant = null;
        resolve(slot);
      };
    });
    this.queueAll();
    return granted;
  }

  /** Asks for slot `slot`'s lock (at once or queued) and, once granted, hosts its peer. Resolves
   *  true once hosted, false if not granted (ifAvailable, aborted, closed); rejects if the peer
   *  could not start (the lock is released). The lock is held until the entry's release(). */
  private acquire(slot: number, ifAvailable: boolean, signal?: AbortSignal): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      const name = slotLockName(this.pieces.room, slot);
      const options = ifAvailable ? { ifAvailable: true } : signal === undefined ? {} : { signal };
      this.pieces.locks
        .request(name, options, async (lock) => {
          if (lock === null || this.closed || this.hosted.has(slot)) return resolve(false);
          const peerId = this.pieces.registry.ids()[slot];
          if (peerId === undefined) return resolve(false);
          let release = (): void => undefined;
          const held = new Promise<void>((done) => (release = done));
          const entry: Hosted = { slot, peerId, peer: null, release, handingBack: false };
          this.hosted.set(slot, entry);
          try {
            entry.peer = await this.pieces.startSlot(peerId);
          } catch (error) {
            this.hosted.delete(slot);
            reject(error instanceof Error ? error : new Error(String(error)));
            return;
          }
          if (this.closed) {
            this.hosted.delete(slot);
            entry.peer.suspendNow?.();
            return resolve(false);
          }
          resolve(true);
          this.firstGrant?.(slot);
          await held;
        })
        .catch((error: unknown) => {
          // Aborted while queued (a re-queue, or leaving): not granted.
          if (signal?.aborted === true) resolve(false);
          else reject(error instanceof Error ? error : new Error(String(error)));
        });
    });
  }

  /** Queues on every slot this tab neither hosts nor waits for (adoption). */
  private queueAll(): void {
    const count = Math.min(this.pieces.registry.ids().length, this.pieces.slotsMax);
    for (let slot = 0; slot < count; slot++) this.queue(slot);
  }

  private queue(slot: number): void {
    if (this.closed || this.hosted.has(slot) || this.waiting.has(slot)) return;
    const abort = new AbortController();
    this.waiting.set(slot, abort);
    this.acquire(slot, false, abort.signal).then(
      () => {
        if (this.waiting.get(slot) === abort) this.waiting.delete(slot);
      },
      () => {
        // The slot's peer failed to start here (storage, relay): stop waiting for it; the next
        // balance round queues again.
        if (this.waiting.get(slot) === abort) this.waiting.delete(slot);
      },
    );
  }

  // --- Balance ------------------------------------------------------------------------------------

  private scheduleBalance(): void {
    if (this.closed) return;
    this.balanceTimer = this.pieces.clock.after(SLOT_BALANCE_INTERVAL_MS, () => {
      this.balanceTimer = null;
      void this.balance().finally(() => this.scheduleBalance());
    });
  }

  private async balance(): Promise<void> {
    if (this.closed || this.balancing) return;
    this.balancing = true;
    try {
      this.queueAll(); // slots other tabs created since
      const state = await this.pieces.locks.query();
      if (this.closed) return;
      const held = (state.held ?? []).filter((lock) => slotOf(lock.name, this.pieces.room) !== null);
      const pending = (state.pending ?? []).filter((lock) => slotOf(lock.name, this.pieces.room) !== null);
      const counts = slotCounts(held, this.pieces.room);
      // A request pending on a slot this tab hosts is another tab's (a tab never queues on its own).
      this.adoptable = new Set(pending.map((lock) => slotOf(lock.name, this.pieces.room)).filter((slot): slot is number => slot !== null));
      const mine = held.find((lock) => {
        const slot = slotOf(lock.name, this.pieces.room);
        const entry = slot === null ? undefined : this.hosted.get(slot);
        return entry !== undefined && entry.peer !== null;
      })?.clientId;
      if (mine === undefined) return;
      const myCount = counts.get(mine) ?? 0;
      if (myCount >= 2) this.handBackOne(pending, counts, mine, myCount);
      for (const [slot, abort] of [...this.waiting]) {
        const line = pending.filter((lock) => lock.name === slotLockName(this.pieces.room, slot));
        const at = line.findIndex((lock) => lock.clientId === mine);
        if (at < 0) continue;
        if (line.slice(at + 1).some((lock) => lock.clientId !== mine && (counts.get(lock.clientId ?? '') ?? 0) < myCount)) {
          // A tab hosting fewer slots waits behind us: step behind it.
          this.waiting.delete(slot);
          abort.abort();
          this.queue(slot);
        }
      }
    } catch {
      // query() failing (a closing page) leaves the slots as they are until the next round.
    } finally {
      this.balancing = false;
    }
  }

  private handBackOne(pending: readonly LockInfo[], counts: ReadonlyMap<string, number>, mine: string, myCount: number): void {
    const candidates = [...this.hosted.values()]
      .filter((entry) => entry.slot !== this.homeSlot && entry.peer !== null && !entry.handingBack)
      // A leader last: handing it back costs a leadership transfer.
      .sort((a, b) => Number(a.peer?.status().role === 'leader') - Number(b.peer?.status().role === 'leader') || b.slot - a.slot);
    for (const entry of candidates) {
      const first = pending.find((lock) => lock.name === slotLockName(this.pieces.room, entry.slot));
      if (first === undefined || first.clientId === mine) continue;
      if ((counts.get(first.clientId ?? '') ?? 0) > myCount - 2) continue;
      void this.handBack(entry);
      return;
    }
  }

  private async handBack(entry: Hosted): Promise<void> {
    entry.handingBack = true;
    try {
      await entry.peer?.suspend?.();
    } finally {
      this.hosted.delete(entry.slot);
      entry.release();
      this.queue(entry.slot);
    }
  }

  // --- Leaving ------------------------------------------------------------------------------------

  private stopTaking(): void {
    this.closed = true;
    this.balanceTimer?.();
    this.balanceTimer = null;
    for (const abort of this.waiting.values()) abort.abort();
    this.waiting.clear();
  }

  /** Suspends every hosted slot another tab waits for (identity kept, leadership handed on) and
   *  leaves the ensemble with the others (nobody is about to host them: their votes go to live
   *  peers; a later visit resumes them from IndexedDB and they join again), then releases the
   *  locks; a transient home leaves for good. */
  private async leave(): Promise<void> {
    this.stopTaking();
    const entries = [...this.hosted.values()];
    this.hosted.clear();
    const waited = await this.pieces.locks.query().then(
      (state) => new Set((state.pending ?? []).map((lock) => slotOf(lock.name, this.pieces.room)).filter((slot): slot is number => slot !== null)),
      () => this.adoptable,
    );
    // Leadership must not go to a peer of this tab: they all go.
    const avoid = this.hostedIds(entries);
    await Promise.all(
      entries.map(async (entry) => {
        try {
          if (entry.peer === null) return;
          if (waited.has(entry.slot) && entry.peer.suspend !== undefined) await entry.peer.suspend(avoid);
          else await entry.peer.leave();
        } finally {
          entry.release();
        }
      }),
    );
    if (this.transient) await this.homePeer?.leave();
  }

  /** The same at once (pagehide), by the last balance round's view of who waits: everything
   *  leaves as plain sends before this returns. */
  private leaveNow(): void {
    this.stopTaking();
    const avoid = this.hostedIds([...this.hosted.values()]);
    for (const entry of this.hosted.values()) {
      if (entry.peer !== null) {
        if (this.adoptable.has(entry.slot) && entry.peer.suspendNow !== undefined) entry.peer.suspendNow(avoid);
        else if (entry.peer.leaveNow !== undefined) entry.peer.leaveNow(avoid);
        else void entry.peer.leave();
      }
      entry.release();
    }
    this.hosted.clear();
    if (!this.transient) return;
    const home = this.homePeer;
    if (home?.leaveNow !== undefined) home.leaveNow(avoid);
    else void home?.leave();
  }

  /** The peer ids this tab runs: its slots' and a transient home's. */
  private hostedIds(entries: readonly Hosted[]): string[] {
    const ids = entries.map((entry) => entry.peerId);
    if (this.transient && this.homePeer !== null) ids.push(this.homePeer.status().peerId);
    return ids;
  }
}

/** The registry key of `room`'s slots in a profile's localStorage. */
export function slotRegistryKey(room: string): string {
  return `meshkeeper:${room}:slots`;
}

/** The stored registry's bound: never more slots than the largest voter target. */
const REGISTRY_IDS_MAX = 7;

/**
 * The profile's registry in localStorage (shared synchronously by its tabs): `{ way, ids }`, where
 * `way` is how the slots' peers meet (a relay URL, or "tabs"). Null where there is no
 * localStorage, or the room's slots were made another way (that join gets a transient peer).
 * A malformed entry is treated as empty and rewritten by the next slot created.
 */
export function localStorageRegistry(room: string, way: string, storage: Pick<Storage, 'getItem' | 'setItem'> | undefined = globalThis.localStorage): SlotRegistry | null {
  if (storage === undefined) return null;
  const key = slotRegistryKey(room);
  const read = (): { way: string; ids: PeerId[] } | null => {
    try {
      const value: unknown = JSON.parse(storage.getItem(key) ?? 'null');
      if (typeof value !== 'object' || value === null) return null;
      const { way: madeBy, ids } = value as { way?: unknown; ids?: unknown };
      if (typeof madeBy !== 'string' || !Array.isArray(ids)) return null;
      const valid: PeerId[] = [];
      for (const id of ids.slice(0, REGISTRY_IDS_MAX)) {
        if (typeof id !== 'string' || peerIdProblem(id) !== null) break;
        valid.push(id);
      }
      return { way: madeBy, ids: valid };
    } catch {
      return null;
    }
  };
  const current = read();
  if (current !== null && current.way !== way && current.ids.length > 0) return null;
  return {
    ids: () => {
      const now = read();
      return now === null || now.way !== way ? [] : now.ids;
    },
    add: (id) => {
      const now = read();
      const ids = now === null || now.way !== way ? [] : now.ids;
      storage.setItem(key, JSON.stringify({ way, ids: [...ids, id] }));
      return ids.length;
    },
  };
}

/** The slot a lock name holds for `room`, or null. */
function slotOf(name: string | undefined, room: string): number | null {
  const prefix = slotLockName(room, 0).slice(0, -1);
  if (name === undefined || !name.startsWith(prefix)) return null;
  const rest = name.slice(prefix.length);
  return /^\d+$/.test(rest) ? Number(rest) : null;
}

/** How many slots of `room` each client (tab) holds. */
function slotCounts(held: readonly LockInfo[], room: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const lock of held) {
    if (slotOf(lock.name, room) === null || lock.clientId === undefined) continue;
    counts.set(lock.clientId, (counts.get(lock.clientId) ?? 0) + 1);
  }
  return counts;
}
