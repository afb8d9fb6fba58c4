/**
 * The client's own checks, made before anything is sent, as ZooKeeper's Java client makes them:
 * PathUtils.validatePath (with the sequential rule), EphemeralType.validateTTL, validateACL (an
 * empty ACL is INVALIDACL), plus the argument types Java's signatures enforce (int versions, a
 * byte[] value, a Watcher object). A bad argument is BADARGUMENTS with the reason, and the call
 * has no effect and costs no round trip. The tree repeats every check at the serving peer.
 */

import { KeeperError } from '../core/errors.js';
import { TTL_MS_MAX } from '../core/limits.js';
import { checkAclShape } from '../core/tree/acl.js';
import { validatePath } from '../core/tree/paths.js';
import { CREATE_MODES, OPEN_ACL_UNSAFE, type ACL, type CreateMode, type MultiOp } from '../core/tree/types.js';
import type { Op, Watcher } from './types.js';

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

const encoder = new TextEncoder();

export function badArgument(reason: string, path?: string): KeeperError {
  return new KeeperError('BADARGUMENTS', reason, path);
}

export function isSequential(mode: CreateMode): boolean {
  return mode === 'persistent_sequential' || mode === 'ephemeral_sequential' || mode === 'persistent_sequential_ttl';
}

function isTtlMode(mode: CreateMode): boolean {
  return mode === 'persistent_ttl' || mode === 'persistent_sequential_ttl';
}

/** PathUtils.validatePath: throws BADARGUMENTS naming the reason. */
export function checkPath(path: unknown, options: { sequential?: boolean } = {}): string {
  const check = validatePath(path, options);
  if (!check.ok) throw badArgument(`invalid path ${JSON.stringify(path)}: ${check.reason}`, typeof path === 'string' ? path : undefined);
  return path as string;
}

/** A version argument: a Java int; -1 matches any version. */
export function checkVersion(version: unknown, path: string): number {
  if (typeof version !== 'number' || !Number.isInteger(version) || version < INT32_MIN || version > INT32_MAX) {
    throw badArgument(`version must be a 32-bit integer (-1 for any), got ${String(version)}`, path);
  }
  return version;
}

/** A value: bytes are copied (the caller may reuse its buffer), strings become UTF-8. */
export function toBytes(data: unknown, path: string): Uint8Array {
  if (data === undefined) return new Uint8Array(0);
  if (typeof data === 'string') return encoder.encode(data);
  if (data instanceof Uint8Array) return data.slice();
  throw badArgument(`data must be a Uint8Array or a string, got ${describe(data)}`, path);
}

export function checkWatcher(watcher: unknown, path: string): Watcher {
  if (typeof watcher !== 'function') throw badArgument(`a watcher must be a function, got ${describe(watcher)}`, path);
  return watcher as Watcher;
}

export function checkMode(mode: unknown, path: string): CreateMode {
  if (mode === undefined) return 'persistent';
  if (typeof mode !== 'string' || !(CREATE_MODES as readonly string[]).includes(mode)) {
    throw badArgument(`unknown create mode ${JSON.stringify(mode)} (one of ${CREATE_MODES.join(', ')})`, path);
  }
  return mode as CreateMode;
}

/** EphemeralType.validateTTL: the TTL modes need 0 < ttlMs <= TTL_MS_MAX; other modes take none. */
export function checkTtl(mode: CreateMode, ttlMs: unknown, path: string): number | undefined {
  if (!isTtlMode(mode)) {
    if (ttlMs !== undefined) throw badArgument(`ttlMs is only valid for persistent_ttl and persistent_sequential_ttl, not ${mode}`, path);
    return undefined;
  }
  if (typeof ttlMs !== 'number' || !Number.isSafeInteger(ttlMs) || ttlMs <= 0 || ttlMs > TTL_MS_MAX) {
    throw badArgument(`${mode} needs an integer ttlMs with 0 < ttlMs <= ${TTL_MS_MAX}, got ${String(ttlMs)}`, path);
  }
  return ttlMs;
}

/** ZooKeeper.validateACL: an empty list is INVALIDACL before sending; a malformed one is
 *  BADARGUMENTS. Schemes and ids are the server's to judge (INVALIDACL there). Returns a copy. */
export function checkAcl(acl: unknown, path: string): ACL[] {
  if (acl === undefined) return copyAcl(OPEN_ACL_UNSAFE);
  const shape = checkAclShape(acl);
  if (!shape.ok) throw new KeeperError(shape.code, shape.reason, path);
  if ((acl as ACL[]).length === 0) throw new KeeperError('INVALIDACL', 'an ACL list must not be empty', path);
  return copyAcl(acl as ACL[]);
}

function copyAcl(acl: readonly ACL[]): ACL[] {
  return acl.map((entry) => ({ perms: entry.perms, id: { scheme: entry.id.scheme, id: entry.id.id } }));
}

/** An options argument: undefined or a plain object whose keys are all known. */
export function checkOptions<T extends object>(options: unknown, known: readonly string[], what: string): Partial<T> {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw badArgument(`${what} options must be an object, got ${describe(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) throw badArgument(`unknown ${what} option ${JSON.stringify(key)} (known: ${known.join(', ')})`);
  }
  return options as Partial<T>;
}

/** One multi op, checked as Op.validate() checks it, and turned into the tree's request. */
export function toMultiOp(op: unknown, index: number): MultiOp {
  if (typeof op !== 'object' || op === null) throw badArgument(`multi op ${index} is not an object`);
  const candidate = op as Partial<Op> & { op?: unknown };
  switch (candidate.op) {
    case 'create': {
      const c = candidate as Extract<Op, { op: 'create' }>;
      const mode = checkMode(c.mode, String(c.path));
      const path = checkPath(c.path, { sequential: isSequential(mode) });
      const ttlMs = checkTtl(mode, c.ttlMs, path);
      const request: MultiOp = { op: 'create', path, data: toBytes(c.data, path), acl: checkAcl(c.acl, path), mode };
      if (ttlMs !== undefined) request.ttlMs = ttlMs;
      return request;
    }
    case 'delete': {
      const path = checkPath(candidate.path);
      return { op: 'delete', path, version: checkVersion((candidate as { version?: unknown }).version ?? -1, path) };
    }
    case 'setData': {
      const path = checkPath(candidate.path);
      const s = candidate as Extract<Op, { op: 'setData' }>;
      return { op: 'setData', path, data: toBytes(s.data, path), version: checkVersion(s.version ?? -1, path) };
    }
    case 'check': {
      const path = checkPath(candidate.path);
      return { op: 'check', path, version: checkVersion((candidate as { version?: unknown }).version, path) };
    }
    default:
      throw badArgument(`multi op ${index} has op ${JSON.stringify(candidate.op)}; a multi takes create, delete, setData and check`);
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}
