/**
 * The data model's binary building blocks, shared by requests.ts, txns.ts, results.ts and
 * snapshot.ts: one `writeX` beside each `readX` (lib0's habit), with the same bounds on both sides.
 *
 * Format (version 1, all integers lib0 varints unless said otherwise):
 *
 *   top-level message = FORMAT_VERSION (u8) · kind tag (u8) · body
 *
 * Kind tags are named constants in disjoint ranges per family (requests 1-31, txns 32-63, write
 * results 64-95, read results 96-127, op results 128-159, watch trigger 160, watch event 161,
 * request context 176), so bytes of one family never decode as another. Tags are append-only: a
 * retired tag is never reused. Nested values (the ops of a multi, a Stat, an ACL) carry no version
 * byte: the top-level one covers them. Snapshots have their own header (snapshot.ts).
 *
 *   string      varuint UTF-8 byte length · bytes (well-formed UTF-8, capped per field)
 *   optional x  u8 0 (absent) | u8 1 · x
 *   version     varint, any Java int (ZooKeeper's versions wrap: tree/node.ts nextVersion; a
 *               request's -1 means any; /zookeeper's client cversion is -1)
 *   zxid        varuint (a log index, >= 0)
 *   time        float64 big-endian, finite (the leader's clock in ms)
 *   error code  varint errno (ZooKeeper's numbers, errors.ts); only known codes decode
 *   Id          string scheme · string id (each <= ACL_ID_BYTES_MAX)
 *   ACL list    varuint count (<= ACL_ENTRIES_MAX) · (u8 perms in 0..31 · Id)*
 *   Stat        czxid mzxid pzxid (zxids) · ctime mtime · version cversion aversion (versions)
 *               · optional owner · dataLength (<= DATA_BYTES_MAX)
 *               · numChildren (<= CHILDREN_PER_NODE_MAX)
 *
 * Encodings are canonical: the reader refuses overlong varints and negative zero, and every
 * choice (flags, tags, counts) has one spelling, so a value has exactly one encoding and whatever
 * decodes re-encodes to the same bytes.
 *
 * Writers assert their input (a bad value there is our bug, STYLE.md habit 4); readers throw
 * DecodeError, which `decodeWith` turns into `{ ok: false }`.
 */

import { assert, AssertionError, unreachable } from '../assert.js';
import { ErrorCode, errorNameOf, type ErrorName, type FailureName } from '../errors.js';
import {
  ACL_ENTRIES_MAX,
  ACL_ID_BYTES_MAX,
  CHILDREN_PER_NODE_MAX,
  DATA_BYTES_MAX,
  PATH_BYTES_MAX,
  SESSION_ID_BYTES_MAX,
  TTL_MS_MAX,
} from '../limits.js';
import type { ACL, CreateMode, Id, SessionId, Stat, WatchEventType } from '../tree/types.js';
import { decodeWith, type Decoded, type Reader } from './reader.js';
import { Writer } from './writer.js';

/** The one-byte version at the front of every top-level request, txn, result and watch message. */
export const FORMAT_VERSION = 1;

// --- Value ranges ----------------------------------------------------------------------------
// Not limits (those live in limits.ts): the ranges a field's type allows, so that a decoded
// number is always one the tree could have written.

/** Versions (version, cversion, aversion, a request's expected version, a create's parent
 *  cversion) are Java ints in ZooKeeper and wrap past 2^31 - 1 (tree/node.ts nextInt32,
 *  nextVersion), so every int32 is a possible version; -1 in a request means any. */
export const VERSION_MIN = -0x8000_0000;
export const VERSION_MAX = 0x7fff_ffff;
/** Zxids (log indexes) and other counts are JS numbers: exact up to 2^53 - 1. */
export const COUNTER_MAX = Number.MAX_SAFE_INTEGER;
/** ZooDefs.Perms.ALL: every permission bit; higher bits mean nothing. */
export const PERMS_MAX = 31;

// --- Top-level framing ------------------------------------------------------------------------

/** Runs `write` on a fresh Writer and returns the bytes. */
export function encodeWith(write: (writer: Writer) => void): Uint8Array {
  const writer = new Writer();
  write(writer);
  return writer.finish();
}

/** Writes the format version and the message's kind tag. */
export function writeFrame(writer: Writer, tag: number): void {
  writer.u8(FORMAT_VERSION);
  writer.u8(tag);
}

/** Reads and checks the format version; returns the kind tag that follows. */
export function readFrame(reader: Reader, what: string): number {
  const version = reader.u8(`${what} format version`);
  if (version !== FORMAT_VERSION) reader.fail(`${what}: unsupported format version ${version}`);
  return reader.u8(`${what} kind`);
}

/** Decodes a framed message: version byte, then `read`, which must consume every byte. */
export function decodeFramed<T>(bytes: Uint8Array, what: string, read: (reader: Reader, tag: number) => T): Decoded<T> {
  return decodeWith(bytes, (reader) => read(reader, readFrame(reader, what)));
}

// --- Scalars ---------------------------------------------------------------------------------

export function writePath(writer: Writer, path: string): void {
  writer.string(path, PATH_BYTES_MAX);
}
export function readPath(reader: Reader, what = 'path'): string {
  return reader.string(what, PATH_BYTES_MAX);
}

export function writeData(writer: Writer, data: Uint8Array): void {
  writer.bytesVar(data, DATA_BYTES_MAX);
}
export function readData(reader: Reader): Uint8Array {
  return reader.bytesVar('data', DATA_BYTES_MAX);
}

export function writeSessionId(writer: Writer, sessionId: SessionId): void {
  writer.string(sessionId, SESSION_ID_BYTES_MAX);
}
export function readSessionId(reader: Reader, what = 'sessionId'): SessionId {
  return reader.string(what, SESSION_ID_BYTES_MAX);
}

export function writeOptionalSessionId(writer: Writer, sessionId: SessionId | null): void {
  assert(sessionId === null || typeof sessionId === 'string', 'session id is a string or null');
  writer.bool(sessionId !== null);
  if (sessionId !== null) writeSessionId(writer, sessionId);
}
export function readOptionalSessionId(reader: Reader, what: string): SessionId | null {
  return reader.bool(`${what} present`) ? readSessionId(reader, what) : null;
}

/** A version, cversion or aversion: any int32 (a request's -1 means any). */
export function writeVersion(writer: Writer, version: number): void {
  writer.varInt(version, VERSION_MIN, VERSION_MAX);
}
export function readVersion(reader: Reader, what = 'version'): number {
  return reader.varInt(what, VERSION_MIN, VERSION_MAX);
}

/** A zxid (a log index): never negative. */
export function writeZxid(writer: Writer, zxid: number): void {
  writer.varUint(zxid, COUNTER_MAX);
}
export function readZxid(reader: Reader, what: string): number {
  return reader.varUint(what, COUNTER_MAX);
}

/** A time in ms from the leader's clock: any finite number. */
export function writeTime(writer: Writer, time: number): void {
  writer.float64(time);
}
export function readTime(reader: Reader, what: string): number {
  return reader.float64(what);
}

/** A TTL in ms, [0, TTL_MS_MAX] (0 where the mode has none). */
export function writeTtlMs(writer: Writer, ttlMs: number): void {
  writer.varUint(ttlMs, TTL_MS_MAX);
}
export function readTtlMs(reader: Reader): number {
  return reader.varUint('ttlMs', TTL_MS_MAX);
}

/** A session timeout in ms: `min` is 0 for what a client asks, 1 once negotiated (txns, snapshots). */
export function writeTimeoutMs(writer: Writer, timeoutMs: number, min: 0 | 1): void {
  if (!(timeoutMs >= min)) throw new AssertionError(`timeoutMs ${timeoutMs} is at least ${min}`);
  writer.varUint(timeoutMs, COUNTER_MAX);
}
export function readTimeoutMs(reader: Reader, min: 0 | 1): number {
  const timeoutMs = reader.varUint('timeoutMs', COUNTER_MAX);
  if (timeoutMs < min) reader.fail(`timeoutMs: ${timeoutMs} is below ${min}`);
  return timeoutMs;
}

// --- Error codes -------------------------------------------------------------------------------

/** Any known code, OK included (ErrorTxn and a multi's per-op ErrorResult). */
export function writeErrorName(writer: Writer, code: ErrorName): void {
  const errno = ErrorCode[code];
  if (typeof errno !== 'number') throw new AssertionError(`error code ${String(code)} is known`);
  writer.varInt(errno);
}
export function readErrorName(reader: Reader): ErrorName {
  const errno = reader.varInt('error code', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  const name = errorNameOf(errno);
  if (name === undefined) reader.fail(`error code: ${errno} is not a ZooKeeper code`);
  return name;
}

/** A failure: any known code except OK. */
export function writeFailureName(writer: Writer, code: FailureName): void {
  assert(code !== ('OK' as ErrorName), 'a failure code is not OK');
  writeErrorName(writer, code);
}
export function readFailureName(reader: Reader): FailureName {
  const name = readErrorName(reader);
  if (name === 'OK') reader.fail('error code: OK where a failure is required');
  return name;
}

// --- Enumerations: fixed tables, so that reordering a list in types.ts never changes the wire ----

/** Create modes by wire tag (append only). */
export const CREATE_MODE_TAGS: readonly CreateMode[] = [
  'persistent',
  'ephemeral',
  'persistent_sequential',
  'ephemeral_sequential',
  'container',
  'persistent_ttl',
  'persistent_sequential_ttl',
];

export function writeCreateMode(writer: Writer, mode: CreateMode): void {
  writer.tag(mode, CREATE_MODE_TAGS);
}
export function readCreateMode(reader: Reader): CreateMode {
  return reader.tag('create mode', CREATE_MODE_TAGS);
}

/** Watch event types by ZooKeeper's Watcher.Event.EventType numbers (None = -1 is not a trigger). */
export function watchEventTypeNumber(type: WatchEventType): number {
  switch (type) {
    case 'NodeCreated':
      return 1;
    case 'NodeDeleted':
      return 2;
    case 'NodeDataChanged':
      return 3;
    case 'NodeChildrenChanged':
      return 4;
    default:
      return unreachable(type, 'watch event type');
  }
}
const WATCH_EVENT_TYPE_BY_NUMBER: readonly (WatchEventType | undefined)[] = [
  undefined,
  'NodeCreated',
  'NodeDeleted',
  'NodeDataChanged',
  'NodeChildrenChanged',
];

export function writeWatchEventType(writer: Writer, type: WatchEventType): void {
  writer.u8(watchEventTypeNumber(type));
}
export function readWatchEventType(reader: Reader): WatchEventType {
  const number = reader.u8('watch event type');
  const type = WATCH_EVENT_TYPE_BY_NUMBER[number];
  if (type === undefined) reader.fail(`watch event type: unknown ${number}`);
  return type;
}

// --- Ids, ACLs, Stat ----------------------------------------------------------------------------

export function writeId(writer: Writer, id: Id): void {
  writer.string(id.scheme, ACL_ID_BYTES_MAX);
  writer.string(id.id, ACL_ID_BYTES_MAX);
}
export function readId(reader: Reader): Id {
  const scheme = reader.string('id scheme', ACL_ID_BYTES_MAX);
  const id = reader.string('id', ACL_ID_BYTES_MAX);
  return { scheme, id };
}

export function writePerms(writer: Writer, perms: number): void {
  assert(Number.isInteger(perms), 'perms is an integer');
  if (perms < 0 || perms > PERMS_MAX) throw new AssertionError(`perms ${perms} in 0..${PERMS_MAX}`);
  writer.u8(perms);
}
export function readPerms(reader: Reader): number {
  const perms = reader.u8('perms');
  if (perms > PERMS_MAX) reader.fail(`perms: ${perms} outside 0..${PERMS_MAX}`);
  return perms;
}

/** The least bytes one ACL entry takes (perms, two empty strings): bounds a claimed count. */
const ACL_ENTRY_BYTES_MIN = 3;

export function writeAcl(writer: Writer, acl: readonly ACL[]): void {
  assert(Array.isArray(acl), 'acl is an array');
  writer.count(acl.length, ACL_ENTRIES_MAX);
  for (const entry of acl) {
    writePerms(writer, entry.perms);
    writeId(writer, entry.id);
  }
}
export function readAcl(reader: Reader): ACL[] {
  const count = reader.count('acl entries', ACL_ENTRIES_MAX, ACL_ENTRY_BYTES_MIN);
  const acl: ACL[] = [];
  for (let index = 0; index < count; index++) {
    const perms = readPerms(reader);
    const id = readId(reader);
    acl.push({ perms, id });
  }
  return acl;
}

/** The least bytes one Id takes (two empty strings). */
export const ID_BYTES_MIN = 2;

export function writeIds(writer: Writer, ids: readonly Id[], max: number): void {
  assert(Array.isArray(ids), 'ids is an array');
  writer.count(ids.length, max);
  for (const id of ids) writeId(writer, id);
}
export function readIds(reader: Reader, what: string, max: number): Id[] {
  const count = reader.count(what, max, ID_BYTES_MIN);
  const ids: Id[] = [];
  for (let index = 0; index < count; index++) ids.push(readId(reader));
  return ids;
}

export function writeStat(writer: Writer, stat: Stat): void {
  writeZxid(writer, stat.czxid);
  writeZxid(writer, stat.mzxid);
  writeZxid(writer, stat.pzxid);
  writeTime(writer, stat.ctime);
  writeTime(writer, stat.mtime);
  writeVersion(writer, stat.version);
  writeVersion(writer, stat.cversion);
  writeVersion(writer, stat.aversion);
  writeOptionalSessionId(writer, stat.ephemeralOwner);
  writer.varUint(stat.dataLength, DATA_BYTES_MAX);
  writer.varUint(stat.numChildren, CHILDREN_PER_NODE_MAX);
}
export function readStat(reader: Reader): Stat {
  const czxid = readZxid(reader, 'stat czxid');
  const mzxid = readZxid(reader, 'stat mzxid');
  const pzxid = readZxid(reader, 'stat pzxid');
  const ctime = readTime(reader, 'stat ctime');
  const mtime = readTime(reader, 'stat mtime');
  const version = readVersion(reader, 'stat version');
  const cversion = readVersion(reader, 'stat cversion');
  const aversion = readVersion(reader, 'stat aversion');
  const ephemeralOwner = readOptionalSessionId(reader, 'stat ephemeralOwner');
  const dataLength = reader.varUint('stat dataLength', DATA_BYTES_MAX);
  const numChildren = reader.varUint('stat numChildren', CHILDREN_PER_NODE_MAX);
  return { czxid, mzxid, pzxid, ctime, mtime, version, cversion, aversion, ephemeralOwner, dataLength, numChildren };
}

export function writeOptionalStat(writer: Writer, stat: Stat | null): void {
  writer.bool(stat !== null);
  if (stat !== null) writeStat(writer, stat);
}
export function readOptionalStat(reader: Reader): Stat | null {
  return reader.bool('stat present') ? readStat(reader) : null;
}

/** A list of strings (child names or paths), each at most PATH_BYTES_MAX bytes. */
export function writePathList(writer: Writer, paths: readonly string[], max: number): void {
  assert(Array.isArray(paths), 'path list is an array');
  writer.count(paths.length, max);
  for (const path of paths) writePath(writer, path);
}
export function readPathList(reader: Reader, what: string, max: number): string[] {
  const count = reader.count(what, max, 1);
  const paths: string[] = [];
  for (let index = 0; index < count; index++) paths.push(readPath(reader, what));
  return paths;
}
