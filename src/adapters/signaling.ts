/**
 * What the WebRTC mesh needs from a signaling service: room membership, opaque signal forwarding
 * (SDP offers/answers and ICE candidates, as simple-peer emits them) and a bounded fallback path
 * for peer bytes while a data channel is not up. The relay client (src/relay/client.ts) implements
 * it over a WebSocket; MemorySignalingHub (transport-webrtc) implements it in-process for tests.
 *
 * The mesh rule (DESIGN.md, no glare): a peer that joins receives the room's `list` and initiates a
 * connection to each listed peer; peers already in the room learn of it by `joined` and wait for
 * its offer. Signaling never sees consensus messages' meaning, nor the room secret.
 */

import type { PeerId } from '../core/consensus/index.js';

export type RoomEvent =
  /** Sent once after this peer joined (and again after a reconnect to the relay): the other peers
   *  in the room at that moment. The receiver initiates to each. `settlingMs`, when present: the
   *  relay started lately and peers that outlived its restart may still be on their way back for
   *  up to this long, so the list may be incomplete (an empty one does not mean an empty room). */
  | { readonly type: 'list'; readonly peers: readonly PeerId[]; readonly settlingMs?: number }
  /** Another peer joined after us: wait for its offer. */
  | { readonly type: 'joined'; readonly peer: PeerId }
  /** Another peer left the room or its relay socket died. */
  | { readonly type: 'left'; readonly peer: PeerId };

export interface Signaling {
  readonly self: PeerId;
  readonly room: string;
  /** The one handler for room events (set by the mesh before it calls `start`). */
  onRoomEvent(handler: (event: RoomEvent) => void): void;
  /** The one handler for signals addressed to this peer. `data` is JSON-safe. */
  onSignal(handler: (from: PeerId, data: unknown) => void): void;
  /** The one handler for fallback-relayed bytes addressed to this peer. */
  onRelayed(handler: (from: PeerId, bytes: Uint8Array) => void): void;
  /** Joins the room (connecting first when needed). Room events follow. */
  start(): void;
  /** Forwards a JSON-safe signal to `to` (dropped silently when `to` is gone). */
  sendSignal(to: PeerId, data: unknown): void;
  /** Forwards bytes to `to` through the relay (bounded; dropped when over the relay's caps). */
  sendRelayed(to: PeerId, bytes: Uint8Array): void;
  /** Leaves the room and closes; no handler is called afterwards. */
  close(): void;
}
