// Proves the peer simulator's runtime checkers (checks.ts) fire on the violations they exist for,
// fed by hand with what a broken runtime would show — two lock holders at once, a grant out of
// token order, a client told `expired` while its peer still holds the session, a result that
// reflects a change before the watch event, events out of zxid order — and stay quiet on the
// legal cases next to them (a stale grant whose node the log already deleted; the event first).
import { describe, expect, it } from 'vitest';
import { DataTree } from '../../core/tree/index.js';
import type { Stat } from '../../core/tree/types.js';
import { PeerViolation, RuntimeChecks } from './checks.js';

function stat(czxid: number, mzxid: number): Stat {
  return { czxid, mzxid, pzxid: czxid, ctime: 0, mtime: 0, version: mzxid - czxid, cversion: 0, aversion: 0, ephemeralOwner: null, dataLength: 0, numChildren: 0 };
}

function violation(run: () => void): string {
  try {
    run();
  } catch (error) {
    if (error instanceof PeerViolation) return error.check;
    throw error;
  }
  return 'none';
}

describe('the lock checker', () => {
  it('catches two holders whose nodes are both alive in the committed log', () => {
    const checks = new RuntimeChecks();
    checks.onGrant('a', 's1', '/lock/n-0000000001', 5);
    expect(violation(() => checks.onGrant('b', 's2', '/lock/n-0000000002', 9))).toBe('lock');
  });

  it('accepts a stale grant of a node already deleted, and catches a lower token granted later', () => {
    const checks = new RuntimeChecks();
    checks.onGrant('a', 's1', '/lock/n-0000000002', 9);
    checks.endBelief('a');
    expect(violation(() => checks.onGrant('b', 's2', '/lock/n-0000000001', 5))).toBe('lock');
    const stale = new RuntimeChecks();
    stale.log.lockNodeDeletedAt.set('/lock/n-0000000001', stale.order());
    stale.onGrant('a', 's1', '/lock/n-0000000002', 9);
    expect(violation(() => stale.onGrant('b', 's2', '/lock/n-0000000001', 5))).toBe('none');
  });
});

describe('the session checker', () => {
  it('catches a client told expired while its serving peer holds the session', () => {
    const checks = new RuntimeChecks();
    const tree = new DataTree();
    tree.apply({ header: { sessionId: null, time: 0 }, body: { type: 'createSession', sessionId: 's1', timeoutMs: 4000 } }, 1);
    checks.sessionOpened('s1', 'a', 'p1');
    expect(violation(() => checks.sessionEnded({ client: 'a', session: 's1', state: 'expired', askedToClose: false, tree }))).toBe('sessions');
    // A close the client asked for and the peer gave up on is legal (the leader expires it later).
    expect(violation(() => checks.sessionEnded({ client: 'a', session: 's1', state: 'closed', askedToClose: true, tree }))).toBe('none');
  });
});

describe('the watch checker', () => {
  it('catches a result reflecting a change before its event, and passes the event first', () => {
    const checks = new RuntimeChecks();
    checks.sessionOpened('s1', 'a', 'p1');
    checks.onResult('s1', { op: 'getData', path: '/x', watch: true }, { ok: true, op: 'getData', data: new Uint8Array(0), stat: stat(3, 3) });
    checks.onEvent('s1', { watcher: 's1', type: 'NodeDataChanged', path: '/x', zxid: 7 });
    checks.onResult('s1', { op: 'getData', path: '/x', watch: true }, { ok: true, op: 'getData', data: new Uint8Array(0), stat: stat(3, 7) });
    expect(violation(() => checks.onResult('s1', { op: 'setData', path: '/x', data: new Uint8Array(0), version: 4 }, { ok: true, op: 'setData', stat: stat(3, 9) }))).toBe('watches');
  });

  it('catches events out of zxid order', () => {
    const checks = new RuntimeChecks();
    checks.sessionOpened('s1', 'a', 'p1');
    checks.onEvent('s1', { watcher: 's1', type: 'NodeCreated', path: '/x', zxid: 7 });
    expect(violation(() => checks.onEvent('s1', { watcher: 's1', type: 'NodeCreated', path: '/y', zxid: 5 }))).toBe('watches');
  });
});
