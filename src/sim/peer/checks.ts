/**
 * The peer simulator's runtime checkers: what ZooKeeper promises above Raft, judged only where a
 * correct runtime cannot produce a false alarm. (Raft's own properties and equal tree digests at
 * equal applied indexes are the Raft simulator's SafetyMonitor, reused; linearizability of the CAS
 * znodes is src/testing's checker.)
 *
 * THE COMMITTED LOG. Every index is processed once, when the first replica applies it (all replicas
 * apply the same entry there: the SafetyMonitor fails the seed otherwise), with that replica's tree
 * right after it. From it:
 * - sessions: after a closeSession no ephemeral of the session is left and the session is gone; an
 *   ephemeral disappears only by its owner's delete or its owner's closeSession (the workload never
 *   deletes another session's ephemeral); no ephemeral is created for a session that is closed.
 * - lock: the holder implied by the log is the lowest-sequence child of LOCK_PATH (one at a time by
 *   construction); each new holder's czxid (its fencing token) is above every earlier holder's.
 * - fencing: every write of FENCE_PATH carries the token of the log's current holder, written by
 *   the holder's session, and the tokens written never go down.
 * - election: the leader implied by the log is the lowest-sequence latch node under ELECTION_PATH;
 *   each new one's czxid (its epoch) is above every earlier one's. Every latch node's life
 *   [czxid, deletion zxid) is kept, so the latch children at any committed index are known.
 *
 * THE CLIENTS. What a session was told, judged against the committed log and its serving peer:
 * - sessions: a client told `expired` (or `closed` without having asked) has its closeSession
 *   applied at its serving peer, which holds neither the session nor its ephemerals.
 * - lock: a client believes it holds from the getChildren answer that shows its node first until it
 *   releases, closes, or hears that its session ended. ZooKeeper's holder is only the holder until
 *   its session expires, so a belief is VALID while its lock node is not yet deleted in the
 *   committed log. At a grant: no other valid belief exists (mutual exclusion), and no earlier
 *   grant had a greater token unless this grant's node was already deleted before that earlier
 *   grant (a stale client on a lagging peer; provably the only way a correct runtime gets there:
 *   the earlier, higher grant saw this node absent, so its deletion was applied before it).
 * - election (the LeaderElection recipe): a participant believes it leads from its `elected`
 *   (the getChildren answer showed its latch node first, and the getData that watches its own node
 *   answered) until it relinquishes, closes, finds its node gone, or hears that its session ended;
 *   VALID while its latch node is not deleted in the committed log, as for the lock. At each
 *   `elected`: the latch children the answer showed are exactly the log's latch children at the
 *   index the answer was read at (its pzxid: the last change of the child list), and the node is
 *   the lowest of them; no other valid belief exists (one leader at a time); and its epoch (its
 *   node's czxid) is above every earlier leader's, unless its node was already deleted before that
 *   earlier `elected` (a stale answer from a lagging peer, the lock's argument).
 * - watches: per session, events come in zxid order; a one-shot watch set by a read (baseline: the
 *   node's czxid/mzxid, or its absence, or the children's pzxid, as that read saw them) fires before
 *   any later result of the session that shows the node changed since the baseline — the change
 *   was applied at the serving peer after the watch was registered, so its event is queued first;
 *   at the end, a watch still armed in a live session must not have missed a change of its node
 *   in the serving peer's final tree (never lost). A snapshot installed at runtime loses the events
 *   of the entries it covers (a known runtime gap, docs/architecture.md): the sessions of that peer
 *   forget their watches then (counted).
 * - sequential creates: unique names; a create that returned before another was invoked has the
 *   lower sequence number; every acknowledged one is in every live replica's final tree.
 */

import { assert } from '../../core/assert.js';
import type { Entry } from '../../core/consensus/index.js';
import type { DataTree } from '../../core/tree/index.js';
import type { SessionId, Stat, TxnBody, TxnHeader, WatchEvent } from '../../core/tree/types.js';
import { decodeLogRecord } from '../../peer/record.js';
import type { SessionRequest, SessionResult } from '../../peer/serving-api.js';

export const LOCK_PATH = '/lock';
export const FENCE_PATH = '/fence';
export const SEQUENTIAL_PATH = '/seq';
/** The LeaderElection recipe's directory (a container, as the recipe creates it). */
export const ELECTION_PATH = '/election';
/** What marks a latch node's name: `_c_<id>-latch-<seq>` (src/recipes/leader-election.ts). */
export const LATCH_MARK = '-latch-';

/** Sequential creates checked pairwise for real-time order: a run makes a few hundred; the
 *  quadratic check stays well under a second up to this many. */
export const SEQUENTIAL_CREATES_CHECKED_MAX = 5_000;

export type PeerCheckName = 'sessions' | 'lock' | 'fencing' | 'election' | 'watches' | 'sequential' | 'durability' | 'tree-digest' | 'codec';

/** A violated runtime property: thrown from inside the simulation, caught by the run. */
export class PeerViolation extends Error {
  constructor(readonly check: PeerCheckName, detail: string) {
    super(`${check}: ${detail}`);
    this.name = 'PeerViolation';
  }
}

function fail(check: PeerCheckName, detail: string): never {
  throw new PeerViolation(check, detail);
}

/** The sequence number of a sequential node's name (its last ten digits). */
export function sequenceOf(name: string): number {
  const digits = name.slice(-10);
  assert(/^\d{10}$/.test(digits), `a sequential name ends in ten digits: ${name}`);
  return Number(digits);
}

function parentOf(path: string): string {
  const cut = path.lastIndexOf('/');
  return cut <= 0 ? '/' : path.slice(0, cut);
}

function nameOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** A latch node's life in the committed log. Keyed by czxid (its epoch): a path can come back
 *  once the container was swept and re-created (sequence numbers start over). */
interface LatchNode {
  readonly path: string;
  readonly epoch: number;
  readonly owner: SessionId;
  /** The zxid and checker order of its deletion; null while it lives. */
  deletedZxid: number | null;
  deletedOrder: number | null;
}

/** What the committed log says, processed in index order (see the file comment). */
class CommittedLog {
  lastIndex = 0;
  /** Ephemeral path -> owner. */
  private readonly ephemerals = new Map<string, SessionId>();
  private readonly closed = new Map<SessionId, number>();
  /** Children of LOCK_PATH: name -> czxid. */
  private readonly lockChildren = new Map<string, number>();
  holder: { readonly path: string; readonly token: number; readonly owner: SessionId } | null = null;
  private highestHolderToken = 0;
  private fenceToken = 0;
  /** Event order at which each lock node's deletion was first applied. */
  readonly lockNodeDeletedAt = new Map<string, number>();
  /** Every latch node by epoch, and the living ones by path. */
  readonly latchNodes = new Map<number, LatchNode>();
  private readonly latchAlive = new Map<string, LatchNode>();
  /** The log-implied election leader (lowest-sequence living latch node). */
  electionLeader: LatchNode | null = null;
  private highestLeaderEpoch = 0;
  readonly counters = { holders: 0, fencedWrites: 0, sessionsClosed: 0, ephemeralsRemovedByClose: 0, electionLeaders: 0 };

  closedAt(session: SessionId): number | undefined {
    return this.closed.get(session);
  }

  apply(entry: Entry, tree: DataTree, order: number): void {
    assert(entry.index === this.lastIndex + 1, `the committed log is processed in order (${entry.index} after ${this.lastIndex})`);
    this.lastIndex = entry.index;
    if (entry.kind !== 'normal') return;
    const decoded = decodeLogRecord(entry.data);
    assert(decoded.ok, `entry ${entry.index} holds a log record`);
    const { header, body } = decoded.value.txn;
    this.body(header, body, entry.index, tree, order);
    this.updateHolder(entry.index);
    this.updateElectionLeader(entry.index);
  }

  private body(header: TxnHeader, body: TxnBody, zxid: number, tree: DataTree, order: number): void {
    switch (body.type) {
      case 'create':
        if (body.ephemeralOwner !== null) {
          if (this.closed.has(body.ephemeralOwner)) fail('sessions', `zxid ${zxid} creates ephemeral ${body.path} for session ${body.ephemeralOwner}, closed at order ${this.closed.get(body.ephemeralOwner)}`);
          this.ephemerals.set(body.path, body.ephemeralOwner);
        }
        if (parentOf(body.path) === LOCK_PATH) this.lockChildren.set(body.path, zxid);
        if (parentOf(body.path) === ELECTION_PATH && body.path.includes(LATCH_MARK)) this.latchCreated(body.path, zxid, body.ephemeralOwner);
        return;
      case 'delete':
      case 'deleteContainer': {
        const owner = this.ephemerals.get(body.path);
        if (owner !== undefined && header.sessionId !== owner) {
          fail('sessions', `zxid ${zxid} deletes ephemeral ${body.path} of live session ${owner} on behalf of ${header.sessionId ?? 'the system'}`);
        }
        this.removeNode(body.path, zxid, order);
        return;
      }
      case 'setData':
        if (body.path === FENCE_PATH) this.fenceWrite(header, body.data, zxid);
        return;
      case 'multi':
        for (const txn of body.txns) {
          if (txn.type === 'create' || txn.type === 'delete' || txn.type === 'setData') this.body(header, txn, zxid, tree, order);
        }
        return;
      case 'closeSession':
        this.closeSession(body.sessionId, zxid, tree, order);
        return;
      default:
        return;
    }
  }

  private removeNode(path: string, zxid: number, order: number): void {
    this.ephemerals.delete(path);
    if (this.lockChildren.delete(path)) this.lockNodeDeletedAt.set(path, order);
    const latch = this.latchAlive.get(path);
    if (latch !== undefined) {
      this.latchAlive.delete(path);
      latch.deletedZxid = zxid;
      latch.deletedOrder = order;
    }
  }

  private latchCreated(path: string, zxid: number, owner: SessionId | null): void {
    assert(owner !== null, `latch node ${path} is an ephemeral (zxid ${zxid})`);
    assert(!this.latchAlive.has(path), `latch node ${path} is created once while it lives (zxid ${zxid})`);
    const node: LatchNode = { path, epoch: zxid, owner, deletedZxid: null, deletedOrder: null };
    this.latchNodes.set(zxid, node);
    this.latchAlive.set(path, node);
  }

  /** The latch children (names) at committed index `zxid`, from the nodes' lives. */
  latchChildrenAt(zxid: number): string[] {
    const names: string[] = [];
    for (const node of this.latchNodes.values()) {
      if (node.epoch <= zxid && (node.deletedZxid === null || node.deletedZxid > zxid)) names.push(nameOf(node.path));
    }
    return names;
  }

  /** The log-implied leader is the lowest-sequence living latch node; a new one is a new high. */
  private updateElectionLeader(zxid: number): void {
    let lowest: LatchNode | null = null;
    for (const node of this.latchAlive.values()) {
      if (lowest === null || sequenceOf(node.path) < sequenceOf(lowest.path)) lowest = node;
    }
    if (lowest === this.electionLeader) return;
    this.electionLeader = lowest;
    if (lowest === null) return;
    if (lowest.epoch <= this.highestLeaderEpoch) {
      fail('election', `at zxid ${zxid} the log's election leader becomes ${lowest.path} with epoch ${lowest.epoch}, not above an earlier leader's ${this.highestLeaderEpoch}`);
    }
    this.highestLeaderEpoch = lowest.epoch;
    this.counters.electionLeaders += 1;
  }

  private closeSession(session: SessionId, zxid: number, tree: DataTree, order: number): void {
    this.closed.set(session, order);
    this.counters.sessionsClosed += 1;
    for (const [path, owner] of [...this.ephemerals]) {
      if (owner !== session) continue;
      this.removeNode(path, zxid, order);
      this.counters.ephemeralsRemovedByClose += 1;
      if (tree.stat(path) !== undefined) fail('sessions', `zxid ${zxid} closes session ${session}, but its ephemeral ${path} is still in the tree`);
    }
    if (tree.hasSession(session)) fail('sessions', `zxid ${zxid} closes session ${session}, but the tree still holds it`);
    const left = tree.ephemeralPaths(session);
    if (left.length > 0) fail('sessions', `zxid ${zxid} closes session ${session}, but the tree still lists its ephemerals ${left.join(', ')}`);
  }

  private fenceWrite(header: TxnHeader, data: Uint8Array, zxid: number): void {
    const token = Number(new TextDecoder().decode(data));
    assert(Number.isSafeInteger(token), `a fence value is a token (zxid ${zxid})`);
    this.updateHolder(zxid);
    const holder = this.holder;
    if (holder === null || holder.token !== token || holder.owner !== header.sessionId) {
      fail('fencing', `zxid ${zxid} writes token ${token} to ${FENCE_PATH} for session ${header.sessionId ?? '-'}, but the log's lock holder is ${holder === null ? 'nobody' : `${holder.path} (token ${holder.token}, session ${holder.owner})`}`);
    }
    if (token < this.fenceToken) fail('fencing', `zxid ${zxid} writes token ${token} to ${FENCE_PATH} after token ${this.fenceToken}: fenced writes went backwards`);
    this.fenceToken = token;
    this.counters.fencedWrites += 1;
  }

  /** The holder is the lowest-sequence child of LOCK_PATH; a new holder's token is a new high. */
  private updateHolder(zxid: number): void {
    let lowest: string | null = null;
    for (const path of this.lockChildren.keys()) {
      if (lowest === null || sequenceOf(path) < sequenceOf(lowest)) lowest = path;
    }
    if (lowest === null) {
      this.holder = null;
      return;
    }
    if (this.holder?.path === lowest) return;
    const token = this.lockChildren.get(lowest) as number;
    if (token <= this.highestHolderToken) {
      fail('lock', `at zxid ${zxid} the log's lock holder becomes ${lowest} with token ${token}, not above an earlier holder's ${this.highestHolderToken}`);
    }
    const owner = this.ephemerals.get(lowest);
    assert(owner !== undefined, `lock node ${lowest} is an ephemeral`);
    this.highestHolderToken = token;
    this.holder = { path: lowest, token, owner };
    this.counters.holders += 1;
  }
}

interface Baseline {
  /** null: the node was absent. */
  readonly czxid: number | null;
  readonly mzxid: number;
}

interface SessionWatches {
  readonly client: string;
  readonly node: string;
  /** Armed one-shot watches by path: data/exists (one server table) and children. */
  readonly data: Map<string, Baseline>;
  readonly children: Map<string, { readonly czxid: number; readonly pzxid: number }>;
  lastEventZxid: number;
  events: number;
}

interface Belief {
  readonly client: string;
  readonly session: SessionId;
  readonly path: string;
  readonly token: number;
  readonly order: number;
}

interface Grant {
  readonly client: string;
  readonly path: string;
  readonly token: number;
  readonly order: number;
}

interface Elected {
  readonly client: string;
  readonly session: SessionId;
  readonly path: string;
  readonly epoch: number;
  readonly order: number;
}

interface SequentialCreate {
  readonly client: string;
  readonly path: string;
  readonly data: string;
  readonly invokeOrder: number;
  readonly returnOrder: number;
}

export interface RuntimeCheckCounters {
  watchEvents: number;
  watchChecks: number;
  watchesForgottenAtSnapshot: number;
  grants: number;
  staleGrants: number;
  elections: number;
  staleElections: number;
  sessionsEndedChecked: number;
  closedLocally: number;
}

export class RuntimeChecks {
  readonly log = new CommittedLog();
  private orderNext = 0;
  private readonly watches = new Map<SessionId, SessionWatches>();
  private readonly beliefs = new Map<string, Belief>();
  private readonly grants: Grant[] = [];
  private readonly leaders = new Map<string, Elected>();
  private readonly elections: Elected[] = [];
  private readonly sequential: SequentialCreate[] = [];
  readonly counters: RuntimeCheckCounters = { watchEvents: 0, watchChecks: 0, watchesForgottenAtSnapshot: 0, grants: 0, staleGrants: 0, elections: 0, staleElections: 0, sessionsEndedChecked: 0, closedLocally: 0 };

  /** A global order of everything the checkers see (virtual time stands still within an event). */
  order(): number {
    return this.orderNext++;
  }

  /** A replica applied `entry`; the first to apply an index feeds the committed log. */
  onApplied(entry: Entry, tree: DataTree): void {
    if (entry.index <= this.log.lastIndex) return;
    this.log.apply(entry, tree, this.order());
  }

  // --- Sessions -----------------------------------------------------------------------------

  sessionOpened(session: SessionId, client: string, node: string): void {
    this.watches.set(session, { client, node, data: new Map(), children: new Map(), lastEventZxid: 0, events: 0 });
  }

  /** `client` was told its session ended; `tree` is its serving peer's tree now. */
  sessionEnded(options: { client: string; session: SessionId; state: 'expired' | 'closed'; askedToClose: boolean; tree: DataTree }): void {
    const { client, session, state, tree } = options;
    this.watches.delete(session);
    this.endBelief(client);
    this.counters.sessionsEndedChecked += 1;
    const inLog = this.log.closedAt(session) !== undefined;
    if (state === 'closed' && options.askedToClose && tree.hasSession(session)) {
      // The peer gave up closing (no answer within the operation timeout): the client is done
      // with it, and the leader expires it, unpinged (ZooKeeper's client does the same). The
      // close may even be committed already, not yet applied here.
      this.counters.closedLocally += 1;
      return;
    }
    if (!inLog) fail('sessions', `${client} was told its session ${session} is ${state}, but no closeSession for it is in the committed log`);
    if (tree.hasSession(session)) fail('sessions', `${client} was told its session ${session} is ${state}, but its serving peer still holds it`);
    const left = tree.ephemeralPaths(session);
    if (left.length > 0) fail('sessions', `${client} was told its session ${session} is ${state}, but its serving peer still has its ephemerals ${left.join(', ')}`);
  }

  /** The end: a client that believes its session live, on a running peer that has applied
   *  everything: the log must not have closed it. */
  sessionStillLive(client: string, session: SessionId, tree: DataTree): void {
    if (this.log.closedAt(session) !== undefined || !tree.hasSession(session)) {
      fail('sessions', `${client}'s session ${session} was closed in the committed log, but its client was never told`);
    }
  }

  // --- Watches ------------------------------------------------------------------------------

  onEvent(session: SessionId, event: WatchEvent): void {
    const state = this.watches.get(session);
    if (state === undefined) return;
    this.counters.watchEvents += 1;
    state.events += 1;
    if (event.zxid < state.lastEventZxid) {
      fail('watches', `${state.client} (session ${session} on ${state.node}) got ${event.type} ${event.path} at zxid ${event.zxid} after an event at zxid ${state.lastEventZxid}: not in zxid order`);
    }
    state.lastEventZxid = event.zxid;
    if (event.type !== 'NodeChildrenChanged') state.data.delete(event.path);
    if (event.type === 'NodeChildrenChanged' || event.type === 'NodeDeleted') state.children.delete(event.path);
  }

  /** A result reached `session`'s client: check it against the armed watches, then arm the ones
   *  its read registered. */
  onResult(session: SessionId, request: SessionRequest, result: SessionResult): void {
    const state = this.watches.get(session);
    if (state === undefined) return;
    for (const [path, seen] of observedNodes(request, result)) this.checkData(state, session, path, seen, request.op);
    for (const [path, seen] of observedChildren(request, result)) this.checkChildren(state, session, path, seen, request.op);
    if (!('watch' in request) || request.watch !== true || !result.ok) return;
    if (result.op === 'getData' || result.op === 'exists') {
      const stat = result.op === 'getData' ? result.stat : result.stat;
      if (!state.data.has(request.path)) state.data.set(request.path, baselineOf(stat));
    } else if (result.op === 'getChildren' && !state.children.has(request.path)) {
      state.children.set(request.path, { czxid: result.stat.czxid, pzxid: result.stat.pzxid });
    }
  }

  private checkData(state: SessionWatches, session: SessionId, path: string, seen: Baseline, op: string): void {
    const armed = state.data.get(path);
    if (armed === undefined) return;
    this.counters.watchChecks += 1;
    if (armed.czxid === seen.czxid && (armed.czxid === null || armed.mzxid === seen.mzxid)) return;
    fail('watches', `${state.client} (session ${session} on ${state.node}) got a ${op} result showing ${path} as ${describeBaseline(seen)}, changed since its watch was set (${describeBaseline(armed)}), before the watch event`);
  }

  private checkChildren(state: SessionWatches, session: SessionId, path: string, seen: { czxid: number; pzxid: number } | null, op: string): void {
    const armed = state.children.get(path);
    if (armed === undefined) return;
    this.counters.watchChecks += 1;
    if (seen !== null && seen.czxid === armed.czxid && seen.pzxid === armed.pzxid) return;
    fail('watches', `${state.client} (session ${session} on ${state.node}) got a ${op} result showing the children of ${path} changed (pzxid ${seen === null ? 'unknown' : seen.pzxid} vs ${armed.pzxid} when the watch was set) before the watch event`);
  }

  /** A snapshot was installed at `node`: its sessions forget their watch expectations (the
   *  runtime's known gap: the events of the entries the snapshot covers are not delivered). */
  snapshotInstalled(node: string): void {
    for (const state of this.watches.values()) {
      if (state.node !== node) continue;
      this.counters.watchesForgottenAtSnapshot += state.data.size + state.children.size;
      state.data.clear();
      state.children.clear();
    }
  }

  /** The end: no armed watch of a live session missed a change in its peer's final tree. */
  watchesNotLost(session: SessionId, tree: DataTree): void {
    const state = this.watches.get(session);
    if (state === undefined) return;
    for (const path of state.data.keys()) {
      this.checkData(state, session, path, baselineOf(tree.stat(path) ?? null), 'final tree');
    }
    for (const [path, armed] of state.children) {
      const stat = tree.stat(path);
      if (stat === undefined || stat.czxid !== armed.czxid || stat.pzxid !== armed.pzxid) {
        fail('watches', `${state.client}'s child watch on ${path} (session ${session}, live) missed a change: the final tree has pzxid ${stat?.pzxid ?? 'none'}, the watch was set at ${armed.pzxid}`);
      }
    }
  }

  // --- Lock ---------------------------------------------------------------------------------

  /** `client` saw its lock node `path` (token = its czxid) first among the children. */
  onGrant(client: string, session: SessionId, path: string, token: number): void {
    const order = this.order();
    this.counters.grants += 1;
    const deletedAt = this.log.lockNodeDeletedAt.get(path);
    if (deletedAt !== undefined) this.counters.staleGrants += 1;
    for (const other of this.beliefs.values()) {
      if (other.client === client || this.log.lockNodeDeletedAt.has(other.path)) continue;
      if (deletedAt === undefined) {
        fail('lock', `${client} is granted ${path} (token ${token}) while ${other.client} holds ${other.path} (token ${other.token}), whose node is not deleted in the committed log: two holders`);
      }
    }
    for (const earlier of this.grants) {
      if (earlier.token <= token) continue;
      if (deletedAt === undefined || deletedAt > earlier.order) {
        fail('lock', `${client} is granted ${path} with token ${token} after ${earlier.client} was granted ${earlier.path} with the greater token ${earlier.token}, and ${path} was ${deletedAt === undefined ? 'not deleted' : 'deleted only later'} in the committed log`);
      }
    }
    this.grants.push({ client, path, token, order });
    this.beliefs.set(client, { client, session, path, token, order });
  }

  /** `client` stops believing it holds or leads (it releases or relinquishes, closes, or its
   *  session ended). */
  endBelief(client: string): void {
    this.beliefs.delete(client);
    this.leaders.delete(client);
  }

  // --- Election -----------------------------------------------------------------------------

  /** `client` was elected: its getChildren answer, read at `learnedAt` (the answer's pzxid),
   *  showed `seen` (latch names) with its node `path` (epoch = its czxid) first. */
  onElected(options: { client: string; session: SessionId; path: string; epoch: number; seen: readonly string[]; learnedAt: number }): void {
    const { client, session, path, epoch, seen, learnedAt } = options;
    const order = this.order();
    this.counters.elections += 1;
    const name = nameOf(path);
    const node = this.log.latchNodes.get(epoch);
    if (node === undefined || node.path !== path || node.owner !== session) {
      fail('election', `${client} is elected with ${path} (epoch ${epoch}, session ${session}), which the committed log never created so`);
    }
    if (learnedAt > this.log.lastIndex) fail('election', `${client} learned it leads from an answer read at index ${learnedAt}, beyond the committed log (${this.log.lastIndex})`);
    const inLog = this.log.latchChildrenAt(learnedAt);
    const lowest = inLog.reduce<string | null>((low, child) => (low === null || sequenceOf(child) < sequenceOf(low) ? child : low), null);
    const sameSet = inLog.length === seen.length && seen.every((child) => inLog.includes(child));
    if (!sameSet || lowest !== name) {
      fail('election', `${client} is elected with ${name}, learned at index ${learnedAt} from the children [${[...seen].sort().join(', ')}], but the committed log's latch children there were [${inLog.sort().join(', ')}]${lowest === name ? '' : `, the lowest ${lowest ?? 'none'}`}`);
    }
    const deletedAt = node.deletedOrder;
    if (deletedAt !== null) this.counters.staleElections += 1;
    for (const other of this.leaders.values()) {
      if (other.client === client || this.log.latchNodes.get(other.epoch)?.deletedOrder !== null) continue;
      if (deletedAt === null) {
        fail('election', `${client} is elected with ${path} (epoch ${epoch}) while ${other.client} leads with ${other.path} (epoch ${other.epoch}), whose node is not deleted in the committed log: two leaders`);
      }
    }
    for (const earlier of this.elections) {
      if (earlier.epoch <= epoch) continue; // the same node again is the same leadership
      if (deletedAt === null || deletedAt > earlier.order) {
        fail('election', `${client} is elected with ${path}, epoch ${epoch}, after ${earlier.client} was elected with ${earlier.path}, epoch ${earlier.epoch}: epochs went down, and ${path} was ${deletedAt === null ? 'not deleted' : 'deleted only later'} in the committed log`);
      }
    }
    const elected: Elected = { client, session, path, epoch, order };
    this.elections.push(elected);
    this.leaders.set(client, elected);
  }

  /** Whether `client` believes it leads with a node the committed log has not deleted. */
  leadsValidly(client: string): boolean {
    const belief = this.leaders.get(client);
    return belief !== undefined && this.log.latchNodes.get(belief.epoch)?.deletedOrder === null;
  }

  // --- Sequential creates -------------------------------------------------------------------

  onSequentialCreated(create: SequentialCreate): void {
    this.sequential.push(create);
  }

  sequentialCreates(): readonly SequentialCreate[] {
    return this.sequential;
  }

  /** Unique names, and real-time order implies sequence order. */
  checkSequential(): void {
    const names = new Set<string>();
    for (const create of this.sequential) {
      if (names.has(create.path)) fail('sequential', `${create.path} was created twice`);
      names.add(create.path);
    }
    const checked = this.sequential.slice(0, SEQUENTIAL_CREATES_CHECKED_MAX);
    for (const a of checked) {
      for (const b of checked) {
        if (a.returnOrder < b.invokeOrder && sequenceOf(a.path) >= sequenceOf(b.path)) {
          fail('sequential', `${a.client}'s ${a.path} returned before ${b.client}'s create was invoked, which got the lower ${b.path}`);
        }
      }
    }
  }

  /** Every acknowledged sequential create is in `tree` with its data. */
  checkSequentialDurable(node: string, tree: DataTree): void {
    for (const create of this.sequential) {
      const stat = tree.stat(create.path);
      if (stat === undefined) fail('durability', `${create.client}'s acknowledged ${create.path} is missing from ${node}'s final tree`);
      const read = tree.read({ op: 'getData', path: create.path, watch: false }, { sessionId: 'checker', auth: [] });
      const data = read.ok && read.op === 'getData' ? new TextDecoder().decode(read.data) : null;
      if (data !== create.data) fail('durability', `${create.client}'s acknowledged ${create.path} holds ${JSON.stringify(data)} in ${node}'s final tree, not ${JSON.stringify(create.data)}`);
    }
  }
}

function baselineOf(stat: Stat | null): Baseline {
  return stat === null ? { czxid: null, mzxid: 0 } : { czxid: stat.czxid, mzxid: stat.mzxid };
}

function describeBaseline(baseline: Baseline): string {
  return baseline.czxid === null ? 'absent' : `czxid ${baseline.czxid} mzxid ${baseline.mzxid}`;
}

/** The nodes a result shows the state of: path -> what it saw. */
function observedNodes(request: SessionRequest, result: SessionResult): [string, Baseline][] {
  if (!result.ok) {
    if (result.code === 'NONODE' && (request.op === 'getData' || request.op === 'exists' || request.op === 'setData')) return [[request.path, baselineOf(null)]];
    return [];
  }
  switch (result.op) {
    case 'getData':
    case 'setData':
      return 'path' in request ? [[request.path, baselineOf(result.stat)]] : [];
    case 'exists':
      return request.op === 'exists' ? [[request.path, baselineOf(result.stat)]] : [];
    case 'create':
      return [[result.path, baselineOf(result.stat)]];
    case 'delete':
      return request.op === 'delete' ? [[request.path, baselineOf(null)]] : [];
    case 'multi': {
      if (request.op !== 'multi') return [];
      const seen: [string, Baseline][] = [];
      result.results.forEach((one, index) => {
        const op = request.ops[index];
        if (op === undefined) return;
        if (one.op === 'setData') seen.push([op.path, baselineOf(one.stat)]);
        else if (one.op === 'create') seen.push([one.path, baselineOf(one.stat)]);
        else if (one.op === 'delete') seen.push([op.path, baselineOf(null)]);
      });
      return seen;
    }
    default:
      return [];
  }
}

/** The child lists a result shows changed or as they are: parent -> pzxid (null: changed, the
 *  pzxid unknown). */
function observedChildren(request: SessionRequest, result: SessionResult): [string, { czxid: number; pzxid: number } | null][] {
  if (!result.ok) return [];
  if (result.op === 'getChildren' && request.op === 'getChildren') return [[request.path, { czxid: result.stat.czxid, pzxid: result.stat.pzxid }]];
  if (result.op === 'create') return [[parentOf(result.path), null]];
  if (result.op === 'delete' && request.op === 'delete') return [[parentOf(request.path), null]];
  return [];
}
