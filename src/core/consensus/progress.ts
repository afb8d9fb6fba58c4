/**
 * The leader's view of one follower (etcd's tracker/progress.go; dissertation §3.5 nextIndex /
 * matchIndex, §10.2.1 pipelining). Three states:
 *
 * - probe: the leader does not know where the follower's log matches its own; it sends one
 *   append at a time (paused after each, unpaused by a response or a heartbeat response).
 * - replicate: matched; the leader pipelines appends optimistically (next advances on send) up to
 *   the Inflights window; a rejection drops back to probe.
 * - snapshot: the follower needs entries the leader compacted; the leader streams its snapshot in
 *   chunks (snapshot-transfer.ts) and sends no appends.
 */

import { assert } from '../assert.js';
import { APPEND_BYTES_IN_FLIGHT_MAX, APPEND_MESSAGES_IN_FLIGHT_MAX } from '../limits.js';
import { Inflights } from './inflights.js';

export type ProgressState = 'probe' | 'replicate' | 'snapshot';

/** The snapshot being streamed to a follower in the snapshot state, and how far it got. */
export interface SnapshotTransfer {
  readonly index: number;
  readonly term: number;
  /** Bytes sent so far (the next chunk starts here). */
  sentOffset: number;
  /** Bytes the follower has confirmed holding. */
  ackedOffset: number;
  /** The final chunk (done = true) has been sent. */
  finalSent: boolean;
  /** ackedOffset when the last heartbeat response arrived; no progress between two heartbeat
   *  responses means chunks were lost, and the leader resends from ackedOffset. */
  ackedAtLastHeartbeat: number;
  /** The offset of the last rewind asked by a `resend`, until an acknowledgement passes it: each
   *  chunk in flight draws its own `resend`, and only the first may rewind. */
  rewoundTo: number | null;
}

export class Progress {
  /** The highest index known to match the leader's log. Invariant: match < next. */
  match = 0;
  /** The next index to send. */
  next: number;
  state: ProgressState = 'probe';
  /** No append may be sent until a response or heartbeat response (etcd's MsgAppProbesPaused). */
  paused = false;
  /** The highest commit index sent to this follower, capped at next - 1. */
  sentCommit = 0;
  /** Heard from since the last CheckQuorum (§6.2). */
  recentActive = false;
  /** The highest ReadIndex heartbeat round this peer has acknowledged in this term (§6.4). */
  readRoundAcked = 0;
  readonly inflights = new Inflights(APPEND_MESSAGES_IN_FLIGHT_MAX, APPEND_BYTES_IN_FLIGHT_MAX);
  snapshot: SnapshotTransfer | null = null;

  constructor(
    next: number,
    public isLearner: boolean,
  ) {
    assert(Number.isInteger(next) && next >= 1, 'progress: next >= 1');
    this.next = next;
  }

  private resetState(state: ProgressState): void {
    this.paused = false;
    this.snapshot = null;
    this.state = state;
    this.inflights.reset();
  }

  /** Back to probing from match + 1 (or past the snapshot just sent, if that is later). */
  becomeProbe(): void {
    const sentSnapshot = this.state === 'snapshot' ? this.snapshot : null;
    this.resetState('probe');
    this.next = Math.max(this.match + 1, sentSnapshot !== null && sentSnapshot.finalSent ? sentSnapshot.index + 1 : 0);
    this.sentCommit = Math.min(this.sentCommit, this.next - 1);
  }

  becomeReplicate(): void {
    this.resetState('replicate');
    this.next = this.match + 1;
    this.sentCommit = Math.min(this.sentCommit, this.match);
  }

  becomeSnapshot(index: number, term: number): void {
    this.resetState('snapshot');
    this.snapshot = { index, term, sentOffset: 0, ackedOffset: 0, finalSent: false, ackedAtLastHeartbeat: -1, rewoundTo: null };
  }

  /** An acknowledgement of `index`; false when it is stale (not above match). */
  maybeUpdate(index: number): boolean {
    if (index <= this.match) return false;
    this.match = index;
    this.next = Math.max(this.next, index + 1);
    return true;
  }

  /**
   * A rejection of the append whose previous index was `rejected`, with the follower's hint that
   * its log may match up to `matchHint`. False when the rejection is stale (reordered/duplicate).
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      this.sentCommit = Math.min(this.sentCommit, this.match);
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.sentCommit = Math.min(this.sentCommit, this.next - 1);
    this.paused = false;
    return true;
  }

  /** Entries can go out: some are unsent, and the window has room (probe sends one message). */
  canSendEntries(lastIndex: number): boolean {
    return this.next <= lastIndex && (this.state === 'probe' || !this.inflights.full());
  }

  /** Sending `commit` could advance the follower's commit index. */
  canBumpCommit(commit: number): boolean {
    return this.sentCommit < Math.min(commit, this.next - 1);
  }

  /** Whether the leader should send an append now (etcd's ShouldSendMsgApp). In replicate state an
   *  empty append is still sent when unpaused and behind, so that lost messages get detected; a
   *  commit-only append needs room in the window (a follower with a full window learns the commit
   *  from heartbeats), so nothing unbounded queues up for a silent follower. */
  shouldSendAppend(lastIndex: number, commit: number): boolean {
    switch (this.state) {
      case 'probe':
        return !this.paused;
      case 'replicate':
        if (this.canBumpCommit(commit) && !this.inflights.full()) return true;
        return this.match < lastIndex && (!this.paused || this.canSendEntries(lastIndex));
      case 'snapshot':
        return false;
    }
  }

  /** Records an append of `count` entries (`bytes` encoded) just sent. In replicate state every
   *  append takes a window slot, empty ones too (they are acknowledged like the others); only the
   *  recovery probe sent on a full window after a heartbeat response does not. */
  sentEntries(count: number, bytes: number): void {
    assert(this.state !== 'snapshot', 'progress: no appends in snapshot state');
    if (this.state === 'replicate') {
      this.next += count;
      if (count > 0 || !this.inflights.full()) this.inflights.add(this.next - 1, bytes);
    }
    this.paused = true;
  }

  /** Records that `commit` was sent in an append whose last entry (or prevLogIndex, when empty)
   *  is `lastSentIndex`: the follower can commit at most up to that index from it. */
  sentCommitIndex(commit: number, lastSentIndex: number): void {
    this.sentCommit = Math.min(Math.max(this.sentCommit, commit), Math.max(this.next - 1, lastSentIndex));
  }
}
