/**
 * What the mutation tests share: run seeds with one test-only unsafe Raft mutation (options.ts)
 * under the profile built to make its failure likely, until a SAFETY checker catches it. A
 * liveness failure does not count as a catch (a broken node may also stall, but the point is that
 * the safety checkers can fail); those seeds are counted and passed over.
 */

import type { CheckName } from './monitor.js';
import { raftSimProfile, type MutationName } from './profiles.js';
import { runRaftSeed, type SeedOutcome } from './raft-sim.js';
import { replayCommand } from './runner.js';

/** The profile each mutation is hunted with (each a generic fault mix; see profiles.ts). */
export const MUTATION_PROFILES: Readonly<Record<MutationName, string>> = {
  ackBeforePersist: 'rapid-restarts',
  voteWithoutDurableHardState: 'rapid-restarts',
  commitPriorTermByCount: 'disruptive-elections',
};

const SAFETY_CHECKS: readonly CheckName[] = ['election-safety', 'log-matching', 'leader-completeness', 'state-machine-safety', 'durability', 'linearizability'];

export interface Hunt {
  readonly caught: SeedOutcome | null;
  /** Seeds run, the catching one included. */
  readonly seedsRun: number;
  /** Seeds that failed only on liveness (not counted as catches). */
  readonly livenessOnly: number;
}

export function huntMutation(options: { readonly mutation: MutationName; readonly firstSeed: number; readonly seedsMax: number }): Hunt {
  const profile = raftSimProfile(MUTATION_PROFILES[options.mutation]);
  let livenessOnly = 0;
  for (let i = 0; i < options.seedsMax; i++) {
    const outcome = runRaftSeed({ seed: options.firstSeed + i, profile, mutation: options.mutation, traceTailLines: 40 });
    if (outcome.verdict === 'violation' && outcome.check !== null && SAFETY_CHECKS.includes(outcome.check)) {
      return { caught: outcome, seedsRun: i + 1, livenessOnly };
    }
    if (outcome.verdict !== 'pass') livenessOnly += 1;
  }
  return { caught: null, seedsRun: options.seedsMax, livenessOnly };
}

export function describeHunt(mutation: MutationName, firstSeed: number, hunt: Hunt): string {
  const profile = MUTATION_PROFILES[mutation];
  if (hunt.caught === null) return `${mutation} (profile ${profile}): NOT caught in seeds ${firstSeed}..${firstSeed + hunt.seedsRun - 1}`;
  const caught = hunt.caught;
  return [
    `${mutation} (profile ${profile}): caught by ${caught.check} at seed ${caught.seed}, seed ${hunt.seedsRun} of the hunt from ${firstSeed}` +
      ` (${hunt.livenessOnly} earlier seeds failed on liveness only)`,
    `  ${caught.message}`,
    `  replay: ${replayCommand(caught, true)}`,
  ].join('\n');
}
