/**
 * Every limit of the recipes, with the reason for its value (units last). The ensemble's own
 * limits (path and data sizes, children per node, calls in flight) are the client's and the tree's.
 */

/** Retries of an idempotent call (a read, the delete of our own node, a write barrier) after
 *  CONNECTIONLOSS or OPERATIONTIMEOUT. Each failed call already waited up to the peer's operation
 *  timeout (10 s) before failing, so three more attempts span several leader elections; Curator's
 *  customary policy is ExponentialBackoffRetry(1000 ms, 3). */
export const CONNECTION_LOSS_RETRIES_MAX = 3;

/** The first back-off after a connection loss, doubled per retry (250, 500, 1000 ms): one Raft
 *  tick, the shortest interval in which the ensemble's view of its leader can change. */
export const CONNECTION_LOSS_BACKOFF_MS = 250;

/** How many times a protected create (Curator's protected mode) is attempted when each attempt
 *  ends with an unknown outcome and the search for its node finds nothing: one first attempt and
 *  the connection-loss retries. */
export const PROTECTED_CREATE_ATTEMPTS_MAX = 1 + CONNECTION_LOSS_RETRIES_MAX;

/** How many times a participant whose node vanished while it waited (deleted by another session,
 *  or by an operator) starts over with a new node before failing with NONODE. Curator retries the
 *  same way under its retry policy; a node that keeps vanishing means someone is deleting it on
 *  purpose, and waiting on is not what they want. */
export const NODE_RECREATE_RETRIES_MAX = 3;

/** How many times a create is retried when its parent container was swept (an empty container is
 *  deleted by the leader's sweep, every 10 s) between creating the parents and creating the node. */
export const PARENT_RECREATE_RETRIES_MAX = 3;

/** After an abort or a timeout, how long a call still in flight and the cleanup after it (deleting
 *  the waiter's node, removing its watch) may take before the promise rejects anyway, the cleanup
 *  going on in the background. A healthy ensemble answers in about a millisecond; an ensemble
 *  without quorum holds calls for its operation timeout (10 s), which must not hold an abort. */
export const ABORT_CLEANUP_WAIT_MS = 1000;

/** The deepest reentrancy of one lock object: far beyond any real recursion, and a count that
 *  keeps growing is a missing release() (Curator's counts are unbounded ints; ours fail loudly). */
export const LOCK_HOLD_COUNT_MAX = 1_000_000;

/** The most permits a Semaphore takes: its waiter reads every lease node at once, and the tree
 *  caps the children of one node at 100,000 (CHILDREN_PER_NODE_MAX); half leaves room for waiters. */
export const SEMAPHORE_PERMITS_MAX = 50_000;

/** The most members a DoubleBarrier waits for: every member is a child of the barrier node
 *  (CHILDREN_PER_NODE_MAX is 100,000). */
export const DOUBLE_BARRIER_MEMBERS_MAX = 50_000;

/** Compare-and-set attempts of SharedCounter.add before it gives up with BADVERSION. Every failed
 *  attempt means another writer succeeded, so the bound only trips under sustained contention,
 *  where a lock or a queue is the better tool. */
export const COUNTER_CAS_ATTEMPTS_MAX = 64;

/** The longest random pause between two compare-and-set attempts (the pause grows from 1 ms up to
 *  this): it breaks the lockstep in which the same writers keep colliding. */
export const COUNTER_CAS_BACKOFF_MS_MAX = 32;

/** How many times a read of "who is first" is retried when that node goes between listing the
 *  children and reading it (each retry means a leader change just happened). */
export const FIRST_NODE_READ_RETRIES_MAX = 5;

/** Consecutive failures of a LeaderElection's background check before it leaves the election and
 *  reports the error: each failure already exhausted the connection-loss retries. */
export const ELECTION_CHECK_FAILURES_MAX = 3;

/** The longest lock name keeper.locks takes, in UTF-16 code units: encoded (at most 6 characters
 *  per unit) it stays within a znode path's 4096 bytes (PATH_BYTES_MAX) with the base path. */
export const LOCK_NAME_UNITS_MAX = 600;
