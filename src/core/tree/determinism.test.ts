// Proves apply is deterministic and the incremental digest is exact: a seeded random workload
// (every write op, multis, sessions, container sweeps, batches prepared before they are applied)
// runs on a leader harness while a follower tree applies the same txns; at every index the two
// have equal digests and replies, and periodically the digest equals one rebuilt from scratch
// through toSnapshot/fromSnapshot. Replay a failure with SEED=<seed> (printed on failure).
import { describe, expect, it } from 'vitest';
import type { Prng } from '../prng.js';
import { testSeed, withSeed } from '../../test-support/seed.js';
import { DataTree } from './data-tree.js';
import { TreeHarness } from './harness.js';
import { CREATE_MODES, OPEN_ACL_UNSAFE, Perms, type ACL, type MultiOp, type Txn, type WriteRequest } from './types.js';

const SESSIONS = ['s0', 's1', 's2', 's3'];
const NAMES = ['a', 'b', 'c'];
const alice = { scheme: 'digest', id: 'alice:aGFzaA==' };
const ACLS: ACL[][] = [
  OPEN_ACL_UNSAFE.map((a) => ({ ...a, id: { ...a.id } })),
  [{ perms: Perms.READ | Perms.CREATE | Perms.DELETE, id: { scheme: 'world', id: 'anyone' } }, { perms: Perms.ALL, id: alice }],
  [{ perms: Perms.ALL, id: { scheme: 'auth', id: '' } }],
];

function randomPath(prng: Prng): string {
  const depth = prng.int(1, 3);
  let path = '';
  for (let i = 0; i < depth; i++) path += `/${prng.pick(NAMES)}`;
  return path;
}

function randomOp(prng: Prng): MultiOp {
  const path = randomPath(prng);
  const version = prng.chance(0.7) ? -1 : prng.int(0, 2);
  switch (prng.int(0, 3)) {
    case 0: {
      const mode = prng.pick(CREATE_MODES);
      const ttl = mode.endsWith('_ttl') ? { ttlMs: prng.int(1, 5000) } : {};
      return { op: 'create', path, data: new Uint8Array(prng.int(0, 8)).fill(prng.int(0, 255)), acl: prng.pick(ACLS), mode, ...ttl };
    }
    case 1:
      return { op: 'delete', path, version };
    case 2:
      return { op: 'setData', path, data: new Uint8Array(prng.int(0, 64)).fill(prng.int(0, 255)), version };
    default:
      return { op: 'check', path, version };
  }
}

function randomRequest(prng: Prng, tree: DataTree, now: number): WriteRequest {
  const roll = prng.int(0, 99);
  if (roll < 8) return { op: 'createSession', sessionId: prng.pick(SESSIONS), timeoutMs: prng.int(1000, 9000) };
  if (roll < 12) return { op: 'closeSession', sessionId: prng.pick(SESSIONS) };
  if (roll < 16) {
    const due = tree.due(now).paths;
    return { op: 'deleteContainer', path: due.length > 0 ? prng.pick(due) : randomPath(prng) };
  }
  if (roll < 26) return { op: 'multi', ops: Array.from({ length: prng.int(0, 4) }, () => randomOp(prng)) };
  if (roll < 32) return { op: 'setACL', path: randomPath(prng), acl: prng.pick(ACLS), version: -1 };
  const op = randomOp(prng);
  return op.op === 'check' ? { op: 'delete', path: op.path, version: op.version } : op;
}

function runWorkload(prng: Prng, steps: number): void {
  const leader = new TreeHarness();
  const follower = new DataTree();
  let applied = 0;
  const replicate = (txn: Txn, zxid: number, leaderResult: unknown): void => {
    const { result } = follower.apply(txn, zxid);
    expect(result).toEqual(leaderResult);
    expect(follower.digest()).toBe(leader.tree.digest());
    applied += 1;
    if (applied % 50 === 0) {
      const rebuilt = DataTree.fromSnapshot(leader.tree.toSnapshot());
      if (!rebuilt.ok) throw new Error(rebuilt.error);
      expect(rebuilt.tree.digest()).toBe(leader.tree.digest());
    }
  };
  for (let step = 0; step < steps; step++) {
    leader.now += prng.int(0, 400);
    const batch = prng.chance(0.3) ? prng.int(2, 4) : 1;
    for (let i = 0; i < batch; i++) {
      const caller = { sessionId: prng.chance(0.9) ? prng.pick(SESSIONS) : null, auth: prng.chance(0.3) ? [alice] : [] };
      leader.prepOnly(randomRequest(prng, leader.tree, leader.now), caller);
    }
    for (let run = leader.applyNext(); run !== undefined; run = leader.applyNext()) replicate(run.txn, run.zxid, run.result);
  }
  expect(follower.toSnapshot()).toEqual(leader.tree.toSnapshot());
  expect(leader.preparer.outstanding).toBe(0);
}

describe('determinism: the same txns give byte-identical trees', () => {
  it('a seeded random workload keeps a follower identical to the leader at every index (testRepeat)', () => {
    for (let repeat = 0; repeat < 5; repeat++) {
      const seed = testSeed() + repeat;
      withSeed('tree determinism', seed, (prng) => runWorkload(prng, 400));
    }
  });

  it('the digest tells different trees apart: one byte of data, one stat field, one ACL, one session', () => {
    const base = (): TreeHarness => {
      const h = new TreeHarness();
      h.openSession('s0');
      h.run({ op: 'create', path: '/a', data: new Uint8Array([1]), acl: ACLS[0] as ACL[], mode: 'persistent' }, { sessionId: 's0' });
      return h;
    };
    const digests = new Set<string>();
    digests.add(base().tree.digest());
    const data = base();
    data.run({ op: 'setData', path: '/a', data: new Uint8Array([2]), version: -1 }, { sessionId: 's0' });
    digests.add(data.tree.digest());
    const stat = base();
    stat.run({ op: 'setData', path: '/a', data: new Uint8Array([1]), version: -1 }, { sessionId: 's0' });
    digests.add(stat.tree.digest());
    const acl = base();
    acl.run({ op: 'setACL', path: '/a', acl: ACLS[1] as ACL[], version: -1 }, { sessionId: 's0' });
    digests.add(acl.tree.digest());
    const session = base();
    session.openSession('s1');
    digests.add(session.tree.digest());
    expect(digests.size).toBe(5);
    expect([...digests].every((d) => /^[0-9a-f]{16}$/.test(d))).toBe(true);
  });

  it('the digest is a function of the state alone, not of the path that led to it', () => {
    const h = new TreeHarness();
    h.openSession('s0');
    h.run({ op: 'create', path: '/e', data: new Uint8Array(0), acl: ACLS[0] as ACL[], mode: 'ephemeral' }, { sessionId: 's0' });
    expect(h.tree.digest()).not.toBe(new DataTree().digest());
    h.run({ op: 'closeSession', sessionId: 's0' });
    // The root's pzxid and cversion moved, so it is not the fresh tree's digest...
    expect(h.tree.digest()).not.toBe(new DataTree().digest());
    // ...but it is exactly the digest of a tree holding this same state, however it got there.
    const rebuilt = DataTree.fromSnapshot(h.tree.toSnapshot());
    expect(rebuilt.ok && rebuilt.tree.digest()).toBe(h.tree.digest());
  });
});
