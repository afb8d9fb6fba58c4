// Proves a node's tick source: ticks come at the nominal period; drift makes them come faster or
// slower by its ratio, within CLOCK_DRIFT_RATIO_MAX; a paused node gets no ticks and, on resume,
// exactly one overdue tick at once and then its cadence (as browsers fire an overdue timer once);
// a stopped (crashed) clock stays silent until started again.

import { describe, expect, it } from 'vitest';
import { CLOCK_DRIFT_RATIO_MAX, NodeClock } from './clock.js';
import { Scheduler } from './scheduler.js';

function setup(driftRatio = 0) {
  const scheduler = new Scheduler();
  const ticks: number[] = [];
  const clock = new NodeClock({ scheduler, name: 'n1', tickMs: 10, driftRatio, onTick: () => ticks.push(scheduler.now()) });
  return { scheduler, clock, ticks };
}

describe('NodeClock', () => {
  it('ticks at its period', () => {
    const { scheduler, clock, ticks } = setup();
    clock.start();
    scheduler.runUntil(1000);
    expect(ticks).toHaveLength(100);
    expect(ticks.slice(0, 3)).toEqual([10, 20, 30]);
    expect(clock.ticks()).toBe(100);
  });

  it('drifts faster or slower by its ratio, within the bound', () => {
    for (const [ratio, expected] of [[0.1, 110], [-0.1, 90], [0.5, 150]] as const) {
      const { scheduler, clock, ticks } = setup(ratio);
      clock.start();
      scheduler.runUntil(1000);
      expect(Math.abs(ticks.length - expected)).toBeLessThanOrEqual(1);
    }
    expect(() => setup(CLOCK_DRIFT_RATIO_MAX + 0.01)).toThrow(/drift/);
    const { scheduler, clock, ticks } = setup();
    clock.start();
    scheduler.runUntil(500);
    clock.setDrift(0.25);
    scheduler.runUntil(1000);
    expect(Math.abs(ticks.length - (50 + 62))).toBeLessThanOrEqual(1);
  });

  it('gives a paused node no ticks, then one overdue tick on resume, then its cadence', () => {
    const { scheduler, clock, ticks } = setup();
    clock.start();
    scheduler.runUntil(35);
    clock.pause();
    scheduler.runUntil(5000);
    expect(ticks).toEqual([10, 20, 30]);
    clock.resume();
    scheduler.runUntil(5025);
    expect(ticks).toEqual([10, 20, 30, 5000, 5010, 5020]);
    expect(() => clock.resume()).toThrow(/paused/);
  });

  it('stays silent once stopped (crashed), until started again', () => {
    const { scheduler, clock, ticks } = setup();
    clock.start();
    scheduler.runUntil(20);
    clock.stop();
    scheduler.runUntil(1000);
    expect(ticks).toEqual([10, 20]);
    expect(scheduler.pending()).toBe(0);
    clock.start();
    scheduler.runUntil(1015);
    expect(ticks).toEqual([10, 20, 1010]);
    expect(() => clock.start()).toThrow(/stopped/);
  });
});
