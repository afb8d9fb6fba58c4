/**
 * Keeps a Keeper's calls in the order they were issued (API.md: "one client's calls take effect in
 * the order it issued them") even when a call needs an asynchronous step before it can be sent:
 * addAuthInfo hashes with crypto.subtle, removeWatches waits for the reads before it to register
 * their watches, close waits for the calls before it. Such a step is a barrier: steps issued after
 * it wait until it is done. Plain steps run at once while nothing waits, so a pipelined burst of
 * ordinary calls is submitted synchronously, in call order, with no added latency.
 */

import { assert } from '../core/assert.js';

type Step = { kind: 'plain'; run: () => void } | { kind: 'barrier'; run: () => Promise<void> };

export class Sequencer {
  private readonly queue: Step[] = [];
  private busy = false;

  /** Runs `step` now if nothing waits, else after every step issued before it. It must not throw. */
  run(step: () => void): void {
    if (!this.busy && this.queue.length === 0) {
      step();
      return;
    }
    this.queue.push({ kind: 'plain', run: step });
  }

  /** Runs `step` after every step issued before it; steps issued after wait until it settles.
   *  Resolves or rejects with the step's own outcome. */
  barrier<T>(step: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({
        kind: 'barrier',
        // The executor turns a synchronous throw into a rejection, so the queue always moves on.
        run: () => new Promise<T>((settle) => settle(step())).then(resolve, reject),
      });
      this.drain();
    });
  }

  /** Steps waiting to run (for tests and close). */
  get waiting(): number {
    return this.queue.length;
  }

  private drain(): void {
    while (!this.busy) {
      const step = this.queue.shift();
      if (step === undefined) return;
      if (step.kind === 'plain') {
        step.run();
        continue;
      }
      this.busy = true;
      void step.run().finally(() => {
        assert(this.busy, 'sequencer: a barrier ends while it is the running step');
        this.busy = false;
        this.drain();
      });
    }
  }
}
