/**
 * ReadWriteLock: Curator's InterProcessReadWriteLock over ZooKeeper's shared-lock recipe.
 *
 *   const rw = new ReadWriteLock(keeper, '/locks/catalog');
 *   await rw.readLock.acquire();  …  await rw.readLock.release();
 *   await rw.writeLock.acquire(); …  await rw.writeLock.release();
 *
 * Readers and writers queue in one directory (`_c_<id>-read-<seq>`, `_c_<id>-write-<seq>`), in
 * sequence order. A writer holds when it is first and watches its immediate predecessor; a reader
 * holds when no writer precedes it and watches the last writer before it. So a reader that
 * arrives after a waiting writer waits behind it: writers do not starve.
 *
 * Each half is a reentrant lock (see lock.ts: tokens, `lost`, timeouts, abort). As Curator, the
 * holder of the write lock may also take the read lock (downgrade: acquire read, release write);
 * the reverse (upgrade) would wait for itself and is refused.
 */

import type { RecipeKeeper } from './keeper-like.js';
import { invalidState } from './errors.js';
import type { WaitOptions } from './internal/bound.js';
import { exclusiveDecide, READ_KIND, sharedDecide, type Decide } from './internal/participant.js';
import { checkRecipePath } from './internal/znodes.js';
import { ReentrantLock, type Acquired } from './lock.js';

export const WRITE_KIND = 'write';
const KINDS = [READ_KIND, WRITE_KIND] as const;

export class ReadWriteLock {
  readonly path: string;
  readonly readLock: ReentrantLock;
  readonly writeLock: ReentrantLock;

  constructor(keeper: RecipeKeeper, path: string) {
    this.path = checkRecipePath(path, 'ReadWriteLock');
    const writeLock = new WriteHalf(keeper, path, this);
    // The write lock's holder reads too (Curator's ReadLock driver checks isOwnedByCurrentThread).
    const readDecide: Decide = (nodes, ours) => (writeLock.isHeld ? { holds: true } : sharedDecide(nodes, ours));
    this.writeLock = writeLock;
    this.readLock = new ReentrantLock(keeper, path, { kind: READ_KIND, kinds: KINDS, decide: readDecide, label: 'ReadWriteLock.readLock' });
  }
}

class WriteHalf extends ReentrantLock {
  readonly #owner: ReadWriteLock;

  constructor(keeper: RecipeKeeper, path: string, owner: ReadWriteLock) {
    super(keeper, path, { kind: WRITE_KIND, kinds: KINDS, decide: exclusiveDecide, label: 'ReadWriteLock.writeLock' });
    this.#owner = owner;
  }

  override acquire(options?: WaitOptions): Promise<Acquired> {
    // Upgrading would queue behind our own read node for ever (Curator: "will never succeed").
    if (!this.isHeld && this.#owner.readLock.isHeld) {
      return Promise.reject(invalidState('ReadWriteLock.writeLock.acquire: this object holds the read lock; release it first (upgrading deadlocks)'));
    }
    return super.acquire(options);
  }
}
