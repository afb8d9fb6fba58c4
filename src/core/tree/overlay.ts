/**
 * The leader's view of changes prepared but not yet applied: ZooKeeper's outstandingChanges /
 * outstandingChangesForPath (ZooKeeperServer.ChangeRecord). prep must see the effect of every txn
 * it has already handed to the log, or two creates of one path prepared back to back would both
 * pass, and two sequential creates would get the same suffix.
 *
 *   Overlay  the committed-to-the-log-but-unapplied records, keyed by path (the latest wins) and
 *            kept in zxid order so `applied(zxid)` can drop the ones the tree now reflects.
 *   Stage    one request's changes on top of the overlay; a multi's later ops see its earlier ops
 *            here. A request that fails drops its stage (ZooKeeper's rollbackPendingChanges); one
 *            that succeeds commits it into the overlay under its zxid.
 *
 * Records hold only what prep decides on: kind, ACL, versions, cversion, mtime (for TTL expiry),
 * owner and the number of children.
 */

import { assert } from '../assert.js';
import type { ACL, NodeKind, SessionId } from './types.js';

/** What prep knows of a node (from the tree, or from a pending change). */
export interface PendingNode {
  kind: NodeKind;
  ttlMs: number;
  acl: readonly ACL[];
  version: number;
  /** Internal cversion: the number of child creates. */
  cversion: number;
  aversion: number;
  ephemeralOwner: SessionId | null;
  mtime: number;
  numChildren: number;
}

/** The read side of the tree that prep needs (DataTree implements it). */
export interface TreeReader {
  nodeView(path: string): PendingNode | undefined;
  hasSession(sessionId: SessionId): boolean;
  ephemeralPaths(sessionId: SessionId): string[];
  readonly nodeCount: number;
  readonly sessionCount: number;
  readonly lastZxid: number;
}

interface NodeRecord {
  zxid: number;
  path: string;
  /** null: deleted. */
  node: PendingNode | null;
}

interface SessionChange {
  zxid: number;
  sessionId: SessionId;
  open: boolean;
}

interface CountChange {
  zxid: number;
  nodes: number;
  sessions: number;
}

/** A FIFO of records in zxid order with O(1) amortized removal from the front. */
class Queue<T extends { zxid: number }> {
  private items: T[] = [];
  private head = 0;

  push(item: T): void {
    this.items.push(item);
  }

  /** Removes and returns the front items with zxid <= `zxid`. */
  dropThrough(zxid: number): T[] {
    const dropped: T[] = [];
    while (this.head < this.items.length && (this.items[this.head] as T).zxid <= zxid) {
      dropped.push(this.items[this.head] as T);
      this.head += 1;
    }
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return dropped;
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = this.head; i < this.items.length; i++) yield this.items[i] as T;
  }

  get length(): number {
    return this.items.length - this.head;
  }

  clear(): void {
    this.items = [];
    this.head = 0;
  }
}

export class Overlay {
  private readonly nodes = new Queue<NodeRecord>();
  private readonly nodeByPath = new Map<string, NodeRecord>();
  private readonly sessions = new Queue<SessionChange>();
  private readonly sessionById = new Map<SessionId, SessionChange>();
  private readonly counts = new Queue<CountChange>();
  private pendingNodes = 0;
  private pendingSessions = 0;
  /** The highest zxid prepared (failed preps included: they take a log index too). */
  lastPrepared = 0;

  /** The latest pending record for a path: a node, null (deleted), or undefined (none pending). */
  node(path: string): PendingNode | null | undefined {
    const record = this.nodeByPath.get(path);
    return record === undefined ? undefined : record.node;
  }

  /** true/false if a createSession/closeSession is pending for the id, else undefined. */
  session(sessionId: SessionId): boolean | undefined {
    return this.sessionById.get(sessionId)?.open;
  }

  get nodeDelta(): number {
    return this.pendingNodes;
  }

  get sessionDelta(): number {
    return this.pendingSessions;
  }

  /** Pending node records, oldest first (a closeSession's view of its ephemerals replays them). */
  nodeRecords(): Iterable<Readonly<NodeRecord>> {
    return this.nodes;
  }

  /** Outstanding node records (for tests and status). */
  get size(): number {
    return this.nodes.length + this.sessions.length;
  }

  notePrepared(zxid: number): void {
    assert(zxid > this.lastPrepared, `overlay: zxid ${zxid} follows ${this.lastPrepared}`);
    this.lastPrepared = zxid;
  }

  commit(zxid: number, stage: Stage): void {
    assert(zxid === this.lastPrepared, 'overlay: a stage commits under the zxid just prepared');
    for (const [path, node] of stage.stagedNodes()) {
      const record: NodeRecord = { zxid, path, node };
      this.nodes.push(record);
      this.nodeByPath.set(path, record);
    }
    for (const [sessionId, open] of stage.stagedSessions()) {
      const change: SessionChange = { zxid, sessionId, open };
      this.sessions.push(change);
      this.sessionById.set(sessionId, change);
    }
    if (stage.nodeDelta !== 0 || stage.sessionDelta !== 0) {
      this.counts.push({ zxid, nodes: stage.nodeDelta, sessions: stage.sessionDelta });
      this.pendingNodes += stage.nodeDelta;
      this.pendingSessions += stage.sessionDelta;
    }
  }

  /** The tree has applied everything up to `zxid`: drop what it now reflects (FinalRequestProcessor). */
  applied(zxid: number): void {
    for (const record of this.nodes.dropThrough(zxid)) {
      if (this.nodeByPath.get(record.path) === record) this.nodeByPath.delete(record.path);
    }
    for (const change of this.sessions.dropThrough(zxid)) {
      if (this.sessionById.get(change.sessionId) === change) this.sessionById.delete(change.sessionId);
    }
    for (const change of this.counts.dropThrough(zxid)) {
      this.pendingNodes -= change.nodes;
      this.pendingSessions -= change.sessions;
    }
  }

  /** Leadership lost: nothing prepared here will be applied as prepared. */
  reset(): void {
    this.nodes.clear();
    this.nodeByPath.clear();
    this.sessions.clear();
    this.sessionById.clear();
    this.counts.clear();
    this.pendingNodes = 0;
    this.pendingSessions = 0;
    this.lastPrepared = 0;
  }
}

/** One request's changes over the overlay over the tree. */
export class Stage {
  private readonly nodes = new Map<string, PendingNode | null>();
  private readonly sessions = new Map<SessionId, boolean>();
  nodeDelta = 0;
  sessionDelta = 0;

  constructor(
    private readonly tree: TreeReader,
    private readonly overlay: Overlay,
  ) {}

  node(path: string): PendingNode | undefined {
    const staged = this.nodes.get(path);
    if (staged !== undefined) return staged ?? undefined;
    const pending = this.overlay.node(path);
    if (pending !== undefined) return pending ?? undefined;
    return this.tree.nodeView(path);
  }

  setNode(path: string, node: PendingNode | null): void {
    // Map keeps first-insertion order; re-setting moves nothing, which is fine: one record per path.
    this.nodes.set(path, node);
  }

  sessionOpen(sessionId: SessionId): boolean {
    const staged = this.sessions.get(sessionId);
    if (staged !== undefined) return staged;
    return this.overlay.session(sessionId) ?? this.tree.hasSession(sessionId);
  }

  setSession(sessionId: SessionId, open: boolean): void {
    this.sessions.set(sessionId, open);
  }

  nodeCount(): number {
    return this.tree.nodeCount + this.overlay.nodeDelta + this.nodeDelta;
  }

  sessionCount(): number {
    return this.tree.sessionCount + this.overlay.sessionDelta + this.sessionDelta;
  }

  /**
   * The session's ephemerals as they will be once everything pending is applied: the tree's, plus
   * pending creates it owns, minus pending deletes (PrepRequestProcessor, closeSession). Sorted.
   */
  ephemeralsOf(sessionId: SessionId): string[] {
    const paths = new Set(this.tree.ephemeralPaths(sessionId));
    const replay = (path: string, node: PendingNode | null): void => {
      if (node === null) paths.delete(path);
      else if (node.kind === 'ephemeral' && node.ephemeralOwner === sessionId) paths.add(path);
    };
    for (const record of this.overlay.nodeRecords()) replay(record.path, record.node);
    for (const [path, node] of this.nodes) replay(path, node);
    return [...paths].sort();
  }

  stagedNodes(): Iterable<[string, PendingNode | null]> {
    return this.nodes;
  }

  stagedSessions(): Iterable<[SessionId, boolean]> {
    return this.sessions;
  }
}
