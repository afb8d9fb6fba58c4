/**
 * Test support for src/recipes: several Keepers (sessions) on one standalone ensemble — the real
 * peer runtime with one voter, as src/client's tests use it — plus probes for what a recipe must
 * not leave behind, and a Keeper wrapper that injects unknown outcomes.
 */

import { Keeper, KeeperError, type KeeperState } from '../index.js';
import type { RecipeKeeper } from '../recipes/keeper-like.js';

let rooms = 0;

export interface Ensemble {
  /** The keepers, each its own session on the same ensemble. */
  readonly keepers: Keeper[];
  /** Opens one more session on the ensemble. */
  join(): Promise<Keeper>;
  /** Closes every keeper still open (the ensemble stops with the last). */
  close(): Promise<void>;
}

/** `count` keepers on a fresh standalone ensemble (its own room). */
export async function ensemble(count: number, label = 'recipes'): Promise<Ensemble> {
  rooms += 1;
  const room = `${label}-${rooms}-${Date.now()}`;
  const opened: Keeper[] = [];
  const join = async (): Promise<Keeper> => {
    const keeper = await Keeper.join({ storage: 'memory', room, sessionTimeoutMs: 4000 });
    opened.push(keeper);
    return keeper;
  };
  const keepers: Keeper[] = [];
  for (let i = 0; i < count; i++) keepers.push(await join());
  return {
    keepers,
    join,
    close: async () => {
      for (const keeper of opened) await keeper.close();
    },
  };
}

/** This session's ephemerals under `prefix` (what a recipe must have deleted). */
export function ephemeralsOf(keeper: Keeper, prefix: string): Promise<string[]> {
  return keeper.getEphemerals(prefix);
}

/** True when `keeper` has no watch registered at `path` (removeWatches answers NOWATCHER). Note:
 *  when it has one, this removes it. */
export async function hasNoWatch(keeper: Keeper, path: string): Promise<boolean> {
  try {
    await keeper.removeWatches(path);
    return false;
  } catch (error) {
    if (error instanceof KeeperError && error.code === 'NOWATCHER') return true;
    throw error;
  }
}

/** Polls `condition` every 5 ms until it holds, failing after `timeoutMs`. */
export async function eventually(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Settles to the rejection reason, or fails if the promise resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection, but the promise resolved');
}

/** A promise's state without waiting for it. */
export async function isSettled(promise: Promise<unknown>): Promise<boolean> {
  const marker = Symbol('pending');
  const winner = await Promise.race([promise.then(() => 'settled', () => 'settled'), Promise.resolve(marker)]);
  return winner !== marker;
}

/**
 * A Keeper whose calls can be made to fail with CONNECTIONLOSS *after* taking effect, or without
 * being sent: the unknown outcomes a real ensemble gives on a leader change, on demand.
 * `plan(op, args)` says what to do with each call: 'pass', 'lose-after' (perform it, then answer
 * CONNECTIONLOSS), 'lose-before' (answer CONNECTIONLOSS, send nothing), or a promise: hold the call
 * until it settles (an ensemble that does not answer), then pass it.
 */
export function faulty(keeper: Keeper, plan: (op: string, args: unknown[]) => 'pass' | 'lose-after' | 'lose-before' | Promise<void>): RecipeKeeper {
  const loss = (op: string): KeeperError => new KeeperError('CONNECTIONLOSS', `${op}: injected connection loss; the outcome is unknown`);
  const wrapped = (op: keyof Keeper) =>
    async (...args: unknown[]): Promise<unknown> => {
      const call = (keeper[op] as (...given: unknown[]) => Promise<unknown>).bind(keeper);
      const decision = plan(String(op), args);
      if (decision instanceof Promise) {
        await decision;
        return call(...args);
      }
      if (decision === 'lose-before') throw loss(String(op));
      const result = await call(...args);
      if (decision === 'lose-after') throw loss(String(op));
      return result;
    };
  return {
    create: wrapped('create') as Keeper['create'],
    delete: wrapped('delete') as Keeper['delete'],
    exists: wrapped('exists') as Keeper['exists'],
    getData: wrapped('getData') as Keeper['getData'],
    setData: wrapped('setData') as Keeper['setData'],
    getChildren: wrapped('getChildren') as Keeper['getChildren'],
    multi: wrapped('multi') as Keeper['multi'],
    removeWatches: keeper.removeWatches.bind(keeper),
    on: keeper.on.bind(keeper),
    get state() {
      return keeper.state;
    },
    get sessionId() {
      return keeper.sessionId;
    },
  };
}

/**
 * A Keeper whose session state the test can set: the recipes hear 'disconnected', 'connected' or
 * 'expired' as they would from a real ensemble, while the calls still go to the real keeper. This
 * reaches the recipes' state handling (revoke on disconnect, `lost` on expiry) that the standalone
 * ensemble cannot provoke; what a real expiry does to the calls is the simulator's to check.
 */
export function withStates(keeper: Keeper): { keeper: RecipeKeeper; setState(state: KeeperState): void } {
  let override: KeeperState | null = null;
  const listeners = new Set<(state: KeeperState) => void>();
  const view: RecipeKeeper = {
    create: keeper.create.bind(keeper),
    delete: keeper.delete.bind(keeper),
    exists: keeper.exists.bind(keeper),
    getData: keeper.getData.bind(keeper),
    setData: keeper.setData.bind(keeper),
    getChildren: keeper.getChildren.bind(keeper),
    multi: keeper.multi.bind(keeper),
    removeWatches: keeper.removeWatches.bind(keeper),
    on: ((name: 'state' | 'status', listener: (value: unknown) => void) => {
      if (name !== 'state') return keeper.on(name, listener);
      const state = listener as (state: KeeperState) => void;
      listeners.add(state);
      const off = keeper.on('state', state);
      return () => {
        listeners.delete(state);
        off();
      };
    }) as Keeper['on'],
    get state() {
      return override ?? keeper.state;
    },
    get sessionId() {
      return keeper.sessionId;
    },
  };
  return {
    keeper: view,
    setState: (state) => {
      override = state;
      for (const listener of [...listeners]) listener(state);
    },
  };
}
