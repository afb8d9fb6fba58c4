/**
 * The znode plumbing every recipe shares: paths, protected sequential names, parents created on
 * demand, retries of idempotent calls after a connection loss, and the cleanup helpers.
 *
 * Protected mode (Curator's `withProtection()`): a create that fails with CONNECTIONLOSS may or
 * may not have created its node, and a sequential node's name is only known from the answer. So
 * each attempt puts a unique id in the name (`_c_<32 hex>-<kind>-`), and after an unknown outcome
 * the recipe looks for a child carrying that id before it creates again. One step beyond Curator:
 * before looking, it issues a write barrier (a check-only multi) and waits for its answer. A
 * session's writes take effect in issue order, so once the barrier is answered the lost create has
 * either taken effect — and the search finds it — or never will; no phantom node can appear later
 * and block the lock for the rest of the session.
 */

import type { CreateMode, Data, Watcher } from '../../index.js';
import { CONNECTION_LOSS_BACKOFF_MS, CONNECTION_LOSS_RETRIES_MAX, PARENT_RECREATE_RETRIES_MAX, PROTECTED_CREATE_ATTEMPTS_MAX } from '../constants.js';
import { badArgument, hasCode, isUnknownOutcome } from '../errors.js';
import type { RecipeKeeper } from '../keeper-like.js';
import { Bound } from './bound.js';

/** Curator's PROTECTED_PREFIX. */
export const PROTECTED_PREFIX = '_c_';

/** A sequential child created in protected mode: `_c_<id>-<kind>-<sequence>`. */
export interface SequentialNode {
  readonly name: string;
  readonly id: string;
  readonly kind: string;
  readonly sequence: number;
}

const PROTECTED_NAME = /^_c_([0-9a-f]{32})-([a-z]+)-(-?\d{10})$/;

export function parseSequential(name: string): SequentialNode | null {
  const match = PROTECTED_NAME.exec(name);
  if (match === null) return null;
  const [, id, kind, sequence] = match as unknown as [string, string, string, string];
  return { name, id, kind, sequence: Number(sequence) };
}

/** The children that are protected sequential nodes of one of `kinds`, in sequence order (names
 *  sort by their random id first, so the order is the suffix's, as Curator's fixForSorting). */
export function sequentialChildren(names: readonly string[], kinds: readonly string[]): SequentialNode[] {
  const nodes: SequentialNode[] = [];
  for (const name of names) {
    const node = parseSequential(name);
    if (node !== null && kinds.includes(node.kind)) nodes.push(node);
  }
  return nodes.sort(bySequence);
}

export function bySequence(a: SequentialNode, b: SequentialNode): number {
  return a.sequence - b.sequence;
}

/** A fresh protected id: 128 random bits as 32 hex digits (getRandomValues works in insecure
 *  browser contexts too, where crypto.randomUUID does not exist). */
export function newProtectedId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return [...bytes].map((byte) => byte.toString(16).padStart(2, '0')).join('');
}

export function joinPath(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

export function nameOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** Checks a recipe's base path early (the keeper checks it fully on the first call). */
export function checkRecipePath(path: unknown, what: string): string {
  if (typeof path !== 'string' || !path.startsWith('/') || path === '/' || path.endsWith('/')) {
    throw badArgument(`${what}: the path must be an absolute znode path other than the root, got ${JSON.stringify(path)}`);
  }
  return path;
}

/**
 * Runs an idempotent call, retrying it after CONNECTIONLOSS / OPERATIONTIMEOUT with exponential
 * back-off (CONNECTION_LOSS_RETRIES_MAX, CONNECTION_LOSS_BACKOFF_MS). Only for calls whose repeat
 * is harmless: reads, deletes of our own nodes (NONODE on a repeat is handled by the caller), the
 * write barrier.
 */
export async function retrying<T>(bound: Bound, call: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    bound.throwIfAborted();
    try {
      return await call();
    } catch (error) {
      if (!isUnknownOutcome(error) || attempt >= CONNECTION_LOSS_RETRIES_MAX) throw error;
      await bound.sleep(CONNECTION_LOSS_BACKOFF_MS * 2 ** attempt);
    }
  }
}

/** Once this resolves, every write this session issued before it has taken effect or never will
 *  (writes take effect in issue order; a check-only multi goes through the log like any write). */
export function writeBarrier(keeper: RecipeKeeper, bound: Bound): Promise<void> {
  return retrying(bound, async () => {
    await keeper.multi([{ op: 'check', path: '/', version: -1 }]);
  });
}

/** Creates the missing ancestors of `path` (not `path` itself) as `mode` nodes, top down. */
export async function createParents(keeper: RecipeKeeper, path: string, mode: CreateMode, bound: Bound): Promise<void> {
  const parts = path.split('/').slice(1, -1);
  let prefix = '';
  for (const part of parts) {
    prefix = `${prefix}/${part}`;
    await createIfMissing(keeper, prefix, mode, bound);
  }
}

/** Creates a node, NODEEXISTS meaning done (an unknown outcome is retried: a repeat is harmless). */
export async function createIfMissing(keeper: RecipeKeeper, path: string, mode: CreateMode, bound: Bound, data?: Data): Promise<void> {
  await retrying(bound, async () => {
    try {
      await keeper.create(path, data, { mode });
    } catch (error) {
      if (!hasCode(error, 'NODEEXISTS')) throw error;
    }
  });
}

/**
 * `keeper.create`, creating missing parents (as `parentMode`, containers by default, like Curator's
 * creatingParentContainersIfNeeded) when the parent is missing; `parentMode: null` creates none
 * (NONODE propagates). Unknown outcomes propagate.
 */
export async function createWithParents(
  keeper: RecipeKeeper,
  path: string,
  options: { data?: Data; mode: CreateMode; parentMode?: CreateMode | null },
  bound: Bound,
): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    bound.throwIfAborted();
    try {
      return await keeper.create(path, options.data, { mode: options.mode });
    } catch (error) {
      if (!hasCode(error, 'NONODE') || options.parentMode === null || attempt >= PARENT_RECREATE_RETRIES_MAX) throw error;
      await createParents(keeper, path, options.parentMode ?? 'container', bound);
    }
  }
}

/**
 * A protected sequential create under `dir` (see the module comment). Returns the created path.
 * After each unknown outcome: write barrier, then a search of `dir` for the attempt's id.
 */
export async function createProtected(
  keeper: RecipeKeeper,
  dir: string,
  options: { kind: string; data?: Data; mode: 'ephemeral_sequential' | 'persistent_sequential'; parentMode?: CreateMode | null },
  bound: Bound,
): Promise<string> {
  const id = newProtectedId();
  const prefix = `${PROTECTED_PREFIX}${id}-`;
  const path = joinPath(dir, `${prefix}${options.kind}-`);
  for (let attempt = 1; ; attempt++) {
    try {
      return await createWithParents(keeper, path, options, bound);
    } catch (error) {
      if (!isUnknownOutcome(error)) throw error;
      // Not abortable: a node made by the lost create must be found, or it would stay unowned.
      const recovery = Bound.none('protected create');
      await writeBarrier(keeper, recovery);
      const found = await findChild(keeper, dir, prefix, recovery);
      if (found !== null) return joinPath(dir, found);
      if (attempt >= PROTECTED_CREATE_ATTEMPTS_MAX) throw error;
    }
  }
}

async function findChild(keeper: RecipeKeeper, dir: string, prefix: string, bound: Bound): Promise<string | null> {
  try {
    const children = await retrying(bound, () => keeper.getChildren(dir));
    return children.find((name) => name.startsWith(prefix)) ?? null;
  } catch (error) {
    if (hasCode(error, 'NONODE')) return null;
    throw error;
  }
}

/**
 * A create of a node with a fixed, unique name (an ephemeral member node, say): after an unknown
 * outcome, the write barrier and then NODEEXISTS or the node's presence say it is ours.
 */
export async function createUnique(keeper: RecipeKeeper, path: string, options: { data?: Data; mode: CreateMode }, bound: Bound): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await createWithParents(keeper, path, options, bound);
      return;
    } catch (error) {
      if (hasCode(error, 'NODEEXISTS') && attempt > 1) return; // our earlier attempt made it
      if (!isUnknownOutcome(error)) throw error;
      const recovery = Bound.none('create'); // not abortable, as in createProtected
      await writeBarrier(keeper, recovery);
      if ((await retrying(recovery, () => keeper.exists(path))) !== null) return;
      if (attempt >= PROTECTED_CREATE_ATTEMPTS_MAX) throw error;
    }
  }
}

/** Deletes one of our own nodes: NONODE (already gone) and SESSIONEXPIRED (its ephemerals went
 *  with the session) count as done; an unknown outcome is retried. */
export async function deleteQuietly(keeper: RecipeKeeper, path: string): Promise<void> {
  try {
    await retrying(Bound.none('delete'), () => keeper.delete(path));
  } catch (error) {
    if (hasCode(error, 'NONODE', 'SESSIONEXPIRED')) return;
    throw error;
  }
}

/** Removes a watch we no longer need. Best effort: NOWATCHER (it fired already) and an ended
 *  session are fine, and a watch left behind is harmless by construction — every watcher checks
 *  that its wait is still current before it does anything. */
export async function removeWatchQuietly(keeper: RecipeKeeper, path: string, watcher: Watcher): Promise<void> {
  try {
    await keeper.removeWatches(path, watcher);
  } catch {
    // NOWATCHER, SESSIONEXPIRED, CONNECTIONLOSS: nothing more to do (see above)
  }
}

/** A one-shot wake-up: `watcher` (a Watcher, or any callback) resolves `promise`. */
export function wakeUp(): { promise: Promise<void>; watcher: Watcher; wake: () => void } {
  let wake!: () => void;
  const promise = new Promise<void>((resolve) => {
    wake = resolve;
  });
  return { promise, watcher: () => wake(), wake: () => wake() };
}

/** Reads a node's children, an absent node reading as none. */
export async function childrenOrNone(keeper: RecipeKeeper, path: string, bound: Bound, options?: { watch?: Watcher }): Promise<string[]> {
  try {
    return await retrying(bound, () => keeper.getChildren(path, options));
  } catch (error) {
    if (hasCode(error, 'NONODE')) return [];
    throw error;
  }
}

/** UTF-8, as the client stores strings. */
export function text(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}
