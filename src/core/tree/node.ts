/**
 * One znode as the tree holds it (ZooKeeper's DataNode + StatPersisted), the client-visible Stat
 * built exactly as DataNode.copyStat, and the per-node hash that feeds the tree digest.
 */

import { assert, unreachable } from '../assert.js';
import { Hasher, type Hash64 } from './hash.js';
import type { ACL, CreateMode, NodeKind, NodeRecord, SessionId, Stat } from './types.js';

export interface ZNode {
  data: Uint8Array;
  acl: ACL[];
  kind: NodeKind;
  /** TTL nodes only, else 0. */
  ttlMs: number;
  czxid: number;
  mzxid: number;
  pzxid: number;
  ctime: number;
  mtime: number;
  version: number;
  /** Internal: the number of child creates (see copyStat). */
  cversion: number;
  aversion: number;
  ephemeralOwner: SessionId | null;
  children: Set<string>;
  /** Cached hashes: the path's and the data's never change without a new array, so a parent's
   *  pzxid/cversion update rehashes a few words, not its (maybe 1 MB) data. */
  pathHash: Hash64;
  dataHash: Hash64;
  aclHash: Hash64;
  hash: Hash64;
}

// Distinct seeds keep the hash of a path from ever equalling the hash of the same bytes as data.
const SEED_PATH = 0x70617468;
const SEED_DATA = 0x64617461;
const SEED_ACL = 0x61636c73;
const SEED_NODE = 0x6e6f6465;
const SEED_SESSION = 0x73657373;

const KIND_CODES: Record<NodeKind, number> = { persistent: 1, ephemeral: 2, container: 3, ttl: 4 };

export function hashPath(path: string): Hash64 {
  return new Hasher(SEED_PATH).string(path).finish();
}

export function hashData(data: Uint8Array): Hash64 {
  return new Hasher(SEED_DATA).bytes(data).finish();
}

export function hashAcl(acl: readonly ACL[]): Hash64 {
  const hasher = new Hasher(SEED_ACL).word(acl.length);
  for (const entry of acl) hasher.word(entry.perms).string(entry.id.scheme).string(entry.id.id);
  return hasher.finish();
}

/** The node's hash over path, every persisted stat field, kind, TTL, owner, ACL and data. */
export function hashNode(node: ZNode): Hash64 {
  const hasher = new Hasher(SEED_NODE)
    .hash(node.pathHash)
    .integer(node.czxid)
    .integer(node.mzxid)
    .integer(node.pzxid)
    .integer(node.ctime)
    .integer(node.mtime)
    .integer(node.version)
    .integer(node.cversion)
    .integer(node.aversion)
    .word(KIND_CODES[node.kind])
    .integer(node.ttlMs);
  if (node.ephemeralOwner === null) hasher.word(0);
  else hasher.word(1).string(node.ephemeralOwner);
  return hasher.hash(node.aclHash).hash(node.dataHash).finish();
}

export function hashSession(sessionId: SessionId, timeoutMs: number): Hash64 {
  return new Hasher(SEED_SESSION).string(sessionId).integer(timeoutMs).finish();
}

/**
 * DataNode.copyStat. cversion is stored as the number of child creates (the sequential counter);
 * a client sees creates * 2 - numChildren, i.e. creates + deletes, since every child that is gone
 * was deleted once (Java int arithmetic, hence `| 0`). ephemeralOwner is null for every kind but
 * ephemeral (getClientEphemeralOwner hides the container and TTL markers).
 */
export function copyStat(node: ZNode): Stat {
  const numChildren = node.children.size;
  return {
    czxid: node.czxid,
    mzxid: node.mzxid,
    pzxid: node.pzxid,
    ctime: node.ctime,
    mtime: node.mtime,
    version: node.version,
    cversion: (node.cversion * 2 - numChildren) | 0,
    aversion: node.aversion,
    ephemeralOwner: node.kind === 'ephemeral' ? node.ephemeralOwner : null,
    dataLength: node.data.length,
    numChildren,
  };
}

/** Java's int increment: ZooKeeper's versions are ints and wrap. */
export function nextInt32(value: number): number {
  return (value + 1) | 0;
}

/**
 * PrepRequestProcessor.checkAndIncVersion's increment: like an int increment, but never -1 (which
 * means "any version"): Integer.MAX_VALUE + 1 wraps to MIN_VALUE, and the step that would land on
 * -1 goes to 0 instead (ZOOKEEPER-4743).
 */
export function nextVersion(current: number): number {
  const next = nextInt32(current);
  return next === -1 ? 0 : next;
}

export interface NewNodeFields {
  path: string;
  data: Uint8Array;
  acl: ACL[];
  kind: NodeKind;
  ttlMs: number;
  ephemeralOwner: SessionId | null;
  zxid: number;
  time: number;
}

/** DataTree.createStat: czxid = mzxid = pzxid = zxid, ctime = mtime = time, versions 0. */
export function newNode(fields: NewNodeFields): ZNode {
  assert(fields.kind === 'ephemeral' ? fields.ephemeralOwner !== null : fields.ephemeralOwner === null, 'only ephemerals have an owner');
  assert(fields.kind === 'ttl' ? fields.ttlMs > 0 : fields.ttlMs === 0, 'only TTL nodes have a TTL');
  const node: ZNode = {
    data: fields.data,
    acl: fields.acl,
    kind: fields.kind,
    ttlMs: fields.ttlMs,
    czxid: fields.zxid,
    mzxid: fields.zxid,
    pzxid: fields.zxid,
    ctime: fields.time,
    mtime: fields.time,
    version: 0,
    cversion: 0,
    aversion: 0,
    ephemeralOwner: fields.ephemeralOwner,
    children: new Set(),
    pathHash: hashPath(fields.path),
    dataHash: hashData(fields.data),
    aclHash: hashAcl(fields.acl),
    hash: { hi: 0, lo: 0 },
  };
  node.hash = hashNode(node);
  return node;
}

/** How a node created in `mode` lives: the sequential flag only shapes its name. */
export function kindOfMode(mode: CreateMode): NodeKind {
  switch (mode) {
    case 'persistent':
    case 'persistent_sequential':
      return 'persistent';
    case 'ephemeral':
    case 'ephemeral_sequential':
      return 'ephemeral';
    case 'container':
      return 'container';
    case 'persistent_ttl':
    case 'persistent_sequential_ttl':
      return 'ttl';
    default:
      return unreachable(mode, 'kindOfMode');
  }
}

/** A node exactly as a snapshot describes it (stat fields included), childless; hashes computed. */
export function nodeFromRecord(record: NodeRecord): ZNode {
  const node: ZNode = {
    data: record.data.slice(),
    acl: record.acl.map((entry) => ({ perms: entry.perms, id: { scheme: entry.id.scheme, id: entry.id.id } })),
    kind: record.kind,
    ttlMs: record.ttlMs,
    czxid: record.czxid,
    mzxid: record.mzxid,
    pzxid: record.pzxid,
    ctime: record.ctime,
    mtime: record.mtime,
    version: record.version,
    cversion: record.cversion,
    aversion: record.aversion,
    ephemeralOwner: record.ephemeralOwner,
    children: new Set(),
    pathHash: hashPath(record.path),
    dataHash: hashData(record.data),
    aclHash: { hi: 0, lo: 0 },
    hash: { hi: 0, lo: 0 },
  };
  node.aclHash = hashAcl(node.acl);
  node.hash = hashNode(node);
  return node;
}

/** The snapshot form of a node (copies: a snapshot never aliases the tree). */
export function nodeToRecord(path: string, node: ZNode): NodeRecord {
  return {
    path,
    data: node.data.slice(),
    acl: node.acl.map((entry) => ({ perms: entry.perms, id: { scheme: entry.id.scheme, id: entry.id.id } })),
    kind: node.kind,
    ttlMs: node.ttlMs,
    czxid: node.czxid,
    mzxid: node.mzxid,
    pzxid: node.pzxid,
    ctime: node.ctime,
    mtime: node.mtime,
    version: node.version,
    cversion: node.cversion,
    aversion: node.aversion,
    ephemeralOwner: node.ephemeralOwner,
  };
}
