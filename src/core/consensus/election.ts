/**
 * Leader election (dissertation §3.4), PreVote (§9.6) and the campaign that leadership transfer
 * starts (§3.10). A candidate counts only the votes of voters in its latest config; its own vote is
 * counted at once, which is safe because nothing it does leaves the node before the Ready holding
 * its new term and vote is durable (RawNode.ready).
 */

import type { Message, VoteRequest } from './messages.js';
import { voteResult } from './quorum.js';
import type { Raft } from './raft.js';
import { handleAppend, handleHeartbeat } from './replication.js';
import { handleSnapshotChunk } from './snapshot-transfer.js';

export type CampaignKind = 'pre-election' | 'election' | 'transfer';

export function campaign(r: Raft, kind: CampaignKind): void {
  let voteTerm: number;
  if (kind === 'pre-election') {
    r.becomePreCandidate();
    voteTerm = r.term + 1; // pre-votes ask about the next term without moving to it
  } else {
    r.becomeCandidate();
    voteTerm = r.term;
  }
  r.votes.set(r.id, true);
  if (tally(r)) return;
  const type = kind === 'pre-election' ? 'pre-vote' : 'vote';
  for (const id of r.log.config().voters) {
    if (id === r.id) continue;
    r.send({
      type,
      from: r.id,
      to: id,
      term: voteTerm,
      lastLogIndex: r.log.lastIndex(),
      lastLogTerm: r.log.lastTerm(),
      transfer: kind === 'transfer',
    });
  }
}

/** Acts on the votes so far; true when the campaign ended (won or lost). */
function tally(r: Raft): boolean {
  const result = voteResult(r.log.config().voters, r.votes);
  if (result === 'won') {
    if (r.role === 'pre-candidate') {
      campaign(r, 'election');
    } else {
      r.becomeLeader();
      r.broadcastAppend();
    }
    return true;
  }
  if (result === 'lost') {
    r.becomeFollower(r.term, null);
    return true;
  }
  return false;
}

/**
 * RequestVote / PreVote receiver (Figure 3.1, §9.6). Grant when we have not voted otherwise in
 * this term (or it is a pre-vote for a later term) and the candidate's log is at least as
 * up-to-date as ours (§3.6.1). A granted response carries the request's term, so that a
 * pre-candidate (still at the lower term) accepts it. Any node answers, learners included: a
 * learner promoted by a change it has not received yet must be able to vote (as etcd); a
 * candidate counts only the voters of its own config.
 */
export function handleVoteRequest(r: Raft, m: VoteRequest): void {
  const canVote =
    r.vote === m.from || (r.vote === null && r.leader === null) || (m.type === 'pre-vote' && m.term > r.term);
  const responseType = m.type === 'vote' ? 'vote-response' : 'pre-vote-response';
  if (canVote && r.log.isUpToDate(m.lastLogIndex, m.lastLogTerm)) {
    r.send({ type: responseType, from: r.id, to: m.from, term: m.term, reject: false });
    if (m.type === 'vote') {
      r.electionElapsed = 0;
      r.vote = m.from;
    }
  } else {
    r.send({ type: responseType, from: r.id, to: m.from, term: r.term, reject: true });
  }
}

/** Candidate and pre-candidate. */
export function stepCandidate(r: Raft, m: Message): void {
  switch (m.type) {
    case 'append':
      r.becomeFollower(m.term, m.from);
      handleAppend(r, m);
      return;
    case 'heartbeat':
      r.becomeFollower(m.term, m.from);
      handleHeartbeat(r, m);
      return;
    case 'snapshot':
      r.becomeFollower(m.term, m.from);
      handleSnapshotChunk(r, m);
      return;
    case 'vote-response':
    case 'pre-vote-response': {
      const expected = r.role === 'pre-candidate' ? 'pre-vote-response' : 'vote-response';
      if (m.type !== expected) return;
      if (!r.votes.has(m.from)) r.votes.set(m.from, !m.reject);
      tally(r);
      return;
    }
    default:
      // timeout-now, read-index, transfer-leader and responses of an old role: nothing to do.
      return;
  }
}
