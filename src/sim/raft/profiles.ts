/**
 * Profiles of the Raft simulator: the cluster's shape, the Raft options, the disk and network
 * settings, the workload, and the fault mix (a faults.ts FaultProfile). Each is a generic fault
 * mix, named for what it stresses; none scripts a particular bug. The default mix rotates
 * through all of them by seed, so `--seeds N` covers each and `--seed S` replays S exactly.
 *
 * Times are virtual ms. Raft counts in ticks: `tickMs` x `electionTimeoutTicks` is the election
 * timeout (a follower campaigns after [T, 2T)).
 */

import { assert } from '../../core/assert.js';
import type { UnsafeMutations } from '../../core/consensus/index.js';
import { FAULT_PROFILES, type FaultProfile, type RangeMs } from '../faults.js';
import { LINK_DEFAULT, type LinkConfig } from '../network.js';
import type { ClientSettings } from './clients.js';

export interface RaftSettings {
  readonly electionTimeoutTicks: number;
  readonly heartbeatIntervalTicks: number;
  readonly appendEntriesPerMessageMax: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
}

export interface RaftSimProfile {
  readonly name: string;
  /** What the profile stresses (printed with a failure). */
  readonly purpose: string;
  /** Initial voter counts to draw from (3 or 5), and up to this many initial learners. */
  readonly voterChoices: readonly number[];
  readonly learnersMax: number;
  readonly tickMs: number;
  readonly raft: RaftSettings;
  /** Compact after this many applied entries: low, so compaction and InstallSnapshot happen often. */
  readonly snapshotEntriesInterval: number;
  readonly link: LinkConfig;
  /** Client <-> replica one-way delay (clients sit outside partitions: they reach every node). */
  readonly clientLinkMs: RangeMs;
  readonly fsyncMs: RangeMs;
  /** Some nodes have a slow disk (a throttled IndexedDB, a laptop's disk): their fsyncs take
   *  `fsyncMs` instead. Which ones is drawn per seed. */
  readonly slowDisks?: { readonly nodes: number; readonly fsyncMs: RangeMs };
  /** A crash that waits (up to CRASH_AT_WRITE_WAIT_MS) for the node's next storage write and
   *  strikes between the write and its fsync: power failing during I/O. */
  readonly crashAtWriteProbability: number;
  /** A crash that keeps a random prefix of the unsynced batches (a torn tail: more durable than
   *  promised, never less). */
  readonly tornWriteProbability: number;
  readonly faults: FaultProfile;
  readonly clientCount: number;
  readonly clients: ClientSettings;
  /** Operator: chances per caught-up joiner of promotion, and per round of a leadership transfer. */
  readonly promoteProbability: number;
  readonly transferProbability: number;
}

/** The longest a crash-at-write waits for a write before striking anyway. */
export const CRASH_AT_WRITE_WAIT_MS = 300;

const CLIENTS: ClientSettings = {
  keys: ['x', 'y', 'z'],
  thinkMs: { min: 5, max: 120 },
  operationTimeoutMs: 2_500,
  readAttemptMs: 400,
  retryBackoffMs: { min: 10, max: 60 },
  writeProbability: 0.35,
  casProbability: 0.2,
};

const RAFT: RaftSettings = {
  electionTimeoutTicks: 10,
  heartbeatIntervalTicks: 1,
  appendEntriesPerMessageMax: 1024,
  preVote: true,
  checkQuorum: true,
};

/** A LAN with jitter and some reordering (a data channel is ordered; the relay path is not). */
const LINK: LinkConfig = { ...LINK_DEFAULT, delayMsMin: 1, delayMsMax: 8, reorderProbability: 0.05, reorderDelayMsMax: 30 };

const FAULTS_BASE: FaultProfile = {
  ...FAULT_PROFILES.chaos,
  faultsUntilMs: 20_000,
  gapMs: { min: 100, max: 900 },
  partitionMs: { min: 200, max: 4_000 },
  crashMs: { min: 50, max: 3_000 },
  pauseMs: { min: 100, max: 5_000 },
  burstMs: { min: 200, max: 3_000 },
  lossProbability: 0.3,
  duplicateProbability: 0.3,
  driftRatioMax: 0.3,
};

const BASE: RaftSimProfile = {
  name: 'base',
  purpose: 'every fault kind at moderate rates',
  voterChoices: [3, 5],
  learnersMax: 1,
  tickMs: 50,
  raft: RAFT,
  snapshotEntriesInterval: 32,
  link: LINK,
  clientLinkMs: { min: 1, max: 4 },
  fsyncMs: { min: 1, max: 8 },
  crashAtWriteProbability: 0.3,
  tornWriteProbability: 0.3,
  faults: FAULTS_BASE,
  clientCount: 3,
  clients: CLIENTS,
  promoteProbability: 0.7,
  transferProbability: 0.02,
};

function profile(name: string, purpose: string, changes: Partial<Omit<RaftSimProfile, 'faults'>> & { faults?: Partial<FaultProfile> }): RaftSimProfile {
  return { ...BASE, ...changes, name, purpose, faults: { ...FAULTS_BASE, ...changes.faults, name } };
}

const W0 = FAULT_PROFILES.quiet.weights;

export const RAFT_SIM_PROFILES: Readonly<Record<string, RaftSimProfile>> = Object.freeze({
  chaos: profile('chaos', 'every fault kind and churn, mixed, with one node on a slow disk', {
    slowDisks: { nodes: 1, fsyncMs: { min: 10, max: 60 } },
    faults: { weights: { partition: 3, 'partition-one-way': 2, crash: 3, pause: 2, 'loss-burst': 1, 'duplicate-burst': 1, 'clock-drift': 1, churn: 1 }, leaderTargetProbability: 0.3 },
  }),
  partitions: profile('partitions', 'two- and three-way and one-way partitions under message loss and reordering', {
    link: { ...LINK, reorderProbability: 0.15 },
    faults: { weights: { ...W0, partition: 3, 'partition-one-way': 3, 'loss-burst': 1, 'duplicate-burst': 1 } },
  }),
  crashes: profile('crashes', 'crashes and restarts from storage, during writes and with torn tails', {
    fsyncMs: { min: 1, max: 20 },
    faults: { weights: { ...W0, crash: 4, 'clock-drift': 1 }, leaderTargetProbability: 0.4 },
  }),
  pauses: profile('pauses', 'frozen tabs (long pauses) and clock drift, leaders included', {
    faults: { weights: { ...W0, pause: 3, 'clock-drift': 2, crash: 1 }, pauseMs: { min: 200, max: 6_000 }, leaderTargetProbability: 0.5 },
  }),
  churn: profile('churn', 'joins, leaves, promotions and voter replacement under crashes and partitions', {
    transferProbability: 0.05,
    faults: { weights: { ...W0, churn: 4, crash: 1, partition: 1, pause: 1 }, gapMs: { min: 200, max: 1_200 }, leaderTargetProbability: 0.3 },
  }),
  'leader-crashes': profile('leader-crashes', 'frequent short crashes, leaders first, many of them during a write, on a slow disk; fast elections', {
    voterChoices: [3, 5],
    learnersMax: 0,
    tickMs: 20,
    raft: { ...RAFT, electionTimeoutTicks: 5 },
    fsyncMs: { min: 3, max: 30 },
    crashAtWriteProbability: 0.6,
    faults: {
      weights: { ...W0, crash: 6, 'duplicate-burst': 1, 'loss-burst': 1, partition: 1 },
      gapMs: { min: 30, max: 300 },
      crashMs: { min: 10, max: 400 },
      partitionMs: { min: 100, max: 1_000 },
      burstMs: { min: 100, max: 1_000 },
      leaderTargetProbability: 0.5,
    },
  }),
  'rapid-restarts': profile('rapid-restarts', 'nodes restart within milliseconds, again and again, while messages are duplicated and held back: requests outlive the incarnation that saw them', {
    voterChoices: [3],
    learnersMax: 0,
    tickMs: 10,
    raft: { ...RAFT, electionTimeoutTicks: 4 },
    fsyncMs: { min: 1, max: 5 },
    crashAtWriteProbability: 0,
    tornWriteProbability: 0,
    link: { ...LINK, reorderProbability: 0.3, reorderDelayMsMax: 60, duplicateProbability: 0.2, lossProbability: 0.1 },
    faults: {
      weights: { ...W0, crash: 6, partition: 1, 'partition-one-way': 2 },
      gapMs: { min: 5, max: 60 },
      crashMs: { min: 1, max: 20 },
      partitionMs: { min: 20, max: 300 },
    },
  }),
  'disruptive-elections': profile('disruptive-elections', 'PreVote off: nodes cut off by rapid partitions inflate their terms and depose leaders when they return, so leadership changes constantly while logs diverge; one entry per append, lossy links with bursts of heavy loss', {
    voterChoices: [3],
    learnersMax: 0,
    tickMs: 20,
    raft: { ...RAFT, electionTimeoutTicks: 4, appendEntriesPerMessageMax: 1, preVote: false },
    fsyncMs: { min: 1, max: 5 },
    crashAtWriteProbability: 0,
    link: { ...LINK, reorderProbability: 0.2, lossProbability: 0.25 },
    clientCount: 6,
    clients: { ...CLIENTS, thinkMs: { min: 0, max: 20 }, writeProbability: 0.6 },
    faults: {
      weights: { ...W0, partition: 5, 'partition-one-way': 2, crash: 2, pause: 1, 'loss-burst': 5 },
      gapMs: { min: 5, max: 100 },
      crashMs: { min: 1, max: 30 },
      pauseMs: { min: 5, max: 30 },
      partitionMs: { min: 20, max: 400 },
      burstMs: { min: 50, max: 800 },
      lossProbability: 0.5,
    },
  }),
});

/** The default mix, rotated by seed. */
export const DEFAULT_PROFILE_MIX: readonly string[] = ['chaos', 'partitions', 'crashes', 'pauses', 'churn', 'leader-crashes', 'rapid-restarts', 'disruptive-elections'];

/** The profile a seed runs under in the default mix (a pure function of the seed, so `--seed`
 *  alone replays a seed of a mixed run). */
export function profileForSeed(seed: number, mix: readonly string[] = DEFAULT_PROFILE_MIX): RaftSimProfile {
  assert(mix.length > 0, 'a non-empty profile mix');
  const name = mix[(((seed % mix.length) + mix.length) % mix.length)] as string;
  return raftSimProfile(name);
}

export function raftSimProfile(name: string): RaftSimProfile {
  const found = RAFT_SIM_PROFILES[name];
  assert(found !== undefined, `a profile named ${name} (one of ${Object.keys(RAFT_SIM_PROFILES).join(', ')})`);
  return found;
}

export const MUTATIONS = ['commitPriorTermByCount', 'ackBeforePersist', 'voteWithoutDurableHardState'] as const satisfies readonly (keyof UnsafeMutations)[];
export type MutationName = (typeof MUTATIONS)[number];

export function isMutationName(name: string): name is MutationName {
  return (MUTATIONS as readonly string[]).includes(name);
}
