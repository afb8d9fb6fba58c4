/**
 * apply: ZooKeeper's DataTree.processTxn, the ONE place the tree changes. A txn is applied at the
 * zxid it was committed at (its log index); ctime/mtime come from the txn header's time. The
 * result is the client's reply plus the watch triggers, as data and in order.
 *
 * prep (prep.ts) has already validated everything against the same state, so apply does not
 * re-decide anything: what prep guaranteed is asserted here (parent exists, versions follow, ...),
 * and a failed assertion means prep and apply disagree, or the runtime prepped against a state that
 * was not the state this txn is applied to (see prep.ts for that obligation).
 *
 * Stat rules, from DataTree (ZooKeeper 3.9):
 *   create    child: czxid = mzxid = pzxid = zxid, ctime = mtime = time, versions 0;
 *             parent: cversion (internal) = txn.parentCversion, pzxid = zxid.
 *   delete    parent: pzxid = zxid; cversion unchanged (deleteNode does not touch it: the client
 *             cversion still rises, by copyStat's creates * 2 - numChildren).
 *   setData   mzxid = zxid, mtime = time, version = txn.version; pzxid unchanged.
 *   setACL    aversion = txn.version; nothing else (no mzxid, no watch).
 * A multi's sub-txns all carry the multi's zxid.
 */

import { assert, unreachable } from '../assert.js';
import type { FailureName } from '../errors.js';
import { TTL_MS_MAX } from '../limits.js';
import { copyAclList } from './acl.js';
import { copyStat, kindOfMode, newNode, nextInt32, nextVersion } from './node.js';
import { isReservedPath, parentOf, validatePath } from './paths.js';
import type { TreeStore } from './store.js';
import type {
  CheckTxn,
  CreateTxn,
  MultiTxn,
  OpResult,
  SetACLTxn,
  SetDataTxn,
  Txn,
  TxnHeader,
  WatchTrigger,
  WriteResult,
} from './types.js';

/** The capacity limits apply asserts (prep enforces them; see DataTree's TreeLimits). */
export interface CapacityLimits {
  nodesMax: number;
  childrenPerNodeMax: number;
  sessionsMax: number;
}

export interface Applied {
  result: WriteResult;
  triggers: WatchTrigger[];
}

interface Step {
  store: TreeStore;
  header: TxnHeader;
  zxid: number;
  limits: CapacityLimits;
  triggers: WatchTrigger[];
}

export function applyTxn(store: TreeStore, txn: Txn, zxid: number, limits: CapacityLimits): Applied {
  assert(Number.isSafeInteger(zxid) && zxid > 0, `apply: zxid ${zxid} is a positive integer`);
  assert(zxid > store.lastZxid, `apply: zxid ${zxid} follows the last applied ${store.lastZxid}`);
  assert(Number.isSafeInteger(txn.header.time), 'apply: header time is an integer (ms)');
  const step: Step = { store, header: txn.header, zxid, limits, triggers: [] };
  const result = applyBody(step, txn.body);
  store.lastZxid = zxid;
  return { result, triggers: step.triggers };
}

function applyBody(step: Step, body: Txn['body']): WriteResult {
  switch (body.type) {
    case 'create': {
      const stat = applyCreate(step, body);
      return { ok: true, op: 'create', path: body.path, stat };
    }
    case 'delete':
      applyDelete(step, body.path);
      return { ok: true, op: 'delete' };
    case 'deleteContainer': {
      const node = step.store.node(body.path);
      assert(node !== undefined && (node.kind === 'container' || node.kind === 'ttl'), `deleteContainer: ${body.path} is a container or TTL node`);
      applyDelete(step, body.path);
      return { ok: true, op: 'deleteContainer' };
    }
    case 'setData':
      return { ok: true, op: 'setData', stat: applySetData(step, body) };
    case 'setACL':
      return { ok: true, op: 'setACL', stat: applySetAcl(step, body) };
    case 'multi':
      return applyMulti(step, body);
    case 'createSession':
      applyCreateSession(step, body.sessionId, body.timeoutMs);
      return { ok: true, op: 'createSession' };
    case 'closeSession':
      applyCloseSession(step, body.sessionId);
      return { ok: true, op: 'closeSession' };
    case 'error':
      assert(body.code !== 'OK', 'apply: a top-level error txn carries a failure code');
      return { ok: false, code: body.code };
    case 'check':
      return unreachable(body as never, 'apply: a check txn only appears inside a multi');
    default:
      return unreachable(body, 'apply: unknown txn type');
  }
}

function applyCreate(step: Step, txn: CreateTxn): ReturnType<typeof copyStat> {
  const { store, zxid } = step;
  assert(validatePath(txn.path).ok && txn.path !== '/', `create: ${txn.path} is a valid non-root path`);
  assert(!isReservedPath(txn.path), `create: ${txn.path} is not reserved`);
  const parentPath = parentOf(txn.path);
  const parent = store.node(parentPath);
  assert(parent !== undefined, `create: parent of ${txn.path} exists`);
  assert(store.node(txn.path) === undefined, `create: ${txn.path} does not exist`);
  assert(txn.parentCversion === nextInt32(parent.cversion), `create: parent cversion of ${txn.path} follows`);
  assert(parent.children.size < step.limits.childrenPerNodeMax, `create: ${parentPath} has room for a child`);
  assert(store.nodes.size < step.limits.nodesMax, 'create: the tree has room for a node');
  const kind = kindOfMode(txn.mode);
  if (kind === 'ephemeral') {
    assert(txn.ephemeralOwner !== null && txn.ephemeralOwner === step.header.sessionId, 'create: an ephemeral is owned by the asking session');
  }
  if (kind === 'ttl') assert(txn.ttlMs > 0 && txn.ttlMs <= TTL_MS_MAX, 'create: TTL in range');
  const node = newNode({
    path: txn.path,
    data: txn.data.slice(),
    acl: copyAclList(txn.acl),
    kind,
    ttlMs: kind === 'ttl' ? txn.ttlMs : 0,
    ephemeralOwner: kind === 'ephemeral' ? txn.ephemeralOwner : null,
    zxid,
    time: step.header.time,
  });
  store.insert(txn.path, node);
  const updated = store.change(parentPath, (p) => {
    p.cversion = txn.parentCversion;
    p.pzxid = zxid;
  });
  step.triggers.push(
    { type: 'NodeCreated', path: txn.path, zxid, acl: copyAclList(node.acl) },
    { type: 'NodeChildrenChanged', path: parentPath, zxid, acl: copyAclList(updated.acl) },
  );
  return copyStat(node);
}

/** DataTree.deleteNode: the parent's pzxid moves (only forward), its cversion does not. */
function applyDelete(step: Step, path: string): void {
  const { store, zxid } = step;
  assert(path !== '/' && !isReservedPath(path), `delete: ${path} is not the root or reserved`);
  const removed = store.remove(path);
  const parentPath = parentOf(path);
  const parent = store.change(parentPath, (p) => {
    if (zxid > p.pzxid) p.pzxid = zxid;
  });
  step.triggers.push(
    { type: 'NodeDeleted', path, zxid, acl: copyAclList(removed.acl) },
    { type: 'NodeChildrenChanged', path: parentPath, zxid, acl: copyAclList(parent.acl) },
  );
}

function applySetData(step: Step, txn: SetDataTxn): ReturnType<typeof copyStat> {
  const { store, zxid } = step;
  const current = store.node(txn.path);
  assert(current !== undefined, `setData: ${txn.path} exists`);
  assert(txn.version === nextVersion(current.version), `setData: version of ${txn.path} follows`);
  const node = store.change(txn.path, (n) => {
    n.data = txn.data.slice();
    n.mtime = step.header.time;
    n.mzxid = zxid;
    n.version = txn.version;
  });
  step.triggers.push({ type: 'NodeDataChanged', path: txn.path, zxid, acl: copyAclList(node.acl) });
  return copyStat(node);
}

function applySetAcl(step: Step, txn: SetACLTxn): ReturnType<typeof copyStat> {
  const current = step.store.node(txn.path);
  assert(current !== undefined, `setACL: ${txn.path} exists`);
  assert(txn.version === nextVersion(current.aversion), `setACL: aversion of ${txn.path} follows`);
  const node = step.store.change(txn.path, (n) => {
    n.acl = copyAclList(txn.acl);
    n.aversion = txn.version;
  });
  return copyStat(node);
}

function applyCheck(step: Step, txn: CheckTxn): void {
  const node = step.store.node(txn.path);
  assert(node !== undefined, `check: ${txn.path} exists`);
  assert(node.version === txn.version, `check: ${txn.path} still has the version prep saw`);
}

/**
 * DataTree.processTxn for OpCode.multi. prep writes a failed multi in its final form, every
 * sub-txn an error: OK before the failing op, its code, RUNTIMEINCONSISTENCY after (ZooKeeper
 * rewrites the sub-txns into that form here; we log it already rewritten). Nothing changes then,
 * and the multi's code is the failing op's. Otherwise the ops apply in order, all at this zxid.
 */
function applyMulti(step: Step, txn: MultiTxn): WriteResult {
  if (txn.txns.some((sub) => sub.type === 'error')) return failedMulti(txn);
  const results: OpResult[] = [];
  for (const sub of txn.txns) {
    switch (sub.type) {
      case 'create':
        results.push({ op: 'create', path: sub.path, stat: applyCreate(step, sub) });
        break;
      case 'delete':
        applyDelete(step, sub.path);
        results.push({ op: 'delete' });
        break;
      case 'setData':
        results.push({ op: 'setData', stat: applySetData(step, sub) });
        break;
      case 'check':
        applyCheck(step, sub);
        results.push({ op: 'check' });
        break;
      case 'error':
        return unreachable(sub as never, 'multi: no error sub-txn in a successful multi');
      default:
        return unreachable(sub, 'multi: unknown sub-txn');
    }
  }
  return { ok: true, op: 'multi', results };
}

function failedMulti(txn: MultiTxn): WriteResult {
  const results: OpResult[] = [];
  let failure: FailureName | null = null;
  for (const sub of txn.txns) {
    assert(sub.type === 'error', 'multi: a failed multi has only error sub-txns');
    if (failure === null) {
      if (sub.code !== 'OK') failure = sub.code;
    } else {
      assert(sub.code === 'RUNTIMEINCONSISTENCY', 'multi: ops after the failing one are RUNTIMEINCONSISTENCY');
    }
    results.push({ op: 'error', code: sub.code });
  }
  assert(failure !== null && failure !== 'RUNTIMEINCONSISTENCY', 'multi: a failed multi names the failing op');
  return { ok: false, code: failure, results };
}

function applyCreateSession(step: Step, sessionId: string, timeoutMs: number): void {
  assert(step.store.sessions.size < step.limits.sessionsMax, 'createSession: room for a session');
  assert(Number.isSafeInteger(timeoutMs) && timeoutMs > 0, 'createSession: timeout is a positive integer');
  step.store.addSession({ sessionId, timeoutMs });
}

/** DataTree.killSession: every ephemeral the session owns goes (in path order, so the triggers are
 *  the same on every replica), then the session. */
function applyCloseSession(step: Step, sessionId: string): void {
  assert(step.store.sessions.has(sessionId), `closeSession: ${sessionId} is open`);
  for (const path of step.store.ephemeralsOf(sessionId)) applyDelete(step, path);
  step.store.removeSession(sessionId);
}
