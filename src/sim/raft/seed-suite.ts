/**
 * What the simulator's seed tests share: a run of consecutive seeds of the default profile mix,
 * reported the way a person wants to read it (each failure with its seed, check, trace tail and
 * replay command). The seed tests are split over several files so that vitest runs them in
 * parallel; each file draws its own first seed (SEED replays it, lib0's testRepeat habit).
 */

import { formatFailure, formatSummary, runSeeds, type RunSummary } from './runner.js';

export interface SliceResult {
  readonly summary: RunSummary;
  /** Readable accounts of the failed seeds ('' when none). */
  readonly report: string;
  readonly firstSeed: number;
}

export function runSlice(options: { readonly firstSeed: number; readonly count: number }): SliceResult {
  const summary = runSeeds({ firstSeed: options.firstSeed, seeds: options.count, traceTailLines: 60 });
  const report = summary.failures.map((failure) => formatFailure(failure, false)).join('\n\n');
  return { summary, report, firstSeed: options.firstSeed };
}

export function describeSlice(result: SliceResult, file: string): string {
  const last = result.firstSeed + result.summary.seedsRun - 1;
  return `seeds ${result.firstSeed}..${last} (replay this file: SEED=${result.firstSeed} npx vitest run ${file}; one seed: npm run sim -- --seed S)\n${formatSummary(result.summary, null)}`;
}
