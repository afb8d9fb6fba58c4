/**
 * Node's pieces for a networked peer (registered with the client when `meshkeeper` is imported in
 * Node): `ws` for the relay, node-datachannel for WebRTC (chosen by measurement, see
 * transport-webrtc/node.ts), file storage under `<dir>/<room>/` with the peer's id kept beside it,
 * so an edge peer that restarts is the same peer and resumes its replica.
 */

import { mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { MemoryStorage } from '../adapters/storage-memory.js';
import { openFileStorage } from '../adapters/storage-file.js';
import { cleanupNodeWebRtc, createNodePeerFactory } from '../adapters/transport-webrtc/node.js';
import { registerNetworkRuntime, type NetworkedPeer } from '../client/network.js';
import type { NetworkPlan } from '../client/options.js';
import { KeeperError } from '../core/errors.js';
import { realSeed } from '../peer/clock-real.js';
import { startRoomPeer, type OpenedStorage, type RoomPeerPieces } from './room-peer.js';
import type { ClientAttachment } from '../client/network.js';
import type { ClientPlan } from '../client/options.js';
import { startClientAttachment } from './client-attachment.js';

/** Hosts whose relay means everything runs on this machine: bind WebRTC to loopback (DESIGN.md:
 *  libdatachannel gathers no loopback candidates otherwise). */
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

let meshesOpen = 0;

function newPeerId(): string {
  return `edge-${(realSeed() >>> 0).toString(16).padStart(8, '0')}`;
}

/** The peer's folder for one room, its id (made on first use) and an exclusive lock on it. */
async function openDataDir(dir: string, room: string): Promise<{ peerId: string; folder: string; unlock: () => Promise<void> }> {
  const folder = join(dir, room);
  await mkdir(folder, { recursive: true });
  const lockPath = join(folder, 'LOCK');
  let lock;
  try {
    lock = await open(lockPath, 'wx');
  } catch (error) {
    if ((error as { code?: string }).code !== 'EEXIST') throw error;
    const holder = Number((await readFile(lockPath, 'utf8').catch(() => '')).trim());
    if (Number.isInteger(holder) && holder > 0 && processAlive(holder)) {
      throw new KeeperError('BADARGUMENTS', `data folder ${folder} is in use by process ${holder}`);
    }
    // A stale lock (its process is gone): take it over.
    await rm(lockPath, { force: true });
    lock = await open(lockPath, 'wx');
  }
  await lock.writeFile(String(process.pid));
  await lock.close();
  const idPath = join(folder, 'peer-id');
  let peerId = (await readFile(idPath, 'utf8').catch(() => '')).trim();
  if (peerId === '') {
    peerId = newPeerId();
    await writeFile(idPath, `${peerId}\n`);
  }
  return { peerId, folder, unlock: () => rm(lockPath, { force: true }) };
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM';
  }
}

async function openStorage(plan: NetworkPlan): Promise<{ peerId: string; storage: OpenedStorage; folder: string | null }> {
  if (plan.storage === 'memory') {
    return { peerId: newPeerId(), folder: null, storage: { storage: new MemoryStorage(), close: async () => undefined } };
  }
  if (!plan.storage.startsWith('file:')) throw new KeeperError('BADARGUMENTS', `storage ${plan.storage} is not available in Node`);
  const { peerId, folder, unlock } = await openDataDir(plan.storage.slice('file:'.length), plan.room);
  let storage;
  try {
    storage = await openFileStorage(join(folder, 'replica'));
  } catch (error) {
    await unlock();
    throw error;
  }
  return {
    peerId,
    folder,
    storage: {
      storage,
      close: async () => {
        await storage.close();
        await unlock();
      },
    },
  };
}

export interface NodePeer extends NetworkedPeer {
  /** The folder holding its replica and id (null with memory storage). */
  readonly folder: string | null;
}

/**
 * Starts a networked peer in this process. Keeper.join shares one peer per room among the Keepers
 * of a process; this starts one more each call (`meshkeeper peer`, and tests that want several
 * peers in one process).
 */
export async function startNodePeer(plan: NetworkPlan): Promise<NodePeer> {
  const { peerId, storage, folder } = await openStorage(plan);
  const host = new URL(plan.relay).hostname;
  meshesOpen += 1;
  const pieces: RoomPeerPieces = {
    peerId,
    WebSocket: WebSocket as unknown as NonNullable<RoomPeerPieces['WebSocket']>,
    createPeer: createNodePeerFactory(LOOPBACK_HOSTS.has(host) ? { bindAddress: '127.0.0.1' } : {}),
    storage,
    afterClose: () => {
      meshesOpen -= 1;
      if (meshesOpen === 0) cleanupNodeWebRtc();
    },
  };
  // startRoomPeer closes what it opened (afterClose included) when it fails.
  return { ...(await startRoomPeer(plan, pieces)), folder };
}

/** Starts a client-only attachment in this process (`Keeper.join({ replica: false })`): a mesh
 *  of its own, no replica. */
export function startNodeClient(plan: ClientPlan): ClientAttachment {
  const host = new URL(plan.relay).hostname;
  meshesOpen += 1;
  return startClientAttachment(plan, {
    WebSocket: WebSocket as unknown as NonNullable<RoomPeerPieces['WebSocket']>,
    createPeer: createNodePeerFactory(LOOPBACK_HOSTS.has(host) ? { bindAddress: '127.0.0.1' } : {}),
    afterClose: () => {
      meshesOpen -= 1;
      if (meshesOpen === 0) cleanupNodeWebRtc();
    },
  });
}

registerNetworkRuntime({ startPeer: startNodePeer, startClient: startNodeClient });
