/**
 * Requests and their context on the wire: what a client asks (writes forwarded to the leader,
 * reads served locally) and who asks. Framing and field formats: fields.ts.
 *
 *   Request        = FORMAT_VERSION · REQUEST_* tag · body
 *   RequestContext = FORMAT_VERSION · REQUEST_CONTEXT · sessionId · count · Id*
 *
 * The decoder checks structure and ranges only; what a request means (path syntax, whether a TTL
 * suits its mode, ACL validity) is prep's to judge, which answers BADARGUMENTS and the like. So it
 * refuses only what can never be valid: an unknown tag, a string over its cap, a version that is
 * not a Java int.
 */

import { assert, unreachable } from '../assert.js';
import { ACL_ENTRIES_MAX, ACL_ID_BYTES_MAX, AUTH_IDS_MAX, DATA_BYTES_MAX, MULTI_OPS_MAX, PATH_BYTES_MAX, REQUEST_BYTES_MAX } from '../limits.js';
import type {
  ACL,
  CheckRequest,
  CreateRequest,
  DeleteRequest,
  MultiOp,
  Request,
  RequestContext,
  SetDataRequest,
} from '../tree/types.js';
import type { Decoded, Reader } from './reader.js';
import { utf8ByteLength, type Writer } from './writer.js';
import {
  decodeFramed,
  encodeWith,
  FORMAT_VERSION,
  readAcl,
  readCreateMode,
  readData,
  readIds,
  readPath,
  readVersion,
  readSessionId,
  readTimeoutMs,
  readTtlMs,
  writeAcl,
  writeCreateMode,
  writeData,
  writeFrame,
  writeIds,
  writePath,
  writeVersion,
  writeSessionId,
  writeTimeoutMs,
  writeTtlMs,
} from './fields.js';

// Kind tags: requests 1-31 (append only; a retired tag is never reused).
export const REQUEST_CREATE = 1;
export const REQUEST_DELETE = 2;
export const REQUEST_SET_DATA = 3;
export const REQUEST_SET_ACL = 4;
/** Only inside a multi (ZooKeeper's check op). */
export const REQUEST_CHECK = 5;
export const REQUEST_MULTI = 6;
export const REQUEST_CREATE_SESSION = 7;
export const REQUEST_CLOSE_SESSION = 8;
export const REQUEST_DELETE_CONTAINER = 9;
export const REQUEST_GET_DATA = 10;
export const REQUEST_EXISTS = 11;
export const REQUEST_GET_CHILDREN = 12;
export const REQUEST_GET_ACL = 13;
export const REQUEST_GET_EPHEMERALS = 14;
export const REQUEST_GET_ALL_CHILDREN_NUMBER = 15;
export const REQUEST_SYNC = 16;
/** The tag of a framed RequestContext. */
export const REQUEST_CONTEXT = 176;

/** The least bytes one multi op takes (tag, empty path, version): bounds a claimed op count. */
const MULTI_OP_BYTES_MIN = 3;

// --- Multi ops (also top-level requests, except check) -----------------------------------------

function writeCreateBody(writer: Writer, request: CreateRequest): void {
  writePath(writer, request.path);
  writeData(writer, request.data);
  writeAcl(writer, request.acl);
  writeCreateMode(writer, request.mode);
  writer.bool(request.ttlMs !== undefined);
  if (request.ttlMs !== undefined) writeTtlMs(writer, request.ttlMs);
}
function readCreateBody(reader: Reader): CreateRequest {
  const path = readPath(reader);
  const data = readData(reader);
  const acl = readAcl(reader);
  const mode = readCreateMode(reader);
  if (!reader.bool('ttlMs present')) return { op: 'create', path, data, acl, mode };
  return { op: 'create', path, data, acl, mode, ttlMs: readTtlMs(reader) };
}

function writeMultiOp(writer: Writer, op: MultiOp): void {
  switch (op.op) {
    case 'create':
      writer.u8(REQUEST_CREATE);
      writeCreateBody(writer, op);
      return;
    case 'delete':
      writer.u8(REQUEST_DELETE);
      writePath(writer, op.path);
      writeVersion(writer, op.version);
      return;
    case 'setData':
      writer.u8(REQUEST_SET_DATA);
      writePath(writer, op.path);
      writeData(writer, op.data);
      writeVersion(writer, op.version);
      return;
    case 'check':
      writer.u8(REQUEST_CHECK);
      writePath(writer, op.path);
      writeVersion(writer, op.version);
      return;
    default:
      return unreachable(op, 'multi op');
  }
}

/** Reads the body of a create, delete, setData or check whose tag was read; undefined for others. */
function readMultiOpBody(reader: Reader, tag: number): MultiOp | undefined {
  switch (tag) {
    case REQUEST_CREATE:
      return readCreateBody(reader);
    case REQUEST_DELETE: {
      const path = readPath(reader);
      return { op: 'delete', path, version: readVersion(reader) } satisfies DeleteRequest;
    }
    case REQUEST_SET_DATA: {
      const path = readPath(reader);
      const data = readData(reader);
      return { op: 'setData', path, data, version: readVersion(reader) } satisfies SetDataRequest;
    }
    case REQUEST_CHECK: {
      const path = readPath(reader);
      return { op: 'check', path, version: readVersion(reader) } satisfies CheckRequest;
    }
    default:
      return undefined;
  }
}

function readMultiOp(reader: Reader): MultiOp {
  const tag = reader.u8('multi op kind');
  const op = readMultiOpBody(reader, tag);
  if (op === undefined) reader.fail(`multi op kind: ${tag} is not create, delete, setData or check`);
  return op;
}

// --- Requests -------------------------------------------------------------------------------

/** Writes `request`'s kind tag and body (no version byte: for embedding in a framed message). */
export function writeRequest(writer: Writer, request: Request): void {
  switch (request.op) {
    case 'create':
    case 'delete':
    case 'setData':
      writeMultiOp(writer, request);
      return;
    case 'setACL':
      writer.u8(REQUEST_SET_ACL);
      writePath(writer, request.path);
      writeAcl(writer, request.acl);
      writeVersion(writer, request.version);
      return;
    case 'multi':
      assert(Array.isArray(request.ops), 'multi ops is an array');
      writer.u8(REQUEST_MULTI);
      writer.count(request.ops.length, MULTI_OPS_MAX);
      for (const op of request.ops) writeMultiOp(writer, op);
      return;
    case 'createSession':
      writer.u8(REQUEST_CREATE_SESSION);
      writeSessionId(writer, request.sessionId);
      writeTimeoutMs(writer, request.timeoutMs, 0);
      return;
    case 'closeSession':
      writer.u8(REQUEST_CLOSE_SESSION);
      writeSessionId(writer, request.sessionId);
      return;
    case 'deleteContainer':
      writer.u8(REQUEST_DELETE_CONTAINER);
      writePath(writer, request.path);
      return;
    case 'getData':
    case 'exists':
    case 'getChildren':
      writer.u8(request.op === 'getData' ? REQUEST_GET_DATA : request.op === 'exists' ? REQUEST_EXISTS : REQUEST_GET_CHILDREN);
      writePath(writer, request.path);
      writer.bool(request.watch);
      return;
    case 'getACL':
      writer.u8(REQUEST_GET_ACL);
      writePath(writer, request.path);
      return;
    case 'getEphemerals':
      writer.u8(REQUEST_GET_EPHEMERALS);
      writePath(writer, request.prefix);
      return;
    case 'getAllChildrenNumber':
      writer.u8(REQUEST_GET_ALL_CHILDREN_NUMBER);
      writePath(writer, request.path);
      return;
    case 'sync':
      writer.u8(REQUEST_SYNC);
      writePath(writer, request.path);
      return;
    default:
      return unreachable(request, 'request');
  }
}

/** Reads a request's body after its kind tag. */
function readRequestBody(reader: Reader, tag: number): Request {
  switch (tag) {
    case REQUEST_CREATE:
    case REQUEST_DELETE:
    case REQUEST_SET_DATA: {
      const op = readMultiOpBody(reader, tag);
      assert(op !== undefined && op.op !== 'check', 'create, delete and setData are multi ops');
      return op;
    }
    case REQUEST_SET_ACL: {
      const path = readPath(reader);
      const acl = readAcl(reader);
      return { op: 'setACL', path, acl, version: readVersion(reader) };
    }
    case REQUEST_MULTI: {
      const count = reader.count('multi ops', MULTI_OPS_MAX, MULTI_OP_BYTES_MIN);
      const ops: MultiOp[] = [];
      for (let index = 0; index < count; index++) ops.push(readMultiOp(reader));
      return { op: 'multi', ops };
    }
    case REQUEST_CREATE_SESSION: {
      const sessionId = readSessionId(reader);
      return { op: 'createSession', sessionId, timeoutMs: readTimeoutMs(reader, 0) };
    }
    case REQUEST_CLOSE_SESSION:
      return { op: 'closeSession', sessionId: readSessionId(reader) };
    case REQUEST_DELETE_CONTAINER:
      return { op: 'deleteContainer', path: readPath(reader) };
    case REQUEST_GET_DATA:
      return { op: 'getData', path: readPath(reader), watch: reader.bool('watch') };
    case REQUEST_EXISTS:
      return { op: 'exists', path: readPath(reader), watch: reader.bool('watch') };
    case REQUEST_GET_CHILDREN:
      return { op: 'getChildren', path: readPath(reader), watch: reader.bool('watch') };
    case REQUEST_GET_ACL:
      return { op: 'getACL', path: readPath(reader) };
    case REQUEST_GET_EPHEMERALS:
      return { op: 'getEphemerals', prefix: readPath(reader, 'prefix') };
    case REQUEST_GET_ALL_CHILDREN_NUMBER:
      return { op: 'getAllChildrenNumber', path: readPath(reader) };
    case REQUEST_SYNC:
      return { op: 'sync', path: readPath(reader) };
    default:
      return reader.fail(`request kind: unknown tag ${tag}`);
  }
}

/** Reads a request's kind tag and body (the mirror of writeRequest). */
export function readRequest(reader: Reader): Request {
  return readRequestBody(reader, reader.u8('request kind'));
}

export function encodeRequest(request: Request): Uint8Array {
  return encodeWith((writer) => {
    writer.u8(FORMAT_VERSION);
    writeRequest(writer, request);
  });
}

export function decodeRequest(bytes: Uint8Array): Decoded<Request> {
  return decodeFramed(bytes, 'request', readRequestBody);
}

// --- Request context ------------------------------------------------------------------------

export function writeRequestContext(writer: Writer, context: RequestContext): void {
  writeSessionId(writer, context.sessionId);
  writeIds(writer, context.auth, AUTH_IDS_MAX);
}
export function readRequestContext(reader: Reader): RequestContext {
  const sessionId = readSessionId(reader);
  return { sessionId, auth: readIds(reader, 'auth ids', AUTH_IDS_MAX) };
}

export function encodeRequestContext(context: RequestContext): Uint8Array {
  return encodeWith((writer) => {
    writeFrame(writer, REQUEST_CONTEXT);
    writeRequestContext(writer, context);
  });
}

export function decodeRequestContext(bytes: Uint8Array): Decoded<RequestContext> {
  return decodeFramed(bytes, 'request context', (reader, tag) => {
    if (tag !== REQUEST_CONTEXT) reader.fail(`request context kind: unknown tag ${tag}`);
    return readRequestContext(reader);
  });
}

// --- Bounds, before encoding ---------------------------------------------------------------------

/** A string's UTF-8 length without encoding it; a lone surrogate (no UTF-8 form) counts as too long. */
function utf8Length(value: string): number {
  const bytes = utf8ByteLength(value);
  return bytes < 0 ? Number.POSITIVE_INFINITY : bytes;
}

function pathProblem(path: unknown): string | null {
  if (typeof path !== 'string') return 'path is not a string';
  return utf8Length(path) > PATH_BYTES_MAX ? `path longer than PATH_BYTES_MAX (${PATH_BYTES_MAX} bytes)` : null;
}

function dataProblem(data: unknown): string | null {
  if (!(data instanceof Uint8Array)) return 'data is not bytes';
  return data.length > DATA_BYTES_MAX ? `data is ${data.length} bytes, more than DATA_BYTES_MAX (${DATA_BYTES_MAX})` : null;
}

function aclProblem(acl: unknown): string | null {
  if (!Array.isArray(acl)) return 'acl is not a list';
  if (acl.length > ACL_ENTRIES_MAX) return `more than ACL_ENTRIES_MAX (${ACL_ENTRIES_MAX}) ACL entries`;
  for (const entry of acl as ACL[]) {
    const id = entry?.id;
    if (typeof id?.scheme !== 'string' || typeof id.id !== 'string') return 'an ACL entry has no scheme and id';
    if (utf8Length(id.scheme) > ACL_ID_BYTES_MAX || utf8Length(id.id) > ACL_ID_BYTES_MAX) return `an ACL id longer than ACL_ID_BYTES_MAX (${ACL_ID_BYTES_MAX} bytes)`;
  }
  return null;
}

function multiOpProblem(op: MultiOp): string | null {
  switch (op.op) {
    case 'create':
      return pathProblem(op.path) ?? dataProblem(op.data) ?? aclProblem(op.acl);
    case 'setData':
      return pathProblem(op.path) ?? dataProblem(op.data);
    default:
      return pathProblem(op.path);
  }
}

/**
 * Why a client's write request cannot be carried by the codec (a field beyond its bound), or null.
 * A serving peer asks before forwarding a write, so an oversize request is BADARGUMENTS for the
 * client — as the leader's prep would answer — instead of an assertion in the encoder. The
 * request's other rules (path syntax, modes, versions, total size) stay the leader's prep's.
 */
export function writeRequestBoundsProblem(request: Request): string | null {
  switch (request.op) {
    case 'create':
    case 'setData':
    case 'delete':
      return multiOpProblem(request);
    case 'setACL':
      return pathProblem(request.path) ?? aclProblem(request.acl);
    case 'multi': {
      if (!Array.isArray(request.ops)) return 'multi ops is not a list';
      if (request.ops.length > MULTI_OPS_MAX) return `more than MULTI_OPS_MAX (${MULTI_OPS_MAX}) ops in a multi`;
      let dataBytes = 0;
      for (const op of request.ops) {
        const problem = multiOpProblem(op);
        if (problem !== null) return problem;
        if (op.op === 'create' || op.op === 'setData') dataBytes += op.data.length;
      }
      return dataBytes > REQUEST_BYTES_MAX ? `a multi of ${dataBytes} data bytes, more than REQUEST_BYTES_MAX (${REQUEST_BYTES_MAX})` : null;
    }
    default:
      return null;
  }
}
