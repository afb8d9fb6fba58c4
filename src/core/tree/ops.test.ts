// Proves delete, setData and setACL follow PrepRequestProcessor (checks, their order, the version
// arithmetic of checkAndIncVersion) and DataTree (which Stat fields move: pzxid on child create and
// delete, cversion on create only, version on setData, aversion on setACL, mzxid/mtime on setData
// only), by running each op through TreeHarness and comparing full Stats with the Java rules.
import { describe, expect, it } from 'vitest';
import { TreeHarness, type Caller } from './harness.js';
import { OPEN_ACL_UNSAFE, Perms, type ACL, type WriteRequest, type WriteResult } from './types.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const OPEN: ACL[] = OPEN_ACL_UNSAFE.map((a) => ({ ...a, id: { ...a.id } }));
const me: Caller = { sessionId: 's0' };
const alice = { scheme: 'digest', id: 'alice:aGFzaA==' };

function harness(): TreeHarness {
  const h = new TreeHarness();
  h.openSession('s0');
  for (const path of ['/a', '/a/b']) h.run({ op: 'create', path, data: bytes('x'), acl: OPEN, mode: 'persistent' }, me);
  return h;
}

function code(result: WriteResult): string {
  return result.ok ? 'OK' : result.code;
}

describe('delete (PrepRequestProcessor OpCode.delete, DataTree.deleteNode)', () => {
  it('removes the node; the parent\'s pzxid moves, its internal cversion does not, so the client cversion rises by 1', () => {
    const h = harness();
    const before = h.tree.stat('/a');
    const run = h.run({ op: 'delete', path: '/a/b', version: -1 }, me);
    expect(run.result).toEqual({ ok: true, op: 'delete' });
    expect(h.tree.stat('/a/b')).toBeUndefined();
    // before: 1 create * 2 - 1 child = 1; after: 1 * 2 - 0 = 2 (creates + deletes).
    expect(before?.cversion).toBe(1);
    expect(h.tree.stat('/a')).toEqual({ ...before, pzxid: run.zxid, cversion: 2, numChildren: 0 });
  });

  it('BADVERSION when the version differs; -1 matches any', () => {
    const h = harness();
    h.run({ op: 'setData', path: '/a/b', data: bytes('y'), version: -1 }, me);
    expect(code(h.run({ op: 'delete', path: '/a/b', version: 0 }, me).result)).toBe('BADVERSION');
    expect(code(h.run({ op: 'delete', path: '/a/b', version: 1 }, me).result)).toBe('OK');
  });

  it('NOTEMPTY when it has children; NONODE when missing or when its parent is missing', () => {
    const h = harness();
    expect(code(h.run({ op: 'delete', path: '/a', version: -1 }, me).result)).toBe('NOTEMPTY');
    expect(code(h.run({ op: 'delete', path: '/a/zz', version: -1 }, me).result)).toBe('NONODE');
    expect(code(h.run({ op: 'delete', path: '/zz/b', version: -1 }, me).result)).toBe('NONODE');
  });

  it('NOAUTH without DELETE on the parent (the node\'s own ACL does not matter)', () => {
    const h = harness();
    const acl = [{ perms: Perms.ALL & ~Perms.DELETE, id: { scheme: 'world', id: 'anyone' } }, { perms: Perms.DELETE, id: alice }];
    h.run({ op: 'create', path: '/p', data: bytes(''), acl, mode: 'persistent' }, me);
    h.run({ op: 'create', path: '/p/c', data: bytes(''), acl: [{ perms: 0, id: alice }], mode: 'persistent' }, me);
    expect(code(h.run({ op: 'delete', path: '/p/c', version: -1 }, me).result)).toBe('NOAUTH');
    expect(code(h.run({ op: 'delete', path: '/p/c', version: -1 }, { sessionId: 's0', auth: [alice] }).result)).toBe('OK');
  });

  it('getParentPathAndValidate: / and /zookeeper (and below) are BADARGUMENTS', () => {
    const h = harness();
    for (const path of ['/', '/zookeeper', '/zookeeper/quota', '/zookeeper/config']) {
      expect(code(h.run({ op: 'delete', path, version: -1 }, me).result)).toBe('BADARGUMENTS');
    }
  });

  it('BADARGUMENTS for a malformed path or a non-integer version; SESSIONEXPIRED without a session', () => {
    const h = harness();
    expect(code(h.run({ op: 'delete', path: '/a/b/', version: -1 }, me).result)).toBe('BADARGUMENTS');
    expect(code(h.run({ op: 'delete', path: '/a/b', version: 0.5 }, me).result)).toBe('BADARGUMENTS');
    expect(code(h.run({ op: 'delete', path: '/a/b', version: 2 ** 31 }, me).result)).toBe('BADARGUMENTS');
    expect(code(h.run({ op: 'delete', path: '/a/b', version: -1 }, { sessionId: 'gone' }).result)).toBe('SESSIONEXPIRED');
  });
});

describe('setData (PrepRequestProcessor OpCode.setData, DataTree.setData)', () => {
  it('version + 1, mzxid and mtime move; czxid, ctime, pzxid and cversion do not', () => {
    const h = harness();
    const before = h.tree.stat('/a');
    h.now += 5000;
    const run = h.run({ op: 'setData', path: '/a', data: bytes('hello'), version: 0 }, me);
    const after = { ...before, mzxid: run.zxid, mtime: h.now, version: 1, dataLength: 5 };
    expect(run.result).toEqual({ ok: true, op: 'setData', stat: after });
    expect(h.tree.stat('/a')).toEqual(after);
    expect(run.txn.body).toEqual({ type: 'setData', path: '/a', data: bytes('hello'), version: 1 });
  });

  it('checkAndIncVersion: Integer.MAX_VALUE wraps to MIN_VALUE, and the step onto -1 goes to 0 (ZOOKEEPER-4743)', async () => {
    const { nextVersion } = await import('./node.js');
    expect(nextVersion(0)).toBe(1);
    expect(nextVersion(2147483647)).toBe(-2147483648);
    expect(nextVersion(-2)).toBe(0);
  });

  it('BADVERSION, NONODE, NOAUTH (WRITE on the node), BADARGUMENTS for /zookeeper', () => {
    const h = harness();
    expect(code(h.run({ op: 'setData', path: '/a', data: bytes(''), version: 7 }, me).result)).toBe('BADVERSION');
    expect(code(h.run({ op: 'setData', path: '/nope', data: bytes(''), version: -1 }, me).result)).toBe('NONODE');
    h.run({ op: 'create', path: '/ro', data: bytes(''), acl: [{ perms: Perms.READ | Perms.ADMIN, id: { scheme: 'world', id: 'anyone' } }], mode: 'persistent' }, me);
    expect(code(h.run({ op: 'setData', path: '/ro', data: bytes(''), version: -1 }, me).result)).toBe('NOAUTH');
    expect(code(h.run({ op: 'setData', path: '/zookeeper/config', data: bytes(''), version: -1 }, me).result)).toBe('BADARGUMENTS');
  });

  it('the root may be written (only its deletion is refused)', () => {
    const h = harness();
    expect(h.run({ op: 'setData', path: '/', data: bytes('r'), version: -1 }, me).result).toMatchObject({ ok: true, stat: { version: 1 } });
  });
});

describe('setACL (PrepRequestProcessor OpCode.setACL, DataTree.setACL)', () => {
  it('aversion + 1 and the ACL change; nothing else does (no mzxid, no watch trigger)', () => {
    const h = harness();
    const before = h.tree.stat('/a');
    const acl = [{ perms: Perms.ALL, id: alice }];
    const run = h.run({ op: 'setACL', path: '/a', acl, version: 0 }, { sessionId: 's0', auth: [alice] });
    expect(run.result).toEqual({ ok: true, op: 'setACL', stat: { ...before, aversion: 1 } });
    expect(run.triggers).toEqual([]);
    expect(h.tree.getACL('/a', { sessionId: 's0', auth: [alice] })).toMatchObject({ ok: true, acl });
  });

  it('the version is compared with aversion, not version', () => {
    const h = harness();
    h.run({ op: 'setData', path: '/a', data: bytes('1'), version: -1 }, me);
    expect(code(h.run({ op: 'setACL', path: '/a', acl: OPEN, version: 1 }, me).result)).toBe('BADVERSION');
    expect(code(h.run({ op: 'setACL', path: '/a', acl: OPEN, version: 0 }, me).result)).toBe('OK');
  });

  it('auth is expanded to the caller\'s authenticated ids; none -> INVALIDACL', () => {
    const h = harness();
    const run = h.run({ op: 'setACL', path: '/a', acl: [{ perms: Perms.ALL, id: { scheme: 'auth', id: '' } }], version: -1 }, { sessionId: 's0', auth: [alice] });
    expect(run.txn.body).toMatchObject({ acl: [{ perms: Perms.ALL, id: alice }] });
    expect(code(h.run({ op: 'setACL', path: '/a/b', acl: [{ perms: Perms.ALL, id: { scheme: 'auth', id: '' } }], version: -1 }, me).result)).toBe('INVALIDACL');
  });

  it('INVALIDACL before NONODE; NOAUTH without ADMIN; BADARGUMENTS on /zookeeper', () => {
    const h = harness();
    expect(code(h.run({ op: 'setACL', path: '/nope', acl: [], version: -1 }, me).result)).toBe('INVALIDACL');
    h.run({ op: 'setACL', path: '/a', acl: [{ perms: Perms.ALL & ~Perms.ADMIN, id: { scheme: 'world', id: 'anyone' } }], version: -1 }, me);
    expect(code(h.run({ op: 'setACL', path: '/a', acl: OPEN, version: -1 }, me).result)).toBe('NOAUTH');
    expect(code(h.run({ op: 'setACL', path: '/zookeeper', acl: OPEN, version: -1 }, me).result)).toBe('BADARGUMENTS');
  });
});

describe('malformed input is BADARGUMENTS before the session or any node is looked at (the Java client validates first)', () => {
  it.each<[string, WriteRequest]>([
    ['delete', { op: 'delete', path: '/nope/', version: -1 }],
    ['setData', { op: 'setData', path: '/nope//x', data: bytes(''), version: -1 }],
    ['setACL', { op: 'setACL', path: 'nope', acl: OPEN, version: -1 }],
    ['create', { op: 'create', path: '/nope/./x', data: bytes(''), acl: OPEN, mode: 'persistent' }],
    ['multi (check)', { op: 'multi', ops: [{ op: 'check', path: '/nope\u0000', version: -1 }] }],
    ['deleteContainer', { op: 'deleteContainer', path: '/nope/../x' }],
  ])('%s', (_op, request) => {
    const h = harness();
    const run = h.run(request, { sessionId: 'no-such-session' });
    expect(run.prepared.failure).toMatchObject({ code: 'BADARGUMENTS' });
    expect(run.prepared.failure?.reason).toMatch(/invalid path/);
  });

  it('an empty ACL is INVALIDACL before the session is checked (ZooKeeper.validateACL)', () => {
    const h = harness();
    expect(code(h.run({ op: 'create', path: '/x', data: bytes(''), acl: [], mode: 'persistent' }, { sessionId: 'gone' }).result)).toBe('INVALIDACL');
  });
});
