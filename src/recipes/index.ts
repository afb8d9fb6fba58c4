/**
 * meshkeeper/recipes (API.md, "Recipes"): Apache Curator's recipes over the public Keeper API —
 * nothing here reaches past what `meshkeeper` exports (src/index.ts), so the recipes would work
 * unchanged as a separate package. README.md beside this file gives the layout of each recipe's
 * znodes and the design decisions.
 *
 *   import { Lock } from 'meshkeeper/recipes';
 *   const lock = new Lock(keeper, '/locks/printer');
 *   const { token } = await lock.acquire({ signal, timeoutMs });
 *   await lock.release();
 *
 * `keeper.locks` (navigator.locks, ensemble-wide) is web-locks.ts, reached through the Keeper.
 */

export { Lock, ReentrantLock, type Acquired, type LockEvents, type LockLostEvent, type LostReason } from './lock.js';
export { ReadWriteLock } from './read-write-lock.js';
export { Semaphore, type Lease } from './semaphore.js';
export { LeaderElection, type ElectionState, type LeaderElectionEvents, type RevokedReason } from './leader-election.js';
export { Barrier, DoubleBarrier } from './barrier.js';
export { Queue } from './queue.js';
export { SharedCounter, type CounterValue } from './shared-counter.js';
export {
  createLockManager,
  LOCKS_BASE_PATH,
  type KeeperLock,
  type LockGrantedCallback,
  type LockInfo,
  type LockManager,
  type LockManagerSnapshot,
  type LockMode,
  type LockOptions,
} from './web-locks.js';
export type { WaitOptions } from './internal/bound.js';
export type { RecipeKeeper } from './keeper-like.js';
export * from './constants.js';
