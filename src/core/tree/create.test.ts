// Proves create behaves as ZooKeeper's PrepRequestProcessor.pRequest2TxnCreate + DataTree.createNode
// in all seven modes: the txn prep writes, the Stat of the new node and of its parent, and every
// error create can produce, in ZooKeeper's order; each case is driven through TreeHarness
// (prep, then apply at the next zxid) and compared with values worked out from the Java source.
import { describe, expect, it } from 'vitest';
import { DATA_BYTES_MAX, TTL_MS_MAX } from '../limits.js';
import { TreeHarness, type Caller } from './harness.js';
import { CREATE_MODES, OPEN_ACL_UNSAFE, Perms, type ACL, type CreateMode, type CreateRequest, type WriteResult } from './types.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const OPEN: ACL[] = OPEN_ACL_UNSAFE.map((a) => ({ ...a, id: { ...a.id } }));
const me: Caller = { sessionId: 's0' };

function create(path: string, mode: CreateMode = 'persistent', extra: Partial<CreateRequest> = {}): CreateRequest {
  return { op: 'create', path, data: bytes('v'), acl: OPEN, mode, ...extra };
}

function harness(): TreeHarness {
  const h = new TreeHarness();
  h.openSession('s0');
  return h;
}

function failure(result: WriteResult): string {
  if (result.ok) throw new Error('expected a failure');
  return result.code;
}

describe('create: the seven modes (programmer\'s guide "Ephemeral Nodes", "Sequence Nodes", "Container Nodes", "TTL Nodes")', () => {
  it.each(CREATE_MODES)('%s creates a node with the Stat createStat gives it', (mode) => {
    const h = harness();
    const ttl = mode.endsWith('_ttl') ? { ttlMs: 5000 } : {};
    const run = h.run(create('/n', mode, ttl), me);
    expect(run.result.ok).toBe(true);
    if (!run.result.ok || run.result.op !== 'create') return;
    const expectedPath = mode.includes('sequential') ? '/n0000000000' : '/n';
    expect(run.result.path).toBe(expectedPath);
    expect(run.result.stat).toEqual({
      czxid: run.zxid,
      mzxid: run.zxid,
      pzxid: run.zxid,
      ctime: h.now,
      mtime: h.now,
      version: 0,
      cversion: 0,
      aversion: 0,
      ephemeralOwner: mode.startsWith('ephemeral') ? 's0' : null,
      dataLength: 1,
      numChildren: 0,
    });
    expect(h.tree.stat(expectedPath)).toEqual(run.result.stat);
  });

  it('the txn carries the final path, the mode, the owner, the TTL and the parent\'s next cversion', () => {
    const h = harness();
    expect(h.run(create('/e', 'ephemeral_sequential'), me).txn).toMatchObject({
      header: { sessionId: 's0', time: h.now },
      body: { type: 'create', path: '/e0000000000', mode: 'ephemeral_sequential', ephemeralOwner: 's0', ttlMs: 0, parentCversion: 1 },
    });
    expect(h.run(create('/t', 'persistent_ttl', { ttlMs: 99 }), me).txn.body).toMatchObject({ ttlMs: 99, ephemeralOwner: null, parentCversion: 2 });
  });

  it('DataTree.createNode: the parent\'s internal cversion and pzxid move; its mzxid and version do not', () => {
    const h = harness();
    h.run(create('/p'), me);
    const before = h.tree.stat('/p');
    const run = h.run(create('/p/c'), me);
    expect(h.tree.stat('/p')).toEqual({ ...before, pzxid: run.zxid, cversion: 1, numChildren: 1 });
  });
});

describe('Sequence Nodes: suffix = parent\'s internal cversion as %010d', () => {
  it('counts every create under the parent, sequential or not, and survives deletes', () => {
    const h = harness();
    h.run(create('/q'), me);
    const name = (run: ReturnType<TreeHarness['run']>): string => (run.result.ok && run.result.op === 'create' ? run.result.path : '');
    expect(name(h.run(create('/q/job-', 'persistent_sequential'), me))).toBe('/q/job-0000000000');
    h.run(create('/q/plain'), me);
    h.run({ op: 'delete', path: '/q/plain', version: -1 }, me);
    expect(name(h.run(create('/q/job-', 'persistent_sequential'), me))).toBe('/q/job-0000000002');
    expect(name(h.run(create('/q/', 'ephemeral_sequential'), me))).toBe('/q/0000000003');
    expect(name(h.run(create('/q/job-', 'persistent_sequential_ttl', { ttlMs: 1 }), me))).toBe('/q/job-0000000004');
  });

  it('a sequential create of / names a child of the root ("/" + suffix), counting from the root\'s cversion', () => {
    const h = harness();
    const run = h.run(create('/', 'persistent_sequential'), me);
    expect(run.result).toMatchObject({ ok: true, path: '/0000000000' });
  });
});

describe('create: errors, in ZooKeeper\'s order', () => {
  it('BADARGUMENTS for malformed paths (checked with the suffix for sequential modes), before any lookup', () => {
    const h = harness();
    for (const path of ['', 'a', '/a/', '/a//b', '/a/.', '/..', '/a\u0000', '/a\u0001']) {
      const prepared = h.run(create(path), me);
      expect(failure(prepared.result)).toBe('BADARGUMENTS');
      expect(prepared.txn.body).toEqual({ type: 'error', code: 'BADARGUMENTS' });
      expect(prepared.prepared.failure?.reason).toMatch(/invalid path/);
    }
    // Even with no session and a missing parent, the path is what is reported.
    expect(failure(h.run(create('/missing/a/'), { sessionId: null }).result)).toBe('BADARGUMENTS');
  });

  it('NODEEXISTS, also for / itself (ZooKeeper looks up "" as the root\'s parent)', () => {
    const h = harness();
    h.run(create('/a'), me);
    expect(failure(h.run(create('/a'), me).result)).toBe('NODEEXISTS');
    expect(failure(h.run(create('/'), me).result)).toBe('NODEEXISTS');
  });

  it('NONODE when the parent is missing', () => {
    const h = harness();
    const run = h.run(create('/x/y'), me);
    expect(failure(run.result)).toBe('NONODE');
    expect(run.prepared.failure?.reason).toContain('/x');
  });

  it('NOCHILDRENFOREPHEMERALS under an ephemeral (checked after NODEEXISTS)', () => {
    const h = harness();
    h.run(create('/e', 'ephemeral'), me);
    expect(failure(h.run(create('/e/c'), me).result)).toBe('NOCHILDRENFOREPHEMERALS');
    expect(failure(h.run(create('/e/c', 'ephemeral_sequential'), me).result)).toBe('NOCHILDRENFOREPHEMERALS');
  });

  it('containers and TTL nodes may have children (only NORMAL ephemerals may not)', () => {
    const h = harness();
    h.run(create('/c', 'container'), me);
    h.run(create('/t', 'persistent_ttl', { ttlMs: 10 }), me);
    expect(h.run(create('/c/x'), me).result.ok).toBe(true);
    expect(h.run(create('/t/x', 'ephemeral'), me).result.ok).toBe(true);
  });

  it('EphemeralType.validateTTL: TTL modes need 0 < ttl <= TTL_MS_MAX; other modes must not carry a ttl', () => {
    const h = harness();
    for (const ttlMs of [undefined, 0, -1, TTL_MS_MAX + 1, 1.5]) {
      expect(failure(h.run(create('/t', 'persistent_ttl', ttlMs === undefined ? {} : { ttlMs }), me).result)).toBe('BADARGUMENTS');
    }
    expect(h.run(create('/t', 'persistent_ttl', { ttlMs: TTL_MS_MAX }), me).result.ok).toBe(true);
    for (const mode of ['persistent', 'ephemeral', 'container', 'persistent_sequential'] as const) {
      expect(failure(h.run(create('/x', mode, { ttlMs: 10 }), me).result)).toBe('BADARGUMENTS');
    }
  });

  it('BADARGUMENTS for an unknown mode and for data over DATA_BYTES_MAX', () => {
    const h = harness();
    expect(failure(h.run(create('/x', 'weird' as CreateMode), me).result)).toBe('BADARGUMENTS');
    expect(failure(h.run(create('/x', 'persistent', { data: new Uint8Array(DATA_BYTES_MAX + 1) }), me).result)).toBe('BADARGUMENTS');
    expect(h.run(create('/x', 'persistent', { data: new Uint8Array(DATA_BYTES_MAX) }), me).result.ok).toBe(true);
  });

  it('SESSIONEXPIRED without an open session, for ephemeral and persistent creates alike', () => {
    const h = harness();
    expect(failure(h.run(create('/a'), { sessionId: null }).result)).toBe('SESSIONEXPIRED');
    expect(failure(h.run(create('/a', 'ephemeral'), { sessionId: 'unknown' }).result)).toBe('SESSIONEXPIRED');
    h.run({ op: 'closeSession', sessionId: 's0' });
    expect(failure(h.run(create('/a', 'ephemeral'), me).result)).toBe('SESSIONEXPIRED');
  });

  it('INVALIDACL (fixupACL) before the parent is looked up', () => {
    const h = harness();
    expect(failure(h.run(create('/missing/x', 'persistent', { acl: [] }), me).result)).toBe('INVALIDACL');
  });

  it('NOAUTH without CREATE on the parent; the new node\'s own ACL does not matter', () => {
    const h = harness();
    const alice = { scheme: 'digest', id: 'alice:aGFzaA==' };
    h.run(create('/locked', 'persistent', { acl: [{ perms: Perms.ALL & ~Perms.CREATE, id: { scheme: 'world', id: 'anyone' } }, { perms: Perms.CREATE, id: alice }] }), me);
    expect(failure(h.run(create('/locked/x'), me).result)).toBe('NOAUTH');
    expect(h.run(create('/locked/x'), { sessionId: 's0', auth: [alice] }).result.ok).toBe(true);
  });

  it('/zookeeper is reserved: creates under it are BADARGUMENTS, but /zookeeper + suffix is an ordinary name', () => {
    const h = harness();
    for (const request of [create('/zookeeper'), create('/zookeeper/x'), create('/zookeeper/', 'persistent_sequential'), create('/zookeeper/quota/x')]) {
      const run = h.run(request, me);
      expect(failure(run.result)).toBe('BADARGUMENTS');
      expect(run.prepared.failure?.reason).toContain('reserved');
    }
    expect(h.run(create('/zookeeper', 'persistent_sequential'), me).result).toMatchObject({ ok: true, path: '/zookeeper0000000000' });
  });

  it('a failed create changes nothing but still takes its zxid (an error txn in the log)', () => {
    const h = harness();
    const digest = h.tree.digest();
    const run = h.run(create('/x/y'), me);
    expect(run.txn.body).toEqual({ type: 'error', code: 'NONODE' });
    expect(h.tree.digest()).toBe(digest);
    expect(h.tree.lastZxid).toBe(run.zxid);
    expect(run.triggers).toEqual([]);
  });
});
