/**
 * RawNode: the synchronous API of one Raft node (etcd's rawnode.go). Pure and deterministic: the
 * caller feeds ticks, messages and proposals, and takes back a `Ready` of what to persist, send and
 * apply. The dissertation (Ongaro, 2014) is the spec; see raft.ts for the pieces.
 *
 * Life cycle:
 *
 *   const node = new RawNode({ id, prng }, persisted);   // persisted: loaded, or bootstrapState()
 *   loop:
 *     node.tick() every tick; node.step(message) for each message received (decoded by codec/raft.ts);
 *     node.propose(data) / proposeConfigChange(change) / readIndex(id) / transferLeadership(to);
 *     while (node.hasReady()) { const rd = node.ready(); handle rd (see Ready); node.advance(rd); }
 *
 * Between ready() and advance() the node is frozen: calling any method that changes it fails an
 * assertion (status() and hasReady() are allowed). Queue what arrives meanwhile (messages, ticks,
 * proposals) and feed it after advance(). This keeps "persist, then send" one straight line.
 *
 * Restart: construct with the state storage holds ({ hardState, snapshot, entries }). Nothing else
 * survives: role, leader, progress and in-flight snapshot chunks are volatile. The application
 * restores its state machine from `snapshot.data` itself, and the first Readys hand out again the
 * committed entries after snapshot.meta.index (applied restarts at the snapshot index).
 *
 * Bootstrap: a new ensemble's first voters start from `RawNode.bootstrapState(config)` (a snapshot
 * at index 0 holding the config); a joining peer starts from `bootstrapState(EMPTY_CONFIG)` and
 * learns the configuration from the leader once it is added as a learner. Persist it like any state.
 *
 * Snapshots and compaction: after applying through index i, the application may call
 * `compact(i, stateMachineBytes)`; raft keeps the snapshot (meta = index, term and config at i) to
 * send to laggards and drops the log through i. The caller persists the returned snapshot and may
 * then delete stored entries <= i. Keep some entries behind the applied index (compact at
 * applied - k) so that slightly slow followers catch up from the log rather than a snapshot.
 * The node keeps its latest snapshot's bytes in memory (to stream them when it leads).
 *
 * Decisions beyond etcd's shape (each for a reason):
 * - Frozen between ready() and advance() (etcd allows steps in between): one straight line per
 *   batch makes "persist before send" impossible to interleave wrongly.
 * - Proposals do not send at once: their appends are built with the next Ready, so everything
 *   proposed between two Readys shares as few <= 16 KiB messages as fit (group commit).
 * - compact() derives the snapshot's term and config itself (raft knows the config at any index).
 * - Bootstrap is a snapshot at index 0 holding the first config, not synthetic log entries.
 * - A config entry carries the whole resulting config (not only the delta), so truncating the
 *   log reverts the config with no bookkeeping.
 * - ReadIndex rounds are numbered and carried by heartbeats, so one round confirms every read
 *   registered before it (etcd sends one context per read).
 * - Learners answer vote requests (as etcd: a learner promoted by an entry it has not received yet
 *   must be able to vote); candidates only count voters, so a learner's vote never counts.
 * - step() and the request calls return outcomes instead of throwing; a failed assertion is a bug.
 * - The test-only unsafe mutations (options.ts) are one-line deviations marked UNSAFE MUTATION.
 */

import { assert } from '../assert.js';
import { APPLY_BYTES_PER_READY_MAX, READ_REQUEST_ID_BYTES_MAX, SNAPSHOT_BYTES_MAX } from '../limits.js';
import { configProblem, peerIdProblem, utf8Bytes } from './config.js';
import { propose, proposeConfigChange, startTransfer } from './leader.js';
import type { Message } from './messages.js';
import type { RaftOptions } from './options.js';
import type { ProgressState } from './progress.js';
import { Raft, type StepOutcome } from './raft.js';
import { requestRead } from './read-index.js';
import type {
  Config,
  ConfigChange,
  Entry,
  HardState,
  Outcome,
  PeerId,
  PersistedState,
  ProposeOutcome,
  ReadState,
  RefusalReason,
  Role,
  Snapshot,
  SnapshotMeta,
  SoftState,
} from './types.js';

/**
 * One batch of work. Handle it completely, in this order, then call `advance(ready)`:
 *
 * 0. `messagesBeforePersist`: send these first, before step 1 completes. A leader's appends and
 *    heartbeats (§10.2.1 of Ongaro's thesis: the leader writes its log to disk in parallel with
 *    replicating it): they acknowledge nothing of this node's, carry its durable term and a commit
 *    index that counts this node's own log only once persisted (Raft.onPersisted), so a crash
 *    before step 1 completes can lose only entries no majority acknowledged yet. Everything else
 *    waits for step 2 — unless the test-only unsafe mutation `ackBeforePersist` is on (options.ts),
 *    which moves every message here. A simulator should be able to crash the node right after
 *    sending these and before step 1 completes.
 * 1. PERSIST, as one atomic storage transaction, durable (fsync; IndexedDB strict durability)
 *    before going on when `mustSync` is true:
 *    a. `snapshot`, if not null: store it as the latest snapshot and delete every stored entry
 *       (the log restarts after snapshot.meta.index);
 *    b. `entries`: store each; an entry at index i replaces any stored entry at i and deletes every
 *       stored entry after i (a follower's uncommitted suffix can be overwritten);
 *    c. `hardState`, if not null: store it in place of the previous one.
 * 2. SEND `messages`, only now: they may grant votes and acknowledge entries that step 1 made
 *    durable (Figure 3.1: persistent state is updated "before responding to RPCs"). The network may
 *    drop, delay, duplicate or reorder them; Raft tolerates that.
 * 3. APPLY: if `snapshot`, restore the state machine from `snapshot.data`; then apply
 *    `committedEntries` in order. `normal` entries carry the application's commands; `noop`
 *    entries carry nothing; `config` entries are already in effect in Raft (the app may observe
 *    them, e.g. for status). Entries in `committedEntries` may also be in `entries`: that is why
 *    persisting comes first.
 * 4. READ: each `readStates` item lets the read `requestId` be served once the applied index is
 *    at least `index` (§6.4). They are never stale: release them when applied catches up.
 * 5. `advance(ready)`.
 *
 * `softState` (leader, role) is for status and routing only, never for safety decisions.
 */
export interface Ready {
  readonly softState: SoftState | null;
  readonly hardState: HardState | null;
  readonly snapshot: Snapshot | null;
  readonly entries: readonly Entry[];
  readonly committedEntries: readonly Entry[];
  readonly messagesBeforePersist: readonly Message[];
  readonly messages: readonly Message[];
  readonly readStates: readonly ReadState[];
  /** Step 1 must reach stable storage before step 2: entries, a snapshot, or a new term or vote
   *  are being written. (A commit-index-only change may be written lazily.) */
  readonly mustSync: boolean;
}

export interface PeerProgress {
  readonly id: PeerId;
  readonly match: number;
  readonly next: number;
  readonly state: ProgressState;
  readonly isLearner: boolean;
  readonly recentActive: boolean;
  readonly paused: boolean;
  readonly inflightMessages: number;
  readonly inflightBytes: number;
  /** In the snapshot state: the snapshot's index and the bytes the follower confirmed. */
  readonly snapshotIndex: number | null;
  readonly snapshotOffset: number | null;
}

export interface Status {
  readonly id: PeerId;
  readonly role: Role;
  readonly term: number;
  readonly vote: PeerId | null;
  readonly leader: PeerId | null;
  readonly commit: number;
  readonly applied: number;
  /** The snapshot index: entries at or below it are compacted. */
  readonly snapshotIndex: number;
  readonly lastIndex: number;
  readonly config: Config;
  readonly leadTransferee: PeerId | null;
  /** Leader only: every member's progress, sorted by id. */
  readonly progress: readonly PeerProgress[] | null;
}

export type CompactOutcome = { readonly ok: true; readonly snapshot: Snapshot } | { readonly ok: false; readonly reason: RefusalReason };

const EMPTY_DATA = new Uint8Array(0);

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

export class RawNode {
  private readonly raft: Raft;
  private prevSoftState: SoftState;
  private prevHardState: HardState;
  private outstanding: Ready | null = null;

  /** The state a brand-new node persists and starts from: term 0, no vote, a snapshot at index 0
   *  holding `config` (the ensemble's first voters; EMPTY_CONFIG for a joining peer). */
  static bootstrapState(config: Config): PersistedState {
    const problem = configProblem(config);
    assert(problem === null, `bootstrap config: ${problem ?? ''}`);
    return {
      hardState: { term: 0, vote: null, commit: 0 },
      snapshot: { meta: { index: 0, term: 0, config }, data: EMPTY_DATA },
      entries: [],
    };
  }

  constructor(options: RaftOptions, persisted: PersistedState) {
    const problem = configProblem(persisted.snapshot.meta.config);
    assert(problem === null, `persisted snapshot config: ${problem ?? ''}`);
    this.raft = new Raft(options, persisted);
    this.prevSoftState = this.softState();
    this.prevHardState = this.raft.hardState();
  }

  private assertIdle(): void {
    assert(this.outstanding === null, 'call advance(ready) before calling the node again');
  }

  private softState(): SoftState {
    return { leader: this.raft.leader, role: this.raft.role };
  }

  /** One unit of logical time: elections and heartbeats are counted in ticks. */
  tick(): void {
    this.assertIdle();
    this.raft.tick();
    this.raft.assertInvariants();
  }

  /** Starts an election now, as if the election timeout had elapsed (with PreVote first when on).
   *  No effect on a leader, a learner or a removed node. */
  campaign(): void {
    this.assertIdle();
    this.raft.hup();
    this.raft.assertInvariants();
  }

  /** Feeds a message from a peer (decoded and validated). Refused (with no effect) if it is not
   *  addressed to this node or is malformed. */
  step(message: Message): StepOutcome {
    this.assertIdle();
    const outcome = this.raft.step(message);
    this.raft.assertInvariants();
    return outcome;
  }

  /** Leader only: appends `data` as a normal entry. Refused when not leader, during a leadership
   *  transfer, when the leader is being removed, or by the size limits (ENTRY_DATA_BYTES_MAX,
   *  UNCOMMITTED_BYTES_MAX). `index` is the entry's zxid; it may still be lost if leadership
   *  changes before it commits (the caller learns the outcome from committedEntries). */
  propose(data: Uint8Array): ProposeOutcome {
    this.assertIdle();
    return propose(this.raft, data);
  }

  /** Leader only: appends a single-server membership change (see leader.ts for the rules). */
  proposeConfigChange(change: ConfigChange): ProposeOutcome {
    this.assertIdle();
    return proposeConfigChange(this.raft, change);
  }

  /** Asks for a linearizable read point (§6.4). On the leader it is confirmed by a heartbeat round;
   *  a follower forwards it to its leader. The answer comes as a ReadState with this id in a later
   *  Ready — or never, if leadership changes meanwhile: the caller times out and retries. */
  readIndex(requestId: string): Outcome {
    this.assertIdle();
    assert(utf8Bytes(requestId) <= READ_REQUEST_ID_BYTES_MAX, `readIndex: request id within ${READ_REQUEST_ID_BYTES_MAX} bytes`);
    const r = this.raft;
    if (r.role === 'leader') return requestRead(r, r.id, requestId);
    if (r.leader === null) return { ok: false, reason: 'no-leader' };
    r.send({ type: 'read-index', from: r.id, to: r.leader, term: r.term, requestId });
    return { ok: true };
  }

  /** §3.10: hands leadership to voter `to`. On a follower, forwarded to the leader. */
  transferLeadership(to: PeerId): Outcome {
    this.assertIdle();
    if (peerIdProblem(to) !== null) return { ok: false, reason: 'not-a-voter' };
    const r = this.raft;
    if (r.role === 'leader') return startTransfer(r, to);
    if (r.leader === null) return { ok: false, reason: 'no-leader' };
    r.send({ type: 'transfer-leader', from: r.id, to: r.leader, term: r.term, target: to });
    return { ok: true };
  }

  /** Takes a snapshot at applied index `index` with the state machine's bytes, and compacts the
   *  log through it. The caller persists the returned snapshot. */
  compact(index: number, data: Uint8Array): CompactOutcome {
    this.assertIdle();
    const log = this.raft.log;
    if (index <= log.snapshotMeta().index) return { ok: false, reason: 'already-compacted' };
    if (index > log.applied) return { ok: false, reason: 'not-applied' };
    if (data.length > SNAPSHOT_BYTES_MAX) return { ok: false, reason: 'snapshot-too-large' };
    const meta = log.compact(index);
    const snapshot: Snapshot = { meta, data };
    this.raft.snapshot = snapshot;
    return { ok: true, snapshot };
  }

  /** The index after which committed entries are still to be handed out. */
  private applyFrom(): number {
    const snapshot = this.raft.pendingSnapshot;
    return snapshot === null ? this.raft.log.applied : Math.max(this.raft.log.applied, snapshot.meta.index);
  }

  hasReady(): boolean {
    const r = this.raft;
    if (this.outstanding !== null) return false;
    const soft = this.softState();
    if (soft.leader !== this.prevSoftState.leader || soft.role !== this.prevSoftState.role) return true;
    if (!sameHardState(r.hardState(), this.prevHardState)) return true;
    if (r.pendingSnapshot !== null || r.log.persisted < r.log.lastIndex()) return true;
    if (r.log.committed > this.applyFrom()) return true;
    return r.msgs.length > 0 || r.readStates.length > 0 || r.broadcastPending;
  }

  /** The next batch of work; see Ready for the caller's duties. */
  ready(): Ready {
    this.assertIdle();
    const r = this.raft;
    r.flushBroadcast();
    const soft = this.softState();
    const softChanged = soft.leader !== this.prevSoftState.leader || soft.role !== this.prevSoftState.role;
    const hard = r.hardState();
    const hardChanged = !sameHardState(hard, this.prevHardState);
    const entries = r.log.unpersisted();
    let messages: readonly Message[] = r.msgs;
    let messagesBeforePersist: readonly Message[] = [];
    if (r.role === 'leader') {
      // §10.2.1: replicate while persisting. Only what acknowledges nothing of ours goes early.
      messagesBeforePersist = messages.filter((m) => (m.type === 'append' || m.type === 'heartbeat') && m.term === r.term);
      if (messagesBeforePersist.length > 0) messages = messages.filter((m) => !((m.type === 'append' || m.type === 'heartbeat') && m.term === r.term));
    }
    // UNSAFE MUTATION (b) ackBeforePersist: every message goes out before the Ready is durable.
    if (r.opts.unsafe.ackBeforePersist) [messages, messagesBeforePersist] = [[], [...messagesBeforePersist, ...messages]];
    const ready: Ready = {
      softState: softChanged ? soft : null,
      hardState: hardChanged ? hard : null,
      snapshot: r.pendingSnapshot,
      entries,
      committedEntries: r.log.committedAfter(this.applyFrom(), APPLY_BYTES_PER_READY_MAX),
      messagesBeforePersist,
      messages,
      readStates: r.readStates,
      mustSync: entries.length > 0 || r.pendingSnapshot !== null || hard.term !== this.prevHardState.term || hard.vote !== this.prevHardState.vote,
    };
    r.msgs = [];
    r.readStates = [];
    this.outstanding = ready;
    return ready;
  }

  /** Tells the node that `ready` has been handled completely (persisted, sent, applied). */
  advance(ready: Ready): void {
    assert(this.outstanding === ready, 'advance the Ready last returned by ready()');
    const r = this.raft;
    if (ready.softState !== null) this.prevSoftState = ready.softState;
    if (ready.hardState !== null) this.prevHardState = ready.hardState;
    if (ready.snapshot !== null) {
      assert(r.pendingSnapshot === ready.snapshot, 'the snapshot handed out is still pending');
      r.pendingSnapshot = null;
      r.log.appliedTo(ready.snapshot.meta.index);
    }
    const lastEntry = ready.entries[ready.entries.length - 1];
    if (lastEntry !== undefined) r.log.persistedTo(lastEntry.index);
    const lastApplied = ready.committedEntries[ready.committedEntries.length - 1];
    if (lastApplied !== undefined) r.log.appliedTo(lastApplied.index);
    this.outstanding = null;
    r.onPersisted();
    r.assertInvariants();
  }

  /** status() without the leader's per-peer progress (`progress` is null): what the runtime reads
   *  on every message, so it does not build the progress list each time. */
  summary(): Status {
    return this.statusWith(null);
  }

  status(): Status {
    const r = this.raft;
    const progress =
      r.role !== 'leader'
        ? null
        : [...r.progress.entries()]
            .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
            .map(([id, p]) => ({
              id,
              match: p.match,
              next: p.next,
              state: p.state,
              isLearner: p.isLearner,
              recentActive: p.recentActive,
              paused: p.paused,
              inflightMessages: p.inflights.count,
              inflightBytes: p.inflights.bytes,
              snapshotIndex: p.snapshot?.index ?? null,
              snapshotOffset: p.snapshot?.ackedOffset ?? null,
            }));
    return this.statusWith(progress);
  }

  private statusWith(progress: Status['progress']): Status {
    const r = this.raft;
    return {
      id: r.id,
      role: r.role,
      term: r.term,
      vote: r.vote,
      leader: r.leader,
      commit: r.log.committed,
      applied: r.log.applied,
      snapshotIndex: r.log.snapshotMeta().index,
      lastIndex: r.log.lastIndex(),
      config: r.log.config(),
      leadTransferee: r.leadTransferee,
      progress,
    };
  }

  /** The in-memory log after the snapshot (for tests, checkers and the status board). */
  inspectLog(): { readonly snapshot: SnapshotMeta; readonly entries: readonly Entry[] } {
    return { snapshot: this.raft.log.snapshotMeta(), entries: this.raft.log.allEntries() };
  }
}

