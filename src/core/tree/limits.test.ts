// Proves every tree limit refuses with a clear error that changes nothing: capacity limits
// (children per node, nodes, sessions) answer QUOTAEXCEEDED, counting what is pending in the
// overlay too, tested with small injected limits; oversize or malformed input (data, ACL lists)
// answers BADARGUMENTS at the real constants from limits.ts.
import { describe, expect, it } from 'vitest';
import { ACL_ENTRIES_MAX, ACL_ID_BYTES_MAX, CHILDREN_PER_NODE_MAX, DATA_BYTES_MAX, NODES_MAX, SESSIONS_MAX } from '../limits.js';
import { DEFAULT_TREE_LIMITS } from './data-tree.js';
import { TreeHarness, type Caller } from './harness.js';
import { OPEN_ACL_UNSAFE, Perms, type ACL, type WriteRequest } from './types.js';

const OPEN: ACL[] = OPEN_ACL_UNSAFE.map((a) => ({ ...a, id: { ...a.id } }));
const me: Caller = { sessionId: 's0' };
const create = (path: string): WriteRequest => ({ op: 'create', path, data: new Uint8Array(0), acl: OPEN, mode: 'persistent' });

describe('capacity limits (ZooKeeper\'s quota check in PrepRequestProcessor, our limits.ts): QUOTAEXCEEDED, nothing changed', () => {
  it('the defaults are limits.ts\'s constants', () => {
    expect(DEFAULT_TREE_LIMITS).toEqual({ nodesMax: NODES_MAX, childrenPerNodeMax: CHILDREN_PER_NODE_MAX, sessionsMax: SESSIONS_MAX });
  });

  it('children per node', () => {
    const h = new TreeHarness({ limits: { childrenPerNodeMax: 2 } });
    h.openSession('s0');
    h.run(create('/p'), me);
    h.run(create('/p/a'), me);
    h.run(create('/p/b'), me);
    const digest = h.tree.digest();
    const run = h.run(create('/p/c'), me);
    expect(run.result).toEqual({ ok: false, code: 'QUOTAEXCEEDED' });
    expect(run.prepared.failure?.reason).toContain('/p already has 2 children');
    expect(h.tree.digest()).toBe(digest);
    h.run({ op: 'delete', path: '/p/a', version: -1 }, me);
    expect(h.run(create('/p/c'), me).result.ok).toBe(true);
  });

  it('nodes in the tree (the four reserved nodes count), pending creates included', () => {
    const h = new TreeHarness({ limits: { nodesMax: 6 } });
    h.openSession('s0');
    h.run(create('/a'), me);
    h.prepOnly(create('/b'), me);
    expect(h.prepOnly(create('/c'), me).failure?.code).toBe('QUOTAEXCEEDED');
    h.prepOnly({ op: 'delete', path: '/a', version: -1 }, me);
    expect(h.prepOnly(create('/c'), me).failure).toBeNull();
    expect(h.applyPrepared().map((r) => r.result.ok)).toEqual([true, false, true, true]);
    expect(h.tree.nodeCount).toBe(6);
  });

  it('a multi that would cross the limit fails as a whole', () => {
    const h = new TreeHarness({ limits: { nodesMax: 6 } });
    h.openSession('s0');
    const run = h.run({ op: 'multi', ops: [create('/a') as never, create('/b') as never, create('/c') as never] }, me);
    expect(run.result).toMatchObject({ ok: false, code: 'QUOTAEXCEEDED' });
    expect(h.tree.nodeCount).toBe(4);
  });

  it('open sessions, pending createSession included', () => {
    const h = new TreeHarness({ limits: { sessionsMax: 2 } });
    h.openSession('s1');
    h.prepOnly({ op: 'createSession', sessionId: 's2', timeoutMs: 1 });
    expect(h.prepOnly({ op: 'createSession', sessionId: 's3', timeoutMs: 1 }).failure?.code).toBe('QUOTAEXCEEDED');
    h.prepOnly({ op: 'closeSession', sessionId: 's1' });
    expect(h.prepOnly({ op: 'createSession', sessionId: 's3', timeoutMs: 1 }).failure).toBeNull();
    expect(h.applyPrepared().map((r) => r.result.ok)).toEqual([true, false, true, true]);
  });
});

describe('oversize input (ZooKeeper: jute.maxbuffer; ours: BADARGUMENTS)', () => {
  it(`setData over DATA_BYTES_MAX (${DATA_BYTES_MAX})`, () => {
    const h = new TreeHarness();
    h.openSession('s0');
    h.run(create('/a'), me);
    const run = h.run({ op: 'setData', path: '/a', data: new Uint8Array(DATA_BYTES_MAX + 1), version: -1 }, me);
    expect(run.result).toEqual({ ok: false, code: 'BADARGUMENTS' });
    expect(run.prepared.failure?.reason).toContain('DATA_BYTES_MAX');
  });

  it(`an ACL of more than ACL_ENTRIES_MAX (${ACL_ENTRIES_MAX}) entries, or with an id over ACL_ID_BYTES_MAX`, () => {
    const h = new TreeHarness();
    h.openSession('s0');
    const many = Array.from({ length: ACL_ENTRIES_MAX + 1 }, (_, i): ACL => ({ perms: Perms.READ, id: { scheme: 'digest', id: `u${i}:aGFzaA==` } }));
    expect(h.run({ ...create('/a'), acl: many } as WriteRequest, me).result).toEqual({ ok: false, code: 'BADARGUMENTS' });
    const long: ACL[] = [{ perms: Perms.ALL, id: { scheme: 'digest', id: `${'u'.repeat(ACL_ID_BYTES_MAX)}:aGFzaA==` } }];
    expect(h.run({ ...create('/a'), acl: long } as WriteRequest, me).result).toEqual({ ok: false, code: 'BADARGUMENTS' });
    expect(h.run({ op: 'setACL', path: '/', acl: many, version: -1 }, me).result).toEqual({ ok: false, code: 'BADARGUMENTS' });
  });

  it('a data value that is not bytes', () => {
    const h = new TreeHarness();
    h.openSession('s0');
    expect(h.run({ ...create('/a'), data: 'text' as unknown as Uint8Array } as WriteRequest, me).result).toEqual({ ok: false, code: 'BADARGUMENTS' });
  });
});
