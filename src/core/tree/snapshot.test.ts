// Proves toSnapshot/fromSnapshot round-trip a tree exactly (same snapshot, same digest, no aliasing)
// and that fromSnapshot refuses every kind of inconsistent snapshot with an error value (checked at
// both ends of the boundary), by building trees through TreeHarness, snapshotting them, and
// corrupting one field at a time.
import { describe, expect, it } from 'vitest';
import { DataTree } from './data-tree.js';
import { TreeHarness, type Caller } from './harness.js';
import { OPEN_ACL_UNSAFE, Perms, type ACL, type NodeRecord, type TreeSnapshot, type WriteRequest } from './types.js';

const OPEN: ACL[] = OPEN_ACL_UNSAFE.map((a) => ({ ...a, id: { ...a.id } }));
const me: Caller = { sessionId: 's1' };
const create = (path: string, mode: 'persistent' | 'ephemeral' | 'container' | 'persistent_ttl' = 'persistent'): WriteRequest => ({
  op: 'create',
  path,
  data: new TextEncoder().encode(`data of ${path}`),
  acl: path === '/b' ? [{ perms: Perms.ALL, id: { scheme: 'digest', id: 'alice:aGFzaA==' } }] : OPEN,
  mode,
  ...(mode === 'persistent_ttl' ? { ttlMs: 60_000 } : {}),
});

function populated(): TreeHarness {
  const h = new TreeHarness();
  h.openSession('s2');
  h.openSession('s1');
  for (const request of [create('/a'), create('/a-b'), create('/a/x'), create('/b'), create('/c', 'container'), create('/t', 'persistent_ttl'), create('/a/e', 'ephemeral')]) {
    expect(h.run(request, me).result.ok).toBe(true);
  }
  h.run({ op: 'setData', path: '/a', data: new Uint8Array([1, 2, 3]), version: 0 }, me);
  h.run({ op: 'setACL', path: '/a-b', acl: OPEN, version: 0 }, me);
  return h;
}

function load(snapshot: TreeSnapshot): DataTree {
  const loaded = DataTree.fromSnapshot(snapshot);
  if (!loaded.ok) throw new Error(loaded.error);
  return loaded.tree;
}

describe('toSnapshot / fromSnapshot round trip', () => {
  it('a fresh tree\'s snapshot holds the four reserved nodes and no sessions', () => {
    const snapshot = new DataTree().toSnapshot();
    expect(snapshot.nodes.map((n) => n.path)).toEqual(['/', '/zookeeper', '/zookeeper/config', '/zookeeper/quota']);
    expect(snapshot).toMatchObject({ lastZxid: 0, sessions: [] });
  });

  it('nodes are sorted by path (so parents come first), sessions by id', () => {
    const snapshot = populated().tree.toSnapshot();
    const paths = snapshot.nodes.map((n) => n.path);
    expect(paths).toEqual([...paths].sort());
    expect(paths.indexOf('/a')).toBeLessThan(paths.indexOf('/a/x'));
    expect(snapshot.sessions.map((s) => s.sessionId)).toEqual(['s1', 's2']);
  });

  it('rebuilds the same tree: equal snapshot, equal digest, equal reads', () => {
    const h = populated();
    const { tree } = h;
    const copy = load(tree.toSnapshot());
    expect(copy.toSnapshot()).toEqual(tree.toSnapshot());
    expect(copy.digest()).toBe(tree.digest());
    expect(copy.lastZxid).toBe(tree.lastZxid);
    expect(copy.getChildren('/a', { sessionId: 's1', auth: [] })).toEqual(tree.getChildren('/a', { sessionId: 's1', auth: [] }));
    expect(copy.ephemeralPaths('s1')).toEqual(['/a/e']);
    expect(copy.due(h.now + 10 ** 9).paths).toEqual(['/t']);
  });

  it('a loaded tree goes on exactly like the original', () => {
    const h = populated();
    const copy = load(h.tree.toSnapshot());
    for (const request of [create('/a/y'), { op: 'closeSession', sessionId: 's1' } as WriteRequest, create('/c/k')]) {
      const run = h.run(request, { sessionId: 's2' });
      copy.apply(run.txn, run.zxid);
      expect(copy.digest()).toBe(h.tree.digest());
    }
    expect(copy.toSnapshot()).toEqual(h.tree.toSnapshot());
  });

  it('neither side aliases the other: changing a snapshot changes no tree', () => {
    const { tree } = populated();
    const snapshot = tree.toSnapshot();
    const copy = load(snapshot);
    const digest = copy.digest();
    const a = snapshot.nodes.find((n) => n.path === '/a') as NodeRecord;
    a.data[0] = 99;
    (a.acl[0] as ACL).perms = 0;
    expect(copy.digest()).toBe(digest);
    expect(tree.digest()).toBe(digest);
  });
});

describe('fromSnapshot validates what it loads', () => {
  function corrupt(change: (s: TreeSnapshot) => void): string {
    const snapshot = populated().tree.toSnapshot();
    change(snapshot);
    const loaded = DataTree.fromSnapshot(snapshot);
    if (loaded.ok) throw new Error('expected the snapshot to be refused');
    return loaded.error;
  }
  const node = (s: TreeSnapshot, path: string): NodeRecord => s.nodes.find((n) => n.path === path) as NodeRecord;

  it.each<[string, (s: TreeSnapshot) => void, RegExp]>([
    ['unsorted nodes', (s) => s.nodes.reverse(), /root must come first|sorted/],
    ['a duplicate node', (s) => s.nodes.splice(2, 0, s.nodes[2] as NodeRecord), /sorted/],
    ['a missing parent', (s) => s.nodes.splice(s.nodes.findIndex((n) => n.path === '/a'), 1), /parent \/a is missing/],
    ['a missing reserved node', (s) => s.nodes.splice(s.nodes.findIndex((n) => n.path === '/zookeeper/quota'), 1), /reserved node/],
    ['an extra node under /zookeeper', (s) => s.nodes.splice(s.nodes.findIndex((n) => n.path === '/zookeeper/quota') + 1, 0, { ...node(s, '/a'), path: '/zookeeper/quota/x' }), /under \/zookeeper/],
    ['an invalid path', (s) => (node(s, '/b').path = '/b/'), /invalid path/],
    ['an owner that is not a session', (s) => (node(s, '/a/e').ephemeralOwner = 'ghost'), /owner/],
    ['an owner on a persistent node', (s) => (node(s, '/a').ephemeralOwner = 's1'), /owner/],
    ['a TTL on a persistent node', (s) => (node(s, '/a').ttlMs = 5), /ttlMs/],
    ['a TTL node without TTL', (s) => (node(s, '/t').ttlMs = 0), /ttlMs/],
    ['an unknown kind', (s) => (node(s, '/a').kind = 'weird' as never), /kind/],
    ['an empty ACL', (s) => (node(s, '/a').acl = []), /acl/],
    ['an unexpanded auth ACL', (s) => (node(s, '/a').acl = [{ perms: 31, id: { scheme: 'auth', id: '' } }]), /acl/],
    ['a zxid after lastZxid', (s) => (node(s, '/a').mzxid = s.lastZxid + 1), /zxid/],
    ['mzxid before czxid', (s) => (node(s, '/a').mzxid = 0), /precedes czxid/],
    ['a fractional version', (s) => (node(s, '/a').version = 0.5), /version/],
    ['data that is not bytes', (s) => (node(s, '/a').data = [1] as never), /data/],
    ['an unsorted session list', (s) => s.sessions.reverse(), /sessions are not sorted/],
    ['a session with a bad timeout', (s) => ((s.sessions[0] as { timeoutMs: number }).timeoutMs = 0), /timeout/],
    ['a negative lastZxid', (s) => (s.lastZxid = -1), /lastZxid/],
    ['a persistent child of an ephemeral', (s) => s.nodes.splice(s.nodes.findIndex((n) => n.path === '/a/e') + 1, 0, { ...node(s, '/a/x'), path: '/a/e/z' }), /parent is ephemeral/],
    ['an ephemeral root', (s) => Object.assign(node(s, '/'), { kind: 'ephemeral', ephemeralOwner: 's1' }), /reserved nodes are persistent/],
  ])('refuses %s', (_what, change, message) => {
    expect(corrupt(change)).toMatch(message);
  });

  it('refuses a snapshot over the tree\'s capacity limits', () => {
    const snapshot = populated().tree.toSnapshot();
    expect(DataTree.fromSnapshot(snapshot, { limits: { nodesMax: snapshot.nodes.length - 1 } })).toMatchObject({ ok: false });
    expect(DataTree.fromSnapshot(snapshot, { limits: { sessionsMax: 1 } })).toMatchObject({ ok: false });
    expect(DataTree.fromSnapshot(snapshot, { limits: { childrenPerNodeMax: 2 } })).toMatchObject({ ok: false });
  });

  it('refuses what is not a snapshot at all', () => {
    expect(DataTree.fromSnapshot(null as never)).toMatchObject({ ok: false });
    expect(DataTree.fromSnapshot({ lastZxid: 0, nodes: 'x', sessions: [] } as never)).toMatchObject({ ok: false });
  });
});
