/**
 * Queue: a distributed FIFO queue (ZooKeeper Recipes and Solutions, "Queues"; Curator's
 * DistributedQueue without its consumer threads).
 *
 *   const jobs = new Queue(keeper, '/queues/jobs');
 *   await jobs.offer(JSON.stringify(job));
 *   const bytes = await jobs.take({ signal });     // waits while the queue is empty
 *   const next = await jobs.peek();                // the head, or null
 *
 * Items are persistent-sequential children `_c_<id>-item-<seq>` of the queue's (persistent) node,
 * in sequence order — the order their offers took effect. `take` reads the head and deletes it;
 * whoever deletes an item took it, so each item is taken once however many take at once. A taker
 * that loses the race (NONODE) moves to the next item.
 *
 * Unknown outcomes are resolved, not guessed:
 * - `offer` is a protected create (internal/znodes.ts): after a connection loss it finds its item
 *   by the attempt's id before offering again, so an item is never enqueued twice;
 * - `take` deletes the head together with creating a receipt `_taken_<id>` (ephemeral) in one
 *   multi. After a connection loss, a write barrier, then the receipt's presence says whether this
 *   take removed the item; the receipt is deleted once read. So no item is lost or taken twice.
 */

import type { RecipeKeeper } from './keeper-like.js';
import type { Data } from '../index.js';
import { hasCode, isUnknownOutcome } from './errors.js';
import { Bound, runBounded, type WaitOptions } from './internal/bound.js';
import {
  checkRecipePath,
  childrenOrNone,
  createIfMissing,
  createParents,
  createProtected,
  deleteQuietly,
  joinPath,
  newProtectedId,
  removeWatchQuietly,
  retrying,
  sequentialChildren,
  wakeUp,
  writeBarrier,
} from './internal/znodes.js';

const ITEM_KIND = 'item';
const RECEIPT_PREFIX = '_taken_';

export class Queue {
  readonly path: string;
  readonly #keeper: RecipeKeeper;

  constructor(keeper: RecipeKeeper, path: string) {
    this.path = checkRecipePath(path, 'Queue');
    this.#keeper = keeper;
  }

  /** Appends an item (bytes, or a string stored as UTF-8). Resolves with the item's node path. */
  async offer(item: Data): Promise<string> {
    const bound = Bound.none('Queue.offer');
    const offerOnce = (): Promise<string> =>
      createProtected(this.#keeper, this.path, { kind: ITEM_KIND, data: item, mode: 'persistent_sequential', parentMode: null }, bound);
    try {
      return await offerOnce();
    } catch (error) {
      // No queue node yet: make it (persistent: a waiting taker watches it), then offer again.
      if (!hasCode(error, 'NONODE')) throw error;
      await this.#ensure(bound);
      return offerOnce();
    }
  }

  /** The head item's data, or null when the queue is empty; removes nothing. */
  async peek(): Promise<Uint8Array | null> {
    const bound = Bound.none('Queue.peek');
    for (const name of await this.#items(bound)) {
      try {
        return (await retrying(bound, () => this.#keeper.getData(joinPath(this.path, name)))).data;
      } catch (error) {
        if (!hasCode(error, 'NONODE')) throw error; // taken meanwhile: the next is the head
      }
    }
    return null;
  }

  /** Removes and returns the head item, waiting while the queue is empty. Timeout / abort:
   *  TimeoutError / the signal's reason, and nothing is taken. */
  take(options?: WaitOptions): Promise<Uint8Array> {
    let bound: Bound;
    try {
      bound = Bound.from(options, 'Queue.take');
    } catch (error) {
      return Promise.reject(error);
    }
    return runBounded(bound, (b) => this.#take(b));
  }

  /** The number of items now. */
  async size(): Promise<number> {
    return (await this.#items(Bound.none('Queue.size'))).length;
  }

  async #take(bound: Bound): Promise<Uint8Array> {
    for (;;) {
      const taken = await this.#takeOne(await this.#items(bound), bound);
      if (taken !== null) return taken;
      // Empty: list again with a child watch, and wait only if it is still empty.
      const { promise, watcher } = wakeUp();
      let names: string[];
      try {
        names = await retrying(bound, () => this.#keeper.getChildren(this.path, { watch: watcher }));
      } catch (error) {
        if (!hasCode(error, 'NONODE')) throw error;
        await this.#ensure(bound); // no queue node to watch yet: make it, and look again
        continue;
      }
      if (sequentialChildren(names, [ITEM_KIND]).length > 0) {
        await removeWatchQuietly(this.#keeper, this.path, watcher);
        continue;
      }
      try {
        await bound.wait(this.#keeper, promise);
      } catch (error) {
        await removeWatchQuietly(this.#keeper, this.path, watcher);
        throw error;
      }
    }
  }

  /** Tries the items in order; the first this taker removes is its result (null: none left). */
  async #takeOne(items: readonly string[], bound: Bound): Promise<Uint8Array | null> {
    for (const name of items) {
      bound.throwIfAborted();
      const path = joinPath(this.path, name);
      let data: Uint8Array;
      try {
        data = (await retrying(bound, () => this.#keeper.getData(path))).data;
      } catch (error) {
        if (hasCode(error, 'NONODE')) continue; // taken by someone else
        throw error;
      }
      // Removing is irreversible: the caller gets the item even if an abort lands meanwhile.
      if (await bound.critical(() => this.#remove(path))) return data;
    }
    return null;
  }

  /** Deletes the item with a receipt; true if this call removed it. Not abortable: once the
   *  multi is sent, only its outcome decides. */
  async #remove(path: string): Promise<boolean> {
    const bound = Bound.none('Queue.take');
    const receipt = joinPath(this.path, `${RECEIPT_PREFIX}${newProtectedId()}`);
    try {
      await this.#keeper.multi([
        { op: 'delete', path },
        { op: 'create', path: receipt, mode: 'ephemeral' },
      ]);
    } catch (error) {
      if (hasCode(error, 'NONODE')) return false; // another taker was first
      if (!isUnknownOutcome(error)) throw error;
      await writeBarrier(this.#keeper, bound);
      if ((await retrying(bound, () => this.#keeper.exists(receipt))) === null) return false;
    }
    await deleteQuietly(this.#keeper, receipt).catch(() => {}); // ephemeral: goes with the session anyway
    return true;
  }

  async #items(bound: Bound): Promise<string[]> {
    const names = await childrenOrNone(this.#keeper, this.path, bound);
    return sequentialChildren(names, [ITEM_KIND]).map((node) => node.name);
  }

  async #ensure(bound: Bound): Promise<void> {
    await createParents(this.#keeper, this.path, 'container', bound);
    await createIfMissing(this.#keeper, this.path, 'persistent', bound);
  }
}
