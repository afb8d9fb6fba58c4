/**
 * The signaling relay (DESIGN.md, "Transport and relay"): WebSocket rooms where peers learn of each
 * other (`list`, `joined`, `left`), forward opaque signals, and pass fallback bytes while their data
 * channel is not up. It knows rooms, peer ids and sockets; it never sees znodes or the room secret
 * (peers prove the secret to each other over the mesh).
 *
 * Every socket is untrusted: a malformed, oversize, out-of-order or over-rate frame closes that
 * socket alone, with a close code from CLOSE_CODE and a short reason, and is counted in `stats()`.
 * Every cap is in constants.ts with its reason; each can be lowered per relay (tests do).
 *
 * `attachRelay` mounts the relay on an existing http.Server at a path (the app server shares its
 * URL); `startRelay` runs a standalone one (`npx meshkeeper relay`).
 */

import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { PeerId } from '../core/consensus/index.js';
import { assert, unreachable } from '../core/assert.js';
import {
  CLOSE_CODE,
  RELAY_FALLBACK_BUFFERED_BYTES_MAX,
  RELAY_FALLBACK_BYTES_BURST,
  RELAY_FALLBACK_BYTES_PER_SECOND,
  RELAY_JOIN_TIMEOUT_MS,
  RELAY_MESSAGE_BYTES_MAX,
  RELAY_MESSAGES_BURST,
  RELAY_MESSAGES_PER_SECOND,
  RELAY_PATH_DEFAULT,
  RELAY_PEERS_PER_ROOM_MAX,
  RELAY_PING_INTERVAL_MS,
  RELAY_PONGS_MISSED_MAX,
  RELAY_ROOMS_MAX,
  RELAY_SETTLING_MS,
  RELAY_SETTLING_MS_MAX,
  RELAY_SOCKET_BUFFERED_BYTES_MAX,
  RELAY_SOCKETS_MAX,
} from './constants.js';
import { decodeClientText, decodeRelayed, encodeRelayed, encodeServerText, type Parsed, type ServerMessage } from './protocol.js';
import { TokenBucket } from './token-bucket.js';

export interface RelayCaps {
  roomsMax: number;
  peersPerRoomMax: number;
  socketsMax: number;
  messageBytesMax: number;
  messagesPerSecond: number;
  messagesBurst: number;
  fallbackBytesPerSecond: number;
  fallbackBytesBurst: number;
  fallbackBufferedBytesMax: number;
  socketBufferedBytesMax: number;
  pingIntervalMs: number;
  pongsMissedMax: number;
  joinTimeoutMs: number;
}

export const RELAY_CAPS_DEFAULT: Readonly<RelayCaps> = Object.freeze({
  roomsMax: RELAY_ROOMS_MAX,
  peersPerRoomMax: RELAY_PEERS_PER_ROOM_MAX,
  socketsMax: RELAY_SOCKETS_MAX,
  messageBytesMax: RELAY_MESSAGE_BYTES_MAX,
  messagesPerSecond: RELAY_MESSAGES_PER_SECOND,
  messagesBurst: RELAY_MESSAGES_BURST,
  fallbackBytesPerSecond: RELAY_FALLBACK_BYTES_PER_SECOND,
  fallbackBytesBurst: RELAY_FALLBACK_BYTES_BURST,
  fallbackBufferedBytesMax: RELAY_FALLBACK_BUFFERED_BYTES_MAX,
  socketBufferedBytesMax: RELAY_SOCKET_BUFFERED_BYTES_MAX,
  pingIntervalMs: RELAY_PING_INTERVAL_MS,
  pongsMissedMax: RELAY_PONGS_MISSED_MAX,
  joinTimeoutMs: RELAY_JOIN_TIMEOUT_MS,
});

export interface RelayOptions extends Partial<RelayCaps> {
  /** The URL path that takes WebSocket upgrades; RELAY_PATH_DEFAULT ('/relay') when absent. */
  path?: string;
  /** A monotonic clock in milliseconds for the rate buckets and the settling grace (tests may
   *  inject one). */
  nowMs?: () => number;
  /** How long after it starts the relay marks its lists as maybe incomplete (`list.settlingMs`):
   *  RELAY_SETTLING_MS when absent; 0 turns the grace off (a relay that is known to be the room's
   *  first, as in tests that start one per ensemble). At most RELAY_SETTLING_MS_MAX. */
  settlingMs?: number;
}

/** Why a socket was closed. */
export type CloseReason =
  | 'left' | 'disconnected' | 'shutdown'
  | 'malformed' | 'version' | 'oversize' | 'protocol-error' | 'rate' | 'backlog'
  | 'rooms-full' | 'room-full' | 'join-timeout' | 'liveness' | 'replaced';

/** Why a frame was dropped while its socket stayed open, or why an upgrade was refused. */
export type DropReason = 'unknown-peer' | 'fallback-rate' | 'fallback-backlog' | 'sockets-full' | 'shutting-down';

const CLOSE_REASONS: readonly CloseReason[] = [
  'left', 'disconnected', 'shutdown', 'malformed', 'version', 'oversize', 'protocol-error', 'rate', 'backlog',
  'rooms-full', 'room-full', 'join-timeout', 'liveness', 'replaced',
];
const DROP_REASONS: readonly DropReason[] = ['unknown-peer', 'fallback-rate', 'fallback-backlog', 'sockets-full', 'shutting-down'];

export interface RelayStats {
  rooms: number;
  peers: number;
  sockets: number;
  forwarded: { signals: number; relayedFrames: number; relayedBytes: number };
  closed: Record<CloseReason, number>;
  dropped: Record<DropReason, number>;
}

export interface Relay {
  /** ws://host:port/path of the relay (from the server's bound address). */
  readonly url: string;
  stats(): RelayStats;
  /** Closes every relay socket (1001) and stops taking upgrades; `attachRelay` leaves the http
   *  server itself running, `startRelay` closes it too. */
  close(): Promise<void>;
}

export interface StandaloneRelay extends Relay {
  readonly host: string;
  readonly port: number;
}

/** How long close() waits for sockets to finish the close handshake before cutting them. */
const CLOSE_GRACE_MS = 1_000;

/** A WebSocket close reason is at most 123 bytes; ours are printable ASCII, cut to fit. */
const CLOSE_REASON_CHARS_MAX = 120;

interface Room {
  readonly name: string;
  readonly peers: Map<PeerId, Connection>;
}

interface Connection {
  readonly ws: WebSocket;
  readonly messages: TokenBucket;
  readonly fallbackBytes: TokenBucket;
  room: Room | null;
  peer: PeerId | null;
  /** Pings sent since the last pong. */
  pingsUnanswered: number;
  joinTimer: ReturnType<typeof setTimeout> | null;
  /** Set once the relay decided to close it (or it closed): later frames are ignored. */
  closing: boolean;
}

function validateCaps(caps: RelayCaps): void {
  for (const [name, value] of Object.entries(caps)) {
    assert(Number.isSafeInteger(value), `relay cap ${name} is an integer`);
    assert(value > 0, `relay cap ${name} is positive`);
  }
}

function validateSettlingMs(settlingMs: number): void {
  assert(Number.isSafeInteger(settlingMs), 'relay settlingMs is an integer');
  assert(settlingMs >= 0 && settlingMs <= RELAY_SETTLING_MS_MAX, 'relay settlingMs in 0..RELAY_SETTLING_MS_MAX');
}

const utf8 = new TextDecoder('utf-8');

function printable(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, CLOSE_REASON_CHARS_MAX);
}

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data));
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** The rooms, sockets and counters of one relay, independent of how sockets arrive. */
class RelayCore {
  private readonly rooms = new Map<string, Room>();
  private readonly connections = new Set<Connection>();
  private readonly forwarded = { signals: 0, relayedFrames: 0, relayedBytes: 0 };
  private readonly closed = Object.fromEntries(CLOSE_REASONS.map((reason) => [reason, 0])) as Record<CloseReason, number>;
  private readonly dropped = Object.fromEntries(DROP_REASONS.map((reason) => [reason, 0])) as Record<DropReason, number>;
  private readonly pingTimer: ReturnType<typeof setInterval>;
  private shuttingDown = false;
  /** When this relay started (nowMs): its lists carry `settlingMs` until settlingMs after it. */
  private readonly startedAtMs: number;

  constructor(
    readonly caps: Readonly<RelayCaps>,
    private readonly nowMs: () => number,
    private readonly settlingMs: number,
  ) {
    validateSettlingMs(settlingMs);
    this.startedAtMs = nowMs();
    this.pingTimer = setInterval(() => this.pingAll(), caps.pingIntervalMs);
    this.pingTimer.unref();
  }

  /** Whether a new socket may be accepted; counts the refusal when not. */
  admit(): boolean {
    if (this.shuttingDown) {
      this.dropped['shutting-down'] += 1;
      return false;
    }
    if (this.connections.size >= this.caps.socketsMax) {
      this.dropped['sockets-full'] += 1;
      return false;
    }
    return true;
  }

  accept(ws: WebSocket): void {
    if (this.shuttingDown) {
      ws.close(CLOSE_CODE.goingAway, 'relay shutting down');
      return;
    }
    const now = this.nowMs();
    const connection: Connection = {
      ws,
      messages: new TokenBucket(this.caps.messagesPerSecond, this.caps.messagesBurst, now),
      fallbackBytes: new TokenBucket(this.caps.fallbackBytesPerSecond, this.caps.fallbackBytesBurst, now),
      room: null,
      peer: null,
      pingsUnanswered: 0,
      joinTimer: null,
      closing: false,
    };
    this.connections.add(connection);
    connection.joinTimer = setTimeout(() => {
      connection.joinTimer = null;
      if (connection.peer === null) this.closeConnection(connection, 'join-timeout', CLOSE_CODE.joinTimeout, 'join timeout');
    }, this.caps.joinTimeoutMs);
    connection.joinTimer.unref();
    ws.on('message', (data, isBinary) => this.onFrame(connection, data, isBinary));
    ws.on('pong', () => {
      connection.pingsUnanswered = 0;
    });
    ws.on('error', (error: Error & { code?: string }) => {
      // Receiver errors: `ws` already closes the socket with the matching code (1009 for a frame
      // over maxPayload, 1002/1007 for protocol and UTF-8 errors); count and forget it.
      if (connection.closing) return;
      const reason: CloseReason = error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? 'oversize' : 'protocol-error';
      this.forget(connection, reason);
    });
    ws.on('close', () => {
      if (!connection.closing) this.forget(connection, 'disconnected');
      this.connections.delete(connection);
    });
  }

  private onFrame(connection: Connection, data: RawData, isBinary: boolean): void {
    if (connection.closing) return;
    if (!connection.messages.take(this.nowMs())) {
      this.closeConnection(connection, 'rate', CLOSE_CODE.rate, 'rate limit');
      return;
    }
    const bytes = toBytes(data);
    if (isBinary) {
      this.onRelayed(connection, bytes);
      return;
    }
    // `ws` has already refused text frames that are not UTF-8 (1007).
    const parsed = decodeClientText(utf8.decode(bytes));
    if (!parsed.ok) {
      this.refuse(connection, parsed);
      return;
    }
    const message = parsed.value;
    switch (message.type) {
      case 'join':
        this.onJoin(connection, message.room, message.peer);
        return;
      case 'leave':
        this.closeConnection(connection, 'left', CLOSE_CODE.normal, 'left');
        return;
      case 'ping':
        this.send(connection, encodeServerText({ type: 'pong' }));
        return;
      case 'signal': {
        const from = connection.peer;
        if (from === null) {
          this.closeConnection(connection, 'malformed', CLOSE_CODE.malformed, 'signal before join');
          return;
        }
        const target = this.peerOf(connection, message.to);
        if (target === null) return;
        this.forwarded.signals += 1;
        this.send(target, encodeServerText({ type: 'signal', from, data: message.data }));
        return;
      }
      default:
        unreachable(message, 'client message type');
    }
  }

  private refuse(connection: Connection, parsed: Parsed<unknown> & { ok: false }): void {
    if (parsed.reason === 'version') {
      this.closeConnection(connection, 'version', CLOSE_CODE.version, parsed.detail);
    } else {
      this.closeConnection(connection, 'malformed', CLOSE_CODE.malformed, parsed.detail);
    }
  }

  private onRelayed(connection: Connection, bytes: Uint8Array): void {
    const from = connection.peer;
    if (from === null) {
      this.closeConnection(connection, 'malformed', CLOSE_CODE.malformed, 'binary frame before join');
      return;
    }
    const parsed = decodeRelayed(bytes);
    if (!parsed.ok) {
      this.refuse(connection, parsed);
      return;
    }
    const frame = parsed.value;
    const target = this.peerOf(connection, frame.peer);
    if (target === null) return;
    if (!connection.fallbackBytes.take(this.nowMs(), frame.bytes.length)) {
      this.dropped['fallback-rate'] += 1;
      return;
    }
    if (target.ws.bufferedAmount > this.caps.fallbackBufferedBytesMax) {
      this.dropped['fallback-backlog'] += 1;
      return;
    }
    this.forwarded.relayedFrames += 1;
    this.forwarded.relayedBytes += frame.bytes.length;
    this.send(target, encodeRelayed({ peer: from, bytes: frame.bytes }));
  }

  /** The other peer `to` in the sender's room, or null (counted) when it is not there. */
  private peerOf(connection: Connection, to: PeerId): Connection | null {
    const target = connection.room?.peers.get(to);
    if (target === undefined || target === connection) {
      this.dropped['unknown-peer'] += 1;
      return null;
    }
    return target;
  }

  /**
   * Joins `peer` to `roomName`. A peer id already in the room is REPLACED: the newer socket wins and
   * the older one is closed with CLOSE_CODE.replaced, because the usual cause is the same peer
   * reconnecting before the relay noticed its old socket die (a half-open TCP connection, a tab
   * that reloaded). The others see `left` then `joined` for that id, as if the old socket had
   * died and the peer joined again; the replacing socket gets a fresh `list` and initiates anew.
   */
  private onJoin(connection: Connection, roomName: string, peer: PeerId): void {
    if (connection.peer !== null) {
      this.closeConnection(connection, 'malformed', CLOSE_CODE.malformed, 'second join');
      return;
    }
    let room = this.rooms.get(roomName);
    if (room === undefined && this.rooms.size >= this.caps.roomsMax) {
      this.closeConnection(connection, 'rooms-full', CLOSE_CODE.roomsFull, 'relay holds its most rooms');
      return;
    }
    const previous = room?.peers.get(peer);
    if (room !== undefined && previous === undefined && room.peers.size >= this.caps.peersPerRoomMax) {
      this.closeConnection(connection, 'room-full', CLOSE_CODE.roomFull, 'room holds its most peers');
      return;
    }
    if (previous !== undefined) {
      this.closeConnection(previous, 'replaced', CLOSE_CODE.replaced, 'replaced by a newer socket with this peer id');
    }
    room = this.rooms.get(roomName);
    if (room === undefined) {
      room = { name: roomName, peers: new Map() };
      this.rooms.set(roomName, room);
    }
    if (connection.joinTimer !== null) clearTimeout(connection.joinTimer);
    connection.joinTimer = null;
    // The newcomer is in the room before anyone is told, and gets its list before any `joined` goes
    // out: a peer that a send below closes for backlog then reaches it as `left`, after the list.
    const others = [...room.peers.keys()];
    room.peers.set(peer, connection);
    connection.room = room;
    connection.peer = peer;
    assert(room.peers.size <= this.caps.peersPerRoomMax, 'room within its cap');
    assert(this.rooms.size <= this.caps.roomsMax, 'rooms within their cap');
    this.send(connection, encodeServerText(this.listOf(others)));
    const joined = encodeServerText({ type: 'joined', peer });
    for (const other of room.peers.values()) {
      if (other !== connection) this.send(other, joined);
    }
  }

  /**
   * The `list` for a joiner. While the relay is settling (within settlingMs of its start) the list
   * says how much of that grace is left: the room's peers that lived on through a relay restart
   * may still be in their reconnect backoff, so an empty list does not yet mean an empty room.
   */
  private listOf(others: readonly PeerId[]): ServerMessage {
    const leftMs = Math.ceil(this.startedAtMs + this.settlingMs - this.nowMs());
    if (leftMs < 1) return { type: 'list', peers: others };
    return { type: 'list', peers: others, settlingMs: Math.min(leftMs, this.settlingMs) };
  }

  /** Sends a frame; a recipient whose backlog passed its cap is closed instead (it reads too slowly). */
  private send(connection: Connection, frame: string | Uint8Array): void {
    if (connection.closing || connection.ws.readyState !== WebSocket.OPEN) return;
    if (connection.ws.bufferedAmount > this.caps.socketBufferedBytesMax) {
      this.closeConnection(connection, 'backlog', CLOSE_CODE.backlog, 'send backlog over its cap');
      return;
    }
    connection.ws.send(frame);
  }

  /** Closes one socket with a code and reason, counts why, and takes it out of its room at once. */
  closeConnection(connection: Connection, reason: CloseReason, code: number, text: string): void {
    if (connection.closing) return;
    this.forget(connection, reason);
    connection.ws.close(code, printable(text));
  }

  /** Marks a socket closing, counts why, leaves its room (announcing `left`) and stops its timer. */
  private forget(connection: Connection, reason: CloseReason): void {
    assert(!connection.closing, 'a socket is forgotten once');
    connection.closing = true;
    this.closed[reason] += 1;
    if (connection.joinTimer !== null) clearTimeout(connection.joinTimer);
    connection.joinTimer = null;
    const room = connection.room;
    const peer = connection.peer;
    connection.room = null;
    if (room === null || peer === null || room.peers.get(peer) !== connection) return;
    room.peers.delete(peer);
    if (room.peers.size === 0) {
      this.rooms.delete(room.name);
      return;
    }
    // A relay shutting down closes every socket: the peers did not leave, do not say they did
    // (peers act on `left`: a departed leader's successor campaigns at once).
    if (this.shuttingDown) return;
    const left = encodeServerText({ type: 'left', peer } satisfies ServerMessage);
    for (const other of room.peers.values()) this.send(other, left);
  }

  /** One liveness round: a socket with pongsMissedMax pings unanswered is cut; the rest are pinged. */
  private pingAll(): void {
    for (const connection of [...this.connections]) {
      if (connection.closing) continue;
      if (connection.pingsUnanswered >= this.caps.pongsMissedMax) {
        this.forget(connection, 'liveness');
        connection.ws.terminate();
        continue;
      }
      connection.pingsUnanswered += 1;
      connection.ws.ping();
    }
  }

  stats(): RelayStats {
    let peers = 0;
    for (const room of this.rooms.values()) peers += room.peers.size;
    return {
      rooms: this.rooms.size,
      peers,
      sockets: this.connections.size,
      forwarded: { ...this.forwarded },
      closed: { ...this.closed },
      dropped: { ...this.dropped },
    };
  }

  /** Closes every socket (1001), then cuts those that have not finished within CLOSE_GRACE_MS. */
  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    clearInterval(this.pingTimer);
    const sockets = [...this.connections];
    for (const connection of sockets) {
      if (!connection.closing) this.closeConnection(connection, 'shutdown', CLOSE_CODE.goingAway, 'relay shutting down');
    }
    await Promise.all(sockets.map((connection) => new Promise<void>((resolve) => {
      if (connection.ws.readyState === WebSocket.CLOSED) {
        resolve();
        return;
      }
      const timer = setTimeout(() => {
        connection.ws.terminate();
        resolve();
      }, CLOSE_GRACE_MS);
      connection.ws.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
    })));
  }
}

function urlOf(server: Server, path: string): string {
  const address = server.address();
  assert(address !== null && typeof address === 'object', 'relay http server is listening on TCP');
  const { address: host, port } = address satisfies AddressInfo;
  let shown = host;
  if (host === '0.0.0.0') shown = '127.0.0.1';
  else if (host === '::') shown = '[::1]';
  else if (host.includes(':')) shown = `[${host}]`;
  return `ws://${shown}:${port}${path}`;
}

function pathnameOf(request: IncomingMessage): string | null {
  try {
    return new URL(request.url ?? '/', 'http://relay.invalid').pathname;
  } catch {
    return null;
  }
}

function refuseUpgrade(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  socket.destroy();
}

/**
 * Takes WebSocket upgrades at `options.path` on an existing http server. Upgrades to other paths are
 * left to the server's other `upgrade` listeners (or refused with 404 when the relay is the only
 * one, so that no socket hangs). The server may be listening already or later; `url` reads its
 * address when asked.
 */
export function attachRelay(httpServer: Server, options: RelayOptions = {}): Relay {
  const { path = RELAY_PATH_DEFAULT, nowMs = () => performance.now(), settlingMs = RELAY_SETTLING_MS, ...overrides } = options;
  assert(path.startsWith('/'), 'relay path starts with /');
  const caps: RelayCaps = { ...RELAY_CAPS_DEFAULT };
  for (const [name, value] of Object.entries(overrides)) {
    if (value !== undefined) caps[name as keyof RelayCaps] = value as number;
  }
  validateCaps(caps);
  const core = new RelayCore(caps, nowMs, settlingMs);
  const wss = new WebSocketServer({ noServer: true, maxPayload: caps.messageBytesMax, perMessageDeflate: false, clientTracking: false });
  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    if (pathnameOf(request) !== path) {
      if (httpServer.listenerCount('upgrade') === 1) refuseUpgrade(socket, 404, 'Not Found');
      return;
    }
    if (!core.admit()) {
      refuseUpgrade(socket, 503, 'Service Unavailable');
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => core.accept(ws));
  };
  httpServer.on('upgrade', onUpgrade);
  let closing: Promise<void> | null = null;
  return {
    get url() {
      return urlOf(httpServer, path);
    },
    stats: () => core.stats(),
    close: () => {
      closing ??= (async () => {
        httpServer.off('upgrade', onUpgrade);
        await core.shutdown();
        await new Promise<void>((resolve) => wss.close(() => resolve()));
      })();
      return closing;
    },
  };
}

/** A standalone relay on its own http server (plain HTTP requests get 426 Upgrade Required). */
export async function startRelay(options: RelayOptions & { host: string; port: number }): Promise<StandaloneRelay> {
  const { host, port, ...relayOptions } = options;
  assert(Number.isInteger(port) && port >= 0 && port <= 65535, 'relay port in 0..65535');
  if (relayOptions.settlingMs !== undefined) validateSettlingMs(relayOptions.settlingMs);
  const httpServer = createServer((_request, response) => {
    response.writeHead(426, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' });
    response.end('meshkeeper relay: connect with a WebSocket\n');
  });
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(port, host, () => {
      httpServer.off('error', reject);
      resolve();
    });
  });
  const relay = attachRelay(httpServer, relayOptions);
  const address = httpServer.address() as AddressInfo;
  let closing: Promise<void> | null = null;
  return {
    url: relay.url,
    host: address.address,
    port: address.port,
    stats: () => relay.stats(),
    close: () => {
      closing ??= (async () => {
        await relay.close();
        httpServer.closeAllConnections();
        await new Promise<void>((resolve) => httpServer.close(() => resolve()));
      })();
      return closing;
    },
  };
}
