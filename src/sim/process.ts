/**
 * A node's thread of execution in the simulator: everything that runs "on" a node (a delivered
 * message, a tick, an fsync completion, a client request) goes through its NodeProcess.
 *
 * - running: the work runs now.
 * - paused (a frozen tab): the work waits, in order, and runs when the node resumes, with the
 *   node's old state (the browser buffers what arrived for a frozen page).
 * - crashed: the work is dropped; so is work that was waiting. `restart` starts a new
 *   incarnation, and work bound to an older incarnation (its timers, its fsync callbacks) is
 *   dropped even if it comes due later.
 */

import { assert } from '../core/assert.js';

/** Work waiting on a paused node. A frozen tab's inbound data channel buffers are bounded too;
 *  at a few hundred messages a second, 10,000 is a pause of tens of seconds. Beyond it work is
 *  dropped (as a browser would close an overflowing channel) and counted. */
export const PROCESS_DEFERRED_MAX = 10_000;

export type ProcessState = 'running' | 'paused' | 'crashed';

export interface ProcessCounters {
  ran: number;
  deferred: number;
  replayed: number;
  droppedCrashed: number;
  droppedStale: number;
  droppedOverflow: number;
  pauses: number;
  crashes: number;
  restarts: number;
}

export class NodeProcess {
  readonly name: string;
  private current: ProcessState = 'running';
  private incarnationNumber = 0;
  private readonly deferredMax: number;
  private readonly waiting: (() => void)[] = [];
  private readonly counts: ProcessCounters = {
    ran: 0,
    deferred: 0,
    replayed: 0,
    droppedCrashed: 0,
    droppedStale: 0,
    droppedOverflow: 0,
    pauses: 0,
    crashes: 0,
    restarts: 0,
  };

  constructor(name: string, deferredMax: number = PROCESS_DEFERRED_MAX) {
    assert(Number.isInteger(deferredMax) && deferredMax >= 0, 'deferredMax is a non-negative integer');
    assert(deferredMax <= PROCESS_DEFERRED_MAX, 'deferredMax <= PROCESS_DEFERRED_MAX');
    this.name = name;
    this.deferredMax = deferredMax;
  }

  state(): ProcessState {
    return this.current;
  }

  /** Starts at 0; one more at each restart. */
  incarnation(): number {
    return this.incarnationNumber;
  }

  /** Runs `work` on this node now, later (paused) or never (crashed). */
  run(work: () => void): 'ran' | 'deferred' | 'dropped' {
    switch (this.current) {
      case 'running':
        this.counts.ran += 1;
        work();
        return 'ran';
      case 'paused':
        if (this.waiting.length >= this.deferredMax) {
          this.counts.droppedOverflow += 1;
          return 'dropped';
        }
        this.waiting.push(work);
        this.counts.deferred += 1;
        return 'deferred';
      case 'crashed':
        this.counts.droppedCrashed += 1;
        return 'dropped';
    }
  }

  /** `work` bound to this incarnation: when called later, it runs through `run`, unless the node
   *  restarted in between (then it belonged to a previous life and is dropped). */
  bind(work: () => void): () => void {
    const incarnation = this.incarnationNumber;
    return () => {
      if (incarnation !== this.incarnationNumber) {
        this.counts.droppedStale += 1;
        return;
      }
      this.run(work);
    };
  }

  pause(): void {
    assert(this.current === 'running', `pause: ${this.name} is running`);
    this.current = 'paused';
    this.counts.pauses += 1;
  }

  /** Resumes, running the waiting work now, in the order it arrived. */
  resume(): void {
    assert(this.current === 'paused', `resume: ${this.name} is paused`);
    this.current = 'running';
    const work = this.waiting.splice(0);
    for (const item of work) {
      // Work may crash or pause the node again; what is left then waits or drops accordingly.
      if (this.current === 'running') {
        this.counts.replayed += 1;
        item();
      } else {
        this.run(item);
      }
    }
  }

  crash(): void {
    assert(this.current !== 'crashed', `crash: ${this.name} is not already crashed`);
    this.counts.droppedCrashed += this.waiting.length;
    this.waiting.length = 0;
    this.current = 'crashed';
    this.counts.crashes += 1;
  }

  restart(): void {
    assert(this.current === 'crashed', `restart: ${this.name} is crashed`);
    this.current = 'running';
    this.incarnationNumber += 1;
    this.counts.restarts += 1;
  }

  counters(): Readonly<ProcessCounters> {
    return { ...this.counts };
  }
}
