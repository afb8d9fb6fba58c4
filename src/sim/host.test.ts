// Proves that the simulator's pieces compose into consistent node faults, on a toy protocol
// (each node counts its ticks, persists the count, and gossips it once durable; receivers keep
// the maximum): a paused node runs nothing, then handles what waited in order; a crash loses
// exactly the unsynced writes and the old incarnation's callbacks, and a restart resumes from the
// durable state; ClusterFaultTarget applies a whole chaos schedule; and the same seed replays the
// same run (identical trace digest) while the quiet phase after 'heal-all' lets every node
// converge (the shape of the liveness checks to come).

import { describe, expect, it } from 'vitest';
import { Prng } from '../core/prng.js';
import { testSeed, withSeed } from '../test-support/seed.js';
import { FAULT_PROFILES, generateFaultSchedule, scheduleFaults } from './faults.js';
import { ClusterFaultTarget, SimHost } from './host.js';
import { LINK_DEFAULT, SimNetwork } from './network.js';
import { Scheduler } from './scheduler.js';
import { SimStorage } from './storage.js';
import { TraceLog, formatTime } from './trace.js';

interface Gossip {
  from: string;
  to: string;
  count: number;
}

interface ToyNode {
  count: number;
  handled: string[];
}

function toyCluster(seed: number, names: readonly string[] = ['a', 'b', 'c']) {
  const prng = new Prng(seed);
  const trace = new TraceLog();
  const scheduler = new Scheduler({ onEvent: (entry) => trace.record(`${formatTime(entry.time)} ${entry.label}`) });
  const hosts = new Map<string, SimHost<number, number>>();
  const nodes = new Map<string, ToyNode>();
  const network = new SimNetwork<Gossip>({
    scheduler,
    prng: prng.fork(),
    nodes: names,
    link: { ...LINK_DEFAULT, delayMsMin: 1, delayMsMax: 20 },
    deliver: (message) => {
      hosts.get(message.to)?.run(() => {
        const node = nodes.get(message.to) as ToyNode;
        node.handled.push(`${message.from}:${message.count}`);
        node.count = Math.max(node.count, message.count);
      });
    },
  });
  for (const name of names) {
    const storage = new SimStorage<number, number>({ scheduler, prng: prng.fork(), name, fsyncDelayMsMin: 1, fsyncDelayMsMax: 10 });
    const host: SimHost<number, number> = new SimHost<number, number>({
      scheduler,
      network,
      storage,
      name,
      tickMs: 50,
      onStart: (durable) => {
        nodes.set(name, { count: durable.records[durable.records.length - 1] ?? 0, handled: [] });
      },
      onTick: () => {
        const node = nodes.get(name) as ToyNode;
        node.count += 1;
        const count = node.count;
        storage.write([{ kind: 'append', records: [count] }]);
        host.sync(() => {
          for (const peer of names) if (peer !== name) network.send({ from: name, to: peer, count });
        });
      },
    });
    hosts.set(name, host);
  }
  for (const host of hosts.values()) host.start();
  const node = (name: string): ToyNode => nodes.get(name) as ToyNode;
  const host = (name: string): SimHost<number, number> => hosts.get(name) as SimHost<number, number>;
  return { scheduler, network, hosts, node, host, trace };
}

describe('SimHost faults', () => {
  it('runs nothing on a paused node, then what waited, in order, and one overdue tick', () => {
    const { scheduler, node, host } = toyCluster(1);
    scheduler.runUntil(120);
    const before = { count: node('b').count, handled: node('b').handled.length, ticks: host('b').clock.ticks() };
    host('b').pause();
    scheduler.runUntil(2_000);
    expect(node('b').handled.length).toBe(before.handled);
    expect(host('b').clock.ticks()).toBe(before.ticks);
    const waiting = host('b').process.counters().deferred;
    expect(waiting).toBeGreaterThan(20);
    host('b').resume();
    expect(node('b').handled.length).toBe(before.handled + waiting);
    // Gossip from each peer arrives in its own order: the counts it carried increase.
    for (const peer of ['a', 'c']) {
      const counts = node('b').handled.filter((entry) => entry.startsWith(`${peer}:`)).map((entry) => Number(entry.slice(2)));
      expect(counts).toEqual([...counts].sort((x, y) => x - y));
    }
    scheduler.runUntil(2_000); // the overdue tick, at the resume instant
    expect(host('b').clock.ticks()).toBe(before.ticks + 1);
  });

  it('loses exactly the unsynced writes in a crash and restarts from the durable state', () => {
    const { scheduler, node, host } = toyCluster(2);
    scheduler.runUntil(500);
    const storage = host('a').storage;
    const durableBefore = storage.durableState().records.length;
    storage.write([{ kind: 'append', records: [999] }]); // never synced
    let oldCallbackRan = false;
    host('a').sync(() => (oldCallbackRan = true));
    host('a').crash();
    scheduler.runUntil(1_000);
    expect(oldCallbackRan).toBe(false);
    expect(storage.durableState().records).not.toContain(999);
    expect(storage.durableState().records.length).toBeGreaterThanOrEqual(durableBefore - 1);
    const durableCount = storage.durableState().records.at(-1) ?? 0;
    host('a').restart();
    expect(node('a').count).toBe(durableCount);
    expect(host('a').process.incarnation()).toBe(1);
    scheduler.runUntil(1_500);
    expect(node('a').count).toBeGreaterThan(durableCount);
  });
});

describe('ClusterFaultTarget', () => {
  it('restores link settings after a burst, and heals everything on heal-all', () => {
    const { network, host, hosts } = toyCluster(3);
    const target = new ClusterFaultTarget({ network, hosts });
    target.lossBurst(0.5);
    expect(network.linkConfig('a', 'b').lossProbability).toBe(0.5);
    target.lossBurst(null);
    expect(network.linkConfig('a', 'b').lossProbability).toBe(0);
    target.partitionOneWay(['a'], ['b']);
    expect(network.canSend('a', 'b')).toBe(false);
    expect(network.canSend('b', 'a')).toBe(true);
    target.crash('a');
    target.pause('c');
    target.duplicateBurst(1);
    target.healAll();
    expect(host('a').process.state()).toBe('running');
    expect(host('c').process.state()).toBe('running');
    expect(network.canSend('a', 'b')).toBe(true);
    expect(network.linkConfig('a', 'b').duplicateProbability).toBe(0);
  });
});

describe('a whole simulated run', () => {
  function run(seed: number) {
    const cluster = toyCluster(seed, ['a', 'b', 'c', 'd', 'e']);
    const schedule = generateFaultSchedule({ seed, nodes: ['a', 'b', 'c', 'd', 'e'], profile: { ...FAULT_PROFILES.chaos, faultsUntilMs: 20_000 } });
    scheduleFaults(cluster.scheduler, schedule, new ClusterFaultTarget({ network: cluster.network, hosts: cluster.hosts }));
    cluster.scheduler.runUntil(schedule.quietFromMs);
    cluster.scheduler.runUntil(schedule.quietFromMs + 1_000); // the quiet phase
    return { cluster, schedule };
  }

  it('replays identically from its seed, and converges once faults stop', () => {
    withSeed('whole simulated run', testSeed(), (prng) => {
      const seed = prng.u32() | 0;
      const first = run(seed);
      const again = run(seed);
      expect(again.cluster.trace.digest()).toBe(first.cluster.trace.digest());
      expect(again.cluster.network.counters()).toEqual(first.cluster.network.counters());
      expect(run(seed + 1).cluster.trace.digest()).not.toBe(first.cluster.trace.digest());
      // Faults did happen.
      expect(first.schedule.events.length).toBeGreaterThan(5);
      // After the quiet phase every node is up, and all counts are within a gossip round.
      const counts = ['a', 'b', 'c', 'd', 'e'].map((name) => first.cluster.node(name).count);
      for (const name of ['a', 'b', 'c', 'd', 'e']) expect(first.cluster.host(name).process.state()).toBe('running');
      expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(2);
    });
  });
});
