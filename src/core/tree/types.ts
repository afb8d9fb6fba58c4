/**
 * The data model's vocabulary: znodes, Stat, ACLs, requests, txns, results and watch events.
 * Shared by the tree (prep/apply), the codec, the runtime and the client. Plain data only.
 *
 * Reference: ZooKeeper 3.9 programmer's guide, and the server's PrepRequestProcessor (request ->
 * txn), DataTree.processTxn (txn -> state) and DataNode.copyStat (what a client sees).
 */

import type { FailureName } from '../errors.js';

/** A session id. ZooKeeper uses a 64-bit long; we use an opaque string chosen by the runtime. */
export type SessionId = string;

export type CreateMode =
  | 'persistent'
  | 'ephemeral'
  | 'persistent_sequential'
  | 'ephemeral_sequential'
  | 'container'
  | 'persistent_ttl'
  | 'persistent_sequential_ttl';

export const CREATE_MODES: readonly CreateMode[] = [
  'persistent',
  'ephemeral',
  'persistent_sequential',
  'ephemeral_sequential',
  'container',
  'persistent_ttl',
  'persistent_sequential_ttl',
];

/** ZooDefs.Perms. */
export const Perms = {
  READ: 1,
  WRITE: 2,
  CREATE: 4,
  DELETE: 8,
  ADMIN: 16,
  ALL: 31,
} as const;

/** An identity: ZooKeeper's Id(scheme, id), e.g. world:anyone, digest:user:base64(sha1(user:pw)). */
export interface Id {
  scheme: string;
  id: string;
}

/** ZooKeeper's ACL(perms, id). */
export interface ACL {
  perms: number;
  id: Id;
}

/** ZooDefs.Ids.OPEN_ACL_UNSAFE: world:anyone with every permission. */
export const OPEN_ACL_UNSAFE: readonly ACL[] = [{ perms: Perms.ALL, id: { scheme: 'world', id: 'anyone' } }];
/** ZooDefs.Ids.READ_ACL_UNSAFE: world:anyone may read. */
export const READ_ACL_UNSAFE: readonly ACL[] = [{ perms: Perms.READ, id: { scheme: 'world', id: 'anyone' } }];
/** ZooDefs.Ids.CREATOR_ALL_ACL: every permission for the creator's authenticated ids. */
export const CREATOR_ALL_ACL: readonly ACL[] = [{ perms: Perms.ALL, id: { scheme: 'auth', id: '' } }];

/** What a client sees of a znode: all eleven fields, with DataNode.copyStat's values. */
export interface Stat {
  czxid: number;
  mzxid: number;
  pzxid: number;
  ctime: number;
  mtime: number;
  version: number;
  cversion: number;
  aversion: number;
  /** The owning session of an ephemeral; null for every other kind (containers and TTL too). */
  ephemeralOwner: SessionId | null;
  dataLength: number;
  numChildren: number;
}

export type WatchEventType = 'NodeCreated' | 'NodeDeleted' | 'NodeDataChanged' | 'NodeChildrenChanged';

// ---------------------------------------------------------------------------------------------
// Requests: what a client asks. Writes go through prep() into txns; reads are answered locally.

export interface CreateRequest {
  op: 'create';
  path: string;
  data: Uint8Array;
  acl: ACL[];
  mode: CreateMode;
  /** Only for the TTL modes, where it is required and > 0 (ZooKeeper: BADARGUMENTS otherwise). */
  ttlMs?: number;
}
export interface DeleteRequest {
  op: 'delete';
  path: string;
  /** -1 matches any version. */
  version: number;
}
export interface SetDataRequest {
  op: 'setData';
  path: string;
  data: Uint8Array;
  version: number;
}
export interface SetACLRequest {
  op: 'setACL';
  path: string;
  acl: ACL[];
  /** Compared with aversion; -1 matches any. */
  version: number;
}
export interface CheckRequest {
  op: 'check';
  path: string;
  version: number;
}
/** One operation inside a multi: ZooKeeper allows create, delete, setData and check. */
export type MultiOp = CreateRequest | DeleteRequest | SetDataRequest | CheckRequest;
export interface MultiRequest {
  op: 'multi';
  ops: MultiOp[];
}
/** Proposed by the runtime when a session starts. */
export interface CreateSessionRequest {
  op: 'createSession';
  sessionId: SessionId;
  timeoutMs: number;
}
/** Proposed by the runtime when a session closes or the leader expires it. */
export interface CloseSessionRequest {
  op: 'closeSession';
  sessionId: SessionId;
}
/** Proposed by the leader for a container or TTL node the tree reports due (ZooKeeper's ContainerManager). */
export interface DeleteContainerRequest {
  op: 'deleteContainer';
  path: string;
}

export type WriteRequest =
  | CreateRequest
  | DeleteRequest
  | SetDataRequest
  | SetACLRequest
  | MultiRequest
  | CreateSessionRequest
  | CloseSessionRequest
  | DeleteContainerRequest;

export type WatchKind = 'data' | 'exists' | 'children';

export interface GetDataRequest {
  op: 'getData';
  path: string;
  watch: boolean;
}
export interface ExistsRequest {
  op: 'exists';
  path: string;
  watch: boolean;
}
export interface GetChildrenRequest {
  op: 'getChildren';
  path: string;
  watch: boolean;
}
export interface GetACLRequest {
  op: 'getACL';
  path: string;
}
export interface GetEphemeralsRequest {
  op: 'getEphemerals';
  prefix: string;
}
export interface GetAllChildrenNumberRequest {
  op: 'getAllChildrenNumber';
  path: string;
}
export interface SyncRequest {
  op: 'sync';
  path: string;
}
export type ReadRequest =
  | GetDataRequest
  | ExistsRequest
  | GetChildrenRequest
  | GetACLRequest
  | GetEphemeralsRequest
  | GetAllChildrenNumberRequest
  | SyncRequest;

export type Request = WriteRequest | ReadRequest;

/** Who asks: the session and the identities it has authenticated (ZooKeeper's authInfo). */
export interface RequestContext {
  sessionId: SessionId;
  auth: Id[];
}

// ---------------------------------------------------------------------------------------------
// Txns: deterministic state changes, the log's payload. prep() makes them; apply() executes them.
// A txn carries no zxid: its zxid is its log index, supplied at apply (Stat's czxid/mzxid/pzxid).

export interface TxnHeader {
  /** The session that asked, or null for the system (the leader's clean-ups). */
  sessionId: SessionId | null;
  /** The leader's clock when it prepared the txn (ms since epoch): ctime/mtime, TTL and expiry. */
  time: number;
}

export interface CreateTxn {
  type: 'create';
  /** Final path: a sequential node's suffix is already appended. */
  path: string;
  data: Uint8Array;
  acl: ACL[];
  /** The mode without the sequential flag's effect on the name (already applied). */
  mode: CreateMode;
  /** The owner of an ephemeral, null otherwise. */
  ephemeralOwner: SessionId | null;
  /** TTL modes only, else 0. */
  ttlMs: number;
  /** The parent's cversion after this create, as counted internally (creates only). */
  parentCversion: number;
}
export interface DeleteTxn {
  type: 'delete';
  path: string;
}
export interface SetDataTxn {
  type: 'setData';
  path: string;
  data: Uint8Array;
  /** The version after this write. */
  version: number;
}
export interface SetACLTxn {
  type: 'setACL';
  path: string;
  acl: ACL[];
  /** The aversion after this write. */
  version: number;
}
export interface CheckTxn {
  type: 'check';
  path: string;
  version: number;
}
export interface ErrorTxn {
  type: 'error';
  code: FailureName | 'OK';
}
export interface MultiTxn {
  type: 'multi';
  txns: (CreateTxn | DeleteTxn | SetDataTxn | CheckTxn | ErrorTxn)[];
}
export interface CreateSessionTxn {
  type: 'createSession';
  sessionId: SessionId;
  timeoutMs: number;
}
export interface CloseSessionTxn {
  type: 'closeSession';
  sessionId: SessionId;
}
export interface DeleteContainerTxn {
  type: 'deleteContainer';
  path: string;
}

export type TxnBody =
  | CreateTxn
  | DeleteTxn
  | SetDataTxn
  | SetACLTxn
  | CheckTxn
  | ErrorTxn
  | MultiTxn
  | CreateSessionTxn
  | CloseSessionTxn
  | DeleteContainerTxn;

export interface Txn {
  header: TxnHeader;
  body: TxnBody;
}

// ---------------------------------------------------------------------------------------------
// Results: what a client gets back.

export type OpResult =
  | { op: 'create'; path: string; stat: Stat }
  | { op: 'delete' }
  | { op: 'setData'; stat: Stat }
  | { op: 'check' }
  /** ZooKeeper's ErrorResult: OK for ops before the failing one, RUNTIMEINCONSISTENCY after it. */
  | { op: 'error'; code: FailureName | 'OK' };

export type WriteResult =
  | { ok: true; op: 'create'; path: string; stat: Stat }
  | { ok: true; op: 'delete' }
  | { ok: true; op: 'setData'; stat: Stat }
  | { ok: true; op: 'setACL'; stat: Stat }
  | { ok: true; op: 'multi'; results: OpResult[] }
  | { ok: true; op: 'createSession' }
  | { ok: true; op: 'closeSession' }
  | { ok: true; op: 'deleteContainer' }
  /** A failed write; for a multi, `results` holds ZooKeeper's per-op ErrorResults. */
  | { ok: false; code: FailureName; path?: string; results?: OpResult[] };

export type ReadResult =
  | { ok: true; op: 'getData'; data: Uint8Array; stat: Stat }
  | { ok: true; op: 'exists'; stat: Stat | null }
  | { ok: true; op: 'getChildren'; children: string[]; stat: Stat }
  | { ok: true; op: 'getACL'; acl: ACL[]; stat: Stat }
  | { ok: true; op: 'getEphemerals'; paths: string[] }
  | { ok: true; op: 'getAllChildrenNumber'; count: number }
  | { ok: true; op: 'sync'; path: string }
  | { ok: false; code: FailureName; path?: string };

/** A change that fires watches; apply() returns these as data, in order, for the watch manager. */
export interface WatchTrigger {
  type: WatchEventType;
  path: string;
  /** The zxid of the txn that caused it. */
  zxid: number;
  /** The ACL of the node the event is about (the parent's for NodeChildrenChanged), so that the
   *  watch manager can withhold it from a watcher without READ (ZooKeeper 3.9.2+, CVE-2024-23944).
   *  apply always sets it. */
  acl?: ACL[];
}

// ---------------------------------------------------------------------------------------------
// Snapshot: the whole tree as plain data, for the codec (snapshots, InstallSnapshot) and hashing.

/** How a znode lives and dies; the sequential flag only shapes its name. */
export type NodeKind = 'persistent' | 'ephemeral' | 'container' | 'ttl';

/** One znode exactly as the tree stores it (internal cversion = creates only, see copyStat). */
export interface NodeRecord {
  path: string;
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
  /** Internal count of child creates (the sequential suffix); clients see creates * 2 - numChildren. */
  cversion: number;
  aversion: number;
  /** Ephemerals only, else null. */
  ephemeralOwner: SessionId | null;
}

export interface SessionRecord {
  sessionId: SessionId;
  timeoutMs: number;
}

/** The whole state machine at `lastZxid`: nodes sorted by path (so parents come first), sessions sorted by id. */
export interface TreeSnapshot {
  lastZxid: number;
  nodes: NodeRecord[];
  sessions: SessionRecord[];
}

// ---------------------------------------------------------------------------------------------
// Added with the tree (src/core/tree): prep's context and the watch manager's vocabulary.

/**
 * What prep needs besides the request: who asks (null for the system, e.g. the leader's clean-ups),
 * their authenticated identities, the leader's clock (ms; the txn header's time) and the zxid the
 * txn will get (its log index).
 */
export interface PrepContext {
  sessionId: SessionId | null;
  auth: Id[];
  time: number;
  zxid: number;
}

/** The watches addWatch creates (ZooKeeper's AddWatchMode): they stay until removed. */
export type PersistentWatchMode = 'persistent' | 'persistent_recursive';

/** What removeWatches removes (ZooKeeper's WatcherType): `data` covers exists watches too, as on the server. */
export type RemoveWatchKind = 'data' | 'children' | 'persistent' | 'persistent_recursive' | 'any';

/** An opaque id the runtime chooses for whoever should receive events (a session, or one callback). */
export type WatcherId = string;

/** One event for one watcher, produced by the watch manager from an applied txn's triggers. */
export interface WatchEvent {
  watcher: WatcherId;
  type: WatchEventType;
  path: string;
  zxid: number;
}
