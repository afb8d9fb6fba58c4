/**
 * Results and watch triggers on the wire: what a client gets back from a write or a read, and the
 * changes that fire its watches. Framing and field formats: fields.ts.
 *
 *   WriteResult  = FORMAT_VERSION · WRITE_RESULT_* tag · body
 *   ReadResult   = FORMAT_VERSION · READ_RESULT_* tag · body
 *   WatchTrigger = FORMAT_VERSION · WATCH_TRIGGER · event type (ZooKeeper's number) · path · zxid
 *                  · optional ACL (the node's, for the watch manager's READ check)
 *   WatchEvent   = FORMAT_VERSION · WATCH_EVENT · watcher · event type · path · zxid
 *   failure      = error code (never OK) · optional path [· optional OpResult list, writes only]
 *   OpResult     = OP_RESULT_* tag · body (inside a multi's results, at most MULTI_OPS_MAX)
 *
 * A WatchEvent is the message a serving peer sends for one watcher: ZooKeeper's WatchedEvent
 * (type, path) plus the zxid that orders it and the watcher it is for.
 */

import { unreachable } from '../assert.js';
import { CHILDREN_PER_NODE_MAX, MULTI_OPS_MAX, NODES_MAX, SESSION_ID_BYTES_MAX } from '../limits.js';
import type { OpResult, ReadResult, WatchEvent, WatchTrigger, WriteResult } from '../tree/types.js';
import type { Decoded, Reader } from './reader.js';
import type { Writer } from './writer.js';
import {
  decodeFramed,
  encodeWith,
  FORMAT_VERSION,
  readAcl,
  readZxid,
  readData,
  readErrorName,
  readFailureName,
  readOptionalStat,
  readPath,
  readPathList,
  readStat,
  readWatchEventType,
  writeAcl,
  writeZxid,
  writeData,
  writeErrorName,
  writeFailureName,
  writeFrame,
  writeOptionalStat,
  writePath,
  writePathList,
  writeStat,
  writeWatchEventType,
} from './fields.js';

// Kind tags: write results 64-95, read results 96-127, op results 128-159, watch triggers 160
// (append only; a retired tag is never reused).
export const WRITE_RESULT_FAIL = 64;
export const WRITE_RESULT_CREATE = 65;
export const WRITE_RESULT_DELETE = 66;
export const WRITE_RESULT_SET_DATA = 67;
export const WRITE_RESULT_SET_ACL = 68;
export const WRITE_RESULT_MULTI = 69;
export const WRITE_RESULT_CREATE_SESSION = 70;
export const WRITE_RESULT_CLOSE_SESSION = 71;
export const WRITE_RESULT_DELETE_CONTAINER = 72;

export const READ_RESULT_FAIL = 96;
export const READ_RESULT_GET_DATA = 97;
export const READ_RESULT_EXISTS = 98;
export const READ_RESULT_GET_CHILDREN = 99;
export const READ_RESULT_GET_ACL = 100;
export const READ_RESULT_GET_EPHEMERALS = 101;
export const READ_RESULT_GET_ALL_CHILDREN_NUMBER = 102;
export const READ_RESULT_SYNC = 103;

export const OP_RESULT_CREATE = 128;
export const OP_RESULT_DELETE = 129;
export const OP_RESULT_SET_DATA = 130;
export const OP_RESULT_CHECK = 131;
export const OP_RESULT_ERROR = 132;

export const WATCH_TRIGGER = 160;
export const WATCH_EVENT = 161;

/** The longest watcher id, in UTF-8 bytes. Watcher ids are the runtime's (a session id of at most
 *  SESSION_ID_BYTES_MAX, or one callback's id): twice that leaves room for a suffix.
 *  TODO(limits.ts): move beside SESSION_ID_BYTES_MAX when the runtime fixes its watcher ids. */
export const WATCHER_ID_BYTES_MAX = 2 * SESSION_ID_BYTES_MAX;

/** The least bytes one OpResult takes (a tag alone): bounds a claimed count. */
const OP_RESULT_BYTES_MIN = 1;

// --- Op results (a multi's per-op answers) ----------------------------------------------------

export function writeOpResult(writer: Writer, result: OpResult): void {
  switch (result.op) {
    case 'create':
      writer.u8(OP_RESULT_CREATE);
      writePath(writer, result.path);
      writeStat(writer, result.stat);
      return;
    case 'delete':
      writer.u8(OP_RESULT_DELETE);
      return;
    case 'setData':
      writer.u8(OP_RESULT_SET_DATA);
      writeStat(writer, result.stat);
      return;
    case 'check':
      writer.u8(OP_RESULT_CHECK);
      return;
    case 'error':
      writer.u8(OP_RESULT_ERROR);
      writeErrorName(writer, result.code);
      return;
    default:
      return unreachable(result, 'op result');
  }
}

export function readOpResult(reader: Reader): OpResult {
  const tag = reader.u8('op result kind');
  switch (tag) {
    case OP_RESULT_CREATE: {
      const path = readPath(reader);
      return { op: 'create', path, stat: readStat(reader) };
    }
    case OP_RESULT_DELETE:
      return { op: 'delete' };
    case OP_RESULT_SET_DATA:
      return { op: 'setData', stat: readStat(reader) };
    case OP_RESULT_CHECK:
      return { op: 'check' };
    case OP_RESULT_ERROR:
      return { op: 'error', code: readErrorName(reader) };
    default:
      return reader.fail(`op result kind: unknown tag ${tag}`);
  }
}

function writeOpResults(writer: Writer, results: readonly OpResult[]): void {
  writer.count(results.length, MULTI_OPS_MAX);
  for (const result of results) writeOpResult(writer, result);
}
function readOpResults(reader: Reader): OpResult[] {
  const count = reader.count('op results', MULTI_OPS_MAX, OP_RESULT_BYTES_MIN);
  const results: OpResult[] = [];
  for (let index = 0; index < count; index++) results.push(readOpResult(reader));
  return results;
}

function writeOptionalPath(writer: Writer, path: string | undefined): void {
  writer.bool(path !== undefined);
  if (path !== undefined) writePath(writer, path);
}
function readOptionalPath(reader: Reader): string | undefined {
  return reader.bool('path present') ? readPath(reader) : undefined;
}

// --- Write results --------------------------------------------------------------------------

/** Writes a write result's kind tag and body (no version byte: for embedding). */
export function writeWriteResult(writer: Writer, result: WriteResult): void {
  if (!result.ok) {
    writer.u8(WRITE_RESULT_FAIL);
    writeFailureName(writer, result.code);
    writeOptionalPath(writer, result.path);
    writer.bool(result.results !== undefined);
    if (result.results !== undefined) writeOpResults(writer, result.results);
    return;
  }
  switch (result.op) {
    case 'create':
      writer.u8(WRITE_RESULT_CREATE);
      writePath(writer, result.path);
      writeStat(writer, result.stat);
      return;
    case 'delete':
      writer.u8(WRITE_RESULT_DELETE);
      return;
    case 'setData':
      writer.u8(WRITE_RESULT_SET_DATA);
      writeStat(writer, result.stat);
      return;
    case 'setACL':
      writer.u8(WRITE_RESULT_SET_ACL);
      writeStat(writer, result.stat);
      return;
    case 'multi':
      writer.u8(WRITE_RESULT_MULTI);
      writeOpResults(writer, result.results);
      return;
    case 'createSession':
      writer.u8(WRITE_RESULT_CREATE_SESSION);
      return;
    case 'closeSession':
      writer.u8(WRITE_RESULT_CLOSE_SESSION);
      return;
    case 'deleteContainer':
      writer.u8(WRITE_RESULT_DELETE_CONTAINER);
      return;
    default:
      return unreachable(result, 'write result');
  }
}

function readWriteResultBody(reader: Reader, tag: number): WriteResult {
  switch (tag) {
    case WRITE_RESULT_FAIL: {
      const code = readFailureName(reader);
      const path = readOptionalPath(reader);
      const results = reader.bool('results present') ? readOpResults(reader) : undefined;
      const failure: Extract<WriteResult, { ok: false }> = { ok: false, code };
      if (path !== undefined) failure.path = path;
      if (results !== undefined) failure.results = results;
      return failure;
    }
    case WRITE_RESULT_CREATE: {
      const path = readPath(reader);
      return { ok: true, op: 'create', path, stat: readStat(reader) };
    }
    case WRITE_RESULT_DELETE:
      return { ok: true, op: 'delete' };
    case WRITE_RESULT_SET_DATA:
      return { ok: true, op: 'setData', stat: readStat(reader) };
    case WRITE_RESULT_SET_ACL:
      return { ok: true, op: 'setACL', stat: readStat(reader) };
    case WRITE_RESULT_MULTI:
      return { ok: true, op: 'multi', results: readOpResults(reader) };
    case WRITE_RESULT_CREATE_SESSION:
      return { ok: true, op: 'createSession' };
    case WRITE_RESULT_CLOSE_SESSION:
      return { ok: true, op: 'closeSession' };
    case WRITE_RESULT_DELETE_CONTAINER:
      return { ok: true, op: 'deleteContainer' };
    default:
      return reader.fail(`write result kind: unknown tag ${tag}`);
  }
}

/** Reads a write result's kind tag and body (the mirror of writeWriteResult). */
export function readWriteResult(reader: Reader): WriteResult {
  return readWriteResultBody(reader, reader.u8('write result kind'));
}

export function encodeWriteResult(result: WriteResult): Uint8Array {
  return encodeWith((writer) => {
    writer.u8(FORMAT_VERSION);
    writeWriteResult(writer, result);
  });
}

export function decodeWriteResult(bytes: Uint8Array): Decoded<WriteResult> {
  return decodeFramed(bytes, 'write result', readWriteResultBody);
}

// --- Read results ---------------------------------------------------------------------------

/** Writes a read result's kind tag and body (no version byte: for embedding). */
export function writeReadResult(writer: Writer, result: ReadResult): void {
  if (!result.ok) {
    writer.u8(READ_RESULT_FAIL);
    writeFailureName(writer, result.code);
    writeOptionalPath(writer, result.path);
    return;
  }
  switch (result.op) {
    case 'getData':
      writer.u8(READ_RESULT_GET_DATA);
      writeData(writer, result.data);
      writeStat(writer, result.stat);
      return;
    case 'exists':
      writer.u8(READ_RESULT_EXISTS);
      writeOptionalStat(writer, result.stat);
      return;
    case 'getChildren':
      writer.u8(READ_RESULT_GET_CHILDREN);
      writePathList(writer, result.children, CHILDREN_PER_NODE_MAX);
      writeStat(writer, result.stat);
      return;
    case 'getACL':
      writer.u8(READ_RESULT_GET_ACL);
      writeAcl(writer, result.acl);
      writeStat(writer, result.stat);
      return;
    case 'getEphemerals':
      writer.u8(READ_RESULT_GET_EPHEMERALS);
      writePathList(writer, result.paths, NODES_MAX);
      return;
    case 'getAllChildrenNumber':
      writer.u8(READ_RESULT_GET_ALL_CHILDREN_NUMBER);
      writer.varUint(result.count, NODES_MAX);
      return;
    case 'sync':
      writer.u8(READ_RESULT_SYNC);
      writePath(writer, result.path);
      return;
    default:
      return unreachable(result, 'read result');
  }
}

function readReadResultBody(reader: Reader, tag: number): ReadResult {
  switch (tag) {
    case READ_RESULT_FAIL: {
      const code = readFailureName(reader);
      const path = readOptionalPath(reader);
      return path === undefined ? { ok: false, code } : { ok: false, code, path };
    }
    case READ_RESULT_GET_DATA: {
      const data = readData(reader);
      return { ok: true, op: 'getData', data, stat: readStat(reader) };
    }
    case READ_RESULT_EXISTS:
      return { ok: true, op: 'exists', stat: readOptionalStat(reader) };
    case READ_RESULT_GET_CHILDREN: {
      const children = readPathList(reader, 'children', CHILDREN_PER_NODE_MAX);
      return { ok: true, op: 'getChildren', children, stat: readStat(reader) };
    }
    case READ_RESULT_GET_ACL: {
      const acl = readAcl(reader);
      return { ok: true, op: 'getACL', acl, stat: readStat(reader) };
    }
    case READ_RESULT_GET_EPHEMERALS:
      return { ok: true, op: 'getEphemerals', paths: readPathList(reader, 'ephemeral paths', NODES_MAX) };
    case READ_RESULT_GET_ALL_CHILDREN_NUMBER:
      return { ok: true, op: 'getAllChildrenNumber', count: reader.varUint('count', NODES_MAX) };
    case READ_RESULT_SYNC:
      return { ok: true, op: 'sync', path: readPath(reader) };
    default:
      return reader.fail(`read result kind: unknown tag ${tag}`);
  }
}

/** Reads a read result's kind tag and body (the mirror of writeReadResult). */
export function readReadResult(reader: Reader): ReadResult {
  return readReadResultBody(reader, reader.u8('read result kind'));
}

export function encodeReadResult(result: ReadResult): Uint8Array {
  return encodeWith((writer) => {
    writer.u8(FORMAT_VERSION);
    writeReadResult(writer, result);
  });
}

export function decodeReadResult(bytes: Uint8Array): Decoded<ReadResult> {
  return decodeFramed(bytes, 'read result', readReadResultBody);
}

// --- Watch triggers -------------------------------------------------------------------------

export function writeWatchTrigger(writer: Writer, trigger: WatchTrigger): void {
  writeWatchEventType(writer, trigger.type);
  writePath(writer, trigger.path);
  writeZxid(writer, trigger.zxid);
  writer.bool(trigger.acl !== undefined);
  if (trigger.acl !== undefined) writeAcl(writer, trigger.acl);
}
export function readWatchTrigger(reader: Reader): WatchTrigger {
  const type = readWatchEventType(reader);
  const path = readPath(reader);
  const zxid = readZxid(reader, 'zxid');
  return reader.bool('acl present') ? { type, path, zxid, acl: readAcl(reader) } : { type, path, zxid };
}

export function encodeWatchTrigger(trigger: WatchTrigger): Uint8Array {
  return encodeWith((writer) => {
    writeFrame(writer, WATCH_TRIGGER);
    writeWatchTrigger(writer, trigger);
  });
}

export function decodeWatchTrigger(bytes: Uint8Array): Decoded<WatchTrigger> {
  return decodeFramed(bytes, 'watch trigger', (reader, tag) => {
    if (tag !== WATCH_TRIGGER) reader.fail(`watch trigger kind: unknown tag ${tag}`);
    return readWatchTrigger(reader);
  });
}

// --- Watch events (one per watcher, from the watch manager) ----------------------------------

export function writeWatchEvent(writer: Writer, event: WatchEvent): void {
  writer.string(event.watcher, WATCHER_ID_BYTES_MAX);
  writeWatchEventType(writer, event.type);
  writePath(writer, event.path);
  writeZxid(writer, event.zxid);
}
export function readWatchEvent(reader: Reader): WatchEvent {
  const watcher = reader.string('watcher', WATCHER_ID_BYTES_MAX);
  const type = readWatchEventType(reader);
  const path = readPath(reader);
  return { watcher, type, path, zxid: readZxid(reader, 'zxid') };
}

export function encodeWatchEvent(event: WatchEvent): Uint8Array {
  return encodeWith((writer) => {
    writeFrame(writer, WATCH_EVENT);
    writeWatchEvent(writer, event);
  });
}

export function decodeWatchEvent(bytes: Uint8Array): Decoded<WatchEvent> {
  return decodeFramed(bytes, 'watch event', (reader, tag) => {
    if (tag !== WATCH_EVENT) reader.fail(`watch event kind: unknown tag ${tag}`);
    return readWatchEvent(reader);
  });
}
