/**
 * The Raft state machine of one node (etcd's raft.go): its term, vote, role, log and, on a
 * leader, the progress of every peer. Pure and synchronous: ticks and messages come in, messages
 * and state go out through RawNode's Ready. The steps of each role live beside it:
 * election.ts (campaigns, votes, candidates), replication.ts (appends, heartbeats, commit),
 * snapshot-transfer.ts (InstallSnapshot in chunks), read-index.ts (§6.4), leader.ts (proposals,
 * config changes, leadership transfer) and follower.ts.
 *
 * This class is internal: its fields are public for those step modules. The API is RawNode.
 */

import { assert } from '../assert.js';
import { APPEND_MESSAGES_IN_FLIGHT_MAX } from '../limits.js';
import type { Prng } from '../prng.js';
import { isMember, isVoter } from './config.js';
import { campaign, handleVoteRequest, stepCandidate } from './election.js';
import { stepFollower } from './follower.js';
import { stepLeader } from './leader.js';
import { entryPayloadBytes, RaftLog } from './log.js';
import { messageProblem, type Message } from './messages.js';
import { resolveOptions, type RaftOptions, type ResolvedOptions } from './options.js';
import { Progress } from './progress.js';
import { majorityActive, majorityValue } from './quorum.js';
import { onCommitInTerm, ReadIndexQueue } from './read-index.js';
import { maybeSendAppend, sendTimeoutNow } from './replication.js';
import type { IncomingSnapshot } from './snapshot-transfer.js';
import type { Entry, EntryKind, HardState, PeerId, PersistedState, ReadState, Role, Snapshot } from './types.js';

/** An entry as proposed, before the leader gives it an index and term. */
export interface EntryDraft {
  readonly kind: EntryKind;
  readonly data: Uint8Array;
}

export type StepOutcome = { readonly ok: true } | { readonly ok: false; readonly error: string };

/** Messages that only the leader of their term sends. */
function fromLeader(m: Message): boolean {
  return m.type === 'append' || m.type === 'heartbeat' || m.type === 'snapshot';
}

export class Raft {
  readonly id: PeerId;
  readonly opts: ResolvedOptions;
  readonly prng: Prng;
  readonly log: RaftLog;

  term: number;
  vote: PeerId | null;
  leader: PeerId | null = null;
  role: Role = 'follower';

  electionElapsed = 0;
  heartbeatElapsed = 0;
  randomizedElectionTimeout = 0;

  /** Leader: every member's progress (itself included while it is a member). */
  readonly progress = new Map<PeerId, Progress>();
  /** Candidate / pre-candidate: the votes received in this campaign. */
  readonly votes = new Map<PeerId, boolean>();
  leadTransferee: PeerId | null = null;
  /** Leader: index of the latest config entry; a new change waits until it is committed. */
  pendingConfigIndex = 0;
  /** Leader: payload bytes proposed in this term and not yet committed. */
  uncommittedBytes = 0;
  /** Leader: proposals appended since the last Ready; their appends go out when the next Ready is
   *  built, so that all proposals between two Readys share as few messages as fit. */
  broadcastPending = false;
  readonly reads = new ReadIndexQueue();

  /** Outgoing messages and read states, taken by the next Ready. */
  msgs: Message[] = [];
  readStates: ReadState[] = [];
  /** The latest snapshot with its data (what the leader streams to laggards). */
  snapshot: Snapshot;
  /** A snapshot received from the leader, for the next Ready to persist and apply. */
  pendingSnapshot: Snapshot | null = null;
  /** Follower: the snapshot being received in chunks (volatile). */
  incoming: IncomingSnapshot | null = null;

  constructor(options: RaftOptions, persisted: PersistedState) {
    this.opts = resolveOptions(options);
    this.id = this.opts.id;
    this.prng = options.prng;
    const { hardState, snapshot, entries } = persisted;
    assert(hardState.term >= snapshot.meta.term, 'restart: hard state term >= snapshot term');
    this.log = new RaftLog(snapshot.meta, entries, hardState.commit);
    assert(hardState.term >= this.log.lastTerm(), 'restart: hard state term >= last entry term');
    this.term = hardState.term;
    this.vote = hardState.vote;
    this.snapshot = snapshot;
    this.resetRandomizedElectionTimeout();
  }

  // --- State ---------------------------------------------------------------------------------

  /** What storage must hold before this node's messages leave (see RawNode.ready). */
  hardState(): HardState {
    // UNSAFE MUTATION (c) voteWithoutDurableHardState: a vote granted to another node is kept in
    // memory but left out of the durable hard state, so a restart forgets it.
    const vote = this.opts.unsafe.voteWithoutDurableHardState && this.vote !== this.id ? null : this.vote;
    return { term: this.term, vote, commit: this.log.committed };
  }

  /** May campaign: a voter in the latest config (learners and removed nodes never campaign). */
  promotable(): boolean {
    return isVoter(this.log.config(), this.id);
  }

  /** Within the leader lease (§4.2.3 with CheckQuorum): we heard from a leader less than an
   *  election timeout ago, so a vote request for a higher term is disruptive and ignored. */
  inLease(): boolean {
    return this.opts.checkQuorum && this.leader !== null && this.electionElapsed < this.opts.electionTimeoutTicks;
  }

  send(m: Message): void {
    assert(m.from === this.id, 'send: from is this node');
    const problem = messageProblem(m);
    assert(problem === null, `send: ${problem ?? ''}`);
    this.msgs.push(m);
  }

  resetRandomizedElectionTimeout(): void {
    const timeout = this.opts.electionTimeoutTicks;
    this.randomizedElectionTimeout = this.prng.int(timeout, 2 * timeout - 1);
  }

  /** Invariants checked after every call on the node (all O(1)). */
  assertInvariants(): void {
    const log = this.log;
    assert(log.committed <= log.lastIndex(), 'commit <= last index');
    assert(log.applied <= log.committed, 'applied <= commit');
    assert(log.persisted <= log.lastIndex(), 'persisted <= last index');
    assert(log.snapshotMeta().index <= log.committed, 'the snapshot is committed');
    assert(this.term >= log.lastTerm(), 'no entry is from a future term');
    assert(this.role !== 'leader' || this.leader === this.id, 'a leader knows itself as leader');
    assert(this.role === 'leader' || this.leadTransferee === null, 'only a leader transfers');
    assert(this.snapshot.meta.index === log.snapshotMeta().index, 'the snapshot held is the log base');
  }

  // --- Role transitions ----------------------------------------------------------------------

  private reset(term: number): void {
    assert(term >= this.term, `term is monotonic (${this.term} -> ${term})`);
    if (term !== this.term) {
      this.term = term;
      this.vote = null;
    }
    this.leader = null;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.leadTransferee = null;
    this.votes.clear();
    this.progress.clear();
    this.reads.reset();
    this.pendingConfigIndex = 0;
    this.uncommittedBytes = 0;
    this.broadcastPending = false;
  }

  becomeFollower(term: number, leader: PeerId | null): void {
    this.reset(term);
    this.leader = leader;
    this.role = 'follower';
  }

  becomePreCandidate(): void {
    assert(this.role !== 'leader', 'leader -> pre-candidate is not a transition');
    // PreVote changes neither the term nor the vote (§9.6).
    this.votes.clear();
    this.leader = null;
    this.role = 'pre-candidate';
    this.electionElapsed = 0;
    this.resetRandomizedElectionTimeout();
  }

  becomeCandidate(): void {
    assert(this.role !== 'leader', 'leader -> candidate is not a transition');
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = 'candidate';
  }

  becomeLeader(): void {
    assert(this.role === 'candidate', 'only a candidate becomes leader');
    this.reset(this.term);
    this.leader = this.id;
    this.role = 'leader';
    this.syncProgress();
    const self = this.progress.get(this.id);
    assert(self !== undefined, 'a new leader is a member');
    self.maybeUpdate(this.log.persisted);
    self.becomeReplicate();
    self.recentActive = true;
    // Any config entry not yet committed is pending; committing the no-op below commits it too.
    this.pendingConfigIndex = this.log.lastConfigIndex();
    // §6.4 / §3.6.2 and the 2015 config-change fix: a no-op of the new term, committed first.
    this.appendEntries([{ kind: 'noop', data: new Uint8Array(0) }]);
  }

  /** Leader: progress for exactly the members of the latest config. */
  syncProgress(): void {
    const config = this.log.config();
    for (const id of [...this.progress.keys()]) {
      if (!isMember(config, id)) this.progress.delete(id);
    }
    for (const id of [...config.voters, ...config.learners]) {
      const learner = !isVoter(config, id);
      const existing = this.progress.get(id);
      if (existing !== undefined) {
        existing.isLearner = learner;
        continue;
      }
      const progress = new Progress(this.log.lastIndex() + 1, learner);
      progress.recentActive = true;
      this.progress.set(id, progress);
    }
  }

  // --- Ticks ---------------------------------------------------------------------------------

  tick(): void {
    if (this.role === 'leader') this.tickLeader();
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsed += 1;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.hup();
    }
  }

  private tickLeader(): void {
    this.heartbeatElapsed += 1;
    this.electionElapsed += 1;
    if (this.electionElapsed >= this.opts.electionTimeoutTicks) {
      this.electionElapsed = 0;
      if (this.opts.checkQuorum) this.checkQuorum();
      // §3.10: a transfer that has not completed within an election timeout is aborted.
      if (this.role === 'leader' && this.leadTransferee !== null) this.leadTransferee = null;
    }
    if (this.role !== 'leader') return;
    if (this.heartbeatElapsed >= this.opts.heartbeatIntervalTicks) {
      this.heartbeatElapsed = 0;
      this.broadcastHeartbeat();
    }
  }

  /** §6.2: a leader that has not heard from a majority of voters within an election timeout
   *  steps down, so that clients find the real leader (and a frozen tab's leader resigns). */
  private checkQuorum(): void {
    const active = majorityActive(this.log.config().voters, (id) => id === this.id || this.progress.get(id)?.recentActive === true);
    if (!active) {
      this.becomeFollower(this.term, null);
      return;
    }
    for (const [id, progress] of this.progress) {
      if (id !== this.id) progress.recentActive = false;
    }
  }

  /** Start an election now, if this node may (etcd's MsgHup). */
  hup(): void {
    if (this.role === 'leader' || !this.promotable()) return;
    campaign(this, this.opts.preVote ? 'pre-election' : 'election');
  }

  // --- Messages ------------------------------------------------------------------------------

  step(m: Message): StepOutcome {
    if (m.to !== this.id) return { ok: false, error: `message for ${m.to}, not ${this.id}` };
    const problem = messageProblem(m);
    if (problem !== null) return { ok: false, error: problem };
    if (m.term > this.term) {
      if (!this.stepHigherTerm(m)) return { ok: true };
    } else if (m.term < this.term) {
      this.stepLowerTerm(m);
      return { ok: true };
    }
    if (m.type === 'vote' || m.type === 'pre-vote') handleVoteRequest(this, m);
    else if (this.role === 'leader') stepLeader(this, m);
    else if (this.role === 'follower') stepFollower(this, m);
    else stepCandidate(this, m);
    return { ok: true };
  }

  /** A message from a higher term (§3.3: "If RPC request or response contains term T >
   *  currentTerm: set currentTerm = T, convert to follower"). Returns false to ignore it. */
  private stepHigherTerm(m: Message): boolean {
    if ((m.type === 'vote' || m.type === 'pre-vote') && !m.transfer && this.inLease()) {
      // §4.2.3: within the lease of a current leader, ignore disruptive vote requests.
      return false;
    }
    // A pre-vote is for a future term: answering it changes nothing (§9.6). A granted pre-vote
    // response carries that future term too; a rejected one carries the rejecter's real term.
    if (m.type === 'pre-vote') return true;
    if (m.type === 'pre-vote-response' && !m.reject) return true;
    this.becomeFollower(m.term, fromLeader(m) ? m.from : null);
    return true;
  }

  /** A message from a lower term is stale; two kinds get an answer (etcd's behaviour). */
  private stepLowerTerm(m: Message): void {
    if ((this.opts.checkQuorum || this.opts.preVote) && fromLeader(m)) {
      // A leader of an old term (partitioned away while we moved on) learns our term from this
      // answer and steps down; without it, with CheckQuorum our vote requests would be ignored
      // by its followers and it could never be replaced.
      this.send({ type: 'append-response', from: this.id, to: m.from, term: this.term, index: 0, reject: false, rejectHint: 0, rejectHintTerm: 0 });
    } else if (m.type === 'pre-vote') {
      this.send({ type: 'pre-vote-response', from: this.id, to: m.from, term: this.term, reject: true });
    }
  }

  // --- Leader helpers ------------------------------------------------------------------------

  /** Leader: appends entries of the current term to the log. Returns the last new index. */
  appendEntries(drafts: readonly EntryDraft[]): number {
    assert(this.role === 'leader', 'only a leader appends its own entries');
    let index = this.log.lastIndex();
    const entries: Entry[] = drafts.map((draft) => ({ index: ++index, term: this.term, kind: draft.kind, data: draft.data }));
    this.log.append(entries);
    for (const entry of entries) {
      this.uncommittedBytes += entryPayloadBytes(entry);
      if (entry.kind === 'config') {
        this.pendingConfigIndex = entry.index;
        this.syncProgress();
      }
    }
    return index;
  }

  /** Leader: advance the commit index to what a majority of voters hold — only through an entry
   *  of the current term (§3.6.2, Figure 3.7). True when it advanced. */
  maybeCommit(): boolean {
    const voters = this.log.config().voters;
    const index = majorityValue(voters, (id) => this.progress.get(id)?.match);
    if (index <= this.log.committed) return false;
    // UNSAFE MUTATION (a) commitPriorTermByCount: skip the current-term check below.
    if (this.log.term(index) !== this.term && !this.opts.unsafe.commitPriorTermByCount) return false;
    const before = this.log.committed;
    this.log.commitTo(index);
    this.afterCommit(before);
    return true;
  }

  private afterCommit(before: number): void {
    for (let index = before + 1; index <= this.log.committed; index++) {
      const entry = this.log.entry(index);
      if (entry !== undefined && entry.term === this.term) this.uncommittedBytes -= entryPayloadBytes(entry);
    }
    this.uncommittedBytes = Math.max(0, this.uncommittedBytes);
    onCommitInTerm(this);
    if (!isVoter(this.log.config(), this.id) && this.pendingConfigIndex <= this.log.committed) {
      this.stepDownAfterRemoval();
      return;
    }
    this.broadcastAppend();
  }

  /** §4.2.2: a leader removed (or demoted) by a committed change hands leadership to the most
   *  caught-up voter, if one has its whole log, and steps down. */
  private stepDownAfterRemoval(): void {
    let best: PeerId | null = null;
    for (const id of this.log.config().voters) {
      const progress = this.progress.get(id);
      if (progress !== undefined && progress.match === this.log.lastIndex() && best === null) best = id;
    }
    if (best !== null) sendTimeoutNow(this, best);
    this.becomeFollower(this.term, null);
  }

  broadcastAppend(): void {
    this.broadcastPending = false;
    for (const id of this.progress.keys()) {
      if (id !== this.id) maybeSendAppend(this, id);
    }
  }

  /** Called when a Ready is built: sends the appends that proposals deferred. */
  flushBroadcast(): void {
    if (this.broadcastPending && this.role === 'leader') this.broadcastAppend();
    this.broadcastPending = false;
  }

  /** Sends appends to `to` while flow control allows (bounded by the in-flight window). */
  sendAppendsWhileAllowed(to: PeerId): void {
    for (let sent = 0; maybeSendAppend(this, to); sent++) {
      assert(sent <= APPEND_MESSAGES_IN_FLIGHT_MAX + 1, 'append loop is bounded by the in-flight window');
    }
  }

  broadcastHeartbeat(): void {
    for (const [id, progress] of this.progress) {
      if (id === this.id) continue;
      const commit = Math.min(progress.match, this.log.committed);
      this.send({ type: 'heartbeat', from: this.id, to: id, term: this.term, commit, readRound: this.reads.round });
    }
  }

  /** Called after a Ready's entries are durable: the leader's own log counts toward the commit
   *  index only once persisted. */
  onPersisted(): void {
    if (this.role !== 'leader') return;
    const self = this.progress.get(this.id);
    if (self !== undefined && self.maybeUpdate(this.log.persisted)) this.maybeCommit();
  }
}
