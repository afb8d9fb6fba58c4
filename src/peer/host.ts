/**
 * What the peer's two halves (leader.ts: the leader's duties; serving.ts: every peer's serving
 * duties) see of the Peer that hosts them, and the peer's counters. Kept apart so that each half
 * can be read (and tested) against a small surface.
 *
 * Everything runs inside the peer's single-threaded loop (peer.ts `external`/`internal`): `send`
 * to this peer itself, and `defer`, run the work after the current step; `notify` queues a client
 * callback, run in order once the peer's own state is consistent.
 */

import type { Config, PeerId } from '../core/consensus/index.js';
import type { DataTree } from '../core/tree/index.js';
import type { SessionId } from '../core/tree/types.js';
import type { PeerTiming } from './constants.js';
import type { Replica } from './replica.js';
import type { WireMessage } from './wire.js';

/** Why a message was dropped, each counted. */
export type DropReason =
  | 'too-large' // above WIRE_MESSAGE_BYTES_MAX
  | 'unknown-tag' // a tag this version does not know
  | 'malformed' // failed to decode
  | 'spoofed' // a Raft message whose `from` is not the transport's sender
  | 'misaddressed' // a Raft message for another peer
  | 'raft-refused' // RawNode.step refused it
  | 'overloaded' // PEER_TASKS_QUEUED_MAX or the replica's queue was full
  | 'stopped'; // arrived after stop()

export const DROP_REASONS: readonly DropReason[] = ['too-large', 'unknown-tag', 'malformed', 'spoofed', 'misaddressed', 'raft-refused', 'overloaded', 'stopped'];

export interface PeerCounters {
  /** Messages dropped, by reason. */
  readonly dropped: Record<DropReason, number>;
  /** Leaders this peer has seen elected (a new non-null leader in its Raft soft state). */
  electionsSeen: number;
  /** Forward streams this peer opened to a leader, and how many failed (refusal, leader change, timeout). */
  streamsOpened: number;
  streamsFailed: number;
  /** Leader: forwards refused (each kills its stream). */
  forwardsRefused: number;
  /** Probes this peer sent for a write in flight past FORWARD_PROBE_AFTER_MS, and (leader) the
   *  streams it refused because a probe found a forward that never arrived. */
  forwardProbes: number;
  forwardsLost: number;
  /** Leader: txns proposed (client writes and its own clean-ups), and proposals Raft refused. */
  writesProposed: number;
  proposalsRefused: number;
  /** Leader: sessions expired (closeSession proposed for silence), containers/TTL nodes swept. */
  sessionsExpired: number;
  containersSwept: number;
  /** Leader: membership changes proposed. */
  configChanges: number;
  /** JOIN requests this peer sent while not a member. */
  joinRequests: number;
  /** REMOVED notices: sent (leader) and accepted (this peer learned it was removed). */
  removedNoticesSent: number;
  removedNoticesAccepted: number;
  /** Peers confirmed gone from the room (Peer.roomChanged). */
  departures: number;
  /** Elections this peer started at once because the leader left the room (Peer.takeOverFrom). */
  takeovers: number;
  /** Leaving notices heard: a peer said it was stopping at once (Peer.leaveNow, a closing tab). */
  leaveNotices: number;
  /** Sessions of an earlier life of this peer (a restart, an adopted slot) it asked to close. */
  orphansClosed: number;
  /** Leaderships this peer handed on as it left at once (TimeoutNow sent from Peer.leaveNow). */
  transfersOnLeave: number;
  /** Sessions of client-only attachments that moved in here (resumeSession), and the watches they
   *  held that could not be set again (the watch table full, or a bad path). */
  sessionsResumed: number;
  watchesRefusedOnResume: number;
  /** Unsafe recoveries run on this peer (Peer.unsafeRecover: it became the sole voter). */
  unsafeRecoveries: number;
  /** Times this replica dropped its history because a leader's log disagreed with entries it had
   *  committed (only an unsafe recovery elsewhere causes that) and joined again from scratch. */
  divergedResets: number;
  /** Client callbacks (done, listener, status) that threw (each rethrown from a fresh timer). */
  callbackErrors: number;
}

export function newCounters(): PeerCounters {
  const dropped = Object.fromEntries(DROP_REASONS.map((reason) => [reason, 0])) as Record<DropReason, number>;
  return {
    dropped,
    electionsSeen: 0,
    streamsOpened: 0,
    streamsFailed: 0,
    forwardsRefused: 0,
    forwardProbes: 0,
    forwardsLost: 0,
    writesProposed: 0,
    proposalsRefused: 0,
    sessionsExpired: 0,
    containersSwept: 0,
    configChanges: 0,
    joinRequests: 0,
    removedNoticesSent: 0,
    removedNoticesAccepted: 0,
    departures: 0,
    takeovers: 0,
    leaveNotices: 0,
    orphansClosed: 0,
    transfersOnLeave: 0,
    sessionsResumed: 0,
    watchesRefusedOnResume: 0,
    unsafeRecoveries: 0,
    divergedResets: 0,
    callbackErrors: 0,
  };
}

/**
 * TEST-ONLY unsafe deviations of the runtime, each off by default and each a one-line change marked
 * `UNSAFE RUNTIME MUTATION` where it acts. They exist so that the peer simulator (src/sim/peer) can
 * prove its checkers fail when the runtime breaks a rule; never set one outside such a test.
 */
export interface UnsafeRuntimeMutations {
  /** Answer a write (its `done`) BEFORE queueing the watch events its entry fired, breaking the
   *  rule that a client sees its watch event before any result that reflects the change
   *  (serving.ts onRecordApplied; ZooKeeper's FinalRequestProcessor order reversed). */
  readonly resultBeforeWatchEvents?: boolean;
}

export interface PeerHost {
  readonly id: PeerId;
  /** Peers the room reported gone (their relay socket closed: a closed tab, a stopped process),
   *  silent since, and not back: the leader treats them as silent at once (membership, sessions). */
  readonly departed: ReadonlySet<PeerId>;
  /** Whether the peer serving `sessionId` is gone for good: its serving peer (the origin of its
   *  createSession) departed the room, or that peer's incarnation that opened it ended (a browser
   *  slot suspended: the identity returns, these sessions' clients do not). */
  servingGone(sessionId: SessionId): boolean;
  /** Test-only unsafe mutations (all off in every real peer). */
  readonly unsafeRuntimeMutations: UnsafeRuntimeMutations;
  /** Random per start of this peer: request ids and stream ids carry it. */
  readonly incarnation: string;
  readonly timing: PeerTiming;
  readonly counters: PeerCounters;
  readonly targetVoters: number;
  /** The replica (set once started). */
  readonly replica: Replica;
  /** The data tree (replaced when a snapshot is installed: read it through here, never keep it). */
  readonly tree: DataTree;
  /** When this peer last heard any valid message from each peer (ms). */
  readonly lastHeard: ReadonlyMap<PeerId, number>;
  /** The clock's time in whole ms. */
  now(): number;
  send(to: PeerId, message: WireMessage): void;
  defer(task: () => void): void;
  notify(notice: () => void): void;
  /** A fresh id, unique within this incarnation: `<incarnation>.<counter>`. */
  nextRequestId(): string;
  /** 64 random bits as 16 hex characters (from the seeded PRNG). */
  randomHex(): string;
  /** True while this peer leads, or follows a leader it heard from within LEADER_SILENCE_MS. */
  leaderContact(): boolean;
  /** The configuration of the latest applied config entry (or snapshot), with its index. */
  committedConfig(): { readonly config: Config; readonly index: number };
}
