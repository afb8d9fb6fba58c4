/**
 * Test support (not shipped behaviour): fast-check arbitraries for every type in tree/types.ts,
 * generating values the codec must accept — within every cap and range, with the cross-field
 * rules a create txn and a snapshot obey. Used by the codec's property and fuzz tests; the tree's
 * tests may reuse them.
 */

import fc from 'fast-check';
import { ErrorCode, type ErrorName, type FailureName } from '../errors.js';
import {
  ACL_ID_BYTES_MAX,
  AUTH_IDS_MAX,
  PATH_BYTES_MAX,
  SESSION_ID_BYTES_MAX,
  TTL_MS_MAX,
} from '../limits.js';
import type {
  ACL,
  CheckRequest,
  CreateMode,
  CreateRequest,
  CreateTxn,
  DeleteRequest,
  Id,
  MultiOp,
  NodeKind,
  NodeRecord,
  OpResult,
  ReadResult,
  Request,
  RequestContext,
  SessionRecord,
  SetDataRequest,
  Stat,
  TreeSnapshot,
  Txn,
  TxnBody,
  TxnHeader,
  WatchEvent,
  WatchEventType,
  WatchTrigger,
  WriteResult,
} from '../tree/types.js';
import { CREATE_MODE_TAGS, VERSION_MAX, VERSION_MIN } from './fields.js';
import { WATCHER_ID_BYTES_MAX } from './results.js';
import { isEphemeralMode, isTtlMode } from './txns.js';
import { utf8ByteLength } from './writer.js';

const SAFE_MAX = Number.MAX_SAFE_INTEGER;

/** A well-formed string (any code points, unicode included) of at most `maxBytes` UTF-8 bytes. */
export function cappedString(maxBytes: number, maxLength = 12): fc.Arbitrary<string> {
  return fc
    .oneof(
      fc.string({ unit: 'binary', maxLength }),
      fc.string({ unit: 'grapheme-ascii', maxLength }),
      fc.string({ unit: 'grapheme', maxLength }),
    )
    .filter((value) => utf8ByteLength(value) <= maxBytes);
}

/** One path component: no "/", at least one character. */
export const nameArb: fc.Arbitrary<string> = fc
  .oneof(fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 8 }), fc.string({ unit: 'binary', minLength: 1, maxLength: 6 }))
  .filter((name) => !name.includes('/'));

/** Mostly well-formed paths, sometimes any string (the codec does not judge path syntax). */
export const pathArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.array(nameArb, { maxLength: 4 }).map((names) => `/${names.join('/')}`) },
  { weight: 1, arbitrary: cappedString(PATH_BYTES_MAX) },
);

export const dataArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 4, arbitrary: fc.uint8Array({ maxLength: 32 }) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 200, maxLength: 2000 }) },
);

export const sessionIdArb: fc.Arbitrary<string> = fc.oneof(
  fc.stringMatching(/^[0-9a-f]{16}$/),
  cappedString(SESSION_ID_BYTES_MAX, 16),
);

/** A version: any Java int (ZooKeeper's versions wrap), -1 meaning any in a request. */
export const versionArb: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(-1, 0, 1, VERSION_MIN, VERSION_MAX),
  fc.integer({ min: -1, max: 1_000_000 }),
  fc.integer({ min: VERSION_MIN, max: VERSION_MAX }),
);

/** A zxid or a count: >= 0. */
export const counterArb: fc.Arbitrary<number> = fc.oneof(fc.constantFrom(0, 1, SAFE_MAX), fc.nat(), fc.maxSafeNat());

/** A leader clock reading: any finite number, though mostly ms since the epoch. */
export const timeArb: fc.Arbitrary<number> = fc.oneof(
  fc.integer({ min: 0, max: 4_102_444_800_000 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

export const permsArb: fc.Arbitrary<number> = fc.integer({ min: 0, max: 31 });

export const idArb: fc.Arbitrary<Id> = fc.oneof(
  fc.constantFrom<Id>({ scheme: 'world', id: 'anyone' }, { scheme: 'auth', id: '' }),
  fc.record({ scheme: cappedString(ACL_ID_BYTES_MAX, 8), id: cappedString(ACL_ID_BYTES_MAX, 24) }),
);

export const aclArb: fc.Arbitrary<ACL[]> = fc.array(fc.record({ perms: permsArb, id: idArb }), { maxLength: 4 });

export const createModeArb: fc.Arbitrary<CreateMode> = fc.constantFrom(...CREATE_MODE_TAGS);

export const errorNameArb: fc.Arbitrary<ErrorName> = fc.constantFrom(...(Object.keys(ErrorCode) as ErrorName[]));
export const failureNameArb: fc.Arbitrary<FailureName> = errorNameArb.filter(
  (name): name is FailureName => name !== 'OK',
);

export const statArb: fc.Arbitrary<Stat> = fc.record({
  czxid: counterArb,
  mzxid: counterArb,
  pzxid: counterArb,
  ctime: timeArb,
  mtime: timeArb,
  version: versionArb,
  cversion: versionArb,
  aversion: versionArb,
  ephemeralOwner: fc.option(sessionIdArb, { nil: null }),
  dataLength: fc.integer({ min: 0, max: 1000 }),
  numChildren: fc.integer({ min: 0, max: 1000 }),
});

// --- Requests -------------------------------------------------------------------------------

export const createRequestArb: fc.Arbitrary<CreateRequest> = fc.record(
  {
    op: fc.constant('create' as const),
    path: pathArb,
    data: dataArb,
    acl: aclArb,
    mode: createModeArb,
    ttlMs: fc.integer({ min: 0, max: TTL_MS_MAX }),
  },
  { requiredKeys: ['op', 'path', 'data', 'acl', 'mode'] },
);
const deleteRequestArb: fc.Arbitrary<DeleteRequest> = fc.record({
  op: fc.constant('delete' as const),
  path: pathArb,
  version: versionArb,
});
const setDataRequestArb: fc.Arbitrary<SetDataRequest> = fc.record({
  op: fc.constant('setData' as const),
  path: pathArb,
  data: dataArb,
  version: versionArb,
});
const checkRequestArb: fc.Arbitrary<CheckRequest> = fc.record({
  op: fc.constant('check' as const),
  path: pathArb,
  version: versionArb,
});
export const multiOpArb: fc.Arbitrary<MultiOp> = fc.oneof(createRequestArb, deleteRequestArb, setDataRequestArb, checkRequestArb);

export const requestArb: fc.Arbitrary<Request> = fc.oneof(
  createRequestArb,
  deleteRequestArb,
  setDataRequestArb,
  fc.record({ op: fc.constant('setACL' as const), path: pathArb, acl: aclArb, version: versionArb }),
  fc.record({ op: fc.constant('multi' as const), ops: fc.array(multiOpArb, { maxLength: 6 }) }),
  fc.record({ op: fc.constant('createSession' as const), sessionId: sessionIdArb, timeoutMs: fc.oneof(fc.nat(), fc.constant(SAFE_MAX)) }),
  fc.record({ op: fc.constant('closeSession' as const), sessionId: sessionIdArb }),
  fc.record({ op: fc.constant('deleteContainer' as const), path: pathArb }),
  fc.record({ op: fc.constant('getData' as const), path: pathArb, watch: fc.boolean() }),
  fc.record({ op: fc.constant('exists' as const), path: pathArb, watch: fc.boolean() }),
  fc.record({ op: fc.constant('getChildren' as const), path: pathArb, watch: fc.boolean() }),
  fc.record({ op: fc.constant('getACL' as const), path: pathArb }),
  fc.record({ op: fc.constant('getEphemerals' as const), prefix: pathArb }),
  fc.record({ op: fc.constant('getAllChildrenNumber' as const), path: pathArb }),
  fc.record({ op: fc.constant('sync' as const), path: pathArb }),
);

export const requestContextArb: fc.Arbitrary<RequestContext> = fc.record({
  sessionId: sessionIdArb,
  auth: fc.array(idArb, { maxLength: AUTH_IDS_MAX }),
});

// --- Txns -----------------------------------------------------------------------------------

export const createTxnArb: fc.Arbitrary<CreateTxn> = fc
  .record({
    path: pathArb,
    data: dataArb,
    acl: aclArb,
    mode: createModeArb,
    owner: sessionIdArb,
    ttlMs: fc.integer({ min: 1, max: TTL_MS_MAX }),
    parentCversion: versionArb,
  })
  .map(({ path, data, acl, mode, owner, ttlMs, parentCversion }) => ({
    type: 'create' as const,
    path,
    data,
    acl,
    mode,
    ephemeralOwner: isEphemeralMode(mode) ? owner : null,
    ttlMs: isTtlMode(mode) ? ttlMs : 0,
    parentCversion,
  }));

type SubTxn = Extract<TxnBody, { type: 'multi' }>['txns'][number];
const subTxnArb: fc.Arbitrary<SubTxn> = fc.oneof(
  createTxnArb,
  fc.record({ type: fc.constant('delete' as const), path: pathArb }),
  fc.record({ type: fc.constant('setData' as const), path: pathArb, data: dataArb, version: versionArb }),
  fc.record({ type: fc.constant('check' as const), path: pathArb, version: versionArb }),
  fc.record({ type: fc.constant('error' as const), code: errorNameArb }),
);

export const txnBodyArb: fc.Arbitrary<TxnBody> = fc.oneof(
  subTxnArb,
  fc.record({ type: fc.constant('setACL' as const), path: pathArb, acl: aclArb, version: versionArb }),
  fc.record({ type: fc.constant('multi' as const), txns: fc.array(subTxnArb, { maxLength: 6 }) }),
  fc.record({ type: fc.constant('createSession' as const), sessionId: sessionIdArb, timeoutMs: fc.integer({ min: 1, max: SAFE_MAX }) }),
  fc.record({ type: fc.constant('closeSession' as const), sessionId: sessionIdArb }),
  fc.record({ type: fc.constant('deleteContainer' as const), path: pathArb }),
);

export const txnHeaderArb: fc.Arbitrary<TxnHeader> = fc.record({
  sessionId: fc.option(sessionIdArb, { nil: null }),
  time: timeArb,
});

export const txnArb: fc.Arbitrary<Txn> = fc.record({ header: txnHeaderArb, body: txnBodyArb });

// --- Results --------------------------------------------------------------------------------

export const opResultArb: fc.Arbitrary<OpResult> = fc.oneof(
  fc.record({ op: fc.constant('create' as const), path: pathArb, stat: statArb }),
  fc.constant({ op: 'delete' as const }),
  fc.record({ op: fc.constant('setData' as const), stat: statArb }),
  fc.constant({ op: 'check' as const }),
  fc.record({ op: fc.constant('error' as const), code: errorNameArb }),
);

export const writeResultArb: fc.Arbitrary<WriteResult> = fc.oneof(
  fc.record({ ok: fc.constant(true as const), op: fc.constant('create' as const), path: pathArb, stat: statArb }),
  fc.constant({ ok: true as const, op: 'delete' as const }),
  fc.record({ ok: fc.constant(true as const), op: fc.constant('setData' as const), stat: statArb }),
  fc.record({ ok: fc.constant(true as const), op: fc.constant('setACL' as const), stat: statArb }),
  fc.record({ ok: fc.constant(true as const), op: fc.constant('multi' as const), results: fc.array(opResultArb, { maxLength: 6 }) }),
  fc.constant({ ok: true as const, op: 'createSession' as const }),
  fc.constant({ ok: true as const, op: 'closeSession' as const }),
  fc.constant({ ok: true as const, op: 'deleteContainer' as const }),
  fc.record(
    { ok: fc.constant(false as const), code: failureNameArb, path: pathArb, results: fc.array(opResultArb, { maxLength: 6 }) },
    { requiredKeys: ['ok', 'code'] },
  ),
);

export const readResultArb: fc.Arbitrary<ReadResult> = fc.oneof(
  fc.record({ ok: fc.constant(true as const), op: fc.constant('getData' as const), data: dataArb, stat: statArb }),
  fc.record({ ok: fc.constant(true as const), op: fc.constant('exists' as const), stat: fc.option(statArb, { nil: null }) }),
  fc.record({ ok: fc.constant(true as const), op: fc.constant('getChildren' as const), children: fc.array(nameArb, { maxLength: 8 }), stat: statArb }),
  fc.record({ ok: fc.constant(true as const), op: fc.constant('getACL' as const), acl: aclArb, stat: statArb }),
  fc.record({ ok: fc.constant(true as const), op: fc.constant('getEphemerals' as const), paths: fc.array(pathArb, { maxLength: 8 }) }),
  fc.record({ ok: fc.constant(true as const), op: fc.constant('getAllChildrenNumber' as const), count: fc.integer({ min: 0, max: 1_000_000 }) }),
  fc.record({ ok: fc.constant(true as const), op: fc.constant('sync' as const), path: pathArb }),
  fc.record({ ok: fc.constant(false as const), code: failureNameArb, path: pathArb }, { requiredKeys: ['ok', 'code'] }),
);

export const watchEventTypeArb: fc.Arbitrary<WatchEventType> = fc.constantFrom(
  'NodeCreated',
  'NodeDeleted',
  'NodeDataChanged',
  'NodeChildrenChanged',
);

export const watchTriggerArb: fc.Arbitrary<WatchTrigger> = fc.record(
  { type: watchEventTypeArb, path: pathArb, zxid: counterArb, acl: aclArb },
  { requiredKeys: ['type', 'path', 'zxid'] },
);

export const watchEventArb: fc.Arbitrary<WatchEvent> = fc.record({
  watcher: fc.oneof(sessionIdArb, cappedString(WATCHER_ID_BYTES_MAX, 40)),
  type: watchEventTypeArb,
  path: pathArb,
  zxid: counterArb,
});

// --- Snapshots ------------------------------------------------------------------------------

/** A few shared ACL lists (as real trees have) and the odd unique one. */
const sharedAcls: readonly ACL[][] = [
  [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }],
  [{ perms: 1, id: { scheme: 'world', id: 'anyone' } }],
  [
    { perms: 31, id: { scheme: 'digest', id: 'user:abc=' } },
    { perms: 1, id: { scheme: 'world', id: 'anyone' } },
  ],
];

interface NodePlan {
  parent: number;
  name: string;
  kind: NodeKind;
  acl: number | ACL[];
  data: Uint8Array;
  zxids: [number, number, number];
  times: [number, number];
  versions: [number, number, number];
  ttlMs: number;
  owner: number;
}

const nodePlanArb: fc.Arbitrary<NodePlan> = fc.record({
  parent: fc.nat(),
  name: nameArb,
  kind: fc.constantFrom<NodeKind>('persistent', 'persistent', 'ephemeral', 'container', 'ttl'),
  acl: fc.oneof({ weight: 5, arbitrary: fc.nat({ max: sharedAcls.length - 1 }) }, { weight: 1, arbitrary: aclArb }),
  data: dataArb,
  zxids: fc.tuple(fc.nat({ max: 1000 }), fc.nat({ max: 1000 }), fc.nat({ max: 1000 })),
  times: fc.tuple(timeArb, timeArb),
  versions: fc.tuple(versionArb, versionArb, versionArb),
  ttlMs: fc.integer({ min: 1, max: TTL_MS_MAX }),
  owner: fc.nat(),
});

/** Builds a valid snapshot from plans: each plan hangs a node under an earlier non-ephemeral
 *  one (duplicates dropped), ephemerals get an existing session as owner, then all is sorted. */
function buildSnapshot(sessionIds: string[], timeouts: number[], plans: NodePlan[], extraZxid: number): TreeSnapshot {
  const sessions: SessionRecord[] = [...new Set(sessionIds)]
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((sessionId, index) => ({ sessionId, timeoutMs: timeouts[index % Math.max(1, timeouts.length)] ?? 1 }));
  const root: NodeRecord = {
    path: '/',
    data: new Uint8Array(0),
    acl: sharedAcls[0] as ACL[],
    kind: 'persistent',
    ttlMs: 0,
    czxid: 0,
    mzxid: 0,
    pzxid: 0,
    ctime: 0,
    mtime: 0,
    version: 0,
    cversion: 0,
    aversion: 0,
    ephemeralOwner: null,
  };
  const nodes: NodeRecord[] = [root];
  const containers: NodeRecord[] = [root];
  const paths = new Set(['/']);
  let lastZxid = 0;
  for (const plan of plans) {
    const parent = containers[plan.parent % containers.length] as NodeRecord;
    const path = parent.path === '/' ? `/${plan.name}` : `${parent.path}/${plan.name}`;
    if (paths.has(path)) continue;
    const kind: NodeKind = plan.kind === 'ephemeral' && sessions.length === 0 ? 'persistent' : plan.kind;
    const [czxid, mzxidDelta, pzxidDelta] = plan.zxids;
    const node: NodeRecord = {
      path,
      data: plan.data,
      acl: typeof plan.acl === 'number' ? (sharedAcls[plan.acl] as ACL[]) : plan.acl,
      kind,
      ttlMs: kind === 'ttl' ? plan.ttlMs : 0,
      czxid,
      mzxid: czxid + mzxidDelta,
      pzxid: czxid + pzxidDelta,
      ctime: plan.times[0],
      mtime: plan.times[1],
      version: plan.versions[0],
      cversion: plan.versions[1],
      aversion: plan.versions[2],
      ephemeralOwner: kind === 'ephemeral' ? (sessions[plan.owner % sessions.length] as SessionRecord).sessionId : null,
    };
    lastZxid = Math.max(lastZxid, node.mzxid, node.pzxid);
    paths.add(path);
    nodes.push(node);
    if (kind !== 'ephemeral') containers.push(node);
  }
  nodes.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { lastZxid: lastZxid + extraZxid, nodes, sessions };
}

export const snapshotArb: fc.Arbitrary<TreeSnapshot> = fc
  .record({
    sessionIds: fc.array(sessionIdArb, { maxLength: 5 }),
    timeouts: fc.array(fc.integer({ min: 1, max: 60_000 }), { minLength: 1, maxLength: 5 }),
    plans: fc.array(nodePlanArb, { maxLength: 25 }),
    extraZxid: fc.oneof(fc.constant(0), fc.nat()),
  })
  .map(({ sessionIds, timeouts, plans, extraZxid }) => buildSnapshot(sessionIds, timeouts, plans, extraZxid));
