/**
 * The options of a Raft node, their defaults (limits.ts) and their validation. Time is in ticks:
 * the caller calls tick() at its own rate and chooses the tick length.
 */

import { assert } from '../assert.js';
import {
  APPEND_ENTRIES_PER_MESSAGE_MAX,
  ELECTION_TIMEOUT_TICKS_DEFAULT,
  ELECTION_TIMEOUT_TICKS_MAX,
  HEARTBEAT_INTERVAL_TICKS_DEFAULT,
} from '../limits.js';
import type { Prng } from '../prng.js';
import { peerIdProblem } from './config.js';
import type { PeerId } from './types.js';

/**
 * TEST-ONLY deviations from Raft, off by default, each a one-line change marked `UNSAFE MUTATION`
 * in the code. They exist to prove that the simulator's checkers can fail: a run with one of them
 * on must eventually be caught violating safety. Never enable them outside tests.
 */
export interface UnsafeMutations {
  /**
   * (a) Commit an entry of an earlier term as soon as a majority holds it, ignoring §5.4.2 /
   * Figure 3.7's rule that only entries of the leader's current term are committed by counting
   * replicas. Caught when a later leader overwrites the "committed" entry (Figure 3.7 (d)).
   */
  readonly commitPriorTermByCount?: boolean;
  /**
   * (b) Put every outgoing message of a Ready in `Ready.messagesBeforePersist` (which a driver
   * sends BEFORE persisting) instead of `Ready.messages`: acknowledgements of appends and votes
   * leave before the entries and hard state they acknowledge are durable. Caught when the node
   * crashes between sending and persisting (a driver crash point there) and a committed entry or
   * a granted vote is lost.
   */
  readonly ackBeforePersist?: boolean;
  /**
   * (c) Grant votes without recording them in the hard state handed to storage (the in-memory
   * vote is kept, so only a restart forgets it): after a restart the node can vote again in the
   * same term, and two leaders can be elected in one term.
   */
  readonly voteWithoutDurableHardState?: boolean;
}

export interface RaftOptions {
  /** This node's id; must not change across restarts. */
  readonly id: PeerId;
  /** Seeded by the caller; draws the randomized election timeouts. */
  readonly prng: Prng;
  /** T: a follower campaigns after a random [T, 2T) ticks without a leader (§3.4). */
  readonly electionTimeoutTicks?: number;
  /** The leader sends heartbeats every this many ticks; must be below T. */
  readonly heartbeatIntervalTicks?: number;
  /** PreVote (§9.6): a would-be candidate first checks that it could win. Default on. */
  readonly preVote?: boolean;
  /** CheckQuorum (§6.2) and the leader lease that protects followers (§4.2.3). Default on. */
  readonly checkQuorum?: boolean;
  /** Entries per append message, at most APPEND_ENTRIES_PER_MESSAGE_MAX (tests lower it to make
   *  one entry per message). */
  readonly appendEntriesPerMessageMax?: number;
  readonly unsafeMutations?: UnsafeMutations;
}

export interface ResolvedOptions {
  readonly id: PeerId;
  readonly electionTimeoutTicks: number;
  readonly heartbeatIntervalTicks: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  readonly appendEntriesPerMessageMax: number;
  readonly unsafe: Required<UnsafeMutations>;
}

export function resolveOptions(options: RaftOptions): ResolvedOptions {
  const idProblem = peerIdProblem(options.id);
  assert(idProblem === null, `options.id: ${idProblem ?? ''}`);
  const electionTimeoutTicks = options.electionTimeoutTicks ?? ELECTION_TIMEOUT_TICKS_DEFAULT;
  const heartbeatIntervalTicks = options.heartbeatIntervalTicks ?? HEARTBEAT_INTERVAL_TICKS_DEFAULT;
  const appendEntriesPerMessageMax = options.appendEntriesPerMessageMax ?? APPEND_ENTRIES_PER_MESSAGE_MAX;
  assert(Number.isInteger(heartbeatIntervalTicks) && heartbeatIntervalTicks >= 1, 'heartbeat interval >= 1 tick');
  assert(Number.isInteger(electionTimeoutTicks), 'election timeout is an integer');
  assert(electionTimeoutTicks > heartbeatIntervalTicks, 'election timeout > heartbeat interval');
  assert(electionTimeoutTicks <= ELECTION_TIMEOUT_TICKS_MAX, `election timeout <= ${ELECTION_TIMEOUT_TICKS_MAX}`);
  assert(Number.isInteger(appendEntriesPerMessageMax) && appendEntriesPerMessageMax >= 1, 'entries per message >= 1');
  assert(appendEntriesPerMessageMax <= APPEND_ENTRIES_PER_MESSAGE_MAX, 'entries per message within the limit');
  const unsafe = options.unsafeMutations ?? {};
  return {
    id: options.id,
    electionTimeoutTicks,
    heartbeatIntervalTicks,
    preVote: options.preVote ?? true,
    checkQuorum: options.checkQuorum ?? true,
    appendEntriesPerMessageMax,
    unsafe: {
      commitPriorTermByCount: unsafe.commitPriorTermByCount === true,
      ackBeforePersist: unsafe.ackBeforePersist === true,
      voteWithoutDurableHardState: unsafe.voteWithoutDurableHardState === true,
    },
  };
}
