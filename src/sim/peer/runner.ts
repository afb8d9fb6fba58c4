/**
 * Many seeds of the peer simulator, and the text a person reads: a summary line with the run's
 * figures, and for a failed seed its check, message, trace tail and the command that replays it.
 * Wall time is measured by the caller (src/sim stays free of real time).
 */

import { runPeerSeed, type FaultCounts, type PeerSeedOutcome } from './peer-sim.js';
import { peerProfileForSeed, peerSimProfile, type PeerSimProfile, type RuntimeMutationName } from './profiles.js';

/** The fault kinds a long enough run of the default mix injects (the seed tests assert it). */
export const PEER_FAULT_KINDS = [
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
  'restart',
  'pause',
  'resume',
  'clock-drift',
  'snapshot-install',
  'session-expired',
] as const;

export function missingPeerFaultKinds(faults: FaultCounts): string[] {
  return PEER_FAULT_KINDS.filter((kind) => (faults[kind] ?? 0) === 0);
}

export interface PeerRunSummary {
  readonly seedsRun: number;
  readonly passed: number;
  readonly failures: readonly PeerSeedOutcome[];
  readonly faults: FaultCounts;
  readonly operations: number;
  readonly historyOps: number;
  readonly historyUnknown: number;
  readonly entriesCommitted: number;
  readonly elections: number;
  readonly sessionsOpened: number;
  readonly sessionsExpired: number;
  readonly lockGrants: number;
  readonly staleGrants: number;
  readonly fencedWrites: number;
  readonly electionGrants: number;
  readonly staleElectionGrants: number;
  readonly relinquished: number;
  readonly leadershipsLost: number;
  readonly watchEvents: number;
  readonly watchChecks: number;
  readonly sequentialCreates: number;
  readonly forwardProbes: number;
  readonly forwardsLost: number;
  readonly virtualMs: number;
  readonly byProfile: Readonly<Record<string, number>>;
}

export interface RunPeerSeedsOptions {
  readonly firstSeed: number;
  readonly seeds: number;
  /** A profile name; absent: the default mix, by seed. */
  readonly profile?: string | null;
  readonly mutation?: RuntimeMutationName | null;
  readonly stopAtFirstFailure?: boolean;
  readonly traceTailLines?: number;
  readonly onSeed?: (outcome: PeerSeedOutcome) => void;
}

export function peerProfileOf(seed: number, profile: string | null | undefined): PeerSimProfile {
  return profile === null || profile === undefined ? peerProfileForSeed(seed) : peerSimProfile(profile);
}

export function runPeerSeeds(options: RunPeerSeedsOptions): PeerRunSummary {
  const faults: FaultCounts = {};
  const byProfile: Record<string, number> = {};
  const failures: PeerSeedOutcome[] = [];
  const total = { operations: 0, historyOps: 0, historyUnknown: 0, entriesCommitted: 0, elections: 0, sessionsOpened: 0, sessionsExpired: 0, lockGrants: 0, staleGrants: 0, fencedWrites: 0, electionGrants: 0, staleElectionGrants: 0, relinquished: 0, leadershipsLost: 0, watchEvents: 0, watchChecks: 0, sequentialCreates: 0, forwardProbes: 0, forwardsLost: 0, virtualMs: 0 };
  let seedsRun = 0;
  for (let i = 0; i < options.seeds; i++) {
    const seed = options.firstSeed + i;
    const outcome = runPeerSeed({
      seed,
      profile: peerProfileOf(seed, options.profile),
      mutation: options.mutation ?? null,
      ...(options.traceTailLines === undefined ? {} : { traceTailLines: options.traceTailLines }),
    });
    seedsRun += 1;
    const f = outcome.figures;
    for (const [kind, count] of Object.entries(f.faults)) faults[kind] = (faults[kind] ?? 0) + count;
    byProfile[outcome.profile] = (byProfile[outcome.profile] ?? 0) + 1;
    total.operations += f.operations.invoked;
    total.historyOps += f.operations.historyOps;
    total.historyUnknown += f.operations.historyUnknown;
    total.entriesCommitted += f.entriesCommitted;
    total.elections += f.elections;
    total.sessionsOpened += f.sessions.opened;
    total.sessionsExpired += f.sessions.expired;
    total.lockGrants += f.lock.grants;
    total.staleGrants += f.lock.staleGrants;
    total.fencedWrites += f.lock.fencedWrites;
    total.electionGrants += f.election.elected;
    total.staleElectionGrants += f.election.staleElected;
    total.relinquished += f.election.relinquished;
    total.leadershipsLost += f.election.lost;
    total.watchEvents += f.watchEvents;
    total.watchChecks += f.watchChecks;
    total.sequentialCreates += f.sequentialCreates;
    total.forwardProbes += f.forwardProbes;
    total.forwardsLost += f.forwardsLost;
    total.virtualMs += f.virtualMs;
    if (outcome.verdict !== 'pass') failures.push(outcome);
    options.onSeed?.(outcome);
    if (outcome.verdict !== 'pass' && options.stopAtFirstFailure === true) break;
  }
  return { seedsRun, passed: seedsRun - failures.length, failures, faults, byProfile, ...total };
}

/** The command that replays one seed exactly. */
export function peerReplayCommand(outcome: Pick<PeerSeedOutcome, 'seed' | 'profile' | 'mutation'>, profileGiven: boolean): string {
  const profile = profileGiven || peerProfileForSeed(outcome.seed).name !== outcome.profile ? ` --profile ${outcome.profile}` : '';
  const mutation = outcome.mutation === null ? '' : ` --mutation ${outcome.mutation}`;
  return `npm run sim -- --layer peer --seed ${outcome.seed}${profile}${mutation}`;
}

export function formatPeerFailure(outcome: PeerSeedOutcome, profileGiven: boolean): string {
  return [
    `SEED ${outcome.seed} FAILED (${outcome.verdict}) — check: ${outcome.check ?? '?'} — profile ${outcome.profile}${outcome.mutation === null ? '' : ` — mutation ${outcome.mutation}`}`,
    outcome.message,
    `trace digest ${outcome.digest}; the last ${outcome.traceTail.length} trace lines:`,
    ...outcome.traceTail.map((line) => `  ${line}`),
    `replay: ${peerReplayCommand(outcome, profileGiven)}`,
  ].join('\n');
}

export function formatPeerSummary(summary: PeerRunSummary, wallMs: number | null): string {
  const faults = Object.entries(summary.faults)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([kind, count]) => `${kind}=${count}`)
    .join(' ');
  const wall = wallMs === null ? '' : ` wall=${(wallMs / 1000).toFixed(1)}s (${(wallMs / Math.max(1, summary.seedsRun)).toFixed(0)} ms/seed)`;
  return (
    `peer seeds=${summary.seedsRun} passed=${summary.passed} failed=${summary.failures.length}` +
    ` requests=${summary.operations} znode_ops_checked=${summary.historyOps} (unknown ${summary.historyUnknown})` +
    ` entries_committed=${summary.entriesCommitted} elections=${summary.elections}` +
    ` sessions=${summary.sessionsOpened} (expired ${summary.sessionsExpired}) lock_grants=${summary.lockGrants} (stale ${summary.staleGrants}) fenced_writes=${summary.fencedWrites}` +
    ` election_grants=${summary.electionGrants} (stale ${summary.staleElectionGrants}, relinquished ${summary.relinquished}, lost ${summary.leadershipsLost})` +
    ` watch_events=${summary.watchEvents} watch_checks=${summary.watchChecks} sequential_creates=${summary.sequentialCreates}` +
    ` forward_probes=${summary.forwardProbes} (lost forwards found ${summary.forwardsLost})` +
    ` virtual=${(summary.virtualMs / 1000).toFixed(0)}s${wall} | faults: ${faults}`
  );
}

export interface PeerHunt {
  readonly caught: PeerSeedOutcome | null;
  readonly seedsRun: number;
  readonly livenessOnly: number;
}

/** Checks that catch a runtime mutation (a liveness failure alone does not count). */
const SAFETY_CHECKS: readonly string[] = ['sessions', 'lock', 'fencing', 'election', 'watches', 'sequential', 'durability', 'tree-digest', 'election-safety', 'log-matching', 'leader-completeness', 'state-machine-safety', 'linearizability'];

/** Runs seeds of the default mix with `mutation` on until a safety checker catches it. */
export function huntRuntimeMutation(options: { readonly mutation: RuntimeMutationName; readonly firstSeed: number; readonly seedsMax: number }): PeerHunt {
  let livenessOnly = 0;
  for (let i = 0; i < options.seedsMax; i++) {
    const seed = options.firstSeed + i;
    const outcome = runPeerSeed({ seed, profile: peerProfileForSeed(seed), mutation: options.mutation, traceTailLines: 40 });
    if (outcome.verdict === 'violation' && outcome.check !== null && SAFETY_CHECKS.includes(outcome.check)) return { caught: outcome, seedsRun: i + 1, livenessOnly };
    if (outcome.verdict !== 'pass') livenessOnly += 1;
  }
  return { caught: null, seedsRun: options.seedsMax, livenessOnly };
}

export function describePeerHunt(mutation: RuntimeMutationName, firstSeed: number, hunt: PeerHunt): string {
  if (hunt.caught === null) return `${mutation}: NOT caught in seeds ${firstSeed}..${firstSeed + hunt.seedsRun - 1}`;
  const caught = hunt.caught;
  return [
    `${mutation}: caught by ${caught.check} at seed ${caught.seed}, seed ${hunt.seedsRun} of the hunt from ${firstSeed} (${hunt.livenessOnly} earlier seeds failed on liveness only)`,
    `  ${caught.message}`,
    `  replay: ${peerReplayCommand(caught, false)}`,
  ].join('\n');
}

/** A slice of consecutive seeds for a test file, with its report. */
export function runPeerSlice(options: { readonly firstSeed: number; readonly count: number }): { summary: PeerRunSummary; report: string } {
  const summary = runPeerSeeds({ firstSeed: options.firstSeed, seeds: options.count, traceTailLines: 60 });
  return { summary, report: summary.failures.map((failure) => formatPeerFailure(failure, false)).join('\n\n') };
}

export function describePeerSlice(firstSeed: number, summary: PeerRunSummary, file: string): string {
  const last = firstSeed + summary.seedsRun - 1;
  return `peer seeds ${firstSeed}..${last} (replay this file: SEED=${firstSeed} npx vitest run ${file}; one seed: npm run sim -- --layer peer --seed S)\n${formatPeerSummary(summary, null)}`;
}
