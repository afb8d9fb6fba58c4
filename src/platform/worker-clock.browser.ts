/**
 * The browser side of e2e/ticks.spec.ts: bundled by Vite into a page, it runs three tick sources
 * side by side, each re-arming itself every `periodMs` as the peer's ticks do (peer.ts schedule):
 *   worker     the worker clock (worker-clock.ts), instrumented: its worker also reports when each
 *              timer fired there, so "fired on time in the worker" and "delivered to the page"
 *              are measured apart;
 *   timeout    a chained main-thread setTimeout (RealClock);
 *   interval   a main-thread setInterval.
 * Exposed on window.tickLab: start(periodMs), stop() -> TickRecord, busy(ms), clockStats().
 * Times are epoch ms (performance.timeOrigin + performance.now()), comparable with the worker's.
 */

import { createWorkerClock, WORKER_CLOCK_SOURCE, type WorkerClock, type WorkerClockStats, type WorkerLike } from './worker-clock.js';

export interface TickRecord {
  /** When each source's callback ran on the page (epoch ms). */
  readonly worker: number[];
  readonly timeout: number[];
  readonly interval: number[];
  /** When the worker's timers fired inside the worker (epoch ms). */
  readonly workerFired: number[];
  readonly visibility: DocumentVisibilityState;
  readonly stats: WorkerClockStats;
}

const REPORT = 'self.postMessage(id);';
const INSTRUMENTED_SOURCE = WORKER_CLOCK_SOURCE.replace(REPORT, `${REPORT} self.postMessage(['fired', performance.timeOrigin + performance.now()]);`);
if (INSTRUMENTED_SOURCE === WORKER_CLOCK_SOURCE) throw new Error('tickLab: the worker source changed; update the instrumentation');

const epoch = (): number => performance.timeOrigin + performance.now();

interface Running {
  readonly clock: WorkerClock;
  readonly record: { worker: number[]; timeout: number[]; interval: number[]; workerFired: number[] };
  stop(): void;
}

let running: Running | null = null;

function instrumentedWorker(workerFired: number[]): WorkerLike {
  const url = URL.createObjectURL(new Blob([INSTRUMENTED_SOURCE], { type: 'text/javascript' }));
  const worker = new Worker(url, { name: 'tick-lab' });
  worker.addEventListener('message', (event: MessageEvent<unknown>) => {
    if (Array.isArray(event.data) && event.data[0] === 'fired' && typeof event.data[1] === 'number') workerFired.push(event.data[1]);
  });
  return worker;
}

function start(periodMs: number): void {
  running?.stop();
  const record = { worker: [] as number[], timeout: [] as number[], interval: [] as number[], workerFired: [] as number[] };
  const clock = createWorkerClock({ createWorker: () => instrumentedWorker(record.workerFired) });
  let stopped = false;
  let cancelWorker = (): void => undefined;
  const workerTick = (): void => {
    if (stopped) return;
    record.worker.push(epoch());
    cancelWorker = clock.after(periodMs, workerTick);
  };
  let timeoutHandle: ReturnType<typeof setTimeout> | undefined;
  const timeoutTick = (): void => {
    if (stopped) return;
    record.timeout.push(epoch());
    timeoutHandle = setTimeout(timeoutTick, periodMs);
  };
  cancelWorker = clock.after(periodMs, workerTick);
  timeoutHandle = setTimeout(timeoutTick, periodMs);
  const intervalHandle = setInterval(() => record.interval.push(epoch()), periodMs);
  running = {
    clock,
    record,
    stop: () => {
      stopped = true;
      cancelWorker();
      clearTimeout(timeoutHandle);
      clearInterval(intervalHandle);
      clock.close();
    },
  };
}

function stop(): TickRecord {
  const current = running;
  if (current === null) throw new Error('tickLab: not started');
  const stats = current.clock.stats();
  current.stop();
  running = null;
  return { ...current.record, visibility: document.visibilityState, stats };
}

/** Blocks the main thread for `ms` (a long task: layout, a big JSON parse, a sync loop). Returns
 *  when it started and ended (epoch ms). */
function busy(ms: number): { from: number; to: number; spins: number } {
  const from = epoch();
  let spins = 0;
  while (epoch() - from < ms) spins += 1;
  return { from, to: epoch(), spins };
}

/** Arms one-shot timers on the running worker clock, `delays` ms from now; each records when it ran
 *  (epoch ms) into the returned array, in the order they ran, with its delay. */
function armBatch(delays: readonly number[]): { readonly armedAt: number; readonly ran: { delay: number; at: number }[] } {
  const current = running;
  if (current === null) throw new Error('tickLab: not started');
  const batch = { armedAt: epoch(), ran: [] as { delay: number; at: number }[] };
  for (const delay of delays) current.clock.after(delay, () => batch.ran.push({ delay, at: epoch() }));
  lastBatch = batch;
  return batch;
}

let lastBatch: { readonly armedAt: number; readonly ran: { delay: number; at: number }[] } | null = null;

declare global {
  interface Window {
    tickLab: {
      start: typeof start;
      stop: typeof stop;
      busy: typeof busy;
      armBatch: (delays: readonly number[]) => void;
      batch: () => { readonly armedAt: number; readonly ran: { delay: number; at: number }[] } | null;
      epoch: () => number;
      clockStats: () => WorkerClockStats | null;
    };
  }
}

window.tickLab = {
  start,
  stop,
  busy,
  armBatch: (delays) => void armBatch(delays),
  batch: () => lastBatch,
  epoch,
  clockStats: () => running?.clock.stats() ?? null,
};
