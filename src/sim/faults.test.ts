// Proves the fault schedule generator: the same seed, nodes and profile give the same schedule;
// every schedule is well formed (sorted, within the fault phase, crash/restart and pause/resume
// alternating per node, never more than a minority down, one 'heal-all' last at the start of the
// quiet phase) and bounded; leader-targeted crashes and pauses are marked at the asked rate and
// handed to the target as such; the checker catches malformed schedules; and scheduleFaults
// applies each event to the target at its time.

import { describe, expect, it } from 'vitest';
import { testSeed, withSeed } from '../test-support/seed.js';
import {
  FAULT_EVENTS_MAX,
  FAULT_PROFILES,
  type FaultEvent,
  type FaultProfile,
  type FaultSchedule,
  type FaultTarget,
  checkFaultSchedule,
  describeFault,
  generateFaultSchedule,
  minorityOf,
  scheduleFaults,
} from './faults.js';
import { Scheduler } from './scheduler.js';

const NODES = ['n1', 'n2', 'n3', 'n4', 'n5'];
const PROFILES = Object.values(FAULT_PROFILES) as FaultProfile[];

describe('generateFaultSchedule', () => {
  it('gives the same schedule for the same seed, and another for another seed', () => {
    withSeed('fault schedule determinism', testSeed(), (prng) => {
      const seed = prng.u32() | 0;
      const schedule = generateFaultSchedule({ seed, nodes: NODES, profile: FAULT_PROFILES.chaos });
      expect(generateFaultSchedule({ seed, nodes: NODES, profile: FAULT_PROFILES.chaos })).toEqual(schedule);
      expect(generateFaultSchedule({ seed: seed + 1, nodes: NODES, profile: FAULT_PROFILES.chaos }).events).not.toEqual(schedule.events);
    });
  });

  it('is well formed for every profile and many seeds, with a quiet phase at the end', () => {
    withSeed('fault schedules well formed', testSeed(), (prng) => {
      for (let round = 0; round < 200; round++) {
        const profile = prng.pick(PROFILES);
        const nodes = NODES.slice(0, prng.int(1, NODES.length));
        const schedule = generateFaultSchedule({ seed: prng.u32() | 0, nodes, profile });
        expect(checkFaultSchedule(schedule, { nodesDownMax: minorityOf(nodes.length) })).toEqual([]);
        const last = schedule.events[schedule.events.length - 1];
        expect(last).toEqual({ atMs: profile.faultsUntilMs, kind: 'heal-all' });
        expect(schedule.quietFromMs).toBe(profile.faultsUntilMs);
      }
    });
  });

  it('injects every kind of fault in the chaos profile', () => {
    const kinds = new Set<string>();
    for (let seed = 0; seed < 20; seed++) {
      for (const event of generateFaultSchedule({ seed, nodes: NODES, profile: FAULT_PROFILES.chaos }).events) kinds.add(event.kind);
    }
    expect([...kinds].sort()).toEqual([
      'clock-drift', 'crash', 'duplicate-burst', 'duplicate-burst-end', 'heal', 'heal-all', 'loss-burst', 'loss-burst-end',
      'partition', 'partition-one-way', 'pause', 'restart', 'resume',
    ]);
  });

  it('injects nothing in the quiet profile but the heal-all', () => {
    const schedule = generateFaultSchedule({ seed: 7, nodes: NODES, profile: FAULT_PROFILES.quiet });
    expect(schedule.events).toEqual([{ atMs: FAULT_PROFILES.quiet.faultsUntilMs, kind: 'heal-all' }]);
  });

  it('stays within its bound however dense the profile', () => {
    const dense: FaultProfile = { ...FAULT_PROFILES.chaos, faultsUntilMs: 10_000_000, gapMs: { min: 1, max: 2 }, weights: { ...FAULT_PROFILES.chaos.weights, churn: 1 } };
    const schedule = generateFaultSchedule({ seed: 3, nodes: NODES, profile: dense });
    expect(schedule.events.length).toBeLessThanOrEqual(FAULT_EVENTS_MAX);
    expect(checkFaultSchedule(schedule, { nodesDownMax: 2 })).toEqual([]);
  });

  it('lets a profile take a majority down when it says so', () => {
    const harsh: FaultProfile = { ...FAULT_PROFILES.crashes, nodesDownMax: 5, gapMs: { min: 10, max: 50 } };
    let mostDown = 0;
    for (let seed = 0; seed < 10; seed++) {
      const down = new Set<string>();
      for (const event of generateFaultSchedule({ seed, nodes: NODES, profile: harsh }).events) {
        if (event.kind === 'crash') down.add(event.node);
        if (event.kind === 'restart') down.delete(event.node);
        mostDown = Math.max(mostDown, down.size);
      }
    }
    expect(mostDown).toBeGreaterThan(minorityOf(NODES.length));
  });
});

describe('leader-targeted faults', () => {
  it('marks about the asked share of crashes and pauses, draws nothing without the option, and passes the mark on', () => {
    const profile: FaultProfile = { ...FAULT_PROFILES.chaos, leaderTargetProbability: 0.5 };
    let marked = 0;
    let struck = 0;
    for (let seed = 0; seed < 20; seed++) {
      const schedule = generateFaultSchedule({ seed, nodes: NODES, profile });
      expect(checkFaultSchedule(schedule, { nodesDownMax: minorityOf(NODES.length) })).toEqual([]);
      for (const event of schedule.events) {
        if (event.kind !== 'crash' && event.kind !== 'pause') continue;
        struck += 1;
        if (event.leader === true) marked += 1;
      }
      const plain = generateFaultSchedule({ seed, nodes: NODES, profile: FAULT_PROFILES.chaos });
      expect(plain.events.some((event) => 'leader' in event)).toBe(false);
    }
    expect(marked / struck).toBeGreaterThan(0.35);
    expect(marked / struck).toBeLessThan(0.65);
    const calls: string[] = [];
    const target = { crash: (node: string, options?: { preferLeader?: boolean }) => calls.push(`crash ${node} ${options?.preferLeader === true}`) } as unknown as FaultTarget;
    const scheduler = new Scheduler();
    scheduleFaults(scheduler, { seed: 0, profile: 'x', nodes: NODES, quietFromMs: 10, events: [{ atMs: 1, kind: 'crash', node: 'n1', leader: true }, { atMs: 2, kind: 'crash', node: 'n2' }] }, target);
    scheduler.runUntilIdle();
    expect(calls).toEqual(['crash n1 true', 'crash n2 false']);
    expect(describeFault({ atMs: 1, kind: 'pause', node: 'n3', leader: true })).toBe('1 pause n3 (or the leader)');
  });
});

describe('checkFaultSchedule', () => {
  const schedule = (events: FaultEvent[]): FaultSchedule => ({ seed: 0, profile: 'hand-made', nodes: NODES, events, quietFromMs: 100 });
  const healAll: FaultEvent = { atMs: 100, kind: 'heal-all' };

  it('finds what is wrong with a hand-made schedule', () => {
    expect(checkFaultSchedule(schedule([{ atMs: 5, kind: 'crash', node: 'n1' }, { atMs: 6, kind: 'restart', node: 'n1' }, healAll]))).toEqual([]);
    const problems = (events: FaultEvent[]): string => checkFaultSchedule(schedule(events), { nodesDownMax: 1 }).join('; ');
    expect(problems([{ atMs: 5, kind: 'restart', node: 'n1' }, healAll])).toMatch(/not crashed/);
    expect(problems([{ atMs: 5, kind: 'crash', node: 'n1' }, { atMs: 6, kind: 'pause', node: 'n1' }, healAll])).toMatch(/already crashed/);
    expect(problems([{ atMs: 5, kind: 'crash', node: 'n1' }, { atMs: 6, kind: 'crash', node: 'n2' }, healAll])).toMatch(/more than 1 nodes down/);
    expect(problems([{ atMs: 9, kind: 'heal' }, { atMs: 5, kind: 'heal' }, healAll])).toMatch(/out of order/);
    expect(problems([{ atMs: 5, kind: 'crash', node: 'n9' }, healAll])).toMatch(/unknown node/);
    expect(problems([{ atMs: 5, kind: 'heal' }])).toMatch(/'heal-all' comes once, last/);
    expect(problems([healAll, { atMs: 100, kind: 'heal' }])).toMatch(/'heal-all' comes once, last/);
    expect(problems([{ atMs: 5, kind: 'leave', node: 'joiner-0' }, healAll])).toMatch(/has not joined/);
  });
});

describe('scheduleFaults', () => {
  it('applies each event to the target at its time', () => {
    const scheduler = new Scheduler();
    const calls: string[] = [];
    const record = (name: string) => (...args: unknown[]) => calls.push(`${scheduler.now()} ${name} ${JSON.stringify(args)}`);
    const target: FaultTarget = {
      partition: record('partition'),
      partitionOneWay: record('partitionOneWay'),
      heal: record('heal'),
      crash: record('crash'),
      restart: record('restart'),
      pause: record('pause'),
      resume: record('resume'),
      lossBurst: record('lossBurst'),
      duplicateBurst: record('duplicateBurst'),
      clockDrift: record('clockDrift'),
      join: record('join'),
      leave: record('leave'),
      healAll: record('healAll'),
    };
    const events: FaultEvent[] = [
      { atMs: 10, kind: 'partition', groups: [['n1'], ['n2', 'n3']] },
      { atMs: 20, kind: 'loss-burst', probability: 0.5 },
      { atMs: 30, kind: 'loss-burst-end' },
      { atMs: 40, kind: 'partition-one-way', from: ['n1'], to: ['n2'] },
      { atMs: 50, kind: 'heal-all' },
    ];
    scheduleFaults(scheduler, { seed: 0, profile: 'hand-made', nodes: NODES, events, quietFromMs: 50 }, target);
    scheduler.runUntilIdle();
    expect(calls).toEqual([
      '10 partition [[["n1"],["n2","n3"]]]',
      '20 lossBurst [0.5]',
      '30 lossBurst [null]',
      '40 partitionOneWay [["n1"],["n2"]]',
      '50 healAll []',
    ]);
    expect(events.map(describeFault)).toEqual([
      '10 partition {n1} | {n2,n3}',
      '20 loss-burst p=0.5',
      '30 loss-burst-end',
      '40 partition-one-way {n1} -/-> {n2}',
      '50 heal-all',
    ]);
  });
});
