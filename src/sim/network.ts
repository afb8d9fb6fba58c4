/**
 * A simulated network between nodes named by strings, carrying opaque messages `{ from, to, … }`.
 *
 * Per directed link: a delay drawn from [delayMsMin, delayMsMax], loss, duplication (the copy
 * takes its own delay) and reordering (an extra random delay on some messages); or `fifo`, where
 * a link never reorders (a data channel is reliable and ordered: set loss and duplication to 0 to
 * model one). Links can be cut in one direction (A reaches B, B does not reach A) or between
 * groups (a partition); `heal` restores them all. A cut drops messages when sent and also those
 * already in flight when they arrive (a cut cable loses what it carried). A node marked down
 * (crashed) neither sends nor receives; what it sent before going down still arrives (it was on
 * the wire), so a restarted node's peers may hear its previous incarnation late.
 *
 * Every random choice comes from the Prng passed in, in the order of `send` calls, so a seed
 * replays the same deliveries. Counters record everything injected, for figures and for tests.
 * Messages are delivered by reference: a receiver must not mutate one (a duplicate is the same
 * object).
 */

import { assert } from '../core/assert.js';
import type { Prng } from '../core/prng.js';
import type { Scheduler } from './scheduler.js';

/** Messages in flight at once. Raft with pipelining keeps a bounded window per follower (a few
 *  hundred entries in a handful of messages) and clients add one request each; 100,000 is far
 *  beyond any sane run. Beyond it messages are dropped (a legal network behaviour) and counted
 *  in `droppedOverflow`, which a test should expect to stay 0. */
export const NETWORK_IN_FLIGHT_MAX = 100_000;

/** The most nodes one simulated network connects (7 voters, observers, clients, joiners). */
export const NETWORK_NODES_MAX = 256;

export interface Envelope {
  readonly from: string;
  readonly to: string;
}

export interface LinkConfig {
  /** Integers, 0 <= min <= max. */
  readonly delayMsMin: number;
  readonly delayMsMax: number;
  readonly lossProbability: number;
  readonly duplicateProbability: number;
  /** The chance that a message gets an extra delay in [0, reorderDelayMsMax]. */
  readonly reorderProbability: number;
  readonly reorderDelayMsMax: number;
  /** Never reorder on this link: each delivery is at or after the previous one's. */
  readonly fifo: boolean;
}

/** A quiet LAN-like default: 1-5 ms, nothing lost, duplicated or reordered beyond the jitter. */
export const LINK_DEFAULT: LinkConfig = Object.freeze({
  delayMsMin: 1,
  delayMsMax: 5,
  lossProbability: 0,
  duplicateProbability: 0,
  reorderProbability: 0,
  reorderDelayMsMax: 0,
  fifo: false,
});

export interface NetworkCounters {
  sent: number;
  delivered: number;
  droppedLoss: number;
  /** Dropped because a cut blocked the link, at send or at arrival. */
  droppedPartition: number;
  /** Dropped because the sender was down at send, or the receiver at send or at arrival. */
  droppedNodeDown: number;
  droppedOverflow: number;
  duplicated: number;
  reordered: number;
  partitionsStarted: number;
  linksCut: number;
  heals: number;
}

export interface NetworkOptions<M extends Envelope> {
  scheduler: Scheduler;
  prng: Prng;
  nodes: readonly string[];
  /** Every link starts with this (LINK_DEFAULT by default). */
  link?: LinkConfig;
  deliver: (message: M) => void;
  /** At most NETWORK_IN_FLIGHT_MAX. */
  inFlightMax?: number;
}

function assertLink(config: LinkConfig): void {
  assert(Number.isInteger(config.delayMsMin) && config.delayMsMin >= 0, 'delayMsMin is a non-negative integer');
  assert(Number.isInteger(config.delayMsMax) && config.delayMsMax >= config.delayMsMin, 'delayMsMax is an integer >= delayMsMin');
  assert(Number.isInteger(config.reorderDelayMsMax) && config.reorderDelayMsMax >= 0, 'reorderDelayMsMax is a non-negative integer');
  for (const [name, p] of [
    ['lossProbability', config.lossProbability],
    ['duplicateProbability', config.duplicateProbability],
    ['reorderProbability', config.reorderProbability],
  ] as const) {
    assert(p >= 0 && p <= 1, `${name} in [0, 1]`);
  }
}

const linkKey = (from: string, to: string): string => `${from}\u0000${to}`;

export class SimNetwork<M extends Envelope> {
  private readonly scheduler: Scheduler;
  private readonly prng: Prng;
  private readonly deliverTo: (message: M) => void;
  private readonly inFlightMax: number;
  private readonly members = new Set<string>();
  private readonly down = new Set<string>();
  private baseLink: LinkConfig;
  private readonly links = new Map<string, LinkConfig>();
  private readonly cut = new Set<string>();
  /** For fifo links: the time of the last delivery scheduled. */
  private readonly lastArrival = new Map<string, number>();
  private inFlightCount = 0;
  private readonly counts: NetworkCounters = {
    sent: 0,
    delivered: 0,
    droppedLoss: 0,
    droppedPartition: 0,
    droppedNodeDown: 0,
    droppedOverflow: 0,
    duplicated: 0,
    reordered: 0,
    partitionsStarted: 0,
    linksCut: 0,
    heals: 0,
  };

  constructor(options: NetworkOptions<M>) {
    const inFlightMax = options.inFlightMax ?? NETWORK_IN_FLIGHT_MAX;
    assert(Number.isInteger(inFlightMax) && inFlightMax >= 1, 'inFlightMax is a positive integer');
    assert(inFlightMax <= NETWORK_IN_FLIGHT_MAX, 'inFlightMax <= NETWORK_IN_FLIGHT_MAX');
    this.scheduler = options.scheduler;
    this.prng = options.prng;
    this.deliverTo = options.deliver;
    this.inFlightMax = inFlightMax;
    this.baseLink = options.link ?? LINK_DEFAULT;
    assertLink(this.baseLink);
    for (const node of options.nodes) this.addNode(node);
  }

  nodes(): string[] {
    return [...this.members];
  }

  /** A node joins (churn); its links take the base configuration. */
  addNode(node: string): void {
    assert(!this.members.has(node), `node ${node} is not already on the network`);
    assert(this.members.size < NETWORK_NODES_MAX, `at most ${NETWORK_NODES_MAX} nodes`);
    this.members.add(node);
  }

  /** A node leaves for good: its links, cuts and down mark go; messages to it in flight drop. */
  removeNode(node: string): void {
    this.assertMember(node);
    this.members.delete(node);
    this.down.delete(node);
    for (const key of [...this.links.keys(), ...this.cut]) {
      const [from, to] = key.split('\u0000');
      if (from === node || to === node) {
        this.links.delete(key);
        this.cut.delete(key);
      }
    }
  }

  /** Sends a message; its fate (delay, loss, duplication) is drawn now. */
  send(message: M): void {
    const { from, to } = message;
    this.assertMember(from);
    this.assertMember(to);
    assert(from !== to, 'a node does not send to itself over the network');
    this.counts.sent += 1;
    if (this.down.has(from) || this.down.has(to)) {
      this.counts.droppedNodeDown += 1;
      return;
    }
    if (this.cut.has(linkKey(from, to))) {
      this.counts.droppedPartition += 1;
      return;
    }
    const link = this.linkConfig(from, to);
    // Draw every random choice for this send, always in the same order, so that a change in one
    // probability does not shift the draws of the others.
    const lost = this.prng.chance(link.lossProbability);
    const duplicated = this.prng.chance(link.duplicateProbability);
    const first = this.drawDelay(link);
    const second = this.drawDelay(link);
    if (lost) {
      this.counts.droppedLoss += 1;
      return;
    }
    this.dispatch(message, link, first);
    if (duplicated) {
      this.counts.duplicated += 1;
      this.dispatch(message, link, second);
    }
  }

  /** Whether a message sent now from `from` would get past cuts and down nodes. */
  canSend(from: string, to: string): boolean {
    this.assertMember(from);
    this.assertMember(to);
    return !this.down.has(from) && !this.down.has(to) && !this.cut.has(linkKey(from, to));
  }

  /** Cuts the link from `from` to `to` only (the other direction keeps working). */
  cutOneWay(from: string, to: string): void {
    this.assertMember(from);
    this.assertMember(to);
    assert(from !== to, 'a link joins two nodes');
    const key = linkKey(from, to);
    if (!this.cut.has(key)) this.counts.linksCut += 1;
    this.cut.add(key);
  }

  /** Restores the link from `from` to `to`. */
  restoreOneWay(from: string, to: string): void {
    this.assertMember(from);
    this.assertMember(to);
    this.cut.delete(linkKey(from, to));
  }

  /** Cuts every link from a node in `from` to a node in `to` (one way). */
  cutOneWayBetween(from: readonly string[], to: readonly string[]): void {
    for (const source of from) for (const target of to) if (source !== target) this.cutOneWay(source, target);
  }

  /**
   * Partitions the network: nodes in different groups cannot reach each other either way. A node
   * is in one group at most; a node in no group keeps its links (clients, say). Adds to existing
   * cuts; `heal` first for a fresh topology.
   */
  partition(groups: readonly (readonly string[])[]): void {
    const seen = new Set<string>();
    for (const group of groups) {
      for (const node of group) {
        this.assertMember(node);
        assert(!seen.has(node), `partition: ${node} is in one group only`);
        seen.add(node);
      }
    }
    this.counts.partitionsStarted += 1;
    groups.forEach((group, index) => {
      groups.forEach((other, otherIndex) => {
        if (index !== otherIndex) this.cutOneWayBetween(group, other);
      });
    });
  }

  /** Cuts a node off from every other, both ways. */
  isolate(node: string): void {
    this.partition([[node], this.nodes().filter((other) => other !== node)]);
  }

  /** Restores every cut link (link configurations and down nodes stay as they are). */
  heal(): void {
    this.cut.clear();
    this.counts.heals += 1;
  }

  /** Marks a node down (crashed) or up again. */
  setNodeUp(node: string, up: boolean): void {
    this.assertMember(node);
    if (up) this.down.delete(node);
    else this.down.add(node);
  }

  isNodeUp(node: string): boolean {
    this.assertMember(node);
    return !this.down.has(node);
  }

  /** Changes the configuration of one directed link. */
  configureLink(from: string, to: string, change: Partial<LinkConfig>): void {
    this.assertMember(from);
    this.assertMember(to);
    const next = { ...this.linkConfig(from, to), ...change };
    assertLink(next);
    this.links.set(linkKey(from, to), next);
  }

  /** Changes the configuration of every link (the per-link overrides are dropped). */
  configureAllLinks(change: Partial<LinkConfig>): void {
    const next = { ...this.baseLink, ...change };
    assertLink(next);
    this.baseLink = next;
    this.links.clear();
  }

  linkConfig(from: string, to: string): LinkConfig {
    return this.links.get(linkKey(from, to)) ?? this.baseLink;
  }

  inFlight(): number {
    return this.inFlightCount;
  }

  counters(): Readonly<NetworkCounters> {
    return { ...this.counts };
  }

  private drawDelay(link: LinkConfig): { delay: number; extra: number } {
    const delay = this.prng.int(link.delayMsMin, link.delayMsMax);
    const reorder = this.prng.chance(link.reorderProbability);
    const extra = this.prng.int(0, link.reorderDelayMsMax);
    return { delay, extra: reorder && !link.fifo ? extra : 0 };
  }

  private dispatch(message: M, link: LinkConfig, drawn: { delay: number; extra: number }): void {
    if (this.inFlightCount >= this.inFlightMax) {
      this.counts.droppedOverflow += 1;
      return;
    }
    const key = linkKey(message.from, message.to);
    let arrival = this.scheduler.now() + drawn.delay + drawn.extra;
    if (drawn.extra > 0) this.counts.reordered += 1;
    if (link.fifo) {
      arrival = Math.max(arrival, this.lastArrival.get(key) ?? arrival);
      this.lastArrival.set(key, arrival);
    }
    this.inFlightCount += 1;
    this.scheduler.scheduleAt(arrival, `net ${message.from}->${message.to}`, () => this.arrive(message));
  }

  private arrive(message: M): void {
    this.inFlightCount -= 1;
    const { from, to } = message;
    if (!this.members.has(to) || this.down.has(to)) {
      this.counts.droppedNodeDown += 1;
      return;
    }
    if (this.cut.has(linkKey(from, to))) {
      this.counts.droppedPartition += 1;
      return;
    }
    this.counts.delivered += 1;
    this.deliverTo(message);
  }

  private assertMember(node: string): void {
    assert(this.members.has(node), `node ${node} is on the network`);
  }
}
