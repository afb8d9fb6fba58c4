/**
 * A node's tick source in the simulator: `tick()` at a nominal period, with drift (this node's
 * clock runs fast or slow by a bounded ratio) and pauses (a frozen browser tab runs nothing, then
 * resumes with its old state). Raft counts election and heartbeat timeouts in ticks, so drift and
 * pauses are how clock trouble reaches it.
 *
 * On resume, one overdue tick runs at once and the cadence restarts from there: browsers fire an
 * overdue timer once when a frozen or throttled page wakes, not once per missed period
 * (DESIGN.md, "Time in browsers").
 */

import { assert } from '../core/assert.js';
import type { EventId, Scheduler } from './scheduler.js';

/** The largest drift ratio: a node's ticks come at most 1.5x or at least 1/1.5x as often as
 *  nominal. Quartz drifts by ~1e-4; timer coalescing and background throttling (a 1 s clamp on a
 *  tick of a few hundred ms) are what make browser tick rates differ by tens of percent. A larger
 *  drift should be modelled as a pause. */
export const CLOCK_DRIFT_RATIO_MAX = 0.5;

export interface NodeClockOptions {
  scheduler: Scheduler;
  /** For trace labels. */
  name: string;
  /** The nominal tick period, > 0. */
  tickMs: number;
  /** In [-CLOCK_DRIFT_RATIO_MAX, CLOCK_DRIFT_RATIO_MAX]: +0.1 ticks 10% more often. */
  driftRatio?: number;
  onTick: () => void;
}

function assertDrift(ratio: number): void {
  assert(Number.isFinite(ratio), 'drift ratio is finite');
  assert(Math.abs(ratio) <= CLOCK_DRIFT_RATIO_MAX, `|drift ratio| <= ${CLOCK_DRIFT_RATIO_MAX}`);
}

export class NodeClock {
  private readonly scheduler: Scheduler;
  private readonly name: string;
  private readonly tickMs: number;
  private readonly onTick: () => void;
  private driftRatio: number;
  private timer: EventId | null = null;
  private started = false;
  private frozen = false;
  private ticksRun = 0;

  constructor(options: NodeClockOptions) {
    assert(Number.isFinite(options.tickMs) && options.tickMs > 0, 'tickMs > 0');
    this.scheduler = options.scheduler;
    this.name = options.name;
    this.tickMs = options.tickMs;
    this.onTick = options.onTick;
    this.driftRatio = options.driftRatio ?? 0;
    assertDrift(this.driftRatio);
  }

  /** The virtual time between two ticks of this node. */
  periodMs(): number {
    return this.tickMs / (1 + this.driftRatio);
  }

  ticks(): number {
    return this.ticksRun;
  }

  isRunning(): boolean {
    return this.started;
  }

  isPaused(): boolean {
    return this.frozen;
  }

  /** Starts ticking, the first tick one period from now. */
  start(): void {
    assert(!this.started, 'start: the clock is stopped');
    this.started = true;
    this.frozen = false;
    this.arm(this.periodMs());
  }

  /** Stops ticking (the node crashed); `start` again on restart. */
  stop(): void {
    assert(this.started, 'stop: the clock is running');
    this.disarm();
    this.started = false;
    this.frozen = false;
  }

  /** Freezes the node: no ticks until `resume`. */
  pause(): void {
    assert(this.started, 'pause: the clock is running');
    assert(!this.frozen, 'pause: not already paused');
    this.disarm();
    this.frozen = true;
  }

  /** Wakes the node: one overdue tick at once, then the cadence from now. */
  resume(): void {
    assert(this.started, 'resume: the clock is running');
    assert(this.frozen, 'resume: paused');
    this.frozen = false;
    this.arm(0);
  }

  /** Changes the drift from the next tick on. */
  setDrift(ratio: number): void {
    assertDrift(ratio);
    this.driftRatio = ratio;
    if (this.timer !== null) {
      this.disarm();
      this.arm(this.periodMs());
    }
  }

  private arm(delay: number): void {
    assert(this.timer === null, 'one tick timer at a time');
    this.timer = this.scheduler.schedule(delay, `tick ${this.name}`, () => {
      this.timer = null;
      this.ticksRun += 1;
      this.arm(this.periodMs());
      this.onTick();
    });
  }

  private disarm(): void {
    if (this.timer !== null) this.scheduler.cancel(this.timer);
    this.timer = null;
  }
}
