// Proves the codec carries exactly what the real data tree produces (src/core/tree, driven by its
// TreeHarness): over a seeded random workload of writes — every create mode, setData, setACL,
// deletes, multis that fail and succeed, sessions opening and closing — every request, txn, write
// result, watch trigger and read result (reserved nodes included, whose versions are -1) round
// trips, and a snapshot of the tree survives encode -> decode -> DataTree.fromSnapshot with the
// same digest. Replay: SEED=N (the seed is in the test's name).

import { describe, expect, it } from 'vitest';
import type { Prng } from '../prng.js';
import { testSeed, withSeed } from '../../test-support/seed.js';
import { DataTree } from '../tree/data-tree.js';
import { TreeHarness } from '../tree/harness.js';
import { CREATE_MODES, OPEN_ACL_UNSAFE, READ_ACL_UNSAFE, type ACL, type WriteRequest } from '../tree/types.js';
import type { Decoded } from './reader.js';
import { decodeRequest, encodeRequest } from './requests.js';
import {
  decodeReadResult,
  decodeWatchTrigger,
  decodeWriteResult,
  encodeReadResult,
  encodeWatchTrigger,
  encodeWriteResult,
} from './results.js';
import { decodeSnapshot, encodeSnapshot, snapshotHash } from './snapshot.js';
import { decodeTxn, encodeTxn } from './txns.js';

const seed = testSeed();
const STEPS = 400;

function same<T>(encode: (value: T) => Uint8Array, decode: (bytes: Uint8Array) => Decoded<T>, value: T): void {
  const decoded = decode(encode(value));
  if (!decoded.ok) throw new Error(`decode failed: ${decoded.error} for ${JSON.stringify(value)}`);
  expect(decoded.value).toEqual(value);
}

const ACLS: readonly ACL[][] = [[...OPEN_ACL_UNSAFE], [...READ_ACL_UNSAFE, { perms: 30, id: { scheme: 'world', id: 'anyone' } }]];
const SESSIONS = ['session-a', 'session-b', 'session-c'];

function randomPath(prng: Prng): string {
  const depth = prng.int(1, 3);
  const names = Array.from({ length: depth }, () => prng.pick(['a', 'b', 'c', 'ü', '日本']));
  return `/${names.join('/')}`;
}

function randomWrite(prng: Prng): WriteRequest {
  const path = randomPath(prng);
  const version = prng.chance(0.7) ? -1 : prng.int(0, 3);
  const data = new TextEncoder().encode(`v${prng.int(0, 99)}`);
  switch (prng.int(0, 6)) {
    case 0:
    case 1: {
      const mode = prng.pick(CREATE_MODES);
      const ttl = mode.endsWith('_ttl') ? { ttlMs: prng.int(1, 100_000) } : {};
      return { op: 'create', path, data, acl: prng.pick(ACLS), mode, ...ttl };
    }
    case 2:
      return { op: 'setData', path, data, version };
    case 3:
      return { op: 'setACL', path, acl: prng.pick(ACLS), version };
    case 4:
      return { op: 'delete', path, version };
    case 5:
      return {
        op: 'multi',
        ops: [
          { op: 'create', path: randomPath(prng), data, acl: [...OPEN_ACL_UNSAFE], mode: 'persistent' },
          { op: 'check', path, version },
          { op: 'setData', path, data, version: -1 },
        ],
      };
    default:
      return prng.chance(0.5) ? { op: 'closeSession', sessionId: prng.pick(SESSIONS) } : { op: 'createSession', sessionId: prng.pick(SESSIONS), timeoutMs: 10_000 };
  }
}

describe(`codec and data tree interoperate (seed ${seed})`, () => {
  it(`every request, txn, result, trigger and snapshot of a random workload round trips [seed ${seed}]`, () => {
    withSeed('codec and data tree interoperate', seed, (prng) => {
      const harness = new TreeHarness();
      for (const sessionId of SESSIONS) harness.openSession(sessionId);
      let succeeded = 0;
      let nodesPeak = 0;
      for (let step = 0; step < STEPS; step++) {
        const request = randomWrite(prng);
        same(encodeRequest, decodeRequest, request);
        const run = harness.run(request, { sessionId: prng.pick([...SESSIONS, null]) });
        same(encodeTxn, decodeTxn, run.txn);
        same(encodeWriteResult, decodeWriteResult, run.result);
        if (run.result.ok) succeeded += 1;
        for (const trigger of run.triggers) same(encodeWatchTrigger, decodeWatchTrigger, trigger);
        harness.now += prng.int(0, 1000);
        nodesPeak = Math.max(nodesPeak, harness.tree.nodeCount);
      }
      const ctx = { sessionId: 'session-a', auth: [] };
      for (const path of ['/', '/zookeeper', '/zookeeper/config', '/zookeeper/quota', '/a', '/b', '/missing']) {
        for (const result of [
          harness.tree.getData(path, ctx),
          harness.tree.exists(path),
          harness.tree.getChildren(path, ctx),
          harness.tree.getACL(path, ctx),
          harness.tree.getAllChildrenNumber(path, ctx),
        ]) {
          same(encodeReadResult, decodeReadResult, result);
        }
      }
      same(encodeReadResult, decodeReadResult, harness.tree.getEphemerals('/', ctx));

      // The workload must reach the interesting states, not fail every write.
      expect(succeeded).toBeGreaterThan(STEPS / 20);
      // The run grew the tree beyond the four reserved nodes (it may shrink again by the end).
      expect(nodesPeak).toBeGreaterThan(5);
      const snapshot = harness.tree.toSnapshot();
      const decoded = decodeSnapshot(encodeSnapshot(snapshot));
      if (!decoded.ok) throw new Error(decoded.error);
      expect(decoded.value).toEqual(snapshot);
      const loaded = DataTree.fromSnapshot(decoded.value);
      if (!loaded.ok) throw new Error(loaded.error);
      expect(loaded.tree.digest()).toBe(harness.tree.digest());
      expect(snapshotHash(loaded.tree.toSnapshot())).toBe(snapshotHash(snapshot));
    });
  });
});
