/**
 * The tree as plain data and back. toSnapshot copies everything out (nodes sorted by path, so every
 * parent precedes its children; sessions sorted by id). loadSnapshot checks everything it is given
 * before building anything (check at both ends of a boundary: a snapshot arrives from storage or
 * from another peer), so a bad snapshot is an error value and never an assertion or a half tree.
 */

import { DATA_BYTES_MAX, SESSION_ID_BYTES_MAX } from '../limits.js';
import { isStoredAclValid } from './acl.js';
import { nodeFromRecord, nodeToRecord } from './node.js';
import { isReservedPath, parentOf, utf8ByteLength, validatePath } from './paths.js';
import { TreeStore } from './store.js';
import type { NodeKind, NodeRecord, SessionRecord, TreeSnapshot } from './types.js';

export interface SnapshotLimits {
  nodesMax: number;
  childrenPerNodeMax: number;
  sessionsMax: number;
}

export function toSnapshot(store: TreeStore): TreeSnapshot {
  const paths = [...store.nodes.keys()].sort();
  const nodes = paths.map((path) => nodeToRecord(path, store.nodes.get(path) as NonNullable<ReturnType<TreeStore['node']>>));
  const sessions = [...store.sessions.values()]
    .map((s) => ({ sessionId: s.sessionId, timeoutMs: s.timeoutMs }))
    .sort((a, b) => (a.sessionId < b.sessionId ? -1 : a.sessionId > b.sessionId ? 1 : 0));
  return { lastZxid: store.lastZxid, nodes, sessions };
}

const RESERVED_PATHS = ['/', '/zookeeper', '/zookeeper/config', '/zookeeper/quota'];
const NODE_KINDS: readonly NodeKind[] = ['persistent', 'ephemeral', 'container', 'ttl'];
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

type Check = string | null;

function isInt32(value: unknown): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value >= INT32_MIN && value <= INT32_MAX;
}

function isZxid(value: unknown, lastZxid: number): boolean {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 && value <= lastZxid;
}

function checkSessions(sessions: unknown, limits: SnapshotLimits): Check {
  if (!Array.isArray(sessions)) return 'sessions is not a list';
  if (sessions.length > limits.sessionsMax) return `${sessions.length} sessions exceed sessionsMax`;
  let previous: string | null = null;
  for (const session of sessions as SessionRecord[]) {
    if (typeof session?.sessionId !== 'string' || session.sessionId.length === 0) return 'a session id is not a non-empty string';
    if (utf8ByteLength(session.sessionId) > SESSION_ID_BYTES_MAX) return `session id ${session.sessionId} is too long`;
    if (!Number.isSafeInteger(session.timeoutMs) || session.timeoutMs <= 0) return `session ${session.sessionId} has a bad timeout`;
    if (previous !== null && !(previous < session.sessionId)) return 'sessions are not sorted by id without duplicates';
    previous = session.sessionId;
  }
  return null;
}

/** The fields of one node record, on their own. */
function checkRecordFields(record: NodeRecord, lastZxid: number, sessionIds: ReadonlySet<string>): Check {
  if (!(record.data instanceof Uint8Array) || record.data.length > DATA_BYTES_MAX) return 'data is not bytes within DATA_BYTES_MAX';
  if (!Array.isArray(record.acl) || !isStoredAclValid(record.acl)) return 'acl is not a valid stored ACL';
  if (!NODE_KINDS.includes(record.kind)) return `unknown kind ${String(record.kind)}`;
  if (!Number.isSafeInteger(record.ttlMs) || (record.kind === 'ttl' ? record.ttlMs <= 0 : record.ttlMs !== 0)) return 'ttlMs does not fit the kind';
  if (record.kind === 'ephemeral') {
    if (typeof record.ephemeralOwner !== 'string' || !sessionIds.has(record.ephemeralOwner)) return 'ephemeral owner is not an open session';
  } else if (record.ephemeralOwner !== null) return 'only ephemerals have an owner';
  for (const zxid of [record.czxid, record.mzxid, record.pzxid]) if (!isZxid(zxid, lastZxid)) return 'a zxid is outside [0, lastZxid]';
  if (record.mzxid < record.czxid || record.pzxid < record.czxid) return 'mzxid or pzxid precedes czxid';
  if (!Number.isSafeInteger(record.ctime) || !Number.isSafeInteger(record.mtime)) return 'ctime/mtime are not integers';
  if (!isInt32(record.version) || !isInt32(record.cversion) || !isInt32(record.aversion)) return 'a version is not a 32-bit integer';
  return null;
}

/** The place of a record in the tree: sorted, parent present and not ephemeral, room for it. */
function checkRecordPlace(record: NodeRecord, previous: string | null, children: Map<string, number>, limits: SnapshotLimits): Check {
  if (typeof record.path !== 'string' || !validatePath(record.path).ok) return 'invalid path';
  if (previous !== null && !(previous < record.path)) return 'nodes are not sorted by path without duplicates';
  if (record.path === '/') return previous === null ? null : 'the root must come first';
  if (previous === null) return 'the root must come first';
  if (isReservedPath(record.path) && !RESERVED_PATHS.includes(record.path)) return 'no other nodes live under /zookeeper';
  const parent = parentOf(record.path);
  const count = children.get(parent);
  if (count === undefined) return `parent ${parent} is missing`;
  if (count >= limits.childrenPerNodeMax) return `${parent} has more than childrenPerNodeMax children`;
  children.set(parent, count + 1);
  return null;
}

function checkNodes(snapshot: TreeSnapshot, limits: SnapshotLimits, sessionIds: ReadonlySet<string>): Check {
  if (!Array.isArray(snapshot.nodes)) return 'nodes is not a list';
  if (snapshot.nodes.length > limits.nodesMax) return `${snapshot.nodes.length} nodes exceed nodesMax`;
  const children = new Map<string, number>();
  const ephemerals = new Set<string>();
  let previous: string | null = null;
  for (const record of snapshot.nodes) {
    if (typeof record !== 'object' || record === null) return 'a node is not an object';
    const problem = checkRecordPlace(record, previous, children, limits) ?? checkRecordFields(record, snapshot.lastZxid, sessionIds);
    if (problem !== null) return `node ${String(record.path)}: ${problem}`;
    if (record.path !== '/' && ephemerals.has(parentOf(record.path))) return `node ${record.path}: its parent is ephemeral`;
    if (RESERVED_PATHS.includes(record.path) && record.kind !== 'persistent') return `node ${record.path}: reserved nodes are persistent`;
    if (record.kind === 'ephemeral') ephemerals.add(record.path);
    children.set(record.path, 0);
    previous = record.path;
  }
  for (const path of RESERVED_PATHS) if (!children.has(path)) return `reserved node ${path} is missing`;
  return null;
}

export type StoreLoad = { ok: true; store: TreeStore } | { ok: false; error: string };

export function loadSnapshot(snapshot: TreeSnapshot, limits: SnapshotLimits): StoreLoad {
  if (typeof snapshot !== 'object' || snapshot === null) return { ok: false, error: 'snapshot is not an object' };
  if (!Number.isSafeInteger(snapshot.lastZxid) || snapshot.lastZxid < 0) return { ok: false, error: 'lastZxid is not a non-negative integer' };
  const sessionProblem = checkSessions(snapshot.sessions, limits);
  if (sessionProblem !== null) return { ok: false, error: sessionProblem };
  const sessionIds = new Set(snapshot.sessions.map((s) => s.sessionId));
  const nodeProblem = checkNodes(snapshot, limits, sessionIds);
  if (nodeProblem !== null) return { ok: false, error: nodeProblem };
  // Everything is checked: building cannot fail an assertion now.
  const store = new TreeStore();
  for (const session of snapshot.sessions) store.addSession(session);
  for (const record of snapshot.nodes) store.insert(record.path, nodeFromRecord(record));
  store.lastZxid = snapshot.lastZxid;
  return { ok: true, store };
}
