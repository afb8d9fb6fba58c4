/**
 * The benchmark's workloads, written once and run unchanged on every system: in a tab (bench/run.ts
 * transpiles this file and injects it into the page, so it must not import anything at run time),
 * in a Node edge peer process (bench/node-worker.ts) and against Apache ZooKeeper
 * (bench/zookeeper.ts adapts its client to `BenchClient`).
 *
 * Every loop is bounded twice: by its count and by a deadline (a workload that runs out of time
 * reports what it did, with `timedOut: true`).
 */

/** The calls the data workloads need; meshkeeper's Keeper has them, ZooKeeper gets an adapter. */
export interface BenchClient {
  create(path: string, data: Uint8Array): Promise<unknown>;
  setData(path: string, data: Uint8Array): Promise<unknown>;
  getData(path: string): Promise<unknown>;
}

export type OpKind = 'create' | 'setData' | 'getData';

export interface OpsSpec {
  kind: OpKind;
  /** Paths are `${prefix}${i}`, i from 0 (create) or `${prefix}${i % paths}` (setData, getData). */
  prefix: string;
  /** How many distinct paths setData/getData cycle over (ignored by create). */
  paths: number;
  count: number;
  inFlight: number;
  deadlineMs: number;
  /** Bytes of data each create/setData writes. */
  dataBytes: number;
}

export interface OpsResult {
  /** Operations that completed (successfully). */
  ops: number;
  errors: number;
  firstError: string | null;
  seconds: number;
  opsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  timedOut: boolean;
}

/** The value at quantile q (0..1) of ascending `sorted`, nearest rank; NaN when empty. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] as number;
}

/** Runs `spec.count` operations of one kind with `spec.inFlight` outstanding at a time. */
export async function runOps(client: BenchClient, spec: OpsSpec): Promise<OpsResult> {
  const data = new Uint8Array(spec.dataBytes);
  for (let i = 0; i < data.length; i++) data[i] = 97 + (i % 26);
  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  let firstError: string | null = null;
  let timedOut = false;
  const started = performance.now();
  const deadline = started + spec.deadlineMs;
  async function worker(): Promise<void> {
    while (next < spec.count) {
      if (performance.now() > deadline) {
        timedOut = true;
        return;
      }
      const i = next++;
      const path = spec.kind === 'create' ? `${spec.prefix}${i}` : `${spec.prefix}${i % spec.paths}`;
      const begun = performance.now();
      try {
        if (spec.kind === 'create') await client.create(path, data);
        else if (spec.kind === 'setData') await client.setData(path, data);
        else await client.getData(path);
        latencies.push(performance.now() - begun);
      } catch (error) {
        errors += 1;
        if (firstError === null) firstError = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        // An ensemble failure: do not spin on it.
        if (errors > Math.max(10, spec.count / 100)) {
          next = spec.count;
          return;
        }
      }
    }
  }
  const workers: Promise<void>[] = [];
  for (let w = 0; w < Math.max(1, spec.inFlight); w++) workers.push(worker());
  await Promise.all(workers);
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    ops: latencies.length,
    errors,
    firstError,
    seconds,
    opsPerSec: seconds > 0 ? latencies.length / seconds : 0,
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
    timedOut,
  };
}

/** A mutex as the lock workload sees it: meshkeeper's Lock, ZooKeeper's lock recipe, a Web Lock. */
export interface BenchLock {
  acquire(): Promise<unknown>;
  release(): Promise<unknown>;
}

export interface LockSpec {
  /** This client's name (hand-offs are counted between different clients). */
  client: string;
  cycles: number;
  /** System-clock ms (systemClock()) at which to start, so clients start together. */
  startAtEpochMs: number;
  /** System-clock ms after which no new acquire starts. */
  stopAtEpochMs: number;
}

export interface LockCycle {
  client: string;
  /** System-clock ms (systemClock()) when acquire() resolved: this client knows it holds. */
  acquiredAt: number;
  /** System-clock ms when release() was called. */
  releasedAt: number;
}

export function epochNow(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * A clock that agrees across processes: `performance.timeOrigin + performance.now()` has sub-ms
 * resolution but each process (each renderer, each Node peer) fixes its time origin on its own, so
 * two processes' readings can be apart by milliseconds; `Date.now()` is the one system clock but in
 * whole ms. This finds the offset between them at the instants Date.now() ticks (there the system
 * clock is exactly the new whole ms), averaged over `sampleMs` of ticks: the result reads the
 * system clock with the resolution of performance.now().
 */
export function systemClock(sampleMs = 25): () => number {
  const offsets: number[] = [];
  const end = performance.now() + sampleMs;
  let last = Date.now();
  while (performance.now() < end) {
    const wall = Date.now();
    if (wall !== last) {
      offsets.push(epochNow() - wall);
      last = wall;
    }
  }
  const offset = offsets.length === 0 ? 0 : offsets.reduce((sum, o) => sum + o, 0) / offsets.length;
  return () => epochNow() - offset;
}

let calibrated: (() => number) | null = null;

/** systemClock(), calibrated once per process (the first call busy-waits ~25 ms: make it early). */
export function sharedClock(): () => number {
  calibrated ??= systemClock();
  return calibrated;
}

/** One contending client: acquire, release at once, repeat; returns its cycles' timestamps. */
export async function runLockClient(lock: BenchLock, spec: LockSpec): Promise<LockCycle[]> {
  const now = sharedClock();
  const wait = spec.startAtEpochMs - now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  const cycles: LockCycle[] = [];
  while (cycles.length < spec.cycles && now() < spec.stopAtEpochMs) {
    await lock.acquire();
    const acquiredAt = now();
    const releasedAt = now();
    await lock.release();
    cycles.push({ client: spec.client, acquiredAt, releasedAt });
  }
  return cycles;
}

/** A Web Lock (navigator.locks) with acquire/release calls instead of a callback. */
export function webLock(name: string): BenchLock {
  let releaseHeld: (() => void) | null = null;
  return {
    acquire: () =>
      new Promise<void>((acquired, failed) => {
        navigator.locks
          .request(name, () => {
            acquired();
            return new Promise<void>((released) => {
              releaseHeld = released;
            });
          })
          .catch(failed);
      }),
    release: async () => {
      const release = releaseHeld;
      releaseHeld = null;
      release?.();
    },
  };
}

export interface FailoverWrite {
  ok: boolean;
  attempts: number;
  /** System-clock ms (systemClock()) of the successful write's completion. */
  doneAt: number;
  lastError: string | null;
}

/** Creates `${prefix}${n}` (a new path each attempt: a failed attempt's outcome may be unknown)
 *  until one succeeds or `deadlineMs` passes. */
export async function writeUntilSuccess(client: BenchClient, prefix: string, deadlineMs: number): Promise<FailoverWrite> {
  const now = sharedClock();
  const started = performance.now();
  let attempts = 0;
  let lastError: string | null = null;
  const data = new Uint8Array(16);
  while (performance.now() - started < deadlineMs) {
    attempts += 1;
    try {
      await client.create(`${prefix}${attempts}`, data);
      return { ok: true, attempts, doneAt: now(), lastError };
    } catch (error) {
      lastError = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
  return { ok: false, attempts, doneAt: now(), lastError };
}

/** g: acquires started in the background, by key, so a holder can be killed while a waiter waits. */
const pendingAcquires = new Map<string, { lock: BenchLock; acquired: Promise<number> }>();

/** Starts `lock.acquire()` under `key`; awaitAcquire(key) later gives the system-clock ms it resolved. */
export function beginAcquire(key: string, lock: BenchLock): void {
  const now = sharedClock();
  const acquired = lock.acquire().then(() => now());
  acquired.catch(() => undefined);
  pendingAcquires.set(key, { lock, acquired });
}

/** Waits (at most `timeoutMs`) for beginAcquire(key)'s acquire: its system-clock ms; releases the
 *  lock after when `release`. */
export async function awaitAcquire(key: string, timeoutMs: number, release: boolean): Promise<number> {
  const entry = pendingAcquires.get(key);
  if (entry === undefined) throw new Error(`no acquire under ${key}`);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`lock not acquired within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const at = await Promise.race([entry.acquired, timeout]);
    if (release) {
      pendingAcquires.delete(key);
      await entry.lock.release();
    }
    return at;
  } finally {
    clearTimeout(timer);
  }
}
