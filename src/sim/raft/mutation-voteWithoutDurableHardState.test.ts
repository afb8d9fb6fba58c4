// Proves the simulator's safety checkers can fail: with the test-only unsafe mutation
// `voteWithoutDurableHardState` (src/core/consensus/options.ts) switched on, seeds of the profile chosen for it
// (mutation-suite.ts: a generic fault mix, no scripted bug) are run until a safety checker reports
// a violation, which must happen within 100 seeds. The catching seed, its checker and trace are
// printed; SEED=N replays the hunt from seed N, `npm run sim -- --seed S --profile P --mutation M`
// the one seed.
import { describe, expect, it } from 'vitest';
import { testSeed } from '../../test-support/seed.js';
import { describeHunt, huntMutation } from './mutation-suite.js';

const SEEDS_MAX = 100;

describe('the unsafe mutation voteWithoutDurableHardState', () => {
  it(`is caught by a safety checker within ${SEEDS_MAX} seeds`, () => {
    const firstSeed = testSeed() % 1_000_000_000;
    const hunt = huntMutation({ mutation: 'voteWithoutDurableHardState', firstSeed, seedsMax: SEEDS_MAX });
    const text = describeHunt('voteWithoutDurableHardState', firstSeed, hunt);
    console.info(text);
    expect(hunt.caught, text).not.toBeNull();
  });
});
