/**
 * prep: ZooKeeper's PrepRequestProcessor, run by the leader. It turns a client's WriteRequest into
 * a deterministic Txn for the log, deciding every outcome up front against the tree as it will be
 * once every txn already prepared is applied (the overlay, overlay.ts). apply (apply.ts) then only
 * executes.
 *
 * A refused request still becomes a txn: one with an ErrorTxn body (ZooKeeper logs error txns too).
 * It changes nothing when applied but takes its place in the log, so each client's replies come
 * back in the order it sent its requests, failures included. A multi that fails becomes a MultiTxn
 * whose sub-txns are all errors: OK for the ops before the failing one, its code, then
 * RUNTIMEINCONSISTENCY (ZooKeeper's MultiResponse).
 *
 * The runtime's obligations:
 *   - `ctx.zxid` is the log index the txn will be appended at, increasing from call to call;
 *     `ctx.time` is the leader's clock (ms), written into the txn header (ctime, mtime, TTL).
 *   - After `tree.apply(txn, zxid)`, call `applied(zxid)` so the overlay drops what the tree now shows.
 *   - On losing leadership, or if prepared txns will not be appended, call `reset()`. A new leader
 *     must have applied its whole log (through its own term's first entry) before it prepares: a
 *     txn is only valid against the state it was prepared on, and apply asserts that it is.
 */

import { assert } from '../assert.js';
import { AUTH_IDS_MAX, MULTI_OPS_MAX, SESSION_ID_BYTES_MAX } from '../limits.js';
import { isDue } from './containers.js';
import { Overlay, Stage, type TreeReader } from './overlay.js';
import {
  checkRequestBytes,
  fail,
  isFailure,
  opBytes,
  prepCheck,
  prepCreate,
  prepDelete,
  prepSetAcl,
  prepSetData,
  recordDelete,
  type OpContext,
  type PrepFailure,
} from './prep-ops.js';
import { isReservedPath, parentOf, utf8ByteLength, validatePath } from './paths.js';
import type {
  CloseSessionRequest,
  CreateSessionRequest,
  DeleteContainerRequest,
  MultiOp,
  MultiRequest,
  MultiTxn,
  PrepContext,
  SessionId,
  Txn,
  TxnBody,
  WriteRequest,
} from './types.js';

export type { PrepFailure } from './prep-ops.js';

/** A prepared txn, and why it failed when its body is an error (a failed multi's too). */
export interface Prepared {
  txn: Txn;
  failure: PrepFailure | null;
}

/** The capacity limits prep enforces (the tree's, so prep and apply agree). */
export interface PrepLimits {
  nodesMax: number;
  childrenPerNodeMax: number;
  sessionsMax: number;
}

type MultiSubTxn = MultiTxn['txns'][number];

export class Preparer {
  private readonly overlay = new Overlay();

  constructor(
    private readonly tree: TreeReader,
    private readonly limits: PrepLimits,
  ) {}

  /** Outstanding (prepared, not yet applied) records: 0 once everything prepared is applied. */
  get outstanding(): number {
    return this.overlay.size;
  }

  prep(request: WriteRequest, ctx: PrepContext): Prepared {
    checkContext(ctx, this.tree.lastZxid, this.overlay.lastPrepared);
    this.overlay.notePrepared(ctx.zxid);
    const stage = new Stage(this.tree, this.overlay);
    const opContext: OpContext = {
      sessionId: ctx.sessionId,
      auth: ctx.auth,
      time: ctx.time,
      childrenPerNodeMax: this.limits.childrenPerNodeMax,
      nodesMax: this.limits.nodesMax,
    };
    const outcome = this.prepBody(stage, request, opContext);
    const header = { sessionId: headerSession(request, ctx), time: ctx.time };
    if ('failure' in outcome) return { txn: { header, body: outcome.body }, failure: outcome.failure };
    if (isFailure(outcome)) return { txn: { header, body: { type: 'error', code: outcome.code } }, failure: outcome };
    this.overlay.commit(ctx.zxid, stage);
    return { txn: { header, body: outcome }, failure: null };
  }

  /** The tree has applied every txn through `zxid`. */
  applied(zxid: number): void {
    assert(zxid <= this.tree.lastZxid, `applied(${zxid}): the tree has applied it (last ${this.tree.lastZxid})`);
    this.overlay.applied(zxid);
  }

  /** Leadership lost: forget every prepared, unapplied change (ZooKeeper clears outstandingChanges). */
  reset(): void {
    this.overlay.reset();
  }

  private prepBody(stage: Stage, request: WriteRequest, ctx: OpContext): TxnBody | PrepFailure | FailedMulti {
    switch (request.op) {
      case 'create':
        return checkRequestBytes(opBytes(request), request.path) ?? prepCreate(stage, request, ctx);
      case 'delete':
        return prepDelete(stage, request, ctx);
      case 'setData':
        return checkRequestBytes(opBytes(request), request.path) ?? prepSetData(stage, request, ctx);
      case 'setACL':
        return checkRequestBytes(opBytes(request), request.path) ?? prepSetAcl(stage, request, ctx);
      case 'multi':
        return prepMulti(stage, request, ctx);
      case 'createSession':
        return prepCreateSession(stage, request, this.limits.sessionsMax);
      case 'closeSession':
        return prepCloseSession(stage, request);
      case 'deleteContainer':
        return prepDeleteContainer(stage, request, ctx.time);
      default:
        return fail('BADARGUMENTS', `unknown write op ${String((request as { op?: unknown }).op)}`);
    }
  }
}

function checkContext(ctx: PrepContext, lastApplied: number, lastPrepared: number): void {
  assert(Number.isSafeInteger(ctx.zxid) && ctx.zxid > 0, 'prep: zxid is a positive integer');
  assert(ctx.zxid > lastApplied, `prep: zxid ${ctx.zxid} comes after the last applied ${lastApplied}`);
  assert(ctx.zxid > lastPrepared, `prep: zxid ${ctx.zxid} comes after the last prepared ${lastPrepared}`);
  assert(Number.isSafeInteger(ctx.time), 'prep: time is an integer (ms)');
  assert(Array.isArray(ctx.auth) && ctx.auth.length <= AUTH_IDS_MAX, `prep: at most AUTH_IDS_MAX (${AUTH_IDS_MAX}) identities`);
}

/** Whose txn it is: the asking session, the session a session txn is about, or the system. */
function headerSession(request: WriteRequest, ctx: PrepContext): SessionId | null {
  if (request.op === 'createSession' || request.op === 'closeSession') {
    return typeof request.sessionId === 'string' ? request.sessionId : null;
  }
  if (request.op === 'deleteContainer') return null;
  return ctx.sessionId;
}

interface FailedMulti {
  body: MultiTxn;
  failure: PrepFailure;
}

function prepMultiOp(stage: Stage, op: MultiOp, ctx: OpContext): MultiSubTxn | PrepFailure {
  switch (op?.op) {
    case 'create':
      return prepCreate(stage, op, ctx);
    case 'delete':
      return prepDelete(stage, op, ctx);
    case 'setData':
      return prepSetData(stage, op, ctx);
    case 'check':
      return prepCheck(stage, op, ctx);
    default:
      return fail('BADARGUMENTS', `a multi may hold create, delete, setData and check, not ${String((op as { op?: unknown })?.op)}`);
  }
}

/**
 * PrepRequestProcessor, OpCode.multi: every op is prepared in turn against the stage, so later ops
 * see earlier ones; the first failure stops preparation, and the stage (the whole multi's effect)
 * is dropped. All ops share the multi's zxid.
 */
function prepMulti(stage: Stage, request: MultiRequest, ctx: OpContext): MultiTxn | PrepFailure | FailedMulti {
  if (!Array.isArray(request.ops)) return fail('BADARGUMENTS', 'multi ops is not a list');
  if (request.ops.length > MULTI_OPS_MAX) return fail('BADARGUMENTS', `multi has ${request.ops.length} ops, more than MULTI_OPS_MAX (${MULTI_OPS_MAX})`);
  const bytes = request.ops.reduce((sum, op) => sum + opBytes(op ?? {}), 0);
  const tooBig = checkRequestBytes(bytes);
  if (tooBig) return tooBig;
  const txns: MultiSubTxn[] = [];
  for (const [index, op] of request.ops.entries()) {
    const sub = prepMultiOp(stage, op, ctx);
    if (isFailure(sub)) return failedMulti(request.ops.length, index, sub);
    txns.push(sub);
  }
  return { type: 'multi', txns };
}

function failedMulti(count: number, failedAt: number, failure: PrepFailure): FailedMulti {
  const txns: MultiSubTxn[] = [];
  for (let i = 0; i < count; i++) {
    const code = i < failedAt ? 'OK' : i === failedAt ? failure.code : 'RUNTIMEINCONSISTENCY';
    txns.push({ type: 'error', code });
  }
  return { body: { type: 'multi', txns }, failure: { ...failure, reason: `op ${failedAt}: ${failure.reason}` } };
}

function checkSessionId(sessionId: unknown): PrepFailure | null {
  if (typeof sessionId !== 'string' || sessionId.length === 0) return fail('BADARGUMENTS', 'session id is not a non-empty string');
  if (utf8ByteLength(sessionId) > SESSION_ID_BYTES_MAX) return fail('BADARGUMENTS', `session id longer than SESSION_ID_BYTES_MAX (${SESSION_ID_BYTES_MAX})`);
  return null;
}

/** createSession: a new id with a positive timeout; an id already open is BADARGUMENTS. */
function prepCreateSession(stage: Stage, request: CreateSessionRequest, sessionsMax: number): TxnBody | PrepFailure {
  const idFailure = checkSessionId(request.sessionId);
  if (idFailure) return idFailure;
  if (!Number.isSafeInteger(request.timeoutMs) || request.timeoutMs <= 0) {
    return fail('BADARGUMENTS', `session timeout ${String(request.timeoutMs)} is not a positive integer (ms)`);
  }
  if (stage.sessionOpen(request.sessionId)) return fail('BADARGUMENTS', `session ${request.sessionId} is already open`);
  if (stage.sessionCount() >= sessionsMax) return fail('QUOTAEXCEEDED', `${stage.sessionCount()} sessions are open (limit ${sessionsMax})`);
  stage.setSession(request.sessionId, true);
  stage.sessionDelta += 1;
  return { type: 'createSession', sessionId: request.sessionId, timeoutMs: request.timeoutMs };
}

/**
 * closeSession: the session's ephemerals (including pending creates, excluding pending deletes)
 * are deleted at apply; the session counts as closed for every request prepared after this one
 * (ZooKeeper's setSessionClosing). An unknown or already closing session is SESSIONEXPIRED.
 */
function prepCloseSession(stage: Stage, request: CloseSessionRequest): TxnBody | PrepFailure {
  const idFailure = checkSessionId(request.sessionId);
  if (idFailure) return idFailure;
  if (!stage.sessionOpen(request.sessionId)) return fail('SESSIONEXPIRED', `session ${request.sessionId} is not open`);
  for (const path of stage.ephemeralsOf(request.sessionId)) {
    const parentPath = parentOf(path);
    const parent = stage.node(parentPath);
    assert(parent !== undefined, `closeSession: parent of ephemeral ${path} exists`);
    recordDelete(stage, path, parentPath, parent);
  }
  stage.setSession(request.sessionId, false);
  stage.sessionDelta -= 1;
  return { type: 'closeSession', sessionId: request.sessionId };
}

/**
 * deleteContainer, proposed by the leader for a path `due()` reported. Re-checked against the
 * latest state: NONODE if it is gone, NOTEMPTY if it has children (ZooKeeper's checks), and
 * BADVERSION if it is not a container/TTL node (ZooKeeper's code for that) or is no longer due (say
 * a TTL node written since due() looked). ZooKeeper re-checks only the first three; we also re-check
 * dueness, so a stale or wrong proposal can never delete a live node.
 */
function prepDeleteContainer(stage: Stage, request: DeleteContainerRequest, now: number): TxnBody | PrepFailure {
  const check = validatePath(request.path);
  if (!check.ok) return fail('BADARGUMENTS', `invalid path: ${check.reason}`);
  if (request.path === '/' || isReservedPath(request.path)) return fail('BADARGUMENTS', 'the root and /zookeeper are never containers', request.path);
  const node = stage.node(request.path);
  if (node === undefined) return fail('NONODE', `${request.path} does not exist`, request.path);
  if (node.numChildren > 0) return fail('NOTEMPTY', `${request.path} has ${node.numChildren} children`, request.path);
  if (node.kind !== 'container' && node.kind !== 'ttl') return fail('BADVERSION', `${request.path} is a ${node.kind} node, not a container or TTL node`, request.path);
  if (!isDue(node, now)) return fail('BADVERSION', `${request.path} is not due for deletion`, request.path);
  const parentPath = parentOf(request.path);
  const parent = stage.node(parentPath);
  assert(parent !== undefined, `deleteContainer: parent of ${request.path} exists`);
  recordDelete(stage, request.path, parentPath, parent);
  return { type: 'deleteContainer', path: request.path };
}

