// Proves the simulated network's contract: delays stay in their range; loss, duplication and
// reordering happen at their configured rates and are counted; partitions block exactly the
// directions they name (two-way between groups, one-way cuts, nodes outside every group
// untouched) including messages already in flight; down nodes neither send nor receive; FIFO
// links never reorder; everything sent is accounted for; the same seed gives the same deliveries.

import { describe, expect, it } from 'vitest';
import { Prng } from '../core/prng.js';
import { testSeed, withSeed } from '../test-support/seed.js';
import { LINK_DEFAULT, type LinkConfig, SimNetwork } from './network.js';
import { Scheduler } from './scheduler.js';
import { TraceLog } from './trace.js';

interface Message {
  from: string;
  to: string;
  serial: number;
  sentAt: number;
}

const NODES = ['a', 'b', 'c', 'd', 'e'];

function setup(seed: number, link: Partial<LinkConfig> = {}, inFlightMax?: number) {
  const scheduler = new Scheduler();
  const delivered: (Message & { at: number })[] = [];
  const network = new SimNetwork<Message>({
    scheduler,
    prng: new Prng(seed),
    nodes: NODES,
    link: { ...LINK_DEFAULT, ...link },
    deliver: (message) => delivered.push({ ...message, at: scheduler.now() }),
    ...(inFlightMax === undefined ? {} : { inFlightMax }),
  });
  let serial = 0;
  const send = (from: string, to: string): void => network.send({ from, to, serial: serial++, sentAt: scheduler.now() });
  return { scheduler, network, delivered, send };
}

function accounted(network: SimNetwork<Message>): void {
  const counts = network.counters();
  expect(network.inFlight()).toBe(0);
  expect(counts.delivered + counts.droppedLoss + counts.droppedPartition + counts.droppedNodeDown + counts.droppedOverflow)
    .toBe(counts.sent + counts.duplicated);
}

describe('SimNetwork delays, loss, duplication, reordering', () => {
  it('delivers every message once, within its delay range, when nothing is injected', () => {
    const { scheduler, network, delivered, send } = setup(1, { delayMsMin: 3, delayMsMax: 9 });
    for (let index = 0; index < 500; index++) send(NODES[index % 5] as string, NODES[(index + 1) % 5] as string);
    scheduler.runUntilIdle();
    expect(delivered).toHaveLength(500);
    for (const message of delivered) expect(message.at - message.sentAt).toBeGreaterThanOrEqual(3);
    for (const message of delivered) expect(message.at - message.sentAt).toBeLessThanOrEqual(9);
    expect(new Set(delivered.map((message) => message.serial)).size).toBe(500);
    accounted(network);
  });

  it('loses, duplicates and reorders at the configured rates, and counts each', () => {
    withSeed('network rates', testSeed(), (prng) => {
      const { scheduler, network, delivered, send } = setup(prng.u32(), {
        lossProbability: 0.3, duplicateProbability: 0.2, reorderProbability: 0.25, reorderDelayMsMax: 50,
      });
      for (let index = 0; index < 4000; index++) send('a', 'b');
      scheduler.runUntilIdle();
      const counts = network.counters();
      expect(counts.droppedLoss / 4000).toBeGreaterThan(0.25);
      expect(counts.droppedLoss / 4000).toBeLessThan(0.35);
      // Duplication is drawn for lost messages too, but only a survivor's copy is counted.
      expect(counts.duplicated / (4000 - counts.droppedLoss)).toBeGreaterThan(0.15);
      expect(counts.duplicated / (4000 - counts.droppedLoss)).toBeLessThan(0.25);
      expect(counts.reordered).toBeGreaterThan(0);
      expect(delivered.length).toBe(4000 - counts.droppedLoss + counts.duplicated);
      accounted(network);
    });
  });

  it('delivers everything twice at duplication 1 and nothing at loss 1', () => {
    const twice = setup(2, { duplicateProbability: 1 });
    for (let index = 0; index < 10; index++) twice.send('a', 'b');
    twice.scheduler.runUntilIdle();
    expect(twice.delivered).toHaveLength(20);
    const never = setup(3, { lossProbability: 1 });
    for (let index = 0; index < 10; index++) never.send('a', 'b');
    never.scheduler.runUntilIdle();
    expect(never.delivered).toHaveLength(0);
    expect(never.network.counters().droppedLoss).toBe(10);
  });

  it('never reorders a FIFO link, and does reorder a jittery one', () => {
    const run = (fifo: boolean): number[] => {
      const { scheduler, delivered, send } = setup(4, { delayMsMin: 1, delayMsMax: 30, reorderProbability: 0.5, reorderDelayMsMax: 100, fifo });
      for (let index = 0; index < 200; index++) {
        send('a', 'b');
        scheduler.runUntil(scheduler.now() + 1);
      }
      scheduler.runUntilIdle();
      return delivered.map((message) => message.serial);
    };
    const inOrder = Array.from({ length: 200 }, (_, index) => index);
    expect(run(true)).toEqual(inOrder);
    expect(run(false)).not.toEqual(inOrder);
  });

  it('drops beyond its in-flight bound, and counts it', () => {
    const { scheduler, network, send } = setup(5, {}, 10);
    for (let index = 0; index < 15; index++) send('a', 'b');
    expect(network.counters().droppedOverflow).toBe(5);
    scheduler.runUntilIdle();
    accounted(network);
  });
});

describe('SimNetwork partitions', () => {
  /** The directed links that can carry a message, as "ab" strings. */
  function reachable(network: SimNetwork<Message>): string[] {
    const links: string[] = [];
    for (const from of NODES) for (const to of NODES) if (from !== to && network.canSend(from, to)) links.push(from + to);
    return links;
  }

  it('cuts exactly the links between groups, both ways, and leaves unlisted nodes alone', () => {
    const { network } = setup(6);
    network.partition([['a', 'b'], ['c', 'd']]);
    expect(reachable(network)).toEqual(['ab', 'ae', 'ba', 'be', 'cd', 'ce', 'dc', 'de', 'ea', 'eb', 'ec', 'ed']);
    network.heal();
    expect(reachable(network)).toHaveLength(20);
  });

  it('cuts one way only: a reaches b, b does not reach a', () => {
    const { scheduler, network, delivered, send } = setup(7);
    network.cutOneWay('b', 'a');
    expect(network.canSend('a', 'b')).toBe(true);
    expect(network.canSend('b', 'a')).toBe(false);
    send('a', 'b');
    send('b', 'a');
    scheduler.runUntilIdle();
    expect(delivered.map((message) => message.from + message.to)).toEqual(['ab']);
    expect(network.counters().droppedPartition).toBe(1);
    network.cutOneWayBetween(['a', 'b'], ['c']);
    // a->c and b->c are cut now; c still reaches both, and d and e are untouched.
    expect(reachable(network).filter((link) => link.includes('c'))).toEqual(['ca', 'cb', 'cd', 'ce', 'dc', 'ec']);
  });

  it('isolates one node both ways', () => {
    const { network } = setup(8);
    network.isolate('c');
    expect(reachable(network).filter((link) => link.includes('c'))).toEqual([]);
    expect(reachable(network)).toHaveLength(12);
  });

  it('drops a message in flight when a cut happens before it arrives, and keeps it after a heal', () => {
    const { scheduler, network, delivered, send } = setup(9, { delayMsMin: 10, delayMsMax: 10 });
    send('a', 'b');
    scheduler.runUntil(5);
    network.partition([['a'], ['b']]);
    scheduler.runUntilIdle();
    expect(delivered).toHaveLength(0);
    send('c', 'd');
    scheduler.runUntil(scheduler.now() + 5);
    network.cutOneWay('c', 'd');
    network.heal(); // healed before it arrives
    scheduler.runUntilIdle();
    expect(delivered.map((message) => message.from + message.to)).toEqual(['cd']);
    accounted(network);
  });

  it('refuses a node in two groups', () => {
    const { network } = setup(10);
    expect(() => network.partition([['a', 'b'], ['b', 'c']])).toThrow(/one group only/);
  });
});

describe('SimNetwork down nodes and membership', () => {
  it('drops sends from and to a down node, and in-flight messages to it; what it sent still arrives', () => {
    const { scheduler, network, delivered, send } = setup(11, { delayMsMin: 10, delayMsMax: 10 });
    send('a', 'b'); // a goes down while this is on the wire: it arrives
    send('c', 'a'); // to a: dropped at arrival
    scheduler.runUntil(5);
    network.setNodeUp('a', false);
    send('a', 'c');
    send('d', 'a');
    scheduler.runUntilIdle();
    expect(delivered.map((message) => message.from + message.to)).toEqual(['ab']);
    expect(network.counters().droppedNodeDown).toBe(3);
    network.setNodeUp('a', true);
    send('d', 'a');
    scheduler.runUntilIdle();
    expect(delivered.map((message) => message.from + message.to)).toEqual(['ab', 'da']);
    accounted(network);
  });

  it('adds and removes nodes (churn)', () => {
    const { scheduler, network, delivered, send } = setup(12);
    network.addNode('f');
    send('f', 'a');
    network.cutOneWay('a', 'f');
    network.removeNode('f');
    expect(() => send('a', 'f')).toThrow(/on the network/);
    scheduler.runUntilIdle();
    expect(delivered.map((message) => message.from + message.to)).toEqual(['fa']);
    expect(() => network.addNode('a')).toThrow(/not already/);
  });
});

describe('SimNetwork determinism', () => {
  it('gives the same deliveries for the same seed, and others for another', () => {
    withSeed('network determinism', testSeed(), (prng) => {
      const seed = prng.u32();
      const run = (runSeed: number): string => {
        const trace = new TraceLog();
        const { scheduler, network, delivered, send } = setup(runSeed, {
          lossProbability: 0.1, duplicateProbability: 0.1, reorderProbability: 0.2, reorderDelayMsMax: 20,
        });
        const traffic = new Prng(runSeed ^ 0x5eed);
        for (let index = 0; index < 300; index++) {
          const from = traffic.pick(NODES);
          send(from, traffic.pick(NODES.filter((node) => node !== from)));
          if (index === 100) network.partition([['a', 'b'], ['c', 'd', 'e']]);
          if (index === 200) network.heal();
          scheduler.runUntil(scheduler.now() + traffic.int(0, 3));
        }
        scheduler.runUntilIdle();
        for (const message of delivered) trace.record(`${message.at} ${message.from}->${message.to} #${message.serial}`);
        return `${trace.digest()} ${JSON.stringify(network.counters())}`;
      };
      const first = run(seed);
      expect(run(seed)).toBe(first);
      expect(run(seed + 1)).not.toBe(first);
    });
  });
});
