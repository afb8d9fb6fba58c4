/**
 * Log replication (dissertation §3.5, §10.2.1 batching and pipelining): the leader's appends and
 * heartbeats with per-follower flow control (progress.ts), the follower's AppendEntries receiver,
 * and the leader's handling of the answers, including fast backtracking on rejection (§5.3's
 * optimization as etcd does it: the follower hints (index, term), the leader skips every index
 * whose term proves it cannot match).
 *
 * Message size: an append holds as many entries as fit MESSAGE_BYTES_MAX (APPEND_HEADER_BYTES_MAX
 * + encoded entries, see codec/raft.ts) and at most appendEntriesPerMessageMax; an entry larger
 * than that goes alone, and the transport fragments it.
 */

import { assert } from '../assert.js';
import { APPEND_HEADER_BYTES_MAX, appendEntryBytes } from '../codec/raft.js';
import { MESSAGE_BYTES_MAX } from '../limits.js';
import type { Append, AppendResponse, Heartbeat, HeartbeatResponse } from './messages.js';
import type { Progress } from './progress.js';
import type { Raft } from './raft.js';
import { acknowledgeRound } from './read-index.js';
import { resendStalledSnapshot, sendSnapshot } from './snapshot-transfer.js';
import type { PeerId } from './types.js';

/** The entry bytes one append may carry beside its header. */
export const APPEND_ENTRY_BYTES_BUDGET = MESSAGE_BYTES_MAX - APPEND_HEADER_BYTES_MAX;

/** Leader: sends one append (or starts a snapshot) to `to` if flow control allows. True if a
 *  message went out. */
export function maybeSendAppend(r: Raft, to: PeerId): boolean {
  const progress = r.progress.get(to);
  if (progress === undefined || to === r.id) return false;
  const last = r.log.lastIndex();
  if (!progress.shouldSendAppend(last, r.log.committed)) return false;
  const prevLogIndex = progress.next - 1;
  const prevLogTerm = r.log.term(prevLogIndex);
  if (prevLogTerm === undefined) return sendSnapshot(r, to, progress);
  const entries = progress.canSendEntries(last)
    ? r.log.slice(progress.next, last + 1, r.opts.appendEntriesPerMessageMax, APPEND_ENTRY_BYTES_BUDGET, appendEntryBytes)
    : [];
  const bytes = entries.reduce((sum, entry) => sum + appendEntryBytes(entry), 0);
  const commit = r.log.committed;
  r.send({ type: 'append', from: r.id, to, term: r.term, prevLogIndex, prevLogTerm, entries, commit });
  progress.sentEntries(entries.length, bytes);
  progress.sentCommitIndex(commit, prevLogIndex + entries.length);
  return true;
}

export function sendTimeoutNow(r: Raft, to: PeerId): void {
  r.send({ type: 'timeout-now', from: r.id, to, term: r.term });
}

function respondAppend(r: Raft, to: PeerId, fields: Pick<AppendResponse, 'index' | 'reject' | 'rejectHint' | 'rejectHintTerm'>): void {
  r.send({ type: 'append-response', from: r.id, to, term: r.term, ...fields });
}

/** Follower: the AppendEntries receiver (Figure 3.1). */
export function handleAppend(r: Raft, m: Append): void {
  assert(r.role === 'follower', 'only followers take appends');
  if (m.prevLogIndex < r.log.committed) {
    // Everything up to our commit index already matches; say so and let the leader move on.
    respondAppend(r, m.from, { index: r.log.committed, reject: false, rejectHint: 0, rejectHintTerm: 0 });
    return;
  }
  const lastNew = r.log.maybeAppend(m.prevLogIndex, m.prevLogTerm, m.entries);
  if (lastNew !== null) {
    // Commit only what this append proved to match (Figure 3.1 receiver rule 5).
    r.log.commitTo(Math.min(m.commit, lastNew));
    respondAppend(r, m.from, { index: lastNew, reject: false, rejectHint: 0, rejectHintTerm: 0 });
    return;
  }
  // The hint: our largest index <= prevLogIndex whose term is <= the leader's prevLogTerm (no
  // higher index can match), so the leader skips a whole divergent term per round trip.
  const hint = r.log.findConflictByTerm(Math.min(m.prevLogIndex, r.log.lastIndex()), m.prevLogTerm);
  respondAppend(r, m.from, { index: m.prevLogIndex, reject: true, rejectHint: hint.index, rejectHintTerm: hint.term });
}

/** Follower: a heartbeat carries a commit index capped at our match, so we hold it. */
export function handleHeartbeat(r: Raft, m: Heartbeat): void {
  if (m.commit <= r.log.lastIndex()) r.log.commitTo(m.commit);
  r.send({ type: 'heartbeat-response', from: r.id, to: m.from, term: r.term, readRound: m.readRound });
}

function handleRejection(r: Raft, m: AppendResponse, progress: Progress): void {
  let nextProbe = m.rejectHint;
  if (m.rejectHintTerm > 0) {
    // Leader-side skip (etcd): every index above the largest whose term <= the follower's hint
    // term must also fail, since terms only grow along a log.
    nextProbe = r.log.findConflictByTerm(m.rejectHint, m.rejectHintTerm).index;
  }
  if (!progress.maybeDecrTo(m.index, nextProbe)) return;
  if (progress.state === 'replicate') progress.becomeProbe();
  maybeSendAppend(r, m.from);
}

/** Leader: an answer to an append (or to a completed snapshot). */
export function handleAppendResponse(r: Raft, m: AppendResponse, progress: Progress): void {
  progress.recentActive = true;
  if (m.index > r.log.lastIndex()) return; // impossible from a correct follower of this term
  if (m.reject) {
    handleRejection(r, m, progress);
    return;
  }
  const updated = progress.maybeUpdate(m.index);
  // Every append up to m.index is answered, empty ones (which do not move match) included.
  if (progress.state === 'replicate') progress.inflights.freeLE(m.index);
  if (!updated && !(progress.match === m.index && progress.state === 'probe')) {
    r.sendAppendsWhileAllowed(m.from); // the window may have room again
    return;
  }
  if (progress.state === 'probe') {
    progress.becomeReplicate();
  } else if (progress.state === 'snapshot') {
    progress.becomeProbe();
    if (progress.match + 1 >= r.log.firstIndex()) progress.becomeReplicate();
  }
  if (!r.maybeCommit() && r.role === 'leader' && progress.canBumpCommit(r.log.committed)) maybeSendAppend(r, m.from);
  if (r.role !== 'leader') return; // a removed leader stepped down on commit
  r.sendAppendsWhileAllowed(m.from);
  if (m.from === r.leadTransferee && progress.match === r.log.lastIndex()) sendTimeoutNow(r, m.from);
}

/** Leader: a heartbeat answer unpauses the follower's flow, so lost appends get detected. */
export function handleHeartbeatResponse(r: Raft, m: HeartbeatResponse, progress: Progress): void {
  progress.recentActive = true;
  progress.paused = false;
  if (progress.state === 'snapshot') {
    resendStalledSnapshot(r, m.from, progress);
  } else if (progress.match < r.log.lastIndex() || progress.state === 'probe') {
    maybeSendAppend(r, m.from);
  }
  acknowledgeRound(r, m.from, m.readRound);
}
