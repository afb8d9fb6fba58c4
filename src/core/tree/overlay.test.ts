// Proves prep sees changes prepared but not yet applied, as ZooKeeper's outstandingChanges do
// (ChangeRecords keyed by path, tagged with their zxid, dropped by applied(zxid), cleared by
// reset()): each case preps several requests with TreeHarness.prepOnly before applying any, then
// applies them and checks the tree ends where sequential execution would have put it.
import { describe, expect, it } from 'vitest';
import { TreeHarness, type Caller } from './harness.js';
import { OPEN_ACL_UNSAFE, Perms, type ACL, type CreateMode, type WriteRequest } from './types.js';

const OPEN: ACL[] = OPEN_ACL_UNSAFE.map((a) => ({ ...a, id: { ...a.id } }));
const me: Caller = { sessionId: 's0' };
const create = (path: string, mode: CreateMode = 'persistent'): WriteRequest => ({ op: 'create', path, data: new Uint8Array(0), acl: OPEN, mode });

function harness(): TreeHarness {
  const h = new TreeHarness();
  h.openSession('s0');
  return h;
}

describe('PrepRequestProcessor outstanding changes (the overlay)', () => {
  it('two creates of one path prepped before either is applied: the second sees the first (NODEEXISTS)', () => {
    const h = harness();
    expect(h.prepOnly(create('/a'), me).failure).toBeNull();
    expect(h.prepOnly(create('/a'), me).failure?.code).toBe('NODEEXISTS');
    const runs = h.applyPrepared();
    expect(runs.map((r) => r.result.ok)).toEqual([true, false]);
  });

  it('a child of a pending create can be prepped (the parent exists in the overlay)', () => {
    const h = harness();
    h.prepOnly(create('/a'), me);
    expect(h.prepOnly(create('/a/b'), me).failure).toBeNull();
    expect(h.applyPrepared().every((r) => r.result.ok)).toBe(true);
  });

  it('sequential suffixes increase across prepped, unapplied creates', () => {
    const h = harness();
    h.run(create('/q'), me);
    const paths = [0, 1, 2].map(() => {
      const body = h.prepOnly(create('/q/n-', 'persistent_sequential'), me).txn.body;
      return body.type === 'create' ? body.path : '';
    });
    expect(paths).toEqual(['/q/n-0000000000', '/q/n-0000000001', '/q/n-0000000002']);
    h.applyPrepared();
    expect(h.tree.getChildren('/q', { sessionId: 's0', auth: [] })).toMatchObject({ children: ['n-0000000000', 'n-0000000001', 'n-0000000002'] });
  });

  it('delete then create of the same path in the overlay both succeed; the create sees the delete', () => {
    const h = harness();
    h.run(create('/a'), me);
    expect(h.prepOnly({ op: 'delete', path: '/a', version: -1 }, me).failure).toBeNull();
    expect(h.prepOnly({ op: 'setData', path: '/a', data: new Uint8Array(0), version: -1 }, me).failure?.code).toBe('NONODE');
    expect(h.prepOnly(create('/a', 'ephemeral'), me).failure).toBeNull();
    const runs = h.applyPrepared();
    expect(runs.map((r) => r.result.ok)).toEqual([true, false, true]);
    expect(h.tree.stat('/a')?.ephemeralOwner).toBe('s0');
  });

  it('a parent with a pending child is NOTEMPTY; once the child\'s delete is pending, it is not', () => {
    const h = harness();
    h.run(create('/p'), me);
    h.prepOnly(create('/p/c'), me);
    expect(h.prepOnly({ op: 'delete', path: '/p', version: -1 }, me).failure?.code).toBe('NOTEMPTY');
    h.prepOnly({ op: 'delete', path: '/p/c', version: -1 }, me);
    expect(h.prepOnly({ op: 'delete', path: '/p', version: -1 }, me).failure).toBeNull();
    expect(h.applyPrepared().map((r) => r.result.ok)).toEqual([true, false, true, true]);
  });

  it('versions follow pending setData: version 0 then 1 pass, a second 0 is BADVERSION', () => {
    const h = harness();
    h.run(create('/a'), me);
    const set = (version: number): WriteRequest => ({ op: 'setData', path: '/a', data: new Uint8Array(1), version });
    expect(h.prepOnly(set(0), me).failure).toBeNull();
    expect(h.prepOnly(set(0), me).failure?.code).toBe('BADVERSION');
    expect(h.prepOnly(set(1), me).failure).toBeNull();
    h.applyPrepared();
    expect(h.tree.stat('/a')?.version).toBe(2);
  });

  it('a pending setACL governs later preps (no write linearizes after the revocation)', () => {
    const h = harness();
    h.run(create('/a'), me);
    h.prepOnly({ op: 'setACL', path: '/a', acl: [{ perms: Perms.READ, id: { scheme: 'world', id: 'anyone' } }], version: -1 }, me);
    expect(h.prepOnly({ op: 'setData', path: '/a', data: new Uint8Array(0), version: -1 }, me).failure?.code).toBe('NOAUTH');
    h.applyPrepared();
  });

  it('closeSession sees the session\'s pending ephemerals, and the session is closed for what follows', () => {
    const h = harness();
    h.run(create('/p'), me);
    h.prepOnly(create('/p/e', 'ephemeral'), me);
    expect(h.prepOnly({ op: 'closeSession', sessionId: 's0' }).failure).toBeNull();
    expect(h.prepOnly(create('/p/f'), me).failure?.code).toBe('SESSIONEXPIRED');
    // The ephemeral's pending delete frees the parent.
    expect(h.prepOnly({ op: 'closeSession', sessionId: 's0' }).failure?.code).toBe('SESSIONEXPIRED');
    h.prepOnly({ op: 'createSession', sessionId: 's9', timeoutMs: 100 });
    expect(h.prepOnly({ op: 'delete', path: '/p', version: -1 }, { sessionId: 's9' }).failure).toBeNull();
    const runs = h.applyPrepared();
    expect(runs.map((r) => r.result.ok)).toEqual([true, true, false, false, true, true]);
    expect(h.tree.stat('/p')).toBeUndefined();
  });

  it('applied(zxid) drops only what the tree now shows; a later record for the same path survives', () => {
    const h = harness();
    h.run(create('/a'), me);
    const first = h.prepOnly({ op: 'setData', path: '/a', data: new Uint8Array(0), version: 0 }, me);
    h.prepOnly({ op: 'setData', path: '/a', data: new Uint8Array(0), version: 1 }, me);
    // Apply only the first by hand: the second's record (version 2) must still be visible.
    h.tree.apply(first.txn, first.zxid);
    h.preparer.applied(first.zxid);
    expect(h.preparer.outstanding).toBe(1);
    const third = h.preparer.prep({ op: 'setData', path: '/a', data: new Uint8Array(0), version: 2 }, h.context(me));
    expect(third.failure).toBeNull();
  });

  it('everything applied -> nothing outstanding', () => {
    const h = harness();
    h.prepOnly(create('/a'), me);
    h.prepOnly({ op: 'createSession', sessionId: 's1', timeoutMs: 1 });
    expect(h.preparer.outstanding).toBe(3);
    h.applyPrepared();
    expect(h.preparer.outstanding).toBe(0);
  });

  it('reset(): a leader that lost leadership forgets what it prepared', () => {
    const h = new TreeHarness();
    h.openSession('s0');
    h.prepOnly(create('/a'), me);
    h.preparer.reset();
    expect(h.preparer.outstanding).toBe(0);
    // The prepared txn is never applied; a new prep starts from the tree alone.
    const again = h.preparer.prep(create('/a'), { sessionId: 's0', auth: [], time: h.now, zxid: h.tree.lastZxid + 1 });
    expect(again.failure).toBeNull();
  });

  it('prep asserts the runtime\'s obligations: zxids increase past everything prepared and applied', () => {
    const h = harness();
    const ctx = h.context(me);
    h.preparer.prep(create('/a'), ctx);
    expect(() => h.preparer.prep(create('/b'), ctx)).toThrow(/assertion failed/);
    expect(() => h.preparer.prep(create('/b'), { ...ctx, zxid: 1 })).toThrow(/assertion failed/);
    expect(() => h.preparer.prep(create('/b'), { ...h.context(me), time: 1.5 })).toThrow(/assertion failed/);
  });
});
