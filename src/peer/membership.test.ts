// Proves the leader's membership policy (membership.ts) case by case: demote an unreachable voter
// only when the remaining reachable voters are a majority; promote the most caught-up healthy
// learner while voters < min(target, largest odd <= healthy members); never an even step up from
// odd when health does not allow it; remove long-silent learners; one decision at a time.
import { describe, expect, it } from 'vitest';
import { makeConfig, type PeerProgress } from '../core/consensus/index.js';
import { failureDomain, largestOddAtMost, majorityOf, nextMembershipChange, votersShareDomain, type MembershipView } from './membership.js';

const NOW = 1_000_000;

function progress(id: string, match: number, extra: Partial<PeerProgress> = {}): PeerProgress {
  return { id, match, next: match + 1, state: 'replicate', isLearner: false, recentActive: true, paused: false, inflightMessages: 0, inflightBytes: 0, snapshotIndex: null, snapshotOffset: null, ...extra };
}

function view(options: { voters: string[]; learners?: string[]; silentMs?: Record<string, number>; match?: Record<string, number>; target?: number; progress?: PeerProgress[] }): MembershipView {
  const learners = options.learners ?? [];
  const all = [...options.voters, ...learners];
  return {
    self: options.voters[0] as string,
    config: makeConfig(options.voters, learners),
    progress: options.progress ?? all.map((id) => progress(id, options.match?.[id] ?? 100, { isLearner: learners.includes(id) })),
    lastIndex: 100,
    now: NOW,
    lastHeard: (peer) => NOW - (options.silentMs?.[peer] ?? 0),
    targetVoters: options.target ?? 3,
    voterUnreachableMs: 30_000,
    learnerUnreachableMs: 120_000,
  };
}

describe('membership policy', () => {
  it('knows its arithmetic', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7].map(largestOddAtMost)).toEqual([0, 1, 1, 3, 3, 5, 5, 7]);
    expect([1, 2, 3, 4, 5].map(majorityOf)).toEqual([1, 2, 2, 3, 3]);
  });

  it('does nothing for a healthy ensemble at its target', () => {
    expect(nextMembershipChange(view({ voters: ['a', 'b', 'c'], learners: ['d', 'e'] }))).toBeNull();
  });

  it('promotes a caught-up learner while voters are below the target, the most caught up first', () => {
    const decision = nextMembershipChange(view({ voters: ['a'], learners: ['b', 'c'], match: { b: 90, c: 99 } }));
    expect(decision?.change).toEqual({ type: 'promote', peer: 'c' });
  });

  it('does not grow to an even number of voters: with 2 healthy members, 1 voter stays', () => {
    expect(nextMembershipChange(view({ voters: ['a'], learners: ['b'] }))).toBeNull();
    expect(nextMembershipChange(view({ voters: ['a'], learners: ['b', 'c'], silentMs: { c: 40_000 } }))).toBeNull();
  });

  it('does not promote a lagging, inactive or probing learner', () => {
    const learners = ['b', 'c'];
    const base = { voters: ['a'], learners };
    expect(nextMembershipChange(view({ ...base, match: { b: 10, c: 100 } }))?.change).toEqual({ type: 'promote', peer: 'c' });
    expect(nextMembershipChange(view({ ...base, match: { b: 10, c: 10 } }))).toBeNull();
    const inactive = [progress('a', 100), progress('b', 100, { isLearner: true, recentActive: false }), progress('c', 100, { isLearner: true, state: 'probe' })];
    expect(nextMembershipChange(view({ ...base, progress: inactive }))).toBeNull();
  });

  it('demotes an unreachable voter before promoting its replacement', () => {
    const decision = nextMembershipChange(view({ voters: ['a', 'b', 'c'], learners: ['d', 'e'], silentMs: { c: 31_000 } }));
    expect(decision?.change).toEqual({ type: 'demote', peer: 'c' });
    const after = nextMembershipChange(view({ voters: ['a', 'b'], learners: ['c', 'd', 'e'], silentMs: { c: 31_000 } }));
    expect(after?.change.type).toBe('promote');
    expect(['d', 'e']).toContain(after?.change.peer);
  });

  it('never demotes when the reachable voters left would not be a majority', () => {
    // 5 voters, 3 silent: the 2 reachable ones are not a majority of any 4 left.
    expect(nextMembershipChange(view({ voters: ['a', 'b', 'c', 'd', 'e'], silentMs: { c: 40_000, d: 40_000, e: 40_000 } }))).toBeNull();
    // 5 voters, 2 silent: demoting one leaves 3 reachable of 4 (a majority).
    expect(nextMembershipChange(view({ voters: ['a', 'b', 'c', 'd', 'e'], silentMs: { d: 40_000, e: 50_000 } }))?.change).toEqual({ type: 'demote', peer: 'e' });
  });

  it('never demotes itself', () => {
    expect(nextMembershipChange(view({ voters: ['a'], silentMs: { a: 1e9 } }))).toBeNull();
  });

  it('removes a learner silent past the learner limit, not before', () => {
    expect(nextMembershipChange(view({ voters: ['a', 'b', 'c'], learners: ['d'], silentMs: { d: 60_000 } }))).toBeNull();
    expect(nextMembershipChange(view({ voters: ['a', 'b', 'c'], learners: ['d'], silentMs: { d: 130_000 } }))?.change).toEqual({ type: 'remove', peer: 'd' });
  });

  it('grows to 5 voters when the target is 5 and 5 members are healthy', () => {
    expect(nextMembershipChange(view({ voters: ['a', 'b', 'c'], learners: ['d', 'e'], target: 5 }))?.change.type).toBe('promote');
  });

  describe('failure domains (`<name>~<domain>` ids: the slots of one browser profile share one)', () => {
    it('reads the domain from the id, or takes the id as its own domain', () => {
      expect(failureDomain('tab-1a2b~p9')).toBe('p9');
      expect(failureDomain('edge-77')).toBe('edge-77');
      expect(failureDomain('~odd')).toBe('~odd');
      expect(failureDomain('odd~')).toBe('odd~');
      expect(votersShareDomain(['t1~p', 't2~p', 'edge'])).toBe(true);
      expect(votersShareDomain(['t1~p', 't2~q', 'edge'])).toBe(false);
    });

    it('promotes a learner from a domain no voter is in before a more caught-up one from a voter\'s domain', () => {
      const decision = nextMembershipChange(view({ voters: ['a~p', 'b~q'], learners: ['c~p', 'd~r'], match: { 'c~p': 100, 'd~r': 95 } }));
      expect(decision?.change).toEqual({ type: 'promote', peer: 'd~r' });
    });

    it('spreads full voters sharing a domain: demotes a sharing voter (never itself) when a healthy learner of a new domain is caught up', () => {
      const decision = nextMembershipChange(view({ voters: ['a~p', 'b~p', 'c~p'], learners: ['edge-1'] }));
      expect(decision?.change).toEqual({ type: 'demote', peer: 'b~p' });
      // Then the edge peer is the one promoted.
      expect(nextMembershipChange(view({ voters: ['a~p', 'c~p'], learners: ['b~p', 'edge-1'] }))?.change).toEqual({ type: 'promote', peer: 'edge-1' });
    });

    it('does not spread while a voter is unreachable, for a lagging learner, or when every learner shares a voter\'s domain', () => {
      expect(nextMembershipChange(view({ voters: ['a~p', 'b~p', 'c~q'], learners: ['d~q'] }))).toBeNull();
      expect(nextMembershipChange(view({ voters: ['a~p', 'b~p', 'c~q'], learners: ['edge-1'], match: { 'edge-1': 10 } }))).toBeNull();
      const silent = nextMembershipChange(view({ voters: ['a~p', 'b~p', 'c~q', 'e~s', 'f~t'], learners: ['edge-1'], silentMs: { 'f~t': 40_000 }, target: 5 }));
      expect(silent?.change).toEqual({ type: 'demote', peer: 'f~t' }); // the unreachable one, not a spread
    });
  });
});
