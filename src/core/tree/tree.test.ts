// Proves a fresh DataTree is what ZooKeeper's DataTree constructor builds, and that reads answer as
// FinalRequestProcessor does (validation, NONODE, the ACL checks, sorting, getACL redaction,
// getEphemerals prefixes, getAllChildrenNumber), by driving the tree through TreeHarness and
// comparing every Stat field with the value worked out from DataTree/DataNode.copyStat.
import { describe, expect, it } from 'vitest';
import { TreeHarness } from './harness.js';
import { OPEN_ACL_UNSAFE, Perms, READ_ACL_UNSAFE, type ACL, type ReadResult, type RequestContext, type Stat } from './types.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const OPEN: ACL[] = OPEN_ACL_UNSAFE.map((a) => ({ ...a, id: { ...a.id } }));
const anyone: RequestContext = { sessionId: 's0', auth: [] };
const alice = { scheme: 'digest', id: 'alice:aGFzaA==' };
const bob = { scheme: 'digest', id: 'bob:Ym9i' };

function ok<T extends ReadResult>(result: T): Extract<T, { ok: true }> {
  if (!result.ok) throw new Error(`expected ok, got ${result.code}`);
  return result as Extract<T, { ok: true }>;
}

function statOf(result: ReadResult): Stat {
  const value = ok(result);
  if (!('stat' in value) || value.stat === null) throw new Error('no stat');
  return value.stat;
}

const ZERO_STAT: Stat = {
  czxid: 0,
  mzxid: 0,
  pzxid: 0,
  ctime: 0,
  mtime: 0,
  version: 0,
  cversion: 0,
  aversion: 0,
  ephemeralOwner: null,
  dataLength: 0,
  numChildren: 0,
};

describe('DataTree constructor: the reserved nodes', () => {
  it('a fresh tree lists only zookeeper under /', () => {
    const { tree } = new TreeHarness();
    expect(ok(tree.getChildren('/', anyone))).toMatchObject({ children: ['zookeeper'] });
    expect(ok(tree.getChildren('/zookeeper', anyone))).toMatchObject({ children: ['config', 'quota'] });
    expect(tree.nodeCount).toBe(4);
  });

  it('DataNode.copyStat: root shows cversion -1 (0 creates * 2 - 1 child) and every other field 0', () => {
    const { tree } = new TreeHarness();
    expect(statOf(tree.exists('/'))).toEqual({ ...ZERO_STAT, cversion: -1, numChildren: 1 });
    expect(statOf(tree.exists('/zookeeper'))).toEqual({ ...ZERO_STAT, cversion: -2, numChildren: 2 });
    expect(statOf(tree.exists('/zookeeper/quota'))).toEqual(ZERO_STAT);
  });

  it('addConfigNode: /zookeeper/config is world-readable only, with aversion -1 (setACL(..., -1))', () => {
    const { tree } = new TreeHarness();
    expect(statOf(tree.exists('/zookeeper/config'))).toEqual({ ...ZERO_STAT, aversion: -1 });
    expect(ok(tree.getACL('/zookeeper/config', anyone)).acl).toEqual(READ_ACL_UNSAFE);
  });

  it('after the first create the root shows cversion 0 (1 create * 2 - 2 children), as real ZooKeeper does', () => {
    const h = new TreeHarness();
    h.openSession('s0');
    const run = h.run({ op: 'create', path: '/a', data: bytes(''), acl: OPEN, mode: 'persistent' }, anyone);
    expect(statOf(h.tree.exists('/'))).toMatchObject({ cversion: 0, numChildren: 2, pzxid: run.zxid });
  });
});

describe('FinalRequestProcessor reads', () => {
  function populated(): TreeHarness {
    const h = new TreeHarness();
    h.openSession('s0');
    h.openSession('s1');
    const create = (path: string, extra: Partial<{ acl: ACL[]; mode: 'ephemeral' | 'persistent' }> = {}, caller = anyone): void => {
      const run = h.run({ op: 'create', path, data: bytes(path), acl: extra.acl ?? OPEN, mode: extra.mode ?? 'persistent' }, caller);
      expect(run.result.ok).toBe(true);
    };
    create('/b');
    create('/a');
    create('/a/z');
    create('/a/y');
    create('/a/x');
    create('/a/y/deep');
    create('/a/e1', { mode: 'ephemeral' });
    create('/ab', { mode: 'ephemeral' });
    create('/a/e2', { mode: 'ephemeral' }, { sessionId: 's1', auth: [] });
    create('/secret', { acl: [{ perms: Perms.ALL, id: alice }] }, { sessionId: 's0', auth: [alice] });
    create('/readable', { acl: [{ perms: Perms.READ, id: { scheme: 'world', id: 'anyone' } }, { perms: Perms.ADMIN, id: alice }] }, {
      sessionId: 's0',
      auth: [alice],
    });
    return h;
  }

  it('getChildren returns names sorted, with the parent\'s Stat', () => {
    const { tree } = populated();
    const result = ok(tree.getChildren('/a', anyone));
    expect(result.children).toEqual(['e1', 'e2', 'x', 'y', 'z']);
    expect(result.stat.numChildren).toBe(5);
  });

  it('getData returns the bytes (a copy) and the Stat', () => {
    const { tree } = populated();
    const result = ok(tree.getData('/a/y', anyone));
    expect(new TextDecoder().decode(result.data)).toBe('/a/y');
    expect(result.stat.dataLength).toBe(4);
    result.data[0] = 0;
    expect(new TextDecoder().decode(ok(tree.getData('/a/y', anyone)).data)).toBe('/a/y');
  });

  it('exists answers stat: null for a missing node (no error), and needs no permission', () => {
    const { tree } = populated();
    expect(ok(tree.exists('/missing')).stat).toBeNull();
    expect(ok(tree.exists('/secret')).stat).not.toBeNull();
  });

  it('NONODE for a missing node on getData, getChildren, getACL, getAllChildrenNumber', () => {
    const { tree } = populated();
    for (const result of [
      tree.getData('/missing', anyone),
      tree.getChildren('/missing', anyone),
      tree.getACL('/missing', anyone),
      tree.getAllChildrenNumber('/missing', anyone),
    ]) {
      expect(result).toEqual({ ok: false, code: 'NONODE', path: '/missing' });
    }
  });

  it('BADARGUMENTS for a malformed path on every read, before any lookup', () => {
    const { tree } = populated();
    for (const result of [
      tree.getData('/a/', anyone),
      tree.exists('bad'),
      tree.getChildren('/a//b', anyone),
      tree.getACL('/.', anyone),
      tree.getEphemerals('/a/', anyone),
      tree.getAllChildrenNumber('', anyone),
      tree.read({ op: 'sync', path: '/x/' }, anyone),
    ]) {
      expect(result).toMatchObject({ ok: false, code: 'BADARGUMENTS' });
    }
  });

  it('NOAUTH: getData, getChildren and getAllChildrenNumber need READ on the node', () => {
    const { tree } = populated();
    expect(tree.getData('/secret', anyone)).toEqual({ ok: false, code: 'NOAUTH', path: '/secret' });
    expect(tree.getChildren('/secret', anyone)).toMatchObject({ ok: false, code: 'NOAUTH' });
    expect(tree.getAllChildrenNumber('/secret', anyone)).toMatchObject({ ok: false, code: 'NOAUTH' });
    expect(tree.getData('/secret', { sessionId: 's0', auth: [alice] }).ok).toBe(true);
    expect(tree.getData('/secret', { sessionId: 's0', auth: [bob] }).ok).toBe(false);
    expect(tree.getData('/secret', { sessionId: 's0', auth: [{ scheme: 'super', id: '' }] }).ok).toBe(true);
  });

  it('getACL (ZooKeeper 3.9): needs READ or ADMIN; without ADMIN digest ids are shown as user:x', () => {
    const { tree } = populated();
    expect(tree.getACL('/secret', anyone)).toMatchObject({ ok: false, code: 'NOAUTH' });
    expect(ok(tree.getACL('/readable', anyone)).acl).toEqual([
      { perms: Perms.READ, id: { scheme: 'world', id: 'anyone' } },
      { perms: Perms.ADMIN, id: { scheme: 'digest', id: 'alice:x' } },
    ]);
    expect(ok(tree.getACL('/readable', { sessionId: 's0', auth: [alice] })).acl[1]).toEqual({ perms: Perms.ADMIN, id: alice });
  });

  it('getEphemerals: the caller\'s own, filtered by plain string prefix (so /a also matches /ab), sorted', () => {
    const { tree } = populated();
    expect(ok(tree.getEphemerals('/', anyone)).paths).toEqual(['/a/e1', '/ab']);
    expect(ok(tree.getEphemerals('/a', anyone)).paths).toEqual(['/a/e1', '/ab']);
    expect(ok(tree.getEphemerals('/a/e', anyone)).paths).toEqual(['/a/e1']);
    expect(ok(tree.getEphemerals('/', { sessionId: 's1', auth: [] })).paths).toEqual(['/a/e2']);
    expect(ok(tree.getEphemerals('/', { sessionId: 'nobody', auth: [] })).paths).toEqual([]);
  });

  it('getAllChildrenNumber counts every descendant; for / that includes the 3 /zookeeper nodes', () => {
    const { tree } = populated();
    expect(ok(tree.getAllChildrenNumber('/a', anyone)).count).toBe(6);
    expect(ok(tree.getAllChildrenNumber('/a/y/deep', anyone)).count).toBe(0);
    expect(ok(tree.getAllChildrenNumber('/', anyone)).count).toBe(tree.nodeCount - 1);
    expect(tree.nodeCount - 1).toBe(11 + 3);
  });

  it('read() dispatches every read request', () => {
    const { tree } = populated();
    expect(tree.read({ op: 'getData', path: '/b', watch: false }, anyone)).toMatchObject({ ok: true, op: 'getData' });
    expect(tree.read({ op: 'exists', path: '/b', watch: false }, anyone)).toMatchObject({ ok: true, op: 'exists' });
    expect(tree.read({ op: 'getChildren', path: '/b', watch: false }, anyone)).toMatchObject({ ok: true, children: [] });
    expect(tree.read({ op: 'getACL', path: '/b' }, anyone)).toMatchObject({ ok: true, op: 'getACL' });
    expect(tree.read({ op: 'getEphemerals', prefix: '/' }, anyone)).toMatchObject({ ok: true, op: 'getEphemerals' });
    expect(tree.read({ op: 'getAllChildrenNumber', path: '/a' }, anyone)).toMatchObject({ ok: true, count: 6 });
    expect(tree.read({ op: 'sync', path: '/a' }, anyone)).toEqual({ ok: true, op: 'sync', path: '/a' });
  });
});
