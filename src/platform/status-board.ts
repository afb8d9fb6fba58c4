/**
 * The cluster status board (DESIGN.md "Cluster status board"): each peer publishes its status into
 * a Yjs document through y-protocols Awareness, replicated over the room's own mesh, and the UI
 * renders every peer of the room from it. Display and diagnosis only: no safety decision reads it.
 *
 * Multiplexing. The board shares the peer's RoomTransport with the runtime without the runtime
 * knowing: `attachStatusBoard` wraps the transport so every message starts with a channel byte,
 *
 *   CHANNEL_RUNTIME (0x00) · the runtime's wire message (src/peer/wire.ts), unchanged
 *   CHANNEL_BOARD   (0x01) · a y-protocols awareness update carrying ONE state, the sender's own:
 *                            varuint count (= 1) · varuint clientID · varuint clock ·
 *                            varstring JSON (a BoardState, or null when the sender leaves)
 *
 * Both directions go through the wrapper; an empty message or an unknown channel byte is counted
 * and dropped, and so is a board message that is too large, does not decode, carries another
 * peer's state, or a clientID another peer uses. Each peer sends only its own state, to every
 * peer with an open channel, when its status changes (coalesced over STATUS_DEBOUNCE_MS) and
 * every PUBLISH_INTERVAL_MS; a peer heard from for the first time gets ours at once. A state
 * goes when the room reports its peer left, when that peer publishes null (it leaves), or after
 * y-protocols' `outdatedTimeout` (30 s) without an update (a frozen or cut-off peer; the UI marks
 * such rows silent long before, from `updatedAgeMs`). The board checks that timeout itself on
 * every publish, on its Clock (Awareness's own check reads the wall clock lib0 captured at load,
 * which a test cannot move; it stays as the backstop).
 *
 * Ages, not timestamps, cross the wire (`heartbeatAgeMs`), and each board adds the time since it
 * received the state, so peers whose clocks disagree still show sensible ages.
 */

import * as decoding from 'lib0/decoding';
import * as Y from 'yjs';
import { Awareness, applyAwarenessUpdate, encodeAwarenessUpdate, outdatedTimeout, removeAwarenessStates } from 'y-protocols/awareness';
import type { BoardPeer, PeerKind, StatusBoard } from '../client/board.js';
import type { PeerId } from '../core/consensus/index.js';
import { CONFIG_PEERS_MAX, PEER_ID_BYTES_MAX } from '../core/limits.js';
import type { Cancel, Clock } from '../peer/interfaces.js';
import type { RoomTransport } from '../peer/networked.js';
import type { PeerStatus } from '../peer/peer.js';

/** First byte of a runtime message on the room transport. */
export const CHANNEL_RUNTIME = 0x00;
/** First byte of a status-board message on the room transport. */
export const CHANNEL_BOARD = 0x01;
/** Bytes the channel header adds to every message. The mesh caps messages at the runtime's
 *  WIRE_MESSAGE_BYTES_MAX, whose 64 KiB of header room over one maximal entry the runtime's real
 *  headers (under 1 KiB) never come near, so this byte never pushes a runtime message over it. */
export const CHANNEL_HEADER_BYTES = 1;

/** Every peer republishes its state this often: commit and applied indexes move without a status
 *  event, a new peer learns the board within a second, and y-protocols' 30 s timeout never fires
 *  for a live peer. One small message per connected peer per second is negligible next to Raft's
 *  heartbeats. */
export const PUBLISH_INTERVAL_MS = 1_000;
/** Status events come in bursts (an election changes role, term and leader in a few steps): they
 *  are coalesced into one publish this long after the first. Short enough that a new leader shows
 *  on every board well within a second. */
export const STATUS_DEBOUNCE_MS = 25;
/** The largest board message sent or accepted. A state is ~300 bytes plus the voter ids (at most
 *  CONFIG_PEERS_MAX of PEER_ID_BYTES_MAX each: ~2.2 KiB), so 4 KiB holds the largest honest one. */
export const BOARD_MESSAGE_BYTES_MAX = 4 * 1024;
/** At most this many remote peers on one board: twice an ensemble's largest configuration (the
 *  relay's room cap is the same, RELAY_PEERS_PER_ROOM_MAX). A peer beyond it is not shown. */
export const BOARD_PEERS_MAX = 2 * CONFIG_PEERS_MAX;
/** Version of the published state; a state of another version is dropped as malformed. */
export const BOARD_STATE_VERSION = 1;
/** Largest index, term or count accepted in a state (what a JSON number holds exactly). */
const COUNT_MAX = Number.MAX_SAFE_INTEGER;

const ROLES: readonly BoardPeer['role'][] = ['leader', 'follower', 'candidate', 'observer'];
const KINDS: readonly PeerKind[] = ['tab', 'edge'];

/** What a peer publishes: API.md's status fields plus what the board adds. */
export interface BoardState {
  readonly v: typeof BOARD_STATE_VERSION;
  readonly peerId: PeerId;
  readonly kind: PeerKind;
  readonly role: BoardPeer['role'];
  readonly term: number;
  readonly leaderId: PeerId | null;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly lastIndex: number;
  readonly lag: number;
  readonly sessions: number;
  readonly quorum: boolean;
  readonly voters: readonly PeerId[];
  readonly observers: number;
  /** Ms since the peer last heard from its leader when it published (0: it leads; null: never). */
  readonly heartbeatAgeMs: number | null;
  /** Unsafe recoveries run on the peer (Peer.unsafeRecover); absent from older peers' states. */
  readonly unsafeRecoveries?: number;
}

export type BoardDropReason =
  | 'empty' // a message without a channel byte
  | 'unknown-channel' // a channel byte this version does not know
  | 'oversize' // a board message over BOARD_MESSAGE_BYTES_MAX
  | 'undecodable' // not an awareness update of exactly one state, or not JSON
  | 'bad-state' // the state fails validation (fields, bounds, version)
  | 'not-sender' // the state names another peer than the one that sent it
  | 'client-id' // the clientID is ours or another peer's
  | 'full'; // BOARD_PEERS_MAX remote peers already

export interface BoardStats {
  runtimeReceived: number;
  boardReceived: number;
  boardSent: number;
  dropped: Record<BoardDropReason, number>;
}

const DROP_REASONS: readonly BoardDropReason[] = ['empty', 'unknown-channel', 'oversize', 'undecodable', 'bad-state', 'not-sender', 'client-id', 'full'];

/** A transport the board can attach to: the room transport plus who has an open channel now. */
export interface BoardTransport extends RoomTransport {
  /** Peers with an open channel (the board is not sent through the relay fallback). */
  connectedPeers(): readonly PeerId[];
}

export interface StatusBoardOptions {
  readonly kind: PeerKind;
  readonly clock: Clock;
}

/**
 * Wraps `inner` for the runtime (every message prefixed with CHANNEL_RUNTIME, stripped on receipt)
 * and attaches a status board to the same transport. Call `board.start(status)` once the peer
 * runs, `board.peerLeft(id)` on the room's `left`, `board.close()` before closing the transport.
 */
export function attachStatusBoard(inner: BoardTransport, options: StatusBoardOptions): { transport: RoomTransport; board: PeerStatusBoard } {
  let runtimeHandler: ((from: PeerId, bytes: Uint8Array) => void) | null = null;
  const board = new PeerStatusBoard(inner, options);
  inner.onMessage((from, bytes) => {
    const channel = bytes[0];
    if (channel === CHANNEL_RUNTIME) {
      board.noteRuntime(from);
      runtimeHandler?.(from, bytes.subarray(CHANNEL_HEADER_BYTES));
    } else if (channel === CHANNEL_BOARD) {
      board.receive(from, bytes.subarray(CHANNEL_HEADER_BYTES));
    } else {
      board.drop(channel === undefined ? 'empty' : 'unknown-channel');
    }
  });
  const transport: RoomTransport = {
    self: inner.self,
    send: (to, bytes) => inner.send(to, withChannel(CHANNEL_RUNTIME, bytes)),
    onMessage: (handler) => {
      runtimeHandler = handler;
    },
    whenListed: (listener) => inner.whenListed(listener),
    roomPeers: () => inner.roomPeers(),
    close: () => inner.close(),
  };
  return { transport, board };
}

function withChannel(channel: number, bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length + CHANNEL_HEADER_BYTES);
  out[0] = channel;
  out.set(bytes, CHANNEL_HEADER_BYTES);
  return out;
}

/** One peer's board: its own state, published, and the states of the room's other peers. */
export class PeerStatusBoard implements StatusBoard {
  readonly self: PeerId;
  private readonly doc = new Y.Doc();
  private readonly awareness: Awareness;
  private readonly kind: PeerKind;
  private readonly clock: Clock;
  private readonly listeners = new Set<() => void>();
  /** The clientID each remote peer publishes under, and back. */
  private readonly clientOf = new Map<PeerId, number>();
  private readonly peerOf = new Map<number, PeerId>();
  /** When this board last received each remote peer's state (clock time). */
  private readonly receivedAt = new Map<PeerId, number>();
  /** When a runtime message last came from each peer (for the heartbeat age). */
  private readonly lastHeard = new Map<PeerId, number>();
  private status: (() => PeerStatus) | null = null;
  private published: BoardState | null = null;
  private cancelTick: Cancel | null = null;
  private cancelDebounce: Cancel | null = null;
  private closed = false;
  private readonly counters: BoardStats = {
    runtimeReceived: 0,
    boardReceived: 0,
    boardSent: 0,
    dropped: Object.fromEntries(DROP_REASONS.map((reason) => [reason, 0])) as Record<BoardDropReason, number>,
  };

  constructor(private readonly transport: BoardTransport, options: StatusBoardOptions) {
    this.self = transport.self;
    this.kind = options.kind;
    this.clock = options.clock;
    this.awareness = new Awareness(this.doc);
    // Awareness starts with an empty local state; ours is published once the peer runs.
    this.awareness.setLocalState(null);
    this.awareness.on('change', ({ removed }: { removed: number[] }, origin: unknown) => {
      for (const clientId of removed) this.forgetClient(clientId);
      if (origin !== 'local') this.notify();
    });
  }

  /** Starts publishing `status()` (the peer's), at once and then every PUBLISH_INTERVAL_MS. */
  start(status: () => PeerStatus): void {
    if (this.closed || this.status !== null) return;
    this.status = status;
    this.publish();
  }

  /** The peer's status changed: publish soon (coalesced). */
  statusChanged(): void {
    if (this.closed || this.status === null || this.cancelDebounce !== null) return;
    this.cancelDebounce = this.clock.after(STATUS_DEBOUNCE_MS, () => {
      this.cancelDebounce = null;
      this.publish();
    });
  }

  /** The room reported `peer` left: its state goes now. */
  peerLeft(peer: PeerId): void {
    this.lastHeard.delete(peer);
    const clientId = this.clientOf.get(peer);
    if (clientId !== undefined) removeAwarenessStates(this.awareness, [clientId], 'left');
  }

  /** Publishes null (the others drop this peer at once) and stops. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.cancelTick?.();
    this.cancelDebounce?.();
    if (this.published !== null) {
      this.awareness.setLocalState(null);
      this.broadcast();
    }
    this.listeners.clear();
    this.awareness.destroy();
    this.doc.destroy();
  }

  // --- StatusBoard -------------------------------------------------------------------------------

  peers(): BoardPeer[] {
    const now = this.clock.now();
    const rows: BoardPeer[] = [];
    const own = this.status === null || this.closed ? null : this.sample();
    if (own !== null) rows.push(row(own, 0, true));
    for (const [clientId, state] of this.awareness.getStates()) {
      if (clientId === this.awareness.clientID) continue;
      const peer = this.peerOf.get(clientId);
      if (peer === undefined) continue;
      rows.push(row(state as BoardState, Math.max(0, now - (this.receivedAt.get(peer) ?? now)), false));
    }
    return rows.sort((a, b) => (a.peerId < b.peerId ? -1 : a.peerId > b.peerId ? 1 : 0));
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  stats(): BoardStats {
    return { ...this.counters, dropped: { ...this.counters.dropped } };
  }

  // --- the transport's side ------------------------------------------------------------------

  /** A runtime message came from `from`. */
  noteRuntime(from: PeerId): void {
    this.counters.runtimeReceived += 1;
    if (this.lastHeard.has(from) || this.lastHeard.size < BOARD_PEERS_MAX) this.lastHeard.set(from, this.clock.now());
  }

  drop(reason: BoardDropReason): void {
    this.counters.dropped[reason] += 1;
  }

  /** A board message (after the channel byte) from `from`. */
  receive(from: PeerId, bytes: Uint8Array): void {
    if (this.closed) return;
    this.counters.boardReceived += 1;
    if (bytes.length > BOARD_MESSAGE_BYTES_MAX) return this.drop('oversize');
    const decoded = decodeUpdate(bytes);
    if (decoded === null) return this.drop('undecodable');
    const { clientId, state } = decoded;
    if (state !== null) {
      const problem = stateProblem(state);
      if (problem !== null) return this.drop('bad-state');
      if ((state as BoardState).peerId !== from) return this.drop('not-sender');
    }
    if (clientId === this.awareness.clientID) return this.drop('client-id');
    const owner = this.peerOf.get(clientId);
    if (owner !== undefined && owner !== from) return this.drop('client-id');
    const known = this.clientOf.get(from);
    if (known === undefined && state !== null && this.clientOf.size >= BOARD_PEERS_MAX) return this.drop('full');
    if (known !== undefined && known !== clientId) {
      // The peer restarted with a new document: its old state goes.
      removeAwarenessStates(this.awareness, [known], 'replaced');
    }
    if (state !== null) {
      this.clientOf.set(from, clientId);
      this.peerOf.set(clientId, from);
      this.receivedAt.set(from, this.clock.now());
    }
    applyAwarenessUpdate(this.awareness, bytes, from);
    if (known === undefined && state !== null) this.sendTo(from);
  }

  // --- internals --------------------------------------------------------------------------------

  private sample(): BoardState | null {
    if (this.status === null) return null;
    const status = this.status();
    let heartbeatAgeMs: number | null = null;
    if (status.role === 'leader') heartbeatAgeMs = 0;
    else if (status.leaderId !== null) {
      const heard = this.lastHeard.get(status.leaderId);
      if (heard !== undefined) heartbeatAgeMs = Math.max(0, this.clock.now() - heard);
    }
    return {
      v: BOARD_STATE_VERSION,
      peerId: status.peerId,
      kind: this.kind,
      role: status.role,
      term: status.term,
      leaderId: status.leaderId,
      commitIndex: status.commitIndex,
      appliedIndex: status.appliedIndex,
      lastIndex: status.lastIndex,
      lag: Math.max(0, status.commitIndex - status.appliedIndex),
      sessions: status.sessions,
      quorum: status.quorum,
      voters: status.voters.slice(0, CONFIG_PEERS_MAX),
      observers: status.observers.length,
      heartbeatAgeMs,
      unsafeRecoveries: status.counters.unsafeRecoveries,
    };
  }

  private publish(): void {
    if (this.closed) return;
    this.cancelTick?.();
    this.cancelTick = this.clock.after(PUBLISH_INTERVAL_MS, () => {
      this.cancelTick = null;
      this.publish();
    });
    this.expire();
    const state = this.sample();
    if (state === null) return;
    this.published = state;
    this.awareness.setLocalState(state);
    this.broadcast();
    this.notify();
  }

  private encodeOwn(): Uint8Array | null {
    const update = encodeAwarenessUpdate(this.awareness, [this.awareness.clientID]);
    // Our own state is bounded by construction (ids and counts capped); this is the backstop.
    return update.length > BOARD_MESSAGE_BYTES_MAX ? null : update;
  }

  private broadcast(): void {
    const update = this.encodeOwn();
    if (update === null) return this.drop('oversize');
    const message = withChannel(CHANNEL_BOARD, update);
    for (const peer of this.transport.connectedPeers()) {
      this.transport.send(peer, message);
      this.counters.boardSent += 1;
    }
  }

  private sendTo(peer: PeerId): void {
    if (this.published === null) return;
    const update = this.encodeOwn();
    if (update === null) return this.drop('oversize');
    this.transport.send(peer, withChannel(CHANNEL_BOARD, update));
    this.counters.boardSent += 1;
  }

  /** Removes the states not updated for outdatedTimeout. */
  private expire(): void {
    const now = this.clock.now();
    const outdated: number[] = [];
    for (const [peer, at] of this.receivedAt) {
      const clientId = this.clientOf.get(peer);
      if (clientId !== undefined && now - at >= outdatedTimeout) outdated.push(clientId);
    }
    if (outdated.length > 0) removeAwarenessStates(this.awareness, outdated, 'timeout');
  }

  private forgetClient(clientId: number): void {
    const peer = this.peerOf.get(clientId);
    if (peer === undefined) return;
    this.peerOf.delete(clientId);
    if (this.clientOf.get(peer) === clientId) {
      this.clientOf.delete(peer);
      this.receivedAt.delete(peer);
    }
  }

  private notify(): void {
    for (const listener of [...this.listeners]) {
      try {
        listener();
      } catch (error) {
        // A listener's bug must not break the transport's delivery: surface it on its own.
        setTimeout(() => {
          throw error;
        }, 0);
      }
    }
  }
}

function row(state: BoardState, updatedAgeMs: number, self: boolean): BoardPeer {
  return {
    peerId: state.peerId,
    kind: state.kind,
    role: state.role,
    term: state.term,
    leaderId: state.leaderId,
    commitIndex: state.commitIndex,
    appliedIndex: state.appliedIndex,
    lastIndex: state.lastIndex,
    lag: state.lag,
    sessions: state.sessions,
    quorum: state.quorum,
    voters: [...state.voters],
    observers: state.observers,
    heartbeatAgeMs: state.heartbeatAgeMs === null ? null : state.role === 'leader' ? 0 : state.heartbeatAgeMs + updatedAgeMs,
    updatedAgeMs,
    self,
    unsafeRecoveries: state.unsafeRecoveries ?? 0,
  };
}

/** An awareness update of exactly one state, fully consumed; null if it is anything else. */
function decodeUpdate(bytes: Uint8Array): { clientId: number; clock: number; state: unknown } | null {
  try {
    const decoder = decoding.createDecoder(bytes);
    if (decoding.readVarUint(decoder) !== 1) return null;
    const clientId = decoding.readVarUint(decoder);
    const clock = decoding.readVarUint(decoder);
    const json = decoding.readVarString(decoder);
    if (decoding.hasContent(decoder)) return null;
    return { clientId, clock, state: JSON.parse(json) as unknown };
  } catch {
    return null;
  }
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= COUNT_MAX;
}

function isPeerId(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= PEER_ID_BYTES_MAX;
}

/** Why `value` is not a BoardState, or null if it is one. */
export function stateProblem(value: unknown): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not an object';
  const s = value as Record<string, unknown>;
  if (s.v !== BOARD_STATE_VERSION) return `version ${String(s.v)}`;
  if (!isPeerId(s.peerId)) return 'peerId';
  if (!KINDS.includes(s.kind as PeerKind)) return 'kind';
  if (!ROLES.includes(s.role as BoardPeer['role'])) return 'role';
  for (const field of ['term', 'commitIndex', 'appliedIndex', 'lastIndex', 'lag', 'sessions', 'observers'] as const) {
    if (!isCount(s[field])) return field;
  }
  if (s.leaderId !== null && !isPeerId(s.leaderId)) return 'leaderId';
  if (typeof s.quorum !== 'boolean') return 'quorum';
  if (!Array.isArray(s.voters) || s.voters.length > CONFIG_PEERS_MAX || !s.voters.every(isPeerId)) return 'voters';
  if (s.heartbeatAgeMs !== null && !isCount(s.heartbeatAgeMs)) return 'heartbeatAgeMs';
  if (s.unsafeRecoveries !== undefined && !isCount(s.unsafeRecoveries)) return 'unsafeRecoveries';
  return null;
}
