// Proves the peer simulator's runtime checkers (checks.ts) fire on the violations they exist for,
// fed by hand with what a broken runtime would show — two lock holders at once, a grant out of
// token order, an election leader that was not the lowest latch node where it read so, two
// election leaders at once, a leader's epoch below an earlier one's, a client told `expired` while
// its peer still holds the session, a result that reflects a change before the watch event, events
// out of zxid order — and stay quiet on the legal cases next to them (a stale grant or election
// whose node the log already deleted; the lowest node elected; the event first).
import { describe, expect, it } from 'vitest';
import { DataTree } from '../../core/tree/index.js';
import type { SessionId, Stat, TxnBody } from '../../core/tree/types.js';
import { OPEN_ACL_UNSAFE } from '../../core/tree/types.js';
import { encodeLogRecord } from '../../peer/record.js';
import { ELECTION_PATH, PeerViolation, RuntimeChecks } from './checks.js';

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

/** The violation's message (so a test tells which of a checker's rules fired); '' if none. */
function message(run: () => void): string {
  try {
    run();
  } catch (error) {
    if (error instanceof PeerViolation) return error.message;
    throw error;
  }
  return '';
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

/** Feeds the committed log entry by entry, as the first replica to apply each index would. */
class HandMadeLog {
  private index = 0;
  constructor(
    private readonly checks: RuntimeChecks,
    private readonly tree = new DataTree(),
  ) {}

  append(sessionId: SessionId | null, body: TxnBody): number {
    this.index += 1;
    const data = encodeLogRecord({ origin: 'p1', requestId: `1.${this.index}`, txn: { header: { sessionId, time: 0 }, body } });
    this.checks.onApplied({ index: this.index, term: 1, kind: 'normal', data }, this.tree);
    return this.index;
  }

  /** Creates the latch node `_c_<owner>-latch-<seq>` for session `owner`; returns its czxid. */
  latch(owner: SessionId, seq: number): { path: string; name: string; epoch: number } {
    const name = `_c_${owner}-latch-${String(seq).padStart(10, '0')}`;
    const path = `${ELECTION_PATH}/${name}`;
    const epoch = this.append(owner, { type: 'create', path, data: new Uint8Array(0), acl: [...OPEN_ACL_UNSAFE], mode: 'ephemeral', ephemeralOwner: owner, ttlMs: 0, parentCversion: seq + 1 });
    return { path, name, epoch };
  }

  remove(owner: SessionId, path: string): number {
    return this.append(owner, { type: 'delete', path });
  }

  election(): void {
    this.append('s0', { type: 'create', path: ELECTION_PATH, data: new Uint8Array(0), acl: [...OPEN_ACL_UNSAFE], mode: 'container', ephemeralOwner: null, ttlMs: 0, parentCversion: 1 });
  }
}

describe('the election checker', () => {
  it('catches a leader that was not the lowest latch node where it read so, and passes the lowest', () => {
    const checks = new RuntimeChecks();
    const log = new HandMadeLog(checks);
    log.election();
    const a = log.latch('s1', 0);
    const b = log.latch('s2', 1);
    // b's answer, read at b's creation, left a's lower node out.
    expect(message(() => checks.onElected({ client: 'b', session: 's2', path: b.path, epoch: b.epoch, seen: [b.name], learnedAt: b.epoch }))).toMatch(/^election: .*the committed log's latch children there were .*, the lowest _c_s1-latch-0000000000$/);
    expect(violation(() => checks.onElected({ client: 'a', session: 's1', path: a.path, epoch: a.epoch, seen: [a.name, b.name], learnedAt: b.epoch }))).toBe('none');
    // Once a's node is deleted, b is the lowest.
    const gone = log.remove('s1', a.path);
    checks.endBelief('a');
    expect(violation(() => checks.onElected({ client: 'b', session: 's2', path: b.path, epoch: b.epoch, seen: [b.name], learnedAt: gone }))).toBe('none');
    expect(checks.counters.elections).toBe(3);
  });

  it('catches two leaders whose latch nodes both live in the committed log', () => {
    // A runtime that hands out a lower sequence number to a later create: each answer agrees
    // with the log, but a and b both lead.
    const checks = new RuntimeChecks();
    const log = new HandMadeLog(checks);
    log.election();
    const a = log.latch('s1', 1);
    checks.onElected({ client: 'a', session: 's1', path: a.path, epoch: a.epoch, seen: [a.name], learnedAt: a.epoch });
    const b = log.latch('s2', 0);
    expect(message(() => checks.onElected({ client: 'b', session: 's2', path: b.path, epoch: b.epoch, seen: [a.name, b.name], learnedAt: b.epoch }))).toMatch(/^election: .*: two leaders$/);
    expect(checks.leadsValidly('a')).toBe(true);
  });

  it('catches an epoch below an earlier leader\'s, and accepts a stale election of a node already deleted', () => {
    const checks = new RuntimeChecks();
    const log = new HandMadeLog(checks);
    log.election();
    const a = log.latch('s1', 1);
    const b = log.latch('s2', 0);
    checks.onElected({ client: 'b', session: 's2', path: b.path, epoch: b.epoch, seen: [a.name, b.name], learnedAt: b.epoch });
    checks.endBelief('b');
    // a read the log at its own creation (alone then), but b, with the greater epoch, led first.
    expect(message(() => checks.onElected({ client: 'a', session: 's1', path: a.path, epoch: a.epoch, seen: [a.name], learnedAt: a.epoch }))).toMatch(/^election: .*epochs went down/);

    const stale = new RuntimeChecks();
    const staleLog = new HandMadeLog(stale);
    staleLog.election();
    const old = staleLog.latch('s1', 0);
    staleLog.remove('s1', old.path);
    const next = staleLog.latch('s2', 1);
    stale.onElected({ client: 'b', session: 's2', path: next.path, epoch: next.epoch, seen: [next.name], learnedAt: next.epoch });
    // A lagging peer tells a, whose node the log already deleted, that it leads: legal, counted.
    expect(violation(() => stale.onElected({ client: 'a', session: 's1', path: old.path, epoch: old.epoch, seen: [old.name], learnedAt: old.epoch }))).toBe('none');
    expect(stale.counters.staleElections).toBe(1);
    expect(stale.leadsValidly('a')).toBe(false);
    expect(stale.leadsValidly('b')).toBe(true);
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
