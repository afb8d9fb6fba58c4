// Proves the Raft core safe and live under every fault the simulator injects (one quarter of the
// >= 200-seed run; seeds-a..d.test.ts run in parallel): each seed of the default profile mix runs
// real Replicas over the codec, faulty network, crashing disks, drifting and freezing clocks and
// membership churn, and must pass every checker — election safety, log matching, leader
// completeness, state-machine safety (§3.6.3, Figure 3.2), durability, linearizability of the
// client history, liveness after the faults heal — and the slice must inject every fault kind.
// The seeds are printed; SEED=N replays this file, `npm run sim -- --seed S` one seed.
import { describe, expect, it } from 'vitest';
import { testSeed } from '../../test-support/seed.js';
import { missingFaultKinds } from './runner.js';
import { describeSlice, runSlice } from './seed-suite.js';

const SEEDS = 60;

describe('the Raft simulator, seeds (part a)', () => {
  it(`passes every checker on ${SEEDS} seeds and injects every fault kind`, () => {
    const result = runSlice({ firstSeed: testSeed() % 1_000_000_000, count: SEEDS });
    console.info(describeSlice(result, 'src/sim/raft/seeds-a.test.ts'));
    expect(result.report, result.report).toBe('');
    expect(result.summary.passed).toBe(SEEDS);
    expect(missingFaultKinds(result.summary.faults)).toEqual([]);
    expect(result.summary.entriesCommitted).toBeGreaterThan(SEEDS * 20);
  });
});
