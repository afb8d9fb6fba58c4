/**
 * prep for the znode operations (create, delete, setData, setACL, check), one function each,
 * following PrepRequestProcessor.pRequest2Txn step by step. Each returns the sub-txn and records
 * its effect in the stage, or returns a failure and records nothing that outlives the stage.
 *
 * The order of checks is ZooKeeper's, with the client's own checks first (the Java client validates
 * the path before sending, and an oversize request never gets past the server's jute.maxbuffer):
 *
 *   1. input: path (PathUtils), mode, TTL, version, data and ACL sizes (INVALIDACL for an
 *      empty ACL list, which the Java client refuses before sending)                      BADARGUMENTS
 *   2. the session is open                                                                 SESSIONEXPIRED
 *   2b. the reserved subtree and the root (ZooKeeper checks special paths after the session,
 *      in getParentPathAndValidate)                                                        BADARGUMENTS
 *   3. the new ACL (create, setACL)                                                        INVALIDACL
 *   4. lookups and permissions, in ZooKeeper's order for each op        NONODE / NOAUTH / NODEEXISTS ...
 *   5. capacity (children per node, nodes in the tree)                                     QUOTAEXCEEDED
 *
 * Writes into /zookeeper (ZooKeeper's own subtree) are refused with BADARGUMENTS: that is what
 * ZooKeeper answers for its special paths (PrepRequestProcessor.getParentPathAndValidate ->
 * isSpecialPath), and no identity could make the write legal, so NOAUTH would mislead.
 */

import { DATA_BYTES_MAX, REQUEST_BYTES_MAX, TTL_MS_MAX } from '../limits.js';
import type { FailureName } from '../errors.js';
import { checkAcl, checkAclShape, fixupAcl } from './acl.js';
import { kindOfMode, nextInt32, nextVersion } from './node.js';
import type { PendingNode, Stage } from './overlay.js';
import { RESERVED_ROOT, isReservedPath, parentOf, sequentialSuffix, utf8ByteLength, validatePath } from './paths.js';
import {
  CREATE_MODES,
  Perms,
  type ACL,
  type CheckRequest,
  type CheckTxn,
  type CreateMode,
  type CreateRequest,
  type CreateTxn,
  type DeleteRequest,
  type DeleteTxn,
  type Id,
  type SessionId,
  type SetACLRequest,
  type SetACLTxn,
  type SetDataRequest,
  type SetDataTxn,
} from './types.js';

/** Why a request was refused; `reason` is for logs and error messages, never for the log. */
export interface PrepFailure {
  failed: true;
  code: FailureName;
  path?: string;
  reason: string;
}

/** The caller's identity and the txn's coordinates (see Preparer.prep). */
export interface OpContext {
  sessionId: SessionId | null;
  auth: readonly Id[];
  time: number;
  /** Capacity limits in force (DataTree's). */
  childrenPerNodeMax: number;
  nodesMax: number;
}

export function fail(code: FailureName, reason: string, path?: string): PrepFailure {
  return path === undefined ? { failed: true, code, reason } : { failed: true, code, path, reason };
}

export function isFailure(value: object): value is PrepFailure {
  return 'failed' in value;
}

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

function isInt32(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= INT32_MIN && value <= INT32_MAX;
}

/** checkAndIncVersion's comparison: -1 matches any version. */
function versionMatches(expected: number, current: number): boolean {
  return expected === -1 || expected === current;
}

export function isSequentialMode(mode: CreateMode): boolean {
  return mode === 'persistent_sequential' || mode === 'ephemeral_sequential' || mode === 'persistent_sequential_ttl';
}

/** The approximate wire size of one op (path + data + ACL), for the REQUEST_BYTES_MAX bound. */
export function opBytes(op: { path?: unknown; data?: unknown; acl?: unknown }): number {
  let bytes = typeof op.path === 'string' ? utf8ByteLength(op.path) : 0;
  if (op.data instanceof Uint8Array) bytes += op.data.length;
  if (Array.isArray(op.acl)) {
    for (const entry of op.acl as ACL[]) bytes += 4 + utf8ByteLength(entry?.id?.scheme ?? '') + utf8ByteLength(entry?.id?.id ?? '');
  }
  return bytes;
}

function checkData(data: unknown, path: string): PrepFailure | null {
  if (!(data instanceof Uint8Array)) return fail('BADARGUMENTS', 'data is not a Uint8Array', path);
  if (data.length > DATA_BYTES_MAX) return fail('BADARGUMENTS', `data is ${data.length} bytes, more than DATA_BYTES_MAX (${DATA_BYTES_MAX})`, path);
  return null;
}

function checkPathInput(path: unknown, sequential: boolean): PrepFailure | null {
  const check = validatePath(path, { sequential });
  if (!check.ok) return fail('BADARGUMENTS', `invalid path: ${check.reason}`, typeof path === 'string' ? path : undefined);
  return null;
}

/** The client's own ACL checks (ZooKeeper.validateACL: an empty list is INVALIDACL before anything is
 *  sent) and our size bounds (BADARGUMENTS). The rest of fixupACL needs the session's identities. */
function checkAclInput(acl: unknown, path: string): PrepFailure | null {
  const shape = checkAclShape(acl);
  if (!shape.ok) return fail(shape.code, shape.reason, path);
  if ((acl as ACL[]).length === 0) return fail('INVALIDACL', 'acl is empty', path);
  return null;
}

function reservedFailure(path: string): PrepFailure {
  return fail('BADARGUMENTS', `${RESERVED_ROOT} is ZooKeeper's reserved subtree: clients may read it, not write it`, path);
}

/** ZooKeeper's sessionTracker.checkSession: the caller's session must be open (and not closing). */
export function checkSession(stage: Stage, ctx: OpContext, path?: string): PrepFailure | null {
  if (ctx.sessionId === null) return fail('SESSIONEXPIRED', 'the request has no session', path);
  if (!stage.sessionOpen(ctx.sessionId)) return fail('SESSIONEXPIRED', `session ${ctx.sessionId} is not open`, path);
  return null;
}

/** The parent of a requested create path: the text before the last slash (so `/a/` -> `/a`). */
function parentOfRequested(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash === 0 ? '/' : path.slice(0, slash);
}

function checkCreateInput(op: CreateRequest): PrepFailure | null {
  if (!CREATE_MODES.includes(op.mode)) return fail('BADARGUMENTS', `unknown create mode ${String(op.mode)}`, op.path);
  const sequential = isSequentialMode(op.mode);
  const pathFailure = checkPathInput(op.path, sequential);
  if (pathFailure) return pathFailure;
  // EphemeralType.validateTTL: TTL modes need 0 < ttl <= max; any other mode must not carry one.
  if (kindOfMode(op.mode) === 'ttl') {
    if (op.ttlMs === undefined || !Number.isSafeInteger(op.ttlMs) || op.ttlMs <= 0 || op.ttlMs > TTL_MS_MAX) {
      return fail('BADARGUMENTS', `${op.mode} needs 0 < ttlMs <= ${TTL_MS_MAX}, got ${String(op.ttlMs)}`, op.path);
    }
  } else if (op.ttlMs !== undefined) {
    return fail('BADARGUMENTS', `ttlMs is only valid for the TTL modes, not ${op.mode}`, op.path);
  }
  const dataFailure = checkData(op.data, op.path);
  if (dataFailure) return dataFailure;
  return checkAclInput(op.acl, op.path);
}

/** Reserved if the final path is `/zookeeper/...`, or `/zookeeper` itself unless a suffix follows. */
function checkCreateReserved(op: CreateRequest): PrepFailure | null {
  const sequential = isSequentialMode(op.mode);
  if (op.path.startsWith(`${RESERVED_ROOT}/`) || (op.path === RESERVED_ROOT && !sequential)) return reservedFailure(op.path);
  return null;
}

/** PrepRequestProcessor.pRequest2TxnCreate. */
export function prepCreate(stage: Stage, op: CreateRequest, ctx: OpContext): CreateTxn | PrepFailure {
  const input = checkCreateInput(op);
  if (input) return input;
  const session = checkSession(stage, ctx, op.path) ?? checkCreateReserved(op);
  if (session) return session;
  const fixed = fixupAcl(op.acl, ctx.auth);
  if (!fixed.ok) return fail(fixed.code, fixed.reason, op.path);
  const parentPath = parentOfRequested(op.path);
  const parent = stage.node(parentPath);
  if (parent === undefined) return fail('NONODE', `parent ${parentPath} does not exist`, op.path);
  if (!checkAcl(parent.acl, Perms.CREATE, ctx.auth)) return fail('NOAUTH', `no CREATE permission on ${parentPath}`, op.path);
  const path = isSequentialMode(op.mode) ? op.path + sequentialSuffix(parent.cversion) : op.path;
  const final = checkPathInput(path, false);
  if (final) return final;
  if (stage.node(path) !== undefined) return fail('NODEEXISTS', `${path} already exists`, path);
  if (parent.kind === 'ephemeral') return fail('NOCHILDRENFOREPHEMERALS', `${parentPath} is ephemeral and cannot have children`, path);
  if (parent.numChildren >= ctx.childrenPerNodeMax) {
    return fail('QUOTAEXCEEDED', `${parentPath} already has ${parent.numChildren} children (limit ${ctx.childrenPerNodeMax})`, path);
  }
  if (stage.nodeCount() >= ctx.nodesMax) return fail('QUOTAEXCEEDED', `the tree already holds ${stage.nodeCount()} nodes (limit ${ctx.nodesMax})`, path);
  return recordCreate(stage, { op, ctx, path, parentPath, parent, acl: fixed.acl });
}

interface CreateDecision {
  op: CreateRequest;
  ctx: OpContext;
  path: string;
  parentPath: string;
  parent: PendingNode;
  acl: ACL[];
}

function recordCreate(stage: Stage, d: CreateDecision): CreateTxn {
  const kind = kindOfMode(d.op.mode);
  const parentCversion = nextInt32(d.parent.cversion);
  const owner = kind === 'ephemeral' ? d.ctx.sessionId : null;
  const ttlMs = kind === 'ttl' ? (d.op.ttlMs as number) : 0;
  stage.setNode(d.parentPath, { ...d.parent, cversion: parentCversion, numChildren: d.parent.numChildren + 1 });
  stage.setNode(d.path, { kind, ttlMs, acl: d.acl, version: 0, cversion: 0, aversion: 0, ephemeralOwner: owner, mtime: d.ctx.time, numChildren: 0 });
  stage.nodeDelta += 1;
  return { type: 'create', path: d.path, data: d.op.data, acl: d.acl, mode: d.op.mode, ephemeralOwner: owner, ttlMs, parentCversion };
}

/** Input checks shared by delete, setData, setACL and check: path and version. */
function checkTargetInput(path: unknown, version: unknown): PrepFailure | null {
  const pathFailure = checkPathInput(path, false);
  if (pathFailure) return pathFailure;
  if (!isInt32(version)) return fail('BADARGUMENTS', `version ${String(version)} is not a 32-bit integer`, path as string);
  return null;
}

/** After the session check, as ZooKeeper: writes into the reserved subtree are BADARGUMENTS. */
function checkSessionThenReserved(stage: Stage, ctx: OpContext, path: string): PrepFailure | null {
  return checkSession(stage, ctx, path) ?? (isReservedPath(path) ? reservedFailure(path) : null);
}

/** PrepRequestProcessor, OpCode.delete. The root and /zookeeper are special paths: BADARGUMENTS. */
export function prepDelete(stage: Stage, op: DeleteRequest, ctx: OpContext): DeleteTxn | PrepFailure {
  const input = checkTargetInput(op.path, op.version);
  if (input) return input;
  const session = checkSessionThenReserved(stage, ctx, op.path);
  if (session) return session;
  if (op.path === '/') return fail('BADARGUMENTS', 'the root cannot be deleted', op.path);
  const parentPath = parentOf(op.path);
  const parent = stage.node(parentPath);
  if (parent === undefined) return fail('NONODE', `parent ${parentPath} does not exist`, op.path);
  if (!checkAcl(parent.acl, Perms.DELETE, ctx.auth)) return fail('NOAUTH', `no DELETE permission on ${parentPath}`, op.path);
  const node = stage.node(op.path);
  if (node === undefined) return fail('NONODE', `${op.path} does not exist`, op.path);
  if (!versionMatches(op.version, node.version)) return fail('BADVERSION', `version is ${node.version}, not ${op.version}`, op.path);
  if (node.numChildren > 0) return fail('NOTEMPTY', `${op.path} has ${node.numChildren} children`, op.path);
  recordDelete(stage, op.path, parentPath, parent);
  return { type: 'delete', path: op.path };
}

/** A delete's effect on the stage (also used by closeSession and deleteContainer). */
export function recordDelete(stage: Stage, path: string, parentPath: string, parent: PendingNode): void {
  stage.setNode(parentPath, { ...parent, numChildren: parent.numChildren - 1 });
  stage.setNode(path, null);
  stage.nodeDelta -= 1;
}

/** PrepRequestProcessor, OpCode.setData: WRITE on the node, then the version. */
export function prepSetData(stage: Stage, op: SetDataRequest, ctx: OpContext): SetDataTxn | PrepFailure {
  const input = checkTargetInput(op.path, op.version) ?? checkData(op.data, op.path);
  if (input) return input;
  const session = checkSessionThenReserved(stage, ctx, op.path);
  if (session) return session;
  const node = stage.node(op.path);
  if (node === undefined) return fail('NONODE', `${op.path} does not exist`, op.path);
  if (!checkAcl(node.acl, Perms.WRITE, ctx.auth)) return fail('NOAUTH', `no WRITE permission on ${op.path}`, op.path);
  if (!versionMatches(op.version, node.version)) return fail('BADVERSION', `version is ${node.version}, not ${op.version}`, op.path);
  const version = nextVersion(node.version);
  stage.setNode(op.path, { ...node, version, mtime: ctx.time });
  return { type: 'setData', path: op.path, data: op.data, version };
}

/** PrepRequestProcessor, OpCode.setACL: the new ACL, then ADMIN on the node, then the aversion. */
export function prepSetAcl(stage: Stage, op: SetACLRequest, ctx: OpContext): SetACLTxn | PrepFailure {
  const input = checkTargetInput(op.path, op.version);
  if (input) return input;
  const aclFailure = checkAclInput(op.acl, op.path);
  if (aclFailure) return aclFailure;
  const session = checkSessionThenReserved(stage, ctx, op.path);
  if (session) return session;
  const fixed = fixupAcl(op.acl, ctx.auth);
  if (!fixed.ok) return fail(fixed.code, fixed.reason, op.path);
  const node = stage.node(op.path);
  if (node === undefined) return fail('NONODE', `${op.path} does not exist`, op.path);
  if (!checkAcl(node.acl, Perms.ADMIN, ctx.auth)) return fail('NOAUTH', `no ADMIN permission on ${op.path}`, op.path);
  if (!versionMatches(op.version, node.aversion)) return fail('BADVERSION', `aversion is ${node.aversion}, not ${op.version}`, op.path);
  const version = nextVersion(node.aversion);
  // Later preps must be authorized against the new ACL (ZooKeeper publishes it on the ChangeRecord).
  stage.setNode(op.path, { ...node, acl: fixed.acl, aversion: version });
  return { type: 'setACL', path: op.path, acl: fixed.acl, version };
}

/**
 * PrepRequestProcessor, OpCode.check (multi only): READ on the node, then the version. The txn
 * records the version it checked (ZooKeeper logs version + 1; nothing reads it), and apply asserts
 * the node still has it.
 */
export function prepCheck(stage: Stage, op: CheckRequest, ctx: OpContext): CheckTxn | PrepFailure {
  const input = checkTargetInput(op.path, op.version);
  if (input) return input;
  const session = checkSession(stage, ctx, op.path);
  if (session) return session;
  const node = stage.node(op.path);
  if (node === undefined) return fail('NONODE', `${op.path} does not exist`, op.path);
  if (!checkAcl(node.acl, Perms.READ, ctx.auth)) return fail('NOAUTH', `no READ permission on ${op.path}`, op.path);
  if (!versionMatches(op.version, node.version)) return fail('BADVERSION', `version is ${node.version}, not ${op.version}`, op.path);
  return { type: 'check', path: op.path, version: node.version };
}

/** The wire-size bound of a whole request (ZooKeeper's jute.maxbuffer). */
export function checkRequestBytes(bytes: number, path?: string): PrepFailure | null {
  if (bytes <= REQUEST_BYTES_MAX) return null;
  return fail('BADARGUMENTS', `request is about ${bytes} bytes, more than REQUEST_BYTES_MAX (${REQUEST_BYTES_MAX})`, path);
}
