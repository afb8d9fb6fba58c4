/**
 * The relay client: `Signaling` (src/adapters/signaling.ts) over a WebSocket to the relay
 * (server.ts), for browsers (the global WebSocket) and Node (a constructor passed in, e.g. `ws`'s;
 * Node 20 has no stable global WebSocket). It joins the room on every connection, so the relay's
 * `list` after a reconnect reaches the mesh as a fresh `list` event.
 *
 * Bounded everywhere: reconnects back off exponentially with jitter up to a ceiling (bounded in
 * rate, not in number, see RELAY_CLIENT_BACKOFF_MAX_MS); sends while (re)connecting wait in a queue
 * capped in frames and bytes; sends beyond the queue, the client's own rate budget (half the
 * relay's, so the relay never closes us for rate) or the socket's backlog are dropped and counted.
 * The relay is untrusted too: every frame it sends is validated, and a bad one is dropped, counted.
 *
 * Browser-safe: no Node imports here or in what it imports (Vite bundles it).
 */

import type { PeerId } from '../core/consensus/index.js';
import { utf8ByteLength } from '../core/codec/writer.js';
import type { RoomEvent, Signaling } from '../adapters/signaling.js';
import {
  CLOSE_CODE,
  RELAY_CLIENT_BACKOFF_INITIAL_MS,
  RELAY_CLIENT_BACKOFF_MAX_MS,
  RELAY_CLIENT_BUFFERED_BYTES_MAX,
  RELAY_CLIENT_CONNECT_TIMEOUT_MS,
  RELAY_CLIENT_MESSAGES_BURST,
  RELAY_CLIENT_MESSAGES_PER_SECOND,
  RELAY_CLIENT_PING_INTERVAL_MS,
  RELAY_CLIENT_PINGS_MISSED_MAX,
  RELAY_CLIENT_QUEUE_BYTES_MAX,
  RELAY_CLIENT_QUEUE_MESSAGES_MAX,
  RELAY_FALLBACK_BYTES_PER_MESSAGE_MAX,
  RELAY_MESSAGE_BYTES_MAX,
} from './constants.js';
import {
  decodeRelayed,
  decodeServerText,
  encodeClientText,
  encodeRelayed,
  isJsonData,
  isPeerId,
  isRoomName,
  type ServerMessage,
} from './protocol.js';
import { TokenBucket } from './token-bucket.js';

/**
 * What the client needs of a WebSocket: the common part of the browser's and `ws`'s. Handlers take
 * `never` because the two declare different event classes; ours take `unknown` and guard each field
 * they read, so either fits without a cast.
 */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  readonly bufferedAmount: number;
  onopen: ((event: never) => void) | null;
  onmessage: ((event: never) => void) | null;
  onclose: ((event: never) => void) | null;
  onerror: ((event: never) => void) | null;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** WebSocket.OPEN in both the browser and `ws`. */
const READY_STATE_OPEN = 1;

/** Backoff doublings stop here (2^20 x the initial delay is far past any ceiling). */
const BACKOFF_DOUBLINGS_MAX = 20;

/** Close codes after which reconnecting cannot help (see CLOSE_CODE). */
const FATAL_CLOSE_CODES: ReadonlySet<number> = new Set([CLOSE_CODE.malformed, CLOSE_CODE.version, CLOSE_CODE.replaced]);

export interface RelaySignalingOptions {
  /** ws:// or wss:// URL of the relay, e.g. `ws://127.0.0.1:8787/relay`. */
  url: string;
  room: string;
  self: PeerId;
  /** The WebSocket class: required in Node 20 (`import { WebSocket } from 'ws'`); the global one
   *  by default. */
  WebSocket?: WebSocketConstructor;
  /** Jitter source in [0, 1); Math.random by default (tests may pin it). */
  random?: () => number;
  /** Monotonic milliseconds for the send budget and liveness; performance.now by default. */
  nowMs?: () => number;
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  pingIntervalMs?: number;
  pingsMissedMax?: number;
  connectTimeoutMs?: number;
  queueMessagesMax?: number;
  queueBytesMax?: number;
  messagesPerSecond?: number;
  messagesBurst?: number;
  bufferedBytesMax?: number;
  messageBytesMax?: number;
}

export type RelayClientState = 'idle' | 'connecting' | 'open' | 'joined' | 'waiting' | 'stopped';

/** Why a send or a received frame was dropped. */
export type ClientDropReason = 'queue-full' | 'rate' | 'backlog' | 'oversize' | 'invalid' | 'malformed';

export interface RelayClientStats {
  state: RelayClientState;
  /** Connections opened (the first one included). */
  connects: number;
  /** Times the room was joined (a `list` arrived). */
  joins: number;
  queued: number;
  dropped: Record<ClientDropReason, number>;
  /** The relay's last close code and reason, if it closed us. */
  lastClose: { code: number; reason: string } | null;
}

interface Queued {
  readonly frame: string | Uint8Array;
  readonly bytes: number;
}

function ignore(): void {
  // Handler of a socket we are done with.
}

const invalidData = Symbol('invalid signal data');

/**
 * `data` as the relay will carry it: through JSON, as the contract says signals are JSON-safe
 * (undefined properties vanish, toJSON applies, as in MemorySignalingHub). Cycles, BigInt and
 * nesting deep enough to exhaust the stack make JSON.stringify throw: that value is invalid.
 */
function jsonCopy(data: unknown): unknown {
  try {
    const text = JSON.stringify(data);
    return text === undefined ? invalidData : (JSON.parse(text) as unknown);
  } catch {
    return invalidData;
  }
}

function field(event: unknown, name: string): unknown {
  return typeof event === 'object' && event !== null ? (event as Record<string, unknown>)[name] : undefined;
}

function positive(value: number, name: string): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`relay client: ${name} must be positive, got ${value}`);
  return value;
}

export class RelaySignaling implements Signaling {
  readonly self: PeerId;
  readonly room: string;
  private readonly url: string;
  private readonly WebSocketClass: WebSocketConstructor;
  private readonly random: () => number;
  private readonly nowMs: () => number;
  private readonly limits: Required<Omit<RelaySignalingOptions, 'url' | 'room' | 'self' | 'WebSocket' | 'random' | 'nowMs'>>;
  private readonly budget: TokenBucket;

  private roomHandler: ((event: RoomEvent) => void) | null = null;
  private signalHandler: ((from: PeerId, data: unknown) => void) | null = null;
  private relayedHandler: ((from: PeerId, bytes: Uint8Array) => void) | null = null;

  private state: RelayClientState = 'idle';
  private socket: WebSocketLike | null = null;
  private attempt = 0;
  private lastReceivedMs = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private connectTimer: ReturnType<typeof setTimeout> | null = null;
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private queue: Queued[] = [];
  private queueBytes = 0;
  private connects = 0;
  private joins = 0;
  private lastClose: { code: number; reason: string } | null = null;
  private readonly dropped: Record<ClientDropReason, number> = { 'queue-full': 0, rate: 0, backlog: 0, oversize: 0, invalid: 0, malformed: 0 };

  constructor(options: RelaySignalingOptions) {
    if (!isRoomName(options.room)) throw new RangeError(`relay client: bad room name ${JSON.stringify(options.room)} (1-128 of A-Z a-z 0-9 . _ : ~ -)`);
    if (!isPeerId(options.self)) throw new RangeError(`relay client: bad peer id ${JSON.stringify(options.self)} (1-64 of A-Z a-z 0-9 . _ : ~ -)`);
    if (!/^wss?:\/\//.test(options.url)) throw new RangeError(`relay client: url must be ws:// or wss://, got ${JSON.stringify(options.url)}`);
    const WebSocketClass = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (WebSocketClass === undefined) throw new TypeError("relay client: no global WebSocket here; pass options.WebSocket (e.g. WebSocket from 'ws')");
    this.self = options.self;
    this.room = options.room;
    this.url = options.url;
    this.WebSocketClass = WebSocketClass;
    this.random = options.random ?? Math.random;
    this.nowMs = options.nowMs ?? (() => performance.now());
    this.limits = {
      backoffInitialMs: positive(options.backoffInitialMs ?? RELAY_CLIENT_BACKOFF_INITIAL_MS, 'backoffInitialMs'),
      backoffMaxMs: positive(options.backoffMaxMs ?? RELAY_CLIENT_BACKOFF_MAX_MS, 'backoffMaxMs'),
      pingIntervalMs: positive(options.pingIntervalMs ?? RELAY_CLIENT_PING_INTERVAL_MS, 'pingIntervalMs'),
      pingsMissedMax: positive(options.pingsMissedMax ?? RELAY_CLIENT_PINGS_MISSED_MAX, 'pingsMissedMax'),
      connectTimeoutMs: positive(options.connectTimeoutMs ?? RELAY_CLIENT_CONNECT_TIMEOUT_MS, 'connectTimeoutMs'),
      queueMessagesMax: positive(options.queueMessagesMax ?? RELAY_CLIENT_QUEUE_MESSAGES_MAX, 'queueMessagesMax'),
      queueBytesMax: positive(options.queueBytesMax ?? RELAY_CLIENT_QUEUE_BYTES_MAX, 'queueBytesMax'),
      messagesPerSecond: positive(options.messagesPerSecond ?? RELAY_CLIENT_MESSAGES_PER_SECOND, 'messagesPerSecond'),
      messagesBurst: positive(options.messagesBurst ?? RELAY_CLIENT_MESSAGES_BURST, 'messagesBurst'),
      bufferedBytesMax: positive(options.bufferedBytesMax ?? RELAY_CLIENT_BUFFERED_BYTES_MAX, 'bufferedBytesMax'),
      messageBytesMax: positive(options.messageBytesMax ?? RELAY_MESSAGE_BYTES_MAX, 'messageBytesMax'),
    };
    this.budget = new TokenBucket(this.limits.messagesPerSecond, this.limits.messagesBurst, this.nowMs());
  }

  onRoomEvent(handler: (event: RoomEvent) => void): void {
    this.roomHandler = handler;
  }

  onSignal(handler: (from: PeerId, data: unknown) => void): void {
    this.signalHandler = handler;
  }

  onRelayed(handler: (from: PeerId, bytes: Uint8Array) => void): void {
    this.relayedHandler = handler;
  }

  /** Connects and joins; a second call, or one after close(), does nothing. */
  start(): void {
    if (this.state !== 'idle') return;
    this.connect();
  }

  sendSignal(to: PeerId, data: unknown): void {
    if (this.state === 'stopped') return;
    const copy = isPeerId(to) ? jsonCopy(data) : invalidData;
    if (copy === invalidData || !isJsonData(copy)) {
      this.dropped.invalid += 1;
      return;
    }
    const frame = encodeClientText({ type: 'signal', to, data: copy });
    this.submit(frame, utf8ByteLength(frame));
  }

  sendRelayed(to: PeerId, bytes: Uint8Array): void {
    if (this.state === 'stopped') return;
    if (!isPeerId(to) || !(bytes instanceof Uint8Array)) {
      this.dropped.invalid += 1;
      return;
    }
    if (bytes.length > RELAY_FALLBACK_BYTES_PER_MESSAGE_MAX) {
      this.dropped.oversize += 1;
      return;
    }
    const frame = encodeRelayed({ peer: to, bytes });
    this.submit(frame, frame.length);
  }

  /** Leaves the room (a `leave` frame when connected) and stops for good. */
  close(): void {
    if (this.state === 'stopped') return;
    const socket = this.socket;
    if (socket !== null && socket.readyState === READY_STATE_OPEN) {
      socket.send(encodeClientText({ type: 'leave' }));
    }
    this.stop();
    this.roomHandler = null;
    this.signalHandler = null;
    this.relayedHandler = null;
  }

  stats(): RelayClientStats {
    return {
      state: this.state,
      connects: this.connects,
      joins: this.joins,
      queued: this.queue.length,
      dropped: { ...this.dropped },
      lastClose: this.lastClose === null ? null : { ...this.lastClose },
    };
  }

  // --- Sending ---------------------------------------------------------------------------------

  private submit(frame: string | Uint8Array, bytes: number): void {
    if (bytes > this.limits.messageBytesMax) {
      this.dropped.oversize += 1;
      return;
    }
    if (this.state === 'open' || this.state === 'joined') {
      this.transmit(frame);
      return;
    }
    if (this.queue.length >= this.limits.queueMessagesMax || this.queueBytes + bytes > this.limits.queueBytesMax) {
      this.dropped['queue-full'] += 1;
      return;
    }
    this.queue.push({ frame, bytes });
    this.queueBytes += bytes;
  }

  /** Puts one frame on the open socket, unless it is over the send budget or the backlog cap. */
  private transmit(frame: string | Uint8Array): void {
    const socket = this.socket;
    if (socket === null || socket.readyState !== READY_STATE_OPEN) return;
    if (!this.budget.take(this.nowMs())) {
      this.dropped.rate += 1;
      return;
    }
    if (socket.bufferedAmount > this.limits.bufferedBytesMax) {
      this.dropped.backlog += 1;
      return;
    }
    socket.send(frame);
  }

  // --- Connection lifecycle --------------------------------------------------------------------

  private connect(): void {
    this.state = 'connecting';
    let socket: WebSocketLike;
    try {
      socket = new this.WebSocketClass(this.url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    this.connects += 1;
    socket.binaryType = 'arraybuffer';
    socket.onopen = () => this.onOpen(socket);
    socket.onmessage = (event: unknown) => this.onMessage(socket, event);
    socket.onclose = (event: unknown) => this.onClose(socket, event);
    socket.onerror = () => {
      // A close event follows every error; reconnecting happens there.
    };
    this.connectTimer = setTimeout(() => {
      this.connectTimer = null;
      if (this.socket === socket && this.state !== 'joined') this.abandon(socket);
    }, this.limits.connectTimeoutMs);
  }

  private onOpen(socket: WebSocketLike): void {
    if (this.socket !== socket) return;
    this.state = 'open';
    this.lastReceivedMs = this.nowMs();
    // The join goes first: the relay reads a socket's frames in order, so what follows it may be
    // sent at once (the relay refuses anything before a join).
    socket.send(encodeClientText({ type: 'join', room: this.room, peer: this.self }));
    const queued = this.queue;
    this.queue = [];
    this.queueBytes = 0;
    for (const item of queued) this.transmit(item.frame);
    this.pingTimer = setInterval(() => this.checkLiveness(socket), this.limits.pingIntervalMs);
  }

  private checkLiveness(socket: WebSocketLike): void {
    if (this.socket !== socket) return;
    if (this.nowMs() - this.lastReceivedMs > this.limits.pingIntervalMs * this.limits.pingsMissedMax) {
      this.abandon(socket);
      return;
    }
    this.transmit(encodeClientText({ type: 'ping' }));
  }

  private onMessage(socket: WebSocketLike, event: unknown): void {
    if (this.socket !== socket) return;
    this.lastReceivedMs = this.nowMs();
    const data = field(event, 'data');
    if (data instanceof ArrayBuffer) {
      const parsed = decodeRelayed(new Uint8Array(data));
      if (!parsed.ok) {
        this.dropped.malformed += 1;
        return;
      }
      this.relayedHandler?.(parsed.value.peer, parsed.value.bytes);
      return;
    }
    const parsed = decodeServerText(data);
    if (!parsed.ok) {
      this.dropped.malformed += 1;
      return;
    }
    this.onServerMessage(parsed.value);
  }

  private onServerMessage(message: ServerMessage): void {
    switch (message.type) {
      case 'list':
        if (message.peers.includes(this.self)) {
          this.dropped.malformed += 1;
          return;
        }
        this.state = 'joined';
        this.attempt = 0;
        this.joins += 1;
        if (this.connectTimer !== null) clearTimeout(this.connectTimer);
        this.connectTimer = null;
        this.roomHandler?.(message.settlingMs === undefined ? { type: 'list', peers: message.peers } : { type: 'list', peers: message.peers, settlingMs: message.settlingMs });
        return;
      case 'joined':
      case 'left':
        if (message.peer === this.self) {
          this.dropped.malformed += 1;
          return;
        }
        this.roomHandler?.({ type: message.type, peer: message.peer });
        return;
      case 'signal':
        this.signalHandler?.(message.from, message.data);
        return;
      case 'pong':
        return;
    }
  }

  private onClose(socket: WebSocketLike, event: unknown): void {
    if (this.socket !== socket) return;
    const code = field(event, 'code');
    const reason = field(event, 'reason');
    this.lastClose = { code: typeof code === 'number' ? code : 0, reason: typeof reason === 'string' ? reason.slice(0, 123) : '' };
    this.detach();
    if (FATAL_CLOSE_CODES.has(this.lastClose.code)) {
      this.state = 'stopped';
      return;
    }
    this.scheduleReconnect();
  }

  /** Gives up on a socket that is not answering (no close handshake awaited) and reconnects. */
  private abandon(socket: WebSocketLike): void {
    this.detach();
    try {
      socket.close();
    } catch {
      // Already closing: nothing more to do with it.
    }
    this.scheduleReconnect();
  }

  /** Forgets the current socket: its handlers do nothing from now on, its timers stop. */
  private detach(): void {
    const socket = this.socket;
    this.socket = null;
    if (socket !== null) {
      // No-ops rather than null: `ws` throws an 'error' emitted with no listener (e.g. closing a
      // socket that is still connecting), which would escape into the event loop.
      socket.onopen = ignore;
      socket.onmessage = ignore;
      socket.onclose = ignore;
      socket.onerror = ignore;
    }
    if (this.pingTimer !== null) clearInterval(this.pingTimer);
    this.pingTimer = null;
    if (this.connectTimer !== null) clearTimeout(this.connectTimer);
    this.connectTimer = null;
  }

  /** Equal jitter: half the capped exponential delay, plus a random part of the other half. */
  private scheduleReconnect(): void {
    if (this.state === 'stopped') return;
    this.state = 'waiting';
    const doublings = Math.min(this.attempt, BACKOFF_DOUBLINGS_MAX);
    const ceiling = Math.min(this.limits.backoffMaxMs, this.limits.backoffInitialMs * 2 ** doublings);
    const delayMs = ceiling / 2 + this.random() * (ceiling / 2);
    this.attempt += 1;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (this.state === 'waiting') this.connect();
    }, delayMs);
  }

  private stop(): void {
    const socket = this.socket;
    this.detach();
    if (socket !== null) {
      try {
        socket.close(CLOSE_CODE.normal, 'left');
      } catch {
        // Already closing.
      }
    }
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.queue = [];
    this.queueBytes = 0;
    this.state = 'stopped';
  }
}
