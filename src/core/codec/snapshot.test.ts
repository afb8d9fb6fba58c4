// Proves that a TreeSnapshot round-trips through its canonical, checksummed encoding (every node
// kind, shared and distinct ACLs, unicode paths, wrapped int32 versions, maximal data, and a
// 100,000-node tree), that equal trees hash equal, and that the decoder answers with an error
// value — never a throw — for a wrong checksum, magic or version, truncation, and each invariant it can check without the tree
// (nodes sorted with parents first, the root first, no child under an ephemeral, owners among the
// sessions, TTLs only on ttl nodes, zxids ordered and not after lastZxid, sessions sorted and
// unique, the ACL table canonical, counts within NODES_MAX / SESSIONS_MAX). Bad bytes are built
// by a raw writer below that follows the format without its checks, then sealed.

import { describe, expect, it } from 'vitest';
import { digest } from 'lib0/hash/sha256';
import { AssertionError } from '../assert.js';
import { DATA_BYTES_MAX, NODES_MAX, SESSIONS_MAX, TTL_MS_MAX } from '../limits.js';
import type { ACL, NodeKind, NodeRecord, TreeSnapshot } from '../tree/types.js';
import { writeAcl } from './fields.js';
import {
  decodeSnapshot,
  encodeSnapshot,
  NODE_KIND_TAGS,
  readSnapshotHash,
  SNAPSHOT_CHECKSUM_BYTES,
  SNAPSHOT_FORMAT_VERSION,
  SNAPSHOT_MAGIC,
  snapshotHash,
} from './snapshot.js';
import { Writer } from './writer.js';

const OPEN: ACL[] = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const READ: ACL[] = [{ perms: 1, id: { scheme: 'world', id: 'anyone' } }];

function node(path: string, fields: Partial<NodeRecord> = {}): NodeRecord {
  return {
    path,
    data: new Uint8Array(),
    acl: OPEN,
    kind: 'persistent',
    ttlMs: 0,
    czxid: 1,
    mzxid: 1,
    pzxid: 1,
    ctime: 1_700_000_000_000,
    mtime: 1_700_000_000_000,
    version: 0,
    cversion: 0,
    aversion: 0,
    ephemeralOwner: null,
    ...fields,
  };
}

const sample: TreeSnapshot = {
  lastZxid: 40,
  sessions: [
    { sessionId: 'aaa', timeoutMs: 4000 },
    { sessionId: 'bbb', timeoutMs: 30_000 },
  ],
  nodes: [
    node('/', { czxid: 0, mzxid: 0, pzxid: 30, cversion: 5 }),
    node('/a', { data: new TextEncoder().encode('hello'), version: 3, mzxid: 7 }),
    node('/a-b', { acl: READ, aversion: -1, version: 0x7fff_ffff }),
    node('/a/b', { kind: 'ephemeral', ephemeralOwner: 'bbb', czxid: 12, mzxid: 12, pzxid: 12 }),
    node('/a/c', { kind: 'ttl', ttlMs: TTL_MS_MAX, acl: [] }),
    node('/c', { kind: 'container', acl: [...READ, { perms: 16, id: { scheme: 'digest', id: 'me:x=' } }], pzxid: 40, cversion: -0x8000_0000 }),
    node('/日本', { ctime: -5, mtime: 0.5 }),
    node('/日本/😀', { kind: 'ephemeral', ephemeralOwner: 'aaa', data: new Uint8Array([0, 255]) }),
  ],
};

/** Deep equality, field by field with byte arrays compared as bytes: vitest's generic toEqual
 *  takes seconds over 100,000 nodes or a megabyte of data. A mismatch is shown with toEqual. */
function expectSameSnapshot(actual: TreeSnapshot, expected: TreeSnapshot): void {
  expect(actual.lastZxid).toBe(expected.lastZxid);
  expect(actual.sessions).toEqual(expected.sessions);
  expect(actual.nodes.length).toBe(expected.nodes.length);
  const fields = ['path', 'kind', 'ttlMs', 'czxid', 'mzxid', 'pzxid', 'ctime', 'mtime', 'version', 'cversion', 'aversion', 'ephemeralOwner'] as const;
  actual.nodes.forEach((got, index) => {
    const want = expected.nodes[index] as NodeRecord;
    const same =
      fields.every((field) => Object.is(got[field], want[field])) &&
      Buffer.compare(got.data, want.data) === 0 &&
      JSON.stringify(got.acl) === JSON.stringify(want.acl) &&
      Object.keys(got).length === Object.keys(want).length;
    if (!same) expect(got).toEqual(want);
  });
}

function expectError(bytes: Uint8Array, pattern: RegExp): void {
  const decoded = decodeSnapshot(bytes);
  expect(decoded.ok).toBe(false);
  if (!decoded.ok) expect(decoded.error).toMatch(pattern);
}

// --- A raw writer: the format without its checks, for bytes the encoder refuses to make ----------

interface RawNode {
  path: string;
  aclIndex?: number;
  kind?: NodeKind;
  ttlMs?: number;
  owner?: string;
  zxids?: [number, number, number];
}

interface RawSnapshot {
  lastZxid?: number;
  sessions?: string[];
  sessionCount?: number;
  acls?: ACL[][];
  nodes: RawNode[];
  nodeCount?: number;
}

function sealed(payload: Uint8Array): Uint8Array {
  const body = new Uint8Array([...SNAPSHOT_MAGIC, SNAPSHOT_FORMAT_VERSION, ...payload]);
  return new Uint8Array([...body, ...digest(body)]);
}

function raw(snapshot: RawSnapshot): Uint8Array {
  const w = new Writer();
  w.varUint(snapshot.lastZxid ?? 100);
  const sessions = snapshot.sessions ?? [];
  w.varUint(snapshot.sessionCount ?? sessions.length);
  for (const sessionId of sessions) {
    w.string(sessionId);
    w.varUint(1000);
  }
  w.varUint(snapshot.nodeCount ?? snapshot.nodes.length);
  const acls = snapshot.acls ?? [OPEN];
  w.varUint(acls.length);
  for (const acl of acls) writeAcl(w, acl);
  for (const entry of snapshot.nodes) {
    const kind = entry.kind ?? 'persistent';
    w.string(entry.path);
    w.varUint(0);
    w.varUint(entry.aclIndex ?? 0);
    w.u8(NODE_KIND_TAGS.indexOf(kind));
    if (kind === 'ttl') w.varUint(entry.ttlMs ?? 1);
    if (kind === 'ephemeral') w.string(entry.owner ?? 's');
    for (const zxid of entry.zxids ?? [1, 1, 1]) w.varUint(zxid);
    w.float64(0);
    w.float64(0);
    w.varInt(0);
    w.varInt(0);
    w.varInt(0);
  }
  return sealed(w.finish());
}

describe('snapshot round trip', () => {
  it('every node kind, shared and distinct ACLs, unicode paths, sibling order /a < /a-b < /a/b', () => {
    const bytes = encodeSnapshot(sample);
    const decoded = decodeSnapshot(bytes);
    expect(decoded).toEqual({ ok: true, value: sample });
    if (decoded.ok) expect(encodeSnapshot(decoded.value)).toEqual(bytes);
    expect(Array.from(bytes.subarray(0, 5))).toEqual([...SNAPSHOT_MAGIC, SNAPSHOT_FORMAT_VERSION]);
  });

  it('the raw writer agrees with the encoder (so the error cases below are built right)', () => {
    const bytes = raw({ lastZxid: 100, sessions: ['s'], nodes: [{ path: '/' }, { path: '/a', kind: 'ephemeral', owner: 's' }, { path: '/b', kind: 'ttl', ttlMs: 9 }] });
    const decoded = decodeSnapshot(bytes);
    expect(decoded.ok).toBe(true);
    if (decoded.ok) expect(encodeSnapshot(decoded.value)).toEqual(bytes);
  });

  it('an empty tree, a root-only tree, maximal data', () => {
    for (const snapshot of [
      { lastZxid: 0, nodes: [], sessions: [] },
      { lastZxid: 0, nodes: [node('/', { czxid: 0, mzxid: 0, pzxid: 0 })], sessions: [] },
      { lastZxid: 9, nodes: [node('/', { data: new Uint8Array(DATA_BYTES_MAX).fill(7) })], sessions: [{ sessionId: 'x', timeoutMs: 1 }] },
    ]) {
      const decoded = decodeSnapshot(encodeSnapshot(snapshot));
      if (!decoded.ok) throw new Error(decoded.error);
      expectSameSnapshot(decoded.value, snapshot);
    }
  });

  it('stores each distinct ACL list once', () => {
    const many = { lastZxid: 10, sessions: [], nodes: [node('/'), ...Array.from({ length: 500 }, (_, index) => node(`/n${String(index).padStart(3, '0')}`))] };
    const withUniqueAcls = { ...many, nodes: many.nodes.map((entry, index) => ({ ...entry, acl: [{ perms: 31, id: { scheme: 'digest', id: `user${index}` } }] })) };
    expect(encodeSnapshot(many).length).toBeLessThan(encodeSnapshot(withUniqueAcls).length - 500 * 10);
  });

  it('decoded nodes own their ACLs and data (no sharing, no views into the input)', () => {
    const bytes = encodeSnapshot(sample);
    const decoded = decodeSnapshot(bytes);
    if (!decoded.ok) throw new Error(decoded.error);
    const [root, a] = decoded.value.nodes as [NodeRecord, NodeRecord];
    expect(root.acl).toEqual(a.acl);
    expect(root.acl).not.toBe(a.acl);
    expect(root.acl[0]).not.toBe(a.acl[0]);
    expect(a.data.buffer).not.toBe(bytes.buffer);
  });

  it('100,000 nodes round trip', () => {
    const nodes: NodeRecord[] = [node('/', { czxid: 0, mzxid: 0, pzxid: 100_000 })];
    const sessions = Array.from({ length: 100 }, (_, index) => ({ sessionId: `session-${String(index).padStart(3, '0')}`, timeoutMs: 10_000 }));
    for (let dir = 0; dir < 100; dir++) {
      const dirPath = `/dir-${String(dir).padStart(3, '0')}`;
      nodes.push(node(dirPath, { pzxid: 100_000, cversion: 999 }));
      for (let child = 0; child < 999; child++) {
        const zxid = dir * 1000 + child + 1;
        const ephemeral = child % 10 === 0;
        nodes.push(
          node(`${dirPath}/lock-${String(child).padStart(10, '0')}`, {
            data: new TextEncoder().encode(`value ${zxid}`),
            kind: ephemeral ? 'ephemeral' : 'persistent',
            ephemeralOwner: ephemeral ? (sessions[child % 100] as { sessionId: string }).sessionId : null,
            czxid: zxid,
            mzxid: zxid,
            pzxid: zxid,
            ctime: 1_700_000_000_000 + zxid,
            mtime: 1_700_000_000_000 + zxid,
          }),
        );
      }
    }
    const snapshot: TreeSnapshot = { lastZxid: 100_000, nodes, sessions };
    expect(nodes.length).toBe(100_001);
    const bytes = encodeSnapshot(snapshot);
    const decoded = decodeSnapshot(bytes);
    if (!decoded.ok) throw new Error(decoded.error);
    expect(decoded.value.nodes.length).toBe(100_001);
    expect(decoded.value.nodes[54_321]).toEqual(nodes[54_321]);
    expectSameSnapshot(decoded.value, snapshot);
    expect(Buffer.compare(encodeSnapshot(decoded.value), bytes)).toBe(0);
    expect(readSnapshotHash(bytes)).toEqual({ ok: true, value: snapshotHash(decoded.value) });
  });
});

describe('snapshot hash', () => {
  it('is the checksum in hex: equal trees, equal hashes; any change, another hash', () => {
    const hash = snapshotHash(sample);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(snapshotHash(structuredClone(sample))).toBe(hash);
    const bytes = encodeSnapshot(sample);
    expect(hash).toBe(Buffer.from(bytes.subarray(-SNAPSHOT_CHECKSUM_BYTES)).toString('hex'));
    expect(readSnapshotHash(bytes)).toEqual({ ok: true, value: hash });
    const changed = structuredClone(sample);
    (changed.nodes[1] as NodeRecord).data = new TextEncoder().encode('hellp');
    expect(snapshotHash(changed)).not.toBe(hash);
    expect(snapshotHash({ ...sample, sessions: sample.sessions.map((session) => ({ ...session, timeoutMs: session.timeoutMs + 1 })) })).not.toBe(hash);
  });

  it('readSnapshotHash refuses bytes whose checksum is wrong', () => {
    const bytes = encodeSnapshot(sample);
    bytes[10] = (bytes[10] as number) ^ 1;
    expect(readSnapshotHash(bytes)).toEqual({ ok: false, error: 'snapshot: checksum mismatch' });
  });
});

describe('snapshot decoder refuses bad bytes as error values', () => {
  const good = encodeSnapshot(sample);

  it('checksum mismatch: a flipped payload bit, a flipped checksum bit', () => {
    for (const position of [5, Math.floor(good.length / 2), good.length - SNAPSHOT_CHECKSUM_BYTES - 1, good.length - 1]) {
      const bad = good.slice();
      bad[position] = (bad[position] as number) ^ 0x10;
      expectError(bad, /checksum mismatch/);
    }
  });

  it('bad magic, unsupported version, not bytes', () => {
    const magic = good.slice();
    magic[0] = 0;
    expectError(magic, /bad magic/);
    const version = good.slice();
    version[4] = SNAPSHOT_FORMAT_VERSION + 1;
    expectError(version, /unsupported format version 2/);
    expectError('nope' as unknown as Uint8Array, /not a Uint8Array/);
  });

  it('truncated at every length, and extended', () => {
    for (let length = 0; length < good.length; length++) {
      expect(decodeSnapshot(good.subarray(0, length)).ok).toBe(false);
    }
    expectError(good.subarray(0, 10), /too short/);
    expectError(new Uint8Array([...good, 0]), /checksum mismatch/);
  });

  it('a payload cut short but sealed, or with trailing bytes', () => {
    const payload = good.subarray(5, good.length - SNAPSHOT_CHECKSUM_BYTES);
    expectError(sealed(payload.subarray(0, payload.length - 3)), /needs|cannot fit/);
    expectError(sealed(new Uint8Array([...payload, 0])), /1 trailing bytes/);
  });

  it('nodes not sorted strictly by path', () => {
    expectError(raw({ nodes: [{ path: '/' }, { path: '/b' }, { path: '/a' }] }), /node "\/a" is not after "\/b"/);
    expectError(raw({ nodes: [{ path: '/' }, { path: '/a' }, { path: '/a' }] }), /node "\/a" is not after "\/a"/);
  });

  it('a missing parent, a root not first, an empty name', () => {
    expectError(raw({ nodes: [{ path: '/' }, { path: '/a/b' }] }), /parent "\/a" is not an earlier node/);
    expectError(raw({ nodes: [{ path: '/a' }] }), /the first node is not the root/);
    expectError(raw({ nodes: [{ path: '/' }, { path: '/a' }, { path: '/a/' }] }), /empty last name/);
    expectError(raw({ nodes: [{ path: '/' }, { path: '//' }] }), /empty last name/);
    expectError(raw({ nodes: [{ path: '/' }, { path: 'a' }] }), /does not start with/);
  });

  it('a child under an ephemeral, an owner that is not a session', () => {
    expectError(
      raw({ sessions: ['s'], nodes: [{ path: '/' }, { path: '/e', kind: 'ephemeral', owner: 's' }, { path: '/e/x' }] }),
      /parent is ephemeral/,
    );
    expectError(raw({ sessions: ['s'], nodes: [{ path: '/' }, { path: '/e', kind: 'ephemeral', owner: 't' }] }), /owner "t" is not a session/);
  });

  it('a ttl node without a TTL, or a TTL over TTL_MS_MAX', () => {
    expectError(raw({ nodes: [{ path: '/' }, { path: '/t', kind: 'ttl', ttlMs: 0 }] }), /ttl node with ttlMs 0/);
    expectError(raw({ nodes: [{ path: '/' }, { path: '/t', kind: 'ttl', ttlMs: TTL_MS_MAX + 1 }] }), /ttlMs: .* exceeds/);
  });

  it('zxids out of order or after lastZxid', () => {
    expectError(raw({ lastZxid: 5, nodes: [{ path: '/', zxids: [0, 6, 0] }] }), /zxid 6 is after lastZxid 5/);
    expectError(raw({ nodes: [{ path: '/', zxids: [3, 2, 3] }] }), /mzxid 2 < czxid 3/);
    expectError(raw({ nodes: [{ path: '/', zxids: [3, 3, 2] }] }), /pzxid 2 < czxid 3/);
  });

  it('sessions unsorted or repeated', () => {
    expectError(raw({ sessions: ['b', 'a'], nodes: [] }), /session "a" is not after "b"/);
    expectError(raw({ sessions: ['a', 'a'], nodes: [] }), /session "a" is not after "a"/);
  });

  it('an ACL table that is not canonical: a repeated list, an unused list, an index out of first-use order', () => {
    expectError(raw({ acls: [OPEN, OPEN], nodes: [{ path: '/' }, { path: '/a', aclIndex: 1 }] }), /list 1 repeats an earlier one/);
    expectError(raw({ acls: [OPEN, READ], nodes: [{ path: '/' }, { path: '/a' }] }), /1 lists no node uses/);
    expectError(raw({ acls: [OPEN, READ], nodes: [{ path: '/', aclIndex: 1 }, { path: '/a', aclIndex: 0 }] }), /acl index: 1 exceeds 0/);
    expectError(raw({ acls: [OPEN], nodes: [{ path: '/' }, { path: '/a', aclIndex: 1 }] }), /acl index 1 outside the table/);
  });

  it('counts over NODES_MAX or SESSIONS_MAX, or beyond what the bytes hold', () => {
    expectError(raw({ nodes: [], nodeCount: NODES_MAX + 1 }), /nodes: 1000001 exceeds 1000000/);
    expectError(raw({ nodes: [], sessionCount: SESSIONS_MAX + 1 }), /sessions: 65537 exceeds 65536/);
    expectError(raw({ nodes: [], nodeCount: 1000 }), /1000 items cannot fit/);
  });
});

describe('snapshot encoder asserts its input', () => {
  const expectAssertion = (snapshot: TreeSnapshot, pattern: RegExp): void => {
    expect(() => encodeSnapshot(snapshot)).toThrow(AssertionError);
    expect(() => encodeSnapshot(snapshot)).toThrow(pattern);
  };

  it('refuses the same broken invariants the decoder does', () => {
    expectAssertion({ ...sample, nodes: [...sample.nodes].reverse() }, /first node is not the root/);
    expectAssertion({ ...sample, nodes: [node('/'), node('/b'), node('/a')] }, /not after/);
    expectAssertion({ ...sample, nodes: [node('/'), node('/a/b')] }, /is not an earlier node/);
    expectAssertion({ ...sample, nodes: [node('/'), node('/e', { kind: 'ephemeral', ephemeralOwner: 'zzz' })] }, /is not a session/);
    expectAssertion({ ...sample, nodes: [node('/'), node('/p', { ephemeralOwner: 'aaa' })] }, /persistent node with an ephemeralOwner/);
    expectAssertion({ ...sample, nodes: [node('/'), node('/p', { ttlMs: 5 })] }, /persistent node with ttlMs 5/);
    expectAssertion({ ...sample, lastZxid: 0 }, /is after lastZxid 0/);
    expectAssertion({ ...sample, sessions: [...sample.sessions].reverse() }, /is not after/);
    expectAssertion({ ...sample, sessions: [{ sessionId: 'a', timeoutMs: 0 }] }, /timeoutMs 0 is at least 1/);
  });
});
