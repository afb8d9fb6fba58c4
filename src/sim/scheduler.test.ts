// Proves the scheduler's contract: events run by time, then by scheduling order (so equal times
// are deterministic); cancelled events never run; runUntil/runUntilIdle/runWhile stop where they
// say; the queue is bounded; and a seeded random workload of schedules and cancels runs exactly
// in (time, sequence) order, identically on every replay of its seed.

import { describe, expect, it } from 'vitest';
import { Prng } from '../core/prng.js';
import { testSeed, withSeed } from '../test-support/seed.js';
import { Scheduler, type TraceEntry } from './scheduler.js';
import { TraceLog } from './trace.js';

describe('Scheduler', () => {
  it('runs events by time, then in the order they were scheduled', () => {
    const scheduler = new Scheduler();
    const ran: string[] = [];
    scheduler.schedule(10, 'b', () => ran.push('b@10'));
    scheduler.schedule(5, 'a', () => ran.push('a@5'));
    scheduler.schedule(10, 'c', () => ran.push('c@10'));
    scheduler.schedule(0, 'z', () => ran.push('z@0'));
    scheduler.runUntilIdle();
    expect(ran).toEqual(['z@0', 'a@5', 'b@10', 'c@10']);
    expect(scheduler.now()).toBe(10);
    expect(scheduler.eventsRun()).toBe(4);
  });

  it('runs an event scheduled now after everything already due now', () => {
    const scheduler = new Scheduler();
    const ran: string[] = [];
    scheduler.schedule(1, 'first', () => {
      ran.push('first');
      scheduler.schedule(0, 'nested', () => ran.push('nested'));
    });
    scheduler.schedule(1, 'second', () => ran.push('second'));
    scheduler.runUntilIdle();
    expect(ran).toEqual(['first', 'second', 'nested']);
  });

  it('never runs a cancelled event', () => {
    const scheduler = new Scheduler();
    const ran: string[] = [];
    const id = scheduler.schedule(5, 'cancelled', () => ran.push('cancelled'));
    scheduler.schedule(6, 'kept', () => ran.push('kept'));
    expect(scheduler.pending()).toBe(2);
    expect(scheduler.cancel(id)).toBe(true);
    expect(scheduler.cancel(id)).toBe(false);
    expect(scheduler.pending()).toBe(1);
    scheduler.runUntilIdle();
    expect(ran).toEqual(['kept']);
    expect(scheduler.cancel(id + 1)).toBe(false); // already ran
  });

  it('runUntil runs what is due, then sets the clock', () => {
    const scheduler = new Scheduler({ startTime: 100 });
    const ran: number[] = [];
    for (const delay of [5, 10, 15]) scheduler.schedule(delay, 'x', () => ran.push(scheduler.now()));
    expect(scheduler.runUntil(110)).toBe(2);
    expect(ran).toEqual([105, 110]);
    expect(scheduler.now()).toBe(110);
    expect(scheduler.nextTime()).toBe(115);
    expect(scheduler.runUntil(200)).toBe(1);
    expect(scheduler.now()).toBe(200);
  });

  it('stops a run at eventsMax (a timer that never settles)', () => {
    const scheduler = new Scheduler();
    let ticks = 0;
    const tick = (): void => {
      ticks += 1;
      scheduler.schedule(10, 'tick', tick);
    };
    scheduler.schedule(10, 'tick', tick);
    expect(scheduler.runUntilIdle({ eventsMax: 50 })).toBe(50);
    expect(ticks).toBe(50);
    expect(scheduler.runWhile(() => ticks < 60, { eventsMax: 1000 })).toBe(10);
    expect(scheduler.runUntil(10_000, { eventsMax: 5 })).toBe(5);
    expect(scheduler.now()).toBe(650); // stopped early: the clock stays at the last event
  });

  it('refuses the past, non-finite times, and more events than its bound', () => {
    const scheduler = new Scheduler({ startTime: 10, eventsQueuedMax: 3 });
    expect(() => scheduler.scheduleAt(9, 'past', () => undefined)).toThrow(/past/);
    expect(() => scheduler.schedule(Infinity, 'never', () => undefined)).toThrow(/finite/);
    expect(() => scheduler.schedule(-1, 'negative', () => undefined)).toThrow(/>= 0/);
    const ids = [1, 2, 3].map((delay) => scheduler.schedule(delay, 'x', () => undefined));
    expect(() => scheduler.schedule(4, 'x', () => undefined)).toThrow(/at most 3 events/);
    scheduler.cancel(ids[0] ?? -1); // a cancelled event's room is swept back when needed
    expect(() => scheduler.schedule(4, 'x', () => undefined)).not.toThrow();
    expect(() => new Scheduler({ eventsQueuedMax: 1e9 })).toThrow(/SCHEDULER_EVENTS_QUEUED_MAX/);
  });

  it('sweeps cancelled events so timer resets do not pile up', () => {
    const scheduler = new Scheduler({ eventsQueuedMax: 5000 });
    let timer = scheduler.schedule(100, 'election', () => undefined);
    for (let reset = 0; reset < 100_000; reset++) {
      scheduler.cancel(timer);
      timer = scheduler.schedule(100, 'election', () => undefined);
    }
    expect(scheduler.pending()).toBe(1);
    expect(scheduler.runUntilIdle()).toBe(1);
  });

  it('runs a seeded random workload in (time, sequence) order, the same on every replay', () => {
    withSeed('scheduler random workload', testSeed(), (prng) => {
      const seed = prng.u32();
      const run = (): { order: number[]; expected: number[]; digest: string } => {
        const local = new Prng(seed);
        const trace = new TraceLog();
        const scheduler = new Scheduler({ onEvent: (entry: TraceEntry) => trace.record(`${entry.time} ${entry.label}`) });
        const order: number[] = [];
        const all: { id: number; time: number; cancelled: boolean }[] = [];
        const scheduleOne = (): void => {
          const time = scheduler.now() + local.int(0, 20);
          const id = scheduler.scheduleAt(time, `e`, () => {
            order.push(id);
            if (local.chance(0.5)) scheduleOne();
          });
          all.push({ id, time, cancelled: false });
        };
        for (let index = 0; index < 500; index++) scheduleOne();
        for (const entry of all) {
          if (local.chance(0.2) && scheduler.cancel(entry.id)) entry.cancelled = true;
        }
        scheduler.runUntilIdle({ eventsMax: 100_000 });
        const expected = all
          .filter((entry) => !entry.cancelled)
          .sort((a, b) => a.time - b.time || a.id - b.id)
          .map((entry) => entry.id);
        return { order, expected, digest: trace.digest() };
      };
      const first = run();
      expect(first.order).toEqual(first.expected);
      expect(run().digest).toBe(first.digest);
    });
  });
});
