/**
 * The simulator's virtual clock and event queue (TigerBeetle's VOPR shape): one thread, no real
 * time. Events run in order of time, then of scheduling (a sequence number), so events at equal
 * times run in a fixed order and a seed replays a run exactly. An action may schedule more events;
 * an action that throws stops the run with its error (the seed names the run).
 *
 * Times are virtual milliseconds: finite numbers, never below the current time.
 */

import { assert } from '../core/assert.js';

/** Events queued at once (cancelled ones included until they are swept). A simulated ensemble of
 *  at most 7 voters, some observers and clients queues a few thousand: one timer per node,
 *  messages in flight (the network caps those at NETWORK_IN_FLIGHT_MAX), fsyncs and client
 *  requests. A million is ample headroom and stops a runaway feedback loop (an event that
 *  schedules two) long before memory does. */
export const SCHEDULER_EVENTS_QUEUED_MAX = 1_000_000;

/** The default cap on events run by one `runUntil` / `runUntilIdle` call: a liveness phase of a
 *  long simulation runs a few million events; more means a timer that never settles. */
export const SCHEDULER_RUN_EVENTS_MAX = 50_000_000;

/** Cancelled events are swept from the heap once they outnumber live ones and the heap has at
 *  least this many: below it a sweep costs more than the dead entries it frees. */
const SWEEP_HEAP_EVENTS_MIN = 1024;

export type EventId = number;

/** What the trace sees of an event as it runs. */
export interface TraceEntry {
  readonly time: number;
  readonly sequence: number;
  readonly label: string;
}

interface QueuedEvent {
  readonly id: EventId;
  readonly time: number;
  readonly sequence: number;
  readonly label: string;
  readonly action: () => void;
  cancelled: boolean;
}

export interface SchedulerOptions {
  /** The virtual time the run starts at (0 by default). */
  startTime?: number;
  /** At most SCHEDULER_EVENTS_QUEUED_MAX. */
  eventsQueuedMax?: number;
  /** Called before each event runs (for traces). */
  onEvent?: (entry: TraceEntry) => void;
}

export interface RunOptions {
  /** Stop after this many events even if more are due (at most SCHEDULER_RUN_EVENTS_MAX). */
  eventsMax?: number;
}

function precedes(a: QueuedEvent, b: QueuedEvent): boolean {
  return a.time < b.time || (a.time === b.time && a.sequence < b.sequence);
}

export class Scheduler {
  private time: number;
  private sequenceNext = 0;
  private readonly heap: QueuedEvent[] = [];
  private readonly live = new Map<EventId, QueuedEvent>();
  private readonly eventsQueuedMax: number;
  private readonly onEvent: ((entry: TraceEntry) => void) | undefined;
  private eventsRunCount = 0;

  constructor(options: SchedulerOptions = {}) {
    const eventsQueuedMax = options.eventsQueuedMax ?? SCHEDULER_EVENTS_QUEUED_MAX;
    assert(Number.isInteger(eventsQueuedMax) && eventsQueuedMax >= 1, 'eventsQueuedMax is a positive integer');
    assert(eventsQueuedMax <= SCHEDULER_EVENTS_QUEUED_MAX, 'eventsQueuedMax <= SCHEDULER_EVENTS_QUEUED_MAX');
    this.time = options.startTime ?? 0;
    assert(Number.isFinite(this.time), 'startTime is finite');
    this.eventsQueuedMax = eventsQueuedMax;
    this.onEvent = options.onEvent;
  }

  /** The current virtual time. */
  now(): number {
    return this.time;
  }

  /** Events waiting to run (not cancelled). */
  pending(): number {
    return this.live.size;
  }

  /** Events run so far. */
  eventsRun(): number {
    return this.eventsRunCount;
  }

  /** Schedules `action` after `delay` ms (0 runs it after everything already due now). */
  schedule(delay: number, label: string, action: () => void): EventId {
    assert(Number.isFinite(delay), 'delay is finite');
    assert(delay >= 0, 'delay >= 0');
    return this.scheduleAt(this.time + delay, label, action);
  }

  /** Schedules `action` at virtual time `time` (not in the past). */
  scheduleAt(time: number, label: string, action: () => void): EventId {
    assert(Number.isFinite(time), 'event time is finite');
    assert(time >= this.time, `event time ${time} is not in the past (now ${this.time})`);
    if (this.heap.length >= this.eventsQueuedMax) this.sweepCancelled();
    assert(this.heap.length < this.eventsQueuedMax, `at most ${this.eventsQueuedMax} events queued`);
    const sequence = this.sequenceNext++;
    const event: QueuedEvent = { id: sequence, time, sequence, label, action, cancelled: false };
    this.push(event);
    this.live.set(event.id, event);
    return event.id;
  }

  /** Cancels a queued event; false if it already ran or was cancelled. */
  cancel(id: EventId): boolean {
    const event = this.live.get(id);
    if (event === undefined) return false;
    event.cancelled = true;
    this.live.delete(id);
    // Timers are reset constantly (election timeouts): sweep once cancelled ones dominate.
    if (this.heap.length >= SWEEP_HEAP_EVENTS_MIN && this.live.size < this.heap.length / 2) this.sweepCancelled();
    return true;
  }

  /** The time of the next event, or null when none is queued. */
  nextTime(): number | null {
    this.dropCancelledTop();
    const top = this.heap[0];
    return top === undefined ? null : top.time;
  }

  /** Runs the next event (advancing the clock to it); false when none is queued. */
  step(): boolean {
    this.dropCancelledTop();
    const event = this.pop();
    if (event === undefined) return false;
    assert(!event.cancelled, 'a cancelled event never runs');
    assert(event.time >= this.time, 'time never goes backwards');
    this.live.delete(event.id);
    this.time = event.time;
    this.eventsRunCount += 1;
    this.onEvent?.({ time: event.time, sequence: event.sequence, label: event.label });
    event.action();
    return true;
  }

  /** Runs every event due at or before `time`, then sets the clock to `time`. Returns the number
   *  of events run; stops early (clock at the last event) if `eventsMax` is reached. */
  runUntil(time: number, options: RunOptions = {}): number {
    assert(Number.isFinite(time) && time >= this.time, 'runUntil: a finite time, not in the past');
    const eventsMax = eventsMaxOf(options);
    let ran = 0;
    while (ran < eventsMax) {
      const next = this.nextTime();
      if (next === null || next > time) {
        this.time = time;
        return ran;
      }
      this.step();
      ran += 1;
    }
    return ran;
  }

  /** Runs events until none is queued or `eventsMax` have run. Returns the number run. */
  runUntilIdle(options: RunOptions = {}): number {
    const eventsMax = eventsMaxOf(options);
    let ran = 0;
    while (ran < eventsMax && this.step()) ran += 1;
    return ran;
  }

  /** Runs events while `condition()` holds before each one, up to `eventsMax`. Returns the
   *  number run. */
  runWhile(condition: () => boolean, options: RunOptions = {}): number {
    const eventsMax = eventsMaxOf(options);
    let ran = 0;
    while (ran < eventsMax && condition() && this.step()) ran += 1;
    return ran;
  }

  // --- the binary heap, ordered by (time, sequence) ---------------------------------------

  private push(event: QueuedEvent): void {
    const heap = this.heap;
    heap.push(event);
    let index = heap.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      const above = heap[parent] as QueuedEvent;
      if (!precedes(event, above)) break;
      heap[index] = above;
      index = parent;
    }
    heap[index] = event;
  }

  private pop(): QueuedEvent | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (top === undefined || last === undefined || heap.length === 0) return top;
    let index = 0;
    const length = heap.length;
    while (true) {
      const left = 2 * index + 1;
      if (left >= length) break;
      const right = left + 1;
      const child = right < length && precedes(heap[right] as QueuedEvent, heap[left] as QueuedEvent) ? right : left;
      const below = heap[child] as QueuedEvent;
      if (!precedes(below, last)) break;
      heap[index] = below;
      index = child;
    }
    heap[index] = last;
    return top;
  }

  private dropCancelledTop(): void {
    while (this.heap[0]?.cancelled === true) this.pop();
  }

  /** Rebuilds the heap without cancelled events. */
  private sweepCancelled(): void {
    const kept = this.heap.filter((event) => !event.cancelled);
    this.heap.length = 0;
    for (const event of kept) this.push(event);
    assert(this.heap.length === this.live.size, 'the heap holds exactly the live events');
  }
}

function eventsMaxOf(options: RunOptions): number {
  const eventsMax = options.eventsMax ?? SCHEDULER_RUN_EVENTS_MAX;
  assert(Number.isInteger(eventsMax) && eventsMax >= 0, 'eventsMax is a non-negative integer');
  assert(eventsMax <= SCHEDULER_RUN_EVENTS_MAX, 'eventsMax <= SCHEDULER_RUN_EVENTS_MAX');
  return eventsMax;
}
