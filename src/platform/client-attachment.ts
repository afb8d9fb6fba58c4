/**
 * A client-only attachment (`Keeper.join({ relay, room, replica: false })`): this process meets the
 * room through the relay and the WebRTC mesh like a peer, but runs no replica and never joins the
 * Raft ensemble; its Keepers' sessions are served by the room's serving peers over the client
 * protocol (client/remote-serving.ts, peer/remote-clients.ts). Its id starts with
 * CLIENT_ID_PREFIX, and it hides the room's other attachments from its mesh (client-channel.ts),
 * so it opens channels to serving peers only.
 */

import { RoomView } from '../adapters/room-view.js';
import { WebRtcMesh, type CreatePeer } from '../adapters/transport-webrtc/mesh.js';
import type { ClientAttachment } from '../client/network.js';
import type { ClientPlan } from '../client/options.js';
import { RemoteServing } from '../client/remote-serving.js';
import type { PeerId } from '../core/consensus/index.js';
import { RealClock, realSeed } from '../peer/clock-real.js';
import type { Clock } from '../peer/interfaces.js';
import { RelaySignaling, type WebSocketConstructor } from '../relay/client.js';
import { CHANNEL_CLIENTS, CLIENT_ID_PREFIX, isClientId, withClientChannel } from './client-channel.js';

export interface ClientAttachmentPieces {
  readonly WebSocket?: WebSocketConstructor;
  readonly createPeer: CreatePeer;
  /** Called after the mesh closed (Node: stop node-datachannel's threads when none is left). */
  readonly afterClose?: () => void;
  readonly clock?: Clock;
}

export function newClientId(): PeerId {
  const hex = (value: number): string => (value >>> 0).toString(16).padStart(8, '0');
  return `${CLIENT_ID_PREFIX}${hex(realSeed())}${hex(realSeed())}`;
}

export function startClientAttachment(plan: ClientPlan, pieces: ClientAttachmentPieces): ClientAttachment {
  const clock = pieces.clock ?? new RealClock();
  const signaling = new RelaySignaling({
    url: plan.relay,
    room: plan.room,
    self: newClientId(),
    ...(pieces.WebSocket === undefined ? {} : { WebSocket: pieces.WebSocket }),
  });
  // The room without its other client-only attachments: no channel between them.
  const view = new RoomView(signaling, undefined, isClientId);
  const mesh = new WebRtcMesh({ signaling: view, createPeer: pieces.createPeer, clock, ...(plan.secret === undefined ? {} : { secret: plan.secret }) });
  let listed = false;
  view.whenListed(() => {
    listed = true;
  });
  const serving = new RemoteServing(
    {
      self: mesh.self,
      send: (to, bytes) => mesh.send(to, withClientChannel(bytes)),
      connectedPeers: () => mesh.peers(),
      listedPeers: () => (listed ? view.peers() : null),
    },
    clock,
  );
  let droppedChannel = 0;
  mesh.onMessage((from, bytes) => {
    if (bytes[0] === CHANNEL_CLIENTS) serving.receive(from, bytes.subarray(1));
    else droppedChannel += 1; // the runtime's and the board's messages are not for us
  });
  mesh.onPeersChanged((peers) => serving.peersChanged(peers));
  view.onRoomChange((event) => {
    if (event.type === 'left') serving.peerLeft(event.peer);
  });
  let closed = false;
  return {
    serving,
    droppedOtherChannels: () => droppedChannel,
    close: () => {
      if (closed) return;
      closed = true;
      serving.close();
      mesh.close();
      pieces.afterClose?.();
    },
  };
}
