/**
 * SharedCounter: an integer in one znode, changed by compare-and-set on the node's version
 * (Curator's SharedCount; add() in the manner of DistributedAtomicLong's optimistic mode).
 *
 *   const hits = new SharedCounter(keeper, '/stats/hits');       // starts at 0 if missing
 *   const { value, version } = await hits.get();
 *   const ok = await hits.trySetCount(value + 10, version);     // false if someone wrote first
 *   const now = await hits.add(1);                              // CAS retried, bounded
 *
 * The value is stored as a decimal string (readable with the shell) and must be a safe integer.
 * A CAS write that ends with CONNECTIONLOSS has an unknown outcome — another writer could have
 * written the same value at the same version — so it is reported as such, never retried blindly.
 */

import type { RecipeKeeper } from './keeper-like.js';
import { KeeperError } from '../index.js';
import { COUNTER_CAS_ATTEMPTS_MAX, COUNTER_CAS_BACKOFF_MS_MAX } from './constants.js';
import { badArgument, hasCode } from './errors.js';
import { Bound, runBounded } from './internal/bound.js';
import { checkRecipePath, createIfMissing, createParents, retrying, text } from './internal/znodes.js';

export interface CounterValue {
  readonly value: number;
  /** The node's data version: what trySetCount compares. */
  readonly version: number;
}

export class SharedCounter {
  readonly path: string;
  readonly initial: number;
  readonly #keeper: RecipeKeeper;

  constructor(keeper: RecipeKeeper, path: string, initial = 0) {
    this.path = checkRecipePath(path, 'SharedCounter');
    this.initial = checkValue(initial, 'the initial value');
    this.#keeper = keeper;
  }

  /** The current value and version (the node is created with the initial value if missing). */
  async get(): Promise<CounterValue> {
    const bound = Bound.none('SharedCounter.get');
    for (;;) {
      try {
        const { data, stat } = await retrying(bound, () => this.#keeper.getData(this.path));
        return { value: parseValue(text(data), this.path), version: stat.version };
      } catch (error) {
        if (!hasCode(error, 'NONODE')) throw error;
        await createParents(this.#keeper, this.path, 'container', bound);
        await createIfMissing(this.#keeper, this.path, 'persistent', bound, String(this.initial));
      }
    }
  }

  /** Sets the value if the node is still at `expectedVersion`; false if someone wrote first. */
  async trySetCount(value: number, expectedVersion: number): Promise<boolean> {
    checkValue(value, 'the value');
    if (!Number.isInteger(expectedVersion) || expectedVersion < 0) throw badArgument(`SharedCounter.trySetCount: expectedVersion must be a version >= 0, got ${String(expectedVersion)}`);
    try {
      await this.#keeper.setData(this.path, String(value), expectedVersion);
      return true;
    } catch (error) {
      if (hasCode(error, 'BADVERSION')) return false;
      throw error; // NONODE (never read: call get() first), or an unknown outcome
    }
  }

  /** Adds `delta` (may be negative) by compare-and-set, retrying while other writers win, at most
   *  COUNTER_CAS_ATTEMPTS_MAX times (then BADVERSION). Resolves with the new value. An abort stops
   *  the retries (the signal's reason). */
  add(delta: number, options?: { signal?: AbortSignal }): Promise<number> {
    let bound: Bound;
    try {
      checkValue(delta, 'delta');
      bound = Bound.from(options, 'SharedCounter.add');
    } catch (error) {
      return Promise.reject(error);
    }
    return runBounded(bound, async (b) => {
      for (let attempt = 1; ; attempt++) {
        b.throwIfAborted();
        const { value, version } = await this.get();
        const next = checkValue(value + delta, 'the sum');
        if (await b.critical(() => this.trySetCount(next, version))) return next; // a CAS that happened is reported
        if (attempt >= COUNTER_CAS_ATTEMPTS_MAX) {
          throw new KeeperError('BADVERSION', `SharedCounter.add: still contended after ${attempt} attempts (COUNTER_CAS_ATTEMPTS_MAX)`, this.path);
        }
        await b.sleep(Math.random() * Math.min(2 ** attempt, COUNTER_CAS_BACKOFF_MS_MAX));
      }
    });
  }
}

function checkValue(value: number, what: string): number {
  if (!Number.isSafeInteger(value)) throw badArgument(`SharedCounter: ${what} must be a safe integer, got ${String(value)}`);
  return value;
}

function parseValue(data: string, path: string): number {
  const value = /^-?\d+$/.test(data) ? Number(data) : NaN;
  if (!Number.isSafeInteger(value)) throw badArgument(`SharedCounter: the node holds ${JSON.stringify(data.slice(0, 32))}, not an integer`, path);
  return value;
}
