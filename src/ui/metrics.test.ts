// The metrics view's pure parts (the drawing runs in e2e/playground.spec.ts): latency bucketing at
// and around each bound, bounded sample and per-second buffers, failures by code, percentiles by
// nearest rank, the write-timing proxy on a class with private fields, and elections counted from
// status events.
import { describe, expect, it } from 'vitest';
import type { KeeperStatus } from '../browser.js';
import {
  boardCounters,
  bucketIndex,
  bucketLabel,
  bucketRange,
  instrumentWrites,
  LATENCY_BUCKET_BOUNDS_MS,
  LATENCY_SAMPLES_MAX,
  secondLabel,
  StatusCounters,
  THROUGHPUT_WINDOW_S,
  WriteMetrics,
} from './metrics.js';

describe('latency buckets', () => {
  it('a latency goes to the first bucket whose bound it does not exceed', () => {
    expect(bucketIndex(0)).toBe(0);
    expect(bucketIndex(1)).toBe(0);
    expect(bucketIndex(1.01)).toBe(1);
    expect(bucketIndex(5)).toBe(2);
    expect(bucketIndex(5.5)).toBe(3);
    expect(bucketIndex(10_000)).toBe(LATENCY_BUCKET_BOUNDS_MS.length - 1);
    expect(bucketIndex(10_001)).toBe(LATENCY_BUCKET_BOUNDS_MS.length);
  });

  it('every bound lands in its own bucket and just past it in the next', () => {
    LATENCY_BUCKET_BOUNDS_MS.forEach((bound, i) => {
      expect(bucketIndex(bound)).toBe(i);
      expect(bucketIndex(bound + 0.001)).toBe(i + 1);
    });
  });

  it('labels and ranges read naturally', () => {
    expect(bucketLabel(0)).toBe('1');
    expect(bucketLabel(9)).toBe('1k');
    expect(bucketLabel(LATENCY_BUCKET_BOUNDS_MS.length)).toBe('more');
    expect(bucketRange(0)).toBe('≤ 1 ms');
    expect(bucketRange(2)).toBe('2–5 ms');
    expect(bucketRange(LATENCY_BUCKET_BOUNDS_MS.length)).toBe('> 10000 ms');
  });

  it('the throughput axis is labelled back from now', () => {
    expect(secondLabel(0)).toBe('now');
    expect(secondLabel(10)).toBe('-10s');
    expect(secondLabel(7)).toBe('');
  });
});

describe('write metrics', () => {
  it('counts successes into the histogram and failures by code', () => {
    const metrics = new WriteMetrics();
    metrics.record({ latencyMs: 0.5, endedAtMs: 1_000 });
    metrics.record({ latencyMs: 3, endedAtMs: 1_100 });
    metrics.record({ latencyMs: 40, endedAtMs: 2_000, error: 'CONNECTIONLOSS' });
    expect(metrics.ok).toBe(2);
    expect(metrics.failed).toBe(1);
    expect(metrics.buckets[0]).toBe(1);
    expect(metrics.buckets[2]).toBe(1);
    expect(metrics.buckets.reduce((a, b) => a + b, 0)).toBe(2);
    expect(metrics.failures.get('CONNECTIONLOSS')).toBe(1);
  });

  it('percentiles are nearest-rank over the last LATENCY_SAMPLES_MAX writes only', () => {
    const metrics = new WriteMetrics();
    expect(metrics.percentile(50)).toBeNull();
    for (let i = 1; i <= 100; i++) metrics.record({ latencyMs: i, endedAtMs: 0 });
    expect(metrics.percentile(50)).toBe(50);
    expect(metrics.percentile(99)).toBe(99);
    expect(metrics.percentile(100)).toBe(100);
    for (let i = 0; i < LATENCY_SAMPLES_MAX; i++) metrics.record({ latencyMs: 7, endedAtMs: 0 });
    expect(metrics.percentile(100)).toBe(7);
    expect(metrics.ok).toBe(100 + LATENCY_SAMPLES_MAX);
  });

  it('the series is the last THROUGHPUT_WINDOW_S seconds, oldest first, gaps as zero, older seconds dropped', () => {
    const metrics = new WriteMetrics();
    metrics.record({ latencyMs: 1, endedAtMs: 5_000 });
    for (let s = 10; s < 10 + THROUGHPUT_WINDOW_S + 5; s++) metrics.record({ latencyMs: 1, endedAtMs: s * 1_000 + 10 });
    metrics.record({ latencyMs: 1, endedAtMs: 80_500, error: 'NONODE' });
    const series = metrics.series(80_900);
    expect(series).toHaveLength(THROUGHPUT_WINDOW_S);
    expect(series[series.length - 1]).toEqual({ second: 80, ok: 0, failed: 1 });
    expect(series[0]!.second).toBe(80 - THROUGHPUT_WINDOW_S + 1);
    expect(series.find((entry) => entry.second === 74)).toEqual({ second: 74, ok: 1, failed: 0 });
    expect(series.find((entry) => entry.second === 77)).toEqual({ second: 77, ok: 0, failed: 0 });
  });

  it('distinct failure codes are bounded', () => {
    const metrics = new WriteMetrics();
    for (let i = 0; i < 100; i++) metrics.record({ latencyMs: 1, endedAtMs: 0, error: `CODE${i}` });
    expect(metrics.failures.size).toBeLessThanOrEqual(25);
    expect(metrics.failed).toBe(100);
  });
});

describe('instrumentWrites', () => {
  class Fake {
    #calls = 0;
    get calls(): number {
      return this.#calls;
    }
    async create(path: string): Promise<string> {
      this.#calls += 1;
      return path;
    }
    async delete(path: string): Promise<void> {
      this.#calls += 1;
      throw Object.assign(new Error(`no ${path}`), { code: 'NONODE' });
    }
    async getData(): Promise<string> {
      this.#calls += 1;
      return 'x';
    }
  }

  it('times writes (ok and failed), passes reads and getters through, keeps private fields working', async () => {
    const metrics = new WriteMetrics();
    let clock = 0;
    const fake = instrumentWrites(new Fake(), metrics, () => (clock += 4), () => 1_000);
    expect(await fake.create('/a')).toBe('/a');
    await expect(fake.delete('/b')).rejects.toMatchObject({ code: 'NONODE' });
    expect(await fake.getData()).toBe('x');
    expect(fake.calls).toBe(3);
    expect(metrics.ok).toBe(1);
    expect(metrics.buckets[bucketIndex(4)]).toBe(1);
    expect(metrics.failures.get('NONODE')).toBe(1);
  });
});

describe('status counters', () => {
  const base: KeeperStatus = { peerId: 'a', role: 'follower', term: 1, leaderId: 'b', commitIndex: 1, appliedIndex: 1, voters: ['a', 'b', 'c'], observers: [], quorum: true, votersShareDomain: false };

  it('counts term increases, leader changes and quorum losses', () => {
    const counters = new StatusCounters();
    counters.observe(base);
    counters.observe({ ...base, quorum: false, leaderId: null, role: 'candidate', term: 2 });
    counters.observe({ ...base, role: 'candidate', term: 4, quorum: false, leaderId: null });
    counters.observe({ ...base, term: 4, leaderId: 'c' });
    counters.observe({ ...base, term: 4, leaderId: 'c' });
    expect(counters).toMatchObject({ elections: 3, leaderChanges: 1, quorumLosses: 1 });
  });

  it('board counters are read only where the board keeps them', () => {
    expect(boardCounters(null)).toBeNull();
    expect(boardCounters({ peers: () => [] })).toBeNull();
    const stats = { runtimeReceived: 1, boardReceived: 2, boardSent: 3, dropped: { oversize: 1 } };
    expect(boardCounters({ stats: () => stats })).toEqual(stats);
  });
});
