/**
 * Every peer's serving duties (ZooKeeper's per-connection request pipeline, server side):
 * sessions served here, their FIFO of requests, writes forwarded to the leader, reads answered
 * from the local tree, sync through ReadIndex, and the watch manager.
 *
 * ORDER. Each session has one FIFO of requests; `done` is called in submission order. A request
 * completes when its result is known and every earlier request of the session has completed:
 *   - a write when its entry is APPLIED here (origin = this peer, matched by request id), so a
 *     client never hears of a write before its own replica reflects it;
 *   - a read when it reaches the head of the FIFO: it is served then, from the local tree, after
 *     every earlier write of the session (ZooKeeper's CommitProcessor rule: read-your-writes);
 *   - a sync when its ReadIndex is confirmed and applied >= that index (so a read after it sees
 *     every write committed before the sync began);
 *   - addWatch / removeWatches at the head, locally.
 *
 * WATCHES. One WatchManager, watcher id = session id. On every applied entry the triggers fire
 * first and each event is queued to its session's listener BEFORE the entry's write result and
 * before any later read result: all client callbacks leave through one queue, in order.
 *
 * FORWARD STREAMS (the write pipeline). Writes are pipelined: many in flight, in one stream per
 * (this peer, leader term). A stream is (incarnation, number); its writes carry consecutive
 * sequence numbers from 0. The leader accepts request k only if it is the next it expects and it
 * can queue it (leader.ts); any refusal kills the stream, and every later request of it is
 * refused too. A write in flight longer than FORWARD_PROBE_AFTER_MS makes the stream probe the
 * leader (at most once per that interval): a leader that never received a forward the probe
 * covers refuses the stream (`forward-lost`), so a forward lost in transit costs about a second,
 * not the operation timeout. Here, on a refusal, a leader or term change, or when the oldest
 * write in flight is older than the operation timeout, the stream fails: every write in flight
 * fails with CONNECTIONLOSS (outcome unknown: it may yet be applied, and if so is ignored), so
 * do the unsent writes of the sessions that had one in flight (so no later write of a session can
 * take effect when an earlier one was refused), and the next write opens a new stream. Together:
 * one session's writes take effect in issue order, and none after one that was refused.
 *
 * "Outstanding" is judged by what the client could know: a write submitted after an earlier write
 * of its session failed with CONNECTIONLOSS, but before that failure's `done` ran, fails too
 * (`lossesUndelivered`). (ZooKeeper only fails what was queued at the moment of the loss; this is
 * stricter, so a burst issued from one callback never straddles a loss.)
 *
 * WAITING. Writes wait (unsent, in order) while no leader is known, up to the operation timeout,
 * then fail with CONNECTIONLOSS naming the cause (no quorum). Reads go on locally meanwhile.
 *
 * SESSIONS. openSession proposes createSession (through the same stream) and reports once it is
 * applied here. Liveness pings go to the leader every session tick. A session whose closeSession
 * is applied (its own close, or the leader's expiry) ends: listener.state('closed' | 'expired'),
 * its pending requests fail with SESSIONEXPIRED, its watches go.
 */

import { assert } from '../core/assert.js';
import type { Entry, PeerId, ReadState } from '../core/consensus/index.js';
import type { FailureName } from '../core/errors.js';
import { WatchManager, watchForRead, type Applied } from '../core/tree/index.js';
import type { Id, ReadRequest, SessionId, WriteRequest, WriteResult } from '../core/tree/types.js';
import { validatePath } from '../core/tree/paths.js';
import { AUTH_IDS_MAX } from '../core/limits.js';
import { writeRequestBoundsProblem } from '../core/codec/requests.js';
import {
  LOCAL_SESSIONS_MAX,
  PING_SESSIONS_PER_MESSAGE_MAX,
  SESSION_PENDING_REQUESTS_MAX,
  SESSION_TIMEOUT_TICKS_MAX,
  SESSION_TIMEOUT_TICKS_MIN,
  STREAM_WRITES_IN_FLIGHT_MAX,
} from './constants.js';
import type { PeerHost } from './host.js';
import type { LogRecord } from './record.js';
import { MOVABLE_REQUEST_MARK } from './record.js';
import type { Done, LocalSession, OpenSessionOptions, ResumeOptions, SessionListener, SessionRequest, SessionResult, SessionState } from './serving-api.js';
import { setWatches } from './set-watches.js';
import type { ForwardRefusal, StreamId } from './wire.js';

type Failure = Extract<SessionResult, { ok: false }>;

type ItemKind = 'write' | 'read' | 'sync' | 'local' | 'close';

interface SyncState {
  requestId: string;
  /** When to ask again if no answer came (ReadIndex requests die with a leader's term). */
  retryAt: number;
  /** The leader and term the request went to: a change means asking again at once. */
  leader: PeerId | null;
  term: number;
  /** The confirmed read index, once known. */
  index: number | null;
}

interface Item {
  readonly kind: ItemKind;
  readonly request: SessionRequest;
  readonly done: Done<SessionResult>;
  readonly submittedAt: number;
  result: SessionResult | null;
  sync: SyncState | null;
  /** A write that failed with CONNECTIONLOSS: counted in the session's lossesUndelivered until
   *  its `done` has run. */
  lost?: boolean;
}

interface ServedSession {
  readonly id: SessionId;
  readonly timeoutMs: number;
  readonly listener: SessionListener;
  readonly auth: Id[];
  /** A client-only attachment's session (remote-clients.ts): it may move to another peer. */
  readonly movable: boolean;
  state: SessionState;
  readonly queue: Item[];
  /** Set by closeSession: later requests fail with SESSIONEXPIRED. */
  closing: { readonly startedAt: number } | null;
  /** Set when the FIFO overflowed: every request fails until it drains (keeps issue order). */
  throttled: boolean;
  /** Writes of this session that failed with CONNECTIONLOSS whose `done` has not run yet. While
   *  any is pending, new writes fail too: the client issued them before it could know that an
   *  earlier write was lost, so they must not take effect where it did not. */
  lossesUndelivered: number;
  ended: boolean;
}

interface PendingWrite {
  readonly requestId: string;
  /** Whose issue order it belongs to: the session it is for (createSession: the new session). */
  readonly sessionKey: SessionId;
  /** prep's context: the session making the request (null for createSession). */
  readonly sessionId: SessionId | null;
  readonly auth: readonly Id[];
  readonly request: WriteRequest;
  readonly createdAt: number;
  sentAt: number;
  settled: boolean;
  readonly onResult: (result: SessionResult) => void;
}

interface Stream {
  readonly id: StreamId;
  readonly leader: PeerId;
  readonly term: number;
  nextSeq: number;
  /** Sent and not yet applied here, by request id, in sequence order. */
  readonly inflight: Map<string, PendingWrite>;
  /** When this stream last asked the leader whether a forward went missing (0: never). */
  probedAt: number;
}

const READ_OPS: ReadonlySet<string> = new Set(['getData', 'exists', 'getChildren', 'getACL', 'getEphemerals', 'getAllChildrenNumber']);
const CLIENT_WRITE_OPS: ReadonlySet<string> = new Set(['create', 'delete', 'setData', 'setACL', 'multi']);

function failure(code: FailureName, reason?: string, path?: string): Failure {
  return { ok: false, code, ...(path === undefined ? {} : { path }), ...(reason === undefined ? {} : { reason }) };
}

/** A failed write's result carries the request's path (the log does not). */
function withPath(result: WriteResult, request: WriteRequest): SessionResult {
  if (result.ok || result.path !== undefined || !('path' in request)) return result;
  return { ...result, path: request.path };
}

function requestPath(request: SessionRequest): string | undefined {
  if ('path' in request && typeof request.path === 'string') return request.path;
  if (request.op === 'getEphemerals') return request.prefix;
  return undefined;
}

export class ServingDuties {
  readonly watches = new WatchManager();
  private readonly sessions = new Map<SessionId, ServedSession>();
  private readonly pending = new Map<string, PendingWrite>();
  private outbox: PendingWrite[] = [];
  private stream: Stream | null = null;
  private streamCounter = 0;
  /** The leader (in the term) that refused a stream as no leader, or as behind its own term: no
   *  new stream goes to it until this replica's view of the leader or term changes. Writes wait
   *  meanwhile (bounded by the operation timeout) instead of failing with CONNECTIONLOSS one after
   *  the other — e.g. a leader's slot resumed in another tab is a follower there, while this
   *  replica still takes it for the leader until an election. */
  private refusedBy: { readonly leader: PeerId; readonly term: number } | null = null;
  /** Syncs waiting for their ReadIndex answer, by request id. */
  private readonly syncs = new Map<string, { readonly session: ServedSession; readonly item: Item }>();
  /** Syncs with a read index, waiting for applied to reach it. */
  private readonly syncsWaitingApply = new Set<ServedSession>();

  constructor(private readonly host: PeerHost) {}

  get sessionCount(): number {
    return this.sessions.size;
  }

  sessionIds(): SessionId[] {
    return [...this.sessions.keys()];
  }

  // --- The ServingApi -----------------------------------------------------------------------------

  /** ZooKeeper's negotiation: the asked timeout clamped to [2, 20] session ticks. */
  negotiateTimeout(timeoutMs: number): number {
    const tick = this.host.timing.sessionTickMs;
    const asked = Number.isFinite(timeoutMs) ? Math.round(timeoutMs) : 0;
    return Math.min(SESSION_TIMEOUT_TICKS_MAX * tick, Math.max(SESSION_TIMEOUT_TICKS_MIN * tick, asked));
  }

  openSession(
    options: OpenSessionOptions,
    done: Done<{ ok: true; session: LocalSession } | { ok: false; code: FailureName }>,
  ): void {
    if (this.sessions.size >= LOCAL_SESSIONS_MAX) {
      this.host.notify(() => done({ ok: false, code: 'QUOTAEXCEEDED' }));
      return;
    }
    let id = this.host.randomHex();
    while (this.sessions.has(id)) id = this.host.randomHex();
    const timeoutMs = this.negotiateTimeout(options.timeoutMs);
    const session: ServedSession = {
      id,
      timeoutMs,
      listener: options.listener,
      auth: [],
      movable: options.movable === true,
      state: 'connecting',
      queue: [],
      closing: null,
      throttled: false,
      lossesUndelivered: 0,
      ended: false,
    };
    this.sessions.set(id, session);
    const create = { op: 'createSession' as const, sessionId: id, timeoutMs };
    this.newWrite(id, null, [], create, (result) => {
      if (session.ended) return;
      if (result.ok) {
        session.state = this.host.leaderContact() ? 'connected' : 'disconnected';
        const state = session.state;
        this.host.notify(() => session.listener.state(state));
        this.host.notify(() => done({ ok: true, session: { sessionId: id, timeoutMs } }));
        return;
      }
      // Not created, or not known to be: forget it here. If it was created after all, nobody
      // pings it and the leader expires it.
      session.ended = true;
      this.sessions.delete(id);
      this.watches.removeWatcher(id);
      this.host.notify(() => done({ ok: false, code: result.code }));
    }, session.movable);
    this.pumpOutbox();
  }

  /**
   * A moving client's session, served here from now on (RemoteServingApi.resumeSession). The
   * ensemble must still hold it and this replica must have applied what the client has seen;
   * its watches are set again (set-watches.ts) and the leader hears of it at once.
   */
  resumeSession(sessionId: SessionId, options: ResumeOptions, done: Done<{ ok: true; session: LocalSession } | { ok: false; code: FailureName; reason?: string }>): void {
    const applied = this.host.replica.applied;
    if (applied < options.lastZxid) {
      this.host.notify(() => done({ ok: false, code: 'CONNECTIONLOSS', reason: `this peer has applied ${applied}, behind the client's ${options.lastZxid}` }));
      return;
    }
    const record = this.host.tree.hasSession(sessionId) ? this.host.tree.sessions().find((each) => each.sessionId === sessionId) : undefined;
    if (record === undefined) {
      this.host.notify(() => done({ ok: false, code: 'SESSIONEXPIRED', reason: 'the ensemble no longer has this session' }));
      return;
    }
    this.detachSession(sessionId);
    if (this.sessions.size >= LOCAL_SESSIONS_MAX) {
      this.host.notify(() => done({ ok: false, code: 'QUOTAEXCEEDED', reason: `this peer serves ${LOCAL_SESSIONS_MAX} sessions` }));
      return;
    }
    const state: SessionState = this.host.leaderContact() ? 'connected' : 'disconnected';
    const session: ServedSession = {
      id: sessionId,
      timeoutMs: record.timeoutMs,
      listener: options.listener,
      auth: [],
      movable: true,
      state,
      queue: [],
      closing: null,
      throttled: false,
      lossesUndelivered: 0,
      ended: false,
    };
    this.sessions.set(sessionId, session);
    const { events, refused } = setWatches(this.host.tree, this.watches, sessionId, options.lastZxid, options.watches);
    this.host.counters.sessionsResumed += 1;
    this.host.counters.watchesRefusedOnResume += refused;
    for (const event of events) this.host.notify(() => session.listener.event(event));
    this.host.notify(() => session.listener.state(state));
    this.host.notify(() => done({ ok: true, session: { sessionId, timeoutMs: record.timeoutMs } }));
    this.ping([sessionId]);
  }

  /** Stops serving a session without closing it (RemoteServingApi.detachSession). */
  detachSession(sessionId: SessionId): void {
    const session = this.sessions.get(sessionId);
    if (session === undefined || session.ended) return;
    session.ended = true;
    this.sessions.delete(sessionId);
    this.syncsWaitingApply.delete(session);
    this.watches.removeWatcher(sessionId);
    for (const item of session.queue) {
      if (item.sync !== null) this.syncs.delete(item.sync.requestId);
      const result = item.result ?? failure('CONNECTIONLOSS', 'the session moved away from this peer', requestPath(item.request));
      this.host.notify(() => item.done(result));
    }
    session.queue.length = 0;
    for (const write of [...this.pending.values()]) {
      if (write.sessionKey === sessionId) {
        write.settled = true;
        this.pending.delete(write.requestId);
      }
    }
  }

  /** Sessions served here for client-only attachments. */
  movableSessionIds(): SessionId[] {
    return [...this.sessions.values()].filter((session) => session.movable && !session.ended).map((session) => session.id);
  }

  /** Whether this peer serves `sessionId` now. */
  serves(sessionId: SessionId): boolean {
    const session = this.sessions.get(sessionId);
    return session !== undefined && !session.ended;
  }

  /** Asks to close a session this peer does not serve: one its earlier incarnation served, whose
   *  client is gone (Peer.closeOrphans). `done` once the outcome is known (or given up). */
  closeOrphan(sessionId: SessionId, done: () => void): void {
    this.newWrite(sessionId, sessionId, [], { op: 'closeSession', sessionId }, () => done());
    this.pumpOutbox();
  }

  closeSession(sessionId: SessionId, done: Done<{ ok: true } | { ok: false; code: FailureName }>): void {
    const session = this.sessions.get(sessionId);
    const answer: Done<SessionResult> = (result) => done(result.ok ? { ok: true } : { ok: false, code: result.code });
    if (session === undefined || session.ended || session.state === 'connecting') {
      this.host.notify(() => done({ ok: false, code: 'SESSIONEXPIRED' }));
      return;
    }
    const item: Item = { kind: 'close', request: { op: 'closeSession', sessionId }, done: answer, submittedAt: this.host.now(), result: null, sync: null };
    session.queue.push(item);
    if (session.closing !== null) return; // already closing: this one completes with it
    session.closing = { startedAt: this.host.now() };
    this.sendClose(session, item);
    this.pumpOutbox();
  }

  private sendClose(session: ServedSession, item: Item): void {
    this.newWrite(session.id, session.id, session.auth, { op: 'closeSession', sessionId: session.id }, (result) => {
      if (session.ended) return;
      if (result.ok) {
        item.result = { ok: true, op: 'closeSession' };
        return; // the session ends as the same entry is applied (onRecordApplied)
      }
      const closing = session.closing;
      assert(closing !== null, 'a close in flight belongs to a closing session');
      if (result.code === 'CONNECTIONLOSS' && this.host.now() - closing.startedAt < this.host.timing.operationTimeoutMs) {
        // Outcome unknown: ask again (deferred: we may be inside a stream failure). A second
        // close of a closed session is a SESSIONEXPIRED error txn, which ends it below.
        this.host.defer(() => {
          if (session.ended) return;
          this.sendClose(session, item);
          this.pumpOutbox();
        });
        return;
      }
      if (result.code === 'SESSIONEXPIRED') {
        // Closed (or expired) already: the ensemble no longer has it.
        this.endSession(session, 'closed');
        return;
      }
      // Gave up: stop serving it here; unpinged, the leader expires it within its timeout.
      item.result = result;
      this.endSession(session, 'closed');
    });
  }

  addAuth(sessionId: SessionId, id: Id): void {
    const session = this.sessions.get(sessionId);
    if (session === undefined || session.ended) return;
    if (session.auth.some((known) => known.scheme === id.scheme && known.id === id.id)) return;
    if (session.auth.length >= AUTH_IDS_MAX) return;
    session.auth.push({ scheme: id.scheme, id: id.id });
  }

  submit(sessionId: SessionId, request: SessionRequest, done: Done<SessionResult>): void {
    const session = this.sessions.get(sessionId);
    if (session === undefined || session.ended || session.state === 'connecting') {
      this.host.notify(() => done(failure('SESSIONEXPIRED', 'this peer serves no such session', requestPath(request))));
      return;
    }
    if (request.op === 'closeSession') {
      this.closeSession(sessionId, (result) => done(result.ok ? { ok: true, op: 'closeSession' } : failure(result.code)));
      return;
    }
    const now = this.host.now();
    const item: Item = { kind: 'read', request, done, submittedAt: now, result: null, sync: null };
    const queued = (kind: ItemKind, result: SessionResult | null): void => {
      session.queue.push({ ...item, kind, result });
    };
    if (session.closing !== null) {
      queued('read', failure('SESSIONEXPIRED', 'the session is closing', requestPath(request)));
    } else if (session.throttled || session.queue.length >= SESSION_PENDING_REQUESTS_MAX) {
      session.throttled = true;
      queued('read', failure('THROTTLEDOP', `more than ${SESSION_PENDING_REQUESTS_MAX} requests pending in this session`, requestPath(request)));
    } else if (CLIENT_WRITE_OPS.has(request.op) && session.lossesUndelivered > 0) {
      const write: Item = { ...item, kind: 'write', result: failure('CONNECTIONLOSS', 'an earlier write of this session was lost and the client has not been told yet', requestPath(request)), lost: true };
      session.lossesUndelivered += 1;
      session.queue.push(write);
    } else if (CLIENT_WRITE_OPS.has(request.op) && writeRequestBoundsProblem(request as WriteRequest) !== null) {
      queued('read', failure('BADARGUMENTS', writeRequestBoundsProblem(request as WriteRequest) as string, requestPath(request)));
    } else if (CLIENT_WRITE_OPS.has(request.op)) {
      const write: Item = { ...item, kind: 'write' };
      session.queue.push(write);
      this.newWrite(session.id, session.id, session.auth, request as WriteRequest, (result) => {
        write.result = result;
        if (!result.ok && result.code === 'CONNECTIONLOSS') {
          write.lost = true;
          session.lossesUndelivered += 1;
        }
        this.drain(session);
      });
      this.pumpOutbox();
      return;
    } else if (request.op === 'sync') {
      const check = validatePath(request.path);
      if (!check.ok) {
        queued('sync', failure('BADARGUMENTS', check.reason, request.path));
      } else {
        const sync = { ...item, kind: 'sync' as const };
        session.queue.push(sync);
        this.issueSync(session, sync);
      }
    } else if (READ_OPS.has(request.op)) {
      queued('read', null);
    } else if (request.op === 'addWatch' || request.op === 'removeWatches') {
      queued('local', null);
    } else {
      queued('read', failure('BADARGUMENTS', `${request.op} is not a client request`, requestPath(request)));
    }
    this.drain(session);
  }

  // --- The FIFO -----------------------------------------------------------------------------------

  /** Delivers, in order, every request at the head of the session's FIFO that can complete now. */
  private drain(session: ServedSession): void {
    while (session.queue.length > 0) {
      const head = session.queue[0] as Item;
      if (head.result === null) {
        if (head.kind === 'read') head.result = this.serveRead(session, head.request as ReadRequest);
        else if (head.kind === 'local') head.result = this.serveLocal(session, head.request);
        else if (head.kind === 'sync' && head.sync?.index != null && this.host.replica.applied >= head.sync.index) {
          head.result = { ok: true, op: 'sync', path: (head.request as { path: string }).path };
        } else break;
      }
      session.queue.shift();
      const result = head.result;
      const lost = head.lost === true;
      this.host.notify(() => {
        if (lost) session.lossesUndelivered -= 1;
        head.done(result);
      });
    }
    if (session.queue.length === 0) session.throttled = false;
  }

  private serveRead(session: ServedSession, request: ReadRequest): SessionResult {
    const result = this.host.tree.read(request, { sessionId: session.id, auth: session.auth });
    const watch = watchForRead(this.watches, session.id, request, result);
    if (watch !== null && !watch.ok) return failure(watch.code, watch.reason, requestPath(request));
    return result;
  }

  private serveLocal(session: ServedSession, request: SessionRequest): SessionResult {
    if (request.op === 'addWatch') {
      const outcome = this.watches.addWatch(session.id, request.path, request.mode);
      return outcome.ok ? { ok: true, op: 'addWatch' } : failure(outcome.code, outcome.reason, request.path);
    }
    assert(request.op === 'removeWatches', `serveLocal: ${request.op} is local`);
    const outcome = this.watches.remove(session.id, request.path, request.kind);
    return outcome.ok ? { ok: true, op: 'removeWatches' } : failure(outcome.code, outcome.reason, request.path);
  }

  // --- Sync -----------------------------------------------------------------------------------

  private issueSync(session: ServedSession, item: Item): void {
    const status = this.host.replica.summary();
    const requestId = this.host.nextRequestId();
    const previous = item.sync;
    if (previous !== null) this.syncs.delete(previous.requestId);
    const sync: SyncState = { requestId, retryAt: this.host.now() + this.host.timing.syncRetryMs, leader: status.leader, term: status.term, index: null };
    item.sync = sync;
    this.syncs.set(requestId, { session, item });
    this.host.replica.withNode((node) => {
      // Refused (no leader known, too many reads): ask again at the next tick.
      if (!node.readIndex(requestId).ok) sync.retryAt = this.host.now();
    });
  }

  onReadState(state: ReadState): void {
    const waiting = this.syncs.get(state.requestId);
    if (waiting === undefined) return;
    this.syncs.delete(state.requestId);
    const sync = waiting.item.sync;
    assert(sync !== null && sync.requestId === state.requestId, 'a read state answers the sync that asked');
    sync.index = state.index;
    this.syncsWaitingApply.add(waiting.session);
    this.drain(waiting.session);
  }

  // --- Writes and the stream ----------------------------------------------------------------------

  private newWrite(sessionKey: SessionId, sessionId: SessionId | null, auth: readonly Id[], request: WriteRequest, onResult: (result: SessionResult) => void, movable = false): void {
    const requestId = movable ? `${MOVABLE_REQUEST_MARK}${this.host.nextRequestId()}` : this.host.nextRequestId();
    const write: PendingWrite = {
      requestId,
      sessionKey,
      sessionId,
      auth: auth.map((id) => ({ ...id })),
      request,
      createdAt: this.host.now(),
      sentAt: 0,
      settled: false,
      onResult,
    };
    this.pending.set(requestId, write);
    this.outbox.push(write);
  }

  private settle(write: PendingWrite, result: SessionResult): void {
    if (write.settled) return;
    write.settled = true;
    this.pending.delete(write.requestId);
    write.onResult(result);
  }

  /** Sends what the outbox holds on the current stream (opening one if a leader is known). */
  pumpOutbox(): void {
    this.checkStream();
    if (this.outbox.length === 0) return;
    const status = this.host.replica.summary();
    if (status.leader === null) return;
    const refused = this.refusedBy;
    if (refused !== null && refused.leader === status.leader && refused.term === status.term) return; // wait for news
    this.refusedBy = null;
    if (this.stream === null) {
      this.streamCounter += 1;
      this.stream = { id: { incarnation: this.host.incarnation, number: this.streamCounter }, leader: status.leader, term: status.term, nextSeq: 0, inflight: new Map(), probedAt: 0 };
      this.host.counters.streamsOpened += 1;
    }
    const stream = this.stream;
    const now = this.host.now();
    while (this.outbox.length > 0 && stream.inflight.size < STREAM_WRITES_IN_FLIGHT_MAX) {
      const write = this.outbox.shift() as PendingWrite;
      if (write.settled) continue;
      const seq = stream.nextSeq;
      stream.nextSeq += 1;
      write.sentAt = now;
      stream.inflight.set(write.requestId, write);
      this.host.send(stream.leader, {
        kind: 'forward',
        forward: { term: stream.term, stream: stream.id, seq, requestId: write.requestId, sessionId: write.sessionId, auth: write.auth, request: write.request },
      });
    }
  }

  /** Fails the stream when the leader or its term changed since it opened. */
  checkStream(): void {
    const stream = this.stream;
    if (stream === null) return;
    const status = this.host.replica.summary();
    if (status.leader !== stream.leader || status.term !== stream.term) {
      this.failStream(`the leader changed (${stream.leader} in term ${stream.term} -> ${status.leader ?? 'none'} in term ${status.term})`);
    }
  }

  /**
   * Every write in flight fails with CONNECTIONLOSS (outcome unknown), and so does every unsent
   * write of a session that had one in flight: a later write must not take effect when an
   * earlier one may have been refused.
   */
  private failStream(reason: string): void {
    const stream = this.stream;
    if (stream === null) return;
    this.stream = null;
    this.host.counters.streamsFailed += 1;
    const affected = new Set<SessionId>();
    for (const write of stream.inflight.values()) {
      if (write.settled) continue;
      affected.add(write.sessionKey);
      this.settle(write, failure('CONNECTIONLOSS', reason, requestPath(write.request)));
    }
    const outbox = this.outbox;
    this.outbox = [];
    for (const write of outbox) {
      if (write.settled) continue;
      if (affected.has(write.sessionKey)) {
        this.settle(write, failure('CONNECTIONLOSS', `an earlier write of the session was lost: ${reason}`, requestPath(write.request)));
      } else {
        this.outbox.push(write);
      }
    }
  }

  onRefused(refusal: ForwardRefusal): void {
    const stream = this.stream;
    if (stream === null || refusal.stream.incarnation !== stream.id.incarnation || refusal.stream.number !== stream.id.number) return;
    if (refusal.cause === 'not-leader' || (refusal.cause === 'stale-term' && refusal.term > stream.term)) {
      this.refusedBy = { leader: stream.leader, term: stream.term };
    }
    this.failStream(`the leader refused the write stream (${refusal.cause})`);
    this.pumpOutbox();
  }

  // --- Apply --------------------------------------------------------------------------------------

  /** A normal entry was applied: fire watches, answer our own write, end a closed session. */
  onRecordApplied(_entry: Entry, record: LogRecord, applied: Applied): void {
    // UNSAFE RUNTIME MUTATION (test-only, host.ts): answer the write before firing its watches.
    const resultFirst = this.host.unsafeRuntimeMutations.resultBeforeWatchEvents === true;
    if (!resultFirst) this.fireWatches(applied);
    if (record.origin === this.host.id) {
      this.stream?.inflight.delete(record.requestId);
      const write = this.pending.get(record.requestId);
      if (write !== undefined) this.settle(write, withPath(applied.result, write.request));
    }
    if (resultFirst) this.fireWatches(applied);
    const body = record.txn.body;
    if (body.type === 'closeSession') {
      const session = this.sessions.get(body.sessionId);
      if (session !== undefined) this.endSession(session, session.closing !== null ? 'closed' : 'expired');
    }
  }

  /** Queues the watch events an applied entry fired, for the sessions served here. */
  private fireWatches(applied: Applied): void {
    for (const event of this.watches.trigger(applied.triggers, (watcher) => this.sessions.get(watcher)?.auth ?? [])) {
      const session = this.sessions.get(event.watcher);
      if (session === undefined || session.ended) continue;
      this.host.notify(() => session.listener.event(event));
    }
  }

  /** After every applied entry: syncs whose index is now applied complete. */
  onAppliedIndex(index: number): void {
    if (this.syncsWaitingApply.size === 0) return;
    for (const session of [...this.syncsWaitingApply]) {
      const waiting = session.queue.some((item) => item.kind === 'sync' && item.result === null && item.sync?.index != null && item.sync.index > index);
      if (!waiting) this.syncsWaitingApply.delete(session);
      this.drain(session);
    }
  }

  /** The tree was replaced by an installed snapshot: writes in flight may be inside it (their
   *  results are lost), and sessions it does not hold are gone. */
  onRestored(): void {
    this.failStream('this replica installed a snapshot');
    for (const session of [...this.sessions.values()]) {
      if (session.state !== 'connecting' && !this.host.tree.hasSession(session.id)) this.endSession(session, 'expired');
    }
    this.pumpOutbox();
  }

  private endSession(session: ServedSession, state: 'closed' | 'expired'): void {
    if (session.ended) return;
    this.drain(session);
    session.ended = true;
    session.state = state;
    this.sessions.delete(session.id);
    this.syncsWaitingApply.delete(session);
    this.watches.removeWatcher(session.id);
    this.host.notify(() => session.listener.state(state));
    for (const item of session.queue) {
      if (item.sync !== null) this.syncs.delete(item.sync.requestId);
      const result: SessionResult = item.kind === 'close' ? { ok: true, op: 'closeSession' } : failure('SESSIONEXPIRED', `the session ${state === 'closed' ? 'was closed' : 'expired'}`, requestPath(item.request));
      this.host.notify(() => item.done(result));
    }
    session.queue.length = 0;
    for (const write of [...this.pending.values()]) {
      if (write.sessionKey === session.id) {
        write.settled = true;
        this.pending.delete(write.requestId);
      }
    }
  }

  // --- Time ---------------------------------------------------------------------------------------

  /** Once per raft tick: the stream's leader, timeouts, sync retries, connection states. */
  raftTick(): void {
    const now = this.host.now();
    const timeout = this.host.timing.operationTimeoutMs;
    this.checkStream();
    const stream = this.stream;
    if (stream !== null) {
      for (const write of stream.inflight.values()) {
        if (write.settled) continue;
        if (now - write.sentAt > timeout) {
          this.failStream(`no answer from leader ${stream.leader} within ${timeout} ms`);
        } else if (now - write.sentAt > this.host.timing.forwardProbeAfterMs && now - stream.probedAt >= this.host.timing.forwardProbeAfterMs) {
          // Old for a write: ask whether the leader received every forward (it answers only a gap).
          stream.probedAt = now;
          this.host.counters.forwardProbes += 1;
          this.host.send(stream.leader, { kind: 'forward-probe', probe: { term: stream.term, stream: stream.id, nextSeq: stream.nextSeq } });
        }
        break; // only the oldest matters: the rest were sent after it
      }
    }
    this.expireUnsent(now, timeout);
    this.retrySyncs(now, timeout);
    this.updateConnectionStates();
    this.pumpOutbox();
  }

  /** Unsent writes older than the timeout fail, with every later unsent write of their session. */
  private expireUnsent(now: number, timeout: number): void {
    const first = this.outbox.find((write) => !write.settled);
    if (first === undefined || now - first.createdAt <= timeout) return;
    const status = this.host.replica.summary();
    const cause = status.leader === null ? `no leader for ${timeout} ms: the ensemble has no quorum reachable from this peer` : `could not reach leader ${status.leader} within ${timeout} ms`;
    const expired = new Set<SessionId>();
    const outbox = this.outbox;
    this.outbox = [];
    for (const write of outbox) {
      if (write.settled) continue;
      if (now - write.createdAt > timeout || expired.has(write.sessionKey)) {
        expired.add(write.sessionKey);
        this.settle(write, failure('CONNECTIONLOSS', cause, requestPath(write.request)));
      } else {
        this.outbox.push(write);
      }
    }
  }

  private retrySyncs(now: number, timeout: number): void {
    const status = this.host.replica.summary();
    const again: { session: ServedSession; item: Item }[] = [];
    for (const waiting of [...this.syncs.values()]) {
      const { item, session } = waiting;
      const sync = item.sync;
      assert(sync !== null, 'a waiting sync has its state');
      if (now - item.submittedAt > timeout) {
        this.syncs.delete(sync.requestId);
        item.result = failure('OPERATIONTIMEOUT', `sync got no read index within ${timeout} ms`, requestPath(item.request));
        this.drain(session);
      } else if (sync.retryAt <= now || sync.leader !== status.leader || sync.term !== status.term) {
        again.push(waiting);
      }
    }
    for (const { session, item } of again) this.issueSync(session, item);
  }

  private updateConnectionStates(): void {
    const contact = this.host.leaderContact();
    for (const session of this.sessions.values()) {
      if (session.state !== 'connected' && session.state !== 'disconnected') continue;
      const next: SessionState = contact ? 'connected' : 'disconnected';
      if (next === session.state) continue;
      session.state = next;
      this.host.notify(() => session.listener.state(next));
    }
  }

  /** Once per session tick: tell the leader that the sessions served here are alive. */
  sessionTick(): void {
    const status = this.host.replica.summary();
    if (status.leader === null) return;
    this.ping([...this.sessions.values()].filter((session) => !session.ended).map((session) => session.id));
  }

  private ping(ids: readonly SessionId[]): void {
    const status = this.host.replica.summary();
    if (status.leader === null) return;
    for (let start = 0; start < ids.length; start += PING_SESSIONS_PER_MESSAGE_MAX) {
      this.host.send(status.leader, { kind: 'ping', term: status.term, sessions: ids.slice(start, start + PING_SESSIONS_PER_MESSAGE_MAX) });
    }
  }

  /** The peer stops: every pending request fails with CONNECTIONLOSS (outcome unknown). */
  shutdown(reason: string): void {
    this.failStream(reason);
    for (const write of this.outbox) this.settle(write, failure('CONNECTIONLOSS', reason, requestPath(write.request)));
    this.outbox = [];
    for (const session of this.sessions.values()) {
      for (const item of session.queue) {
        const result = item.result ?? failure('CONNECTIONLOSS', reason, requestPath(item.request));
        this.host.notify(() => item.done(result));
      }
      session.queue.length = 0;
      if (session.state === 'connected') {
        session.state = 'disconnected';
        this.host.notify(() => session.listener.state('disconnected'));
      }
    }
    this.syncs.clear();
    this.syncsWaitingApply.clear();
  }
}
