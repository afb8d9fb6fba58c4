/**
 * Majority quorums over the voters of one configuration (dissertation §3.4, §3.6): the commit
 * index a majority has reached, and the outcome of an election. Learners never appear here: the
 * callers pass `config.voters` only.
 */

import type { PeerId } from './types.js';

/**
 * The largest value that at least a majority of `voters` have reached, where `valueOf` gives each
 * voter's value (undefined counts as 0). Used for the commit index (values = match indexes) and
 * for confirming ReadIndex rounds (values = acknowledged heartbeat rounds). 0 when there are no
 * voters: an empty configuration commits nothing.
 */
export function majorityValue(voters: readonly PeerId[], valueOf: (id: PeerId) => number | undefined): number {
  if (voters.length === 0) return 0;
  const values = voters.map((id) => valueOf(id) ?? 0).sort((a, b) => b - a);
  // With n voters a majority is floor(n/2)+1 of them; the (floor(n/2)+1)-th largest value, at
  // position floor(n/2) of the descending list, is reached by exactly that many or more.
  return values[Math.floor(voters.length / 2)] as number;
}

export type VoteResult = 'won' | 'lost' | 'pending';

/** The outcome of an election given the votes received so far (true = granted). Votes from
 *  non-voters are ignored: a learner's vote never counts (§4.2.1). */
export function voteResult(voters: readonly PeerId[], votes: ReadonlyMap<PeerId, boolean>): VoteResult {
  if (voters.length === 0) return 'lost';
  const majority = Math.floor(voters.length / 2) + 1;
  let granted = 0;
  let rejected = 0;
  for (const id of voters) {
    const vote = votes.get(id);
    if (vote === true) granted += 1;
    if (vote === false) rejected += 1;
  }
  if (granted >= majority) return 'won';
  if (voters.length - rejected < majority) return 'lost';
  return 'pending';
}

/** True when a majority of voters satisfy `active` (CheckQuorum, §6.2). */
export function majorityActive(voters: readonly PeerId[], active: (id: PeerId) => boolean): boolean {
  const count = voters.filter(active).length;
  return voters.length > 0 && count >= Math.floor(voters.length / 2) + 1;
}
