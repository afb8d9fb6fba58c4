/**
 * The networked peer of a Keeper.join with a relay, assembled from the platform's pieces: relay
 * signaling (RelaySignaling over the platform's WebSocket), the WebRTC mesh (the platform's
 * RTCPeerConnection), the platform's durable storage, real time. The same code for browsers and
 * Node; the two entry modules (node.ts, browser.ts) differ only in the pieces they pass.
 */

import type { PeerId } from '../core/consensus/index.js';
import { KeeperError } from '../core/errors.js';
import type { NetworkedPeer } from '../client/network.js';
import type { NetworkPlan } from '../client/options.js';
import { RoomView } from '../adapters/room-view.js';
import { WebRtcMesh, type CreatePeer } from '../adapters/transport-webrtc/mesh.js';
import { RelaySignaling, type WebSocketConstructor } from '../relay/client.js';
import { RealClock, realSeed } from '../peer/clock-real.js';
import type { Clock, ReplicaStorage } from '../peer/interfaces.js';
import { startNetworkedPeer } from '../peer/networked.js';
import type { Peer } from '../peer/peer.js';
import type { PeerKind } from '../client/board.js';
import type { RoomEvent } from '../adapters/signaling.js';
import { attachStatusBoard, type PeerStatusBoard } from './status-board.js';
import { RemoteClients } from '../peer/remote-clients.js';
import { isClientId, splitClientChannel, withClientChannel } from './client-channel.js';

/** A storage the platform opened for one peer, and how to let it go. */
export interface OpenedStorage {
  readonly storage: ReplicaStorage;
  close(): Promise<void>;
}

export interface RoomPeerPieces {
  /** This peer's id in the room (persistent where the platform can keep it). */
  readonly peerId: PeerId;
  readonly WebSocket?: WebSocketConstructor;
  readonly createPeer: CreatePeer;
  readonly storage: OpenedStorage;
  /** Called after the mesh closed (Node: stop node-datachannel's threads when none is left). */
  readonly afterClose?: () => void;
  /** What the status board calls this peer (default: 'tab' where there is a DOM, else 'edge'). */
  readonly kind?: PeerKind;
  /** Real time (default RealClock; browsers pass the worker clock, worker-clock.ts, whose timers
   *  keep their rate in hidden tabs). */
  readonly clock?: Clock;
}

/** Starts the peer and resolves once its replica runs (it may still be joining the ensemble). */
export async function startRoomPeer(plan: NetworkPlan, pieces: RoomPeerPieces): Promise<NetworkedPeer> {
  const clock = pieces.clock ?? new RealClock();
  const signaling = new RelaySignaling({
    url: plan.relay,
    room: plan.room,
    self: pieces.peerId,
    ...(pieces.WebSocket === undefined ? {} : { WebSocket: pieces.WebSocket }),
  });
  const view = new RoomView(signaling);
  const mesh = new WebRtcMesh({ signaling: view, createPeer: pieces.createPeer, clock, ...(plan.secret === undefined ? {} : { secret: plan.secret }) });
  // The status board shares the mesh with the runtime (status-board.ts: a channel byte each), and
  // so does the client protocol of client-only attachments (client-channel.ts), which serving
  // peers answer (peer/remote-clients.ts) and hide from the runtime and the board.
  let remoteClients: RemoteClients | null = null;
  const peersTransport = splitClientChannel(
    {
      self: mesh.self,
      send: (to, bytes) => mesh.send(to, bytes),
      onMessage: (handler) => mesh.onMessage(handler),
      whenListed: (listener) => view.whenListed(listener),
      roomPeers: () => view.peers(),
      connectedPeers: () => mesh.peers(),
      close: () => mesh.close(),
    },
    (from, bytes) => remoteClients?.receive(from, bytes),
  );
  const { transport, board } = attachStatusBoard(peersTransport, { kind: pieces.kind ?? (typeof document === 'undefined' ? 'edge' : 'tab'), clock });
  let closed = false;
  const closeAll = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    remoteClients?.close();
    board.close();
    mesh.close();
    pieces.afterClose?.();
    await pieces.storage.close();
  };
  let peer: Peer;
  try {
    peer = await new Promise<Peer>((resolve, reject) => {
      startNetworkedPeer({ transport, storage: pieces.storage.storage, clock, seed: realSeed(), targetVoters: plan.voters }, (result) => {
        if (result.ok) resolve(result.peer);
        else reject(new KeeperError('CONNECTIONLOSS', `join room ${plan.room} at ${plan.relay}: ${result.error.message}`));
      });
    });
  } catch (error) {
    await closeAll();
    throw error;
  }
  const clients = new RemoteClients({ serving: peer, send: (to, bytes) => mesh.send(to, withClientChannel(bytes)), clock });
  remoteClients = clients;
  mesh.onPeersChanged((peers) => clients.channelsChanged(peers.filter(isClientId)));
  const running = runningPeer(
    peer,
    board,
    (listener) =>
      view.onRoomChange((event) => {
        if (event.type === 'list') return listener({ ...event, peers: event.peers.filter((id) => !isClientId(id)) });
        if (!isClientId(event.peer)) return listener(event);
        if (event.type === 'left') clients.clientGone(event.peer);
      }),
    closeAll,
  );
  // Leaving: the clients served here hear LEAVING first and move their sessions at once.
  return {
    ...running,
    leave: async () => {
      clients.leaving();
      await running.leave();
    },
    leaveNow: (avoid) => {
      clients.leaving();
      running.leaveNow?.(avoid);
    },
  };
}

/**
 * The running peer as the client sees it, the same for every transport (room-peer.ts, tabs-peer.ts):
 * the room's events feed the runtime's departures and the status board, the board publishes the
 * peer's status, and leaving closes board, transport and storage once (`closeAll`).
 */
export function runningPeer(
  peer: Peer,
  board: PeerStatusBoard,
  onRoomChange: (listener: (event: RoomEvent) => void) => void,
  closeAll: () => Promise<void>,
): NetworkedPeer {
  onRoomChange((event) => {
    if (event.type === 'joined') peer.roomChanged(event.peer, true);
    else if (event.type === 'left') {
      peer.roomChanged(event.peer, false);
      board.peerLeft(event.peer);
    } else for (const id of event.peers) peer.roomChanged(id, true);
  });
  board.start(() => peer.status());
  peer.onStatus(() => board.statusChanged());
  return {
    serving: peer,
    board,
    status: () => peer.status(),
    onStatus: (listener) => peer.onStatus(listener),
    leave: async () => {
      await new Promise<void>((resolve) => peer.leave(resolve));
      await closeAll();
    },
    leaveNow: (avoid) => {
      peer.leaveNow(avoid);
      void closeAll();
    },
    suspend: async (avoid) => {
      await new Promise<void>((resolve) => peer.suspend(resolve, avoid));
      await closeAll();
    },
    suspendNow: (avoid) => {
      peer.suspendNow(avoid);
      void closeAll();
    },
    unsafeRecover: (options = {}) => new Promise((resolve) => peer.unsafeRecover(options, resolve)),
  };
}
