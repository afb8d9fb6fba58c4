/**
 * The leader's membership policy, as a pure function: given the configuration, each member's
 * replication progress and when the leader last heard from it, which single-server change (if
 * any) to propose next. The leader proposes at most one; Raft refuses a second while one is
 * uncommitted (§4.1), so the ensemble moves one committed step at a time.
 *
 * In order of priority:
 *
 * 1. Demote an unreachable voter (silent past `voterUnreachableMs`) to learner.
 *    Why it is safe for availability: a single-server change takes effect on the leader when it is
 *    appended, so the demotion commits with a majority of the voters it leaves. We propose it only
 *    when the reachable voters that remain are such a majority (the "keeps or restores a working
 *    majority" rule). For a leader this holds whenever its own quorum is recent, because removing
 *    a voter nobody hears from can only shrink the majority needed: with V voters of which R are
 *    reachable and R >= floor(V/2) + 1, we have R >= floor((V - 1)/2) + 1. The check also covers
 *    the case where the leader's view is marginal (it refuses rather than strand the log).
 *    Why demote before promoting: with 3 voters and 1 dead, promoting first gives 4 voters whose
 *    majority (3) needs every live voter; demoting first gives 2 of 2, then 3 of 3 healthy.
 *    The leader never demotes itself (it is reachable by definition; leave() transfers instead).
 *
 * 2. Promote a learner while voters < min(target, the largest odd number <= healthy members):
 *    an even voter count adds no fault tolerance, and a voter that is not healthy adds none
 *    either. The learner must be healthy, recently active in Raft's view, replicating, and within
 *    PROMOTION_LAG_ENTRIES_MAX entries of the leader's log (so it helps commit at once, §4.2.1).
 *    A learner from a failure domain no voter is in wins (DESIGN.md: the slots of one browser
 *    profile share one machine and disk), then the most caught-up (ties by id, for determinism).
 *
 * 3. Spread the voters over failure domains: when the voters are complete but two share a domain
 *    while a healthy, caught-up learner's domain has no voter, demote one of the sharing voters
 *    (never the leader); step 2 then promotes the learner. Only with every voter healthy, so the
 *    demotion never costs the working majority (the remaining voters are all reachable).
 *
 * 4. Remove a learner silent past `learnerUnreachableMs`, so closed tabs do not fill the
 *    configuration. A removed peer that comes back asks to join again (peer.ts).
 *
 * A peer's failure domain is in its id (failureDomain): `<name>~<domain>` — browser tabs carry
 * their profile's tag — else the peer is a domain of its own (an edge process).
 *
 * Not done (known gap): demoting healthy voters when the target is lowered below the current
 * voter count.
 */

import type { Config, ConfigChange, PeerId, PeerProgress } from '../core/consensus/index.js';
import { PROMOTION_LAG_ENTRIES_MAX } from './constants.js';

export interface MembershipView {
  readonly self: PeerId;
  readonly config: Config;
  /** The leader's progress of every member (RawNode.status().progress). */
  readonly progress: readonly PeerProgress[];
  readonly lastIndex: number;
  readonly now: number;
  /** When the leader last heard from `peer` (ms), or undefined if never in this term. */
  readonly lastHeard: (peer: PeerId) => number | undefined;
  readonly targetVoters: number;
  readonly voterUnreachableMs: number;
  readonly learnerUnreachableMs: number;
}

export interface MembershipDecision {
  readonly change: ConfigChange;
  readonly reason: string;
}

/** The largest odd number <= n (0 for n <= 0). */
export function largestOddAtMost(n: number): number {
  if (n <= 0) return 0;
  return n % 2 === 1 ? n : n - 1;
}

/** The votes a majority of `voters` needs. */
export function majorityOf(voters: number): number {
  return Math.floor(voters / 2) + 1;
}

function silentFor(view: MembershipView, peer: PeerId): number {
  if (peer === view.self) return 0;
  const heard = view.lastHeard(peer);
  return heard === undefined ? Number.POSITIVE_INFINITY : view.now - heard;
}

function byId(a: PeerId, b: PeerId): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function nextMembershipChange(view: MembershipView): MembershipDecision | null {
  return demotion(view) ?? promotion(view) ?? spread(view) ?? removal(view);
}

/** The failure domain of a peer id: what follows its last `~` (a browser profile's tag), else the
 *  id itself (a peer of its own domain). */
export function failureDomain(id: PeerId): string {
  const at = id.lastIndexOf('~');
  return at > 0 && at < id.length - 1 ? id.slice(at + 1) : id;
}

/** Whether two or more of `voters` share a failure domain (status(): votersShareDomain). */
export function votersShareDomain(voters: readonly PeerId[]): boolean {
  return new Set(voters.map(failureDomain)).size < voters.length;
}

/** Learners healthy, recently active, replicating and caught up: those a promotion may pick. */
function promotable(view: MembershipView): PeerId[] {
  const progressOf = new Map(view.progress.map((p) => [p.id, p]));
  return view.config.learners
    .filter((id) => {
      const progress = progressOf.get(id);
      if (progress === undefined || silentFor(view, id) > view.voterUnreachableMs) return false;
      return progress.recentActive && progress.state === 'replicate' && progress.match + PROMOTION_LAG_ENTRIES_MAX >= view.lastIndex;
    })
    .sort((a, b) => (progressOf.get(b)?.match ?? 0) - (progressOf.get(a)?.match ?? 0) || byId(a, b));
}

function demotion(view: MembershipView): MembershipDecision | null {
  const { voters } = view.config;
  const unreachable = voters
    .filter((id) => silentFor(view, id) > view.voterUnreachableMs)
    .sort((a, b) => silentFor(view, b) - silentFor(view, a) || byId(a, b));
  for (const peer of unreachable) {
    const remaining = voters.filter((id) => id !== peer);
    if (remaining.length === 0) continue;
    const reachable = remaining.filter((id) => silentFor(view, id) <= view.voterUnreachableMs).length;
    if (reachable < majorityOf(remaining.length)) continue; // would not keep a working majority
    return { change: { type: 'demote', peer }, reason: `voter ${peer} silent for over ${view.voterUnreachableMs} ms` };
  }
  return null;
}

function promotion(view: MembershipView): MembershipDecision | null {
  const { voters, learners } = view.config;
  const members = [...voters, ...learners];
  const healthy = members.filter((id) => silentFor(view, id) <= view.voterUnreachableMs).length;
  const wanted = Math.min(view.targetVoters, largestOddAtMost(healthy));
  if (voters.length >= wanted) return null;
  const voterDomains = new Set(voters.map(failureDomain));
  const candidates = promotable(view);
  const peer = candidates.find((id) => !voterDomains.has(failureDomain(id))) ?? candidates[0];
  if (peer === undefined) return null;
  return { change: { type: 'promote', peer }, reason: `voters ${voters.length} below ${wanted} (target ${view.targetVoters}, ${healthy} healthy)` };
}

function spread(view: MembershipView): MembershipDecision | null {
  const { voters } = view.config;
  if (voters.length < 2 || !votersShareDomain(voters)) return null;
  if (voters.some((id) => silentFor(view, id) > view.voterUnreachableMs)) return null;
  const domains = new Map<string, PeerId[]>();
  for (const id of voters) domains.set(failureDomain(id), [...(domains.get(failureDomain(id)) ?? []), id]);
  const newcomer = promotable(view).find((id) => !domains.has(failureDomain(id)));
  if (newcomer === undefined) return null;
  const crowded = [...domains.values()].filter((ids) => ids.length >= 2).sort((a, b) => b.length - a.length)[0] ?? [];
  const peer = crowded.filter((id) => id !== view.self).sort(byId)[0];
  if (peer === undefined) return null;
  return { change: { type: 'demote', peer }, reason: `voters share failure domain ${failureDomain(peer)}; learner ${newcomer} is of domain ${failureDomain(newcomer)}, which has no voter` };
}

function removal(view: MembershipView): MembershipDecision | null {
  const silent = view.config.learners.filter((id) => silentFor(view, id) > view.learnerUnreachableMs).sort(byId);
  const peer = silent[0];
  if (peer === undefined) return null;
  return { change: { type: 'remove', peer }, reason: `learner ${peer} silent for over ${view.learnerUnreachableMs} ms` };
}
