/**
 * The peer runtime's timing and limits: every one a named constant with its unit last and the
 * reason for its value (js-libp2p's constants.ts habit). Times are milliseconds of the injected
 * Clock; the Raft core counts ticks, and RAFT_TICK_MS turns its tick counts into time.
 *
 * `PeerTiming` gathers the times a Peer uses so that tests and the simulator can shrink or stretch
 * them together; `DEFAULT_PEER_TIMING` holds the values below.
 */

import { assert } from '../core/assert.js';
import { ELECTION_TIMEOUT_TICKS_DEFAULT, ENTRY_DATA_BYTES_MAX } from '../core/limits.js';

// --- Time ------------------------------------------------------------------------------------

/** One Raft tick (heartbeat interval; the election timeout is ELECTION_TIMEOUT_TICKS_DEFAULT = 10
 *  ticks, randomized to [10, 20) ticks = 2.5-5 s). Sized for browsers: a hidden tab clamps chained
 *  timers to 1 s, so a hidden leader's heartbeats may come only every ~1 s; 250 ms ticks keep the
 *  shortest election timeout (2.5 s) well above that clamp, so a hidden but live leader is not
 *  deposed, while a crashed one is replaced within ~5 s. */
export const RAFT_TICK_MS = 250;

/** ZooKeeper's tickTime: session timeouts are negotiated within [2, 20] of it, and each serving
 *  peer reports its sessions' liveness to the leader once per tick. ZooKeeper's default (2000 ms)
 *  suits browsers too: a ping every 2 s survives the 1 s timer clamp of hidden tabs with room, the
 *  shortest session timeout (4 s) still spans two pings, and the longest (40 s) outlives a tab's
 *  brief freeze or a slot hand-over between tabs. */
export const SESSION_TICK_MS = 2000;

/** ZooKeeper's minSessionTimeout = 2 x tickTime. */
export const SESSION_TIMEOUT_TICKS_MIN = 2;

/** ZooKeeper's maxSessionTimeout = 20 x tickTime. */
export const SESSION_TIMEOUT_TICKS_MAX = 20;

/** How long a request may wait before it fails with CONNECTIONLOSS (writes: outcome unknown) or
 *  OPERATIONTIMEOUT (sync): one leader election at its slowest (2 x 10 ticks = 5 s) plus the
 *  forward, a persisted batch and the commit round trip, with room to spare. Also bounds how long
 *  a write waits for a leader while the quorum is lost. */
export const OPERATION_TIMEOUT_MS = 10_000;

/** A sync whose ReadIndex got no answer in this long is asked again (a leader that loses its
 *  leadership drops pending ReadIndex requests without an answer, raft read-index.ts): one election
 *  timeout, by when a new leader exists if one can. */
export const SYNC_RETRY_MS = ELECTION_TIMEOUT_TICKS_DEFAULT * RAFT_TICK_MS;

/** A follower that has heard nothing from its leader for this long says so: its sessions become
 *  `disconnected` and `status().quorum` is false. One election timeout: by then a voter would have
 *  started campaigning; learners never campaign, so they need this clock of their own. */
export const LEADER_SILENCE_MS = ELECTION_TIMEOUT_TICKS_DEFAULT * RAFT_TICK_MS;

/** A peer that is not a member of the configuration (joining, or removed) asks to join this often. */
export const JOIN_RETRY_MS = 1000;

/** A peer the room reported gone that is still heard from this long after the notice was not
 *  gone (a relay blip, its data channels up): the departure is ignored. Two Raft ticks: a live
 *  member answers the leader's heartbeats every tick. */
export const DEPARTURE_CONFIRM_MS = 2 * RAFT_TICK_MS;

/** At most this many peers are remembered as having left the room (a long-lived room sees many
 *  tabs come and go; only members matter, and they are at most a few dozen). */
export const DEPARTED_PEERS_MAX = 256;

/** A peer that said its identity returns (a browser slot suspended as its tab closed: `leaving`
 *  with `returns`) keeps its vote while the room reports it gone, for this long: another tab of
 *  its profile was queued on the slot's Web Lock and resumes it from IndexedDB in well under a
 *  second. Past it (the profile's last tab closed), the usual VOTER_UNREACHABLE_MS applies. */
export const SLOT_RETURN_GRACE_MS = 10_000;

/** At most this many closeSession requests for a restarted peer's orphaned sessions (those of its
 *  earlier life) in flight at once; the rest follow on later ticks. */
export const ORPHAN_CLOSES_MAX = 64;

/** A member that has heard no leader for this long asks to join again (every JOIN_RETRY_MS): its
 *  membership may be an uncommitted config entry that the next leader never had, so no leader
 *  knows to contact it, and a learner never campaigns (the peer simulator found this). A leader
 *  that has it as a member ignores the JOIN. Four election timeouts: well past a normal election. */
export const MEMBER_REJOIN_SILENCE_MS = 4 * LEADER_SILENCE_MS;

/** A voter the leader has not heard from for this long is demoted to learner (and a healthy
 *  learner promoted in its place). Far beyond a tab's restart or slot hand-over (~ms), a hidden
 *  tab's 1 s timers and several election timeouts; short enough that an ensemble regains its fault
 *  tolerance within a minute of losing a voter for good. */
export const VOTER_UNREACHABLE_MS = 30_000;

/** A learner (observer) the leader has not heard from for this long is removed from the
 *  configuration, so closed tabs do not fill it up to CONFIG_PEERS_MAX. Longer than the voter
 *  limit: a silent observer costs the quorum nothing, and removing it costs it a rejoin. */
export const LEARNER_UNREACHABLE_MS = 120_000;

/** The leader sweeps container and TTL nodes this often. ZooKeeper's ContainerManager sweeps every
 *  60 s; we sweep every 10 s because TTL nodes in interactive apps are short-lived, and each sweep
 *  is cheap and bounded (SWEEP_NODES_PER_CALL_MAX nodes examined per call). */
export const CONTAINER_SWEEP_INTERVAL_MS = 10_000;

/** A graceful leave waits this long for its sessions' closes and for a leadership transfer before
 *  stopping anyway: two election timeouts at their slowest. */
export const LEAVE_WAIT_MS = 4 * ELECTION_TIMEOUT_TICKS_DEFAULT * RAFT_TICK_MS;

/** A write forwarded this long ago and not yet applied here is probed: the serving peer asks the
 *  leader whether its stream received every forward sent so far, and a leader that is missing one
 *  kills the stream, so the writes fail with CONNECTIONLOSS now rather than at the operation
 *  timeout. Forwards travel on ordered channels, so a probe that arrives after a gap means the
 *  gap was lost (a partition, or a channel reconnecting right after a leader change), not late.
 *  A healthy commit takes milliseconds; 4 raft ticks leave room for a loaded peer, and a probe
 *  whose stream is whole costs one small message and gets no answer. */
export const FORWARD_PROBE_AFTER_MS = 4 * RAFT_TICK_MS;

/** The leader tells one non-member at most this often that it was removed (it answers a removed
 *  peer's stray Raft messages; more often would only repeat itself). */
export const REMOVED_NOTICE_INTERVAL_MS = 1000;

// --- Sizes and counts --------------------------------------------------------------------------

/** The most writes one forward stream has in flight (sent to the leader, not yet applied here):
 *  deep enough to pipeline a burst over a link with latency, small enough that a stream failure
 *  (leader change) fails a bounded number of writes with CONNECTIONLOSS. */
export const STREAM_WRITES_IN_FLIGHT_MAX = 1024;

/** The most writes the leader holds before prepping them (while it applies its log at the start of
 *  its term, or waits behind a prep barrier). Beyond it forwards are refused (the stream dies and
 *  its writes fail with CONNECTIONLOSS) rather than queued without bound. At ~1 KiB a write this
 *  is a few MB at most. */
export const LEADER_INTAKE_WRITES_MAX = 4096;

/** The most requests one session may have pending at its serving peer (ZooKeeper throttles a
 *  connection similarly). Beyond it a request fails with THROTTLEDOP, and so does every later
 *  request of the session until its queue drains, so no later write overtakes a refused one. */
export const SESSION_PENDING_REQUESTS_MAX = 1000;

/** The most sessions one peer serves: a tab or an edge process has a handful; a bound keeps the
 *  ping messages and the per-tick work small. */
export const LOCAL_SESSIONS_MAX = 4096;

/** Session ids per liveness ping message: 512 ids of ~16 bytes keep a ping under 16 KiB
 *  (MESSAGE_BYTES_MAX) however many sessions the peer serves. */
export const PING_SESSIONS_PER_MESSAGE_MAX = 512;

/** The most sessions the leader expires in one session tick: expiring is a proposal each; a mass
 *  expiry (a serving peer with many sessions vanished) is spread over a few ticks. */
export const EXPIRIES_PER_TICK_MAX = 256;

/** A learner is caught up enough to be promoted when its log matches the leader's within this many
 *  entries: it can then vote and help commit at once, rather than stall the quorum catching up. */
export const PROMOTION_LAG_ENTRIES_MAX = 64;

/** The longest request id in a log record (`<incarnation>.<counter>`, ~30 bytes). */
export const REQUEST_ID_BYTES_MAX = 64;

/** The longest incarnation id (16 hex characters of randomness plus a few of clock). */
export const INCARNATION_BYTES_MAX = 32;

/** The largest wire message a peer accepts: one Raft append carrying a maximal entry
 *  (ENTRY_DATA_BYTES_MAX) plus headers; anything larger is dropped and counted, never decoded. */
export const WIRE_MESSAGE_BYTES_MAX = ENTRY_DATA_BYTES_MAX + 64 * 1024;

/** The most tasks queued inside one peer while it is busy (messages that a synchronous transport
 *  delivers while the peer handles another). Far above what one step can produce; beyond it the
 *  message is dropped and counted, as a lossy network would. */
export const PEER_TASKS_QUEUED_MAX = 100_000;

/** The default target number of voters (DESIGN.md): 3 tolerates one failure. */
export const TARGET_VOTERS_DEFAULT = 3;

/** The largest target number of voters (DESIGN.md): beyond 7, every commit waits for more acks
 *  and fault tolerance rarely needs it. */
export const TARGET_VOTERS_MAX = 7;

// --- The timing bundle --------------------------------------------------------------------------

export interface PeerTiming {
  readonly raftTickMs: number;
  readonly sessionTickMs: number;
  readonly operationTimeoutMs: number;
  readonly syncRetryMs: number;
  readonly leaderSilenceMs: number;
  readonly joinRetryMs: number;
  readonly voterUnreachableMs: number;
  readonly learnerUnreachableMs: number;
  readonly containerSweepIntervalMs: number;
  readonly leaveWaitMs: number;
  readonly departureConfirmMs: number;
  readonly forwardProbeAfterMs: number;
}

export const DEFAULT_PEER_TIMING: PeerTiming = Object.freeze({
  raftTickMs: RAFT_TICK_MS,
  sessionTickMs: SESSION_TICK_MS,
  operationTimeoutMs: OPERATION_TIMEOUT_MS,
  syncRetryMs: SYNC_RETRY_MS,
  leaderSilenceMs: LEADER_SILENCE_MS,
  joinRetryMs: JOIN_RETRY_MS,
  voterUnreachableMs: VOTER_UNREACHABLE_MS,
  learnerUnreachableMs: LEARNER_UNREACHABLE_MS,
  containerSweepIntervalMs: CONTAINER_SWEEP_INTERVAL_MS,
  leaveWaitMs: LEAVE_WAIT_MS,
  departureConfirmMs: DEPARTURE_CONFIRM_MS,
  forwardProbeAfterMs: FORWARD_PROBE_AFTER_MS,
});

/** Fills in defaults and checks the relations the runtime relies on. */
export function resolveTiming(timing: Partial<PeerTiming> = {}): PeerTiming {
  const resolved: PeerTiming = { ...DEFAULT_PEER_TIMING, ...timing };
  for (const [name, value] of Object.entries(resolved)) {
    assert(Number.isSafeInteger(value) && value > 0, `timing ${name} is a positive integer (ms)`);
  }
  assert(resolved.sessionTickMs >= resolved.raftTickMs, 'timing: a session tick is at least a raft tick');
  assert(resolved.voterUnreachableMs >= resolved.leaderSilenceMs, 'timing: voters are demoted only after an election timeout');
  assert(resolved.learnerUnreachableMs >= resolved.voterUnreachableMs, 'timing: learners are removed after voters would be demoted');
  assert(resolved.forwardProbeAfterMs < resolved.operationTimeoutMs, 'timing: a lost forward is probed before the operation times out');
  return resolved;
}

/** How far an unsafe recovery (Peer.unsafeRecover) raises the recovered peer's term. Not just one:
 *  the lost majority may have held elections this peer never heard of, and a term of the new
 *  history that one of them also used would break Log Matching between a returning replica and
 *  the new leader (two leaders' entries under one term), hiding the contradiction the returning
 *  replica looks for (Peer.divergesFromCommitted). A million elections unheard of is beyond any
 *  real outage (PreVote: a term grows only when an election can win); terms are 53-bit. */
export const UNSAFE_RECOVERY_TERM_JUMP = 1_000_000;
