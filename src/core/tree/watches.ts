/**
 * The watch manager held by the serving peer: ZooKeeper 3.9's server-side WatchManager, pure.
 * Watchers are opaque ids the runtime chooses; an applied txn's triggers (apply's output) come in,
 * and the events each watcher gets come out, as data, in order.
 *
 * Two tables, as in ZooKeeper's DataTree (dataWatches, childWatches), each path -> watcher -> modes
 * (WatchStats: STANDARD | PERSISTENT | PERSISTENT_RECURSIVE, several at once on one path):
 *
 *   getData / exists watch   data table, STANDARD (one-shot). The server does not tell them apart;
 *                            exists on a missing node registers it, and NodeCreated fires it.
 *   getChildren watch        child table, STANDARD (one-shot).
 *   addWatch persistent      both tables, PERSISTENT: all four event types for the path itself.
 *   addWatch recursive       data table only, PERSISTENT_RECURSIVE: the path and every descendant,
 *                            never NodeChildrenChanged (it is not in the child table).
 *
 * What fires (DataTree.createNode/deleteNode/setData, WatchManager.triggerWatch):
 *   NodeCreated p           data table at p (and recursive watchers above p)
 *   NodeDataChanged p       data table at p (and recursive watchers above p)
 *   NodeChildrenChanged p   child table at p
 *   NodeDeleted p           data table at p, then child table at p, each watcher told once
 * A STANDARD watch is removed when it fires. A watcher hears one event per trigger however many of
 * its watches match. With an `authOf` callback, an event is withheld from a watcher whose
 * identities lack READ on the node (ZooKeeper 3.9.2+, CVE-2024-23944); a one-shot watch is used up
 * all the same, as in ZooKeeper.
 */

import { assert } from '../assert.js';
import { WATCHES_MAX } from '../limits.js';
import { checkAcl } from './acl.js';
import { ancestorsOf, validatePath } from './paths.js';
import {
  Perms,
  type Id,
  type PersistentWatchMode,
  type ReadRequest,
  type ReadResult,
  type RemoveWatchKind,
  type WatchEvent,
  type WatchKind,
  type WatcherId,
  type WatchTrigger,
} from './types.js';

const STANDARD = 1;
const PERSISTENT = 2;
const RECURSIVE = 4;
const ALL_MODES = STANDARD | PERSISTENT | RECURSIVE;

export type WatchOutcome = { ok: true } | { ok: false; code: 'BADARGUMENTS' | 'QUOTAEXCEEDED' | 'NOWATCHER'; reason: string };

/** One table: path -> watcher -> mode flags, with the reverse index for dropping a watcher. */
class WatchTable {
  private readonly byPath = new Map<string, Map<WatcherId, number>>();
  private readonly byWatcher = new Map<WatcherId, Set<string>>();
  /** Entries holding RECURSIVE: when 0, a trigger looks at its own path only. */
  private recursiveEntries = 0;
  /** (path, watcher) entries. */
  entries = 0;

  flags(path: string, watcher: WatcherId): number {
    return this.byPath.get(path)?.get(watcher) ?? 0;
  }

  /** Sets `flag`; returns true if the (path, watcher) entry is new. */
  add(path: string, watcher: WatcherId, flag: number): boolean {
    let watchers = this.byPath.get(path);
    if (watchers === undefined) {
      watchers = new Map();
      this.byPath.set(path, watchers);
    }
    const before = watchers.get(watcher) ?? 0;
    this.store(path, watcher, before, before | flag, watchers);
    return before === 0;
  }

  /** Clears the flags in `mask`; returns true if any was set. */
  remove(path: string, watcher: WatcherId, mask: number): boolean {
    const watchers = this.byPath.get(path);
    const before = watchers?.get(watcher) ?? 0;
    if (watchers === undefined || (before & mask) === 0) return false;
    this.store(path, watcher, before, before & ~mask, watchers);
    return true;
  }

  removeWatcher(watcher: WatcherId): void {
    for (const path of [...(this.byWatcher.get(watcher) ?? [])]) this.remove(path, watcher, ALL_MODES);
    assert(!this.byWatcher.has(watcher), 'watch table: a dropped watcher has no paths left');
  }

  /** WatchManager.triggerWatch: the watchers that fire, in a stable order; STANDARD modes at `path` are used up. */
  trigger(path: string): WatcherId[] {
    const fired = new Set<WatcherId>();
    const paths = this.recursiveEntries > 0 ? [path, ...ancestorsOf(path)] : [path];
    for (const local of paths) {
      const watchers = this.byPath.get(local);
      if (watchers === undefined) continue;
      for (const [watcher, flags] of [...watchers]) {
        if (local === path) {
          fired.add(watcher);
          if ((flags & STANDARD) !== 0) this.store(local, watcher, flags, flags & ~STANDARD, watchers);
        } else if ((flags & RECURSIVE) !== 0) {
          fired.add(watcher);
        }
      }
    }
    return [...fired];
  }

  /** The one place an entry's flags change, keeping both indexes and the counters in step. */
  private store(path: string, watcher: WatcherId, before: number, after: number, watchers: Map<WatcherId, number>): void {
    this.recursiveEntries += ((after & RECURSIVE) !== 0 ? 1 : 0) - ((before & RECURSIVE) !== 0 ? 1 : 0);
    if (after === 0) {
      watchers.delete(watcher);
      if (watchers.size === 0) this.byPath.delete(path);
      const paths = this.byWatcher.get(watcher);
      paths?.delete(path);
      if (paths?.size === 0) this.byWatcher.delete(watcher);
      if (before !== 0) this.entries -= 1;
      return;
    }
    watchers.set(watcher, after);
    if (before === 0) {
      this.entries += 1;
      let paths = this.byWatcher.get(watcher);
      if (paths === undefined) {
        paths = new Set();
        this.byWatcher.set(watcher, paths);
      }
      paths.add(path);
    }
  }
}

export class WatchManager {
  private readonly data = new WatchTable();
  private readonly child = new WatchTable();

  constructor(private readonly watchesMax: number = WATCHES_MAX) {
    assert(Number.isSafeInteger(watchesMax) && watchesMax > 0, 'watch manager: watchesMax is a positive integer');
  }

  /** (path, watcher) registrations over both tables. */
  get size(): number {
    return this.data.entries + this.child.entries;
  }

  /** A one-shot watch, as a successful getData/exists/getChildren with watch=true sets it. */
  watch(watcher: WatcherId, path: string, kind: WatchKind): WatchOutcome {
    const refused = this.refuse(path, kind === 'children' ? [this.child] : [this.data], watcher);
    if (refused) return refused;
    (kind === 'children' ? this.child : this.data).add(path, watcher, STANDARD);
    return { ok: true };
  }

  /** addWatch: a persistent or persistent-recursive watch on a path (which need not exist). */
  addWatch(watcher: WatcherId, path: string, mode: PersistentWatchMode): WatchOutcome {
    const tables = mode === 'persistent' ? [this.data, this.child] : [this.data];
    const refused = this.refuse(path, tables, watcher);
    if (refused) return refused;
    for (const table of tables) table.add(path, watcher, mode === 'persistent' ? PERSISTENT : RECURSIVE);
    return { ok: true };
  }

  private refuse(path: string, tables: WatchTable[], watcher: WatcherId): WatchOutcome | null {
    const check = validatePath(path);
    if (!check.ok) return { ok: false, code: 'BADARGUMENTS', reason: check.reason };
    const added = tables.filter((table) => table.flags(path, watcher) === 0).length;
    if (this.size + added > this.watchesMax) {
      return { ok: false, code: 'QUOTAEXCEEDED', reason: `the peer holds ${this.size} watches (limit ${this.watchesMax})` };
    }
    return null;
  }

  /** removeWatches (DataTree.removeWatch): NOWATCHER when nothing matched. */
  remove(watcher: WatcherId, path: string, kind: RemoveWatchKind): WatchOutcome {
    let removed = false;
    switch (kind) {
      case 'children':
        removed = this.child.remove(path, watcher, STANDARD);
        break;
      case 'data':
        removed = this.data.remove(path, watcher, STANDARD);
        break;
      case 'persistent':
        removed = this.child.remove(path, watcher, PERSISTENT);
        removed = this.data.remove(path, watcher, PERSISTENT) || removed;
        break;
      case 'persistent_recursive':
        removed = this.data.remove(path, watcher, RECURSIVE);
        break;
      case 'any':
        removed = this.child.remove(path, watcher, ALL_MODES);
        removed = this.data.remove(path, watcher, ALL_MODES) || removed;
        break;
    }
    return removed ? { ok: true } : { ok: false, code: 'NOWATCHER', reason: `no ${kind} watch on ${path} for this watcher` };
  }

  /** The watcher is gone (its session closed, its connection dropped): every watch of it goes. */
  removeWatcher(watcher: WatcherId): void {
    this.data.removeWatcher(watcher);
    this.child.removeWatcher(watcher);
  }

  /** True if the watcher holds a watch of this kind on exactly this path. */
  has(watcher: WatcherId, path: string, kind: RemoveWatchKind): boolean {
    const data = this.data.flags(path, watcher);
    const child = this.child.flags(path, watcher);
    switch (kind) {
      case 'children':
        return (child & STANDARD) !== 0;
      case 'data':
        return (data & STANDARD) !== 0;
      case 'persistent':
        return ((data | child) & PERSISTENT) !== 0;
      case 'persistent_recursive':
        return (data & RECURSIVE) !== 0;
      case 'any':
        return (data | child) !== 0;
    }
  }

  /** The events an applied txn's triggers cause, in trigger order. */
  trigger(triggers: readonly WatchTrigger[], authOf?: (watcher: WatcherId) => readonly Id[]): WatchEvent[] {
    const events: WatchEvent[] = [];
    for (const trigger of triggers) {
      const fired = this.fire(trigger);
      for (const watcher of fired) {
        if (authOf !== undefined && trigger.acl !== undefined && !checkAcl(trigger.acl, Perms.READ, authOf(watcher))) continue;
        events.push({ watcher, type: trigger.type, path: trigger.path, zxid: trigger.zxid });
      }
    }
    return events;
  }

  private fire(trigger: WatchTrigger): WatcherId[] {
    switch (trigger.type) {
      case 'NodeCreated':
      case 'NodeDataChanged':
        return this.data.trigger(trigger.path);
      case 'NodeChildrenChanged':
        return this.child.trigger(trigger.path);
      case 'NodeDeleted': {
        const fromData = this.data.trigger(trigger.path);
        const told = new Set(fromData);
        return [...fromData, ...this.child.trigger(trigger.path).filter((watcher) => !told.has(watcher))];
      }
    }
  }
}

/**
 * Sets the watch a read asked for, exactly when ZooKeeper's server sets it: getData and
 * getChildren only when they succeed (not on NONODE, not on NOAUTH); exists whenever the path was
 * valid, including when the node does not exist (then NodeCreated fires it). Returns null when the
 * read asked for no watch.
 */
export function watchForRead(manager: WatchManager, watcher: WatcherId, request: ReadRequest, result: ReadResult): WatchOutcome | null {
  if (!('watch' in request) || !request.watch) return null;
  if (!result.ok) return null;
  switch (request.op) {
    case 'getData':
      return manager.watch(watcher, request.path, 'data');
    case 'exists':
      return manager.watch(watcher, request.path, 'exists');
    case 'getChildren':
      return manager.watch(watcher, request.path, 'children');
  }
}
