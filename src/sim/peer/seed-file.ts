/**
 * What the peer simulator's seed files (seeds-a/b.test.ts, split so vitest runs them in parallel)
 * share: run a slice of consecutive seeds of the default mix from the file's own first seed
 * (SEED=N replays the file) and hold it to every checker and to the workload and fault coverage a
 * slice must reach.
 */
import { describe, expect, it } from 'vitest';
import { testSeed } from '../../test-support/seed.js';
import { describePeerSlice, missingPeerFaultKinds, runPeerSlice } from './runner.js';

export function definePeerSeedFile(part: string, file: string, seeds: number): void {
  describe(`the peer simulator, seeds (part ${part})`, () => {
    it(`passes every checker on ${seeds} seeds and injects every fault kind`, () => {
      const firstSeed = testSeed() % 1_000_000_000;
      const { summary, report } = runPeerSlice({ firstSeed, count: seeds });
      console.info(describePeerSlice(firstSeed, summary, file));
      expect(report, report).toBe('');
      expect(summary.passed).toBe(seeds);
      expect(missingPeerFaultKinds(summary.faults)).toEqual([]);
      expect(summary.lockGrants).toBeGreaterThan(seeds * 5);
      expect(summary.fencedWrites).toBeGreaterThan(seeds * 5);
      expect(summary.electionGrants).toBeGreaterThan(seeds * 5);
      expect(summary.relinquished).toBeGreaterThan(seeds);
      expect(summary.sequentialCreates).toBeGreaterThan(seeds * 10);
      expect(summary.historyOps).toBeGreaterThan(seeds * 20);
      expect(summary.watchChecks).toBeGreaterThan(seeds);
      // Faults delay and lose forwards: streams probe, and some probes find a lost forward.
      expect(summary.forwardProbes).toBeGreaterThan(seeds);
      expect(summary.forwardsLost).toBeGreaterThan(0);
    });
  });
}
