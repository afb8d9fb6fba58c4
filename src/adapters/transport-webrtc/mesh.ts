/**
 * WebRtcMesh: the peer runtime's Transport over WebRTC data channels (DESIGN.md "Transport and
 * relay"). One reliable ordered channel per pair of peers in a room, made with simple-peer; peers
 * meet through a Signaling service (the relay client, or MemorySignalingHub in tests).
 *
 *  - Who offers: the newcomer (a peer offers to every peer of the `list` it gets on joining; peers
 *    that see it `joined` wait). After a failure the connection's initiator re-offers with bounded
 *    backoff; the other side offers itself only if nothing came after a longer wait, and when both
 *    offer at once (glare) the lower peer id's offer wins on both sides.
 *  - Admission: on every new channel both sides send HELLO (nonce, incarnation, id) and then an
 *    HMAC proof over the other's nonce, bound to this DTLS connection's certificate fingerprints
 *    (admission.ts: a relay in the middle cannot pass proofs between two honest peers). No data frame is sent before our proof and
 *    the remote's proof is verified, and none is accepted from a remote whose proof is not
 *    verified. A wrong proof closes the connection and the peer is not retried until it re-enters
 *    the room.
 *  - Framing (framing.ts): every data-channel message is one frame of at most 16 KiB; larger
 *    messages are split and reassembled within WIRE_MESSAGE_BYTES_MAX. Bad frames are dropped and
 *    counted; nothing a remote sends can make the mesh throw.
 *  - Backpressure: frames go to the channel while its bufferedAmount is below the high-water mark;
 *    otherwise they wait in a per-connection queue (bounded in messages and bytes) that drains once
 *    the buffer falls to the low-water mark. A message that does not fit is dropped and counted
 *    (Raft resends). A message is queued whole or not at all, so no partial message is ever sent.
 *  - Fallback: while no channel is up, messages go through `signaling.sendRelayed` — but only to a
 *    peer that was admitted over a channel during this run (its incarnation is then known and
 *    authenticated), each with an HMAC tag over room, both ids, both incarnations, a strictly
 *    increasing sequence number and the payload. The relay can drop or delay relayed messages but
 *    not forge, alter, redirect, reorder or replay them. Pairs that never had a channel do not use
 *    the fallback (see README.md).
 *
 * Stats count every drop by reason; `peers()` lists the admitted, connected peers.
 */

import { assert } from '../../core/assert.js';
import type { PeerId } from '../../core/consensus/index.js';
import type { Cancel, Clock, Transport } from '../../peer/interfaces.js';
import { RealClock } from '../../peer/clock-real.js';
import type { RoomEvent, Signaling } from '../signaling.js';
import {
  bytesEqual,
  deriveRoomKey,
  newIncarnation,
  newNonce,
  randomBytes,
  sdpFingerprint,
  signProof,
  signRelayed,
  verifyProof,
  verifyRelayed,
} from './admission.js';
import {
  BUFFERED_AMOUNT_HIGH_BYTES,
  BUFFERED_AMOUNT_LOW_BYTES,
  CONNECT_TIMEOUT_MS,
  CONNECTION_ID_CHARS_MAX,
  DRAIN_CHECK_MS,
  FRAME_BYTES_MAX,
  INBOUND_HELD_FRAMES_MAX,
  MESSAGE_BYTES_MAX_WIRE,
  PROTOCOL_VERSION,
  RECONNECT_BACKOFF_INITIAL_MS,
  RECONNECT_BACKOFF_MAX_MS,
  RECONNECT_JITTER_FRACTION,
  REFUSAL_LINGER_MS,
  RELAYED_PAYLOAD_BYTES_MAX,
  RELAYED_PENDING_MAX,
  REMOTES_MAX,
  RESPONDER_TAKEOVER_DELAY_MS,
  SEND_QUEUE_BYTES_MAX,
  SEND_QUEUE_MESSAGES_MAX,
} from './constants.js';
import {
  BATCH_ITEM_HEADER_BYTES,
  BATCH_MESSAGES_MAX,
  decodeHello,
  decodeProof,
  decodeRelayed,
  encodeBatch,
  encodeHello,
  encodeMessage,
  encodeProof,
  encodeRelayed,
  FrameKind,
  framedBytes,
  Reassembler,
  SIMPLE_HEADER_BYTES,
  type Hello,
} from './framing.js';

/** What the mesh uses of a simple-peer instance (SimplePeer.Instance satisfies it). */
export interface PeerLike {
  signal(data: never): void;
  send(data: Uint8Array): void;
  destroy(): void;
  /** The data channel's bufferedAmount. */
  readonly bufferSize: number;
  on(event: 'signal', listener: (data: never) => void): unknown;
  on(event: 'connect' | 'close', listener: () => void): unknown;
  on(event: 'data', listener: (data: never) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

export interface CreatePeerOptions {
  readonly initiator: boolean;
  /** The remote peer this connection is for (for the factory's logs). */
  readonly remote: PeerId;
}

/** Makes one simple-peer (node.ts: node-datachannel; browser.ts: the browser's WebRTC). */
export type CreatePeer = (options: CreatePeerOptions) => PeerLike;

export interface WebRtcMeshOptions {
  readonly signaling: Signaling;
  readonly createPeer: CreatePeer;
  /** The room secret; without one, admission runs with the empty secret (README.md). */
  readonly secret?: string;
  readonly clock?: Clock;
  /** Send through the relay while no channel is up (default true). */
  readonly relayFallback?: boolean;
  /** For backoff jitter: a number in [0, 1). Default Math.random. */
  readonly random?: () => number;
}

export const DROP_REASONS = [
  /** send(): larger than WIRE_MESSAGE_BYTES_MAX. */
  'oversize',
  /** send(): the peer is not known (never seen in the room). */
  'unknown-peer',
  /** send(): no channel and no authenticated fallback. */
  'no-connection',
  /** send(): the connection's queue is full (backpressure). */
  'queue-full',
  /** send() after close(). */
  'closed',
  /** Queued messages lost when their connection ended. */
  'connection-lost',
  /** A data frame that is not well-formed. */
  'malformed-frame',
  /** An incomplete message abandoned when a new one started. */
  'incomplete-message',
  /** More frames than INBOUND_HELD_FRAMES_MAX arrived while a proof was being verified. */
  'held-overflow',
  /** Relayed: payload over RELAYED_PAYLOAD_BYTES_MAX (send) or a bad envelope (receive). */
  'relay-oversize',
  'relay-malformed',
  /** Relayed: too many waiting for WebCrypto. */
  'relay-pending-full',
  /** Relayed: from a peer never admitted, for another incarnation, or with a bad tag. */
  'relay-unauthenticated',
  /** Relayed: a sequence number not above the last one accepted (replayed or reordered). */
  'relay-replayed',
  /** A signal that is not a well-formed envelope. */
  'bad-signal',
] as const;

export type DropReason = (typeof DROP_REASONS)[number];

export interface WebRtcMeshStats {
  messagesSent: number;
  messagesDelivered: number;
  framesSent: number;
  framesReceived: number;
  /** BATCH frames sent, and the messages they carried (small messages sent to one peer within one
   *  task leave together: framing.ts). */
  batchesSent: number;
  messagesBatched: number;
  relayedSent: number;
  relayedDelivered: number;
  connectionsOpened: number;
  connectionsAdmitted: number;
  connectionsClosed: number;
  /** Admission failures: a wrong proof, a protocol violation or a timeout. */
  admissionFailures: number;
  reconnects: number;
  glaresResolved: number;
  dropped: Record<DropReason, number>;
}

interface QueuedFrame {
  readonly frame: Uint8Array;
  /** Messages this frame completes: 1 for a WHOLE frame or a message's last frame, the count for a
   *  BATCH, 0 for the other frames of a large message. */
  readonly messages: number;
}

interface Remote {
  readonly id: PeerId;
  /** In the room as far as the last room events tell. */
  inRoom: boolean;
  /** Refused admission (a wrong proof): not retried until it re-enters the room. */
  refused: boolean;
  connection: Connection | null;
  reconnectCancel: Cancel | null;
  /** Consecutive failed attempts (the backoff exponent); reset on admission. */
  failures: number;
  /** The remote's incarnation, authenticated by its proof; null until first admitted. */
  incarnation: Uint8Array | null;
  relaySeqOut: number;
  relaySeqIn: number;
  relayOutChain: Promise<void>;
  relayOutPending: number;
  relayInChain: Promise<void>;
  relayInPending: number;
}

class Connection {
  readonly localNonce = newNonce();
  readonly reassembler = new Reassembler();
  connected = false;
  ended = false;
  helloSent = false;
  remoteHello: Hello | null = null;
  pendingProof: Uint8Array | null = null;
  proofSent = false;
  verifying = false;
  remoteVerified = false;
  /** DTLS fingerprints from the SDP we sent and the SDP we received (channel binding). */
  localFingerprint: string | null = null;
  remoteFingerprint: string | null = null;
  /** We refused the remote but our own proof is not out yet: close once it is (so the remote
   *  learns of the wrong secret at once instead of waiting for CONNECT_TIMEOUT_MS). */
  closeAfterProof = false;
  /** Admitted and announced in peers(). */
  announced = false;
  readonly held: Uint8Array[] = [];
  queue: (QueuedFrame | undefined)[] = [];
  queueHead = 0;
  queueBytes = 0;
  queueMessages = 0;
  /** Small messages sent during this task, framed together at its end (flushPending); counted in
   *  queueMessages, and in queueBytes as WHOLE frames until framed (a BATCH frame adds a length
   *  field per message, added to queueBytes then). */
  pending: Uint8Array[] = [];
  drainCancel: Cancel | null = null;
  timeoutCancel: Cancel | null = null;

  constructor(
    readonly id: string,
    readonly initiator: boolean,
    readonly remote: Remote,
    readonly peer: PeerLike,
  ) {}
}

interface SignalEnvelope {
  readonly c: string;
  readonly s: { readonly type?: unknown; readonly sdp?: unknown };
}

function parseEnvelope(data: unknown): SignalEnvelope | null {
  if (typeof data !== 'object' || data === null) return null;
  const { c, s } = data as { c?: unknown; s?: unknown };
  if (typeof c !== 'string' || c.length === 0 || c.length > CONNECTION_ID_CHARS_MAX) return null;
  if (typeof s !== 'object' || s === null) return null;
  return { c, s };
}

function toBytes(data: unknown): Uint8Array | null {
  if (data instanceof Uint8Array) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return null;
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

export class WebRtcMesh implements Transport {
  readonly self: PeerId;
  readonly room: string;
  /** This run's incarnation (sent in HELLO; names relayed messages). */
  readonly incarnation = newIncarnation();
  private readonly signaling: Signaling;
  private readonly createPeer: CreatePeer;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly relayFallback: boolean;
  private readonly keyReady: Promise<CryptoKey>;
  private readonly remotes = new Map<PeerId, Remote>();
  private readonly peersListeners = new Set<(peers: readonly PeerId[]) => void>();
  private handler: ((from: PeerId, bytes: Uint8Array) => void) | null = null;
  private lastPeersKey = '';
  private connectionCounter = 0;
  private closed = false;
  private readonly counters: WebRtcMeshStats;
  /** Connections with small messages waiting for the end of this task (flushPending). */
  private readonly flushing = new Set<Connection>();
  private flushScheduled = false;

  constructor(options: WebRtcMeshOptions) {
    this.signaling = options.signaling;
    this.self = options.signaling.self;
    this.room = options.signaling.room;
    this.createPeer = options.createPeer;
    this.clock = options.clock ?? new RealClock();
    this.random = options.random ?? Math.random;
    this.relayFallback = options.relayFallback ?? true;
    this.keyReady = deriveRoomKey(options.secret ?? '');
    // A failure here (no WebCrypto) surfaces at the first admission; avoid an unhandled rejection.
    this.keyReady.catch(() => undefined);
    this.counters = {
      messagesSent: 0,
      messagesDelivered: 0,
      framesSent: 0,
      batchesSent: 0,
      messagesBatched: 0,
      framesReceived: 0,
      relayedSent: 0,
      relayedDelivered: 0,
      connectionsOpened: 0,
      connectionsAdmitted: 0,
      connectionsClosed: 0,
      admissionFailures: 0,
      reconnects: 0,
      glaresResolved: 0,
      dropped: Object.fromEntries(DROP_REASONS.map((reason) => [reason, 0])) as Record<DropReason, number>,
    };
    this.signaling.onRoomEvent((event) => this.onRoomEvent(event));
    this.signaling.onSignal((from, data) => this.onSignal(from, data));
    this.signaling.onRelayed((from, bytes) => this.onRelayed(from, bytes));
    this.signaling.start();
  }

  // --- Transport ------------------------------------------------------------------------------

  onMessage(handler: (from: PeerId, bytes: Uint8Array) => void): void {
    this.handler = handler;
  }

  /** Best effort: never throws for a bad destination or size; every drop is counted. A message to
   *  `self` is delivered to this mesh's handler in a microtask (never re-entering the caller). */
  send(to: PeerId, bytes: Uint8Array): void {
    if (this.closed) return this.drop('closed');
    if (bytes.length > MESSAGE_BYTES_MAX_WIRE) return this.drop('oversize');
    if (to === this.self) return this.sendToSelf(bytes);
    const remote = this.remotes.get(to);
    if (remote === undefined) return this.drop('unknown-peer');
    const connection = remote.connection;
    if (connection !== null && connection.announced) return this.enqueue(connection, bytes);
    if (this.relayFallback && remote.incarnation !== null) return this.sendRelayed(remote, bytes);
    if (connection !== null) return this.enqueue(connection, bytes);
    this.drop('no-connection');
  }

  // --- Extras for the runtime -----------------------------------------------------------------

  /** The admitted peers with an open channel, sorted. */
  peers(): PeerId[] {
    const peers: PeerId[] = [];
    for (const remote of this.remotes.values()) if (remote.connection?.announced === true) peers.push(remote.id);
    return peers.sort();
  }

  /** Called with `peers()` whenever it changes; returns an unsubscribe function. */
  onPeersChanged(listener: (peers: readonly PeerId[]) => void): () => void {
    this.peersListeners.add(listener);
    return () => this.peersListeners.delete(listener);
  }

  /** A snapshot of the counters. */
  stats(): WebRtcMeshStats {
    return { ...this.counters, dropped: { ...this.counters.dropped } };
  }

  /** Drops counted, for one reason or in total. */
  dropped(reason?: DropReason): number {
    if (reason !== undefined) return this.counters.dropped[reason];
    return DROP_REASONS.reduce((sum, each) => sum + this.counters.dropped[each], 0);
  }

  /** Leaves the room and closes every connection; no handler is called afterwards. */
  close(): void {
    if (this.closed) return;
    // What was sent in this task leaves first: a closing peer's last words (a leaving notice, a
    // TimeoutNow) are sent just before it closes the mesh.
    for (const connection of this.flushing) this.flushPending(connection);
    this.flushing.clear();
    this.closed = true;
    this.handler = null;
    this.peersListeners.clear();
    for (const remote of this.remotes.values()) {
      this.cancelReconnect(remote);
      if (remote.connection !== null) this.endConnection(remote.connection);
    }
    this.remotes.clear();
    this.signaling.close();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  // --- Room and signals ---------------------------------------------------------------------------

  private onRoomEvent(event: RoomEvent): void {
    if (this.closed) return;
    switch (event.type) {
      case 'list': {
        const listed = new Set(event.peers);
        for (const remote of [...this.remotes.values()]) {
          if (!listed.has(remote.id)) this.leftRoom(remote);
        }
        for (const id of event.peers) {
          if (id === this.self) continue;
          const remote = this.ensureRemote(id);
          if (remote === null) continue;
          remote.inRoom = true;
          remote.refused = false;
          if (remote.connection !== null) continue; // a live channel survives a relay reconnect
          this.cancelReconnect(remote);
          this.initiate(remote);
        }
        return;
      }
      case 'joined': {
        if (event.peer === this.self) return;
        const remote = this.ensureRemote(event.peer);
        if (remote === null) return;
        remote.inRoom = true;
        remote.refused = false;
        this.cancelReconnect(remote); // the newcomer offers
        return;
      }
      case 'left': {
        const remote = this.remotes.get(event.peer);
        if (remote !== undefined) this.leftRoom(remote);
        return;
      }
    }
  }

  private leftRoom(remote: Remote): void {
    remote.inRoom = false;
    remote.refused = false;
    this.cancelReconnect(remote);
    const connection = remote.connection;
    // An admitted channel may outlive the peer's relay socket; a pending one is abandoned.
    if (connection !== null && !connection.announced) this.endConnection(connection);
    this.maybeForget(remote);
  }

  private ensureRemote(id: PeerId): Remote | null {
    const existing = this.remotes.get(id);
    if (existing !== undefined) return existing;
    if (this.remotes.size >= REMOTES_MAX) return null;
    const remote: Remote = {
      id,
      inRoom: true,
      refused: false,
      connection: null,
      reconnectCancel: null,
      failures: 0,
      incarnation: null,
      relaySeqOut: 0,
      relaySeqIn: 0,
      relayOutChain: Promise.resolve(),
      relayOutPending: 0,
      relayInChain: Promise.resolve(),
      relayInPending: 0,
    };
    this.remotes.set(id, remote);
    return remote;
  }

  private maybeForget(remote: Remote): void {
    if (remote.inRoom || remote.connection !== null || remote.reconnectCancel !== null) return;
    if (this.remotes.get(remote.id) === remote) this.remotes.delete(remote.id);
  }

  private onSignal(from: PeerId, data: unknown): void {
    if (this.closed || from === this.self) return;
    const envelope = parseEnvelope(data);
    if (envelope === null) return this.drop('bad-signal');
    const remote = this.ensureRemote(from);
    if (remote === null) return;
    const current = remote.connection;
    if (current !== null && current.id === envelope.c) return this.passSignal(current, envelope.s);
    if (envelope.s.type !== 'offer') return; // for a connection that is gone: stale
    if (remote.refused) return;
    if (current !== null && current.initiator && !current.announced && this.self < from) {
      // Glare: both offered. The lower id's offer wins on both sides; ours is the lower.
      this.counters.glaresResolved += 1;
      return;
    }
    if (current !== null && current.initiator && !current.announced) this.counters.glaresResolved += 1;
    this.cancelReconnect(remote);
    const connection = this.openConnection(remote, false, envelope.c);
    if (connection !== null) this.passSignal(connection, envelope.s);
  }

  private passSignal(connection: Connection, signal: { readonly type?: unknown; readonly sdp?: unknown }): void {
    if (signal.type === 'offer' || signal.type === 'answer') connection.remoteFingerprint = sdpFingerprint(signal.sdp);
    try {
      connection.peer.signal(signal as never);
    } catch {
      this.endConnection(connection);
    }
  }

  // --- Connections ----------------------------------------------------------------------------------

  private initiate(remote: Remote): void {
    this.connectionCounter += 1;
    const id = `${this.connectionCounter.toString(36)}-${hex(randomBytes(6))}`;
    this.openConnection(remote, true, id);
  }

  /** A new connection to `remote`, replacing (and closing) any current one. */
  private openConnection(remote: Remote, initiator: boolean, id: string): Connection | null {
    const previous = remote.connection;
    remote.connection = null;
    if (previous !== null) this.endConnection(previous);
    let peer: PeerLike;
    try {
      peer = this.createPeer({ initiator, remote: remote.id });
    } catch {
      this.scheduleReconnect(remote, initiator);
      return null;
    }
    const connection = new Connection(id, initiator, remote, peer);
    remote.connection = connection;
    this.counters.connectionsOpened += 1;
    peer.on('signal', (data: never) => {
      if (this.closed || connection.ended) return;
      const signal = data as { type?: unknown; sdp?: unknown };
      if (signal.type === 'offer' || signal.type === 'answer') connection.localFingerprint = sdpFingerprint(signal.sdp);
      this.signaling.sendSignal(remote.id, { c: connection.id, s: data as unknown });
    });
    peer.on('connect', () => this.onConnect(connection));
    peer.on('data', (data: never) => this.onFrame(connection, data as unknown));
    peer.on('close', () => this.endConnection(connection));
    peer.on('error', () => this.endConnection(connection));
    connection.timeoutCancel = this.clock.after(CONNECT_TIMEOUT_MS, () => {
      connection.timeoutCancel = null;
      if (connection.announced) return;
      if (!connection.closeAfterProof) this.counters.admissionFailures += 1;
      this.endConnection(connection);
    });
    return connection;
  }

  private onConnect(connection: Connection): void {
    if (this.closed || connection.ended || connection.connected) return;
    connection.connected = true;
    const hello = encodeHello({
      version: PROTOCOL_VERSION,
      nonce: connection.localNonce,
      incarnation: this.incarnation,
      peerId: this.self,
    });
    if (!this.rawSend(connection, hello)) return;
    connection.helloSent = true;
    this.flushProof(connection);
  }

  /** Ends `connection` (idempotent); when it was the remote's current one, retries as the rules
   *  say. Queued messages are lost (counted). */
  private endConnection(connection: Connection): void {
    if (connection.ended) return;
    connection.ended = true;
    connection.timeoutCancel?.();
    connection.timeoutCancel = null;
    connection.drainCancel?.();
    connection.drainCancel = null;
    this.counters.dropped['connection-lost'] += connection.queueMessages;
    connection.pending = [];
    connection.queue = [];
    connection.queueHead = 0;
    connection.queueBytes = 0;
    connection.queueMessages = 0;
    connection.held.length = 0;
    this.counters.connectionsClosed += 1;
    try {
      connection.peer.destroy();
    } catch {
      // Already destroyed.
    }
    const remote = connection.remote;
    if (remote.connection === connection) remote.connection = null;
    else return this.notifyPeers(); // replaced: the new connection takes over
    this.notifyPeers();
    if (this.closed) return;
    if (!remote.inRoom || remote.refused) return this.maybeForget(remote);
    this.scheduleReconnect(remote, connection.initiator);
  }

  private scheduleReconnect(remote: Remote, wasInitiator: boolean): void {
    if (this.closed) return;
    this.cancelReconnect(remote);
    const exponent = Math.min(remote.failures, 16);
    remote.failures += 1;
    const base = Math.min(RECONNECT_BACKOFF_MAX_MS, RECONNECT_BACKOFF_INITIAL_MS * 2 ** exponent);
    const jitter = 1 + RECONNECT_JITTER_FRACTION * (2 * this.random() - 1);
    const delay = Math.round(base * jitter) + (wasInitiator ? 0 : RESPONDER_TAKEOVER_DELAY_MS);
    remote.reconnectCancel = this.clock.after(delay, () => {
      remote.reconnectCancel = null;
      if (this.closed || !remote.inRoom || remote.refused || remote.connection !== null) return this.maybeForget(remote);
      this.counters.reconnects += 1;
      this.initiate(remote);
    });
  }

  private cancelReconnect(remote: Remote): void {
    remote.reconnectCancel?.();
    remote.reconnectCancel = null;
  }

  // --- Admission -------------------------------------------------------------------------------------

  private onFrame(connection: Connection, data: unknown): void {
    if (this.closed || connection.ended || connection.closeAfterProof) return;
    this.counters.framesReceived += 1;
    const frame = toBytes(data);
    if (frame === null || frame.length === 0) {
      if (!connection.remoteVerified) return this.refuse(connection, false);
      return this.drop('malformed-frame');
    }
    if (connection.remoteVerified) return this.onDataFrame(connection, frame);
    if (connection.verifying) {
      if (connection.held.length >= INBOUND_HELD_FRAMES_MAX) {
        this.drop('held-overflow');
        return this.refuse(connection, false);
      }
      connection.held.push(frame);
      return;
    }
    if (connection.remoteHello === null) return this.onHello(connection, frame);
    const proof = decodeProof(frame);
    if (!proof.ok) return this.refuse(connection, false);
    connection.verifying = true;
    void this.verifyRemote(connection, proof.value);
  }

  private onHello(connection: Connection, frame: Uint8Array): void {
    const hello = decodeHello(frame);
    if (!hello.ok || hello.value.version !== PROTOCOL_VERSION || hello.value.peerId !== connection.remote.id) {
      return this.refuse(connection, false);
    }
    connection.remoteHello = hello.value;
    void this.signOwnProof(connection, hello.value);
  }

  private async signOwnProof(connection: Connection, remoteHello: Hello): Promise<void> {
    const local = connection.localFingerprint;
    const remote = connection.remoteFingerprint;
    if (local === null || remote === null) return this.refuse(connection, false);
    let mac: Uint8Array;
    try {
      const key = await this.keyReady;
      mac = await signProof(key, {
        room: this.room,
        prover: this.self,
        verifier: connection.remote.id,
        proverNonce: connection.localNonce,
        proverIncarnation: this.incarnation,
        verifierNonce: remoteHello.nonce,
        proverFingerprint: local,
        verifierFingerprint: remote,
      });
    } catch {
      return this.refuse(connection, false);
    }
    if (this.closed || connection.ended) return;
    connection.pendingProof = encodeProof(mac);
    this.flushProof(connection);
  }

  /** Sends our proof once both our HELLO is out and the proof is computed (HELLO goes first). */
  private flushProof(connection: Connection): void {
    const proof = connection.pendingProof;
    if (proof === null || !connection.helloSent || connection.proofSent) return;
    connection.pendingProof = null;
    if (!this.rawSend(connection, proof)) return;
    connection.proofSent = true;
    if (connection.closeAfterProof) return this.lingerThenEnd(connection);
    this.maybeAdmitted(connection);
  }

  private async verifyRemote(connection: Connection, mac: Uint8Array): Promise<void> {
    const hello = connection.remoteHello;
    assert(hello !== null, 'verifyRemote: after HELLO');
    const local = connection.localFingerprint;
    const remote = connection.remoteFingerprint;
    let ok: boolean;
    try {
      if (local === null || remote === null) throw new Error('no DTLS fingerprint to bind');
      const key = await this.keyReady;
      ok = await verifyProof(
        key,
        {
          room: this.room,
          prover: connection.remote.id,
          verifier: this.self,
          proverNonce: hello.nonce,
          proverIncarnation: hello.incarnation,
          verifierNonce: connection.localNonce,
          proverFingerprint: remote,
          verifierFingerprint: local,
        },
        mac,
      );
    } catch {
      ok = false;
    }
    if (this.closed) return;
    connection.verifying = false;
    if (!ok && connection.ended) return this.refusedAfterEnd(connection);
    if (connection.ended) return;
    if (!ok) return this.refuse(connection, true);
    connection.remoteVerified = true;
    const held = connection.held.splice(0, connection.held.length);
    for (const frame of held) {
      if (connection.ended) return;
      this.onDataFrame(connection, frame);
    }
    this.maybeAdmitted(connection);
  }

  /** Admission failed: close the connection. A wrong proof (`wrongSecret`) is not retried until the
   *  peer re-enters the room; a protocol violation or a lost handshake is retried with backoff. */
  private refuse(connection: Connection, wrongSecret: boolean): void {
    if (connection.ended || connection.closeAfterProof) return;
    this.counters.admissionFailures += 1;
    if (wrongSecret) connection.remote.refused = true;
    if (wrongSecret && connection.remoteHello !== null) {
      // Let our proof out first (it may still be signing or waiting for our HELLO) and linger so it
      // arrives before the close: the remote then refuses us too instead of retrying. Bounded by
      // REFUSAL_LINGER_MS after the proof, and by the connect timeout before it.
      connection.closeAfterProof = true;
      connection.held.length = 0;
      if (connection.proofSent) this.lingerThenEnd(connection);
      return;
    }
    this.endConnection(connection);
  }

  private lingerThenEnd(connection: Connection): void {
    connection.timeoutCancel?.();
    connection.timeoutCancel = this.clock.after(REFUSAL_LINGER_MS, () => {
      connection.timeoutCancel = null;
      this.endConnection(connection);
    });
  }

  /** The remote's proof turned out wrong after the connection had already ended (the remote
   *  refused us first and closed): still a wrong secret, so stop retrying, unless a newer
   *  connection to the same peer is already under way. */
  private refusedAfterEnd(connection: Connection): void {
    const remote = connection.remote;
    this.counters.admissionFailures += 1;
    if (remote.connection !== null) return;
    remote.refused = true;
    this.cancelReconnect(remote);
    this.maybeForget(remote);
  }

  private maybeAdmitted(connection: Connection): void {
    if (connection.announced || connection.ended || !connection.proofSent || !connection.remoteVerified) return;
    const hello = connection.remoteHello;
    assert(hello !== null, 'admitted: after HELLO');
    connection.announced = true;
    connection.timeoutCancel?.();
    connection.timeoutCancel = null;
    const remote = connection.remote;
    remote.failures = 0;
    if (remote.incarnation === null || !bytesEqual(remote.incarnation, hello.incarnation)) {
      remote.incarnation = hello.incarnation;
      remote.relaySeqIn = 0;
      remote.relaySeqOut = 0;
    }
    this.counters.connectionsAdmitted += 1;
    this.drain(connection);
    this.notifyPeers();
  }

  // --- Data --------------------------------------------------------------------------------------------

  private onDataFrame(connection: Connection, frame: Uint8Array): void {
    const abandonedBefore = connection.reassembler.abandoned;
    const result = connection.reassembler.push(frame);
    this.counters.dropped['incomplete-message'] += connection.reassembler.abandoned - abandonedBefore;
    if (result.type === 'malformed') return this.drop('malformed-frame');
    if (result.type === 'partial') return;
    if (result.type === 'messages') {
      for (const bytes of result.list) {
        if (connection.ended || this.closed) return;
        this.counters.messagesDelivered += 1;
        this.handler?.(connection.remote.id, bytes);
      }
      return;
    }
    this.counters.messagesDelivered += 1;
    this.handler?.(connection.remote.id, result.bytes);
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

  private enqueue(connection: Connection, bytes: Uint8Array): void {
    const size = framedBytes(bytes.length);
    if (connection.queueMessages >= SEND_QUEUE_MESSAGES_MAX || connection.queueBytes + size > SEND_QUEUE_BYTES_MAX) {
      return this.drop('queue-full');
    }
    this.counters.messagesSent += 1;
    if (size <= FRAME_BYTES_MAX) {
      // A small message waits for the end of this task, to share a frame with the others sent now.
      connection.queueBytes += size;
      connection.queueMessages += 1;
      connection.pending.push(bytes.slice()); // the caller may reuse its buffer once send returns
      if (connection.pending.length === 1) this.scheduleFlush(connection);
      return;
    }
    this.flushPending(connection); // what was sent before it leaves before it
    connection.queueBytes += size;
    connection.queueMessages += 1;
    const frames = encodeMessage(bytes);
    frames.forEach((frame, index) => connection.queue.push({ frame, messages: index === frames.length - 1 ? 1 : 0 }));
    if (connection.announced && connection.drainCancel === null) this.drain(connection);
  }

  private scheduleFlush(connection: Connection): void {
    this.flushing.add(connection);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(() => {
      this.flushScheduled = false;
      const connections = [...this.flushing];
      this.flushing.clear();
      for (const each of connections) this.flushPending(each);
    });
  }

  /** Frames the pending small messages, in order: as many to a BATCH frame as fit (one alone is a
   *  WHOLE frame), then sends what the channel takes. */
  private flushPending(connection: Connection): void {
    const pending = connection.pending;
    if (pending.length === 0 || connection.ended) return;
    connection.pending = [];
    let group: Uint8Array[] = [];
    let groupBytes = SIMPLE_HEADER_BYTES;
    const emit = (): void => {
      if (group.length === 0) return;
      const frame = group.length === 1 ? (encodeMessage(group[0] as Uint8Array)[0] as Uint8Array) : encodeBatch(group);
      // queueBytes counted each message as a WHOLE frame (1 + length); a BATCH takes 1 + Σ(2 + length).
      connection.queueBytes += frame.length - group.reduce((sum, message) => sum + framedBytes(message.length), 0);
      connection.queue.push({ frame, messages: group.length });
      if (group.length > 1) {
        this.counters.batchesSent += 1;
        this.counters.messagesBatched += group.length;
      }
      group = [];
      groupBytes = SIMPLE_HEADER_BYTES;
    };
    for (const message of pending) {
      const itemBytes = BATCH_ITEM_HEADER_BYTES + message.length;
      if (group.length > 0 && (groupBytes + itemBytes > FRAME_BYTES_MAX || group.length >= BATCH_MESSAGES_MAX)) emit();
      group.push(message);
      groupBytes += itemBytes;
    }
    emit();
    if (connection.announced && connection.drainCancel === null) this.drain(connection);
  }

  /** Sends queued frames while the channel's buffer is below the high-water mark; otherwise checks
   *  again every DRAIN_CHECK_MS and resumes below the low-water mark. */
  private drain(connection: Connection): void {
    connection.drainCancel = null;
    while (connection.queueHead < connection.queue.length) {
      if (connection.ended) return;
      if (connection.peer.bufferSize > BUFFERED_AMOUNT_HIGH_BYTES) return this.scheduleDrain(connection);
      const item = connection.queue[connection.queueHead];
      assert(item !== undefined, 'drain: queued frame present');
      connection.queue[connection.queueHead] = undefined;
      connection.queueHead += 1;
      connection.queueBytes -= item.frame.length;
      connection.queueMessages -= item.messages;
      if (!this.rawSend(connection, item.frame)) return;
    }
    connection.queue = [];
    connection.queueHead = 0;
    // What is left is the small messages of this task, not framed yet.
    assert(connection.queueBytes === connection.pending.reduce((sum, message) => sum + framedBytes(message.length), 0), 'drain: queue bytes accounted');
    assert(connection.queueMessages === connection.pending.length, 'drain: queue messages accounted');
  }

  private scheduleDrain(connection: Connection): void {
    connection.drainCancel = this.clock.after(DRAIN_CHECK_MS, () => {
      connection.drainCancel = null;
      if (connection.ended) return;
      if (connection.peer.bufferSize > BUFFERED_AMOUNT_LOW_BYTES) return this.scheduleDrain(connection);
      this.drain(connection);
    });
  }

  private rawSend(connection: Connection, frame: Uint8Array): boolean {
    try {
      connection.peer.send(frame);
    } catch {
      this.endConnection(connection);
      return false;
    }
    this.counters.framesSent += 1;
    return true;
  }

  // --- Relay fallback -------------------------------------------------------------------------------

  private sendRelayed(remote: Remote, bytes: Uint8Array): void {
    const incarnation = remote.incarnation;
    assert(incarnation !== null, 'sendRelayed: only to a peer admitted before');
    if (bytes.length > RELAYED_PAYLOAD_BYTES_MAX) return this.drop('relay-oversize');
    if (remote.relayOutPending >= RELAYED_PENDING_MAX) return this.drop('relay-pending-full');
    remote.relaySeqOut += 1;
    const seq = remote.relaySeqOut;
    const payload = bytes.slice();
    remote.relayOutPending += 1;
    remote.relayOutChain = remote.relayOutChain
      .then(async () => {
        const key = await this.keyReady;
        const input = {
          room: this.room,
          from: this.self,
          to: remote.id,
          senderIncarnation: this.incarnation,
          receiverIncarnation: incarnation,
          seq,
          payload,
        };
        const mac = await signRelayed(key, input);
        if (this.closed) return;
        this.signaling.sendRelayed(remote.id, encodeRelayed({ ...input, mac }));
        this.counters.relayedSent += 1;
      })
      .catch(() => this.drop('relay-pending-full'))
      .finally(() => {
        remote.relayOutPending -= 1;
      });
  }

  private onRelayed(from: PeerId, bytes: Uint8Array): void {
    if (this.closed) return;
    const remote = this.remotes.get(from);
    const incarnation = remote?.incarnation ?? null;
    if (remote === undefined || incarnation === null) return this.drop('relay-unauthenticated');
    const decoded = decodeRelayed(bytes);
    if (!decoded.ok) return this.drop('relay-malformed');
    const envelope = decoded.value;
    if (!bytesEqual(envelope.receiverIncarnation, this.incarnation) || !bytesEqual(envelope.senderIncarnation, incarnation)) {
      return this.drop('relay-unauthenticated');
    }
    if (remote.relayInPending >= RELAYED_PENDING_MAX) return this.drop('relay-pending-full');
    remote.relayInPending += 1;
    remote.relayInChain = remote.relayInChain
      .then(async () => {
        const key = await this.keyReady;
        const input = { room: this.room, from, to: this.self, ...envelope };
        const ok = await verifyRelayed(key, input, envelope.mac);
        if (this.closed) return;
        if (!ok || this.remotes.get(from) !== remote || remote.incarnation !== incarnation) return this.drop('relay-unauthenticated');
        if (envelope.seq <= remote.relaySeqIn) return this.drop('relay-replayed');
        remote.relaySeqIn = envelope.seq;
        this.counters.relayedDelivered += 1;
        this.counters.messagesDelivered += 1;
        this.handler?.(from, envelope.payload);
      })
      .catch(() => this.drop('relay-unauthenticated'))
      .finally(() => {
        remote.relayInPending -= 1;
      });
  }

  // --- Bookkeeping ----------------------------------------------------------------------------------

  private drop(reason: DropReason): void {
    this.counters.dropped[reason] += 1;
  }

  private notifyPeers(): void {
    if (this.closed) return;
    const peers = this.peers();
    const key = peers.join('\u0000');
    if (key === this.lastPeersKey) return;
    this.lastPeersKey = key;
    for (const listener of [...this.peersListeners]) listener(peers);
  }
}

/** The frame kinds, for tests that forge frames. */
export { FrameKind };
