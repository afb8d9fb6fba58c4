// Proves the majority computations (dissertation §3.4 elections, §3.6 commit, §6.2 CheckQuorum)
// for every voter count up to 7: the commit index is the largest index a majority holds, an
// election is won exactly with a majority, and learners' votes or matches never count.

import { describe, expect, it } from 'vitest';
import { majorityActive, majorityValue, voteResult } from './quorum.js';

function ids(count: number): string[] {
  return Array.from({ length: count }, (_, i) => String(i + 1));
}

describe('majorityValue (commit index)', () => {
  it('is the largest value a majority has reached, for 1 to 7 voters', () => {
    for (let n = 1; n <= 7; n++) {
      const voters = ids(n);
      // Voter i has value i: a majority (floor(n/2)+1 voters) has at least n - floor(n/2).
      const value = majorityValue(voters, (id) => Number(id));
      expect(value, `n=${n}`).toBe(n - Math.floor(n / 2));
      const atLeast = voters.filter((id) => Number(id) >= value).length;
      expect(atLeast).toBeGreaterThanOrEqual(Math.floor(n / 2) + 1);
    }
  });

  it('counts missing voters as 0 and ignores non-voters', () => {
    const match = new Map([['1', 9], ['2', 9], ['learner', 9]]);
    expect(majorityValue(['1', '2', '3', '4', '5'], (id) => match.get(id))).toBe(0);
    expect(majorityValue(['1', '2', '3'], (id) => match.get(id))).toBe(9);
    expect(majorityValue([], () => 5)).toBe(0);
  });

  it('Figure 3.7: a leader with matches 3,3,2,1,0 has a majority only through index 2', () => {
    const match = new Map([['1', 3], ['2', 3], ['3', 2], ['4', 1], ['5', 0]]);
    expect(majorityValue(ids(5), (id) => match.get(id))).toBe(2);
  });
});

describe('voteResult', () => {
  it('wins exactly at a majority of grants, loses once a majority is impossible', () => {
    for (let n = 1; n <= 7; n++) {
      const voters = ids(n);
      const majority = Math.floor(n / 2) + 1;
      const votes = new Map<string, boolean>();
      for (let i = 1; i < majority; i++) votes.set(String(i), true);
      expect(voteResult(voters, votes), `n=${n} below majority`).toBe('pending');
      votes.set(String(majority), true);
      expect(voteResult(voters, votes), `n=${n} majority`).toBe('won');
      const rejections = new Map(voters.slice(0, n - majority + 1).map((id) => [id, false] as const));
      expect(voteResult(voters, rejections), `n=${n} rejected`).toBe('lost');
    }
  });

  it("never counts a learner's vote (§4.2.1)", () => {
    const votes = new Map([['1', true], ['learner-a', true], ['learner-b', true]]);
    expect(voteResult(['1', '2', '3'], votes)).toBe('pending');
  });
});

describe('majorityActive (CheckQuorum)', () => {
  it('needs a majority of voters active', () => {
    expect(majorityActive(ids(3), (id) => id !== '3')).toBe(true);
    expect(majorityActive(ids(3), (id) => id === '1')).toBe(false);
    expect(majorityActive(ids(4), (id) => id !== '4' && id !== '3')).toBe(false);
  });
});
