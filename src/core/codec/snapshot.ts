/**
 * A whole data tree as bytes: what a snapshot stores, what InstallSnapshot ships in chunks, and
 * what replicas hash to compare their state. Field formats: fields.ts.
 *
 *   snapshot = SNAPSHOT_MAGIC ("MKSN") · SNAPSHOT_FORMAT_VERSION (u8) · payload · sha256 (32 bytes)
 *   payload  = lastZxid
 *              · session count (<= SESSIONS_MAX) · (sessionId · timeoutMs)*      sorted, unique
 *              · node count (<= NODES_MAX)
 *              · ACL table count (<= node count) · ACL list*   distinct, in order of first use
 *              · node*                                                           sorted, unique
 *   node     = path · data · ACL table index · kind tag · [ttlMs, ttl only] · [owner, ephemeral
 *              only] · czxid mzxid pzxid · ctime mtime · version cversion aversion
 *
 * The checksum is SHA-256 over every byte before it (magic and version included); a mismatch is a
 * decode error. ACL lists are stored once and referenced by index, as ZooKeeper's snapshots do
 * (ReferenceCountedACLCache): nearly every node shares one of a handful of lists.
 *
 * The encoding is canonical (sorted nodes and sessions, the ACL table in first-use order, no
 * optional fields), so equal trees give equal bytes, and `snapshotHash` (the checksum in hex)
 * compares replicas. Paths and session ids sort by JavaScript string order (UTF-16 code units).
 *
 * Both ends check what can be checked without the tree (`SnapshotChecker`): the first node is the
 * root "/"; every other node's parent came earlier, is not ephemeral, and has at most
 * CHILDREN_PER_NODE_MAX children; no path has an empty name; an ephemeral has an owner among the
 * sessions and nothing else has one; a ttl node has 0 < ttlMs <= TTL_MS_MAX and nothing else a TTL;
 * czxid <= mzxid, czxid <= pzxid and every zxid <= lastZxid.
 */

import { toHexString } from 'lib0/buffer';
import { digest } from 'lib0/hash/sha256';
import { assert, unreachable } from '../assert.js';
import { CHILDREN_PER_NODE_MAX, NODES_MAX, SESSIONS_MAX, TTL_MS_MAX } from '../limits.js';
import type { ACL, NodeKind, NodeRecord, SessionRecord, TreeSnapshot } from '../tree/types.js';
import { decodeWith, type Decoded, type Reader } from './reader.js';
import { Writer } from './writer.js';
import {
  readAcl,
  readVersion,
  readZxid,
  readData,
  readPath,
  readSessionId,
  readTime,
  readTimeoutMs,
  readTtlMs,
  writeAcl,
  writeVersion,
  writeZxid,
  writeData,
  writePath,
  writeSessionId,
  writeTime,
  writeTimeoutMs,
  writeTtlMs,
} from './fields.js';

/** "MKSN": marks meshkeeper snapshot bytes, so that other bytes fail before the checksum. */
export const SNAPSHOT_MAGIC: readonly number[] = [0x4d, 0x4b, 0x53, 0x4e];
export const SNAPSHOT_FORMAT_VERSION = 1;
/** SHA-256's digest size. */
export const SNAPSHOT_CHECKSUM_BYTES = 32;
const SNAPSHOT_HEADER_BYTES = SNAPSHOT_MAGIC.length + 1;

/** Node kinds by wire tag (append only). */
export const NODE_KIND_TAGS: readonly NodeKind[] = ['persistent', 'ephemeral', 'container', 'ttl'];

/** The least bytes a node, a session and an ACL table entry take: bound claimed counts. */
const NODE_BYTES_MIN = 26;
const SESSION_BYTES_MIN = 2;
const ACL_LIST_BYTES_MIN = 1;

// --- Invariants, checked alike by the encoder (assert) and the decoder (error value) ----------

/** Streams over a snapshot's sessions, then its nodes, and names the first broken invariant. */
export class SnapshotChecker {
  private readonly sessionIds = new Set<string>();
  private lastSessionId: string | undefined;
  /** Seen paths by their position; per position, whether ephemeral and how many children. */
  private readonly positions = new Map<string, number>();
  private readonly ephemeral: boolean[] = [];
  private readonly children: number[] = [];
  private lastPath: string | undefined;
  /** The last parent looked up, and its position: siblings come in runs, so this spares lookups. */
  private lastParent = '';
  private lastParentPosition = -1;

  constructor(private readonly lastZxid: number) {}

  /** Why this session cannot come next, or undefined. */
  session(record: SessionRecord): string | undefined {
    if (this.lastSessionId !== undefined && !(this.lastSessionId < record.sessionId)) {
      return `session ${JSON.stringify(record.sessionId)} is not after ${JSON.stringify(this.lastSessionId)}`;
    }
    if (this.lastPath !== undefined) return 'sessions come before nodes';
    this.lastSessionId = record.sessionId;
    this.sessionIds.add(record.sessionId);
    return undefined;
  }

  /** Why this node cannot come next, or undefined (and then it is recorded as seen). */
  node(record: NodeRecord): string | undefined {
    const path = record.path;
    if (this.lastPath !== undefined && !(this.lastPath < path)) {
      return `node ${JSON.stringify(path)} is not after ${JSON.stringify(this.lastPath)}`;
    }
    const problem = this.placeProblem(path) ?? this.kindProblem(record) ?? this.zxidProblem(record);
    if (problem !== undefined) return `node ${JSON.stringify(path)}: ${problem}`;
    if (this.lastPath !== undefined) this.children[this.lastParentPosition] = (this.children[this.lastParentPosition] as number) + 1;
    this.lastPath = path;
    this.positions.set(path, this.ephemeral.length);
    this.ephemeral.push(record.kind === 'ephemeral');
    this.children.push(0);
    return undefined;
  }

  /** Checks where the node goes; for a non-root node, leaves its parent in lastParentPosition. */
  private placeProblem(path: string): string | undefined {
    if (this.lastPath === undefined) return path === '/' ? undefined : 'the first node is not the root "/"';
    if (path.charCodeAt(0) !== 0x2f) return 'path does not start with "/"';
    if (path.charCodeAt(path.length - 1) === 0x2f) return 'path has an empty last name';
    const parent = parentOf(path);
    if (parent !== this.lastParent) {
      const position = this.positions.get(parent);
      if (position === undefined) return `parent ${JSON.stringify(parent)} is not an earlier node`;
      this.lastParent = parent;
      this.lastParentPosition = position;
    }
    if (this.ephemeral[this.lastParentPosition] === true) return 'parent is ephemeral';
    if ((this.children[this.lastParentPosition] as number) >= CHILDREN_PER_NODE_MAX) {
      return `parent has more than ${CHILDREN_PER_NODE_MAX} children`;
    }
    return undefined;
  }

  private kindProblem(record: NodeRecord): string | undefined {
    const ephemeral = record.kind === 'ephemeral';
    if (ephemeral && record.ephemeralOwner === null) return 'ephemeral without an owner';
    if (!ephemeral && record.ephemeralOwner !== null) return `${record.kind} node with an ephemeralOwner`;
    if (ephemeral && !this.sessionIds.has(record.ephemeralOwner as string)) {
      return `owner ${JSON.stringify(record.ephemeralOwner)} is not a session`;
    }
    const ttl = record.kind === 'ttl';
    if (ttl && !(record.ttlMs > 0 && record.ttlMs <= TTL_MS_MAX)) return `ttl node with ttlMs ${record.ttlMs}`;
    if (!ttl && record.ttlMs !== 0) return `${record.kind} node with ttlMs ${record.ttlMs}`;
    return undefined;
  }

  private zxidProblem(record: NodeRecord): string | undefined {
    if (record.mzxid < record.czxid) return `mzxid ${record.mzxid} < czxid ${record.czxid}`;
    if (record.pzxid < record.czxid) return `pzxid ${record.pzxid} < czxid ${record.czxid}`;
    const newest = Math.max(record.mzxid, record.pzxid);
    if (newest > this.lastZxid) return `zxid ${newest} is after lastZxid ${this.lastZxid}`;
    return undefined;
  }
}

/** The parent of a non-root path that starts with "/". */
function parentOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash <= 0 ? '/' : path.slice(0, slash);
}

/** A key equal for equal ACL lists and different otherwise (lengths make it unambiguous). */
function aclKey(acl: readonly ACL[]): string {
  let key = '';
  for (const entry of acl) {
    key += `${entry.perms}:${entry.id.scheme.length}:${entry.id.scheme}:${entry.id.id.length}:${entry.id.id};`;
  }
  return key;
}

function copyAcl(acl: readonly ACL[]): ACL[] {
  return acl.map((entry) => ({ perms: entry.perms, id: { scheme: entry.id.scheme, id: entry.id.id } }));
}

// --- Encoding -------------------------------------------------------------------------------

/** The ACL table in first-use order and each node's index into it. */
function aclTable(nodes: readonly NodeRecord[]): { lists: (readonly ACL[])[]; indexes: Uint32Array } {
  const indexByKey = new Map<string, number>();
  const lists: (readonly ACL[])[] = [];
  const indexes = new Uint32Array(nodes.length);
  nodes.forEach((node, position) => {
    assert(Array.isArray(node.acl), 'node acl is an array');
    const key = aclKey(node.acl);
    let index = indexByKey.get(key);
    if (index === undefined) {
      index = lists.length;
      indexByKey.set(key, index);
      lists.push(node.acl);
    }
    indexes[position] = index;
  });
  return { lists, indexes };
}

function writeNode(writer: Writer, node: NodeRecord, aclIndex: number): void {
  writePath(writer, node.path);
  writeData(writer, node.data);
  writer.varUint(aclIndex);
  writer.tag(node.kind, NODE_KIND_TAGS);
  switch (node.kind) {
    case 'ttl':
      writeTtlMs(writer, node.ttlMs);
      break;
    case 'ephemeral':
      assert(node.ephemeralOwner !== null, 'an ephemeral has an owner');
      writeSessionId(writer, node.ephemeralOwner);
      break;
    case 'persistent':
    case 'container':
      break;
    default:
      unreachable(node.kind, 'node kind');
  }
  writeZxid(writer, node.czxid);
  writeZxid(writer, node.mzxid);
  writeZxid(writer, node.pzxid);
  writeTime(writer, node.ctime);
  writeTime(writer, node.mtime);
  writeVersion(writer, node.version);
  writeVersion(writer, node.cversion);
  writeVersion(writer, node.aversion);
}

/** The canonical bytes of `snapshot`, checksum included. A broken invariant fails an assertion. */
export function encodeSnapshot(snapshot: TreeSnapshot): Uint8Array {
  assert(Array.isArray(snapshot.nodes) && Array.isArray(snapshot.sessions), 'snapshot has node and session lists');
  const checker = new SnapshotChecker(snapshot.lastZxid);
  const writer = new Writer();
  for (const byte of SNAPSHOT_MAGIC) writer.u8(byte);
  writer.u8(SNAPSHOT_FORMAT_VERSION);
  writeZxid(writer, snapshot.lastZxid);

  writer.count(snapshot.sessions.length, SESSIONS_MAX);
  for (const session of snapshot.sessions) {
    const problem = checker.session(session);
    assert(problem === undefined, problem ?? '');
    writeSessionId(writer, session.sessionId);
    writeTimeoutMs(writer, session.timeoutMs, 1);
  }

  writer.count(snapshot.nodes.length, NODES_MAX);
  const { lists, indexes } = aclTable(snapshot.nodes);
  writer.count(lists.length, NODES_MAX);
  for (const acl of lists) writeAcl(writer, acl);
  snapshot.nodes.forEach((node, position) => {
    const problem = checker.node(node);
    assert(problem === undefined, problem ?? '');
    writeNode(writer, node, indexes[position] as number);
  });

  const payload = writer.finish();
  const sealed = new Uint8Array(payload.length + SNAPSHOT_CHECKSUM_BYTES);
  sealed.set(payload);
  sealed.set(digest(payload), payload.length);
  return sealed;
}

/** The SHA-256 of `snapshot`'s canonical encoding, in hex: equal trees, equal hashes. */
export function snapshotHash(snapshot: TreeSnapshot): string {
  return toHexString(encodeSnapshot(snapshot).subarray(-SNAPSHOT_CHECKSUM_BYTES));
}

// --- Decoding -------------------------------------------------------------------------------

/** Reads the ACL table; its lists must be distinct (the encoder stores each list once). */
function readAclTable(reader: Reader, nodeCount: number): ACL[][] {
  const count = reader.count('acl table', Math.min(NODES_MAX, nodeCount), ACL_LIST_BYTES_MIN);
  const keys = new Set<string>();
  const lists: ACL[][] = [];
  for (let index = 0; index < count; index++) {
    const acl = readAcl(reader);
    const key = aclKey(acl);
    if (keys.has(key)) reader.fail(`acl table: list ${index} repeats an earlier one`);
    keys.add(key);
    lists.push(acl);
  }
  return lists;
}

/** Reads a node; `readAclIndex` reads its ACL table index and returns that list (a copy). */
function readNode(reader: Reader, readAclIndex: () => ACL[]): NodeRecord {
  const path = readPath(reader);
  const data = readData(reader);
  const acl = readAclIndex();
  const kind = reader.tag('node kind', NODE_KIND_TAGS);
  const ttlMs = kind === 'ttl' ? readTtlMs(reader) : 0;
  const ephemeralOwner = kind === 'ephemeral' ? readSessionId(reader, 'ephemeralOwner') : null;
  const czxid = readZxid(reader, 'czxid');
  const mzxid = readZxid(reader, 'mzxid');
  const pzxid = readZxid(reader, 'pzxid');
  const ctime = readTime(reader, 'ctime');
  const mtime = readTime(reader, 'mtime');
  const version = readVersion(reader, 'version');
  const cversion = readVersion(reader, 'cversion');
  const aversion = readVersion(reader, 'aversion');
  return { path, data, acl, kind, ttlMs, czxid, mzxid, pzxid, ctime, mtime, version, cversion, aversion, ephemeralOwner };
}

function readPayload(reader: Reader): TreeSnapshot {
  const lastZxid = readZxid(reader, 'lastZxid');
  const checker = new SnapshotChecker(lastZxid);

  const sessionCount = reader.count('sessions', SESSIONS_MAX, SESSION_BYTES_MIN);
  const sessions: SessionRecord[] = [];
  for (let index = 0; index < sessionCount; index++) {
    const sessionId = readSessionId(reader);
    const session = { sessionId, timeoutMs: readTimeoutMs(reader, 1) };
    const problem = checker.session(session);
    if (problem !== undefined) reader.fail(problem);
    sessions.push(session);
  }

  const nodeCount = reader.count('nodes', NODES_MAX, NODE_BYTES_MIN);
  const acls = readAclTable(reader, nodeCount);
  let aclsUsed = 0;
  const readAclIndex = (): ACL[] => {
    // Canonical table order: a node names a list already used, or the next unused one.
    const aclIndex = reader.varUint('acl index', aclsUsed);
    if (aclIndex === aclsUsed) {
      if (aclsUsed >= acls.length) reader.fail(`acl index ${aclIndex} outside the table`);
      aclsUsed += 1;
    }
    return copyAcl(acls[aclIndex] as ACL[]);
  };
  const nodes: NodeRecord[] = [];
  for (let index = 0; index < nodeCount; index++) {
    const node = readNode(reader, readAclIndex);
    const problem = checker.node(node);
    if (problem !== undefined) reader.fail(problem);
    nodes.push(node);
  }
  if (aclsUsed !== acls.length) reader.fail(`acl table: ${acls.length - aclsUsed} lists no node uses`);
  return { lastZxid, nodes, sessions };
}

/** Checks magic, version and checksum; returns the payload's end, or an error. */
function checkSeal(bytes: Uint8Array): { ok: true; payloadEnd: number } | { ok: false; error: string } {
  if (!(bytes instanceof Uint8Array)) return { ok: false, error: 'input is not a Uint8Array' };
  if (bytes.length < SNAPSHOT_HEADER_BYTES + SNAPSHOT_CHECKSUM_BYTES) {
    return { ok: false, error: `snapshot: ${bytes.length} bytes is too short` };
  }
  for (let index = 0; index < SNAPSHOT_MAGIC.length; index++) {
    if (bytes[index] !== SNAPSHOT_MAGIC[index]) return { ok: false, error: 'snapshot: bad magic' };
  }
  const version = bytes[SNAPSHOT_MAGIC.length];
  if (version !== SNAPSHOT_FORMAT_VERSION) return { ok: false, error: `snapshot: unsupported format version ${version}` };
  const payloadEnd = bytes.length - SNAPSHOT_CHECKSUM_BYTES;
  const expected = digest(bytes.subarray(0, payloadEnd));
  for (let index = 0; index < SNAPSHOT_CHECKSUM_BYTES; index++) {
    if (bytes[payloadEnd + index] !== expected[index]) return { ok: false, error: 'snapshot: checksum mismatch' };
  }
  return { ok: true, payloadEnd };
}

/** Decodes and checks snapshot bytes; never throws on bad input. */
export function decodeSnapshot(bytes: Uint8Array): Decoded<TreeSnapshot> {
  const seal = checkSeal(bytes);
  if (!seal.ok) return seal;
  return decodeWith(bytes.subarray(SNAPSHOT_HEADER_BYTES, seal.payloadEnd), readPayload);
}

/** The hash of snapshot bytes (as `snapshotHash` gives for the tree they hold), after checking
 *  their magic, version and checksum but without decoding them. */
export function readSnapshotHash(bytes: Uint8Array): Decoded<string> {
  const seal = checkSeal(bytes);
  if (!seal.ok) return seal;
  return { ok: true, value: toHexString(bytes.subarray(seal.payloadEnd)) };
}
