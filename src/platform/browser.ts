/**
 * The browser's pieces for a networked peer (registered with the client when `meshkeeper` is
 * imported in a browser): the global WebSocket for the relay, the browser's RTCPeerConnection
 * through simple-peer's bundle, IndexedDB storage (one database per room and peer). Without a
 * relay, the peer meets this profile's other tabs over BroadcastChannel instead (tabs-peer.ts),
 * with the same storage.
 *
 * Today a tab's peer id lives as long as the tab (a reload is a new peer): its database is deleted
 * when it leaves gracefully. Identities that outlive tabs ("slots" held through Web Locks) come
 * with the browser-realities work (issue 6).
 */

import { MemoryStorage } from '../adapters/storage-memory.js';
import { deleteIndexedDbStorage, openIndexedDbStorage } from '../adapters/storage-idb.js';
import { createBrowserPeerFactory } from '../adapters/transport-webrtc/browser.js';
import { registerNetworkRuntime } from '../client/network.js';
import type { NetworkPlan, TabsPlan } from '../client/options.js';
import { KeeperError } from '../core/errors.js';
import { realSeed } from '../peer/clock-real.js';
import { startRoomPeer, type OpenedStorage } from './room-peer.js';
import { startTabsPeer } from './tabs-peer.js';
import { installLeaveOnPagehide } from './leave-on-pagehide.js';
import { pageWorkerClock } from './worker-clock.js';

function newPeerId(): string {
  return `tab-${(realSeed() >>> 0).toString(16).padStart(8, '0')}`;
}

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

registerNetworkRuntime({
  startPeer: async (plan) => {
    const peerId = newPeerId();
    const storage = await openStorage(plan, peerId);
    return startRoomPeer(plan, { peerId, createPeer: createBrowserPeerFactory(), storage, clock: pageWorkerClock() });
  },
  startTabsPeer: async (plan) => {
    const peerId = newPeerId();
    const storage = await openStorage(plan, peerId);
    return startTabsPeer(plan, { peerId, storage, clock: pageWorkerClock() });
  },
});

// A closing page leaves its rooms at once: sessions closed, leadership handed on (pagehide).
installLeaveOnPagehide();
