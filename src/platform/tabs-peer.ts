/**
 * The peer of a Keeper.join without a relay in a browser (API.md: "Without relay the ensemble is
 * local: in a browser, the tabs of this browser profile, which find each other over
 * BroadcastChannel"). The same shape as room-peer.ts (the relay + WebRTC assembly) with the
 * BroadcastChannel transport in place of relay signaling and the mesh: the platform's storage, the
 * status board on the same transport, startNetworkedPeer deciding how a fresh replica enters.
 *
 * The bootstrap decision (networked.ts: an empty first room list → bootstrap a one-voter ensemble)
 * is serialized across the profile's tabs by the Web Lock `meshkeeper:<room>:bootstrap`, held from
 * before this tab says hello until its peer has started. The relay orders joins for networked
 * peers; here the lock does: of two tabs opened together, the second says hello only once the
 * first runs (and holds its presence lock, which the second's list reads), so exactly one
 * bootstraps. Web Locks (like WebCrypto) need a secure context (https, or http on localhost); the
 * join refuses without them rather than risk two ensembles in one room.
 */

import { bootstrapLockName } from '../adapters/transport-broadcast/constants.js';
import { BroadcastTransport, type LocksLike } from '../adapters/transport-broadcast/transport.js';
import type { NetworkedPeer } from '../client/network.js';
import type { TabsPlan } from '../client/options.js';
import type { PeerId } from '../core/consensus/index.js';
import { KeeperError } from '../core/errors.js';
import { RealClock, realSeed } from '../peer/clock-real.js';
import type { Clock } from '../peer/interfaces.js';
import { startNetworkedPeer } from '../peer/networked.js';
import type { Peer } from '../peer/peer.js';
import { runningPeer, type OpenedStorage } from './room-peer.js';
import { attachStatusBoard, type PeerStatusBoard } from './status-board.js';

/** How long a tab waits for the bootstrap lock. A holder keeps it for its discovery window plus
 *  its storage's first load and bootstrap write (well under a second); a holder that hangs (a
 *  frozen tab mid-start) must not hang every later tab forever: they fail to join, and say so. */
export const BOOTSTRAP_LOCK_WAIT_MS = 30_000;

/** What navigator.locks must offer here: a lock request that can be aborted, and query(). */
export interface BootstrapLocks extends LocksLike {
  request<T>(name: string, options: { signal?: AbortSignal }, callback: () => Promise<T>): Promise<T>;
}

export interface TabsPeerPieces {
  readonly peerId: PeerId;
  readonly storage: OpenedStorage;
  /** Default: navigator.locks. */
  readonly locks?: BootstrapLocks;
  readonly clock?: Clock;
}

interface Started {
  readonly transport: BroadcastTransport;
  readonly board: PeerStatusBoard;
  readonly peer: Peer;
}

/** Starts this tab's peer; resolves once its replica runs (it may still be joining). */
export async function startTabsPeer(plan: TabsPlan, pieces: TabsPeerPieces): Promise<NetworkedPeer> {
  const locks = pieces.locks ?? (globalThis as { navigator?: { locks?: BootstrapLocks } }).navigator?.locks;
  if (locks === undefined) {
    await pieces.storage.close();
    throw new KeeperError('UNIMPLEMENTED', 'joining without a relay needs Web Locks (navigator.locks), which browsers offer only in a secure context (https, or http on localhost)');
  }
  const clock = pieces.clock ?? new RealClock();
  let transport: BroadcastTransport | null = null;
  let board: PeerStatusBoard | null = null;
  const abort = new AbortController();
  const giveUp = clock.after(BOOTSTRAP_LOCK_WAIT_MS, () => abort.abort());
  let started: Started;
  try {
    started = await locks.request(bootstrapLockName(plan.room), { signal: abort.signal }, async () => {
      giveUp();
      const opened = await BroadcastTransport.open({
        room: plan.room,
        self: pieces.peerId,
        clock,
        locks,
        ...(plan.secret === undefined ? {} : { secret: plan.secret }),
      });
      transport = opened;
      const attached = attachStatusBoard(
        {
          self: opened.self,
          send: (to, bytes) => opened.send(to, bytes),
          onMessage: (handler) => opened.onMessage(handler),
          whenListed: (listener) => opened.whenListed(listener),
          roomPeers: () => opened.roomPeers(),
          connectedPeers: () => opened.roomPeers(),
          close: () => opened.close(),
        },
        { kind: 'tab', clock },
      );
      board = attached.board;
      const peer = await new Promise<Peer>((resolve, reject) => {
        startNetworkedPeer({ transport: attached.transport, storage: pieces.storage.storage, clock, seed: realSeed(), targetVoters: plan.voters }, (result) => {
          if (result.ok) resolve(result.peer);
          else reject(result.error);
        });
      });
      return { transport: opened, board: attached.board, peer };
    });
  } catch (error) {
    giveUp();
    (board as PeerStatusBoard | null)?.close();
    (transport as BroadcastTransport | null)?.close();
    await pieces.storage.close();
    const reason = abort.signal.aborted ? `another tab held ${bootstrapLockName(plan.room)} for ${BOOTSTRAP_LOCK_WAIT_MS} ms` : error instanceof Error ? error.message : String(error);
    throw new KeeperError('CONNECTIONLOSS', `join room ${plan.room} (the tabs of this profile): ${reason}`);
  }
  return running(started, pieces.storage);
}

function running({ transport, board, peer }: Started, storage: OpenedStorage): NetworkedPeer {
  let closed = false;
  /** Synchronous up to the storage's close, which a closing page may never finish. */
  const closeAll = (): Promise<void> => {
    if (closed) return Promise.resolve();
    closed = true;
    board.close();
    transport.close();
    return storage.close();
  };
  return runningPeer(peer, board, (listener) => transport.onRoomChange(listener), closeAll);
}
