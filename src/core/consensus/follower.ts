/**
 * The follower's steps (learners are followers that never campaign). Hearing from the leader of
 * the term resets the election timer (§3.4) and names the leader for forwarding.
 */

import { campaign } from './election.js';
import type { Message } from './messages.js';
import type { Raft } from './raft.js';
import { handleAppend, handleHeartbeat } from './replication.js';
import { handleSnapshotChunk } from './snapshot-transfer.js';

export function stepFollower(r: Raft, m: Message): void {
  switch (m.type) {
    case 'append':
      r.electionElapsed = 0;
      r.leader = m.from;
      handleAppend(r, m);
      return;
    case 'heartbeat':
      r.electionElapsed = 0;
      r.leader = m.from;
      handleHeartbeat(r, m);
      return;
    case 'snapshot':
      r.electionElapsed = 0;
      r.leader = m.from;
      handleSnapshotChunk(r, m);
      return;
    case 'timeout-now':
      // §3.10: campaign at once, skipping PreVote; the vote requests carry `transfer` so that
      // the leader lease does not make the other voters ignore them.
      if (r.promotable()) campaign(r, 'transfer');
      return;
    case 'read-index-response':
      r.readStates.push({ requestId: m.requestId, index: m.index });
      return;
    default:
      // read-index / transfer-leader reach a follower only if leadership moved since they were
      // sent: dropped (the caller's request times out); stale responses: ignored.
      return;
  }
}
