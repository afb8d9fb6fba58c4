/**
 * Znode paths: ZooKeeper's PathUtils.validatePath, applied to the WHOLE path before any lookup (the
 * Java client validates before it sends, so a malformed path never reaches the tree), plus our
 * PATH_BYTES_MAX, and the small parent/name helpers the tree and the watch manager share.
 *
 * A bad path is an operational error, not a bug: validation returns BADARGUMENTS with the reason and
 * never throws, whatever it is given.
 */

import { assert } from '../assert.js';
import { PATH_BYTES_MAX } from '../limits.js';

export type PathCheck = { ok: true } | { ok: false; code: 'BADARGUMENTS'; reason: string };

/** Width of the suffix a sequential create appends (ZooKeeper formats the parent's cversion %010d). */
export const SEQUENTIAL_SUFFIX_CHARS = 10;

/** The subtree ZooKeeper's DataTree reserves for itself (Quotas.procZookeeper). */
export const RESERVED_ROOT = '/zookeeper';

/**
 * PathUtils.validatePath(path, isSequential): for a sequential create ZooKeeper validates the path
 * with a character appended, because the server appends the suffix; so `/a/` is a valid sequential
 * path (it becomes `/a/0000000000`) but not a valid plain one.
 */
export function validatePath(path: unknown, options: { sequential?: boolean } = {}): PathCheck {
  if (typeof path !== 'string') return bad('path is not a string');
  const sequential = options.sequential === true;
  const checked = sequential ? `${path}1` : path;
  const shape = validateShape(checked);
  if (!shape.ok) return shape;
  const bytes = utf8ByteLength(path) + (sequential ? SEQUENTIAL_SUFFIX_CHARS : 0);
  if (bytes > PATH_BYTES_MAX) return bad(`path is ${bytes} bytes, longer than PATH_BYTES_MAX (${PATH_BYTES_MAX})`);
  return { ok: true };
}

/** PathUtils.validatePath(String): the character rules, in the order ZooKeeper checks them. */
function validateShape(path: string): PathCheck {
  if (path.length === 0) return bad('path must not be empty');
  if (path.charCodeAt(0) !== SLASH) return bad('path must start with /');
  if (path.length === 1) return { ok: true };
  if (path.charCodeAt(path.length - 1) === SLASH) return bad('path must not end with /');
  for (let i = 1; i < path.length; i++) {
    const reason = characterProblem(path, i);
    if (reason !== null) return bad(`${reason} at index ${i}`);
  }
  return { ok: true };
}

const SLASH = 0x2f;
const DOT = 0x2e;

/** What is wrong with the character at `i` (i >= 1), or null; mirrors PathUtils' loop. */
function characterProblem(path: string, i: number): string | null {
  const c = path.charCodeAt(i);
  const previous = path.charCodeAt(i - 1);
  if (c === 0) return 'null character not allowed';
  if (c === SLASH && previous === SLASH) return 'empty node name';
  if (c === DOT) {
    const endsSegment = i + 1 === path.length || path.charCodeAt(i + 1) === SLASH;
    // "." as a whole segment, or ".." as a whole segment.
    if (previous === SLASH && endsSegment) return 'relative path segment "." not allowed';
    if (previous === DOT && path.charCodeAt(i - 2) === SLASH && endsSegment) return 'relative path segment ".." not allowed';
    return null;
  }
  if (isDisallowedCharacter(c)) return `invalid character \\u${c.toString(16).padStart(4, '0')}`;
  return null;
}

/** PathUtils' ranges: C0 controls (NUL is reported separately), DEL and C1 controls, surrogates and
 *  the private use area, and the specials block. Checked per UTF-16 unit, exactly as Java's chars,
 *  so any character outside the Basic Multilingual Plane is refused (it needs surrogates). */
export function isDisallowedCharacter(c: number): boolean {
  return (
    (c > 0x0000 && c <= 0x001f) ||
    (c >= 0x007f && c <= 0x009f) ||
    (c >= 0xd800 && c <= 0xf8ff) ||
    (c >= 0xfff0 && c <= 0xffff)
  );
}

function bad(reason: string): PathCheck {
  return { ok: false, code: 'BADARGUMENTS', reason };
}

/** UTF-8 length of a JS string without encoding it (a lone surrogate counts 3, as TextEncoder's U+FFFD). */
export function utf8ByteLength(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && isLowSurrogate(text.charCodeAt(i + 1))) {
      bytes += 4;
      i += 1;
    } else bytes += 3;
  }
  return bytes;
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/** The parent of a valid non-root path: `/a/b` -> `/a`, `/a` -> `/`. */
export function parentOf(path: string): string {
  assert(path.length > 1, `parentOf: ${path} is not the root`);
  const slash = path.lastIndexOf('/');
  assert(slash >= 0, `parentOf: ${path} is absolute`);
  return slash === 0 ? '/' : path.slice(0, slash);
}

/** The last segment of a valid non-root path: `/a/b` -> `b`. */
export function nameOf(path: string): string {
  assert(path.length > 1, `nameOf: ${path} is not the root`);
  return path.slice(path.lastIndexOf('/') + 1);
}

/** `parent` + `/` + `name`, without doubling the root's slash. */
export function childPath(parent: string, name: string): string {
  return parent === '/' ? `/${name}` : `${parent}/${name}`;
}

/** True for `/zookeeper` and everything below it: ZooKeeper's own subtree, which clients may read
 *  but not write (see prep.ts for the error code). */
export function isReservedPath(path: string): boolean {
  return path === RESERVED_ROOT || path.startsWith(`${RESERVED_ROOT}/`);
}

/** The ancestors of a valid path, nearest first, ending with `/` (none for the root). */
export function ancestorsOf(path: string): string[] {
  const result: string[] = [];
  let current = path;
  while (current !== '/') {
    current = parentOf(current);
    result.push(current);
  }
  return result;
}

/** True if `path` is `base` or lies below it. */
export function isAtOrBelow(path: string, base: string): boolean {
  if (base === '/') return true;
  return path === base || path.startsWith(`${base}/`);
}

/**
 * ZooKeeper's sequential suffix: the parent's (internal) cversion formatted as Java's "%010d", so a
 * negative value after int overflow keeps its sign inside the ten characters ("-000000001").
 */
export function sequentialSuffix(parentCversion: number): string {
  assert(Number.isInteger(parentCversion), 'sequential suffix of an integer');
  if (parentCversion < 0) return `-${String(-parentCversion).padStart(SEQUENTIAL_SUFFIX_CHARS - 1, '0')}`;
  return String(parentCversion).padStart(SEQUENTIAL_SUFFIX_CHARS, '0');
}
