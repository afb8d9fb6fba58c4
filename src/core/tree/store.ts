/**
 * The tree's state and its primitive mutations, each keeping the indexes (children, ephemerals per
 * session, sweepable containers/TTL nodes) and the incremental digest in step. Internal to
 * src/core/tree: only apply.ts mutates a store (through DataTree.apply), and snapshot loading builds
 * one; everything else reads.
 *
 * The digest is ZooKeeper 3.6+'s idea (DigestCalculator + NodeHashMapImpl): the sum of per-node
 * hashes, adjusted on every change, so comparing two replicas costs one comparison; we also add
 * the sessions table, which is replicated state too.
 */

import { assert } from '../assert.js';
import { addHash, hashToHex, type Hash64 } from './hash.js';
import { hashAcl, hashData, hashNode, hashSession, type ZNode } from './node.js';
import { childPath, nameOf, parentOf } from './paths.js';
import { SortedPaths } from './sorted-paths.js';
import type { SessionId, SessionRecord } from './types.js';

export class TreeStore {
  readonly nodes = new Map<string, ZNode>();
  readonly sessions = new Map<SessionId, SessionRecord>();
  /** Paths of each session's ephemerals (DataTree.ephemerals). */
  readonly ephemerals = new Map<SessionId, Set<string>>();
  /** Container and TTL nodes, the leader's sweep candidates (DataTree.containers + ttls). */
  readonly sweepable = new SortedPaths();
  lastZxid = 0;
  private readonly sum: Hash64 = { hi: 0, lo: 0 };

  digest(): string {
    return hashToHex(this.sum);
  }

  node(path: string): ZNode | undefined {
    return this.nodes.get(path);
  }

  /** Adds a node under its (existing) parent. The parent's stat is the caller's to change. */
  insert(path: string, node: ZNode): void {
    assert(!this.nodes.has(path), `insert: ${path} does not exist yet`);
    assert(node.children.size === 0, `insert: ${path} starts childless`);
    if (path !== '/') {
      const parent = this.nodes.get(parentOf(path));
      assert(parent !== undefined, `insert: parent of ${path} exists`);
      assert(parent.kind !== 'ephemeral', `insert: parent of ${path} is not ephemeral`);
      // Children are not hashed (each child is a node of its own), so no digest change here.
      parent.children.add(nameOf(path));
    }
    this.nodes.set(path, node);
    addHash(this.sum, node.hash, 1);
    this.index(path, node);
  }

  /** Removes a childless node and unlinks it from its parent. */
  remove(path: string): ZNode {
    const node = this.nodes.get(path);
    assert(node !== undefined, `remove: ${path} exists`);
    assert(node.children.size === 0, `remove: ${path} is childless`);
    assert(path !== '/', 'remove: never the root');
    const parent = this.nodes.get(parentOf(path));
    assert(parent !== undefined, `remove: parent of ${path} exists`);
    const unlinked = parent.children.delete(nameOf(path));
    assert(unlinked, `remove: ${path} is a child of its parent`);
    this.nodes.delete(path);
    addHash(this.sum, node.hash, -1);
    this.unindex(path, node);
    return node;
  }

  /**
   * Changes a node in place (ZooKeeper's preChange/postChange around a mutation): the node's hash
   * leaves the digest, `mutate` runs, and the new hash joins. Replacing `data` or `acl` with a new
   * array rehashes it; mutating either in place is a bug (they are shared with snapshots and reads).
   */
  change(path: string, mutate: (node: ZNode) => void): ZNode {
    const node = this.nodes.get(path);
    assert(node !== undefined, `change: ${path} exists`);
    const { data, acl, kind, ephemeralOwner } = node;
    addHash(this.sum, node.hash, -1);
    mutate(node);
    assert(node.kind === kind && node.ephemeralOwner === ephemeralOwner, `change: ${path} keeps its kind and owner`);
    if (node.data !== data) node.dataHash = hashData(node.data);
    if (node.acl !== acl) node.aclHash = hashAcl(node.acl);
    node.hash = hashNode(node);
    addHash(this.sum, node.hash, 1);
    return node;
  }

  addSession(record: SessionRecord): void {
    assert(!this.sessions.has(record.sessionId), `addSession: ${record.sessionId} is new`);
    this.sessions.set(record.sessionId, { sessionId: record.sessionId, timeoutMs: record.timeoutMs });
    addHash(this.sum, hashSession(record.sessionId, record.timeoutMs), 1);
  }

  removeSession(sessionId: SessionId): void {
    const record = this.sessions.get(sessionId);
    assert(record !== undefined, `removeSession: ${sessionId} exists`);
    const owned = this.ephemerals.get(sessionId);
    assert(owned === undefined || owned.size === 0, `removeSession: ${sessionId} owns no ephemerals`);
    this.sessions.delete(sessionId);
    this.ephemerals.delete(sessionId);
    addHash(this.sum, hashSession(record.sessionId, record.timeoutMs), -1);
  }

  /** The paths of a session's ephemerals, sorted. */
  ephemeralsOf(sessionId: SessionId): string[] {
    return [...(this.ephemerals.get(sessionId) ?? [])].sort();
  }

  /** The children of a node as full paths, sorted. */
  childPaths(path: string): string[] {
    const node = this.nodes.get(path);
    assert(node !== undefined, `childPaths: ${path} exists`);
    return [...node.children].sort().map((name) => childPath(path, name));
  }

  private index(path: string, node: ZNode): void {
    if (node.kind === 'ephemeral') {
      const owner = node.ephemeralOwner;
      assert(owner !== null && this.sessions.has(owner), `index: owner of ephemeral ${path} is a live session`);
      let owned = this.ephemerals.get(owner);
      if (owned === undefined) {
        owned = new Set();
        this.ephemerals.set(owner, owned);
      }
      owned.add(path);
    } else if (node.kind === 'container' || node.kind === 'ttl') {
      this.sweepable.add(path);
    }
  }

  private unindex(path: string, node: ZNode): void {
    if (node.kind === 'ephemeral') {
      const owned = node.ephemeralOwner === null ? undefined : this.ephemerals.get(node.ephemeralOwner);
      assert(owned !== undefined && owned.delete(path), `unindex: ephemeral ${path} was indexed`);
    } else if (node.kind === 'container' || node.kind === 'ttl') {
      this.sweepable.delete(path);
    }
  }
}
