/**
 * Reads, answered from the local replica as ZooKeeper's FinalRequestProcessor answers them: the
 * path is validated first (the Java client does it before sending: BADARGUMENTS), then the node
 * is looked up (NONODE), then the ACL is checked where ZooKeeper checks it (NOAUTH):
 *
 *   getData, getChildren, getAllChildrenNumber -> READ on the node
 *   exists                                      -> no check (a missing node is `stat: null`)
 *   getACL                                      -> READ or ADMIN; without ADMIN, digest ids are redacted
 *   getEphemerals                               -> none: the caller's own ephemerals only
 *
 * Sessions are not checked here: reads are served by the session's peer, which knows its sessions.
 * Watches are registered by the watch manager from these results (watches.ts, watchForRead).
 */

import { checkAcl, copyAclList, redactAcl } from './acl.js';
import { copyStat } from './node.js';
import { childPath, validatePath } from './paths.js';
import type { TreeStore } from './store.js';
import { Perms, type ReadRequest, type ReadResult, type RequestContext } from './types.js';
import { unreachable } from '../assert.js';

type Failure = Extract<ReadResult, { ok: false }>;
type ReadOp = Extract<ReadResult, { ok: true }>['op'];
/** One read's result: its own success shape, or a failure. */
export type ReadOutcome<Op extends ReadOp> = Extract<ReadResult, { ok: true; op: Op }> | Failure;

function pathFailure(path: unknown): Failure | null {
  const check = validatePath(path);
  return check.ok ? null : { ok: false, code: 'BADARGUMENTS', ...(typeof path === 'string' ? { path } : {}) };
}

export function getData(store: TreeStore, path: string, ctx: RequestContext): ReadOutcome<'getData'> {
  const failure = pathFailure(path);
  if (failure) return failure;
  const node = store.node(path);
  if (node === undefined) return { ok: false, code: 'NONODE', path };
  if (!checkAcl(node.acl, Perms.READ, ctx.auth)) return { ok: false, code: 'NOAUTH', path };
  // A copy: the caller may keep or change it without touching the replica.
  return { ok: true, op: 'getData', data: node.data.slice(), stat: copyStat(node) };
}

export function exists(store: TreeStore, path: string): ReadOutcome<'exists'> {
  const failure = pathFailure(path);
  if (failure) return failure;
  const node = store.node(path);
  return { ok: true, op: 'exists', stat: node === undefined ? null : copyStat(node) };
}

export function getChildren(store: TreeStore, path: string, ctx: RequestContext): ReadOutcome<'getChildren'> {
  const failure = pathFailure(path);
  if (failure) return failure;
  const node = store.node(path);
  if (node === undefined) return { ok: false, code: 'NONODE', path };
  if (!checkAcl(node.acl, Perms.READ, ctx.auth)) return { ok: false, code: 'NOAUTH', path };
  return { ok: true, op: 'getChildren', children: [...node.children].sort(), stat: copyStat(node) };
}

export function getAcl(store: TreeStore, path: string, ctx: RequestContext): ReadOutcome<'getACL'> {
  const failure = pathFailure(path);
  if (failure) return failure;
  const node = store.node(path);
  if (node === undefined) return { ok: false, code: 'NONODE', path };
  if (!checkAcl(node.acl, Perms.READ | Perms.ADMIN, ctx.auth)) return { ok: false, code: 'NOAUTH', path };
  const acl = checkAcl(node.acl, Perms.ADMIN, ctx.auth) ? copyAclList(node.acl) : redactAcl(node.acl);
  return { ok: true, op: 'getACL', acl, stat: copyStat(node) };
}

/**
 * FinalRequestProcessor getEphemerals: the calling session's ephemerals whose path starts with
 * `prefix` as a plain string (so `/a` also matches `/ab`); `/` lists them all. Sorted.
 */
export function getEphemerals(store: TreeStore, prefix: string, ctx: RequestContext): ReadOutcome<'getEphemerals'> {
  const failure = pathFailure(prefix);
  if (failure) return failure;
  const all = store.ephemeralsOf(ctx.sessionId);
  const paths = prefix === '/' ? all : all.filter((path) => path.startsWith(prefix));
  return { ok: true, op: 'getEphemerals', paths };
}

/** DataTree.getAllChildrenNumber: every descendant (not the node itself); for `/` that includes the
 *  /zookeeper subtree. READ on the node. */
export function getAllChildrenNumber(store: TreeStore, path: string, ctx: RequestContext): ReadOutcome<'getAllChildrenNumber'> {
  const failure = pathFailure(path);
  if (failure) return failure;
  const node = store.node(path);
  if (node === undefined) return { ok: false, code: 'NONODE', path };
  if (!checkAcl(node.acl, Perms.READ, ctx.auth)) return { ok: false, code: 'NOAUTH', path };
  if (path === '/') return { ok: true, op: 'getAllChildrenNumber', count: store.nodes.size - 1 };
  let count = 0;
  const pending = [path];
  for (let current = pending.pop(); current !== undefined; current = pending.pop()) {
    const children = store.node(current)?.children ?? new Set<string>();
    count += children.size;
    for (const name of children) pending.push(childPath(current, name));
  }
  return { ok: true, op: 'getAllChildrenNumber', count };
}

export function read(store: TreeStore, request: ReadRequest, ctx: RequestContext): ReadResult {
  switch (request.op) {
    case 'getData':
      return getData(store, request.path, ctx);
    case 'exists':
      return exists(store, request.path);
    case 'getChildren':
      return getChildren(store, request.path, ctx);
    case 'getACL':
      return getAcl(store, request.path, ctx);
    case 'getEphemerals':
      return getEphemerals(store, request.prefix, ctx);
    case 'getAllChildrenNumber':
      return getAllChildrenNumber(store, request.path, ctx);
    case 'sync': {
      // sync itself is the runtime's (ReadIndex through the leader); the tree only checks the path.
      const failure = pathFailure(request.path);
      return failure ?? { ok: true, op: 'sync', path: request.path };
    }
    default:
      return unreachable(request, 'read: unknown op');
  }
}
