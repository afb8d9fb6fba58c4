/**
 * The client protocol's place on the room's mesh (peer/client-wire.ts): a third channel byte next
 * to the runtime's and the status board's (status-board.ts), and how client-only attachments are
 * told apart from peers.
 *
 *   CHANNEL_RUNTIME (0x00) · CHANNEL_BOARD (0x01) · CHANNEL_CLIENTS (0x02) · a client-wire message
 *
 * A client-only attachment's id starts with CLIENT_ID_PREFIX. Serving peers hide such ids from
 * their runtime (never a JOIN contact, never a departure to act on) and from the status board;
 * attachments hide each other, so no two of them ever open a channel between them. The prefix is
 * no credential: an id only decides who connects to whom, admission still needs the room secret.
 */

import type { PeerId } from '../core/consensus/index.js';
import type { BoardTransport } from './status-board.js';

export const CHANNEL_CLIENTS = 0x02;
/** Bytes the channel header adds (as status-board.ts's CHANNEL_HEADER_BYTES). */
const HEADER_BYTES = 1;

export const CLIENT_ID_PREFIX = 'client-';

export function isClientId(id: PeerId): boolean {
  return id.startsWith(CLIENT_ID_PREFIX);
}

export function withClientChannel(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length + HEADER_BYTES);
  out[0] = CHANNEL_CLIENTS;
  out.set(bytes, HEADER_BYTES);
  return out;
}

/**
 * Splits CHANNEL_CLIENTS off a serving peer's transport: client messages go to `onClient`
 * (header stripped); everything else, and only peers, reach the returned transport (the status
 * board's attach, then the runtime).
 */
export function splitClientChannel(inner: BoardTransport, onClient: (from: PeerId, bytes: Uint8Array) => void): BoardTransport {
  let handler: ((from: PeerId, bytes: Uint8Array) => void) | null = null;
  inner.onMessage((from, bytes) => {
    if (bytes[0] === CHANNEL_CLIENTS) {
      if (isClientId(from)) onClient(from, bytes.subarray(HEADER_BYTES));
      return;
    }
    if (isClientId(from)) return; // a client speaks only the client protocol
    handler?.(from, bytes);
  });
  return {
    self: inner.self,
    send: (to, bytes) => inner.send(to, bytes),
    onMessage: (next) => {
      handler = next;
    },
    whenListed: (listener) => inner.whenListed((peers, settlingMs) => listener(peers.filter((id) => !isClientId(id)), settlingMs)),
    roomPeers: () => inner.roomPeers().filter((id) => !isClientId(id)),
    connectedPeers: () => inner.connectedPeers().filter((id) => !isClientId(id)),
    close: () => inner.close(),
  };
}
