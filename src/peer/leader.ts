/**
 * The leader's duties (ZooKeeper's leader pipeline on top of Raft):
 *
 * - INTAKE. Forwarded client writes (and the leader's own clean-ups) queue here, bounded by
 *   LEADER_INTAKE_WRITES_MAX, and leave in order: prep (tree.preparer(), ZooKeeper's
 *   PrepRequestProcessor) then propose, with ctx.zxid = the index the entry will get (the node's
 *   lastIndex + 1 inside `replica.withNode`; the propose outcome's index is asserted equal).
 * - PREP GATES (src/core/tree/README.md). A new leader preps nothing until it has applied its log
 *   through its term's first entry (the no-op): a txn is only valid against the state it was
 *   prepared on. After a refused proposal the preparer is reset and nothing is prepped until
 *   applied >= the last index at that moment (the prep barrier): the overlay then holds nothing
 *   the tree does not show.
 * - STREAMS. Forwards arrive on streams (serving.ts): request k of a stream is accepted only if it
 *   is the next expected and can be queued; any refusal kills the stream (later requests are
 *   refused too) and tells the serving peer, which fails the stream's writes with CONNECTIONLOSS.
 *   One stream record per serving peer; a higher stream number replaces a lower one, and forwards
 *   of a lower number are refused, so a write delayed in the network can never take effect after
 *   a later write that went on a newer stream.
 * - SESSIONS. Last-heard time per session (volatile). A new leader gives every session a full
 *   timeout from its start (ZooKeeper's SessionTracker does the same); silent sessions are expired
 *   by proposing closeSession, so ephemerals vanish identically on every replica.
 * - CLEAN-UPS. Periodically `tree.due(now, cursor)` and a deleteContainer for each path (bounded
 *   per sweep by the tree's SWEEP_PATHS_PER_CALL_MAX and by the intake's room).
 * - MEMBERSHIP. membership.ts decides; this proposes one change at a time, adds joining peers as
 *   learners, and tells removed peers that they were removed.
 */

import { assert } from '../core/assert.js';
import { isMember, type Config, type Entry, type PeerId, type Status } from '../core/consensus/index.js';
import type { RawNode } from '../core/consensus/index.js';
import type { Applied, Preparer } from '../core/tree/index.js';
import type { Id, SessionId, WriteRequest } from '../core/tree/types.js';
import { EXPIRIES_PER_TICK_MAX, LEADER_INTAKE_WRITES_MAX, REMOVED_NOTICE_INTERVAL_MS } from './constants.js';
import type { PeerHost } from './host.js';
import { nextMembershipChange } from './membership.js';
import { encodeLogRecord, type LogRecord } from './record.js';
import type { Forward, ForwardProbe, RefusalCause, StreamId } from './wire.js';

/** A write waiting to be prepped and proposed. */
interface IntakeItem {
  readonly origin: PeerId;
  readonly requestId: string;
  readonly sessionId: SessionId | null;
  readonly auth: readonly Id[];
  readonly request: WriteRequest;
  /** The forward stream it came on; null for the leader's own clean-ups. */
  readonly stream: { readonly from: PeerId; readonly id: StreamId; readonly seq: number } | null;
}

/** The leader's state for one term. */
interface LeaderTerm {
  readonly term: number;
  /** The index of the term's no-op: prep waits until it is applied. */
  readonly startIndex: number;
  readonly startedAt: number;
  readonly preparer: Preparer;
}

interface StreamRecord {
  readonly incarnation: string;
  readonly number: number;
  nextSeq: number;
  dead: boolean;
}

interface TrackedSession {
  heardAt: number;
  readonly timeoutMs: number;
  /** When closeSession was proposed for it (it is not proposed again within an operation timeout). */
  expiringAt: number | null;
}

type SystemWrite = { readonly kind: 'expire'; readonly sessionId: SessionId } | { readonly kind: 'sweep'; readonly path: string };

/** What the leader needs of RawNode.status(). */
type StatusView = Pick<Status, 'role' | 'term' | 'lastIndex' | 'leadTransferee'>;

export class LeaderDuties {
  private current: LeaderTerm | null = null;
  private barrierIndex: number | null = null;
  private intake: IntakeItem[] = [];
  private intakeScheduled = false;
  private membershipScheduled = false;
  private readonly streams = new Map<PeerId, StreamRecord>();
  private readonly sessions = new Map<SessionId, TrackedSession>();
  private readonly system = new Map<string, SystemWrite>();
  private readonly sweeping = new Set<string>();
  private sweepCursor: string | null = null;
  private readonly removedNoticeAt = new Map<PeerId, number>();
  /** Set by a graceful leave: no membership changes while leadership is being handed off. */
  leaving = false;

  constructor(private readonly host: PeerHost) {}

  /** The term this peer leads, or null. */
  get term(): number | null {
    return this.current?.term ?? null;
  }

  get intakeLength(): number {
    return this.intake.length;
  }

  /**
   * Follows leadership from the node's status. Every proposal site calls this first, inside the
   * same `withNode` action as the proposal, so the first observation of a new term happens before
   * any proposal of ours in it: the last index is then the term's no-op (asserted).
   */
  observe(status: StatusView): void {
    const current = this.current;
    const leading = status.role === 'leader';
    if (current !== null && (!leading || status.term !== current.term)) this.lose();
    if (leading && this.current === null) this.become(status.term, status.lastIndex);
  }

  private become(term: number, startIndex: number): void {
    const log = this.host.replica.inspectLog();
    const last = log.entries[log.entries.length - 1];
    assert(last !== undefined && last.index === startIndex, `leader: the last entry is at ${startIndex}`);
    assert(last.kind === 'noop' && last.term === term, `leader: entry ${startIndex} is the no-op of term ${term}`);
    const now = this.host.now();
    this.current = { term, startIndex, startedAt: now, preparer: this.host.tree.preparer() };
    this.barrierIndex = null;
    // ZooKeeper: a new leader gives every session a full timeout from its start. Sessions the log
    // creates later get theirs when their createSession is applied.
    for (const session of this.host.tree.sessions()) {
      this.sessions.set(session.sessionId, { heardAt: now, timeoutMs: session.timeoutMs, expiringAt: null });
    }
    // Sessions whose serving peer left the room (often: the previous leader's tab closed) are
    // closed now, not at the first session tick.
    this.host.defer(() => this.sessionTick());
  }

  private lose(): void {
    // Nothing prepared in this term will be applied as prepared (the tree README's rule); the
    // next term gets a fresh preparer anyway.
    this.current?.preparer.reset();
    this.current = null;
    this.barrierIndex = null;
    this.refuseAll('not-leader');
    this.streams.clear();
    this.sessions.clear();
    this.system.clear();
    this.sweeping.clear();
    this.sweepCursor = null;
    this.removedNoticeAt.clear();
  }

  // --- Intake ---------------------------------------------------------------------------------

  onForward(from: PeerId, forward: Forward): void {
    const status = this.host.replica.summary();
    this.observe(status);
    if (this.current === null) return this.refuse(from, forward.stream, forward.seq, 'not-leader');
    if (forward.term !== this.current.term) return this.refuse(from, forward.stream, forward.seq, 'stale-term');
    const record = this.acceptStream(from, forward);
    if (record === null) return;
    if (this.intake.length >= LEADER_INTAKE_WRITES_MAX) {
      record.dead = true;
      return this.refuse(from, forward.stream, forward.seq, 'queue-full');
    }
    record.nextSeq += 1;
    if (forward.sessionId !== null) this.touch(forward.sessionId);
    this.intake.push({
      origin: from,
      requestId: forward.requestId,
      sessionId: forward.sessionId,
      auth: forward.auth,
      request: forward.request,
      stream: { from, id: forward.stream, seq: forward.seq },
    });
    this.pumpIntake();
  }

  /**
   * A serving peer's stream has a write in flight for FORWARD_PROBE_AFTER_MS. Forwards and the
   * probe travel one ordered channel, so a forward before `probe.nextSeq` that has not arrived was
   * lost: the stream dies (later forwards of it are refused too) and the serving peer fails its
   * writes with CONNECTIONLOSS. A whole stream gets no answer: its writes are queued or in the log.
   */
  onForwardProbe(from: PeerId, probe: ForwardProbe): void {
    const status = this.host.replica.summary();
    this.observe(status);
    if (this.current === null) return this.refuse(from, probe.stream, 0, 'not-leader');
    if (probe.term !== this.current.term) return this.refuse(from, probe.stream, 0, 'stale-term');
    const { incarnation, number } = probe.stream;
    const record = this.streams.get(from);
    if (record === undefined || record.incarnation !== incarnation || number > record.number) {
      if (probe.nextSeq === 0) return;
      // Not even its first forward arrived. Remember the stream as dead, so none of it lands late.
      this.streams.set(from, { incarnation, number, nextSeq: 0, dead: true });
      return this.lost(from, probe.stream, 0);
    }
    if (number < record.number) return this.refuse(from, probe.stream, 0, 'stale-stream');
    if (record.dead) return this.refuse(from, probe.stream, record.nextSeq, 'stream-dead');
    if (record.nextSeq < probe.nextSeq) {
      record.dead = true;
      return this.lost(from, probe.stream, record.nextSeq);
    }
  }

  private lost(to: PeerId, stream: StreamId, seq: number): void {
    this.host.counters.forwardsLost += 1;
    this.refuse(to, stream, seq, 'forward-lost');
  }

  /** The stream record that may take `forward` next, or null after refusing it. */
  private acceptStream(from: PeerId, forward: Forward): StreamRecord | null {
    const { incarnation, number } = forward.stream;
    const record = this.streams.get(from);
    if (record === undefined || record.incarnation !== incarnation || number > record.number) {
      if (forward.seq !== 0) {
        this.refuse(from, forward.stream, forward.seq, 'out-of-order');
        return null;
      }
      const fresh: StreamRecord = { incarnation, number, nextSeq: 0, dead: false };
      this.streams.set(from, fresh);
      return fresh;
    }
    if (number < record.number) {
      this.refuse(from, forward.stream, forward.seq, 'stale-stream');
      return null;
    }
    if (record.dead) {
      this.refuse(from, forward.stream, forward.seq, 'stream-dead');
      return null;
    }
    if (forward.seq !== record.nextSeq) {
      record.dead = true;
      this.refuse(from, forward.stream, forward.seq, 'out-of-order');
      return null;
    }
    return record;
  }

  private refuse(to: PeerId, stream: StreamId, seq: number, cause: RefusalCause): void {
    this.host.counters.forwardsRefused += 1;
    const status = this.host.replica.summary();
    this.host.send(to, { kind: 'forward-refused', refusal: { term: status.term, stream, seq, cause, leader: status.leader } });
  }

  /** Refuses `item` and every later item of its stream (the stream dies); drops a clean-up. */
  private refuseItem(item: IntakeItem, cause: RefusalCause): void {
    const stream = item.stream;
    if (stream === null) {
      this.intake = this.intake.filter((other) => other !== item);
      this.forgetSystem(item.requestId);
      return;
    }
    const record = this.streams.get(stream.from);
    if (record !== undefined && record.incarnation === stream.id.incarnation && record.number === stream.id.number) record.dead = true;
    this.intake = this.intake.filter((other) => !sameStream(other, stream.from, stream.id));
    this.refuse(stream.from, stream.id, stream.seq, cause);
  }

  private refuseAll(cause: RefusalCause): void {
    const firsts: IntakeItem[] = [];
    const seen = new Set<string>();
    for (const item of this.intake) {
      if (item.stream === null) continue;
      const key = `${item.stream.from}\u0000${item.stream.id.incarnation}\u0000${item.stream.id.number}`;
      if (seen.has(key)) continue;
      seen.add(key);
      firsts.push(item);
    }
    this.intake = [];
    for (const item of firsts) {
      const stream = item.stream;
      assert(stream !== null, 'refuseAll: stream items only');
      this.refuse(stream.from, stream.id, stream.seq, cause);
    }
  }

  /** Whether prep may run now: leading, the term's no-op applied, no barrier, no transfer. */
  private gateOpen(status: StatusView | null): boolean {
    const current = this.current;
    if (current === null) return false;
    const applied = this.host.replica.applied;
    if (applied < current.startIndex) return false;
    if (this.barrierIndex !== null) {
      if (applied < this.barrierIndex) return false;
      this.barrierIndex = null;
    }
    return status === null || status.leadTransferee === null;
  }

  /** Schedules one action on the node that preps and proposes what the intake holds. */
  private pumpIntake(): void {
    if (this.intake.length === 0 || this.intakeScheduled) return;
    if (!this.gateOpen(null)) return;
    this.intakeScheduled = true;
    const queued = this.host.replica.withNode((node) => this.drainIntake(node));
    if (!queued) this.intakeScheduled = false;
  }

  private drainIntake(node: RawNode): void {
    this.intakeScheduled = false;
    const status = node.status();
    this.observe(status);
    const current = this.current;
    if (current === null || !this.gateOpen(status)) return;
    const time = this.host.now();
    let lastIndex = status.lastIndex;
    while (this.intake.length > 0) {
      const item = this.intake[0] as IntakeItem;
      const zxid = lastIndex + 1;
      const prepared = current.preparer.prep(item.request, { sessionId: item.sessionId, auth: [...item.auth], time, zxid });
      const record: LogRecord = { origin: item.origin, requestId: item.requestId, txn: prepared.txn };
      const outcome = node.propose(encodeLogRecord(record));
      if (!outcome.ok) {
        // The prepared txn will not be appended: the overlay must forget it, and everything it
        // prepared since (nothing: we stop here). Prep again only once the tree shows all that
        // was proposed (the prep barrier).
        this.host.counters.proposalsRefused += 1;
        current.preparer.reset();
        this.barrierIndex = lastIndex;
        this.refuseItem(item, 'proposal-refused');
        return;
      }
      assert(outcome.index === zxid, `leader: proposal got index ${outcome.index}, prepped at zxid ${zxid}`);
      lastIndex = zxid;
      this.intake.shift();
      this.host.counters.writesProposed += 1;
    }
  }

  // --- Apply ----------------------------------------------------------------------------------

  /** A normal entry was applied (every peer calls this; only a leader acts). */
  onRecordApplied(entry: Entry, record: LogRecord, _applied: Applied): void {
    const current = this.current;
    if (current === null) return;
    current.preparer.applied(entry.index);
    const body = record.txn.body;
    if (body.type === 'createSession') {
      this.sessions.set(body.sessionId, { heardAt: this.host.now(), timeoutMs: body.timeoutMs, expiringAt: null });
    } else if (body.type === 'closeSession') {
      this.sessions.delete(body.sessionId);
    }
    if (record.origin === this.host.id) this.onSystemApplied(record);
  }

  private onSystemApplied(record: LogRecord): void {
    const write = this.system.get(record.requestId);
    if (write === undefined) return;
    this.forgetSystem(record.requestId);
    if (write.kind === 'expire') {
      if (!this.host.tree.hasSession(write.sessionId)) this.sessions.delete(write.sessionId);
    }
  }

  private forgetSystem(requestId: string): void {
    const write = this.system.get(requestId);
    if (write === undefined) return;
    this.system.delete(requestId);
    if (write.kind === 'sweep') this.sweeping.delete(write.path);
    if (write.kind === 'expire') {
      const tracked = this.sessions.get(write.sessionId);
      if (tracked !== undefined) tracked.expiringAt = null;
    }
  }

  /** After every applied entry: a prep gate may have opened. */
  onAppliedIndex(): void {
    if (this.intake.length > 0) this.pumpIntake();
  }

  // --- Sessions -------------------------------------------------------------------------------

  private touch(sessionId: SessionId): void {
    const tracked = this.sessions.get(sessionId);
    if (tracked !== undefined) tracked.heardAt = this.host.now();
  }

  onPing(sessions: readonly SessionId[]): void {
    if (this.current === null) return;
    for (const sessionId of sessions) this.touch(sessionId);
  }

  /** Once per session tick (and when a departure is confirmed): expire the sessions silent past
   *  their timeout, and those whose serving peer is gone (host.servingGone: it left the room, or
   *  the incarnation that served them ended). */
  sessionTick(): void {
    if (this.current === null) return;
    const now = this.host.now();
    let proposed = 0;
    for (const [sessionId, tracked] of this.sessions) {
      if (proposed >= EXPIRIES_PER_TICK_MAX || this.intake.length >= LEADER_INTAKE_WRITES_MAX) break;
      if (now - tracked.heardAt <= tracked.timeoutMs && !this.host.servingGone(sessionId)) continue;
      if (tracked.expiringAt !== null && now - tracked.expiringAt < this.host.timing.operationTimeoutMs) continue;
      tracked.expiringAt = now;
      this.enqueueSystem({ kind: 'expire', sessionId }, { op: 'closeSession', sessionId });
      this.host.counters.sessionsExpired += 1;
      proposed += 1;
    }
    this.pumpIntake();
  }

  private enqueueSystem(write: SystemWrite, request: WriteRequest): void {
    const requestId = this.host.nextRequestId();
    this.system.set(requestId, write);
    this.intake.push({ origin: this.host.id, requestId, sessionId: null, auth: [], request, stream: null });
  }

  // --- Containers and TTL nodes -----------------------------------------------------------------

  /** Once per sweep interval: propose deleteContainer for the containers and TTL nodes now due. */
  sweep(): void {
    if (this.current === null || !this.gateOpen(null)) return;
    const due = this.host.tree.due(this.host.now(), this.sweepCursor);
    this.sweepCursor = due.cursor;
    for (const path of due.paths) {
      if (this.intake.length >= LEADER_INTAKE_WRITES_MAX) break;
      if (this.sweeping.has(path)) continue;
      this.sweeping.add(path);
      this.enqueueSystem({ kind: 'sweep', path }, { op: 'deleteContainer', path });
      this.host.counters.containersSwept += 1;
    }
    this.pumpIntake();
  }

  // --- Membership -----------------------------------------------------------------------------

  /** Once per raft tick: propose the next membership change, if any. */
  raftTick(): void {
    if (this.current === null || this.leaving || this.membershipScheduled) return;
    const status = this.host.replica.status();
    if (status.role !== 'leader' || status.progress === null) return;
    const decision = nextMembershipChange({
      self: this.host.id,
      config: status.config,
      progress: status.progress,
      lastIndex: status.lastIndex,
      now: this.host.now(),
      lastHeard: (peer) => this.lastHeard(peer),
      targetVoters: this.host.targetVoters,
      voterUnreachableMs: this.host.timing.voterUnreachableMs,
      learnerUnreachableMs: this.host.timing.learnerUnreachableMs,
    });
    if (decision === null) return;
    this.membershipScheduled = true;
    const queued = this.host.replica.withNode((node) => {
      this.membershipScheduled = false;
      this.observe(node.status());
      if (this.current === null || this.leaving) return;
      if (node.proposeConfigChange(decision.change).ok) this.host.counters.configChanges += 1;
    });
    if (!queued) this.membershipScheduled = false;
  }

  /** When the leader last heard from `peer`; a member never heard in this term counts from the
   *  term's start (a new leader gives every member the full grace); a departed peer: never. */
  private lastHeard(peer: PeerId): number | undefined {
    // A peer that left the room is silent from that moment: demoted or removed without waiting.
    if (this.host.departed.has(peer)) return undefined;
    const heard = this.host.lastHeard.get(peer);
    const startedAt = this.current?.startedAt;
    if (startedAt === undefined) return heard;
    return heard === undefined ? startedAt : Math.max(heard, startedAt);
  }

  /** A non-member asks to join: add it as a learner (promotion comes later, membership.ts). */
  onJoin(from: PeerId): void {
    if (this.current === null || this.leaving) return;
    if (isMember(this.host.replica.summary().config, from)) return;
    this.host.replica.withNode((node) => {
      this.observe(node.status());
      if (this.current === null || isMember(node.status().config, from)) return;
      if (node.proposeConfigChange({ type: 'add-learner', peer: from }).ok) this.host.counters.configChanges += 1;
    });
  }

  /**
   * A Raft message came from `from`. If neither the latest nor the committed configuration holds
   * it, it is a removed peer that never received its removal (it keeps campaigning with its old
   * configuration): tell it, at most once per REMOVED_NOTICE_INTERVAL_MS.
   */
  noticeSender(from: PeerId, config: Config): void {
    if (this.current === null || isMember(config, from)) return;
    const committed = this.host.committedConfig();
    if (isMember(committed.config, from)) return;
    const now = this.host.now();
    const last = this.removedNoticeAt.get(from);
    if (last !== undefined && now - last < REMOVED_NOTICE_INTERVAL_MS) return;
    this.removedNoticeAt.set(from, now);
    this.host.counters.removedNoticesSent += 1;
    this.host.send(from, { kind: 'removed', term: this.current.term, configIndex: committed.index });
  }
}

function sameStream(item: IntakeItem, from: PeerId, id: StreamId): boolean {
  const stream = item.stream;
  return stream !== null && stream.from === from && stream.id.incarnation === id.incarnation && stream.id.number === id.number;
}
