// Proves due(now) reports exactly ZooKeeper's ContainerManager candidates (containers with
// cversion > 0 and no children; TTL nodes with no children and now - mtime > ttl), that each call
// is bounded and resumes from its cursor, and that a deleteContainer proposal is re-checked at
// prep (NONODE, NOTEMPTY, BADVERSION) before it deletes; driven through TreeHarness.
import { describe, expect, it } from 'vitest';
import { SWEEP_NODES_PER_CALL_MAX, SWEEP_PATHS_PER_CALL_MAX } from '../limits.js';
import { TreeHarness, type Caller } from './harness.js';
import { OPEN_ACL_UNSAFE, type ACL, type CreateMode, type WriteRequest } from './types.js';

const OPEN: ACL[] = OPEN_ACL_UNSAFE.map((a) => ({ ...a, id: { ...a.id } }));
const me: Caller = { sessionId: 's0' };
const create = (path: string, mode: CreateMode = 'persistent', ttlMs?: number): WriteRequest => ({
  op: 'create',
  path,
  data: new Uint8Array(0),
  acl: OPEN,
  mode,
  ...(ttlMs === undefined ? {} : { ttlMs }),
});

function harness(): TreeHarness {
  const h = new TreeHarness();
  h.openSession('s0');
  return h;
}

describe('ContainerManager.getCandidates: containers', () => {
  it('a new, never used container is not due (cversion 0); once its last child goes, it is', () => {
    const h = harness();
    h.run(create('/c', 'container'), me);
    expect(h.tree.due(h.now).paths).toEqual([]);
    h.run(create('/c/child'), me);
    expect(h.tree.due(h.now).paths).toEqual([]);
    h.run({ op: 'delete', path: '/c/child', version: -1 }, me);
    expect(h.tree.due(h.now).paths).toEqual(['/c']);
  });

  it('deleteContainer deletes it, as the system (no session in the header), with delete\'s Stat and triggers', () => {
    const h = harness();
    h.run(create('/c', 'container'), me);
    h.run(create('/c/x', 'ephemeral'), me);
    h.run({ op: 'closeSession', sessionId: 's0' });
    const run = h.run({ op: 'deleteContainer', path: '/c' });
    expect(run.txn.header.sessionId).toBeNull();
    expect(run.result).toEqual({ ok: true, op: 'deleteContainer' });
    expect(run.triggers.map((t) => [t.type, t.path])).toEqual([
      ['NodeDeleted', '/c'],
      ['NodeChildrenChanged', '/'],
    ]);
    expect(h.tree.stat('/')?.pzxid).toBe(run.zxid);
  });
});

describe('ContainerManager.getCandidates: TTL nodes', () => {
  it('due once now - mtime > ttl (strictly), and only while childless; setData renews it', () => {
    const h = harness();
    h.run(create('/t', 'persistent_ttl', 1000), me);
    const created = h.now;
    expect(h.tree.due(created + 1000).paths).toEqual([]);
    expect(h.tree.due(created + 1001).paths).toEqual(['/t']);
    h.now = created + 500;
    h.run({ op: 'setData', path: '/t', data: new Uint8Array(1), version: -1 }, me);
    expect(h.tree.due(created + 1001).paths).toEqual([]);
    expect(h.tree.due(created + 1501).paths).toEqual(['/t']);
    h.run(create('/t/kid'), me);
    expect(h.tree.due(created + 99_999).paths).toEqual([]);
  });

  it('prep re-checks dueness with the txn time: a TTL node not yet expired is BADVERSION', () => {
    const h = harness();
    h.run(create('/t', 'persistent_sequential_ttl', 1000), me);
    const path = '/t0000000000';
    expect(h.run({ op: 'deleteContainer', path }, { time: h.now + 10 }).result).toEqual({ ok: false, code: 'BADVERSION' });
    expect(h.run({ op: 'deleteContainer', path }, { time: h.now + 1001 }).result.ok).toBe(true);
  });
});

describe('deleteContainer at prep (PrepRequestProcessor OpCode.deleteContainer)', () => {
  it('NONODE when gone, NOTEMPTY with children, BADVERSION for a node that is not a container or TTL node', () => {
    const h = harness();
    h.run(create('/c', 'container'), me);
    h.run(create('/c/x'), me);
    h.run(create('/plain'), me);
    expect(h.run({ op: 'deleteContainer', path: '/gone' }).result).toEqual({ ok: false, code: 'NONODE' });
    expect(h.run({ op: 'deleteContainer', path: '/c' }).result).toEqual({ ok: false, code: 'NOTEMPTY' });
    expect(h.run({ op: 'deleteContainer', path: '/plain' }).result).toEqual({ ok: false, code: 'BADVERSION' });
    expect(h.run({ op: 'deleteContainer', path: '/zookeeper' }).result).toEqual({ ok: false, code: 'BADARGUMENTS' });
    expect(h.run({ op: 'deleteContainer', path: 'c' }).result).toEqual({ ok: false, code: 'BADARGUMENTS' });
  });

  it('sees the overlay: a child created but not applied makes the container NOTEMPTY', () => {
    const h = harness();
    h.run(create('/c', 'container'), me);
    h.run(create('/c/x'), me);
    h.run({ op: 'delete', path: '/c/x', version: -1 }, me);
    expect(h.tree.due(h.now).paths).toEqual(['/c']);
    h.prepOnly(create('/c/y'), me);
    expect(h.prepOnly({ op: 'deleteContainer', path: '/c' }).failure?.code).toBe('NOTEMPTY');
    h.applyPrepared();
  });
});

describe('due(now, cursor): bounded work per call', () => {
  it(`examines at most SWEEP_NODES_PER_CALL_MAX (${SWEEP_NODES_PER_CALL_MAX}) nodes and returns at most SWEEP_PATHS_PER_CALL_MAX (${SWEEP_PATHS_PER_CALL_MAX}) paths, resuming after the cursor`, () => {
    const h = harness();
    h.run(create('/box'), me);
    const total = SWEEP_NODES_PER_CALL_MAX + 5;
    // All but the last 5 (in path order) live for a long time.
    for (let i = 0; i < total; i++) {
      h.run(create(`/box/t${String(i).padStart(6, '0')}`, 'persistent_ttl', i < SWEEP_NODES_PER_CALL_MAX ? 1_000_000 : 1), me);
    }
    // A call that finds nothing among its SWEEP_NODES_PER_CALL_MAX nodes still stops, and says where.
    const first = h.tree.due(h.now + 10, null);
    expect(first.paths).toEqual([]);
    expect(first.cursor).toBe(`/box/t${String(SWEEP_NODES_PER_CALL_MAX - 1).padStart(6, '0')}`);
    expect(h.tree.due(h.now + 10, first.cursor)).toEqual({ paths: Array.from({ length: 5 }, (_, k) => `/box/t${String(SWEEP_NODES_PER_CALL_MAX + k).padStart(6, '0')}`), cursor: null });
    const later = h.now + 2_000_000;
    const seen: string[] = [];
    let cursor: string | null = null;
    let calls = 0;
    do {
      const result = h.tree.due(later, cursor);
      expect(result.paths.length).toBeLessThanOrEqual(SWEEP_PATHS_PER_CALL_MAX);
      seen.push(...result.paths);
      cursor = result.cursor;
      calls += 1;
    } while (cursor !== null);
    expect(seen.length).toBe(total);
    expect(new Set(seen).size).toBe(total);
    expect(calls).toBe(Math.ceil(total / SWEEP_PATHS_PER_CALL_MAX));
  });
});
