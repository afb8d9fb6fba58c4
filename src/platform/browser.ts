/**
 * The browser's pieces for a networked peer (registered with the client when `meshkeeper` is
 * imported in a browser): the global WebSocket for the relay, the browser's RTCPeerConnection
 * through simple-peer's bundle, IndexedDB storage (one database per room and peer). Without a
 * relay, the peer meets this profile's other tabs over BroadcastChannel instead (tabs-peer.ts),
 * with the same storage.
 *
 * With IndexedDB storage a tab's peer is one of its profile's slots (slots.ts): identities with a
 * kept replica, hosted through Web Locks, adopted by the profile's other tabs when their tab closes
 * or crashes. A tab beyond the slots, or without Web Locks or localStorage, runs a transient peer
 * whose database is deleted when it leaves gracefully.
 */

import { MemoryStorage } from '../adapters/storage-memory.js';
import { deleteIndexedDbStorage, openIndexedDbStorage } from '../adapters/storage-idb.js';
import { createBrowserPeerFactory } from '../adapters/transport-webrtc/browser.js';
import { registerNetworkRuntime, type NetworkedPeer } from '../client/network.js';
import type { NetworkPlan, TabsPlan } from '../client/options.js';
import { KeeperError } from '../core/errors.js';
import { realSeed } from '../peer/clock-real.js';
import { startRoomPeer, type OpenedStorage } from './room-peer.js';
import { startTabsPeer } from './tabs-peer.js';
import { installLeaveOnPagehide } from './leave-on-pagehide.js';
import { localStorageRegistry, startProfileSlots, type SlotLocks } from './slots.js';
import { startClientAttachment } from './client-attachment.js';
import { pageWorkerClock } from './worker-clock.js';

/** localStorage key of this browser profile's tag (one per origin and profile). */
const PROFILE_TAG_KEY = 'meshkeeper:profile';

function hex32(): string {
  return (realSeed() >>> 0).toString(16).padStart(8, '0');
}

/** This profile's tag, made once and kept: its tabs' peers share one failure domain (one machine,
 *  one disk), which the leader reads from their ids to spread voters (membership.ts). Without
 *  localStorage each page is a profile of its own. */
function profileTag(): string {
  try {
    const kept = globalThis.localStorage?.getItem(PROFILE_TAG_KEY);
    if (kept !== null && kept !== undefined && /^[0-9a-f]{8}$/.test(kept)) return kept;
    const made = hex32();
    globalThis.localStorage?.setItem(PROFILE_TAG_KEY, made);
    return made;
  } catch {
    return hex32();
  }
}

/** A tab's peer id: `tab-<random>~<profile tag>` (membership.ts failureDomain; `~`, not `@`: relay names allow it). */
function newPeerId(): string {
  return `tab-${hex32()}~${profileTag()}`;
}

/** A transient peer's storage: deleted when the peer leaves (nobody resumes it). */
async function openStorage(plan: NetworkPlan | TabsPlan, peerId: string): Promise<OpenedStorage> {
  if (plan.storage === 'memory') return { storage: new MemoryStorage(), close: async () => undefined };
  if (plan.storage !== 'indexeddb') throw new KeeperError('BADARGUMENTS', `storage ${plan.storage} is not available in a browser`);
  const options = { room: plan.room, peerId };
  const storage = await openIndexedDbStorage(options);
  return {
    storage,
    close: async () => {
      storage.close();
      await deleteIndexedDbStorage(options);
    },
  };
}

/** A slot's storage: kept when its peer stops (another tab, or a later visit, resumes it). */
async function openSlotStorage(plan: NetworkPlan | TabsPlan, peerId: string): Promise<OpenedStorage> {
  const storage = await openIndexedDbStorage({ room: plan.room, peerId });
  return {
    storage,
    close: () => {
      storage.close();
      return Promise.resolve();
    },
  };
}

/**
 * Starts this tab's peer for `plan`: a slot of the profile where it can have one (IndexedDB
 * storage, Web Locks, localStorage), else a transient peer.
 */
function startPeer(plan: NetworkPlan | TabsPlan, way: string, start: (peerId: string, storage: OpenedStorage) => Promise<NetworkedPeer>): Promise<NetworkedPeer> {
  const locks = (globalThis as { navigator?: { locks?: SlotLocks } }).navigator?.locks;
  const transient = async (): Promise<NetworkedPeer> => {
    const peerId = newPeerId();
    return start(peerId, await openStorage(plan, peerId));
  };
  const registry = plan.storage === 'indexeddb' && locks !== undefined ? localStorageRegistry(plan.room, way) : null;
  if (locks === undefined || registry === null) return transient();
  return startProfileSlots({
    room: plan.room,
    slotsMax: plan.voters,
    locks,
    registry,
    clock: pageWorkerClock(),
    newPeerId,
    startSlot: async (peerId) => start(peerId, await openSlotStorage(plan, peerId)),
    startTransient: transient,
  });
}

registerNetworkRuntime({
  startPeer: (plan) => startPeer(plan, plan.relay, (peerId, storage) => startRoomPeer(plan, { peerId, createPeer: createBrowserPeerFactory(), storage, clock: pageWorkerClock() })),
  startTabsPeer: (plan) => startPeer(plan, 'tabs', (peerId, storage) => startTabsPeer(plan, { peerId, storage, clock: pageWorkerClock() })),
  // A client-only attachment (replica: false): this page runs no replica; its sessions live on the
  // room's serving peers, picked by rendezvous hashing, and move when their peer goes.
  startClient: (plan) => startClientAttachment(plan, { createPeer: createBrowserPeerFactory(), clock: pageWorkerClock() }),
});

// A closing page leaves its rooms at once: sessions closed, leadership handed on (pagehide).
installLeaveOnPagehide();
