/**
 * A Clock whose timers tick in a dedicated worker, for browser tabs (DESIGN.md "Time in browsers").
 *
 * Chrome clamps chained main-thread timers of a hidden tab to once per second (and, without an open
 * RTCPeerConnection, to once per minute after five minutes hidden); a dedicated worker's timers are
 * not throttled that way. So the peer's Raft ticks (RAFT_TICK_MS), session ticks and departure
 * confirmations are armed in a tiny worker, which posts each timer's id back when it is due; the
 * callback then runs on the main thread as an ordinary task (message events are not clamped). A
 * main thread that is busy still delays the callbacks — nothing can run JavaScript on a blocked
 * thread — but they arrive as soon as it yields, none lost (e2e/ticks.spec.ts measures both).
 *
 * The worker is created from a Blob URL holding WORKER_CLOCK_SOURCE, so it bundles anywhere (Vite,
 * other bundlers, no bundler) with no separate file to serve. Where there is no Worker (Node, old
 * runtimes) or the worker cannot start (a CSP without `worker-src blob:` reports an error event),
 * the clock falls back to the main thread's setTimeout, re-arming whatever was pending; time is
 * then exactly RealClock's. `now()` is wall-clock time (Date.now), as RealClock's.
 */

import type { Cancel, Clock } from '../peer/interfaces.js';

/** At most this many timers wait in the worker at once. A peer keeps three periodic timers plus one
 *  per departure being confirmed (at most DEPARTED_PEERS_MAX = 256) and its mesh a few per
 *  connection: tens in practice. A timer armed beyond the bound runs on the main thread's setTimeout
 *  (counted in `stats().overflowed`), so a runaway caller cannot grow the worker's table. */
export const WORKER_CLOCK_TIMERS_MAX = 4096;

/** The worker: `[1, id, ms]` arms timer `id`, `[0, id]` cancels it; it posts `id` when it is due,
 *  and 0 once when it starts (so the Blob URL can be revoked). Its own table is bounded by what the
 *  main side arms (WORKER_CLOCK_TIMERS_MAX). Plain ES5-ish text: it is never transpiled. */
export const WORKER_CLOCK_SOURCE = `'use strict';
var timers = new Map();
self.onmessage = function (event) {
  var data = event.data;
  if (!Array.isArray(data) || typeof data[1] !== 'number') return;
  var id = data[1];
  if (data[0] === 1) {
    if (timers.has(id)) return;
    timers.set(id, setTimeout(function () { timers.delete(id); self.postMessage(id); }, data[2]));
  } else if (data[0] === 0) {
    var timer = timers.get(id);
    if (timer !== undefined) { clearTimeout(timer); timers.delete(id); }
  }
};
self.postMessage(0);
`;

/** What the clock needs of a Worker (a fake one in unit tests). */
export interface WorkerLike {
  postMessage(message: unknown): void;
  addEventListener(type: 'message', listener: (event: { readonly data: unknown }) => void): void;
  addEventListener(type: 'error' | 'messageerror', listener: () => void): void;
  terminate(): void;
}

export interface WorkerClockStats {
  /** Where timers run now: the worker, or the main thread (no worker, or it failed). */
  readonly mode: 'worker' | 'main-thread';
  /** Timers armed and not yet fired or cancelled (worker and fallback alike, overflow excluded). */
  readonly pending: number;
  /** Timer callbacks run. */
  readonly fired: number;
  /** Timers armed on the main thread because WORKER_CLOCK_TIMERS_MAX were pending in the worker. */
  readonly overflowed: number;
  /** Why the clock runs on the main thread, if it does. */
  readonly fallbackReason: string | null;
}

export interface WorkerClock extends Clock {
  stats(): WorkerClockStats;
  /** Terminates the worker and drops every pending timer (none fires afterwards). */
  close(): void;
}

export interface WorkerClockOptions {
  /** Creates the worker, or returns null where none can run (default: a Blob URL worker). */
  readonly createWorker?: () => WorkerLike | null;
}

interface Pending {
  readonly fn: () => void;
  /** Monotonic time (performance.now) when it is due: re-armed from it after a fallback. */
  readonly due: number;
  /** The main-thread timer, once running on the fallback. */
  handle: ReturnType<typeof setTimeout> | null;
}

/** A Blob URL worker, or null where Worker, Blob or object URLs do not exist or construction throws. */
export function createBlobWorker(): WorkerLike | null {
  if (typeof Worker !== 'function' || typeof Blob !== 'function' || typeof URL.createObjectURL !== 'function') return null;
  let url: string | null = null;
  try {
    url = URL.createObjectURL(new Blob([WORKER_CLOCK_SOURCE], { type: 'text/javascript' }));
    const worker = new Worker(url, { name: 'meshkeeper-clock' });
    const revoke = (): void => {
      if (url !== null) URL.revokeObjectURL(url);
      url = null;
    };
    worker.addEventListener('message', revoke, { once: true });
    worker.addEventListener('error', revoke, { once: true });
    return worker;
  } catch {
    if (url !== null) URL.revokeObjectURL(url);
    return null;
  }
}

/** Creates a worker-driven clock (see the module comment). */
export function createWorkerClock(options: WorkerClockOptions = {}): WorkerClock {
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let fired = 0;
  let overflowed = 0;
  let closed = false;
  let fallbackReason: string | null = null;
  let worker: WorkerLike | null = null;

  const monotonic = (): number => performance.now();

  const run = (id: number): void => {
    const timer = pending.get(id);
    if (timer === undefined) return; // cancelled meanwhile (its cancel crossed the worker's post)
    pending.delete(id);
    fired += 1;
    timer.fn();
  };

  const armOnMainThread = (id: number, timer: Pending): void => {
    timer.handle = setTimeout(() => run(id), Math.max(0, timer.due - monotonic()));
  };

  const fallBack = (reason: string): void => {
    if (worker === null) return;
    const failed = worker;
    worker = null;
    fallbackReason = reason;
    failed.terminate();
    for (const [id, timer] of pending) armOnMainThread(id, timer);
  };

  try {
    worker = (options.createWorker ?? createBlobWorker)();
  } catch (error) {
    worker = null;
    fallbackReason = `the worker could not be created: ${error instanceof Error ? error.message : String(error)}`;
  }
  if (worker === null) fallbackReason ??= 'no dedicated worker here';
  else {
    const started = worker;
    started.addEventListener('message', (event) => {
      if (worker !== started || typeof event.data !== 'number' || event.data === 0) return;
      run(event.data);
    });
    started.addEventListener('error', () => {
      if (worker === started) fallBack('the worker failed (error event)');
    });
    started.addEventListener('messageerror', () => {
      if (worker === started) fallBack('a worker message could not be read');
    });
  }

  return {
    now: () => Date.now(),

    after(ms: number, fn: () => void): Cancel {
      const delay = Number.isFinite(ms) ? Math.max(0, ms) : 0;
      if (closed) return () => undefined;
      if (worker !== null && pending.size >= WORKER_CLOCK_TIMERS_MAX) {
        overflowed += 1;
        const handle = setTimeout(fn, delay);
        return () => clearTimeout(handle);
      }
      const id = nextId;
      nextId += 1;
      const timer: Pending = { fn, due: monotonic() + delay, handle: null };
      pending.set(id, timer);
      if (worker !== null) worker.postMessage([1, id, delay]);
      else armOnMainThread(id, timer);
      return () => {
        const current = pending.get(id);
        if (current === undefined) return;
        pending.delete(id);
        if (current.handle !== null) clearTimeout(current.handle);
        else worker?.postMessage([0, id]);
      };
    },

    stats: () => ({ mode: worker === null ? 'main-thread' : 'worker', pending: pending.size, fired, overflowed, fallbackReason }),

    close(): void {
      closed = true;
      for (const timer of pending.values()) if (timer.handle !== null) clearTimeout(timer.handle);
      pending.clear();
      worker?.terminate();
      worker = null;
      fallbackReason ??= 'closed';
    },
  };
}

let pageClock: WorkerClock | null = null;

/** The page's one worker clock, created on first use (every peer of the page shares its worker). */
export function pageWorkerClock(): WorkerClock {
  pageClock ??= createWorkerClock();
  return pageClock;
}
