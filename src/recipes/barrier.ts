/**
 * Barriers (ZooKeeper Recipes and Solutions, "Barriers" and "Double Barriers"; Curator's
 * DistributedBarrier and DistributedDoubleBarrier).
 *
 * Barrier: a node that holds everyone back while it exists.
 *
 *   const gate = new Barrier(keeper, '/jobs/42/gate');
 *   await gate.set();                       // coordinator
 *   await gate.waitOnBarrier({ signal });   // workers: resolves once the node is gone
 *   await gate.remove();                    // coordinator: lets everyone through
 *
 * The barrier node is persistent (it outlives the session that set it, as Curator's). Waiting
 * uses getData with a watch: on a missing node it registers nothing, so a waiter that passes
 * leaves no watch behind.
 *
 * DoubleBarrier: `count` members enter together and leave together.
 *
 *   const round = new DoubleBarrier(keeper, '/jobs/42/round', 5);
 *   await round.enter();   // resolves once 5 members have entered
 *   …compute…
 *   await round.leave();   // resolves once every member has left
 *
 * Each member is an ephemeral node `_c_<id>-member` under `path`. enter(): add our node; the member
 * that sees `count` members creates the ephemeral `ready` node, whose creation every waiting member
 * is watching. leave(): delete our node, then wait (watching one remaining member at a time) until
 * no member is left; the last one out deletes `ready`. `count` is a threshold, not a cap: more may
 * enter (Curator's memberQty). `ready` is ephemeral so a round whose members all crashed does not
 * let the next round through at once.
 */

import type { RecipeKeeper } from './keeper-like.js';
import type { Watcher } from '../index.js';
import { DOUBLE_BARRIER_MEMBERS_MAX } from './constants.js';
import { badArgument, hasCode, invalidState } from './errors.js';
import { Bound, runBounded, type WaitOptions } from './internal/bound.js';
import {
  checkRecipePath,
  childrenOrNone,
  createIfMissing,
  createParents,
  createUnique,
  deleteQuietly,
  joinPath,
  newProtectedId,
  PROTECTED_PREFIX,
  removeWatchQuietly,
  retrying,
  wakeUp,
} from './internal/znodes.js';

export class Barrier {
  readonly path: string;
  readonly #keeper: RecipeKeeper;

  constructor(keeper: RecipeKeeper, path: string) {
    this.path = checkRecipePath(path, 'Barrier');
    this.#keeper = keeper;
  }

  /** Raises the barrier (creates its node; parents as containers). Idempotent. */
  async set(): Promise<void> {
    const bound = Bound.none('Barrier.set');
    await createParents(this.#keeper, this.path, 'container', bound);
    await createIfMissing(this.#keeper, this.path, 'persistent', bound);
  }

  /** Lowers the barrier: every waiter passes. Idempotent. */
  async remove(): Promise<void> {
    await deleteQuietly(this.#keeper, this.path);
  }

  /** Resolves once the barrier is not set (at once if it is not). */
  waitOnBarrier(options?: WaitOptions): Promise<void> {
    let bound: Bound;
    try {
      bound = Bound.from(options, 'Barrier.waitOnBarrier');
    } catch (error) {
      return Promise.reject(error);
    }
    return runBounded(bound, (b) => waitUntilGone(this.#keeper, this.path, b));
  }
}

/** Waits until `path` does not exist (getData watch: nothing registered once it is gone). */
async function waitUntilGone(keeper: RecipeKeeper, path: string, bound: Bound): Promise<void> {
  for (;;) {
    const { promise, watcher } = wakeUp();
    try {
      await retrying(bound, () => keeper.getData(path, { watch: watcher }));
    } catch (error) {
      if (hasCode(error, 'NONODE')) return;
      throw error;
    }
    try {
      await bound.wait(keeper, promise);
    } catch (error) {
      await removeWatchQuietly(keeper, path, watcher);
      throw error;
    }
  }
}

const READY = 'ready';

type MemberState = 'outside' | 'entering' | 'inside' | 'leaving';

export class DoubleBarrier {
  readonly path: string;
  readonly count: number;
  readonly #keeper: RecipeKeeper;
  readonly #readyPath: string;
  #memberPath: string | null = null;
  #state: MemberState = 'outside';

  constructor(keeper: RecipeKeeper, path: string, count: number) {
    this.path = checkRecipePath(path, 'DoubleBarrier');
    if (!Number.isInteger(count) || count < 1 || count > DOUBLE_BARRIER_MEMBERS_MAX) {
      throw badArgument(`DoubleBarrier: count must be an integer from 1 to ${DOUBLE_BARRIER_MEMBERS_MAX}, got ${String(count)}`, path);
    }
    this.count = count;
    this.#keeper = keeper;
    this.#readyPath = joinPath(path, READY);
  }

  /** Enters; resolves once `count` members have entered. On timeout or abort our member node is
   *  deleted (we are outside again). */
  enter(options?: WaitOptions): Promise<void> {
    let bound: Bound;
    try {
      bound = Bound.from(options, 'DoubleBarrier.enter');
      if (this.#state !== 'outside') throw invalidState(`DoubleBarrier.enter: this member is ${this.#state}`);
    } catch (error) {
      return Promise.reject(error);
    }
    this.#state = 'entering';
    return runBounded(bound, async (b) => {
      const member = joinPath(this.path, `${PROTECTED_PREFIX}${newProtectedId()}-member`);
      try {
        await createUnique(this.#keeper, member, { mode: 'ephemeral' }, b);
        this.#memberPath = member;
        await this.#waitForReady(b);
        b.stillWanted();
        this.#state = 'inside';
      } catch (error) {
        await deleteQuietly(this.#keeper, member).catch(() => {});
        this.#memberPath = null;
        this.#state = 'outside';
        throw error;
      }
    });
  }

  /** Leaves; resolves once every member has left. Our node is deleted at once, so an abort or
   *  timeout only stops the waiting for the others. */
  leave(options?: WaitOptions): Promise<void> {
    let bound: Bound;
    try {
      bound = Bound.from(options, 'DoubleBarrier.leave');
      if (this.#state !== 'inside') throw invalidState(`DoubleBarrier.leave: this member is ${this.#state}`);
    } catch (error) {
      return Promise.reject(error);
    }
    this.#state = 'leaving';
    return runBounded(bound, async (b) => {
      try {
        if (this.#memberPath !== null) await deleteQuietly(this.#keeper, this.#memberPath);
        this.#memberPath = null;
        await this.#waitForEmpty(b);
      } finally {
        this.#state = 'outside';
      }
    });
  }

  async #members(bound: Bound, options?: { watch?: Watcher }): Promise<string[]> {
    const names = await childrenOrNone(this.#keeper, this.path, bound, options);
    return names.filter((name) => name.startsWith(PROTECTED_PREFIX)).sort();
  }

  async #waitForReady(bound: Bound): Promise<void> {
    for (;;) {
      const { promise, watcher } = wakeUp();
      // exists with a watch: on a missing `ready` it fires when it is created (the point).
      const stat = await retrying(bound, () => this.#keeper.exists(this.#readyPath, { watch: watcher }));
      if (stat === null) {
        const members = await this.#members(bound);
        if (members.length >= this.count) {
          await createIfMissing(this.#keeper, this.#readyPath, 'ephemeral', bound);
          await removeWatchQuietly(this.#keeper, this.#readyPath, watcher); // fired on our create, or not
          return;
        }
        try {
          await bound.wait(this.#keeper, promise);
        } catch (error) {
          await removeWatchQuietly(this.#keeper, this.#readyPath, watcher);
          throw error;
        }
        continue;
      }
      // `ready` exists: the watch set on it (a data watch) is not needed.
      await removeWatchQuietly(this.#keeper, this.#readyPath, watcher);
      return;
    }
  }

  async #waitForEmpty(bound: Bound): Promise<void> {
    for (;;) {
      const members = await this.#members(bound);
      const last = members.at(-1);
      if (last === undefined) {
        await deleteQuietly(this.#keeper, this.#readyPath);
        return;
      }
      const { promise, watcher } = wakeUp();
      const path = joinPath(this.path, last);
      try {
        await retrying(bound, () => this.#keeper.getData(path, { watch: watcher }));
      } catch (error) {
        if (hasCode(error, 'NONODE')) continue;
        throw error;
      }
      try {
        await bound.wait(this.#keeper, promise);
      } catch (error) {
        await removeWatchQuietly(this.#keeper, path, watcher);
        throw error;
      }
    }
  }
}
