// Proves multi is all or nothing with ZooKeeper's MultiResponse shape (PrepRequestProcessor
// OpCode.multi + DataTree.processTxn): later ops see earlier ones, every op shares the multi's
// zxid, and a failure yields OK for the ops before it, its own code, RUNTIMEINCONSISTENCY after,
// with nothing changed; check needs READ and compares the version. Driven through TreeHarness.
import { describe, expect, it } from 'vitest';
import { MULTI_OPS_MAX, REQUEST_BYTES_MAX } from '../limits.js';
import { TreeHarness, type Caller } from './harness.js';
import { OPEN_ACL_UNSAFE, Perms, type ACL, type MultiOp, type WriteResult } from './types.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const OPEN: ACL[] = OPEN_ACL_UNSAFE.map((a) => ({ ...a, id: { ...a.id } }));
const me: Caller = { sessionId: 's0' };

function harness(): TreeHarness {
  const h = new TreeHarness();
  h.openSession('s0');
  h.run({ op: 'create', path: '/a', data: bytes('x'), acl: OPEN, mode: 'persistent' }, me);
  return h;
}

const create = (path: string, mode: 'persistent' | 'persistent_sequential' | 'ephemeral' = 'persistent'): MultiOp => ({
  op: 'create',
  path,
  data: bytes(path),
  acl: OPEN,
  mode,
});

function failed(result: WriteResult): { code: string; results: unknown[] } {
  if (result.ok) throw new Error('expected the multi to fail');
  return { code: result.code, results: result.results ?? [] };
}

describe('multi: success', () => {
  it('applies every op in order at one zxid, later ops seeing earlier ones', () => {
    const h = harness();
    const run = h.run(
      {
        op: 'multi',
        ops: [
          create('/a/b'),
          create('/a/b/c'),
          { op: 'setData', path: '/a/b', data: bytes('new'), version: 0 },
          { op: 'check', path: '/a/b', version: 1 },
          create('/a/s-', 'persistent_sequential'),
          create('/a/s-', 'persistent_sequential'),
          { op: 'delete', path: '/a/b/c', version: 0 },
        ],
      },
      me,
    );
    expect(run.result.ok).toBe(true);
    if (!run.result.ok || run.result.op !== 'multi') return;
    expect(run.result.results.map((r) => r.op)).toEqual(['create', 'create', 'setData', 'check', 'create', 'create', 'delete']);
    expect(run.result.results[4]).toMatchObject({ path: '/a/s-0000000001' });
    expect(run.result.results[5]).toMatchObject({ path: '/a/s-0000000002' });
    expect(run.result.results[0]).toMatchObject({ stat: { czxid: run.zxid, numChildren: 0 } });
    expect(h.tree.stat('/a/b')).toMatchObject({ czxid: run.zxid, mzxid: run.zxid, pzxid: run.zxid, version: 1, cversion: 2, numChildren: 0 });
    expect(h.tree.stat('/a/b/c')).toBeUndefined();
    expect(run.triggers.every((t) => t.zxid === run.zxid)).toBe(true);
  });

  it('an empty multi succeeds and changes nothing', () => {
    const h = harness();
    const digest = h.tree.digest();
    expect(h.run({ op: 'multi', ops: [] }, me).result).toEqual({ ok: true, op: 'multi', results: [] });
    expect(h.tree.digest()).toBe(digest);
  });
});

describe('multi: failure is all or nothing (MultiResponse: OK ..., code, RUNTIMEINCONSISTENCY ...)', () => {
  it('reports per-op results and changes nothing, even ops that would have succeeded', () => {
    const h = harness();
    const digest = h.tree.digest();
    const run = h.run({ op: 'multi', ops: [create('/a/x'), create('/a/y'), { op: 'delete', path: '/a/none', version: -1 }, create('/a/z'), create('/a/w')] }, me);
    expect(failed(run.result)).toEqual({
      code: 'NONODE',
      results: [
        { op: 'error', code: 'OK' },
        { op: 'error', code: 'OK' },
        { op: 'error', code: 'NONODE' },
        { op: 'error', code: 'RUNTIMEINCONSISTENCY' },
        { op: 'error', code: 'RUNTIMEINCONSISTENCY' },
      ],
    });
    expect(run.txn.body).toEqual({
      type: 'multi',
      txns: [
        { type: 'error', code: 'OK' },
        { type: 'error', code: 'OK' },
        { type: 'error', code: 'NONODE' },
        { type: 'error', code: 'RUNTIMEINCONSISTENCY' },
        { type: 'error', code: 'RUNTIMEINCONSISTENCY' },
      ],
    });
    expect(run.prepared.failure?.reason).toMatch(/^op 2:/);
    expect(h.tree.digest()).toBe(digest);
    expect(run.triggers).toEqual([]);
  });

  it('a failure that depends on an earlier op in the same multi (create twice -> NODEEXISTS)', () => {
    const h = harness();
    expect(failed(h.run({ op: 'multi', ops: [create('/a/x'), create('/a/x')] }, me).result).code).toBe('NODEEXISTS');
    expect(h.tree.stat('/a/x')).toBeUndefined();
  });

  it('a failed multi leaves no trace in the overlay: a sequential create after it gets the suffix it would have had', () => {
    const h = harness();
    h.prepOnly({ op: 'multi', ops: [create('/a/s-', 'persistent_sequential'), { op: 'check', path: '/a', version: 9 }] }, me);
    const next = h.prepOnly({ op: 'create', path: '/a/s-', data: bytes(''), acl: OPEN, mode: 'persistent_sequential' }, me);
    expect(next.txn.body).toMatchObject({ path: '/a/s-0000000000' });
    h.applyPrepared();
    expect(h.tree.stat('/a/s-0000000000')).toBeDefined();
  });

  it('check: BADVERSION on a version mismatch, NONODE when missing, NOAUTH without READ', () => {
    const h = harness();
    expect(failed(h.run({ op: 'multi', ops: [{ op: 'check', path: '/a', version: 3 }] }, me).result).code).toBe('BADVERSION');
    expect(failed(h.run({ op: 'multi', ops: [{ op: 'check', path: '/zz', version: -1 }] }, me).result).code).toBe('NONODE');
    h.run({ op: 'create', path: '/w', data: bytes(''), acl: [{ perms: Perms.WRITE, id: { scheme: 'world', id: 'anyone' } }], mode: 'persistent' }, me);
    expect(failed(h.run({ op: 'multi', ops: [{ op: 'check', path: '/w', version: -1 }] }, me).result).code).toBe('NOAUTH');
    expect(h.run({ op: 'multi', ops: [{ op: 'check', path: '/a', version: 0 }] }, me).result.ok).toBe(true);
    // check only reads: /zookeeper may be checked.
    expect(h.run({ op: 'multi', ops: [{ op: 'check', path: '/zookeeper', version: 0 }] }, me).result.ok).toBe(true);
  });

  it('SESSIONEXPIRED is per op, like every other check', () => {
    const h = harness();
    expect(failed(h.run({ op: 'multi', ops: [create('/a/x')] }, { sessionId: 'gone' }).result).results).toEqual([{ op: 'error', code: 'SESSIONEXPIRED' }]);
  });

  it('an op kind a multi cannot hold is BADARGUMENTS for that op', () => {
    const h = harness();
    const ops = [create('/a/x'), { op: 'setACL', path: '/a', acl: OPEN, version: -1 } as unknown as MultiOp];
    expect(failed(h.run({ op: 'multi', ops }, me).result).results).toEqual([
      { op: 'error', code: 'OK' },
      { op: 'error', code: 'BADARGUMENTS' },
    ]);
  });

  it(`more than MULTI_OPS_MAX (${MULTI_OPS_MAX}) ops, or more than REQUEST_BYTES_MAX in all, is BADARGUMENTS for the whole multi`, () => {
    const h = harness();
    const many = Array.from({ length: MULTI_OPS_MAX + 1 }, (): MultiOp => ({ op: 'check', path: '/a', version: -1 }));
    const run = h.run({ op: 'multi', ops: many }, me);
    expect(run.result).toEqual({ ok: false, code: 'BADARGUMENTS' });
    expect(run.txn.body).toEqual({ type: 'error', code: 'BADARGUMENTS' });
    const big = (path: string): MultiOp => ({ op: 'create', path, data: new Uint8Array(REQUEST_BYTES_MAX / 2), acl: OPEN, mode: 'persistent' });
    expect(h.run({ op: 'multi', ops: [big('/a/1'), big('/a/2')] }, me).result).toEqual({ ok: false, code: 'BADARGUMENTS' });
    expect(h.run({ op: 'multi', ops: many.slice(0, MULTI_OPS_MAX) }, me).result.ok).toBe(true);
  });
});
