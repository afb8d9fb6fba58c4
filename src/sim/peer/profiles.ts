/**
 * Profiles of the peer simulator: the ensemble's shape, the disk and network settings, the
 * workload mix and the fault mix (a faults.ts FaultProfile). The peers run with the timing that
 * ships (DEFAULT_PEER_TIMING: 250 ms Raft ticks, 2 s session ticks, 10 s operation timeout), so
 * the faults are sized against it: partitions and pauses long enough (up to ~8 s) that sessions
 * with the shortest timeout (4 s, two session ticks) expire while their peer is cut off or frozen.
 * The default mix rotates through the profiles by seed, so `--seed S` alone replays seed S.
 */

import { assert } from '../../core/assert.js';
import type { UnsafeRuntimeMutations } from '../../peer/host.js';
import { FAULT_PROFILES, type FaultProfile, type RangeMs } from '../faults.js';
import { LINK_DEFAULT, type LinkConfig } from '../network.js';

/** What the simulated clients do (workload.ts). */
export interface WorkloadSettings {
  /** Clients per peer, by role (each client is one session at a time on its peer). */
  readonly casClientsPerPeer: number;
  readonly sequentialClients: number;
  readonly lockClients: number;
  /** Participants of the leader election (the LeaderElection recipe), placed on different peers. */
  readonly electionClients: number;
  /** The znodes the CAS clients share (a few, so that they contend). */
  readonly casPaths: readonly string[];
  /** Between two operations of a client. */
  readonly thinkMs: RangeMs;
  /** Asked session timeouts (negotiated to [4 s, 40 s] by the peer). */
  readonly sessionTimeoutMs: RangeMs;
  /** After a session ends or fails to open, before opening the next one. */
  readonly reopenMs: RangeMs;
  /** A lock client holds for this long before it releases. */
  readonly holdMs: RangeMs;
  /** The chance that a lock client closes its session instead of releasing (its ephemeral must go). */
  readonly closeWhileHoldingProbability: number;
  /** A leader leads this long before it decides again: relinquish, close, or lead on. */
  readonly leadMs: RangeMs;
  /** At each decision, the chance that a leader relinquishes (deletes its node, enters again). */
  readonly relinquishProbability: number;
  /** At each decision, the chance that a leader closes its session instead (its node must go). */
  readonly closeWhileLeadingProbability: number;
}

export interface PeerSimProfile {
  readonly name: string;
  readonly purpose: string;
  /** Voters bootstrapped together (3 or 5), and observers that join through the runtime's
   *  membership (they replicate and serve sessions, never vote). */
  readonly voterChoices: readonly number[];
  readonly observersMax: number;
  /** Compact after this many applied entries: low, so snapshots and InstallSnapshot happen. */
  readonly snapshotEntriesInterval: number;
  readonly link: LinkConfig;
  readonly fsyncMs: RangeMs;
  readonly faults: FaultProfile;
  readonly workload: WorkloadSettings;
}

const WORKLOAD: WorkloadSettings = {
  casClientsPerPeer: 1,
  sequentialClients: 2,
  lockClients: 3,
  casPaths: ['/cas/a', '/cas/b'],
  thinkMs: { min: 20, max: 400 },
  sessionTimeoutMs: { min: 4_000, max: 6_000 },
  reopenMs: { min: 50, max: 500 },
  holdMs: { min: 50, max: 600 },
  closeWhileHoldingProbability: 0.1,
  electionClients: 3,
  leadMs: { min: 100, max: 1_200 },
  relinquishProbability: 0.5,
  closeWhileLeadingProbability: 0.1,
};

/** A LAN with jitter and a little reordering (a data channel is ordered; the relay path is not). */
const LINK: LinkConfig = { ...LINK_DEFAULT, delayMsMin: 1, delayMsMax: 10, reorderProbability: 0.05, reorderDelayMsMax: 40 };

const FAULTS_BASE: FaultProfile = {
  ...FAULT_PROFILES.chaos,
  faultsUntilMs: 25_000,
  gapMs: { min: 300, max: 2_500 },
  partitionMs: { min: 500, max: 8_000 },
  crashMs: { min: 100, max: 5_000 },
  pauseMs: { min: 200, max: 8_000 },
  burstMs: { min: 200, max: 3_000 },
  lossProbability: 0.3,
  duplicateProbability: 0.3,
  driftRatioMax: 0.3,
  weights: { ...FAULT_PROFILES.chaos.weights, churn: 0 },
};

const BASE: PeerSimProfile = {
  name: 'base',
  purpose: 'every fault kind at moderate rates',
  voterChoices: [3, 5],
  observersMax: 0,
  snapshotEntriesInterval: 64,
  link: LINK,
  fsyncMs: { min: 1, max: 8 },
  faults: FAULTS_BASE,
  workload: WORKLOAD,
};

function profile(name: string, purpose: string, changes: Partial<Omit<PeerSimProfile, 'faults'>> & { faults?: Partial<FaultProfile> }): PeerSimProfile {
  return { ...BASE, ...changes, name, purpose, faults: { ...FAULTS_BASE, ...changes.faults, name } };
}

const W0 = FAULT_PROFILES.quiet.weights;

export const PEER_SIM_PROFILES: Readonly<Record<string, PeerSimProfile>> = Object.freeze({
  chaos: profile('chaos', 'every fault kind, mixed, leaders struck first at times', {
    faults: { leaderTargetProbability: 0.3 },
  }),
  partitions: profile('partitions', 'two-, three-way and one-way partitions long enough to expire the sessions of the cut-off peers, under loss and reordering', {
    link: { ...LINK, reorderProbability: 0.15 },
    faults: { weights: { ...W0, partition: 3, 'partition-one-way': 2, 'loss-burst': 1, 'duplicate-burst': 1 } },
  }),
  crashes: profile('crashes', 'crashes and restarts from storage (unsynced writes lost), leaders first at times', {
    fsyncMs: { min: 1, max: 20 },
    faults: { weights: { ...W0, crash: 4, 'clock-drift': 1 }, leaderTargetProbability: 0.4 },
  }),
  pauses: profile('pauses', 'frozen tabs: pauses long enough to expire the sessions of the frozen peer, clock drift', {
    faults: { weights: { ...W0, pause: 3, 'clock-drift': 2, crash: 1 }, leaderTargetProbability: 0.3 },
  }),
  observers: profile('observers', 'an observer joins through the runtime membership and serves sessions, under every fault kind (it found a learner whose uncommitted addition was overwritten after a leader change stuck on its old term; fixed by MEMBER_REJOIN_SILENCE_MS)', {
    observersMax: 1,
    faults: { leaderTargetProbability: 0.3 },
  }),
});

/** The default mix, rotated by seed. */
export const PEER_PROFILE_MIX: readonly string[] = ['chaos', 'partitions', 'crashes', 'pauses', 'observers'];

export function peerSimProfile(name: string): PeerSimProfile {
  const found = PEER_SIM_PROFILES[name];
  assert(found !== undefined, `a peer profile named ${name} (one of ${Object.keys(PEER_SIM_PROFILES).join(', ')})`);
  return found;
}

/** The profile a seed runs under in the default mix (a pure function of the seed). */
export function peerProfileForSeed(seed: number): PeerSimProfile {
  const mix = PEER_PROFILE_MIX;
  return peerSimProfile(mix[((seed % mix.length) + mix.length) % mix.length] as string);
}

/** The runtime mutations (src/peer/host.ts UnsafeRuntimeMutations) the simulator can switch on. */
export const RUNTIME_MUTATIONS = ['resultBeforeWatchEvents'] as const satisfies readonly (keyof UnsafeRuntimeMutations)[];
export type RuntimeMutationName = (typeof RUNTIME_MUTATIONS)[number];

export function isRuntimeMutationName(name: string): name is RuntimeMutationName {
  return (RUNTIME_MUTATIONS as readonly string[]).includes(name);
}
