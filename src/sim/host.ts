/**
 * One simulated node's machinery, wired so that faults mean the same thing everywhere: its thread
 * (NodeProcess), its tick source (NodeClock) and its disk (SimStorage), and its presence on the
 * network. The Raft driver builds one SimHost per peer and runs all of a peer's work through it.
 *
 * - crash: the thread stops (waiting work dropped, later work of that life dropped), ticks stop,
 *   pending writes are lost, the network marks the node down.
 * - restart: a new incarnation starts from exactly the durable state (`onStart`), ticking again.
 * - pause / resume: a frozen tab; nothing runs, work waits and then runs in order, one overdue
 *   tick fires on resume, fsyncs complete meanwhile but their callbacks wait too.
 *
 * ClusterFaultTarget applies a fault schedule (faults.ts) to a network and its hosts.
 */

import { assert } from '../core/assert.js';
import { NodeClock } from './clock.js';
import type { FaultTarget } from './faults.js';
import type { Envelope, LinkConfig, SimNetwork } from './network.js';
import { NodeProcess } from './process.js';
import type { EventId, Scheduler } from './scheduler.js';
import type { SimStorage, StorageState } from './storage.js';

/** What a host needs of the network (any message type). */
export type NetworkPresence = Pick<SimNetwork<Envelope>, 'setNodeUp'>;

/** What the fault target needs of the network (any message type). */
export type NetworkControl = Pick<
  SimNetwork<Envelope>,
  'heal' | 'partition' | 'cutOneWayBetween' | 'configureAllLinks' | 'linkConfig' | 'nodes'
>;

/** What the fault target needs of a host (any record and value types). */
export type HostControl = Pick<SimHost<unknown, unknown>, 'name' | 'process' | 'clock' | 'crash' | 'restart' | 'pause' | 'resume'>;

export interface SimHostOptions<Record, Value> {
  scheduler: Scheduler;
  network: NetworkPresence;
  storage: SimStorage<Record, Value>;
  name: string;
  tickMs: number;
  driftRatio?: number;
  /** Builds the node: at `start` and after each restart, from the durable state. */
  onStart: (durable: StorageState<Record, Value>, incarnation: number) => void;
  onTick: () => void;
}

export class SimHost<Record, Value> {
  readonly name: string;
  readonly process: NodeProcess;
  readonly clock: NodeClock;
  readonly storage: SimStorage<Record, Value>;
  private readonly scheduler: Scheduler;
  private readonly network: NetworkPresence;
  private readonly onStart: (durable: StorageState<Record, Value>, incarnation: number) => void;
  private started = false;

  constructor(options: SimHostOptions<Record, Value>) {
    this.name = options.name;
    this.scheduler = options.scheduler;
    this.network = options.network;
    this.storage = options.storage;
    this.onStart = options.onStart;
    this.process = new NodeProcess(options.name);
    const onTick = options.onTick;
    this.clock = new NodeClock({
      scheduler: options.scheduler,
      name: options.name,
      tickMs: options.tickMs,
      driftRatio: options.driftRatio ?? 0,
      onTick: () => this.process.run(onTick),
    });
  }

  /** Boots the node for the first time. */
  start(): void {
    assert(!this.started, `start: ${this.name} starts once (then restart)`);
    this.started = true;
    this.network.setNodeUp(this.name, true);
    this.clock.start();
    this.onStart(this.storage.durableState(), this.process.incarnation());
  }

  /** Runs work on the node (a delivered message, a client request): now, later or never. */
  run(work: () => void): 'ran' | 'deferred' | 'dropped' {
    return this.process.run(work);
  }

  /** A node-local timer (not a tick): belongs to this incarnation, waits while paused. */
  timer(delayMs: number, label: string, work: () => void): EventId {
    return this.scheduler.schedule(delayMs, `${label} ${this.name}`, this.process.bind(work));
  }

  /** Syncs the node's storage; `onDurable` runs on the node (waits while paused, never after a
   *  crash). */
  sync(onDurable: () => void): void {
    this.storage.sync(this.process.bind(onDurable));
  }

  crash(options: { keepPendingBatches?: number } = {}): void {
    this.process.crash();
    this.clock.stop();
    this.storage.crash(options);
    this.network.setNodeUp(this.name, false);
  }

  restart(): void {
    this.process.restart();
    this.network.setNodeUp(this.name, true);
    this.clock.start();
    this.onStart(this.storage.durableState(), this.process.incarnation());
  }

  pause(): void {
    this.process.pause();
    this.clock.pause();
  }

  resume(): void {
    this.clock.resume(); // the overdue tick is queued at the current time, after the waiting work
    this.process.resume();
  }
}

export interface ClusterFaultTargetOptions {
  network: NetworkControl;
  hosts: ReadonlyMap<string, HostControl>;
  /** Churn placeholders: what a join or a leave does (nothing by default). */
  onJoin?: (node: string) => void;
  onLeave?: (node: string) => void;
}

/** Applies faults to a network and its hosts. Bursts set every link's probability and restore
 *  the links' settings from when the burst started. */
export class ClusterFaultTarget implements FaultTarget {
  private readonly network: NetworkControl;
  private readonly hosts: ReadonlyMap<string, HostControl>;
  private readonly onJoin: (node: string) => void;
  private readonly onLeave: (node: string) => void;
  private lossBefore: LinkConfig['lossProbability'] | null = null;
  private duplicateBefore: LinkConfig['duplicateProbability'] | null = null;

  constructor(options: ClusterFaultTargetOptions) {
    this.network = options.network;
    this.hosts = options.hosts;
    this.onJoin = options.onJoin ?? (() => undefined);
    this.onLeave = options.onLeave ?? (() => undefined);
  }

  partition(groups: readonly (readonly string[])[]): void {
    this.network.heal();
    this.network.partition(groups);
  }

  partitionOneWay(from: readonly string[], to: readonly string[]): void {
    this.network.heal();
    this.network.cutOneWayBetween(from, to);
  }

  heal(): void {
    this.network.heal();
  }

  crash(node: string): void {
    this.host(node).crash();
  }

  restart(node: string): void {
    this.host(node).restart();
  }

  pause(node: string): void {
    this.host(node).pause();
  }

  resume(node: string): void {
    this.host(node).resume();
  }

  lossBurst(probability: number | null): void {
    const someLink = this.someLink();
    if (probability !== null) {
      this.lossBefore ??= someLink.lossProbability;
      this.network.configureAllLinks({ lossProbability: probability });
    } else if (this.lossBefore !== null) {
      this.network.configureAllLinks({ lossProbability: this.lossBefore });
      this.lossBefore = null;
    }
  }

  duplicateBurst(probability: number | null): void {
    const someLink = this.someLink();
    if (probability !== null) {
      this.duplicateBefore ??= someLink.duplicateProbability;
      this.network.configureAllLinks({ duplicateProbability: probability });
    } else if (this.duplicateBefore !== null) {
      this.network.configureAllLinks({ duplicateProbability: this.duplicateBefore });
      this.duplicateBefore = null;
    }
  }

  clockDrift(node: string, ratio: number): void {
    this.host(node).clock.setDrift(ratio);
  }

  join(node: string): void {
    this.onJoin(node);
  }

  leave(node: string): void {
    this.onLeave(node);
  }

  healAll(): void {
    this.network.heal();
    this.lossBurst(null);
    this.duplicateBurst(null);
    for (const host of this.hosts.values()) {
      const state = host.process.state();
      if (state === 'paused') host.resume();
      if (state === 'crashed') host.restart();
    }
  }

  private host(node: string): HostControl {
    const host = this.hosts.get(node);
    assert(host !== undefined, `a host named ${node}`);
    return host;
  }

  /** The base link settings (every link has them between bursts, as configureAllLinks sets). */
  private someLink(): LinkConfig {
    const [first, second] = this.network.nodes();
    assert(first !== undefined && second !== undefined, 'a network of two nodes at least');
    return this.network.linkConfig(first, second);
  }
}
