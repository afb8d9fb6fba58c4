/**
 * Semaphore: Curator's InterProcessSemaphoreV2 — at most `permits` leases held at once across the
 * ensemble.
 *
 *   const slots = new Semaphore(keeper, '/limits/encoder', 3);
 *   const lease = await slots.acquire({ signal, timeoutMs });
 *   try { … } finally { await lease.release(); }
 *
 * Layout: `<path>/locks` (a mutex, the herd-free lock of lock.ts) and `<path>/leases` (one
 * ephemeral-sequential node per lease). To acquire, a client takes the mutex, adds its lease node,
 * and — still holding the mutex — waits, watching the leases' children, until at most `permits`
 * lease nodes exist; then it releases the mutex. Only the mutex holder ever adds a lease node, and
 * it proceeds only when the count including its own is within `permits`, so the holders never
 * exceed `permits`; only one client watches the leases (no herd), the others wait in the mutex's
 * queue in order.
 *
 * An abort or timeout deletes the lease node and releases the mutex. A lease's node is ephemeral:
 * a holder whose session ends frees its permit. Every client of one semaphore must use the same
 * `permits` (as with Curator's fixed maxLeases).
 */

import type { RecipeKeeper } from './keeper-like.js';
import { NODE_RECREATE_RETRIES_MAX, SEMAPHORE_PERMITS_MAX } from './constants.js';
import { badArgument } from './errors.js';
import { Bound, runBounded, type WaitOptions } from './internal/bound.js';
import { exclusiveDecide, NodeVanished, Participant } from './internal/participant.js';
import { checkRecipePath, childrenOrNone, createProtected, deleteQuietly, joinPath, nameOf, removeWatchQuietly, sequentialChildren, wakeUp } from './internal/znodes.js';
import { KeeperError } from '../index.js';

const LEASE_KIND = 'lease';
const MUTEX_KIND = 'lock';

export interface Lease {
  /** The lease's node. */
  readonly path: string;
  /** Gives the permit back (deletes the lease node). Idempotent. */
  release(): Promise<void>;
}

export class Semaphore {
  readonly path: string;
  readonly permits: number;
  readonly #keeper: RecipeKeeper;
  readonly #locksPath: string;
  readonly #leasesPath: string;

  constructor(keeper: RecipeKeeper, path: string, permits: number) {
    this.path = checkRecipePath(path, 'Semaphore');
    if (!Number.isInteger(permits) || permits < 1 || permits > SEMAPHORE_PERMITS_MAX) {
      throw badArgument(`Semaphore: permits must be an integer from 1 to ${SEMAPHORE_PERMITS_MAX}, got ${String(permits)}`, path);
    }
    this.permits = permits;
    this.#keeper = keeper;
    this.#locksPath = joinPath(path, 'locks');
    this.#leasesPath = joinPath(path, 'leases');
  }

  /** Takes one permit, waiting while all are leased. Timeout / abort: TimeoutError / the signal's
   *  reason, with nothing left behind. */
  acquire(options?: WaitOptions): Promise<Lease> {
    let bound: Bound;
    try {
      bound = Bound.from(options, 'Semaphore.acquire');
    } catch (error) {
      return Promise.reject(error);
    }
    return runBounded(bound, (b) => this.#acquire(b));
  }

  /** The paths of the leases held now, in order (for display). */
  async leases(): Promise<string[]> {
    const names = await childrenOrNone(this.#keeper, this.#leasesPath, Bound.none('Semaphore.leases'));
    return sequentialChildren(names, [LEASE_KIND]).map((node) => joinPath(this.#leasesPath, node.name));
  }

  async #acquire(bound: Bound): Promise<Lease> {
    const mutex = await this.#takeMutex(bound);
    try {
      for (let attempt = 0; ; attempt++) {
        const leasePath = await createProtected(this.#keeper, this.#leasesPath, { kind: LEASE_KIND, mode: 'ephemeral_sequential' }, bound);
        try {
          if (await this.#waitForRoom(leasePath, bound)) {
            bound.stillWanted();
            return this.#lease(leasePath);
          }
        } catch (error) {
          await deleteQuietly(this.#keeper, leasePath).catch(() => {});
          throw error;
        }
        // Our lease node vanished while we waited: start over with a new one (Curator's
        // RETRY_DUE_TO_MISSING_NODE).
        if (attempt >= NODE_RECREATE_RETRIES_MAX) {
          throw new KeeperError('NONODE', `Semaphore.acquire: our lease node kept vanishing (NODE_RECREATE_RETRIES_MAX)`, leasePath);
        }
      }
    } finally {
      await mutex.leave().catch(() => {}); // an undeleted mutex node goes with the session
    }
  }

  async #takeMutex(bound: Bound): Promise<Participant> {
    for (let attempt = 0; ; attempt++) {
      const mutex = await Participant.enter({ keeper: this.#keeper, dir: this.#locksPath, kind: MUTEX_KIND, decide: exclusiveDecide }, bound);
      try {
        await mutex.awaitTurn(bound);
        return mutex;
      } catch (error) {
        await mutex.leave().catch(() => {});
        if (!(error instanceof NodeVanished) || attempt >= NODE_RECREATE_RETRIES_MAX) throw error;
      }
    }
  }

  /** Waits (holding the mutex) until the leases, ours included, are within `permits`. False if our
   *  lease node vanished. */
  async #waitForRoom(leasePath: string, bound: Bound): Promise<boolean> {
    const ours = nameOf(leasePath);
    for (;;) {
      const { promise, watcher } = wakeUp();
      const names = await childrenOrNone(this.#keeper, this.#leasesPath, bound, { watch: watcher });
      const leases = sequentialChildren(names, [LEASE_KIND]);
      const done = leases.length <= this.permits || !leases.some((node) => node.name === ours);
      if (done) {
        // The child watch (if the read set one) is no longer needed.
        await removeWatchQuietly(this.#keeper, this.#leasesPath, watcher);
        return leases.some((node) => node.name === ours);
      }
      try {
        await bound.wait(this.#keeper, promise);
      } catch (error) {
        await removeWatchQuietly(this.#keeper, this.#leasesPath, watcher);
        throw error;
      }
    }
  }

  #lease(path: string): Lease {
    let released: Promise<void> | null = null;
    return {
      path,
      release: () => (released ??= deleteQuietly(this.#keeper, path)),
    };
  }
}
