/**
 * A deterministic clock for tests and simulations: time moves only when `advance` says so, and
 * timers run in time order (ties in the order they were set), including timers set while
 * advancing that fall due within the same advance.
 */

import { assert } from '../core/assert.js';
import type { Cancel, Clock } from './interfaces.js';

interface Timer {
  readonly at: number;
  readonly order: number;
  readonly fn: () => void;
  cancelled: boolean;
}

/** The most timers one `advance` may run: a runaway timer loop fails loudly instead of hanging. */
const TIMERS_PER_ADVANCE_MAX = 10_000_000;

export class ManualClock implements Clock {
  private time: number;
  private order = 0;
  /** A binary min-heap on (at, order); cancelled timers are skipped when they surface. */
  private readonly heap: Timer[] = [];
  private live = 0;

  constructor(startMs = 1_700_000_000_000) {
    this.time = startMs;
  }

  now(): number {
    return this.time;
  }

  after(ms: number, fn: () => void): Cancel {
    assert(Number.isFinite(ms), 'ManualClock.after: ms is finite');
    const timer: Timer = { at: this.time + Math.max(0, ms), order: this.order++, fn, cancelled: false };
    this.push(timer);
    this.live += 1;
    return () => {
      if (timer.cancelled) return;
      timer.cancelled = true;
      this.live -= 1;
    };
  }

  /** Timers not yet run or cancelled. */
  get pending(): number {
    return this.live;
  }

  /** Moves time forward by `ms`, running every timer that falls due, in order. */
  advance(ms: number): void {
    assert(Number.isFinite(ms) && ms >= 0, 'ManualClock.advance: ms >= 0');
    const target = this.time + ms;
    for (let ran = 0; ; ran++) {
      assert(ran < TIMERS_PER_ADVANCE_MAX, 'ManualClock.advance: too many timers (a loop?)');
      const next = this.heap[0];
      if (next === undefined || next.at > target) break;
      this.pop();
      if (next.cancelled) continue;
      next.cancelled = true;
      this.live -= 1;
      this.time = next.at;
      next.fn();
    }
    this.time = target;
  }

  private before(a: Timer, b: Timer): boolean {
    return a.at < b.at || (a.at === b.at && a.order < b.order);
  }

  private push(timer: Timer): void {
    const heap = this.heap;
    heap.push(timer);
    let index = heap.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!this.before(heap[index] as Timer, heap[parent] as Timer)) break;
      [heap[index], heap[parent]] = [heap[parent] as Timer, heap[index] as Timer];
      index = parent;
    }
  }

  private pop(): void {
    const heap = this.heap;
    const last = heap.pop();
    if (last === undefined || heap.length === 0) return;
    heap[0] = last;
    let index = 0;
    for (;;) {
      const left = 2 * index + 1;
      const right = left + 1;
      let smallest = index;
      if (left < heap.length && this.before(heap[left] as Timer, heap[smallest] as Timer)) smallest = left;
      if (right < heap.length && this.before(heap[right] as Timer, heap[smallest] as Timer)) smallest = right;
      if (smallest === index) return;
      [heap[index], heap[smallest]] = [heap[smallest] as Timer, heap[index] as Timer];
      index = smallest;
    }
  }
}
