/**
 * Seeded fault schedules (the nemesis of a simulated run): from a seed, a profile and the node
 * names, a bounded, time-ordered list of fault events — partitions (two-way and one-way), heals,
 * crashes and restarts, pauses and resumes (frozen tabs), bursts of loss and duplication, clock
 * drift changes, and churn (join/leave placeholders for membership tests) — followed by one
 * 'heal-all' at `faultsUntilMs`, after which nothing is injected, so that liveness can be checked
 * once faults stop (TigerBeetle's VOPR: safety under faults, then liveness after them).
 *
 * A schedule is plain data: print it, shrink it by hand, replay it. `scheduleFaults` puts it on a
 * Scheduler against any FaultTarget (the Raft driver's cluster, or host.ts's ClusterFaultTarget).
 */

import { assert, unreachable } from '../core/assert.js';
import { Prng } from '../core/prng.js';
import { CLOCK_DRIFT_RATIO_MAX } from './clock.js';
import type { Scheduler } from './scheduler.js';
import { formatTime } from './trace.js';

/** Events in one schedule. One injection every ~100 ms of virtual time over a 10-minute fault
 *  phase is 6,000 starts and ends; a schedule longer than that is better split into runs. */
export const FAULT_EVENTS_MAX = 10_000;

/** Generator steps (one per gap drawn) in one schedule: a fault phase of an hour at the smallest
 *  sensible gap (a few ms) is about a million; the loop stops there whatever the profile says. */
export const FAULT_GENERATOR_STEPS_MAX = 1_000_000;

export type FaultEvent =
  | { readonly atMs: number; readonly kind: 'partition'; readonly groups: readonly (readonly string[])[] }
  /** Messages from `from` to `to` are lost; the other direction works. */
  | { readonly atMs: number; readonly kind: 'partition-one-way'; readonly from: readonly string[]; readonly to: readonly string[] }
  | { readonly atMs: number; readonly kind: 'heal' }
  /** `leader`: the target crashes (pauses) the node leading at that moment instead of `node`
   *  when it can (`node` then names the slot the generator counted as down). */
  | { readonly atMs: number; readonly kind: 'crash'; readonly node: string; readonly leader?: true }
  | { readonly atMs: number; readonly kind: 'restart'; readonly node: string }
  | { readonly atMs: number; readonly kind: 'pause'; readonly node: string; readonly leader?: true }
  | { readonly atMs: number; readonly kind: 'resume'; readonly node: string }
  | { readonly atMs: number; readonly kind: 'loss-burst'; readonly probability: number }
  | { readonly atMs: number; readonly kind: 'loss-burst-end' }
  | { readonly atMs: number; readonly kind: 'duplicate-burst'; readonly probability: number }
  | { readonly atMs: number; readonly kind: 'duplicate-burst-end' }
  | { readonly atMs: number; readonly kind: 'clock-drift'; readonly node: string; readonly ratio: number }
  /** Churn placeholders: a new peer joins / a joined peer leaves (for membership tests). */
  | { readonly atMs: number; readonly kind: 'join'; readonly node: string }
  | { readonly atMs: number; readonly kind: 'leave'; readonly node: string }
  /** Network healed, bursts ended, paused nodes resumed, crashed nodes restarted. Clock drift
   *  stays: bounded drift is normal operation. */
  | { readonly atMs: number; readonly kind: 'heal-all' };

/** What a profile weighs: each choice starts a fault and schedules its end. */
export type FaultChoice = 'partition' | 'partition-one-way' | 'crash' | 'pause' | 'loss-burst' | 'duplicate-burst' | 'clock-drift' | 'churn';

/** A range of durations or gaps in ms: integers, min <= max. */
export interface RangeMs {
  readonly min: number;
  readonly max: number;
}

export interface FaultProfile {
  readonly name: string;
  /** Faults start in [0, faultsUntilMs); 'heal-all' comes at faultsUntilMs and nothing after. */
  readonly faultsUntilMs: number;
  /** Between two fault starts. */
  readonly gapMs: RangeMs;
  readonly weights: Readonly<Record<FaultChoice, number>>;
  readonly partitionMs: RangeMs;
  readonly crashMs: RangeMs;
  readonly pauseMs: RangeMs;
  readonly burstMs: RangeMs;
  readonly lossProbability: number;
  readonly duplicateProbability: number;
  /** Nodes crashed or paused at once; absent: a minority of the nodes (so a majority stays). */
  readonly nodesDownMax?: number;
  /** Drift ratios are drawn from [-driftRatioMax, driftRatioMax]. */
  readonly driftRatioMax: number;
  /** The chance that a crash or pause strikes whichever node leads at that moment (resolved by
   *  the target; Jepsen's "kill the primary" nemesis). Absent: 0, and no draw is made. */
  readonly leaderTargetProbability?: number;
}

const NO_FAULTS: Readonly<Record<FaultChoice, number>> = {
  partition: 0,
  'partition-one-way': 0,
  crash: 0,
  pause: 0,
  'loss-burst': 0,
  'duplicate-burst': 0,
  'clock-drift': 0,
  churn: 0,
};

const BASE_PROFILE: Omit<FaultProfile, 'name' | 'weights'> = {
  faultsUntilMs: 60_000,
  gapMs: { min: 200, max: 2_000 },
  partitionMs: { min: 500, max: 10_000 },
  crashMs: { min: 200, max: 10_000 },
  pauseMs: { min: 200, max: 15_000 },
  burstMs: { min: 200, max: 5_000 },
  lossProbability: 0.3,
  duplicateProbability: 0.3,
  driftRatioMax: 0.2,
};

/** Ready-made profiles; spread one and override fields for others. */
export const FAULT_PROFILES = {
  quiet: { ...BASE_PROFILE, name: 'quiet', weights: NO_FAULTS },
  partitions: { ...BASE_PROFILE, name: 'partitions', weights: { ...NO_FAULTS, partition: 3, 'partition-one-way': 2 } },
  crashes: { ...BASE_PROFILE, name: 'crashes', weights: { ...NO_FAULTS, crash: 1 } },
  pauses: { ...BASE_PROFILE, name: 'pauses', weights: { ...NO_FAULTS, pause: 2, 'clock-drift': 1 } },
  chaos: {
    ...BASE_PROFILE,
    name: 'chaos',
    weights: {
      partition: 3,
      'partition-one-way': 2,
      crash: 3,
      pause: 2,
      'loss-burst': 1,
      'duplicate-burst': 1,
      'clock-drift': 1,
      churn: 0,
    },
  },
} as const satisfies Record<string, FaultProfile>;

export interface FaultSchedule {
  readonly seed: number;
  readonly profile: string;
  readonly nodes: readonly string[];
  /** Sorted by time (ties in the order generated); the last is 'heal-all' at quietFromMs. */
  readonly events: readonly FaultEvent[];
  readonly quietFromMs: number;
}

function assertRange(range: RangeMs, name: string): void {
  assert(Number.isInteger(range.min) && range.min >= 0, `${name}.min is a non-negative integer`);
  assert(Number.isInteger(range.max) && range.max >= range.min, `${name}.max is an integer >= min`);
}

function assertProfile(profile: FaultProfile, nodeCount: number): void {
  assert(Number.isInteger(profile.faultsUntilMs) && profile.faultsUntilMs >= 0, 'faultsUntilMs is a non-negative integer');
  assertRange(profile.gapMs, 'gapMs');
  assert(profile.gapMs.min >= 1, 'gapMs.min >= 1 (the generator advances)');
  for (const [name, range] of [['partitionMs', profile.partitionMs], ['crashMs', profile.crashMs], ['pauseMs', profile.pauseMs], ['burstMs', profile.burstMs]] as const) {
    assertRange(range, name);
  }
  for (const weight of Object.values(profile.weights)) assert(weight >= 0, 'weights are non-negative');
  assert(profile.lossProbability >= 0 && profile.lossProbability <= 1, 'lossProbability in [0, 1]');
  assert(profile.duplicateProbability >= 0 && profile.duplicateProbability <= 1, 'duplicateProbability in [0, 1]');
  assert(profile.driftRatioMax >= 0 && profile.driftRatioMax <= CLOCK_DRIFT_RATIO_MAX, 'driftRatioMax within CLOCK_DRIFT_RATIO_MAX');
  const leader = profile.leaderTargetProbability;
  if (leader !== undefined) assert(leader >= 0 && leader <= 1, 'leaderTargetProbability in [0, 1]');
  const down = profile.nodesDownMax;
  if (down !== undefined) assert(Number.isInteger(down) && down >= 0 && down <= nodeCount, 'nodesDownMax within the nodes');
}

/** A minority: the most nodes that may be down while a majority stays up. */
export function minorityOf(nodeCount: number): number {
  return Math.floor((nodeCount - 1) / 2);
}

interface GeneratorState {
  readonly prng: Prng;
  readonly nodes: readonly string[];
  readonly profile: FaultProfile;
  readonly until: number;
  readonly nodesDownMax: number;
  readonly events: FaultEvent[];
  /** Until when each node is down (crashed or paused); absent or <= now: up. */
  readonly downUntil: Map<string, number>;
  readonly joined: string[];
  partitionUntil: number;
  lossUntil: number;
  duplicateUntil: number;
  joinedCount: number;
}

/** Generates the schedule for `seed` (the same seed, nodes and profile give the same schedule). */
export function generateFaultSchedule(options: { seed: number; nodes: readonly string[]; profile: FaultProfile }): FaultSchedule {
  const { seed, nodes, profile } = options;
  assert(nodes.length >= 1, 'at least one node');
  assert(new Set(nodes).size === nodes.length, 'node names are distinct');
  assertProfile(profile, nodes.length);
  const state: GeneratorState = {
    prng: new Prng(seed),
    nodes,
    profile,
    until: profile.faultsUntilMs,
    nodesDownMax: profile.nodesDownMax ?? minorityOf(nodes.length),
    events: [],
    downUntil: new Map(),
    joined: [],
    partitionUntil: 0,
    lossUntil: 0,
    duplicateUntil: 0,
    joinedCount: 0,
  };
  // Each start adds at most two events; leave room for 'heal-all'.
  let now = state.prng.int(profile.gapMs.min, profile.gapMs.max);
  for (let steps = 0; steps < FAULT_GENERATOR_STEPS_MAX && now < state.until; steps++) {
    if (state.events.length + 3 > FAULT_EVENTS_MAX) break;
    const choice = chooseFault(state, now);
    if (choice !== null) startFault(state, choice, now);
    now += state.prng.int(profile.gapMs.min, profile.gapMs.max);
  }
  state.events.push({ atMs: state.until, kind: 'heal-all' });
  const events = state.events
    .map((event, order) => ({ event, order }))
    .sort((a, b) => a.event.atMs - b.event.atMs || a.order - b.order)
    .map(({ event }) => event);
  const schedule: FaultSchedule = { seed, profile: profile.name, nodes: [...nodes], events, quietFromMs: state.until };
  const problems = checkFaultSchedule(schedule, { nodesDownMax: state.nodesDownMax });
  assert(problems.length === 0, `the generated schedule is well formed: ${problems.join('; ')}`);
  return schedule;
}

function applicable(state: GeneratorState, choice: FaultChoice, now: number): boolean {
  const up = state.nodes.filter((node) => (state.downUntil.get(node) ?? 0) <= now);
  const downCount = state.nodes.length - up.length;
  switch (choice) {
    case 'partition':
    case 'partition-one-way':
      return state.nodes.length >= 2 && state.partitionUntil <= now;
    case 'crash':
    case 'pause':
      return up.length > 0 && downCount < state.nodesDownMax;
    case 'loss-burst':
      return state.lossUntil <= now;
    case 'duplicate-burst':
      return state.duplicateUntil <= now;
    case 'clock-drift':
    case 'churn':
      return true;
    default:
      return unreachable(choice, 'fault choice');
  }
}

function chooseFault(state: GeneratorState, now: number): FaultChoice | null {
  const choices = (Object.keys(state.profile.weights) as FaultChoice[])
    .filter((choice) => state.profile.weights[choice] > 0 && applicable(state, choice, now));
  const total = choices.reduce((sum, choice) => sum + state.profile.weights[choice], 0);
  if (total === 0) return null;
  let roll = state.prng.float() * total;
  for (const choice of choices) {
    roll -= state.profile.weights[choice];
    if (roll < 0) return choice;
  }
  return choices[choices.length - 1] ?? null;
}

/** Pushes `end` at now + duration if that is before the quiet phase ('heal-all' covers it otherwise);
 *  returns when the fault ends. */
function endAfter(state: GeneratorState, now: number, range: RangeMs, end: FaultEvent | ((atMs: number) => FaultEvent)): number {
  const at = now + state.prng.int(range.min, range.max);
  if (at >= state.until) return state.until;
  state.events.push(typeof end === 'function' ? end(at) : { ...end, atMs: at });
  return at;
}

/** `parts` non-empty groups of a shuffled copy of the nodes (parts <= nodes). */
function splitNodes(state: GeneratorState, parts: number): string[][] {
  assert(parts >= 1 && parts <= state.nodes.length, 'splitNodes: 1 <= parts <= nodes');
  const shuffled = state.prng.shuffle([...state.nodes]);
  const positions = Array.from({ length: shuffled.length - 1 }, (_, index) => index + 1);
  const sorted = state.prng.shuffle(positions).slice(0, parts - 1).sort((a, b) => a - b);
  const groups: string[][] = [];
  let start = 0;
  for (const cut of [...sorted, shuffled.length]) {
    groups.push(shuffled.slice(start, cut));
    start = cut;
  }
  return groups;
}

function startFault(state: GeneratorState, choice: FaultChoice, now: number): void {
  const { prng, profile, events } = state;
  switch (choice) {
    case 'partition': {
      const parts = state.nodes.length >= 3 && prng.chance(0.25) ? 3 : 2;
      events.push({ atMs: now, kind: 'partition', groups: splitNodes(state, parts) });
      state.partitionUntil = endAfter(state, now, profile.partitionMs, (atMs) => ({ atMs, kind: 'heal' }));
      return;
    }
    case 'partition-one-way': {
      const [from = [], to = []] = splitNodes(state, 2);
      events.push({ atMs: now, kind: 'partition-one-way', from, to });
      state.partitionUntil = endAfter(state, now, profile.partitionMs, (atMs) => ({ atMs, kind: 'heal' }));
      return;
    }
    case 'crash':
    case 'pause': {
      const node = prng.pick(state.nodes.filter((candidate) => (state.downUntil.get(candidate) ?? 0) <= now));
      const leader = profile.leaderTargetProbability !== undefined && prng.chance(profile.leaderTargetProbability);
      events.push(leader ? { atMs: now, kind: choice, node, leader: true } : { atMs: now, kind: choice, node });
      const range = choice === 'crash' ? profile.crashMs : profile.pauseMs;
      const kind = choice === 'crash' ? 'restart' : 'resume';
      // A node down for 0 ms would be up again at the same instant: at least 1 ms.
      state.downUntil.set(node, Math.max(now + 1, endAfter(state, now + 1, range, (atMs) => ({ atMs, kind, node }))));
      return;
    }
    case 'loss-burst':
      events.push({ atMs: now, kind: 'loss-burst', probability: profile.lossProbability });
      state.lossUntil = endAfter(state, now, profile.burstMs, (atMs) => ({ atMs, kind: 'loss-burst-end' }));
      return;
    case 'duplicate-burst':
      events.push({ atMs: now, kind: 'duplicate-burst', probability: profile.duplicateProbability });
      state.duplicateUntil = endAfter(state, now, profile.burstMs, (atMs) => ({ atMs, kind: 'duplicate-burst-end' }));
      return;
    case 'clock-drift': {
      const ratio = Math.round((prng.float() * 2 - 1) * profile.driftRatioMax * 1000) / 1000;
      events.push({ atMs: now, kind: 'clock-drift', node: prng.pick(state.nodes), ratio });
      return;
    }
    case 'churn':
      if (state.joined.length > 0 && prng.chance(0.5)) {
        const node = state.joined.splice(prng.int(0, state.joined.length - 1), 1)[0] as string;
        events.push({ atMs: now, kind: 'leave', node });
      } else {
        const node = `joiner-${state.joinedCount++}`;
        state.joined.push(node);
        events.push({ atMs: now, kind: 'join', node });
      }
      return;
    default:
      unreachable(choice, 'fault choice');
  }
}

/**
 * The problems of a schedule (none: well formed): sorted times within [0, quietFromMs], one
 * 'heal-all' last at quietFromMs, crash/restart and pause/resume alternating per node (a crashed
 * node is not paused, nor the reverse), at most `nodesDownMax` nodes down at once, and known nodes.
 */
export function checkFaultSchedule(schedule: FaultSchedule, options: { nodesDownMax?: number } = {}): string[] {
  const problems: string[] = [];
  const known = new Set(schedule.nodes);
  const down = new Map<string, 'crashed' | 'paused'>();
  const joined = new Set<string>();
  const nodesDownMax = options.nodesDownMax ?? schedule.nodes.length;
  let previous = 0;
  if (schedule.events.length > FAULT_EVENTS_MAX) problems.push(`more than ${FAULT_EVENTS_MAX} events`);
  schedule.events.forEach((event, index) => {
    const where = `event ${index} (${describeFault(event)})`;
    if (event.atMs < previous) problems.push(`${where}: out of order`);
    if (event.atMs > schedule.quietFromMs) problems.push(`${where}: after the quiet phase starts`);
    previous = event.atMs;
    const last = index === schedule.events.length - 1;
    if ((event.kind === 'heal-all') !== last) problems.push(`${where}: 'heal-all' comes once, last`);
    if (event.kind === 'heal-all' && event.atMs !== schedule.quietFromMs) problems.push(`${where}: 'heal-all' at quietFromMs`);
    const node = 'node' in event ? event.node : undefined;
    if (node !== undefined && !known.has(node) && !joined.has(node) && event.kind !== 'join') problems.push(`${where}: unknown node`);
    switch (event.kind) {
      case 'crash':
      case 'pause':
        if (down.has(event.node)) problems.push(`${where}: ${event.node} is already ${down.get(event.node)}`);
        down.set(event.node, event.kind === 'crash' ? 'crashed' : 'paused');
        if (down.size > nodesDownMax) problems.push(`${where}: more than ${nodesDownMax} nodes down`);
        break;
      case 'restart':
      case 'resume':
        if (down.get(event.node) !== (event.kind === 'restart' ? 'crashed' : 'paused')) problems.push(`${where}: ${event.node} is not ${event.kind === 'restart' ? 'crashed' : 'paused'}`);
        down.delete(event.node);
        break;
      case 'join':
        joined.add(event.node);
        break;
      case 'leave':
        if (!joined.delete(event.node)) problems.push(`${where}: ${event.node} has not joined`);
        break;
      case 'heal-all':
        down.clear();
        break;
      default:
        break;
    }
  });
  return problems;
}

/** What to do for each kind of fault: the driver's cluster implements it. */
export interface FaultTarget {
  partition(groups: readonly (readonly string[])[]): void;
  partitionOneWay(from: readonly string[], to: readonly string[]): void;
  heal(): void;
  /** `options.preferLeader`: strike the current leader instead when there is one (see the event). */
  crash(node: string, options?: { readonly preferLeader?: boolean }): void;
  restart(node: string): void;
  pause(node: string, options?: { readonly preferLeader?: boolean }): void;
  resume(node: string): void;
  /** A probability starts a burst; null ends it (back to the links' own setting). */
  lossBurst(probability: number | null): void;
  duplicateBurst(probability: number | null): void;
  clockDrift(node: string, ratio: number): void;
  join(node: string): void;
  leave(node: string): void;
  /** See the 'heal-all' event. */
  healAll(): void;
}

export function applyFault(target: FaultTarget, event: FaultEvent): void {
  switch (event.kind) {
    case 'partition':
      return target.partition(event.groups);
    case 'partition-one-way':
      return target.partitionOneWay(event.from, event.to);
    case 'heal':
      return target.heal();
    case 'crash':
      return event.leader === true ? target.crash(event.node, { preferLeader: true }) : target.crash(event.node);
    case 'restart':
      return target.restart(event.node);
    case 'pause':
      return event.leader === true ? target.pause(event.node, { preferLeader: true }) : target.pause(event.node);
    case 'resume':
      return target.resume(event.node);
    case 'loss-burst':
      return target.lossBurst(event.probability);
    case 'loss-burst-end':
      return target.lossBurst(null);
    case 'duplicate-burst':
      return target.duplicateBurst(event.probability);
    case 'duplicate-burst-end':
      return target.duplicateBurst(null);
    case 'clock-drift':
      return target.clockDrift(event.node, event.ratio);
    case 'join':
      return target.join(event.node);
    case 'leave':
      return target.leave(event.node);
    case 'heal-all':
      return target.healAll();
    default:
      return unreachable(event, 'fault kind');
  }
}

/** Puts every event of `schedule` on the scheduler, against `target`. */
export function scheduleFaults(scheduler: Scheduler, schedule: FaultSchedule, target: FaultTarget): void {
  for (const event of schedule.events) {
    scheduler.scheduleAt(event.atMs, `fault ${describeFault(event)}`, () => applyFault(target, event));
  }
}

/** One line: `12345 crash n2`. */
export function describeFault(event: FaultEvent): string {
  const at = formatTime(event.atMs);
  switch (event.kind) {
    case 'partition':
      return `${at} partition ${event.groups.map((group) => `{${group.join(',')}}`).join(' | ')}`;
    case 'partition-one-way':
      return `${at} partition-one-way {${event.from.join(',')}} -/-> {${event.to.join(',')}}`;
    case 'crash':
    case 'pause':
      return `${at} ${event.kind} ${event.node}${event.leader === true ? ' (or the leader)' : ''}`;
    case 'restart':
    case 'resume':
    case 'join':
    case 'leave':
      return `${at} ${event.kind} ${event.node}`;
    case 'loss-burst':
    case 'duplicate-burst':
      return `${at} ${event.kind} p=${event.probability}`;
    case 'clock-drift':
      return `${at} clock-drift ${event.node} ratio=${event.ratio}`;
    case 'heal':
    case 'loss-burst-end':
    case 'duplicate-burst-end':
    case 'heal-all':
      return `${at} ${event.kind}`;
    default:
      return unreachable(event, 'fault kind');
  }
}
