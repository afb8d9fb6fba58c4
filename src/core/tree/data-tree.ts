/**
 * The DataTree: ZooKeeper's znodes, sessions and ephemerals as one deterministic state machine.
 *
 *   reads     getData, exists, getChildren (sorted), getACL, getEphemerals, getAllChildrenNumber
 *   apply     the only mutator: apply(txn, zxid) -> reply + watch triggers (apply.ts)
 *   prep      preparer() -> a Preparer bound to this tree (prep.ts), for the leader
 *   sweep     due(now, cursor) -> container/TTL paths to propose deleteContainer for
 *   state     toSnapshot(), DataTree.fromSnapshot(s), digest()
 *
 * A fresh tree is what ZooKeeper's DataTree constructor builds: `/`, `/zookeeper`,
 * `/zookeeper/quota` and `/zookeeper/config`, every stat field zero, so the root shows
 * numChildren 1 and cversion -1 (0 creates * 2 - 1 child), and `/zookeeper/config` is
 * world-readable only with aversion -1 (ZooKeeper sets its ACL through setACL(..., version -1)).
 */

import { assert } from '../assert.js';
import { CHILDREN_PER_NODE_MAX, NODES_MAX, SESSIONS_MAX } from '../limits.js';
import { applyTxn, type Applied } from './apply.js';
import { due, type DueResult } from './containers.js';
import { copyStat, newNode } from './node.js';
import type { PendingNode, TreeReader } from './overlay.js';
import { Preparer } from './prep.js';
import * as reads from './reads.js';
import type { ReadOutcome } from './reads.js';
import { loadSnapshot, toSnapshot } from './snapshot.js';
import { TreeStore } from './store.js';
import {
  OPEN_ACL_UNSAFE,
  READ_ACL_UNSAFE,
  type ACL,
  type ReadRequest,
  type ReadResult,
  type RequestContext,
  type SessionId,
  type SessionRecord,
  type Stat,
  type Txn,
  type TreeSnapshot,
} from './types.js';

/** Capacity limits, injectable so tests can reach them cheaply; defaults are limits.ts's. Every
 *  replica of one ensemble must use the same values (prep decides, apply asserts). */
export interface TreeLimits {
  nodesMax: number;
  childrenPerNodeMax: number;
  sessionsMax: number;
}

export const DEFAULT_TREE_LIMITS: Readonly<TreeLimits> = {
  nodesMax: NODES_MAX,
  childrenPerNodeMax: CHILDREN_PER_NODE_MAX,
  sessionsMax: SESSIONS_MAX,
};

export interface DataTreeOptions {
  limits?: Partial<TreeLimits>;
}

export type SnapshotLoad = { ok: true; tree: DataTree } | { ok: false; error: string };

/** The nodes every tree has, parents first (DataTree's constructor and addConfigNode). */
const RESERVED_NODES: readonly { path: string; acl: readonly ACL[]; aversion: number }[] = [
  { path: '/', acl: OPEN_ACL_UNSAFE, aversion: 0 },
  { path: '/zookeeper', acl: OPEN_ACL_UNSAFE, aversion: 0 },
  { path: '/zookeeper/quota', acl: OPEN_ACL_UNSAFE, aversion: 0 },
  { path: '/zookeeper/config', acl: READ_ACL_UNSAFE, aversion: -1 },
];

function resolveLimits(options: DataTreeOptions): TreeLimits {
  const limits = { ...DEFAULT_TREE_LIMITS, ...options.limits };
  for (const [name, value] of Object.entries(limits)) {
    assert(Number.isSafeInteger(value) && value > 0, `tree limit ${name} is a positive integer`);
  }
  assert(limits.nodesMax >= RESERVED_NODES.length, 'tree limit nodesMax leaves room for the reserved nodes');
  return limits;
}

function freshStore(): TreeStore {
  const store = new TreeStore();
  for (const reserved of RESERVED_NODES) {
    const fields = { path: reserved.path, data: new Uint8Array(0), acl: reserved.acl.map((a) => ({ perms: a.perms, id: { ...a.id } })) };
    store.insert(reserved.path, newNode({ ...fields, kind: 'persistent', ttlMs: 0, ephemeralOwner: null, zxid: 0, time: 0 }));
    if (reserved.aversion !== 0) store.change(reserved.path, (node) => (node.aversion = reserved.aversion));
  }
  return store;
}

export class DataTree implements TreeReader {
  readonly limits: Readonly<TreeLimits>;
  private store: TreeStore;

  constructor(options: DataTreeOptions = {}) {
    this.limits = resolveLimits(options);
    this.store = freshStore();
  }

  /** Rebuilds a tree from a snapshot, validating everything it loads (a bad snapshot is an error
   *  value, never a half-built tree). */
  static fromSnapshot(snapshot: TreeSnapshot, options: DataTreeOptions = {}): SnapshotLoad {
    const tree = new DataTree(options);
    const loaded = loadSnapshot(snapshot, tree.limits);
    if (!loaded.ok) return loaded;
    tree.store = loaded.store;
    return { ok: true, tree };
  }

  // --- state -----------------------------------------------------------------------------------

  /** The zxid of the last txn applied (0 for a fresh tree). */
  get lastZxid(): number {
    return this.store.lastZxid;
  }

  get nodeCount(): number {
    return this.store.nodes.size;
  }

  get sessionCount(): number {
    return this.store.sessions.size;
  }

  /** The incremental digest over every node (path, stat, kind, ACL, data) and session, 16 hex chars.
   *  Equal trees have equal digests; replicas can compare it at every applied index. */
  digest(): string {
    return this.store.digest();
  }

  toSnapshot(): TreeSnapshot {
    return toSnapshot(this.store);
  }

  /** The one mutator. Returns the client's reply and the watch triggers, in order. */
  apply(txn: Txn, zxid: number): Applied {
    return applyTxn(this.store, txn, zxid, this.limits);
  }

  /** A Preparer (the leader's PrepRequestProcessor) over this tree. */
  preparer(): Preparer {
    return new Preparer(this, this.limits);
  }

  /** Container and TTL nodes due for deletion at `now` (containers.ts). */
  due(now: number, cursor: string | null = null): DueResult {
    return due(this.store, now, cursor);
  }

  // --- reads -----------------------------------------------------------------------------------

  read(request: ReadRequest, ctx: RequestContext): ReadResult {
    return reads.read(this.store, request, ctx);
  }

  getData(path: string, ctx: RequestContext): ReadOutcome<'getData'> {
    return reads.getData(this.store, path, ctx);
  }

  exists(path: string): ReadOutcome<'exists'> {
    return reads.exists(this.store, path);
  }

  getChildren(path: string, ctx: RequestContext): ReadOutcome<'getChildren'> {
    return reads.getChildren(this.store, path, ctx);
  }

  getACL(path: string, ctx: RequestContext): ReadOutcome<'getACL'> {
    return reads.getAcl(this.store, path, ctx);
  }

  getEphemerals(prefix: string, ctx: RequestContext): ReadOutcome<'getEphemerals'> {
    return reads.getEphemerals(this.store, prefix, ctx);
  }

  getAllChildrenNumber(path: string, ctx: RequestContext): ReadOutcome<'getAllChildrenNumber'> {
    return reads.getAllChildrenNumber(this.store, path, ctx);
  }

  /** The Stat of a node, or undefined (no validation, no ACL: for the runtime and tests). */
  stat(path: string): Stat | undefined {
    const node = this.store.node(path);
    return node === undefined ? undefined : copyStat(node);
  }

  sessions(): SessionRecord[] {
    return [...this.store.sessions.values()].map((s) => ({ ...s })).sort((a, b) => compare(a.sessionId, b.sessionId));
  }

  hasSession(sessionId: SessionId): boolean {
    return this.store.sessions.has(sessionId);
  }

  /** A session's ephemerals, sorted. */
  ephemeralPaths(sessionId: SessionId): string[] {
    return this.store.ephemeralsOf(sessionId);
  }

  /** What prep needs of a node (TreeReader). */
  nodeView(path: string): PendingNode | undefined {
    const node = this.store.node(path);
    if (node === undefined) return undefined;
    return {
      kind: node.kind,
      ttlMs: node.ttlMs,
      acl: node.acl,
      version: node.version,
      cversion: node.cversion,
      aversion: node.aversion,
      ephemeralOwner: node.ephemeralOwner,
      mtime: node.mtime,
      numChildren: node.children.size,
    };
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
