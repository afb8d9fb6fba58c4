/**
 * Test support: an independent reference model of the data tree, written from ZooKeeper 3.9's
 * semantics (programmer's guide; PrepRequestProcessor, DataTree.processTxn / createNode /
 * deleteNode, DataNode.copyStat, PathUtils.validatePath, DigestAuthenticationProvider) and from the
 * decisions in ../README.md — never from the tree's own code. It is meant to be obviously right,
 * not fast: a Map from path to node, children found by scanning every path, a multi run on a
 * deep copy that is kept or dropped whole, a Stat worked out from scratch on every read.
 *
 * It models one replica that prepares and applies each request at once, in order. The real tree
 * prepares ahead of applying (the overlay); since a txn is prepared against everything prepared
 * before it and applied at the zxid it was given, the two must agree request by request.
 *
 * Not modelled: deleteContainer and the container/TTL sweep, watches, sync, size and capacity
 * limits (QUOTAEXCEEDED).
 */

import { assert } from '../../assert.js';
import type { FailureName } from '../../errors.js';
import { TTL_MS_MAX } from '../../limits.js';
import {
  CREATE_MODES,
  OPEN_ACL_UNSAFE,
  Perms,
  READ_ACL_UNSAFE,
  type ACL,
  type CheckRequest,
  type CreateMode,
  type CreateRequest,
  type DeleteRequest,
  type Id,
  type MultiOp,
  type NodeKind,
  type NodeRecord,
  type OpResult,
  type ReadRequest,
  type ReadResult,
  type RequestContext,
  type SessionId,
  type SessionRecord,
  type SetACLRequest,
  type SetDataRequest,
  type Stat,
  type WriteRequest,
  type WriteResult,
} from '../types.js';

/** Java's int range: ZooKeeper's versions are ints. */
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
/** The width of a sequential node's suffix: String.format("%010d", parentCVersion). */
const SEQUENCE_DIGITS = 10;

export interface ModelNode {
  data: Uint8Array;
  acl: ACL[];
  kind: NodeKind;
  ttlMs: number;
  /** The owning session of an ephemeral, else null. */
  owner: SessionId | null;
  czxid: number;
  mzxid: number;
  pzxid: number;
  ctime: number;
  mtime: number;
  version: number;
  aversion: number;
  /** ZooKeeper's stored cversion: how many children were ever created here. */
  creates: number;
}

/** Deliberately wrong variants, so that a test can prove the properties catch a wrong tree. */
export type ModelMutation =
  | 'none'
  /** Report cversion as the create count, forgetting copyStat's `creates * 2 - numChildren`. */
  | 'cversion-is-create-count'
  /** Number sequential nodes by the parent's current child count instead of its create count. */
  | 'sequence-from-child-count';

/** Who asks and when: the txn header's session and time, the zxid the txn gets. */
export interface ModelCaller {
  sessionId: SessionId | null;
  auth: Id[];
  time: number;
  zxid: number;
}

/** A write's reply, and every path whose Stat it may have changed (or whose node it removed). */
export interface ModelWrite {
  result: WriteResult;
  touched: string[];
}

type Outcome<T> = { ok: true; value: T } | { ok: false; code: FailureName };

const fail = (code: FailureName): { ok: false; code: FailureName } => ({ ok: false, code });

// --- Paths -----------------------------------------------------------------------------------

/** PathUtils.validatePath, character by character (UTF-16 code units, as Java's chars). */
export function isValidPath(path: string): boolean {
  if (path.length === 0 || path[0] !== '/') return false;
  if (path.length === 1) return true;
  if (path.endsWith('/')) return false;
  for (let i = 1; i < path.length; i++) {
    const c = path.charCodeAt(i);
    const previous = path[i - 1];
    const endsName = i + 1 === path.length || path[i + 1] === '/';
    if (c === 0) return false;
    if (path[i] === '/' && previous === '/') return false;
    if (path[i] === '.' && previous === '.' && path[i - 2] === '/' && endsName) return false;
    if (path[i] === '.' && previous === '/' && endsName) return false;
    if ((c >= 0x01 && c <= 0x1f) || (c >= 0x7f && c <= 0x9f) || (c >= 0xd800 && c <= 0xf8ff) || c >= 0xfff0) return false;
  }
  return true;
}

/** The parent of a valid non-root path. */
function parentOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash === 0 ? '/' : path.slice(0, slash);
}

function isReserved(path: string): boolean {
  return path === '/zookeeper' || path.startsWith('/zookeeper/');
}

/**
 * README decision: no write may touch /zookeeper or anything under it, and `/` cannot be deleted
 * (BADARGUMENTS). ZooKeeper's own check of this kind (getParentPathAndValidate -> isSpecialPath,
 * for delete) runs after checkSession, and the README orders the client's checks, then the
 * session, then the server's; so the model checks it right after the session. For a sequential
 * create the final path counts, and any suffix of digits gives the same answer ("/zookeeper" plus
 * digits is a child of the root, not reserved).
 */
export function writesReserved(op: { op: string; path: string; mode?: CreateMode }): boolean {
  if (op.op === 'delete' && op.path === '/') return true;
  if (op.op === 'check') return false;
  const sequential = op.mode === 'persistent_sequential' || op.mode === 'ephemeral_sequential' || op.mode === 'persistent_sequential_ttl';
  return isReserved(sequential ? `${op.path}0` : op.path);
}

function sequenceSuffix(counter: number): string {
  const digits = String(Math.abs(counter));
  return counter < 0 ? `-${digits.padStart(SEQUENCE_DIGITS - 1, '0')}` : digits.padStart(SEQUENCE_DIGITS, '0');
}

function isInt32(value: number): boolean {
  return Number.isInteger(value) && value >= INT32_MIN && value <= INT32_MAX;
}

/** PrepRequestProcessor.checkAndIncVersion's successor: int wrap-around, and -1 skipped (ZOOKEEPER-4743). */
function nextVersion(version: number): number {
  const next = (version + 1) | 0;
  return next === -1 ? 0 : next;
}

// --- ACLs ------------------------------------------------------------------------------------

function copyAcl(acl: readonly ACL[]): ACL[] {
  return acl.map((entry) => ({ perms: entry.perms, id: { scheme: entry.id.scheme, id: entry.id.id } }));
}

function sameAcl(a: ACL, b: ACL): boolean {
  return a.perms === b.perms && a.id.scheme === b.id.scheme && a.id.id === b.id.id;
}

/** DigestAuthenticationProvider.isValid: `id.split(":").length == 2` with Java's split, which
 *  drops trailing empty strings ("a:" is one part). */
function isValidDigest(id: string): boolean {
  const parts = id.split(':');
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts.length === 2;
}

/** PrepRequestProcessor.fixupACL: drop duplicates, keep world:anyone and valid digest ids, expand
 *  `auth` to the caller's digest ids (README: digest only); anything else is INVALIDACL. */
function fixupAcl(acl: readonly ACL[], auth: readonly Id[]): Outcome<ACL[]> {
  const unique: ACL[] = [];
  for (const entry of acl) if (!unique.some((seen) => sameAcl(seen, entry))) unique.push(entry);
  if (unique.length === 0) return fail('INVALIDACL');
  const fixed: ACL[] = [];
  for (const entry of unique) {
    const { scheme, id } = entry.id;
    if (scheme === 'world' && id === 'anyone') {
      fixed.push(entry);
    } else if (scheme === 'auth') {
      const digests = auth.filter((identity) => identity.scheme === 'digest');
      if (digests.length === 0) return fail('INVALIDACL');
      for (const identity of digests) fixed.push({ perms: entry.perms, id: identity });
    } else if (scheme === 'digest' && isValidDigest(id)) {
      fixed.push(entry);
    } else {
      return fail('INVALIDACL');
    }
  }
  return { ok: true, value: copyAcl(fixed) };
}

/** ZooKeeperServer.checkACL: super passes; else some entry granting any bit of `perm` to
 *  world:anyone or to one of the caller's digest ids. */
function allowed(acl: readonly ACL[], perm: number, auth: readonly Id[]): boolean {
  if (acl.length === 0) return true;
  if (auth.some((identity) => identity.scheme === 'super')) return true;
  return acl.some((entry) => {
    if ((entry.perms & perm) === 0) return false;
    if (entry.id.scheme === 'world' && entry.id.id === 'anyone') return true;
    return auth.some((identity) => identity.scheme === entry.id.scheme && identity.id === entry.id.id && entry.id.scheme === 'digest');
  });
}

/** FinalRequestProcessor's getACL without ADMIN: digest ids become `user:x`. */
function redact(acl: readonly ACL[]): ACL[] {
  return acl.map((entry) =>
    entry.id.scheme === 'digest' ? { perms: entry.perms, id: { scheme: 'digest', id: entry.id.id.replace(/:.*/, ':x') } } : entry,
  );
}

// --- State -----------------------------------------------------------------------------------

class State {
  constructor(
    readonly nodes: Map<string, ModelNode>,
    readonly sessions: Map<SessionId, number>,
  ) {}

  static fresh(): State {
    const state = new State(new Map(), new Map());
    const zero = { data: new Uint8Array(0), kind: 'persistent' as const, ttlMs: 0, owner: null };
    const stats = { czxid: 0, mzxid: 0, pzxid: 0, ctime: 0, mtime: 0, version: 0, aversion: 0, creates: 0 };
    // DataTree's constructor: these four, every stat field 0, and /zookeeper/config set through
    // setACL(READ_ACL_UNSAFE, -1) so its aversion is -1.
    state.nodes.set('/', { ...zero, ...stats, acl: copyAcl(OPEN_ACL_UNSAFE) });
    state.nodes.set('/zookeeper', { ...zero, ...stats, acl: copyAcl(OPEN_ACL_UNSAFE) });
    state.nodes.set('/zookeeper/quota', { ...zero, ...stats, acl: copyAcl(OPEN_ACL_UNSAFE) });
    state.nodes.set('/zookeeper/config', { ...zero, ...stats, acl: copyAcl(READ_ACL_UNSAFE), aversion: -1 });
    return state;
  }

  clone(): State {
    const nodes = new Map<string, ModelNode>();
    for (const [path, node] of this.nodes) nodes.set(path, { ...node, data: node.data.slice(), acl: copyAcl(node.acl) });
    return new State(nodes, new Map(this.sessions));
  }

  childNames(path: string): string[] {
    const names: string[] = [];
    for (const other of this.nodes.keys()) {
      if (other !== '/' && parentOf(other) === path) names.push(other.slice(other.lastIndexOf('/') + 1));
    }
    return names.sort(compareStrings);
  }
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// --- The model -------------------------------------------------------------------------------

export class ReferenceTree {
  private state = State.fresh();
  private appliedZxid = 0;

  constructor(private readonly mutation: ModelMutation = 'none') {}

  /** The zxid of the last write (0 for a fresh model). */
  get lastZxid(): number {
    return this.appliedZxid;
  }

  // --- what a client sees ---

  paths(): string[] {
    return [...this.state.nodes.keys()].sort(compareStrings);
  }

  node(path: string): Readonly<ModelNode> | undefined {
    return this.state.nodes.get(path);
  }

  hasSession(sessionId: SessionId): boolean {
    return this.state.sessions.has(sessionId);
  }

  /** DataNode.copyStat. */
  stat(path: string): Stat | undefined {
    return this.state.nodes.has(path) ? this.statIn(this.state, path) : undefined;
  }

  /** The state in the snapshot's shape: nodes sorted by path, sessions by id. */
  records(): { nodes: NodeRecord[]; sessions: SessionRecord[] } {
    const nodes = this.paths().map((path): NodeRecord => {
      const node = this.state.nodes.get(path) as ModelNode;
      return {
        path,
        data: node.data.slice(),
        acl: copyAcl(node.acl),
        kind: node.kind,
        ttlMs: node.ttlMs,
        czxid: node.czxid,
        mzxid: node.mzxid,
        pzxid: node.pzxid,
        ctime: node.ctime,
        mtime: node.mtime,
        version: node.version,
        cversion: node.creates,
        aversion: node.aversion,
        ephemeralOwner: node.kind === 'ephemeral' ? node.owner : null,
      };
    });
    const sessions = [...this.state.sessions]
      .sort(([a], [b]) => compareStrings(a, b))
      .map(([sessionId, timeoutMs]) => ({ sessionId, timeoutMs }));
    return { nodes, sessions };
  }

  // --- reads (FinalRequestProcessor: path, then NONODE, then the ACL; no session check) ---

  read(request: ReadRequest, ctx: RequestContext): ReadResult {
    if (request.op === 'getEphemerals') return this.getEphemerals(request.prefix, ctx);
    if (request.op === 'sync') return { ok: true, op: 'sync', path: request.path };
    const path = request.path;
    if (!isValidPath(path)) return fail('BADARGUMENTS');
    const node = this.state.nodes.get(path);
    const stat = this.stat(path);
    if (request.op === 'exists') return { ok: true, op: 'exists', stat: stat ?? null };
    if (node === undefined || stat === undefined) return fail('NONODE');
    switch (request.op) {
      case 'getData':
        if (!allowed(node.acl, Perms.READ, ctx.auth)) return fail('NOAUTH');
        return { ok: true, op: 'getData', data: node.data.slice(), stat };
      case 'getChildren':
        if (!allowed(node.acl, Perms.READ, ctx.auth)) return fail('NOAUTH');
        return { ok: true, op: 'getChildren', children: this.state.childNames(path), stat };
      case 'getACL': {
        if (!allowed(node.acl, Perms.READ | Perms.ADMIN, ctx.auth)) return fail('NOAUTH');
        const acl = allowed(node.acl, Perms.ADMIN, ctx.auth) ? copyAcl(node.acl) : redact(node.acl);
        return { ok: true, op: 'getACL', acl, stat };
      }
      case 'getAllChildrenNumber': {
        if (!allowed(node.acl, Perms.READ, ctx.auth)) return fail('NOAUTH');
        // DataTree.getAllChildrenNumber: every key under `path + "/"`; for "/", every node but the root.
        const count = this.paths().filter((other) => (path === '/' ? other !== '/' : other.startsWith(`${path}/`))).length;
        return { ok: true, op: 'getAllChildrenNumber', count };
      }
    }
  }

  private getEphemerals(prefix: string, ctx: RequestContext): ReadResult {
    const paths = this.paths().filter((path) => {
      const node = this.state.nodes.get(path) as ModelNode;
      return node.kind === 'ephemeral' && node.owner === ctx.sessionId && path.startsWith(prefix);
    });
    return { ok: true, op: 'getEphemerals', paths };
  }

  // --- writes ---

  /** Prepares and applies one request at `caller.zxid`, as one replica would. */
  write(request: WriteRequest, caller: ModelCaller): ModelWrite {
    assert(caller.zxid > this.appliedZxid, `model: zxid ${caller.zxid} comes after ${this.appliedZxid}`);
    this.appliedZxid = caller.zxid;
    const touched: string[] = [];
    const result = this.writeOn(request, caller, touched);
    return { result, touched };
  }

  private writeOn(request: WriteRequest, caller: ModelCaller, touched: string[]): WriteResult {
    assert(request.op !== 'deleteContainer', 'model: deleteContainer is not modelled');
    switch (request.op) {
      case 'createSession':
        if (this.state.sessions.has(request.sessionId)) return fail('BADARGUMENTS');
        this.state.sessions.set(request.sessionId, request.timeoutMs);
        return { ok: true, op: 'createSession' };
      case 'closeSession':
        return this.closeSession(request.sessionId, caller.zxid, touched);
      case 'multi':
        return this.multi(request.ops, caller, touched);
      case 'setACL': {
        const outcome = this.setAcl(this.state, request, caller, touched);
        return outcome.ok ? { ok: true, op: 'setACL', stat: outcome.value } : outcome;
      }
      default: {
        const outcome = this.op(this.state, request, caller, touched);
        if (!outcome.ok) return outcome;
        const result = outcome.value;
        if (result.op === 'create') return { ok: true, op: 'create', path: result.path, stat: result.stat };
        if (result.op === 'delete') return { ok: true, op: 'delete' };
        if (result.op === 'setData') return { ok: true, op: 'setData', stat: result.stat };
        assert(false, `model: a single ${request.op} answered ${result.op}`);
      }
    }
  }

  private closeSession(sessionId: SessionId, zxid: number, touched: string[]): WriteResult {
    if (!this.state.sessions.has(sessionId)) return fail('SESSIONEXPIRED');
    for (const path of this.paths()) {
      const node = this.state.nodes.get(path) as ModelNode;
      if (node.kind !== 'ephemeral' || node.owner !== sessionId) continue;
      this.removeNode(this.state, path, zxid);
      touched.push(path, parentOf(path));
    }
    this.state.sessions.delete(sessionId);
    return { ok: true, op: 'closeSession' };
  }

  /** All or nothing: run the ops on a copy; keep it only if every op succeeded. ZooKeeper's
   *  failed multi answers OK before the failing op, its code, RUNTIMEINCONSISTENCY after. */
  private multi(ops: MultiOp[], caller: ModelCaller, touched: string[]): WriteResult {
    const work = this.state.clone();
    const results: OpResult[] = [];
    for (const [index, op] of ops.entries()) {
      const outcome = this.op(work, op, caller, touched);
      if (!outcome.ok) {
        const errors: OpResult[] = ops.map((_, other) => ({
          op: 'error',
          code: other < index ? 'OK' : other === index ? outcome.code : 'RUNTIMEINCONSISTENCY',
        }));
        return { ok: false, code: outcome.code, results: errors };
      }
      results.push(outcome.value);
    }
    this.state = work;
    return { ok: true, op: 'multi', results };
  }

  private sessionOpen(state: State, sessionId: SessionId | null): boolean {
    return sessionId !== null && state.sessions.has(sessionId);
  }

  private op(state: State, op: MultiOp, caller: ModelCaller, touched: string[]): Outcome<OpResult> {
    switch (op.op) {
      case 'create':
        return this.create(state, op, caller, touched);
      case 'delete':
        return this.delete(state, op, caller, touched);
      case 'setData':
        return this.setData(state, op, caller, touched);
      case 'check':
        return this.check(state, op, caller);
    }
  }

  /** Client checks (path with the suffix's "1", mode, TTL, empty ACL), the session, the reserved
   *  subtree, then pRequest2TxnCreate: fixupACL, parent NONODE, CREATE on the parent,
   *  NODEEXISTS, NOCHILDRENFOREPHEMERALS. */
  private create(state: State, request: CreateRequest, caller: ModelCaller, touched: string[]): Outcome<OpResult> {
    const mode = request.mode;
    const sequential = mode === 'persistent_sequential' || mode === 'ephemeral_sequential' || mode === 'persistent_sequential_ttl';
    if (!isValidPath(sequential ? `${request.path}1` : request.path)) return fail('BADARGUMENTS');
    if (!CREATE_MODES.includes(mode)) return fail('BADARGUMENTS');
    const ttl = mode === 'persistent_ttl' || mode === 'persistent_sequential_ttl';
    const ttlMs = request.ttlMs;
    if (ttl && !(ttlMs !== undefined && Number.isInteger(ttlMs) && ttlMs > 0 && ttlMs <= TTL_MS_MAX)) return fail('BADARGUMENTS');
    // EphemeralType.validateTTL: a TTL on any other mode is refused too.
    if (!ttl && ttlMs !== undefined) return fail('BADARGUMENTS');
    if (request.acl.length === 0) return fail('INVALIDACL');
    if (!this.sessionOpen(state, caller.sessionId)) return fail('SESSIONEXPIRED');
    if (writesReserved(request)) return fail('BADARGUMENTS');
    const acl = fixupAcl(request.acl, caller.auth);
    if (!acl.ok) return acl;
    const slash = request.path.lastIndexOf('/');
    const parentPath = slash === 0 ? '/' : request.path.slice(0, slash);
    const parent = state.nodes.get(parentPath);
    if (parent === undefined) return fail('NONODE');
    if (!allowed(parent.acl, Perms.CREATE, caller.auth)) return fail('NOAUTH');
    const counter = this.mutation === 'sequence-from-child-count' ? state.childNames(parentPath).length : parent.creates;
    const path = sequential ? request.path + sequenceSuffix(counter) : request.path;
    if (state.nodes.has(path)) return fail('NODEEXISTS');
    if (parent.kind === 'ephemeral') return fail('NOCHILDRENFOREPHEMERALS');

    const kind: NodeKind = mode.includes('ephemeral') ? 'ephemeral' : mode === 'container' ? 'container' : ttl ? 'ttl' : 'persistent';
    parent.creates = (parent.creates + 1) | 0;
    parent.pzxid = caller.zxid;
    state.nodes.set(path, {
      data: request.data.slice(),
      acl: acl.value,
      kind,
      ttlMs: kind === 'ttl' ? (ttlMs as number) : 0,
      owner: kind === 'ephemeral' ? caller.sessionId : null,
      czxid: caller.zxid,
      mzxid: caller.zxid,
      pzxid: caller.zxid,
      ctime: caller.time,
      mtime: caller.time,
      version: 0,
      aversion: 0,
      creates: 0,
    });
    touched.push(path, parentPath);
    return { ok: true, value: { op: 'create', path, stat: this.statIn(state, path) } };
  }

  /** Client checks, the session, the reserved subtree and "/" (getParentPathAndValidate), then
   *  parent NONODE, DELETE on the parent, node NONODE, BADVERSION, NOTEMPTY. */
  private delete(state: State, request: DeleteRequest, caller: ModelCaller, touched: string[]): Outcome<OpResult> {
    const path = request.path;
    if (!isValidPath(path) || !isInt32(request.version)) return fail('BADARGUMENTS');
    if (!this.sessionOpen(state, caller.sessionId)) return fail('SESSIONEXPIRED');
    if (writesReserved(request)) return fail('BADARGUMENTS');
    const parent = state.nodes.get(parentOf(path));
    if (parent === undefined) return fail('NONODE');
    if (!allowed(parent.acl, Perms.DELETE, caller.auth)) return fail('NOAUTH');
    const node = state.nodes.get(path);
    if (node === undefined) return fail('NONODE');
    if (request.version !== -1 && request.version !== node.version) return fail('BADVERSION');
    if (state.childNames(path).length > 0) return fail('NOTEMPTY');
    this.removeNode(state, path, caller.zxid);
    touched.push(path, parentOf(path));
    return { ok: true, value: { op: 'delete' } };
  }

  /** DataTree.deleteNode: the parent's pzxid moves (if later); its stored cversion does not. */
  private removeNode(state: State, path: string, zxid: number): void {
    const parent = state.nodes.get(parentOf(path)) as ModelNode;
    state.nodes.delete(path);
    if (zxid > parent.pzxid) parent.pzxid = zxid;
  }

  private setData(state: State, request: SetDataRequest, caller: ModelCaller, touched: string[]): Outcome<OpResult> {
    const path = request.path;
    if (!isValidPath(path) || !isInt32(request.version)) return fail('BADARGUMENTS');
    if (!this.sessionOpen(state, caller.sessionId)) return fail('SESSIONEXPIRED');
    if (writesReserved(request)) return fail('BADARGUMENTS');
    const node = state.nodes.get(path);
    if (node === undefined) return fail('NONODE');
    if (!allowed(node.acl, Perms.WRITE, caller.auth)) return fail('NOAUTH');
    if (request.version !== -1 && request.version !== node.version) return fail('BADVERSION');
    node.data = request.data.slice();
    node.version = nextVersion(node.version);
    node.mtime = caller.time;
    node.mzxid = caller.zxid;
    touched.push(path);
    return { ok: true, value: { op: 'setData', stat: this.statIn(state, path) } };
  }

  private setAcl(state: State, request: SetACLRequest, caller: ModelCaller, touched: string[]): Outcome<Stat> {
    const path = request.path;
    if (!isValidPath(path) || !isInt32(request.version)) return fail('BADARGUMENTS');
    if (request.acl.length === 0) return fail('INVALIDACL');
    if (!this.sessionOpen(state, caller.sessionId)) return fail('SESSIONEXPIRED');
    if (writesReserved(request)) return fail('BADARGUMENTS');
    const acl = fixupAcl(request.acl, caller.auth);
    if (!acl.ok) return acl;
    const node = state.nodes.get(path);
    if (node === undefined) return fail('NONODE');
    if (!allowed(node.acl, Perms.ADMIN, caller.auth)) return fail('NOAUTH');
    if (request.version !== -1 && request.version !== node.aversion) return fail('BADVERSION');
    node.acl = acl.value;
    node.aversion = nextVersion(node.aversion);
    touched.push(path);
    return { ok: true, value: this.statIn(state, path) };
  }

  /** check: reads allowed anywhere, /zookeeper included; READ on the node. */
  private check(state: State, request: CheckRequest, caller: ModelCaller): Outcome<OpResult> {
    const path = request.path;
    if (!isValidPath(path) || !isInt32(request.version)) return fail('BADARGUMENTS');
    if (!this.sessionOpen(state, caller.sessionId)) return fail('SESSIONEXPIRED');
    const node = state.nodes.get(path);
    if (node === undefined) return fail('NONODE');
    if (!allowed(node.acl, Perms.READ, caller.auth)) return fail('NOAUTH');
    if (request.version !== -1 && request.version !== node.version) return fail('BADVERSION');
    return { ok: true, value: { op: 'check' } };
  }

  /** DataNode.copyStat, in a state that may be a multi's working copy. */
  private statIn(state: State, path: string): Stat {
    const node = state.nodes.get(path);
    assert(node !== undefined, `model: no node ${path}`);
    const numChildren = state.childNames(path).length;
    const cversion = this.mutation === 'cversion-is-create-count' ? node.creates : (Math.imul(node.creates, 2) - numChildren) | 0;
    return {
      czxid: node.czxid,
      mzxid: node.mzxid,
      pzxid: node.pzxid,
      ctime: node.ctime,
      mtime: node.mtime,
      version: node.version,
      cversion,
      aversion: node.aversion,
      ephemeralOwner: node.kind === 'ephemeral' ? node.owner : null,
      dataLength: node.data.length,
      numChildren,
    };
  }
}
