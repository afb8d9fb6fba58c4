/**
 * ReadIndex (dissertation §6.4) on the leader, for linearizable reads and ZooKeeper's sync():
 *
 * 1. The leader needs an entry of its current term committed (its no-op) before it knows the
 *    latest commit index; requests wait in `waiting` until then.
 * 2. It records its commit index as the read index and opens a heartbeat round (a number that
 *    grows within the term). Heartbeats carry the latest round; a follower echoes it back.
 * 3. Once a majority of voters (the leader included) acknowledged a round >= the request's, the
 *    leader was still leader when the request arrived: the read index is released, as a
 *    ReadState locally or a read-index-response to the follower that forwarded it.
 * 4. The caller serves the read once its applied index reaches the read index.
 *
 * A leader that loses leadership drops pending requests without an answer: the caller times out
 * and retries (a read has no effect, so retrying is always safe).
 */

import { READ_REQUESTS_PENDING_MAX } from '../limits.js';
import type { Raft } from './raft.js';
import { majorityValue } from './quorum.js';
import type { Outcome, PeerId } from './types.js';

interface ReadRequest {
  readonly requestId: string;
  /** The node that asked: the leader itself, or a follower that forwarded the request. */
  readonly from: PeerId;
}

interface PendingRead extends ReadRequest {
  readonly index: number;
  readonly round: number;
}

export class ReadIndexQueue {
  /** The latest heartbeat round opened in this term (0: none). */
  round = 0;
  waiting: ReadRequest[] = [];
  pending: PendingRead[] = [];

  get size(): number {
    return this.waiting.length + this.pending.length;
  }

  reset(): void {
    this.round = 0;
    this.waiting = [];
    this.pending = [];
  }
}

/** True once an entry of the leader's own term is committed (§6.4 step 1; also §3.6.2). */
export function committedInCurrentTerm(r: Raft): boolean {
  return r.log.term(r.log.committed) === r.term;
}

/** A ReadIndex request on the leader, from itself or forwarded by `from`. */
export function requestRead(r: Raft, from: PeerId, requestId: string): Outcome {
  if (r.reads.size >= READ_REQUESTS_PENDING_MAX) return { ok: false, reason: 'too-many-reads' };
  if (!committedInCurrentTerm(r)) {
    r.reads.waiting.push({ requestId, from });
    return { ok: true };
  }
  startRound(r, [{ requestId, from }]);
  return { ok: true };
}

function startRound(r: Raft, requests: readonly ReadRequest[]): void {
  r.reads.round += 1;
  const round = r.reads.round;
  for (const request of requests) r.reads.pending.push({ ...request, index: r.log.committed, round });
  const self = r.progress.get(r.id);
  if (self !== undefined) self.readRoundAcked = round;
  r.broadcastHeartbeat();
  confirmReads(r);
}

/** Called when the commit index advances in the leader's term: releases the waiting requests. */
export function onCommitInTerm(r: Raft): void {
  if (r.reads.waiting.length === 0 || !committedInCurrentTerm(r)) return;
  const waiting = r.reads.waiting;
  r.reads.waiting = [];
  startRound(r, waiting);
}

/** A heartbeat response acknowledged `round` from `from`. */
export function acknowledgeRound(r: Raft, from: PeerId, round: number): void {
  const progress = r.progress.get(from);
  if (progress === undefined || round <= progress.readRoundAcked) return;
  progress.readRoundAcked = Math.min(round, r.reads.round);
  confirmReads(r);
}

function confirmReads(r: Raft): void {
  const confirmed = majorityValue(r.log.config().voters, (id) => r.progress.get(id)?.readRoundAcked);
  let released = 0;
  for (const read of r.reads.pending) {
    if (read.round > confirmed) break;
    released += 1;
    if (read.from === r.id) {
      r.readStates.push({ requestId: read.requestId, index: read.index });
    } else {
      r.send({ type: 'read-index-response', from: r.id, to: read.from, term: r.term, requestId: read.requestId, index: read.index });
    }
  }
  if (released > 0) r.reads.pending = r.reads.pending.slice(released);
}
