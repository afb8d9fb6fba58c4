/**
 * A client-only attachment's side of the client protocol (peer/client-wire.ts): the ServingApi a
 * Keeper uses when this process runs no replica (`Keeper.join({ relay, room, replica: false })`).
 * Its sessions are served by the room's serving peers (peer/remote-clients.ts), as a ZooKeeper
 * client's session is served by one server of the ensemble.
 *
 * - FINDING SERVING PEERS. Every peer with an open channel gets HELLO; those that answer SERVING
 *   are candidates. The first placement waits until the room was listed and every listed peer
 *   answered (or PLACEMENT_WAIT_MS passed with one answer), so every client of a room sees the
 *   same candidates.
 * - PLACEMENT. A session is opened on the rendezvous pick (rendezvous.ts) of a fresh client key
 *   over the candidates, and moves to the pick of its session id over the remaining ones. Only
 *   sessions whose peer went move; a peer that joins later takes no session from anyone.
 * - MOVES (ZooKeeper's reconnect with a session id): when the session's peer leaves the room,
 *   its channel closes, it says LEAVING, or it is silent for READ_TIMEOUT_FRACTION of the session
 *   timeout, the requests sent to it fail with CONNECTIONLOSS (outcome unknown), the session
 *   turns `disconnected`, and the client sends RESUME (session id, lastZxidSeen, its auth ids and
 *   every watch it holds: ZooKeeper's SetWatches) to the next pick. A peer behind lastZxid
 *   refuses and is asked again; SESSIONEXPIRED ends the session (`expired`). Requests made while
 *   moving wait (bounded) and are sent in order once resumed. With no serving peer answering for
 *   EXPIRY_SILENCE_TIMEOUTS session timeouts the session is surely expired, and is reported so.
 * - ORDER. One ordered channel per peer; results and events are delivered as they arrive (the
 *   peer sends an event before any later result reflecting its change).
 *
 * Callback style on an injected Clock, as the peer runtime (tests run it on a ManualClock).
 */

import { assert } from '../core/assert.js';
import type { PeerId } from '../core/consensus/index.js';
import type { FailureName } from '../core/errors.js';
import { writeRequestBoundsProblem } from '../core/codec/requests.js';
import type { Id, SessionId, WatchEvent, WriteRequest } from '../core/tree/types.js';
import { CLIENT_MESSAGE_BYTES_MAX, decodePeerMessage, encodeClientMessage, RESUME_WATCHES_MAX, XID_MAX, type ClientMessage, type PeerMessage } from '../peer/client-wire.js';
import type { Cancel, Clock } from '../peer/interfaces.js';
import type { Done, LocalSession, OpenSessionOptions, ResumeWatch, ServingApi, SessionListener, SessionRequest, SessionResult } from '../peer/serving-api.js';
import { AUTH_IDS_MAX, WATCHES_MAX } from '../core/limits.js';
import { rendezvousPick } from './rendezvous.js';

/** How often the attachment looks at its sessions (pings, silence, resume retries, expiry). */
export const CLIENT_TICK_MS = 250;
/** The first placement waits at most this long for every listed peer to say whether it serves. */
export const PLACEMENT_WAIT_MS = 3_000;
/** A session with no serving peer to be opened on after this long fails its open with
 *  CONNECTIONLOSS (the Keeper retries a few times): WebRTC admission takes ~0.1-1 s per peer. */
export const PLACEMENT_GIVE_UP_MS = 15_000;
/** An OPEN or RESUME unanswered this long is given up (OPEN: CONNECTIONLOSS; RESUME: retried). */
export const ANSWER_TIMEOUT_MS = 5_000;
/** A refused RESUME (the peer is behind, or has no leader) is asked again this much later. */
export const RESUME_RETRY_MS = 250;
/** Pings go every third of the session timeout (ZooKeeper's client: readTimeout/2 of 2/3). */
export const PING_FRACTION = 1 / 3;
/** A serving peer silent this fraction of the session timeout is taken for gone (ZooKeeper's
 *  client readTimeout: 2/3 of the session timeout). */
export const READ_TIMEOUT_FRACTION = 2 / 3;
/** Without any serving peer for this many session timeouts, the ensemble has expired the session
 *  (nobody pinged it): it is reported expired. */
export const EXPIRY_SILENCE_TIMEOUTS = 2;
/** Requests made while a session moves wait, at most this many per session (then CONNECTIONLOSS). */
export const MOVING_REQUESTS_MAX = 10_000;
/** The most sessions one attachment holds (each Keeper of the process has one). */
export const ATTACHMENT_SESSIONS_MAX = 4096;

/** What the attachment needs of its mesh (the platform adds the channel byte). */
export interface ClientTransport {
  readonly self: PeerId;
  send(to: PeerId, bytes: Uint8Array): void;
  /** Peers with an open channel now. */
  connectedPeers(): readonly PeerId[];
  /** The room's other participants once listed (null before the first list). */
  listedPeers(): readonly PeerId[] | null;
}

type OpenDone = Done<{ ok: true; session: LocalSession } | { ok: false; code: FailureName }>;

interface Call {
  readonly xid: number;
  readonly request: SessionRequest | null; // null: the close
  readonly done: Done<SessionResult>;
}

interface RemoteSession {
  readonly key: string;
  sessionId: SessionId | null;
  timeoutMs: number;
  readonly listener: SessionListener;
  peer: PeerId | null;
  phase: 'placing' | 'opening' | 'connected' | 'moving' | 'ended';
  /** The OPEN/RESUME in flight: its tag and when it left. */
  asking: { tag: number; peer: PeerId; at: number } | null;
  retryAt: number;
  readonly sent: Map<number, Call>;
  readonly waiting: Call[];
  lastZxid: number;
  lastContactAt: number;
  readonly auth: Id[];
  readonly watches: Map<string, ResumeWatch>;
  openDone: OpenDone | null;
  readonly placingSince: number;
}

export interface RemoteServingStats {
  opens: number;
  moves: number;
  resumes: number;
  dropped: { oversize: number; malformed: number; unknown: number };
}

export class RemoteServing implements ServingApi {
  readonly peerId: PeerId;
  private readonly candidates = new Set<PeerId>();
  private readonly helloed = new Set<PeerId>();
  private readonly heardAt = new Map<PeerId, number>();
  private readonly pingedAt = new Map<PeerId, number>();
  private readonly sessions = new Set<RemoteSession>();
  private readonly byId = new Map<SessionId, RemoteSession>();
  private readonly byTag = new Map<number, RemoteSession>();
  private counter = 0;
  private keyCounter = 0;
  private timer: Cancel | null = null;
  private closed = false;
  private readonly counters: RemoteServingStats = { opens: 0, moves: 0, resumes: 0, dropped: { oversize: 0, malformed: 0, unknown: 0 } };

  constructor(
    private readonly transport: ClientTransport,
    private readonly clock: Clock,
  ) {
    this.peerId = transport.self;
    this.schedule();
  }

  stats(): RemoteServingStats {
    return { ...this.counters, dropped: { ...this.counters.dropped } };
  }

  /** The serving peers known now, sorted. */
  servingPeers(): PeerId[] {
    return [...this.candidates].sort();
  }

  /** The peer serving `sessionId` now (null while it moves). */
  servingPeerOf(sessionId: SessionId): PeerId | null {
    const session = this.byId.get(sessionId);
    return session !== undefined && session.phase === 'connected' ? session.peer : null;
  }

  close(): void {
    this.closed = true;
    this.timer?.();
    this.timer = null;
  }

  // --- The platform's events ---------------------------------------------------------------------

  /** The mesh's channels changed: greet new peers; sessions on a peer whose channel closed move. */
  peersChanged(connected: readonly PeerId[]): void {
    const open = new Set(connected);
    for (const peer of [...this.candidates]) if (!open.has(peer)) this.peerGone(peer);
    for (const peer of [...this.helloed]) if (!open.has(peer)) this.helloed.delete(peer);
    this.greet();
  }

  /** The room says `peer` left. */
  peerLeft(peer: PeerId): void {
    this.helloed.delete(peer);
    this.peerGone(peer);
  }

  receive(from: PeerId, bytes: Uint8Array): void {
    if (this.closed) return;
    const decoded = decodePeerMessage(bytes);
    if (!decoded.ok) {
      this.counters.dropped[decoded.reason] += 1;
      return;
    }
    this.heardAt.set(from, this.clock.now());
    this.dispatch(from, decoded.message);
  }

  // --- ServingApi --------------------------------------------------------------------------------

  openSession(options: OpenSessionOptions, done: OpenDone): void {
    if (this.closed || this.sessions.size >= ATTACHMENT_SESSIONS_MAX) {
      return this.later(() => done({ ok: false, code: this.closed ? 'CONNECTIONLOSS' : 'QUOTAEXCEEDED' }));
    }
    this.keyCounter += 1;
    const session: RemoteSession = {
      key: `${this.peerId}/${this.keyCounter}`,
      sessionId: null,
      timeoutMs: options.timeoutMs,
      listener: options.listener,
      peer: null,
      phase: 'placing',
      asking: null,
      retryAt: 0,
      sent: new Map(),
      waiting: [],
      lastZxid: 0,
      lastContactAt: this.clock.now(),
      auth: [],
      watches: new Map(),
      openDone: done,
      placingSince: this.clock.now(),
    };
    this.sessions.add(session);
    this.counters.opens += 1;
    this.greet();
    this.advance(session);
  }

  closeSession(sessionId: string, done: Done<{ ok: true } | { ok: false; code: FailureName }>): void {
    this.call(sessionId, null, (result) => done(result.ok ? { ok: true } : { ok: false, code: result.code }));
  }

  addAuth(sessionId: string, id: Id): void {
    const session = this.byId.get(sessionId);
    if (session === undefined || session.phase === 'ended') return;
    if (session.auth.some((known) => known.scheme === id.scheme && known.id === id.id) || session.auth.length >= AUTH_IDS_MAX) return;
    session.auth.push({ ...id });
    if (session.phase === 'connected' && session.peer !== null) this.send(session.peer, { kind: 'auth', sessionId, id });
  }

  submit(sessionId: string, request: SessionRequest, done: Done<SessionResult>): void {
    this.call(sessionId, request, done);
  }

  private call(sessionId: SessionId, request: SessionRequest | null, done: Done<SessionResult>): void {
    const session = this.byId.get(sessionId);
    if (session === undefined || session.phase === 'ended') {
      return this.later(() => done({ ok: false, code: 'SESSIONEXPIRED', reason: 'no such session here' }));
    }
    if (request !== null && 'op' in request && isWrite(request.op)) {
      const problem = writeRequestBoundsProblem(request as WriteRequest);
      if (problem !== null) return this.later(() => done({ ok: false, code: 'BADARGUMENTS', reason: problem }));
    }
    const call: Call = { xid: this.nextXid(), request, done };
    if (session.phase === 'connected' && session.peer !== null) return this.sendCall(session, session.peer, call);
    if (session.waiting.length >= MOVING_REQUESTS_MAX) {
      return this.later(() => done({ ok: false, code: 'CONNECTIONLOSS', reason: `more than ${MOVING_REQUESTS_MAX} requests wait while the session moves` }));
    }
    session.waiting.push(call);
  }

  private sendCall(session: RemoteSession, peer: PeerId, call: Call): void {
    assert(session.sessionId !== null, 'a call goes in an open session');
    const message: ClientMessage = call.request === null ? { kind: 'close', sessionId: session.sessionId, xid: call.xid } : { kind: 'request', sessionId: session.sessionId, xid: call.xid, request: call.request };
    let bytes: Uint8Array;
    try {
      bytes = encodeClientMessage(message);
    } catch (error) {
      // A request the Keeper let through that the codec cannot carry (its own checks missed it).
      return this.later(() => call.done({ ok: false, code: 'BADARGUMENTS', reason: error instanceof Error ? error.message : String(error) }));
    }
    session.sent.set(call.xid, call);
    this.transport.send(peer, bytes);
  }

  // --- Peer messages -----------------------------------------------------------------------------

  private dispatch(from: PeerId, message: PeerMessage): void {
    switch (message.kind) {
      case 'serving':
        this.candidates.add(from);
        for (const session of this.sessions) if (session.peer === null) this.advance(session);
        return;
      case 'pong':
        return;
      case 'leaving':
        return this.peerGone(from);
      case 'opened':
      case 'resumed':
        return this.onAttached(from, message);
      case 'refused':
        return this.onRefused(from, message);
      case 'result':
        return this.onResult(from, message);
      case 'event':
        return this.onEvent(from, message);
      case 'state':
        return this.onState(from, message);
    }
  }

  private onAttached(from: PeerId, message: Extract<PeerMessage, { kind: 'opened' | 'resumed' }>): void {
    const session = this.byTag.get(message.tag);
    if (session === undefined || session.asking?.peer !== from) return void this.counters.dropped.unknown++;
    this.byTag.delete(message.tag);
    session.asking = null;
    if (session.phase === 'ended') return;
    session.sessionId = message.sessionId;
    session.timeoutMs = message.timeoutMs;
    session.peer = from;
    session.lastZxid = Math.max(session.lastZxid, message.zxid);
    session.lastContactAt = this.clock.now();
    this.byId.set(message.sessionId, session);
    const opening = session.phase === 'opening';
    session.phase = 'connected';
    if (opening) {
      const done = session.openDone;
      session.openDone = null;
      done?.({ ok: true, session: { sessionId: message.sessionId, timeoutMs: message.timeoutMs } });
      return;
    }
    this.counters.resumes += 1;
    session.listener.state('connected');
    const waiting = session.waiting.splice(0);
    for (const call of waiting) this.sendCall(session, from, call);
  }

  private onRefused(from: PeerId, message: Extract<PeerMessage, { kind: 'refused' }>): void {
    const session = this.byTag.get(message.tag);
    if (session === undefined || session.asking?.peer !== from) return void this.counters.dropped.unknown++;
    this.byTag.delete(message.tag);
    session.asking = null;
    if (session.phase === 'opening') {
      const done = session.openDone;
      this.end(session, null);
      done?.({ ok: false, code: message.code });
      return;
    }
    if (message.code === 'SESSIONEXPIRED') return this.end(session, 'expired');
    session.retryAt = this.clock.now() + RESUME_RETRY_MS;
  }

  private onResult(from: PeerId, message: Extract<PeerMessage, { kind: 'result' }>): void {
    const session = this.byId.get(message.sessionId);
    const call = session?.sent.get(message.xid);
    if (session === undefined || call === undefined || session.peer !== from) return void this.counters.dropped.unknown++;
    session.sent.delete(message.xid);
    session.lastZxid = Math.max(session.lastZxid, message.zxid);
    session.lastContactAt = this.clock.now();
    if (call.request !== null) this.trackWatch(session, call.request, message.result);
    call.done(message.result);
    if (call.request === null && message.result.ok) this.end(session, null);
  }

  private onEvent(from: PeerId, message: Extract<PeerMessage, { kind: 'event' }>): void {
    const session = this.byId.get(message.sessionId);
    // A resuming peer sends the events of SetWatches before it answers RESUMED.
    const fromServer = session !== undefined && (session.peer === from || session.asking?.peer === from);
    if (session === undefined || !fromServer || session.phase === 'ended') return void this.counters.dropped.unknown++;
    session.lastZxid = Math.max(session.lastZxid, message.zxid);
    this.consumeWatch(session, message.type, message.path);
    const event: WatchEvent = { watcher: message.sessionId, type: message.type, path: message.path, zxid: message.zxid };
    session.listener.event(event);
  }

  private onState(from: PeerId, message: Extract<PeerMessage, { kind: 'state' }>): void {
    const session = this.byId.get(message.sessionId);
    if (session === undefined || session.peer !== from || session.phase !== 'connected') return;
    if (message.state === 'closed' || message.state === 'expired') return this.end(session, message.state);
    if (message.state === 'connected' || message.state === 'disconnected') session.listener.state(message.state);
  }

  // --- Placement and moves -----------------------------------------------------------------------

  /** Sends HELLO to every peer with an open channel not yet asked. */
  private greet(): void {
    for (const peer of this.transport.connectedPeers()) {
      if (this.helloed.has(peer)) continue;
      this.helloed.add(peer);
      this.send(peer, { kind: 'hello' });
    }
  }

  /** Whether the first placement may choose now: every listed peer said whether it serves. */
  private placementReady(session: RemoteSession): boolean {
    if (this.candidates.size === 0) return false;
    const listed = this.transport.listedPeers();
    if (listed === null) return false;
    if (this.clock.now() - session.placingSince >= PLACEMENT_WAIT_MS) return true;
    const connected = new Set(this.transport.connectedPeers());
    return listed.every((peer) => connected.has(peer) && this.helloed.has(peer) && (this.candidates.has(peer) || this.heardAt.has(peer)));
  }

  /** Asks the session's next peer to open or resume it, when one can be asked now. */
  private advance(session: RemoteSession): void {
    if (session.asking !== null || session.phase === 'ended' || session.phase === 'connected') return;
    if (this.clock.now() < session.retryAt) return;
    if (session.phase === 'placing' && !this.placementReady(session)) return;
    const peer = rendezvousPick(session.sessionId ?? session.key, this.candidates);
    if (peer === null) return;
    const tag = this.nextXid();
    session.asking = { tag, peer, at: this.clock.now() };
    this.byTag.set(tag, session);
    if (session.phase === 'placing' || session.phase === 'opening') {
      session.phase = 'opening';
      this.send(peer, { kind: 'open', tag, timeoutMs: session.timeoutMs });
      return;
    }
    assert(session.sessionId !== null, 'a moving session has its id');
    this.send(peer, { kind: 'resume', tag, sessionId: session.sessionId, lastZxid: session.lastZxid, auth: session.auth, watches: [...session.watches.values()].slice(0, RESUME_WATCHES_MAX) });
  }

  /** `peer` is gone (left, closed, LEAVING, or silent): its sessions move. */
  private peerGone(peer: PeerId): void {
    this.candidates.delete(peer);
    this.helloed.delete(peer); // asked again at the next tick, if its channel is still open
    this.heardAt.delete(peer);
    this.pingedAt.delete(peer);
    for (const session of this.sessions) {
      if (session.asking?.peer === peer && this.stopAsking(session)) continue;
      if (session.peer === peer && session.phase === 'connected') this.move(session);
    }
  }

  /** Stops waiting for the peer asked; a session still opening then fails its open with
   *  CONNECTIONLOSS and ends. True if it ended. */
  private stopAsking(session: RemoteSession): boolean {
    const asking = session.asking;
    if (asking === null) return false;
    this.byTag.delete(asking.tag);
    session.asking = null;
    if (session.phase !== 'opening') return false;
    const done = session.openDone;
    this.end(session, null);
    done?.({ ok: false, code: 'CONNECTIONLOSS' });
    return true;
  }

  private move(session: RemoteSession): void {
    this.counters.moves += 1;
    session.phase = 'moving';
    session.peer = null;
    const lost = [...session.sent.values()];
    session.sent.clear();
    session.listener.state('disconnected');
    for (const call of lost) call.done({ ok: false, code: 'CONNECTIONLOSS', reason: 'the serving peer went; the session moves to another' });
    this.advance(session);
  }

  private end(session: RemoteSession, state: 'closed' | 'expired' | null): void {
    if (session.phase === 'ended') return;
    session.phase = 'ended';
    this.sessions.delete(session);
    if (session.sessionId !== null) this.byId.delete(session.sessionId);
    if (session.asking !== null) this.byTag.delete(session.asking.tag);
    const calls = [...session.sent.values(), ...session.waiting];
    session.sent.clear();
    session.waiting.length = 0;
    if (state !== null) session.listener.state(state);
    for (const call of calls) call.done(call.request === null ? { ok: true, op: 'closeSession' } : { ok: false, code: 'SESSIONEXPIRED', reason: `the session ${state ?? 'ended'}` });
  }

  // --- Watches held (for RESUME) ------------------------------------------------------------------

  private trackWatch(session: RemoteSession, request: SessionRequest, result: SessionResult): void {
    if (!result.ok) return;
    if (request.op === 'addWatch') return this.holdWatch(session, request.path, request.mode === 'persistent' ? 'persistent' : 'recursive');
    if (request.op === 'removeWatches') return this.dropWatch(session, request.path, request.kind);
    if (!('watch' in request) || request.watch !== true) return;
    if (result.op === 'exists') this.holdWatch(session, request.path, result.stat === null ? 'exist' : 'data');
    else if (result.op === 'getData') this.holdWatch(session, request.path, 'data');
    else if (result.op === 'getChildren') this.holdWatch(session, request.path, 'child');
  }

  private holdWatch(session: RemoteSession, path: string, kind: 'data' | 'exist' | 'child' | 'persistent' | 'recursive'): void {
    let watch = session.watches.get(path);
    if (watch === undefined) {
      if (session.watches.size >= Math.min(WATCHES_MAX, RESUME_WATCHES_MAX)) return;
      watch = { path, data: false, exist: false, child: false, persistent: false, recursive: false };
      session.watches.set(path, watch);
    }
    watch[kind] = true;
  }

  private dropWatch(session: RemoteSession, path: string, kind: 'data' | 'children' | 'persistent' | 'persistent_recursive' | 'any'): void {
    const watch = session.watches.get(path);
    if (watch === undefined) return;
    if (kind === 'data' || kind === 'any') watch.data = watch.exist = false;
    if (kind === 'children' || kind === 'any') watch.child = false;
    if (kind === 'persistent' || kind === 'any') watch.persistent = false;
    if (kind === 'persistent_recursive' || kind === 'any') watch.recursive = false;
    this.pruneWatch(session, watch);
  }

  /** A fired event consumes the one-shot watches it triggers (ZooKeeper's rules). */
  private consumeWatch(session: RemoteSession, type: WatchEvent['type'], path: string): void {
    const watch = session.watches.get(path);
    if (watch === undefined) return;
    if (type !== 'NodeChildrenChanged') watch.data = watch.exist = false;
    if (type === 'NodeChildrenChanged' || type === 'NodeDeleted') watch.child = false;
    this.pruneWatch(session, watch);
  }

  private pruneWatch(session: RemoteSession, watch: ResumeWatch): void {
    if (!watch.data && !watch.exist && !watch.child && !watch.persistent && !watch.recursive) session.watches.delete(watch.path);
  }

  // --- Time ----------------------------------------------------------------------------------------

  private schedule(): void {
    this.timer = this.clock.after(CLIENT_TICK_MS, () => {
      if (this.closed) return;
      this.tick();
      this.schedule();
    });
  }

  private tick(): void {
    const now = this.clock.now();
    this.greet();
    const pingEvery = new Map<PeerId, number>();
    for (const session of [...this.sessions]) {
      if (session.phase === 'connected' && session.peer !== null) {
        const every = session.timeoutMs * PING_FRACTION;
        pingEvery.set(session.peer, Math.min(pingEvery.get(session.peer) ?? every, every));
        const heard = this.heardAt.get(session.peer) ?? session.lastContactAt;
        if (now - Math.max(heard, session.lastContactAt) > session.timeoutMs * READ_TIMEOUT_FRACTION) this.peerGone(session.peer);
        else session.lastContactAt = Math.max(session.lastContactAt, heard);
        continue;
      }
      if (session.asking !== null && now - session.asking.at > ANSWER_TIMEOUT_MS) this.answerTimedOut(session);
      if (session.phase === 'placing' && now - session.placingSince > PLACEMENT_GIVE_UP_MS) {
        const done = session.openDone;
        this.end(session, null);
        done?.({ ok: false, code: 'CONNECTIONLOSS' });
        continue;
      }
      if (session.phase === 'moving' && now - session.lastContactAt > session.timeoutMs * EXPIRY_SILENCE_TIMEOUTS) {
        this.end(session, 'expired');
        continue;
      }
      this.advance(session);
    }
    for (const [peer, every] of pingEvery) {
      if (now - (this.pingedAt.get(peer) ?? Number.NEGATIVE_INFINITY) < every) continue;
      this.pingedAt.set(peer, now);
      this.send(peer, { kind: 'ping' });
    }
  }

  private answerTimedOut(session: RemoteSession): void {
    const asking = session.asking;
    assert(asking !== null, 'an answer was awaited');
    if (this.stopAsking(session)) return;
    // A peer that does not answer a RESUME is taken for gone (its sessions, if any, move too).
    this.peerGone(asking.peer);
  }

  private send(to: PeerId, message: ClientMessage): void {
    const bytes = encodeClientMessage(message);
    assert(bytes.length <= CLIENT_MESSAGE_BYTES_MAX, 'a client message fits the cap');
    this.transport.send(to, bytes);
  }

  private nextXid(): number {
    this.counter = this.counter >= XID_MAX ? 1 : this.counter + 1;
    return this.counter;
  }

  /** A callback from a fresh timer, never from inside the caller (the serving contract's rule). */
  private later(task: () => void): void {
    this.clock.after(0, task);
  }
}

function isWrite(op: string): boolean {
  return op === 'create' || op === 'delete' || op === 'setData' || op === 'setACL' || op === 'multi';
}
