// Proves the watch manager delivers what ZooKeeper's server-side WatchManager + DataTree deliver:
// per rule (programmer's guide "ZooKeeper Watches", "Persistent, Recursive Watches"), a watch is set
// by a read exactly when the server sets it, the applied txn's triggers fire the right watchers
// once, one-shot watches are used up, persistent ones stay, and removeWatches answers NOWATCHER
// when nothing matched. Every scenario runs real txns through TreeHarness and feeds their triggers.
import { describe, expect, it } from 'vitest';
import { TreeHarness, type Caller } from './harness.js';
import { OPEN_ACL_UNSAFE, Perms, type ACL, type ReadRequest, type WatchEvent, type WriteRequest } from './types.js';
import { WatchManager, watchForRead } from './watches.js';

const OPEN: ACL[] = OPEN_ACL_UNSAFE.map((a) => ({ ...a, id: { ...a.id } }));
const me: Caller = { sessionId: 's0' };
const ctx = { sessionId: 's0', auth: [] };
const create = (path: string, acl: ACL[] = OPEN): WriteRequest => ({ op: 'create', path, data: new Uint8Array(0), acl, mode: 'persistent' });
const setData = (path: string): WriteRequest => ({ op: 'setData', path, data: new Uint8Array(1), version: -1 });
const del = (path: string): WriteRequest => ({ op: 'delete', path, version: -1 });

function scenario(): {
  h: TreeHarness;
  watches: WatchManager;
  read: (watcher: string, request: ReadRequest) => void;
  write: (request: WriteRequest) => [string, string, string][];
} {
  const h = new TreeHarness();
  h.openSession('s0');
  const watches = new WatchManager();
  return {
    h,
    watches,
    read: (watcher, request) => {
      const result = h.tree.read(request, ctx);
      watchForRead(watches, watcher, request, result);
    },
    write: (request) => {
      const run = h.run(request, me);
      expect(run.result.ok).toBe(true);
      return watches.trigger(run.triggers).map((e: WatchEvent) => [e.watcher, e.type, e.path]);
    },
  };
}

describe('one-shot data watches (getData)', () => {
  it('setData fires NodeDataChanged once; the watch is then gone', () => {
    const s = scenario();
    s.write(create('/a'));
    s.read('w1', { op: 'getData', path: '/a', watch: true });
    expect(s.write(setData('/a'))).toEqual([['w1', 'NodeDataChanged', '/a']]);
    expect(s.write(setData('/a'))).toEqual([]);
    expect(s.watches.size).toBe(0);
  });

  it('delete fires NodeDeleted', () => {
    const s = scenario();
    s.write(create('/a'));
    s.read('w1', { op: 'getData', path: '/a', watch: true });
    expect(s.write(del('/a'))).toEqual([['w1', 'NodeDeleted', '/a']]);
  });

  it('no watch is set when getData fails (NONODE, NOAUTH) or when watch is false', () => {
    const s = scenario();
    s.read('w1', { op: 'getData', path: '/a', watch: true });
    s.write(create('/secret', [{ perms: Perms.WRITE, id: { scheme: 'world', id: 'anyone' } }]));
    s.read('w1', { op: 'getData', path: '/secret', watch: true });
    s.read('w1', { op: 'getData', path: '/secret', watch: false });
    expect(s.watches.size).toBe(0);
    expect(s.write(create('/a'))).toEqual([]);
  });
});

describe('exists watches', () => {
  it('exists on a missing node sets a data watch that NodeCreated fires', () => {
    const s = scenario();
    s.read('w1', { op: 'exists', path: '/a', watch: true });
    expect(s.watches.has('w1', '/a', 'data')).toBe(true);
    expect(s.write(create('/a'))).toEqual([['w1', 'NodeCreated', '/a']]);
    expect(s.write(setData('/a'))).toEqual([]);
  });

  it('exists on an existing node fires on NodeDataChanged and on NodeDeleted', () => {
    const s = scenario();
    s.write(create('/a'));
    s.read('w1', { op: 'exists', path: '/a', watch: true });
    expect(s.write(setData('/a'))).toEqual([['w1', 'NodeDataChanged', '/a']]);
    s.read('w1', { op: 'exists', path: '/a', watch: true });
    expect(s.write(del('/a'))).toEqual([['w1', 'NodeDeleted', '/a']]);
  });
});

describe('child watches (getChildren)', () => {
  it('a child created or deleted fires NodeChildrenChanged on the parent; the node\'s own data change does not', () => {
    const s = scenario();
    s.write(create('/p'));
    s.read('w1', { op: 'getChildren', path: '/p', watch: true });
    expect(s.write(setData('/p'))).toEqual([]);
    expect(s.write(create('/p/c'))).toEqual([['w1', 'NodeChildrenChanged', '/p']]);
    s.read('w1', { op: 'getChildren', path: '/p', watch: true });
    expect(s.write(del('/p/c'))).toEqual([['w1', 'NodeChildrenChanged', '/p']]);
  });

  it('deleting the watched node itself fires NodeDeleted to its child watchers', () => {
    const s = scenario();
    s.write(create('/p'));
    s.read('w1', { op: 'getChildren', path: '/p', watch: true });
    expect(s.write(del('/p'))).toEqual([['w1', 'NodeDeleted', '/p']]);
  });

  it('a watcher with data and child watches on a deleted node hears NodeDeleted once, and both watches are used up', () => {
    const s = scenario();
    s.write(create('/p'));
    s.read('w1', { op: 'getData', path: '/p', watch: true });
    s.read('w1', { op: 'getChildren', path: '/p', watch: true });
    s.read('w2', { op: 'getChildren', path: '/', watch: true });
    expect(s.write(del('/p'))).toEqual([
      ['w1', 'NodeDeleted', '/p'],
      ['w2', 'NodeChildrenChanged', '/'],
    ]);
    expect(s.watches.size).toBe(0);
  });
});

describe('persistent watches (addWatch PERSISTENT)', () => {
  it('get all four event types for their path, and stay', () => {
    const s = scenario();
    s.watches.addWatch('w1', '/p', 'persistent');
    expect(s.write(create('/p'))).toEqual([['w1', 'NodeCreated', '/p']]);
    expect(s.write(setData('/p'))).toEqual([['w1', 'NodeDataChanged', '/p']]);
    expect(s.write(create('/p/c'))).toEqual([['w1', 'NodeChildrenChanged', '/p']]);
    expect(s.write(setData('/p/c'))).toEqual([]);
    expect(s.write(del('/p/c'))).toEqual([['w1', 'NodeChildrenChanged', '/p']]);
    expect(s.write(del('/p'))).toEqual([['w1', 'NodeDeleted', '/p']]);
    expect(s.write(create('/p'))).toEqual([['w1', 'NodeCreated', '/p']]);
  });

  it('a one-shot watch beside a persistent one on the same path is used up; the persistent one stays (WatchStats)', () => {
    const s = scenario();
    s.write(create('/p'));
    s.watches.addWatch('w1', '/p', 'persistent');
    s.read('w1', { op: 'getData', path: '/p', watch: true });
    expect(s.write(setData('/p'))).toEqual([['w1', 'NodeDataChanged', '/p']]);
    expect(s.watches.has('w1', '/p', 'data')).toBe(false);
    expect(s.watches.has('w1', '/p', 'persistent')).toBe(true);
  });
});

describe('persistent recursive watches (addWatch PERSISTENT_RECURSIVE)', () => {
  it('get created, deleted and data events for the path and every descendant, never NodeChildrenChanged', () => {
    const s = scenario();
    s.watches.addWatch('w1', '/r', 'persistent_recursive');
    expect(s.write(create('/r'))).toEqual([['w1', 'NodeCreated', '/r']]);
    expect(s.write(create('/r/a'))).toEqual([['w1', 'NodeCreated', '/r/a']]);
    expect(s.write(create('/r/a/b'))).toEqual([['w1', 'NodeCreated', '/r/a/b']]);
    expect(s.write(setData('/r/a/b'))).toEqual([['w1', 'NodeDataChanged', '/r/a/b']]);
    expect(s.write(del('/r/a/b'))).toEqual([['w1', 'NodeDeleted', '/r/a/b']]);
    expect(s.write(create('/rx'))).toEqual([]);
    expect(s.watches.size).toBe(1);
  });

  it('a watcher matching at several levels hears one event per trigger', () => {
    const s = scenario();
    s.watches.addWatch('w1', '/', 'persistent_recursive');
    s.watches.addWatch('w1', '/r', 'persistent_recursive');
    s.write(create('/r'));
    s.read('w1', { op: 'exists', path: '/r/a', watch: true });
    expect(s.write(create('/r/a'))).toEqual([['w1', 'NodeCreated', '/r/a']]);
  });

  it('with authOf, an event is withheld from a watcher without READ on that node (CVE-2024-23944); other watchers still hear it', () => {
    const s = scenario();
    s.watches.addWatch('w1', '/', 'persistent_recursive');
    s.watches.addWatch('w2', '/', 'persistent_recursive');
    const alice = { scheme: 'digest', id: 'alice:aGFzaA==' };
    const run = s.h.run(create('/hidden', [{ perms: Perms.ALL, id: alice }]), { sessionId: 's0', auth: [alice] });
    const events = s.watches.trigger(run.triggers, (watcher) => (watcher === 'w2' ? [alice] : []));
    expect(events.map((e) => [e.watcher, e.type, e.path])).toEqual([['w2', 'NodeCreated', '/hidden']]);
  });
});

describe('events carry the txn\'s zxid and keep trigger order', () => {
  it('a multi\'s events all have its zxid, in op order', () => {
    const s = scenario();
    s.watches.addWatch('w1', '/', 'persistent_recursive');
    const run = s.h.run({ op: 'multi', ops: [create('/a') as never, create('/b') as never, setData('/a') as never] }, me);
    expect(s.watches.trigger(run.triggers)).toEqual([
      { watcher: 'w1', type: 'NodeCreated', path: '/a', zxid: run.zxid },
      { watcher: 'w1', type: 'NodeCreated', path: '/b', zxid: run.zxid },
      { watcher: 'w1', type: 'NodeDataChanged', path: '/a', zxid: run.zxid },
    ]);
  });
});

describe('removeWatches (DataTree.removeWatch) and removeWatcher', () => {
  it('NOWATCHER when nothing matched', () => {
    const w = new WatchManager();
    expect(w.remove('w1', '/a', 'data')).toMatchObject({ ok: false, code: 'NOWATCHER' });
    w.watch('w1', '/a', 'children');
    expect(w.remove('w1', '/a', 'data')).toMatchObject({ ok: false, code: 'NOWATCHER' });
    expect(w.remove('w2', '/a', 'children')).toMatchObject({ ok: false, code: 'NOWATCHER' });
    expect(w.remove('w1', '/a', 'children')).toEqual({ ok: true });
  });

  it('data removes exists watches too (one table on the server); persistent and recursive by mode; any removes all', () => {
    const w = new WatchManager();
    w.watch('w1', '/a', 'exists');
    expect(w.remove('w1', '/a', 'data')).toEqual({ ok: true });
    w.addWatch('w1', '/a', 'persistent');
    expect(w.remove('w1', '/a', 'persistent_recursive')).toMatchObject({ code: 'NOWATCHER' });
    expect(w.remove('w1', '/a', 'persistent')).toEqual({ ok: true });
    expect(w.size).toBe(0);
    w.addWatch('w1', '/a', 'persistent_recursive');
    w.watch('w1', '/a', 'children');
    w.watch('w1', '/a', 'data');
    expect(w.remove('w1', '/a', 'any')).toEqual({ ok: true });
    expect(w.size).toBe(0);
  });

  it('removeWatcher drops every watch of that watcher only', () => {
    const w = new WatchManager();
    w.watch('w1', '/a', 'data');
    w.watch('w1', '/b', 'children');
    w.addWatch('w1', '/', 'persistent_recursive');
    w.watch('w2', '/a', 'data');
    w.removeWatcher('w1');
    expect(w.size).toBe(1);
    expect(w.has('w2', '/a', 'data')).toBe(true);
  });

  it('BADARGUMENTS for a malformed path; QUOTAEXCEEDED past the manager\'s limit (injected: 2)', () => {
    const w = new WatchManager(2);
    expect(w.addWatch('w1', '/a/', 'persistent')).toMatchObject({ ok: false, code: 'BADARGUMENTS' });
    expect(w.addWatch('w1', '/a', 'persistent')).toEqual({ ok: true });
    expect(w.watch('w1', '/a', 'data')).toEqual({ ok: true });
    expect(w.watch('w2', '/a', 'data')).toMatchObject({ ok: false, code: 'QUOTAEXCEEDED' });
  });
});
