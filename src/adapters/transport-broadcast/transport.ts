/**
 * BroadcastTransport: the peer runtime's RoomTransport over BroadcastChannel, for the tabs of one
 * browser profile (DESIGN.md "Transport and relay": without a relay URL, a browser ensemble is the
 * tabs of one profile). No server at all: the browser carries every message between the tabs of
 * one origin, in order per sender, by structured clone.
 *
 *  - One channel per room, `meshkeeper:<room>`. Every message is an envelope (a small header: the
 *    protocol version, a kind, `from`, `to` for data, the room's secret tag) around the payload
 *    bytes. Every tab sees every envelope; a data envelope addressed to another peer is ignored
 *    (counted in `ignored`). Per-pair order holds: one channel object per transport, and the
 *    browser delivers one sender's messages in posting order.
 *  - Membership: `hello` when the transport opens (everyone answers `here` at once), `beat` every
 *    HEARTBEAT_INTERVAL_MS, `bye` on close and on `pagehide`. A peer heard from neither by beat nor
 *    by any message for SILENCE_LIMIT_MS has left (a crashed or frozen tab). `bye` is the last
 *    thing a transport sends: after its pagehide bye it sends nothing more (`departing`) until a
 *    pageshow from the back/forward cache says hello again. That matters: the runtime confirms a
 *    departure only if the peer then stays silent (Peer.roomChanged), and a closing page keeps
 *    running for a moment — were it still sending, its departure would be taken for a blip and
 *    its sessions would wait out their timeout. So whatever a closing page must send (the
 *    runtime's leaving notices, Peer.leaveNow) goes before the transport's own pagehide handler
 *    (the platform's handler is installed first) or through close(). Envelopes that arrive after
 *    a bye are still delivered, but only a new `hello` revives the peer's membership.
 *  - Room events, as the relay gives them (signaling.ts's RoomEvent): the first `list` after the
 *    DISCOVERY_WINDOW_MS that follows the hello, then `joined` / `left`. The list also includes the
 *    peers holding a presence Web Lock (`meshkeeper:<room>:peer:<tag>:<id>`, held while a transport
 *    is open) even if they did not answer in time: a fresh tab must never miss a live member and
 *    bootstrap a second ensemble (platform/browser.ts also serializes that decision with the
 *    `meshkeeper:<room>:bootstrap` lock). Without Web Locks (Node, tests) the list is who answered.
 *  - Bounds: a payload over WIRE_MESSAGE_BYTES_MAX is refused on send and dropped on receipt; ids,
 *    kinds and fields are validated; anything malformed is dropped and counted, nothing a tab posts
 *    can make the transport throw. At most BROADCAST_PEERS_MAX peers are tracked. There is no send
 *    queue of ours: postMessage hands the clone to the browser at once (Raft paces itself).
 *  - Room secret: envelopes carry a tag derived from the room and the secret (SHA-256, not the
 *    secret), and envelopes with another tag are dropped (`other-secret`): tabs that join one room
 *    name with different secrets form separate ensembles that never see each other. There is no
 *    per-message HMAC and no challenge, on purpose: a BroadcastChannel reaches only the same
 *    origin's pages in the same profile (one storage partition), and any code that can post on it
 *    can equally read and write the peers' IndexedDB replicas and run in their pages — no tag can
 *    keep out a party that holds everything the tag would protect. Over a relay, where other
 *    devices take part, the WebRTC mesh's admission (HMAC proofs bound to DTLS) does the real work.
 *
 * Browser-safe; runs in Node 20 too (it has BroadcastChannel), which the unit tests use.
 */

import type { PeerId } from '../../core/consensus/index.js';
import { RealClock } from '../../peer/clock-real.js';
import type { Cancel, Clock } from '../../peer/interfaces.js';
import type { RoomTransport } from '../../peer/networked.js';
import type { RoomEvent } from '../signaling.js';
import {
  BROADCAST_MESSAGE_BYTES_MAX,
  BROADCAST_PEER_ID_CHARS_MAX,
  BROADCAST_PEERS_MAX,
  BROADCAST_PROTOCOL_VERSION,
  channelName,
  DISCOVERY_WINDOW_MS,
  HEARTBEAT_INTERVAL_MS,
  LIST_LISTENERS_MAX,
  PRESENCE_GRANT_WAIT_MS,
  presenceLockPrefix,
  SILENCE_LIMIT_MS,
} from './constants.js';

/** What the transport uses of a BroadcastChannel. */
export interface ChannelLike {
  postMessage(message: unknown): void;
  close(): void;
  onmessage: ((event: MessageEvent) => unknown) | null;
  onmessageerror: ((event: MessageEvent) => unknown) | null;
}

export type ChannelConstructor = new (name: string) => ChannelLike;

/** What the transport uses of navigator.locks. */
export interface LocksLike {
  request(name: string, options: { signal?: AbortSignal }, callback: () => Promise<void>): Promise<unknown>;
  query(): Promise<{ held?: { name?: string }[] }>;
}

/** Where pagehide / pageshow come from (the window). */
export interface LifecycleTarget {
  addEventListener(type: 'pagehide' | 'pageshow', listener: (event: Event) => void): void;
  removeEventListener(type: 'pagehide' | 'pageshow', listener: (event: Event) => void): void;
}

export interface BroadcastTiming {
  readonly heartbeatIntervalMs: number;
  readonly silenceLimitMs: number;
  readonly discoveryWindowMs: number;
}

export const DEFAULT_BROADCAST_TIMING: BroadcastTiming = Object.freeze({
  heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS,
  silenceLimitMs: SILENCE_LIMIT_MS,
  discoveryWindowMs: DISCOVERY_WINDOW_MS,
});

export interface BroadcastTransportOptions {
  readonly room: string;
  readonly self: PeerId;
  /** The room secret: tabs with another secret (or none) are not seen (see the file comment). */
  readonly secret?: string;
  readonly clock?: Clock;
  /** Default: globalThis.BroadcastChannel. */
  readonly BroadcastChannel?: ChannelConstructor;
  /** Default: navigator.locks when present; null: no presence locks. */
  readonly locks?: LocksLike | null;
  /** Default: globalThis when it has `onpagehide` (a window); null: none. */
  readonly lifecycle?: LifecycleTarget | null;
  readonly timing?: Partial<BroadcastTiming>;
}

export const BROADCAST_DROP_REASONS = [
  /** send(): larger than WIRE_MESSAGE_BYTES_MAX. */
  'oversize',
  /** send(): the peer is not in the room (never heard, or gone). */
  'unknown-peer',
  /** send() after close(). */
  'closed',
  /** send() after pagehide said bye (until a pageshow from the back/forward cache says hello). */
  'departing',
  /** postMessage threw (the channel was closed under us). */
  'post-failed',
  /** Received: not a well-formed envelope of this protocol version (or it failed to deserialize). */
  'malformed',
  /** Received: another secret's (or another protocol's) tag. */
  'other-secret',
  /** Received: an envelope claiming this transport's own id (a duplicate peer id). */
  'duplicate-id',
  /** Received: from a new peer while BROADCAST_PEERS_MAX are tracked. */
  'too-many-peers',
] as const;

export type BroadcastDropReason = (typeof BROADCAST_DROP_REASONS)[number];

export interface BroadcastTransportStats {
  messagesSent: number;
  messagesDelivered: number;
  bytesSent: number;
  bytesDelivered: number;
  /** Data envelopes for other peers (every tab sees every envelope). */
  ignored: number;
  hellosSent: number;
  heartbeatsSent: number;
  joined: number;
  /** Peers that said bye. */
  left: number;
  /** Peers dropped by SILENCE_LIMIT_MS. */
  silent: number;
  /** Peers listed from their presence lock without having answered the hello in time. */
  listedByLock: number;
  dropped: Record<BroadcastDropReason, number>;
}

type Kind = 'hello' | 'here' | 'beat' | 'bye' | 'msg';
const KINDS: ReadonlySet<string> = new Set<Kind>(['hello', 'here', 'beat', 'bye', 'msg']);

interface Envelope {
  readonly v: number;
  readonly k: Kind;
  readonly tag: string;
  readonly from: PeerId;
  readonly to?: PeerId;
  readonly data?: Uint8Array;
}

const TAG_DOMAIN = 'meshkeeper/broadcast/v1';
/** Bytes of the SHA-256 kept as the secret tag: 64 bits tell secrets apart; it is not a MAC. */
const TAG_BYTES = 8;

/** The room's secret tag (hex): SHA-256 over the domain, the room and the secret, each length-
 *  prefixed so fields cannot slide into each other; "no secret" differs from every secret. */
export async function secretTag(room: string, secret: string | undefined): Promise<string> {
  const encoder = new TextEncoder();
  const parts = [TAG_DOMAIN, room, secret === undefined ? 'open' : 'secret', secret ?? ''].map((part) => encoder.encode(part));
  const bytes = new Uint8Array(parts.reduce((sum, part) => sum + 4 + part.length, 0));
  const view = new DataView(bytes.buffer);
  let offset = 0;
  for (const part of parts) {
    view.setUint32(offset, part.length);
    bytes.set(part, offset + 4);
    offset += 4 + part.length;
  }
  const digest = new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', bytes));
  return [...digest.subarray(0, TAG_BYTES)].map((byte) => byte.toString(16).padStart(2, '0')).join('');
}

function validId(value: unknown): value is PeerId {
  return typeof value === 'string' && value.length >= 1 && value.length <= BROADCAST_PEER_ID_CHARS_MAX;
}

/** The envelope, or null when it is not one this protocol version would send. */
function parseEnvelope(value: unknown): Envelope | null {
  if (typeof value !== 'object' || value === null) return null;
  const record = value as Record<string, unknown>;
  if (record.v !== BROADCAST_PROTOCOL_VERSION || typeof record.k !== 'string' || !KINDS.has(record.k)) return null;
  if (typeof record.tag !== 'string' || !validId(record.from)) return null;
  const kind = record.k as Kind;
  if (kind !== 'msg') return { v: record.v, k: kind, tag: record.tag, from: record.from, ...(validId(record.to) ? { to: record.to } : {}) };
  if (!validId(record.to) || !(record.data instanceof Uint8Array) || record.data.length > BROADCAST_MESSAGE_BYTES_MAX) return null;
  return { v: record.v, k: kind, tag: record.tag, from: record.from, to: record.to, data: record.data };
}

function defaultLocks(): LocksLike | null {
  const locks = (globalThis as { navigator?: { locks?: LocksLike } }).navigator?.locks;
  return locks ?? null;
}

function defaultLifecycle(): LifecycleTarget | null {
  return 'onpagehide' in globalThis ? (globalThis as unknown as LifecycleTarget) : null;
}

export class BroadcastTransport implements RoomTransport {
  readonly self: PeerId;
  readonly room: string;
  private readonly tag: string;
  private readonly clock: Clock;
  private readonly timing: BroadcastTiming;
  private readonly channel: ChannelLike;
  private readonly locks: LocksLike | null;
  private readonly lifecycle: LifecycleTarget | null;
  /** Peers in the room, with when they were last heard from. */
  private readonly members = new Map<PeerId, number>();
  /** Peers that said bye: revived only by a hello. Insertion-ordered, bounded. */
  private readonly gone = new Set<PeerId>();
  private handler: ((from: PeerId, bytes: Uint8Array) => void) | null = null;
  private readonly listListeners: ((peers: readonly PeerId[]) => void)[] = [];
  private readonly changeListeners = new Set<(event: RoomEvent) => void>();
  private listed = false;
  private closed = false;
  /** After pagehide: bye said, no beats until pageshow says hello again. */
  private departing = false;
  private heartbeatCancel: Cancel | null = null;
  private discoveryCancel: Cancel | null = null;
  private releasePresence: (() => void) | null = null;
  private readonly counters: BroadcastTransportStats = {
    messagesSent: 0,
    messagesDelivered: 0,
    bytesSent: 0,
    bytesDelivered: 0,
    ignored: 0,
    hellosSent: 0,
    heartbeatsSent: 0,
    joined: 0,
    left: 0,
    silent: 0,
    listedByLock: 0,
    dropped: Object.fromEntries(BROADCAST_DROP_REASONS.map((reason) => [reason, 0])) as Record<BroadcastDropReason, number>,
  };
  private readonly onPageHide = (): void => {
    if (this.closed || this.departing) return;
    this.departing = true;
    this.post({ v: BROADCAST_PROTOCOL_VERSION, k: 'bye', tag: this.tag, from: this.self });
  };
  private readonly onPageShow = (event: Event): void => {
    if (this.closed || !this.departing || !(event as PageTransitionEvent).persisted) return;
    this.departing = false; // back from the back/forward cache: say hello again
    this.hello();
  };

  /** Opens the channel, takes the presence lock and says hello; the room list follows after the
   *  discovery window (whenListed). Rejects when the presence lock stays held by another
   *  transport of the same id past PRESENCE_GRANT_WAIT_MS. */
  static async open(options: BroadcastTransportOptions): Promise<BroadcastTransport> {
    const tag = await secretTag(options.room, options.secret);
    const transport = new BroadcastTransport(options, tag);
    try {
      await transport.holdPresence();
    } catch (error) {
      transport.close();
      throw error;
    }
    transport.start();
    return transport;
  }

  private constructor(options: BroadcastTransportOptions, tag: string) {
    this.self = options.self;
    this.room = options.room;
    this.tag = tag;
    this.clock = options.clock ?? new RealClock();
    this.timing = { ...DEFAULT_BROADCAST_TIMING, ...options.timing };
    const Channel = options.BroadcastChannel ?? (globalThis as { BroadcastChannel?: ChannelConstructor }).BroadcastChannel;
    if (Channel === undefined) throw new Error('BroadcastChannel is not available here');
    this.channel = new Channel(channelName(options.room));
    this.locks = options.locks === undefined ? defaultLocks() : options.locks;
    this.lifecycle = options.lifecycle === undefined ? defaultLifecycle() : options.lifecycle;
    this.channel.onmessage = (event) => this.receive(event.data);
    this.channel.onmessageerror = () => void this.counters.dropped.malformed++;
  }

  // --- Transport ------------------------------------------------------------------------------

  onMessage(handler: (from: PeerId, bytes: Uint8Array) => void): void {
    this.handler = handler;
  }

  /** Best effort: never throws; every drop is counted. A message to `self` is delivered to this
   *  transport's handler in a microtask (as the WebRTC mesh does). */
  send(to: PeerId, bytes: Uint8Array): void {
    if (this.closed) return this.drop('closed');
    if (this.departing) return this.drop('departing');
    if (bytes.length > BROADCAST_MESSAGE_BYTES_MAX) return this.drop('oversize');
    if (to === this.self) return this.sendToSelf(bytes);
    if (!this.members.has(to)) return this.drop('unknown-peer');
    // Structured clone copies a view's WHOLE buffer: send exactly the message's bytes.
    const data = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
    if (!this.post({ v: BROADCAST_PROTOCOL_VERSION, k: 'msg', tag: this.tag, from: this.self, to, data })) return;
    this.counters.messagesSent += 1;
    this.counters.bytesSent += bytes.length;
  }

  // --- RoomTransport --------------------------------------------------------------------------

  whenListed(listener: (peers: readonly PeerId[]) => void): void {
    if (this.listed) return listener(this.roomPeers());
    if (this.listListeners.length >= LIST_LISTENERS_MAX) throw new Error(`BroadcastTransport: more than ${LIST_LISTENERS_MAX} waiting for the room list`);
    this.listListeners.push(listener);
  }

  roomPeers(): PeerId[] {
    return [...this.members.keys()].sort();
  }

  /** Room events after the first list is out (the list itself, joined, left); returns an
   *  unsubscribe function. */
  onRoomChange(listener: (event: RoomEvent) => void): () => void {
    if (this.changeListeners.size >= LIST_LISTENERS_MAX) throw new Error(`BroadcastTransport: more than ${LIST_LISTENERS_MAX} room listeners`);
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  /** Says bye, closes the channel and lets the presence lock go. Idempotent. */
  close(): void {
    if (this.closed) return;
    if (!this.departing) this.post({ v: BROADCAST_PROTOCOL_VERSION, k: 'bye', tag: this.tag, from: this.self });
    this.closed = true;
    this.heartbeatCancel?.();
    this.discoveryCancel?.();
    this.heartbeatCancel = null;
    this.discoveryCancel = null;
    this.channel.onmessage = null;
    this.channel.onmessageerror = null;
    this.channel.close();
    this.releasePresence?.();
    this.releasePresence = null;
    this.lifecycle?.removeEventListener('pagehide', this.onPageHide);
    this.lifecycle?.removeEventListener('pageshow', this.onPageShow);
    this.listListeners.length = 0;
    this.changeListeners.clear();
  }

  // --- Extras ---------------------------------------------------------------------------------

  get isListed(): boolean {
    return this.listed;
  }

  stats(): BroadcastTransportStats {
    return { ...this.counters, dropped: { ...this.counters.dropped } };
  }

  /** Drops counted, for one reason or in total. */
  drops(reason?: BroadcastDropReason): number {
    if (reason !== undefined) return this.counters.dropped[reason];
    return Object.values(this.counters.dropped).reduce((sum, count) => sum + count, 0);
  }

  // --- Inside ---------------------------------------------------------------------------------

  private async holdPresence(): Promise<void> {
    const locks = this.locks;
    if (locks === null) return;
    const name = presenceLockPrefix(this.room, this.tag) + this.self;
    const abort = new AbortController();
    const granted = await new Promise<boolean>((resolve) => {
      const cancel = this.clock.after(PRESENCE_GRANT_WAIT_MS, () => resolve(false));
      locks
        .request(name, { signal: abort.signal }, () => {
          cancel();
          resolve(true);
          return new Promise<void>((release) => {
            if (this.closed) return release();
            this.releasePresence = release;
          });
        })
        .catch(() => resolve(false));
    });
    if (!granted) {
      abort.abort();
      throw new Error(`peer id ${this.self} is in use in room ${this.room} (its presence lock stayed held for ${PRESENCE_GRANT_WAIT_MS} ms)`);
    }
  }

  private start(): void {
    this.lifecycle?.addEventListener('pagehide', this.onPageHide);
    this.lifecycle?.addEventListener('pageshow', this.onPageShow);
    this.hello();
    this.discoveryCancel = this.clock.after(this.timing.discoveryWindowMs, () => {
      this.discoveryCancel = null;
      void this.finishDiscovery();
    });
    this.scheduleHeartbeat();
  }

  private hello(): void {
    if (this.post({ v: BROADCAST_PROTOCOL_VERSION, k: 'hello', tag: this.tag, from: this.self })) this.counters.hellosSent += 1;
  }

  private async finishDiscovery(): Promise<void> {
    if (this.locks !== null) {
      const prefix = presenceLockPrefix(this.room, this.tag);
      // A failed query leaves the list to who answered.
      const held = await this.locks.query().then(
        (snapshot) => snapshot.held ?? [],
        () => [],
      );
      if (this.closed) return;
      for (const lock of held) {
        const id = lock.name?.startsWith(prefix) === true ? lock.name.slice(prefix.length) : null;
        if (id === null || !validId(id) || id === this.self || this.gone.has(id) || this.members.has(id)) continue;
        if (this.hear(id)) this.counters.listedByLock += 1;
      }
    }
    if (this.closed) return;
    this.listed = true;
    const peers = this.roomPeers();
    this.emit({ type: 'list', peers });
    for (const listener of this.listListeners.splice(0)) listener(peers);
  }

  private scheduleHeartbeat(): void {
    this.heartbeatCancel = this.clock.after(this.timing.heartbeatIntervalMs, () => {
      this.heartbeatCancel = null;
      if (this.closed) return;
      if (!this.departing && this.post({ v: BROADCAST_PROTOCOL_VERSION, k: 'beat', tag: this.tag, from: this.self })) this.counters.heartbeatsSent += 1;
      const now = this.clock.now();
      for (const [peer, heardAt] of [...this.members]) {
        if (now - heardAt <= this.timing.silenceLimitMs) continue;
        this.counters.silent += 1;
        this.remove(peer);
      }
      this.scheduleHeartbeat();
    });
  }

  private receive(value: unknown): void {
    if (this.closed) return;
    const envelope = parseEnvelope(value);
    if (envelope === null) return this.drop('malformed');
    if (envelope.tag !== this.tag) return this.drop('other-secret');
    const from = envelope.from;
    if (from === this.self) return this.drop('duplicate-id');
    switch (envelope.k) {
      case 'bye':
        this.markGone(from);
        if (this.members.has(from)) this.counters.left += 1;
        this.remove(from);
        return;
      case 'hello':
        this.gone.delete(from);
        if (!this.hear(from)) return;
        if (!this.departing) this.post({ v: BROADCAST_PROTOCOL_VERSION, k: 'here', tag: this.tag, from: this.self, to: from });
        return;
      case 'here':
      case 'beat':
        if (!this.gone.has(from)) this.hear(from);
        return;
      case 'msg': {
        if (envelope.to !== this.self) return void this.counters.ignored++;
        if (!this.gone.has(from) && !this.hear(from)) return;
        const data = envelope.data as Uint8Array;
        this.counters.messagesDelivered += 1;
        this.counters.bytesDelivered += data.length;
        this.handler?.(from, data);
        return;
      }
    }
  }

  /** Notes that `peer` spoke; a new peer joins the room. False when it cannot be tracked. */
  private hear(peer: PeerId): boolean {
    const known = this.members.has(peer);
    if (!known && this.members.size >= BROADCAST_PEERS_MAX) {
      this.drop('too-many-peers');
      return false;
    }
    this.members.set(peer, this.clock.now());
    if (!known) {
      this.counters.joined += 1;
      if (this.listed) this.emit({ type: 'joined', peer });
    }
    return true;
  }

  private remove(peer: PeerId): void {
    if (!this.members.delete(peer)) return;
    if (this.listed) this.emit({ type: 'left', peer });
  }

  private markGone(peer: PeerId): void {
    this.gone.delete(peer);
    if (this.gone.size >= BROADCAST_PEERS_MAX) {
      const oldest = this.gone.values().next();
      if (oldest.done !== true) this.gone.delete(oldest.value);
    }
    this.gone.add(peer);
  }

  private emit(event: RoomEvent): void {
    for (const listener of [...this.changeListeners]) listener(event);
  }

  private post(envelope: Envelope): boolean {
    try {
      this.channel.postMessage(envelope);
      return true;
    } catch {
      this.drop('post-failed');
      return false;
    }
  }

  private sendToSelf(bytes: Uint8Array): void {
    const copy = bytes.slice();
    this.counters.messagesSent += 1;
    queueMicrotask(() => {
      if (this.closed) return;
      this.counters.messagesDelivered += 1;
      this.handler?.(this.self, copy);
    });
  }

  private drop(reason: BroadcastDropReason): void {
    this.counters.dropped[reason] += 1;
  }
}
