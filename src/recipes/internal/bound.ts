/**
 * The bound on one waiting call: an AbortSignal, a timeout, and the keeper's session. Every recipe
 * call that can wait takes `{ signal, timeoutMs }` and runs under one Bound:
 *
 * - `timeoutMs` bounds the *waiting*: a lock that is free is taken even with `timeoutMs: 0` (a
 *   try-lock); the deadline is checked before each wait and ends the wait when it passes;
 * - an abort ends a wait at once, and stops the work before its next call;
 * - the end of the session (closed, expired) ends a wait with SESSIONEXPIRED, since the watch it
 *   waits for will never fire.
 *
 * `runBounded` settles the caller's promise: with the work's outcome, which includes the cleanup
 * of an aborted wait (its node deleted, its watch removed) — or, if the work is stuck in a call to
 * an ensemble that does not answer, ABORT_CLEANUP_WAIT_MS after the bound fired, with the abort's
 * reason, while the cleanup goes on in the background. A work that succeeds must call
 * `stillWanted()` right before it commits its result, so nothing is held that the caller was told
 * it did not get; a call whose effect cannot be undone runs as `critical`, and runBounded waits
 * for it (so no queue item is taken, no counter added to, behind a caller's back).
 */

import { ABORT_CLEANUP_WAIT_MS } from '../constants.js';
import { abortReason, badArgument, sessionEnded, timeoutError } from '../errors.js';
import type { RecipeKeeper } from '../keeper-like.js';

export interface WaitOptions {
  /** Aborts the wait: the call rejects with the signal's reason and leaves nothing behind. */
  signal?: AbortSignal;
  /** The longest wait, in ms (0: do not wait at all). The call rejects with a TimeoutError. */
  timeoutMs?: number;
}

type Fired = (reason: unknown) => void;

export class Bound {
  readonly #what: string;
  readonly #signal: AbortSignal | undefined;
  readonly #timeoutMs: number | undefined;
  readonly #deadline: number | null;
  readonly #listeners = new Set<Fired>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #reason: unknown = undefined;
  #fired = false;
  #abandoned = false;
  #onAbort: (() => void) | undefined;
  #critical = 0;
  readonly #criticalEnded: (() => void)[] = [];

  private constructor(what: string, signal: AbortSignal | undefined, timeoutMs: number | undefined) {
    this.#what = what;
    this.#signal = signal;
    this.#timeoutMs = timeoutMs;
    this.#deadline = timeoutMs === undefined ? null : now() + timeoutMs;
    if (signal !== undefined) {
      if (signal.aborted) this.#fire(abortReason(signal));
      else {
        this.#onAbort = () => this.#fire(abortReason(signal));
        signal.addEventListener('abort', this.#onAbort, { once: true });
      }
    }
    if (timeoutMs !== undefined && !this.#fired) {
      this.#timer = setTimeout(() => this.#fire(timeoutError(this.#what, timeoutMs)), timeoutMs);
    }
  }

  /** Checks `{ signal, timeoutMs }` (BADARGUMENTS naming what is wrong) and starts the bound. */
  static from(options: WaitOptions | undefined, what: string): Bound {
    if (options !== undefined && (typeof options !== 'object' || options === null)) throw badArgument(`${what}: options must be an object`);
    const { signal, timeoutMs } = options ?? {};
    if (signal !== undefined && !(signal instanceof AbortSignal)) throw badArgument(`${what}: signal must be an AbortSignal`);
    if (timeoutMs !== undefined && (typeof timeoutMs !== 'number' || !(timeoutMs >= 0) || !Number.isFinite(timeoutMs))) {
      throw badArgument(`${what}: timeoutMs must be a finite number >= 0, got ${String(timeoutMs)}`);
    }
    return new Bound(what, signal, timeoutMs);
  }

  /** A bound with neither signal nor timeout (background work, cleanup). */
  static none(what: string): Bound {
    return new Bound(what, undefined, undefined);
  }

  get fired(): boolean {
    return this.#fired;
  }

  /** Throws the abort's reason if the signal was aborted (checked before every call). */
  throwIfAborted(): void {
    if (this.#signal?.aborted === true) throw abortReason(this.#signal);
    if (this.#abandoned) throw this.#reason;
  }

  /** Throws the abort's reason, or a TimeoutError once the deadline has passed (checked before
   *  every wait). */
  throwIfDone(): void {
    this.throwIfAborted();
    if (this.#deadline !== null && now() >= this.#deadline) {
      throw this.#reason ?? timeoutError(this.#what, this.#timeoutMs ?? 0);
    }
  }

  /** Called by a work right before it commits success: throws if the caller has been told it
   *  failed (runBounded gave up waiting for it) or the signal was aborted meanwhile. */
  stillWanted(): void {
    this.throwIfAborted();
  }

  /** Calls `listener` once when the bound fires (at once if it has). Returns the unsubscribe. */
  onFire(listener: Fired): () => void {
    if (this.#fired) {
      listener(this.#reason);
      return () => {};
    }
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Waits for `woken` (a watch event, a hand-off): rejects with the abort's reason, a TimeoutError
   * at the deadline, or SESSIONEXPIRED if the keeper's session ends first.
   */
  wait(keeper: RecipeKeeper, woken: Promise<unknown>): Promise<void> {
    this.throwIfDone();
    if (keeper.state === 'closed' || keeper.state === 'expired') return Promise.reject(sessionEnded(this.#what));
    return new Promise<void>((resolve, reject) => {
      let done = false;
      const finish = (settle: () => void): void => {
        if (done) return;
        done = true;
        offFire();
        offState();
        settle();
      };
      const offFire = this.onFire((reason) => finish(() => reject(reason)));
      const offState = keeper.on('state', (state) => {
        if (state === 'closed' || state === 'expired') finish(() => reject(sessionEnded(this.#what)));
      });
      woken.then(
        () => finish(resolve),
        (error: unknown) => finish(() => reject(error)),
      );
    });
  }

  /** A pause (back-off) that the abort ends early; the deadline does not (a retry is not a wait). */
  sleep(ms: number): Promise<void> {
    this.throwIfAborted();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        offFire();
        resolve();
      }, ms);
      const offFire = this.onFire((reason) => {
        if (this.#signal?.aborted !== true) return; // the deadline: finish the pause
        clearTimeout(timer);
        offFire();
        reject(reason);
      });
    });
  }

  /** Stops the timer and the signal listener (the bound's work is over). */
  dispose(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#onAbort !== undefined) this.#signal?.removeEventListener('abort', this.#onAbort);
    this.#onAbort = undefined;
    this.#listeners.clear();
  }

  #fire(reason: unknown): void {
    if (this.#fired) return;
    this.#fired = true;
    this.#reason = reason;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    for (const listener of [...this.#listeners]) listener(reason);
    this.#listeners.clear();
  }

  /**
   * Runs a call whose effect cannot be taken back once made (removing a queue item, a counter's
   * compare-and-set): while it runs, runBounded does not give up on the work, so a caller is never
   * told "aborted" about an effect that happened. Its own wait is bounded by the keeper's.
   */
  async critical<T>(call: () => Promise<T>): Promise<T> {
    this.#critical += 1;
    try {
      return await call();
    } finally {
      this.#critical -= 1;
      if (this.#critical === 0) for (const ended of this.#criticalEnded.splice(0)) ended();
    }
  }

  /** Calls `then` once no critical call runs (at once if none does). */
  whenNotCritical(then: () => void): void {
    if (this.#critical === 0) then();
    else this.#criticalEnded.push(then);
  }

  /** runBounded gave up on the work: from now on it must not commit anything. */
  abandon(): void {
    this.#abandoned = true;
  }

  get reason(): unknown {
    return this.#reason;
  }
}

/**
 * Runs `work` under `bound` (see the module comment): settles with the work's outcome, or — once
 * the bound has fired and the work has not finished within ABORT_CLEANUP_WAIT_MS — rejects with
 * the bound's reason, marking the bound abandoned so the work cleans up instead of committing.
 */
export function runBounded<T>(bound: Bound, work: (bound: Bound) => Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let grace: ReturnType<typeof setTimeout> | undefined;
    const offFire = bound.onFire((reason) => {
      grace = setTimeout(() => {
        // Not in the middle of an irreversible call; and a turn later, so a work that has just
        // finished one settles first (a promise settles once: the later call is a no-op).
        bound.whenNotCritical(() => {
          grace = setTimeout(() => {
            bound.abandon();
            reject(reason);
          }, 0);
        });
      }, ABORT_CLEANUP_WAIT_MS);
    });
    let running: Promise<T>;
    try {
      running = work(bound);
    } catch (error) {
      running = Promise.reject(error);
    }
    running
      .then(resolve, reject)
      .finally(() => {
        offFire();
        if (grace !== undefined) clearTimeout(grace);
        bound.dispose();
      })
      .catch(() => {});
  });
}

function now(): number {
  return performance.now();
}
