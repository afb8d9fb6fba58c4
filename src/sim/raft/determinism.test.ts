// Proves that a seed replays exactly (TigerBeetle's VOPR rule: the seed is the bug report): the
// same seed and profile run twice give the same trace digest (a hash of every trace line: each
// message delivered, role change, fault, client request and reply) and the same figures, for a
// passing seed and for one that a mutation makes fail; other seeds give other runs.
import { describe, expect, it } from 'vitest';
import { testSeed } from '../../test-support/seed.js';
import { MUTATION_PROFILES, huntMutation } from './mutation-suite.js';
import { profileForSeed, raftSimProfile } from './profiles.js';
import { runRaftSeed } from './raft-sim.js';

describe('replaying a seed', () => {
  it('gives an identical trace digest and figures', () => {
    const seed = testSeed() % 1_000_000_000;
    console.info(`determinism: seed ${seed} (SEED=${seed} replays)`);
    const profile = profileForSeed(seed);
    const first = runRaftSeed({ seed, profile });
    const second = runRaftSeed({ seed, profile });
    expect(first.verdict, first.message).toBe('pass');
    expect(second.digest).toBe(first.digest);
    expect(second.figures).toEqual(first.figures);
    const other = runRaftSeed({ seed: seed + 1, profile });
    expect(other.digest).not.toBe(first.digest);
  });

  it('replays a failing seed to the same failure', () => {
    const firstSeed = testSeed() % 1_000_000_000;
    const hunt = huntMutation({ mutation: 'ackBeforePersist', firstSeed, seedsMax: 100 });
    expect(hunt.caught).not.toBeNull();
    const caught = hunt.caught as NonNullable<typeof hunt.caught>;
    console.info(`determinism: failing seed ${caught.seed} (${caught.check}) replayed`);
    const again = runRaftSeed({ seed: caught.seed, profile: raftSimProfile(MUTATION_PROFILES.ackBeforePersist), mutation: 'ackBeforePersist', traceTailLines: 40 });
    expect(again.digest).toBe(caught.digest);
    expect(again.check).toBe(caught.check);
    expect(again.message).toBe(caught.message);
    expect(again.traceTail).toEqual(caught.traceTail);
  });
});
