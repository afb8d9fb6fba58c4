/**
 * Container and TTL node clean-up, ZooKeeper's ContainerManager.getCandidates as a pure query: which
 * nodes the leader should propose a deleteContainer for, given the time now.
 *
 *   container  no children, and cversion > 0 (it has had a child: a container created just before a
 *              sweep must not vanish before its first child arrives);
 *   TTL node   no children, and now - mtime > ttl (mtime: creation or last setData).
 *
 * The leader calls `due` on a timer; each call examines at most SWEEP_NODES_PER_CALL_MAX candidates
 * (in path order, resuming after `cursor`) and returns at most SWEEP_PATHS_PER_CALL_MAX paths. prep
 * re-checks each proposal against the latest state, so a stale answer is harmless.
 */

import { assert } from '../assert.js';
import { SWEEP_NODES_PER_CALL_MAX, SWEEP_PATHS_PER_CALL_MAX } from '../limits.js';
import type { PendingNode } from './overlay.js';
import type { TreeStore } from './store.js';

export interface DueResult {
  paths: string[];
  /** Pass back on the next call; null when this call reached the end (the next starts over). */
  cursor: string | null;
}

/** ContainerManager's rule for one node. */
export function isDue(node: Pick<PendingNode, 'kind' | 'cversion' | 'numChildren' | 'mtime' | 'ttlMs'>, now: number): boolean {
  if (node.numChildren > 0) return false;
  if (node.kind === 'container') return node.cversion > 0;
  if (node.kind === 'ttl') return node.ttlMs !== 0 && now - node.mtime > node.ttlMs;
  return false;
}

export function due(store: TreeStore, now: number, cursor: string | null): DueResult {
  assert(Number.isSafeInteger(now), 'due: now is an integer (ms)');
  const candidates = store.sweepable.after(cursor, SWEEP_NODES_PER_CALL_MAX);
  const paths: string[] = [];
  let last: string | null = null;
  for (const path of candidates) {
    last = path;
    const node = store.node(path);
    assert(node !== undefined, `due: sweepable ${path} exists`);
    const view = { kind: node.kind, cversion: node.cversion, numChildren: node.children.size, mtime: node.mtime, ttlMs: node.ttlMs };
    if (isDue(view, now)) paths.push(path);
    if (paths.length === SWEEP_PATHS_PER_CALL_MAX) break;
  }
  const reachedEnd = last === null || store.sweepable.after(last, 1).length === 0;
  return { paths, cursor: reachedEnd ? null : last };
}
