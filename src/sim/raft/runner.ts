/**
 * Many seeds of the Raft simulator, and the text a person reads: a summary line with the run's
 * figures, and for a failed seed its check, message, trace tail and the command that replays it.
 * Wall time is measured by the caller (src/sim stays free of real time).
 */

import { profileForSeed, raftSimProfile, type MutationName } from './profiles.js';
import { runRaftSeed, type FaultCounts, type SeedOutcome } from './raft-sim.js';

/** Every kind of fault the simulator injects, as its figures name them: a long enough run of the
 *  default mix shows each (the 200-seed test asserts it). `message-delay` counts delivered
 *  messages (each one delayed); `crash-with-unsynced-writes` crashes that lost written but not
 *  yet durable batches, `torn-write` those that kept part of them; `snapshot-install` snapshots
 *  sent to laggards and installed. */
export const FAULT_KINDS = [
  'message-delay',
  'message-loss',
  'message-duplicate',
  'message-reorder',
  'message-partitioned',
  'partition',
  'partition-one-way',
  'loss-burst',
  'duplicate-burst',
  'crash',
  'crash-with-unsynced-writes',
  'torn-write',
  'unsynced-batches-lost',
  'restart',
  'pause',
  'resume',
  'clock-drift',
  'join',
  'leave',
  'membership-add-learner',
  'membership-promote',
  'membership-remove',
  'retire',
  'leadership-transfer',
  'snapshot-install',
] as const;

/** The kinds of FAULT_KINDS that a run did not inject. */
export function missingFaultKinds(faults: FaultCounts): string[] {
  return FAULT_KINDS.filter((kind) => (faults[kind] ?? 0) === 0);
}

export interface RunSeedsOptions {
  /** The first seed; seeds are first, first + 1, ... */
  readonly firstSeed: number;
  readonly seeds: number;
  /** A profile name; absent: the default mix, by seed. */
  readonly profile?: string | null;
  readonly mutation?: MutationName | null;
  /** Stop at the first seed that does not pass. */
  readonly stopAtFirstFailure?: boolean;
  readonly traceTailLines?: number;
  /** Called after each seed (progress, timing). */
  readonly onSeed?: (outcome: SeedOutcome) => void;
}

export interface RunSummary {
  readonly seedsRun: number;
  readonly passed: number;
  readonly failures: readonly SeedOutcome[];
  readonly faults: FaultCounts;
  readonly operationsChecked: number;
  readonly operationsUnknown: number;
  readonly entriesCommitted: number;
  readonly elections: number;
  readonly snapshotsInstalled: number;
  readonly virtualMs: number;
  readonly byProfile: Readonly<Record<string, number>>;
}

export function profileOf(seed: number, profile: string | null | undefined): ReturnType<typeof raftSimProfile> {
  return profile === null || profile === undefined ? profileForSeed(seed) : raftSimProfile(profile);
}

export function runSeeds(options: RunSeedsOptions): RunSummary {
  const faults: FaultCounts = {};
  const byProfile: Record<string, number> = {};
  const failures: SeedOutcome[] = [];
  let seedsRun = 0;
  let operationsChecked = 0;
  let operationsUnknown = 0;
  let entriesCommitted = 0;
  let elections = 0;
  let snapshotsInstalled = 0;
  let virtualMs = 0;
  for (let i = 0; i < options.seeds; i++) {
    const seed = options.firstSeed + i;
    const outcome = runRaftSeed({
      seed,
      profile: profileOf(seed, options.profile),
      mutation: options.mutation ?? null,
      ...(options.traceTailLines === undefined ? {} : { traceTailLines: options.traceTailLines }),
    });
    seedsRun += 1;
    const figures = outcome.figures;
    for (const [kind, count] of Object.entries(figures.faults)) faults[kind] = (faults[kind] ?? 0) + count;
    byProfile[outcome.profile] = (byProfile[outcome.profile] ?? 0) + 1;
    operationsChecked += figures.operations.invoked;
    operationsUnknown += figures.operations.unknown;
    entriesCommitted += figures.entriesCommitted;
    elections += figures.elections;
    snapshotsInstalled += figures.snapshotsInstalled;
    virtualMs += figures.virtualMs;
    if (outcome.verdict !== 'pass') failures.push(outcome);
    options.onSeed?.(outcome);
    if (outcome.verdict !== 'pass' && options.stopAtFirstFailure === true) break;
  }
  return { seedsRun, passed: seedsRun - failures.length, failures, faults, operationsChecked, operationsUnknown, entriesCommitted, elections, snapshotsInstalled, virtualMs, byProfile };
}

/** The command that replays one seed exactly. */
export function replayCommand(outcome: Pick<SeedOutcome, 'seed' | 'profile' | 'mutation'>, profileGiven: boolean): string {
  const profile = profileGiven || profileForSeed(outcome.seed).name !== outcome.profile ? ` --profile ${outcome.profile}` : '';
  const mutation = outcome.mutation === null ? '' : ` --mutation ${outcome.mutation}`;
  return `npm run sim -- --seed ${outcome.seed}${profile}${mutation}`;
}

/** A failed seed, for a person: what broke, where to look, how to replay. */
export function formatFailure(outcome: SeedOutcome, profileGiven: boolean): string {
  return [
    `SEED ${outcome.seed} FAILED (${outcome.verdict}) — check: ${outcome.check ?? '?'} — profile ${outcome.profile}${outcome.mutation === null ? '' : ` — mutation ${outcome.mutation}`}`,
    outcome.message,
    `trace digest ${outcome.digest}; the last ${outcome.traceTail.length} trace lines:`,
    ...outcome.traceTail.map((line) => `  ${line}`),
    `replay: ${replayCommand(outcome, profileGiven)}`,
  ].join('\n');
}

/** One line with the run's figures. */
export function formatSummary(summary: RunSummary, wallMs: number | null): string {
  const faults = Object.entries(summary.faults)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([kind, count]) => `${kind}=${count}`)
    .join(' ');
  const wall = wallMs === null ? '' : ` wall=${(wallMs / 1000).toFixed(1)}s (${(wallMs / Math.max(1, summary.seedsRun)).toFixed(0)} ms/seed)`;
  return (
    `seeds=${summary.seedsRun} passed=${summary.passed} failed=${summary.failures.length}` +
    ` ops_checked=${summary.operationsChecked} (unknown ${summary.operationsUnknown})` +
    ` entries_committed=${summary.entriesCommitted} elections=${summary.elections} snapshots_installed=${summary.snapshotsInstalled}` +
    ` virtual=${(summary.virtualMs / 1000).toFixed(0)}s${wall} | faults: ${faults}`
  );
}
