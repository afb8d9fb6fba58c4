/**
 * The client's watch registry: ZooKeeper's ZKWatchManager. The serving peer knows one watcher per
 * session (its id is the session id) and sends one event per change; this registry knows which
 * of the user's functions wanted it, and "materializes" each event into the set of functions to
 * call, by ZooKeeper's rules (ZKWatchManager.materialize, 3.9):
 *
 *   NodeCreated, NodeDataChanged   data + exist one-shots at the path (used up)
 *   NodeChildrenChanged            child one-shots at the path (used up)
 *   NodeDeleted                    data + exist + child one-shots at the path (used up)
 *   every type                     persistent watchers at the path (kept)
 *   every type but children        persistent_recursive watchers at the path or any ancestor (kept)
 *
 * Each (kind, path) holds a Set of functions, and an event's functions are collected into one Set,
 * so a function registered twice, or under several kinds, is called once per event.
 *
 * Which table a read's watch goes into (ZooKeeper's WatchRegistration subclasses):
 *   getData            data, only when the read succeeded
 *   exists             data when the node exists, exist when it does not (ExistsWatchRegistration)
 *   getChildren        child, only when the read succeeded
 *   addWatch           persistent or persistent_recursive
 */

import { assert } from '../core/assert.js';
import { ancestorsOf } from '../core/tree/paths.js';
import type { RemoveWatchKind, WatchEventType } from '../core/tree/types.js';
import { WATCHERS_PER_KEEPER_MAX } from './limits.js';
import type { Watcher } from './types.js';

export type ClientWatchKind = 'data' | 'exist' | 'child' | 'persistent' | 'persistent_recursive';

export const CLIENT_WATCH_KINDS: readonly ClientWatchKind[] = ['data', 'exist', 'child', 'persistent', 'persistent_recursive'];

/** The server-side table each client kind lives in (the server keeps data and exist watches in one
 *  table, so removing the server's 'data' watch needs both client kinds empty). */
const SERVER_KIND_OF: Record<ClientWatchKind, Exclude<RemoveWatchKind, 'any'>> = {
  data: 'data',
  exist: 'data',
  child: 'children',
  persistent: 'persistent',
  persistent_recursive: 'persistent_recursive',
};

export class WatchRegistry {
  private readonly tables = new Map<ClientWatchKind, Map<string, Set<Watcher>>>(CLIENT_WATCH_KINDS.map((kind) => [kind, new Map()]));
  /** (kind, path, function) registrations over every table. */
  private count = 0;

  constructor(private readonly registrationsMax: number = WATCHERS_PER_KEEPER_MAX) {
    assert(Number.isSafeInteger(registrationsMax) && registrationsMax > 0, 'watch registry: registrationsMax is a positive integer');
  }

  get size(): number {
    return this.count;
  }

  /** True if one more registration fits. */
  hasRoom(): boolean {
    return this.count < this.registrationsMax;
  }

  add(kind: ClientWatchKind, path: string, watcher: Watcher): void {
    const table = this.table(kind);
    let watchers = table.get(path);
    if (watchers === undefined) {
      watchers = new Set();
      table.set(path, watchers);
    }
    if (watchers.has(watcher)) return;
    assert(this.hasRoom(), 'watch registry: the caller checked hasRoom before registering');
    watchers.add(watcher);
    this.count += 1;
  }

  /** The functions an event calls; one-shot registrations it fires are used up. */
  materialize(type: WatchEventType, path: string): Set<Watcher> {
    const result = new Set<Watcher>();
    switch (type) {
      case 'NodeCreated':
      case 'NodeDataChanged':
        this.take('data', path, result);
        this.take('exist', path, result);
        break;
      case 'NodeChildrenChanged':
        this.take('child', path, result);
        break;
      case 'NodeDeleted':
        this.take('data', path, result);
        this.take('exist', path, result);
        this.take('child', path, result);
        break;
    }
    this.collect('persistent', path, result);
    // A recursive watch promises no child events: the server sends NodeChildrenChanged for a path
    // only because some one-shot or persistent watch there asked for it (addPersistentWatches).
    if (type !== 'NodeChildrenChanged') {
      this.collect('persistent_recursive', path, result);
      for (const ancestor of path === '/' ? [] : ancestorsOf(path)) this.collect('persistent_recursive', ancestor, result);
    }
    return result;
  }

  /** True if `watcher` (or, when undefined, any watcher) is registered at `path` under any kind. */
  contains(path: string, watcher: Watcher | undefined): boolean {
    return CLIENT_WATCH_KINDS.some((kind) => {
      const watchers = this.table(kind).get(path);
      return watchers !== undefined && (watcher === undefined || watchers.has(watcher));
    });
  }

  /**
   * Removes `watcher` (or every watcher, when undefined) at `path` under every kind. Returns
   * whether anything was removed and the server-side kinds no client watcher at `path` needs any
   * more (to be removed at the serving peer).
   */
  remove(path: string, watcher: Watcher | undefined): { removed: boolean; serverKinds: Exclude<RemoveWatchKind, 'any'>[] } {
    const emptied = new Set<ClientWatchKind>();
    let removed = false;
    for (const kind of CLIENT_WATCH_KINDS) {
      const table = this.table(kind);
      const watchers = table.get(path);
      if (watchers === undefined) continue;
      if (watcher === undefined) {
        this.count -= watchers.size;
        removed = true;
        table.delete(path);
        emptied.add(kind);
      } else if (watchers.delete(watcher)) {
        this.count -= 1;
        removed = true;
        if (watchers.size === 0) {
          table.delete(path);
          emptied.add(kind);
        }
      }
    }
    const serverKinds = new Set<Exclude<RemoveWatchKind, 'any'>>();
    for (const kind of emptied) {
      const serverKind = SERVER_KIND_OF[kind];
      const stillNeeded = CLIENT_WATCH_KINDS.some((other) => SERVER_KIND_OF[other] === serverKind && this.table(other).has(path));
      if (!stillNeeded) serverKinds.add(serverKind);
    }
    assert(this.count >= 0, 'watch registry: the count never goes negative');
    return { removed, serverKinds: [...serverKinds] };
  }

  /** Every registration goes (the session ended). */
  clear(): void {
    for (const table of this.tables.values()) table.clear();
    this.count = 0;
  }

  private table(kind: ClientWatchKind): Map<string, Set<Watcher>> {
    const table = this.tables.get(kind);
    assert(table !== undefined, `watch registry: a table for ${kind}`);
    return table;
  }

  private take(kind: ClientWatchKind, path: string, into: Set<Watcher>): void {
    const table = this.table(kind);
    const watchers = table.get(path);
    if (watchers === undefined) return;
    table.delete(path);
    this.count -= watchers.size;
    for (const watcher of watchers) into.add(watcher);
  }

  private collect(kind: ClientWatchKind, path: string, into: Set<Watcher>): void {
    const watchers = this.table(kind).get(path);
    if (watchers === undefined) return;
    for (const watcher of watchers) into.add(watcher);
  }
}
