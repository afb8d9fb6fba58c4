import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createBlobWorker, createWorkerClock, WORKER_CLOCK_SOURCE, WORKER_CLOCK_TIMERS_MAX, type WorkerLike } from './worker-clock.js';

/** A worker the test drives: records what the clock posts, delivers what the test says. */
class FakeWorker implements WorkerLike {
  readonly posted: unknown[] = [];
  terminated = false;
  private readonly listeners = new Map<string, ((event: { readonly data: unknown }) => void)[]>();

  postMessage(message: unknown): void {
    this.posted.push(message);
  }
  addEventListener(type: string, listener: (event: { readonly data: unknown }) => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }
  terminate(): void {
    this.terminated = true;
  }
  emit(type: 'message' | 'error' | 'messageerror', data: unknown = undefined): void {
    for (const listener of this.listeners.get(type) ?? []) listener({ data });
  }
  /** The ids armed and not cancelled, in arming order. */
  armed(): number[] {
    const live: number[] = [];
    for (const message of this.posted as [number, number, number?][]) {
      if (message[0] === 1) live.push(message[1]);
      else live.splice(live.indexOf(message[1]), 1);
    }
    return live;
  }
}

/** WORKER_CLOCK_SOURCE run as a worker would run it, with the given timer functions; `posted`
 *  collects what it posts to the page. */
function runWorkerSource(timers: { setTimeout: typeof setTimeout; clearTimeout: typeof clearTimeout }): { send(data: unknown): void; posted: unknown[] } {
  const posted: unknown[] = [];
  const self: { onmessage: ((event: { data: unknown }) => void) | null; postMessage(data: unknown): void } = { onmessage: null, postMessage: (data) => posted.push(data) };
  new Function('self', 'setTimeout', 'clearTimeout', WORKER_CLOCK_SOURCE)(self, timers.setTimeout, timers.clearTimeout);
  return { send: (data) => self.onmessage?.({ data }), posted };
}

describe('worker clock with a fake worker', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('arms timers in the worker and runs each once when the worker posts its id', () => {
    const worker = new FakeWorker();
    const clock = createWorkerClock({ createWorker: () => worker });
    const runs: string[] = [];
    clock.after(250, () => runs.push('a'));
    clock.after(-5, () => runs.push('b'));
    expect(worker.posted).toEqual([
      [1, 1, 250],
      [1, 2, 0],
    ]);
    worker.emit('message', 0); // the worker's hello is not a timer
    worker.emit('message', 2);
    worker.emit('message', 1);
    worker.emit('message', 1); // a duplicate post runs nothing
    expect(runs).toEqual(['b', 'a']);
    expect(clock.stats()).toMatchObject({ mode: 'worker', pending: 0, fired: 2, overflowed: 0, fallbackReason: null });
    vi.advanceTimersByTime(10_000);
    expect(runs).toEqual(['b', 'a']); // nothing ran on the main thread's timers
  });

  it('cancels in the worker, and a post that crossed the cancel runs nothing', () => {
    const worker = new FakeWorker();
    const clock = createWorkerClock({ createWorker: () => worker });
    let runs = 0;
    const cancel = clock.after(100, () => runs++);
    cancel();
    cancel();
    expect(worker.posted).toEqual([
      [1, 1, 100],
      [0, 1],
    ]);
    worker.emit('message', 1);
    expect(runs).toBe(0);
    expect(clock.stats().pending).toBe(0);
  });

  it('falls back to the main thread when the worker fails, keeping each pending timer due when it was', () => {
    const worker = new FakeWorker();
    const clock = createWorkerClock({ createWorker: () => worker });
    const runs: string[] = [];
    clock.after(1000, () => runs.push('late'));
    clock.after(300, () => runs.push('early'));
    const cancelled = clock.after(500, () => runs.push('cancelled'));
    vi.advanceTimersByTime(200);
    worker.emit('error');
    expect(worker.terminated).toBe(true);
    expect(clock.stats()).toMatchObject({ mode: 'main-thread', pending: 3, fallbackReason: 'the worker failed (error event)' });
    cancelled();
    worker.emit('message', 1); // a dead worker's late post is ignored
    vi.advanceTimersByTime(99);
    expect(runs).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(runs).toEqual(['early']);
    clock.after(50, () => runs.push('new'));
    vi.advanceTimersByTime(700);
    expect(runs).toEqual(['early', 'new', 'late']);
    expect(worker.posted).toHaveLength(3); // nothing posted to the dead worker
    expect(clock.stats()).toMatchObject({ pending: 0, fired: 3 });
  });

  it('a messageerror falls back too', () => {
    const worker = new FakeWorker();
    const clock = createWorkerClock({ createWorker: () => worker });
    worker.emit('messageerror');
    expect(clock.stats().mode).toBe('main-thread');
  });

  it('runs on the main thread where no worker can be created (null or a throw)', () => {
    for (const createWorker of [() => null, () => { throw new Error('CSP says no'); }]) {
      const clock = createWorkerClock({ createWorker });
      const runs: number[] = [];
      clock.after(20, () => runs.push(2));
      clock.after(10, () => runs.push(1));
      expect(clock.stats().mode).toBe('main-thread');
      vi.advanceTimersByTime(20);
      expect(runs).toEqual([1, 2]);
    }
    expect(createWorkerClock({ createWorker: () => { throw new Error('CSP says no'); } }).stats().fallbackReason).toContain('CSP says no');
  });

  it('keeps at most WORKER_CLOCK_TIMERS_MAX timers in the worker; the rest run on the main thread', () => {
    const worker = new FakeWorker();
    const clock = createWorkerClock({ createWorker: () => worker });
    let overflowRuns = 0;
    for (let i = 0; i < WORKER_CLOCK_TIMERS_MAX; i++) clock.after(1000, () => undefined);
    const cancelOverflow = clock.after(10, () => overflowRuns++);
    clock.after(10, () => overflowRuns++);
    expect(worker.armed()).toHaveLength(WORKER_CLOCK_TIMERS_MAX);
    expect(clock.stats()).toMatchObject({ pending: WORKER_CLOCK_TIMERS_MAX, overflowed: 2 });
    cancelOverflow();
    vi.advanceTimersByTime(10);
    expect(overflowRuns).toBe(1);
    // Room again once the worker's timers fire.
    worker.emit('message', 1);
    clock.after(5, () => undefined);
    expect(worker.posted.at(-1)).toEqual([1, WORKER_CLOCK_TIMERS_MAX + 1, 5]);
    expect(clock.stats()).toMatchObject({ pending: WORKER_CLOCK_TIMERS_MAX, overflowed: 2 });
  });

  it('close terminates the worker and nothing fires afterwards', () => {
    const worker = new FakeWorker();
    const clock = createWorkerClock({ createWorker: () => worker });
    let runs = 0;
    clock.after(10, () => runs++);
    clock.close();
    worker.emit('message', 1);
    clock.after(1, () => runs++);
    vi.advanceTimersByTime(100);
    expect(runs).toBe(0);
    expect(worker.terminated).toBe(true);
  });

  it('now() is wall-clock time', () => {
    vi.setSystemTime(1_700_000_123_456);
    expect(createWorkerClock({ createWorker: () => null }).now()).toBe(1_700_000_123_456);
  });
});

describe('the worker source', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('says hello, posts each armed id when due, honours cancels and ignores junk', () => {
    const worker = runWorkerSource({ setTimeout, clearTimeout });
    expect(worker.posted).toEqual([0]);
    worker.send([1, 7, 100]);
    worker.send([1, 8, 50]);
    worker.send([1, 8, 10]); // re-arming a live id is ignored
    worker.send([1, 9, 70]);
    worker.send([0, 9]);
    worker.send('junk');
    worker.send([1, 'x', 1]);
    worker.send(null);
    vi.advanceTimersByTime(49);
    expect(worker.posted).toEqual([0]);
    vi.advanceTimersByTime(100);
    expect(worker.posted).toEqual([0, 8, 7]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('drives a clock end to end (the two sides speak the same protocol)', async () => {
    vi.useRealTimers();
    let page: ((id: unknown) => void) | null = null;
    const side = runWorkerSource({ setTimeout, clearTimeout });
    const bridge = new FakeWorker();
    bridge.postMessage = (message) => queueMicrotask(() => side.send(message));
    const clock = createWorkerClock({ createWorker: () => bridge });
    page = (id) => bridge.emit('message', id);
    side.posted.length = 0;
    const flush = setInterval(() => {
      for (const id of side.posted.splice(0)) page?.(id);
    }, 1);
    try {
      const order: number[] = [];
      const cancel = clock.after(5, () => order.push(0));
      await new Promise<void>((resolve) => {
        clock.after(30, () => {
          order.push(2);
          resolve();
        });
        clock.after(10, () => order.push(1));
        cancel();
      });
      expect(order).toEqual([1, 2]);
      expect(clock.stats()).toMatchObject({ mode: 'worker', pending: 0, fired: 2 });
    } finally {
      clearInterval(flush);
    }
  });
});

describe('outside browsers', () => {
  it('Node has no dedicated Worker global: the default clock runs on setTimeout and still fires', async () => {
    expect(createBlobWorker()).toBeNull();
    const clock = createWorkerClock();
    expect(clock.stats()).toMatchObject({ mode: 'main-thread', fallbackReason: 'no dedicated worker here' });
    const started = performance.now();
    await new Promise<void>((resolve) => clock.after(20, resolve));
    expect(performance.now() - started).toBeGreaterThanOrEqual(15);
  });
});
