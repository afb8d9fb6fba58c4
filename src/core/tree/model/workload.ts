/**
 * Test support: random workloads for the data tree, and a driver that runs one on a TreeHarness
 * and on the reference model in lockstep, comparing every reply and Stat.
 *
 * A step is generated abstractly (fast-check shrinks it) and made concrete only when it runs,
 * against the model's state at that moment: "an existing node" is an index into the model's
 * current paths, "the current version" is read from the model. Paths come from a two-letter
 * alphabet three deep, so creates collide (NODEEXISTS), parents are missing (NONODE), deletes
 * meet children (NOTEMPTY); a few ACLs lock out the anonymous caller (NOAUTH) or cannot be
 * stored (INVALIDACL); sessions close mid-run (SESSIONEXPIRED, ephemerals vanish); malformed
 * paths, bad TTLs, non-int versions and writes into /zookeeper are BADARGUMENTS.
 */

import fc from 'fast-check';
import { assert } from '../../assert.js';
import type { DataTree } from '../data-tree.js';
import { TreeHarness } from '../harness.js';
import {
  CREATE_MODES,
  OPEN_ACL_UNSAFE,
  Perms,
  type ACL,
  type CreateMode,
  type Id,
  type MultiOp,
  type ReadRequest,
  type RequestContext,
  type Txn,
  type WriteRequest,
  type WriteResult,
} from '../types.js';
import { ReferenceTree, type ModelMutation } from './reference-tree.js';

// --- Vocabulary ------------------------------------------------------------------------------

export const SESSIONS = ['s1', 's2', 's3'] as const;
/** Never opened: every write from it is SESSIONEXPIRED. */
const GHOST_SESSION = 'ghost';
const NAMES = ['a', 'b'] as const;
/** Depth of generated paths: 2 + 4 + 8 = 14 distinct paths, so collisions are the norm. */
const PATH_DEPTH_MAX = 3;
/** The leader clock's start (ms since epoch) and the most one step moves it. */
const START_TIME_MS = 1_700_000_000_000;
const STEP_TIME_MS_MAX = 1000;
/** Writes prepared together before any is applied: enough to stack overlay records. */
const BATCH_WRITES_MAX = 4;
const MULTI_OPS_MAX = 4;

export const ALICE: Id = { scheme: 'digest', id: 'alice:aGFzaA==' };
export const BOB: Id = { scheme: 'digest', id: 'bob:Ym9i' };
export const SUPER: Id = { scheme: 'super', id: '' };

const world = (perms: number): ACL => ({ perms, id: { scheme: 'world', id: 'anyone' } });
const digest = (perms: number, identity: Id): ACL => ({ perms, id: { ...identity } });
const auth = (perms: number): ACL => ({ perms, id: { scheme: 'auth', id: '' } });

/** ACL lists a request may carry: open; some that lock out the anonymous caller; some that
 *  fixupACL refuses (INVALIDACL); duplicates that fixupACL folds. */
const ACLS: readonly (readonly ACL[])[] = [
  OPEN_ACL_UNSAFE,
  [world(Perms.READ)],
  [world(Perms.READ | Perms.CREATE | Perms.DELETE)],
  [digest(Perms.ALL, ALICE), world(Perms.READ)],
  [digest(Perms.ALL, BOB)],
  [auth(Perms.ALL)],
  [auth(Perms.ALL), world(Perms.READ)],
  [world(Perms.ALL), world(Perms.ALL)],
  [digest(Perms.ALL, ALICE), digest(Perms.ALL, ALICE), world(Perms.CREATE)],
  // fixupACL folds duplicates before expanding `auth`, not after: with alice's identity, two entries.
  [auth(Perms.ALL), digest(Perms.ALL, ALICE)],
  [],
  [{ perms: Perms.ALL, id: { scheme: 'ip', id: '10.0.0.1' } }],
  [{ perms: Perms.ALL, id: { scheme: 'world', id: 'nobody' } }],
  [{ perms: Perms.ALL, id: { scheme: 'digest', id: 'nocolon' } }],
];

const AUTHS: readonly (readonly Id[])[] = [[], [], [], [ALICE], [BOB], [ALICE, BOB], [SUPER]];

/** Paths the alphabet cannot make: the reserved subtree, the root, and malformed ones
 *  (PathUtils.validatePath: empty, relative, trailing or double slash, "." and "..", control
 *  characters, surrogates and private use as Java chars). Some are fine with a sequential suffix. */
const ODD_PATHS = [
  '/',
  '/zookeeper',
  '/zookeeper/quota',
  '/zookeeper/config',
  '/zookeeper/a',
  '/zookeeper/',
  '/\u00e9',
  '',
  'a',
  'a/b',
  '/a/',
  '//a',
  '/a//b',
  '/.',
  '/a/..',
  '/a/./b',
  '/a\u0000',
  '/a\u0001b',
  '/\u007f',
  '/\u{1f600}',
  '/\ue000',
] as const;

// --- Abstract steps ----------------------------------------------------------------------------

export type PathSpec =
  | { kind: 'fixed'; path: string }
  /** The model's index-th current node (mod the count) other than the root and /zookeeper (ODD_PATHS
   *  has those); the root while there is none. */
  | { kind: 'existing'; index: number }
  /** A new name under the model's index-th current path. */
  | { kind: 'under'; index: number; name: string };

export type VersionSpec = { kind: 'any' } | { kind: 'current'; delta: number } | { kind: 'fixed'; value: number };

export type OpSpec =
  | { op: 'create'; path: PathSpec; data: Uint8Array; acl: number; mode: CreateMode; ttlMs: number | undefined }
  | { op: 'delete'; path: PathSpec; version: VersionSpec }
  | { op: 'setData'; path: PathSpec; data: Uint8Array; version: VersionSpec }
  | { op: 'check'; path: PathSpec; version: VersionSpec };

export type WriteSpec =
  | OpSpec
  | { op: 'setACL'; path: PathSpec; acl: number; version: VersionSpec }
  | { op: 'multi'; ops: OpSpec[] }
  | { op: 'createSession'; session: number }
  | { op: 'closeSession'; session: number };

export interface CallerSpec {
  /** Index into SESSIONS, or SESSIONS.length for the ghost. */
  session: number;
  auth: number;
}

export type ReadSpec =
  | { op: 'getData' | 'exists' | 'getChildren' | 'getACL' | 'getAllChildrenNumber'; path: PathSpec; caller: CallerSpec }
  | { op: 'getEphemerals'; prefix: PathSpec; caller: CallerSpec };

export interface StepSpec {
  /** Prepared in order, then applied in order; one write and `batched` false is prep+apply. */
  writes: { write: WriteSpec; caller: CallerSpec }[];
  batched: boolean;
  reads: ReadSpec[];
  advanceMs: number;
}

const alphabetPathArb = fc
  .array(fc.constantFrom(...NAMES), { minLength: 1, maxLength: PATH_DEPTH_MAX })
  .map((names) => `/${names.join('/')}`);

const fixedPathArb: fc.Arbitrary<PathSpec> = alphabetPathArb.map((path) => ({ kind: 'fixed' as const, path }));
const existingPathArb: fc.Arbitrary<PathSpec> = fc.nat().map((index) => ({ kind: 'existing' as const, index }));
const underPathArb: fc.Arbitrary<PathSpec> = fc.record({ kind: fc.constant('under' as const), index: fc.nat(), name: fc.constantFrom(...NAMES) });
const oddPathArb: fc.Arbitrary<PathSpec> = fc.constantFrom(...ODD_PATHS).map((path) => ({ kind: 'fixed' as const, path }));

/** Where a create goes: mostly under an existing node or on the alphabet (parents may be missing),
 *  sometimes onto an existing node (NODEEXISTS) or an odd path. */
const createPathArb: fc.Arbitrary<PathSpec> = fc.oneof(
  { weight: 4, arbitrary: underPathArb },
  { weight: 4, arbitrary: fixedPathArb },
  { weight: 1, arbitrary: existingPathArb },
  { weight: 1, arbitrary: oddPathArb },
);

/** What delete, setData, setACL, check and reads aim at: mostly a node that exists. */
export const targetPathArb: fc.Arbitrary<PathSpec> = fc.oneof(
  { weight: 6, arbitrary: existingPathArb },
  { weight: 3, arbitrary: fixedPathArb },
  { weight: 1, arbitrary: oddPathArb },
);

const versionSpecArb: fc.Arbitrary<VersionSpec> = fc.oneof(
  { weight: 5, arbitrary: fc.constant({ kind: 'any' as const }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('current' as const), delta: fc.constantFrom(0, 0, 0, 1, -1) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('fixed' as const), value: fc.constantFrom(0, 1, 2) }) },
  // Not Java ints: BADARGUMENTS.
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('fixed' as const), value: fc.constantFrom(2 ** 31, -(2 ** 31) - 1, 0.5) }) },
);

const dataArb = fc.uint8Array({ maxLength: 4 });
/** Three in four requests carry the open ACL, so trees grow; the rest spread over every list. */
const aclIndexArb = fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.nat({ max: ACLS.length - 1 }) });

const createSpecArb: fc.Arbitrary<OpSpec> = fc
  .record({
    path: createPathArb,
    data: dataArb,
    acl: aclIndexArb,
    mode: fc.constantFrom(...CREATE_MODES),
    // TTL modes need 0 < ttlMs <= TTL_MS_MAX; now and then one is missing or zero (BADARGUMENTS).
    ttl: fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 1, max: 5000 }) }, { weight: 1, arbitrary: fc.constantFrom(0, undefined) }),
    // Any other mode must carry none (EphemeralType.validateTTL: BADARGUMENTS); now and then one does.
    strayTtl: fc.oneof({ weight: 15, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constant(1000) }),
  })
  .map(({ path, data, acl, mode, ttl, strayTtl }) => ({ op: 'create' as const, path, data, acl, mode, ttlMs: mode.endsWith('_ttl') ? ttl : strayTtl }));

export const opSpecArb: fc.Arbitrary<OpSpec> = fc.oneof(
  { weight: 6, arbitrary: createSpecArb },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), path: targetPathArb, version: versionSpecArb }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('setData' as const), path: targetPathArb, data: dataArb, version: versionSpecArb }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('check' as const), path: targetPathArb, version: versionSpecArb }) },
);

const sessionIndexArb = fc.nat({ max: SESSIONS.length - 1 });

export const writeSpecArb: fc.Arbitrary<WriteSpec> = fc.oneof(
  { weight: 10, arbitrary: opSpecArb.filter((spec) => spec.op !== 'check') },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('setACL' as const), path: targetPathArb, acl: aclIndexArb, version: versionSpecArb }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('multi' as const), ops: fc.array(opSpecArb, { maxLength: MULTI_OPS_MAX }) }) },
  // Sessions reopen twice as often as they close: most of the time two or three are open.
  { weight: 2, arbitrary: fc.record({ op: fc.constant('createSession' as const), session: sessionIndexArb }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('closeSession' as const), session: sessionIndexArb }) },
);

export const callerSpecArb: fc.Arbitrary<CallerSpec> = fc.record({
  session: fc.oneof({ weight: 24, arbitrary: sessionIndexArb }, { weight: 1, arbitrary: fc.constant(SESSIONS.length) }),
  auth: fc.nat({ max: AUTHS.length - 1 }),
});

const readSpecArb: fc.Arbitrary<ReadSpec> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      op: fc.constantFrom('getData' as const, 'exists' as const, 'getChildren' as const, 'getACL' as const, 'getAllChildrenNumber' as const),
      path: targetPathArb,
      caller: callerSpecArb,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('getEphemerals' as const),
      // Prefixes are valid paths (ZooKeeper does not validate them; neither do we generate bad ones).
      prefix: fc.oneof(
        fc.constant<PathSpec>({ kind: 'fixed', path: '/' }),
        alphabetPathArb.map((path): PathSpec => ({ kind: 'fixed', path })),
      ),
      caller: callerSpecArb,
    }),
  },
);

export const stepSpecArb: fc.Arbitrary<StepSpec> = fc.record({
  writes: fc.oneof(
    { weight: 3, arbitrary: fc.array(fc.record({ write: writeSpecArb, caller: callerSpecArb }), { minLength: 1, maxLength: 1 }) },
    { weight: 1, arbitrary: fc.array(fc.record({ write: writeSpecArb, caller: callerSpecArb }), { minLength: 2, maxLength: BATCH_WRITES_MAX }) },
  ),
  batched: fc.boolean(),
  reads: fc.array(readSpecArb, { maxLength: 2 }),
  advanceMs: fc.nat({ max: STEP_TIME_MS_MAX }),
});

/** A run: `steps` steps after every session has opened. */
export function workloadArb(stepsMax: number): fc.Arbitrary<StepSpec[]> {
  return fc.array(stepSpecArb, { minLength: 1, maxLength: stepsMax, size: 'max' });
}

// --- Making a step concrete --------------------------------------------------------------------

function resolvePath(spec: PathSpec, model: ReferenceTree): string {
  if (spec.kind === 'fixed') return spec.path;
  const paths = model.paths().filter((path) => path !== '/' && !isReserved(path));
  const base = paths.length === 0 ? '/' : (paths[spec.index % paths.length] as string);
  if (spec.kind === 'existing') return base;
  return base === '/' ? `/${spec.name}` : `${base}/${spec.name}`;
}

function resolveVersion(spec: VersionSpec, model: ReferenceTree, path: string, field: 'version' | 'aversion'): number {
  if (spec.kind === 'any') return -1;
  if (spec.kind === 'fixed') return spec.value;
  const node = model.node(path);
  return (node === undefined ? 0 : node[field]) + spec.delta;
}

function resolveOp(spec: OpSpec, model: ReferenceTree): MultiOp {
  const path = resolvePath(spec.path, model);
  switch (spec.op) {
    case 'create': {
      const request = { op: 'create' as const, path, data: spec.data.slice(), acl: aclAt(spec.acl), mode: spec.mode };
      return spec.ttlMs === undefined ? request : { ...request, ttlMs: spec.ttlMs };
    }
    case 'delete':
      return { op: 'delete', path, version: resolveVersion(spec.version, model, path, 'version') };
    case 'setData':
      return { op: 'setData', path, data: spec.data.slice(), version: resolveVersion(spec.version, model, path, 'version') };
    case 'check':
      return { op: 'check', path, version: resolveVersion(spec.version, model, path, 'version') };
  }
}

/** The concrete request for `spec` by `caller` against the model's state now. */
export function resolveWrite(spec: WriteSpec, model: ReferenceTree): WriteRequest {
  assert(spec.op !== 'check', 'workload: check is only generated inside a multi');
  switch (spec.op) {
    case 'setACL': {
      const path = resolvePath(spec.path, model);
      const acl = aclAt(spec.acl);
      return { op: 'setACL', path, acl, version: resolveVersion(spec.version, model, path, 'aversion') };
    }
    case 'multi':
      return { op: 'multi', ops: spec.ops.map((op) => resolveOp(op, model)) };
    case 'createSession': {
      // Reopen a closed session when there is one; else it is already open (BADARGUMENTS).
      const closed = SESSIONS.filter((sessionId) => !model.hasSession(sessionId));
      const sessionId = closed.length > 0 ? (closed[spec.session % closed.length] as string) : (SESSIONS[spec.session] as string);
      return { op: 'createSession', sessionId, timeoutMs: 10_000 };
    }
    case 'closeSession':
      return { op: 'closeSession', sessionId: SESSIONS[spec.session] as string };
    default:
      return resolveOp(spec, model) as WriteRequest;
  }
}

export function resolveRead(spec: ReadSpec, model: ReferenceTree): ReadRequest {
  if (spec.op === 'getEphemerals') return { op: 'getEphemerals', prefix: resolvePath(spec.prefix, model) };
  const path = resolvePath(spec.path, model);
  if (spec.op === 'getData' || spec.op === 'exists' || spec.op === 'getChildren') return { op: spec.op, path, watch: false };
  return { op: spec.op, path };
}

function isReserved(path: string): boolean {
  return path === '/zookeeper' || path.startsWith('/zookeeper/');
}

function aclAt(index: number): ACL[] {
  return (ACLS[index] as readonly ACL[]).map((entry) => ({ perms: entry.perms, id: { ...entry.id } }));
}

export function contextOf(spec: CallerSpec): RequestContext {
  return {
    sessionId: spec.session < SESSIONS.length ? (SESSIONS[spec.session] as string) : GHOST_SESSION,
    auth: (AUTHS[spec.auth] as readonly Id[]).map((identity) => ({ ...identity })),
  };
}

// --- Comparing -------------------------------------------------------------------------------

/** A canonical text of a plain value: bytes as number lists, object keys sorted, undefined fields
 *  dropped, and a failure's `path` dropped (the log does not carry it: README). */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_key: string, inner: unknown) => {
    if (inner instanceof Uint8Array) return { bytes: [...inner] };
    if (inner !== null && typeof inner === 'object' && !Array.isArray(inner)) {
      const record = inner as Record<string, unknown>;
      const sorted: Record<string, unknown> = {};
      const failed = record.ok === false;
      for (const name of Object.keys(record).sort()) {
        if (record[name] === undefined || (failed && name === 'path')) continue;
        sorted[name] = record[name];
      }
      return sorted;
    }
    return inner;
  });
}

/** The tree and the model disagree: says where, on what, and both sides. */
export class Divergence extends Error {
  constructor(where: string, subject: unknown, expected: unknown, actual: unknown) {
    super(`${where}\n  on:       ${canonical(subject)}\n  model:    ${canonical(expected)}\n  tree:     ${canonical(actual)}`);
    this.name = 'Divergence';
  }
}

function agree(where: string, subject: unknown, expected: unknown, actual: unknown): void {
  if (canonical(expected) !== canonical(actual)) throw new Divergence(where, subject, expected, actual);
}

// --- The driver ------------------------------------------------------------------------------

export interface DriveOptions {
  /** The model variant (a mutant, to show the comparison catches it). */
  mutation?: ModelMutation;
  /** Compare the tree with the model (the properties that only need a random tree skip it). */
  compare?: boolean;
  /** Counts every reply's code ('OK' for success), for the coverage check. */
  codes?: Map<string, number>;
}

export interface Driven {
  harness: TreeHarness;
  model: ReferenceTree;
  /** Every txn in log order with its zxid (enough to rebuild the tree anywhere) and the tree's reply. */
  log: { txn: Txn; zxid: number; result: WriteResult }[];
}

/** A write to run: concrete, or made concrete against the model when its turn comes. */
interface PlannedWrite {
  request: WriteRequest | ((model: ReferenceTree) => WriteRequest);
  caller: RequestContext | null;
}

/** A write the model has answered, waiting for the tree's answer. */
interface Expected {
  request: WriteRequest;
  result: WriteResult;
  touched: string[];
}

/** A harness and a model fed the same requests; every answer of the tree is checked against the model. */
class Lockstep {
  readonly harness = new TreeHarness();
  readonly model: ReferenceTree;
  readonly log: Driven['log'] = [];

  constructor(private readonly options: DriveOptions & { compare: boolean }) {
    this.model = new ReferenceTree(options.mutation ?? 'none');
    this.harness.now = START_TIME_MS;
  }

  /** Prepares `writes` in order (the model answers each at once, at the zxid it gets); applies each
   *  at once, or, `batched`, all of them after the last is prepared, so the overlay holds them. */
  writes(writes: readonly PlannedWrite[], batched: boolean, where: string): void {
    const expected: Expected[] = [];
    for (const write of writes) {
      const request = typeof write.request === 'function' ? write.request(this.model) : write.request;
      const caller = { sessionId: write.caller?.sessionId ?? null, auth: write.caller?.auth ?? [], time: this.harness.now };
      const zxid = this.harness.nextZxid;
      expected.push({ request, ...this.model.write(request, { ...caller, zxid }) });
      if (batched) {
        assert(this.harness.prepOnly(request, caller).zxid === zxid, 'workload: the harness hands out zxids in order');
        this.count('batched-writes');
      } else {
        const run = this.harness.run(request, caller);
        assert(run.zxid === zxid, 'workload: the harness hands out zxids in order');
        this.reply(`${where}: reply to write ${expected.length - 1}`, expected.at(-1) as Expected, run);
      }
    }
    if (batched) {
      const runs = this.harness.applyPrepared();
      assert(runs.length === expected.length, 'workload: every held txn applied');
      runs.forEach((run, index) => this.reply(`${where}: reply to write ${index}`, expected[index] as Expected, run));
    }
    if (!this.options.compare) return;
    for (const { touched, request } of expected) {
      for (const path of touched) agree(`${where}: Stat of touched ${JSON.stringify(path)}`, request, this.model.stat(path), this.harness.tree.stat(path));
    }
  }

  reads(reads: readonly ReadSpec[], where: string): void {
    if (!this.options.compare) return;
    for (const read of reads) {
      const request = resolveRead(read, this.model);
      const ctx = contextOf(read.caller);
      agree(`${where}: read`, { request, ctx }, this.model.read(request, ctx), this.harness.tree.read(request, ctx));
    }
  }

  private reply(where: string, expected: Expected, run: { txn: Txn; zxid: number; result: WriteResult }): void {
    this.log.push({ txn: run.txn, zxid: run.zxid, result: run.result });
    const result = run.result;
    this.count(result.ok ? 'OK' : result.code);
    if (!result.ok) for (const sub of result.results ?? []) if (sub.op === 'error' && sub.code === 'RUNTIMEINCONSISTENCY') this.count('multi:RUNTIMEINCONSISTENCY');
    if (this.options.compare) agree(where, expected.request, expected.result, result);
  }

  private count(code: string): void {
    this.options.codes?.set(code, (this.options.codes.get(code) ?? 0) + 1);
  }
}

/** Runs `steps`, after every session has opened, on a fresh harness and model; with `compare` (the
 *  default), throws a Divergence at the first reply, touched Stat or read on which they disagree,
 *  and at the end compares the whole state. */
export function drive(steps: readonly StepSpec[], options: DriveOptions = {}): Driven {
  const lockstep = new Lockstep({ ...options, compare: options.compare ?? true });
  const prelude = SESSIONS.map((sessionId): PlannedWrite => ({ request: { op: 'createSession', sessionId, timeoutMs: 10_000 }, caller: null }));
  lockstep.writes(prelude, false, 'prelude');
  steps.forEach((step, stepIndex) => {
    lockstep.harness.now += step.advanceMs;
    const writes = step.writes.map(({ write, caller }): PlannedWrite => {
      const ctx = write.op === 'createSession' || write.op === 'closeSession' ? null : contextOf(caller);
      return { request: (model) => resolveWrite(write, model), caller: ctx };
    });
    const batched = step.batched && writes.length > 1;
    lockstep.writes(writes, batched, `step ${stepIndex}${batched ? ' (batched)' : ''}`);
    lockstep.reads(step.reads, `step ${stepIndex}`);
  });
  if (options.compare ?? true) compareWhole(lockstep.harness.tree, lockstep.model);
  return { harness: lockstep.harness, model: lockstep.model, log: lockstep.log };
}

/** Every node's record (data, ACL, kind, TTL, owner, every stored stat field), every Stat and
 *  child list, the sessions and lastZxid. */
export function compareWhole(tree: DataTree, model: ReferenceTree): void {
  const snapshot = tree.toSnapshot();
  const records = model.records();
  agree('end: paths', null, records.nodes.map((node) => node.path), snapshot.nodes.map((node) => node.path));
  records.nodes.forEach((record, index) => agree(`end: node ${record.path}`, null, record, snapshot.nodes[index]));
  agree('end: sessions', null, records.sessions, snapshot.sessions);
  agree('end: lastZxid', null, model.lastZxid, snapshot.lastZxid);
  const anyone: RequestContext = { sessionId: SESSIONS[0], auth: [SUPER] };
  for (const path of model.paths()) {
    agree(`end: Stat of ${path}`, null, model.stat(path), tree.stat(path));
    const request: ReadRequest = { op: 'getChildren', path, watch: false };
    agree(`end: children of ${path}`, null, model.read(request, anyone), tree.read(request, anyone));
  }
}
