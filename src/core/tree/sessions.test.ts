// Proves sessions are log entries as in ZooKeeper: createSession/closeSession txns, closeSession
// deleting exactly that session's ephemerals (DataTree.killSession) with parents' pzxid moving,
// SESSIONEXPIRED for unknown or closed sessions, and the session table in the digest; driven
// through TreeHarness.
import { describe, expect, it } from 'vitest';
import { SESSION_ID_BYTES_MAX } from '../limits.js';
import { TreeHarness } from './harness.js';
import { OPEN_ACL_UNSAFE, type ACL, type CreateMode } from './types.js';

const OPEN: ACL[] = OPEN_ACL_UNSAFE.map((a) => ({ ...a, id: { ...a.id } }));

function create(h: TreeHarness, path: string, mode: CreateMode, sessionId: string): void {
  const run = h.run({ op: 'create', path, data: new Uint8Array(0), acl: OPEN, mode }, { sessionId });
  expect(run.result.ok).toBe(true);
}

describe('createSession (PrepRequestProcessor OpCode.createSession; programmer\'s guide "ZooKeeper Sessions")', () => {
  it('adds the session to the replicated table (and so to the digest)', () => {
    const h = new TreeHarness();
    const digest = h.tree.digest();
    const run = h.run({ op: 'createSession', sessionId: 's1', timeoutMs: 4000 });
    expect(run.result).toEqual({ ok: true, op: 'createSession' });
    expect(run.txn).toEqual({ header: { sessionId: 's1', time: h.now }, body: { type: 'createSession', sessionId: 's1', timeoutMs: 4000 } });
    expect(h.tree.sessions()).toEqual([{ sessionId: 's1', timeoutMs: 4000 }]);
    expect(h.tree.digest()).not.toBe(digest);
  });

  it('BADARGUMENTS for an id already open, an empty or over-long id, or a non-positive timeout', () => {
    const h = new TreeHarness();
    h.openSession('s1');
    for (const request of [
      { sessionId: 's1', timeoutMs: 1000 },
      { sessionId: '', timeoutMs: 1000 },
      { sessionId: 'x'.repeat(SESSION_ID_BYTES_MAX + 1), timeoutMs: 1000 },
      { sessionId: 's2', timeoutMs: 0 },
      { sessionId: 's2', timeoutMs: 1.5 },
    ]) {
      expect(h.run({ op: 'createSession', ...request }).result).toEqual({ ok: false, code: 'BADARGUMENTS' });
    }
  });
});

describe('closeSession (DataTree.killSession)', () => {
  it('deletes exactly that session\'s ephemerals, in path order, then the session', () => {
    const h = new TreeHarness();
    h.openSession('s1');
    h.openSession('s2');
    create(h, '/p', 'persistent', 's1');
    create(h, '/p/e1', 'ephemeral', 's1');
    create(h, '/e0', 'ephemeral', 's1');
    create(h, '/p/q-', 'ephemeral_sequential', 's1');
    create(h, '/p/other', 'ephemeral', 's2');
    const before = h.tree.stat('/p');
    const run = h.run({ op: 'closeSession', sessionId: 's1' });
    expect(run.result).toEqual({ ok: true, op: 'closeSession' });
    expect(run.triggers.filter((t) => t.type === 'NodeDeleted').map((t) => t.path)).toEqual(['/e0', '/p/e1', '/p/q-0000000001']);
    expect(h.tree.stat('/p/other')).toBeDefined();
    expect(h.tree.stat('/p')).toEqual({ ...before, pzxid: run.zxid, numChildren: 1, cversion: (before?.cversion ?? 0) + 2 });
    expect(h.tree.hasSession('s1')).toBe(false);
    expect(h.tree.ephemeralPaths('s1')).toEqual([]);
    expect(h.tree.ephemeralPaths('s2')).toEqual(['/p/other']);
  });

  it('SESSIONEXPIRED for an unknown or already closed session; the session\'s later requests are SESSIONEXPIRED', () => {
    const h = new TreeHarness();
    expect(h.run({ op: 'closeSession', sessionId: 'nobody' }).result).toEqual({ ok: false, code: 'SESSIONEXPIRED' });
    h.openSession('s1');
    h.run({ op: 'closeSession', sessionId: 's1' });
    expect(h.run({ op: 'closeSession', sessionId: 's1' }).result).toEqual({ ok: false, code: 'SESSIONEXPIRED' });
    const write = h.run({ op: 'create', path: '/x', data: new Uint8Array(0), acl: OPEN, mode: 'persistent' }, { sessionId: 's1' });
    expect(write.result).toEqual({ ok: false, code: 'SESSIONEXPIRED' });
  });

  it('a closed session id may be opened again', () => {
    const h = new TreeHarness();
    h.openSession('s1');
    h.run({ op: 'closeSession', sessionId: 's1' });
    expect(h.run({ op: 'createSession', sessionId: 's1', timeoutMs: 5 }).result.ok).toBe(true);
  });

  it('an ephemeral whose session is known only to the overlay (createSession prepped, not applied) can be created', () => {
    const h = new TreeHarness();
    h.prepOnly({ op: 'createSession', sessionId: 's1', timeoutMs: 1000 });
    const prepared = h.prepOnly({ op: 'create', path: '/e', data: new Uint8Array(0), acl: OPEN, mode: 'ephemeral' }, { sessionId: 's1' });
    expect(prepared.failure).toBeNull();
    expect(h.applyPrepared().map((r) => r.result.ok)).toEqual([true, true]);
    expect(h.tree.ephemeralPaths('s1')).toEqual(['/e']);
  });
});
