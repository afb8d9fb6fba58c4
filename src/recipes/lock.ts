/**
 * Lock: a distributed mutex — ZooKeeper's lock recipe as Curator's InterProcessMutex builds it
 * (LockInternals + StandardLockInternalsDriver), over the public Keeper API only.
 *
 *   const lock = new Lock(keeper, '/locks/printer');
 *   const { token } = await lock.acquire({ signal, timeoutMs });
 *   try { await printer.print(job, { fencingToken: token }); } finally { await lock.release(); }
 *
 * - Herd-free: each acquirer adds an ephemeral-sequential child `_c_<id>-lock-<seq>` under the
 *   lock's path and watches only its predecessor (see internal/participant.ts); a release wakes
 *   exactly the next waiter. Fair: the lock goes in sequence order.
 * - Fencing token: the holder's node's czxid — a zxid, unique in the ensemble and increasing with
 *   the order of creation; holders are granted in sequence order, so the tokens of successive
 *   holders of one lock strictly increase (even when the lock's container is swept and re-made,
 *   where sequence numbers start over). Hand it to whatever the lock protects, which refuses
 *   older tokens than the newest it has seen.
 * - Reentrant, as InterProcessMutex: the same Lock object acquiring again while it holds counts up
 *   and returns the same token; release() counts down and deletes the node at zero. The owner is
 *   the object: give each concurrent task its own Lock. Concurrent acquire() calls on one object
 *   queue behind each other.
 * - `lost`: emitted when the holder's session ends (closed or expired) or its node vanishes
 *   (deleted by another session). The lock is no longer held from that moment; a release() that
 *   follows resolves without doing anything, so `finally { await lock.release() }` stays simple.
 * - Protected mode for the create (internal/znodes.ts): a connection loss never leaves an
 *   orphaned node of ours in the queue.
 */

import type { RecipeKeeper } from './keeper-like.js';
import { LOCK_HOLD_COUNT_MAX, NODE_RECREATE_RETRIES_MAX } from './constants.js';
import { invalidState } from './errors.js';
import { Bound, runBounded, type WaitOptions } from './internal/bound.js';
import { Listeners } from './internal/listeners.js';
import { exclusiveDecide, NodeVanished, Participant, type Decide, type LostReason } from './internal/participant.js';
import { checkRecipePath } from './internal/znodes.js';
import { KeeperError } from '../index.js';

export type { WaitOptions } from './internal/bound.js';
export type { LostReason } from './internal/participant.js';

export interface Acquired {
  /** The fencing token: the lock node's czxid, strictly increasing across the lock's holders. */
  readonly token: number;
}

export interface LockLostEvent {
  /** The lock node that was held. */
  readonly path: string;
  /** 'session': the holder's session ended; 'vanished': the node was deleted by someone else. */
  readonly reason: LostReason;
  readonly token: number;
}

export interface LockEvents {
  lost: LockLostEvent;
}

interface Held {
  readonly participant: Participant;
  readonly token: number;
  count: number;
}

/** What distinguishes a Lock from the halves of a ReadWriteLock: the node kind and the rule. */
export interface LockKind {
  readonly kind: string;
  readonly kinds: readonly string[];
  readonly decide: Decide;
  /** The name used in errors ('Lock', 'ReadWriteLock.readLock', ...). */
  readonly label: string;
}

/** A reentrant lock over a participant queue: Lock, and each half of a ReadWriteLock. */
export class ReentrantLock {
  readonly path: string;
  readonly #keeper: RecipeKeeper;
  readonly #kind: LockKind;
  readonly #events: Listeners<LockEvents>;
  #held: Held | null = null;
  /** Releases still owed after a loss (the reentrant count at the moment of the loss). */
  #owedAfterLoss = 0;
  #acquiring: Promise<unknown> | null = null;

  /** @internal Use Lock, or a ReadWriteLock's readLock / writeLock. */
  constructor(keeper: RecipeKeeper, path: string, kind: LockKind) {
    this.path = checkRecipePath(path, kind.label);
    this.#keeper = keeper;
    this.#kind = kind;
    this.#events = new Listeners(kind.label);
  }

  get isHeld(): boolean {
    return this.#held !== null;
  }

  /** How many acquire() calls the current hold counts (0 when not held). */
  get holdCount(): number {
    return this.#held?.count ?? 0;
  }

  /** The current hold's fencing token, or null. */
  get token(): number | null {
    return this.#held?.token ?? null;
  }

  /** The path of the node that holds, or null. */
  get nodePath(): string | null {
    return this.#held?.participant.path ?? null;
  }

  on<K extends keyof LockEvents>(name: K, listener: (event: LockEvents[K]) => void): () => void {
    return this.#events.on(name, listener);
  }

  off<K extends keyof LockEvents>(name: K, listener: (event: LockEvents[K]) => void): void {
    this.#events.off(name, listener);
  }

  /**
   * Takes the lock, waiting in line; resolves with the fencing token. With `timeoutMs` (0: do not
   * wait) rejects with a TimeoutError, on abort with the signal's reason — in both cases the
   * waiter's node is deleted and its watch removed first. An ensemble failure is a KeeperError.
   */
  acquire(options?: WaitOptions): Promise<Acquired> {
    let bound: Bound;
    try {
      bound = Bound.from(options, `${this.#kind.label}.acquire`);
    } catch (error) {
      return Promise.reject(error);
    }
    return runBounded(bound, (b) => this.#acquire(b));
  }

  /** Releases one hold; at zero, deletes the lock node (the next waiter gets the lock). */
  async release(): Promise<void> {
    const held = this.#held;
    if (held === null) {
      if (this.#owedAfterLoss > 0) {
        this.#owedAfterLoss -= 1; // lost meanwhile: nothing left to release
        return;
      }
      throw invalidState(`${this.#kind.label}.release: the lock at ${this.path} is not held by this object`);
    }
    held.count -= 1;
    if (held.count > 0) return;
    this.#held = null;
    await held.participant.leave();
  }

  async #acquire(bound: Bound): Promise<Acquired> {
    for (;;) {
      const held = this.#held;
      if (held !== null) {
        if (held.count >= LOCK_HOLD_COUNT_MAX) {
          throw new KeeperError('QUOTAEXCEEDED', `${this.#kind.label}.acquire: held ${held.count} times (LOCK_HOLD_COUNT_MAX); a release is missing`, this.path);
        }
        held.count += 1;
        return { token: held.token };
      }
      if (this.#acquiring === null) break;
      // Another acquire() of this object is under way: its outcome decides ours.
      await bound.wait(
        this.#keeper,
        this.#acquiring.catch(() => {}),
      );
    }
    const attempt = this.#acquireNode(bound);
    this.#acquiring = attempt;
    try {
      const held = await attempt;
      return { token: held.token };
    } finally {
      if (this.#acquiring === attempt) this.#acquiring = null;
    }
  }

  async #acquireNode(bound: Bound): Promise<Held> {
    const { kind, kinds, decide } = this.#kind;
    for (let attempt = 0; ; attempt++) {
      const participant = await Participant.enter({ keeper: this.#keeper, dir: this.path, kind, kinds, decide }, bound);
      try {
        await participant.awaitTurn(bound);
        const token = await participant.hold((reason) => this.#lost(participant, reason), bound);
        bound.stillWanted();
        // Committed synchronously after the check: the caller is told exactly what is held.
        const held: Held = { participant, token, count: 1 };
        this.#held = held;
        this.#owedAfterLoss = 0;
        return held;
      } catch (error) {
        await participant.leave().catch(() => {}); // an ensemble failure here leaves an ephemeral that goes with the session
        if (!(error instanceof NodeVanished)) throw error;
        if (attempt >= NODE_RECREATE_RETRIES_MAX) {
          throw new KeeperError('NONODE', `${this.#kind.label}.acquire: our lock node kept vanishing (${attempt + 1} times, NODE_RECREATE_RETRIES_MAX)`, error.path);
        }
      }
    }
  }

  #lost(participant: Participant, reason: LostReason): void {
    const held = this.#held;
    if (held === null || held.participant !== participant) return;
    this.#held = null;
    this.#owedAfterLoss = held.count;
    this.#events.emit('lost', { path: participant.path, reason, token: held.token });
  }
}

const LOCK_KIND: LockKind = { kind: 'lock', kinds: ['lock'], decide: exclusiveDecide, label: 'Lock' };

/** The mutex of API.md: `new Lock(keeper, path)`; see the module comment. */
export class Lock extends ReentrantLock {
  constructor(keeper: RecipeKeeper, path: string) {
    super(keeper, path, LOCK_KIND);
  }
}
