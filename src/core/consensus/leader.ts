/**
 * The leader's own steps: proposals with flow control, single-server config changes (§4.1 with
 * the 2015 no-op fix), leadership transfer (§3.10) and the messages only a leader handles.
 */

import { ENTRY_DATA_BYTES_MAX, UNCOMMITTED_BYTES_MAX } from '../limits.js';
import { applyConfigChange, encodeConfigEntry, isVoter } from './config.js';
import type { Message } from './messages.js';
import type { Raft } from './raft.js';
import { committedInCurrentTerm, requestRead } from './read-index.js';
import { handleAppendResponse, handleHeartbeatResponse, maybeSendAppend, sendTimeoutNow } from './replication.js';
import { handleSnapshotResponse } from './snapshot-transfer.js';
import type { ConfigChange, Outcome, PeerId, ProposeOutcome, RefusalReason } from './types.js';

/** Why the node cannot take a proposal now, or null. */
function proposalRefusal(r: Raft): RefusalReason | null {
  if (r.role !== 'leader') return 'not-leader';
  if (r.leadTransferee !== null) return 'transfer-in-progress';
  if (!isVoter(r.log.config(), r.id)) return 'leader-not-voter';
  return null;
}

export function propose(r: Raft, data: Uint8Array): ProposeOutcome {
  const refusal = proposalRefusal(r);
  if (refusal !== null) return { ok: false, reason: refusal };
  if (data.length > ENTRY_DATA_BYTES_MAX) return { ok: false, reason: 'entry-too-large' };
  // etcd's rule: a proposal always fits an empty budget, so one large entry cannot wedge the leader.
  if (r.uncommittedBytes > 0 && r.uncommittedBytes + data.length > UNCOMMITTED_BYTES_MAX) {
    return { ok: false, reason: 'uncommitted-limit' };
  }
  const index = r.appendEntries([{ kind: 'normal', data }]);
  r.broadcastPending = true; // sent with the next Ready, batched with the proposals before it
  return { ok: true, index, term: r.term };
}

/**
 * A single-server change (§4.1): takes effect on every server as soon as it is appended; one at a
 * time (refused while the previous is uncommitted); and, per Ongaro's 2015 raft-dev fix, not before
 * an entry of this leader's term (its no-op) is committed — otherwise a change from an old term
 * that is not yet committed could combine with this one into two disjoint majorities.
 */
export function proposeConfigChange(r: Raft, change: ConfigChange): ProposeOutcome {
  const refusal = proposalRefusal(r);
  if (refusal !== null) return { ok: false, reason: refusal };
  if (r.pendingConfigIndex > r.log.committed) return { ok: false, reason: 'config-change-pending' };
  if (!committedInCurrentTerm(r)) return { ok: false, reason: 'no-commit-in-term' };
  const result = applyConfigChange(r.log.config(), change);
  if (!result.ok) return { ok: false, reason: 'invalid-config-change' };
  const data = encodeConfigEntry({ change, config: result.config });
  const index = r.appendEntries([{ kind: 'config', data }]);
  r.broadcastPending = true;
  return { ok: true, index, term: r.term };
}

/** §3.10 on the leader: catch the target up, then send it TimeoutNow. Proposals stop until the
 *  transfer ends (the target wins, or an election timeout aborts it, raft.ts tickLeader). */
export function startTransfer(r: Raft, target: PeerId): Outcome {
  if (target === r.id) return { ok: true }; // already leader
  const progress = r.progress.get(target);
  if (progress === undefined || progress.isLearner) return { ok: false, reason: 'not-a-voter' };
  if (r.leadTransferee === target) return { ok: true };
  r.leadTransferee = target;
  r.electionElapsed = 0;
  if (progress.match === r.log.lastIndex()) {
    sendTimeoutNow(r, target);
  } else {
    // The transfer has an election timeout to finish: probe the target now rather than at the
    // next heartbeat (its flow may be paused with everything in flight).
    progress.paused = false;
    maybeSendAppend(r, target);
  }
  return { ok: true };
}

export function stepLeader(r: Raft, m: Message): void {
  const progress = r.progress.get(m.from);
  if (progress === undefined) return; // not a member (any more)
  switch (m.type) {
    case 'append-response':
      handleAppendResponse(r, m, progress);
      return;
    case 'heartbeat-response':
      handleHeartbeatResponse(r, m, progress);
      return;
    case 'snapshot-response':
      handleSnapshotResponse(r, m, progress);
      return;
    case 'read-index':
      requestRead(r, m.from, m.requestId); // refused when full: the follower times out and retries
      return;
    case 'transfer-leader':
      startTransfer(r, m.target);
      return;
    default:
      // append/heartbeat/snapshot of our own term cannot come from another leader (Election
      // Safety); vote responses of an old campaign; timeout-now to a leader: all ignored.
      return;
  }
}
