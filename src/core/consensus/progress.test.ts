// Proves per-follower flow control (dissertation §10.2.1 pipelining; etcd's tracker): the
// in-flight window is bounded by message count and bytes, progress moves between probe /
// replicate / snapshot as etcd's does, stale rejections are ignored, and a live leader never has
// more than APPEND_MESSAGES_IN_FLIGHT_MAX appends (or about APPEND_BYTES_IN_FLIGHT_MAX bytes)
// unacknowledged to a silent follower, yet catches it up once it answers.

import { describe, expect, it } from 'vitest';
import { AssertionError } from '../assert.js';
import { APPEND_BYTES_IN_FLIGHT_MAX, APPEND_MESSAGES_IN_FLIGHT_MAX, MESSAGE_BYTES_MAX } from '../limits.js';
import { makeConfig } from './config.js';
import { Cluster } from './harness/cluster.js';
import { Inflights } from './inflights.js';
import { Progress } from './progress.js';

describe('Inflights', () => {
  it('is full at the message count', () => {
    const inflights = new Inflights(3, 1000);
    inflights.add(1, 10);
    inflights.add(2, 10);
    expect(inflights.full()).toBe(false);
    inflights.add(5, 10);
    expect(inflights.full()).toBe(true);
    expect(() => inflights.add(6, 10)).toThrow(AssertionError);
  });

  it('is full at the byte budget whatever the count', () => {
    const inflights = new Inflights(100, 100);
    inflights.add(1, 60);
    expect(inflights.full()).toBe(false);
    inflights.add(2, 60);
    expect(inflights.full()).toBe(true);
    expect(inflights.bytes).toBe(120);
  });

  it('frees every message acknowledged, in order', () => {
    const inflights = new Inflights(10, 1000);
    for (const index of [3, 6, 9]) inflights.add(index, 5);
    inflights.freeLE(7);
    expect(inflights.count).toBe(1);
    expect(inflights.bytes).toBe(5);
    inflights.freeLE(2);
    expect(inflights.count).toBe(1);
    expect(() => inflights.add(8, 1)).toThrow(AssertionError); // indexes increase
  });
});

describe('Progress', () => {
  it('probe sends one message per unpause; replicate pipelines until the window is full', () => {
    const progress = new Progress(5, false);
    expect(progress.shouldSendAppend(10, 0)).toBe(true);
    progress.sentEntries(2, 100);
    expect(progress.next).toBe(5); // probe does not advance next
    expect(progress.shouldSendAppend(10, 0)).toBe(false);
    progress.maybeUpdate(6);
    progress.becomeReplicate();
    expect(progress.next).toBe(7);
    for (let i = 0; i < APPEND_MESSAGES_IN_FLIGHT_MAX; i++) {
      expect(progress.canSendEntries(10_000)).toBe(true);
      progress.sentEntries(1, 10);
    }
    expect(progress.inflights.full()).toBe(true);
    expect(progress.canSendEntries(10_000)).toBe(false);
  });

  it('ignores stale rejections and backs off on genuine ones', () => {
    const progress = new Progress(1, false);
    progress.maybeUpdate(5);
    progress.becomeReplicate();
    progress.sentEntries(3, 30); // next = 9
    expect(progress.maybeDecrTo(4, 4)).toBe(false); // at or below match: stale
    expect(progress.maybeDecrTo(7, 6)).toBe(true);
    expect(progress.next).toBe(6);
    progress.becomeProbe();
    expect(progress.maybeDecrTo(9, 5)).toBe(false); // not next - 1: stale in probe
    expect(progress.maybeDecrTo(5, 1)).toBe(true);
    expect(progress.next).toBe(6); // never below match + 1
  });

  it('in snapshot state sends no appends; a successful snapshot resumes past it', () => {
    const progress = new Progress(3, false);
    progress.becomeSnapshot(20, 4);
    expect(progress.shouldSendAppend(30, 20)).toBe(false);
    (progress.snapshot as { finalSent: boolean }).finalSent = true;
    progress.becomeProbe();
    expect(progress.next).toBe(21);
  });
});

/** A 3-voter cluster led by 1, settled. */
function settledCluster(): Cluster {
  const cluster = new Cluster(7);
  const config = makeConfig(['1', '2', '3']);
  for (const id of ['1', '2', '3']) cluster.addNode(id, config, { preVote: false });
  cluster.node('1').campaign();
  cluster.stabilize();
  expect(cluster.node('1').status().role).toBe('leader');
  return cluster;
}

describe('flow control in a live leader', () => {
  it('bounds appends and bytes in flight to a silent follower, then catches it up', () => {
    const cluster = settledCluster();
    const leader = cluster.node('1');
    const payload = new Uint8Array(3000);
    for (let i = 0; i < 500; i++) expect(leader.propose(payload).ok).toBe(true);
    // Only 2 answers; 3 stays silent while the leader works through its backlog.
    for (let round = 0; round < 50; round++) {
      cluster.processReady('1');
      cluster.processReady('2');
      cluster.deliver(['1', '2']);
    }
    const toSilent = cluster.queue.filter((m) => m.to === '3' && m.type === 'append');
    expect(toSilent.length).toBeLessThanOrEqual(APPEND_MESSAGES_IN_FLIGHT_MAX);
    const bytes = toSilent.reduce((sum, m) => sum + (m.type === 'append' ? m.entries.reduce((s, e) => s + e.data.length, 0) : 0), 0);
    expect(bytes).toBeLessThanOrEqual(APPEND_BYTES_IN_FLIGHT_MAX + MESSAGE_BYTES_MAX);
    const progress = leader.status().progress?.find((p) => p.id === '3');
    expect(progress?.inflightMessages).toBe(toSilent.length);
    expect(leader.status().commit).toBe(leader.status().lastIndex); // 1 and 2 are a majority
    // 3 answers at last, and catches up completely.
    cluster.stabilize();
    expect(cluster.node('3').status().commit).toBe(leader.status().lastIndex);
    expect(cluster.violations).toEqual([]);
  });
});
