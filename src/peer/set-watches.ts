/**
 * ZooKeeper's SetWatches (DataTree.setWatches, 3.6+ with persistent watches): a client that moves
 * its session to another serving peer hands over the watches it held, with the last zxid it saw.
 * A one-shot watch whose node changed after that zxid fires at once (the change happened while
 * the client was between peers), the others are registered again:
 *   data:  node gone → NodeDeleted; mzxid > lastZxid → NodeDataChanged; else registered
 *   exist: node present → NodeCreated; else registered
 *   child: node gone → NodeDeleted; pzxid > lastZxid → NodeChildrenChanged; else registered
 *   persistent / persistent_recursive: registered again, no event (ZooKeeper's setWatches2)
 * Returns the events to deliver (before any later reply) and how many registrations failed
 * (the watch table is full, or a path is invalid): those watches are lost, as a refused read's.
 */

import type { DataTree, WatchManager } from '../core/tree/index.js';
import type { SessionId, WatchEvent, WatchEventType } from '../core/tree/types.js';
import type { ResumeWatch } from './serving-api.js';

export function setWatches(
  tree: DataTree,
  watches: WatchManager,
  watcher: SessionId,
  lastZxid: number,
  held: readonly ResumeWatch[],
): { events: WatchEvent[]; refused: number } {
  const events: WatchEvent[] = [];
  let refused = 0;
  const fire = (type: WatchEventType, path: string, zxid: number): void => {
    events.push({ watcher, type, path, zxid });
  };
  const check = (outcome: { ok: boolean }): void => {
    if (!outcome.ok) refused += 1;
  };
  for (const watch of held) {
    const stat = tree.stat(watch.path);
    if (watch.data) {
      if (stat === undefined) fire('NodeDeleted', watch.path, lastZxid);
      else if (stat.mzxid > lastZxid) fire('NodeDataChanged', watch.path, stat.mzxid);
      else check(watches.watch(watcher, watch.path, 'data'));
    }
    if (watch.exist) {
      if (stat !== undefined) fire('NodeCreated', watch.path, stat.czxid);
      else check(watches.watch(watcher, watch.path, 'data'));
    }
    if (watch.child) {
      if (stat === undefined) {
        if (!watch.data) fire('NodeDeleted', watch.path, lastZxid);
      } else if (stat.pzxid > lastZxid) fire('NodeChildrenChanged', watch.path, stat.pzxid);
      else check(watches.watch(watcher, watch.path, 'children'));
    }
    if (watch.persistent) check(watches.addWatch(watcher, watch.path, 'persistent'));
    if (watch.recursive) check(watches.addWatch(watcher, watch.path, 'persistent_recursive'));
  }
  return { events, refused };
}
