/**
 * Txns on the wire: the Raft log's payload, made by prep on the leader and applied on every
 * replica, so the bytes must say exactly one thing. Framing and field formats: fields.ts.
 *
 *   Txn      = FORMAT_VERSION · TXN_* tag · header · body
 *   header   = optional sessionId (null = the system) · time (float64)
 *   multi    = count (<= MULTI_OPS_MAX) · (TXN_* tag · body)*, sub-txns being create, delete,
 *              setData, check or error only (no nesting)
 *
 * Beyond ranges, both ends hold a create txn to what types.ts says of it: an ephemeral mode has an
 * owner and no other mode does; a TTL mode has 0 < ttlMs <= TTL_MS_MAX and no other mode a TTL.
 * A committed session has a negotiated timeout, so createSession's timeoutMs is at least 1.
 */

import { assert, unreachable } from '../assert.js';
import { MULTI_OPS_MAX } from '../limits.js';
import type { CreateMode, CreateTxn, MultiTxn, Txn, TxnBody, TxnHeader } from '../tree/types.js';
import type { Decoded, Reader } from './reader.js';
import type { Writer } from './writer.js';
import {
  decodeFramed,
  encodeWith,
  FORMAT_VERSION,
  readAcl,
  readCreateMode,
  readData,
  readErrorName,
  readOptionalSessionId,
  readPath,
  readVersion,
  readSessionId,
  readTime,
  readTimeoutMs,
  readTtlMs,
  writeAcl,
  writeCreateMode,
  writeData,
  writeErrorName,
  writeOptionalSessionId,
  writePath,
  writeVersion,
  writeSessionId,
  writeTime,
  writeTimeoutMs,
  writeTtlMs,
} from './fields.js';

// Kind tags: txns 32-63 (append only; a retired tag is never reused).
export const TXN_CREATE = 32;
export const TXN_DELETE = 33;
export const TXN_SET_DATA = 34;
export const TXN_SET_ACL = 35;
export const TXN_CHECK = 36;
export const TXN_ERROR = 37;
export const TXN_MULTI = 38;
export const TXN_CREATE_SESSION = 39;
export const TXN_CLOSE_SESSION = 40;
export const TXN_DELETE_CONTAINER = 41;

/** The least bytes one sub-txn takes (tag and an error code): bounds a claimed count. */
const SUB_TXN_BYTES_MIN = 2;

type SubTxn = MultiTxn['txns'][number];
const SUB_TXN_TAGS: readonly number[] = [TXN_CREATE, TXN_DELETE, TXN_SET_DATA, TXN_CHECK, TXN_ERROR];

export function isEphemeralMode(mode: CreateMode): boolean {
  return mode === 'ephemeral' || mode === 'ephemeral_sequential';
}
export function isTtlMode(mode: CreateMode): boolean {
  return mode === 'persistent_ttl' || mode === 'persistent_sequential_ttl';
}

/** Why a create txn's mode, owner and TTL disagree, or undefined when they agree. */
export function createTxnProblem(txn: Pick<CreateTxn, 'mode' | 'ephemeralOwner' | 'ttlMs'>): string | undefined {
  if (isEphemeralMode(txn.mode) !== (txn.ephemeralOwner !== null)) {
    return `create txn: mode ${txn.mode} with ephemeralOwner ${String(txn.ephemeralOwner)}`;
  }
  if (isTtlMode(txn.mode) !== txn.ttlMs > 0) return `create txn: mode ${txn.mode} with ttlMs ${txn.ttlMs}`;
  return undefined;
}

function writeCreateTxn(writer: Writer, txn: CreateTxn): void {
  const problem = createTxnProblem(txn);
  assert(problem === undefined, problem ?? '');
  writePath(writer, txn.path);
  writeData(writer, txn.data);
  writeAcl(writer, txn.acl);
  writeCreateMode(writer, txn.mode);
  writeOptionalSessionId(writer, txn.ephemeralOwner);
  writeTtlMs(writer, txn.ttlMs);
  writeVersion(writer, txn.parentCversion);
}
function readCreateTxn(reader: Reader): CreateTxn {
  const path = readPath(reader);
  const data = readData(reader);
  const acl = readAcl(reader);
  const mode = readCreateMode(reader);
  const ephemeralOwner = readOptionalSessionId(reader, 'ephemeralOwner');
  const ttlMs = readTtlMs(reader);
  const parentCversion = readVersion(reader, 'parentCversion');
  const txn: CreateTxn = { type: 'create', path, data, acl, mode, ephemeralOwner, ttlMs, parentCversion };
  const problem = createTxnProblem(txn);
  if (problem !== undefined) reader.fail(problem);
  return txn;
}

/** The kind tag of a txn body. */
function bodyTag(body: TxnBody): number {
  switch (body.type) {
    case 'create':
      return TXN_CREATE;
    case 'delete':
      return TXN_DELETE;
    case 'setData':
      return TXN_SET_DATA;
    case 'setACL':
      return TXN_SET_ACL;
    case 'check':
      return TXN_CHECK;
    case 'error':
      return TXN_ERROR;
    case 'multi':
      return TXN_MULTI;
    case 'createSession':
      return TXN_CREATE_SESSION;
    case 'closeSession':
      return TXN_CLOSE_SESSION;
    case 'deleteContainer':
      return TXN_DELETE_CONTAINER;
    default:
      return unreachable(body, 'txn body');
  }
}

/** Writes a txn body's fields, after its tag (and, at top level, the header). */
function writeBodyFields(writer: Writer, body: TxnBody): void {
  switch (body.type) {
    case 'create':
      writeCreateTxn(writer, body);
      return;
    case 'delete':
    case 'deleteContainer':
      writePath(writer, body.path);
      return;
    case 'setData':
      writePath(writer, body.path);
      writeData(writer, body.data);
      writeVersion(writer, body.version);
      return;
    case 'setACL':
      writePath(writer, body.path);
      writeAcl(writer, body.acl);
      writeVersion(writer, body.version);
      return;
    case 'check':
      writePath(writer, body.path);
      writeVersion(writer, body.version);
      return;
    case 'error':
      writeErrorName(writer, body.code);
      return;
    case 'multi':
      assert(Array.isArray(body.txns), 'multi txns is an array');
      writer.count(body.txns.length, MULTI_OPS_MAX);
      for (const sub of body.txns) writeSubTxn(writer, sub);
      return;
    case 'createSession':
      writeSessionId(writer, body.sessionId);
      writeTimeoutMs(writer, body.timeoutMs, 1);
      return;
    case 'closeSession':
      writeSessionId(writer, body.sessionId);
      return;
    default:
      return unreachable(body, 'txn body');
  }
}

function writeSubTxn(writer: Writer, sub: SubTxn): void {
  const tag = bodyTag(sub);
  assert(SUB_TXN_TAGS.includes(tag), `a multi holds create, delete, setData, check and error only, not ${sub.type}`);
  writer.u8(tag);
  writeBodyFields(writer, sub);
}

/** Reads the fields of a body whose tag was read; undefined for a tag that is not a txn's. */
function readBody(reader: Reader, tag: number): TxnBody | undefined {
  switch (tag) {
    case TXN_CREATE:
      return readCreateTxn(reader);
    case TXN_DELETE:
      return { type: 'delete', path: readPath(reader) };
    case TXN_SET_DATA: {
      const path = readPath(reader);
      const data = readData(reader);
      return { type: 'setData', path, data, version: readVersion(reader) };
    }
    case TXN_SET_ACL: {
      const path = readPath(reader);
      const acl = readAcl(reader);
      return { type: 'setACL', path, acl, version: readVersion(reader, 'aversion') };
    }
    case TXN_CHECK: {
      const path = readPath(reader);
      return { type: 'check', path, version: readVersion(reader) };
    }
    case TXN_ERROR:
      return { type: 'error', code: readErrorName(reader) };
    case TXN_MULTI: {
      const count = reader.count('multi txns', MULTI_OPS_MAX, SUB_TXN_BYTES_MIN);
      const txns: SubTxn[] = [];
      for (let index = 0; index < count; index++) txns.push(readSubTxn(reader));
      return { type: 'multi', txns };
    }
    case TXN_CREATE_SESSION: {
      const sessionId = readSessionId(reader);
      return { type: 'createSession', sessionId, timeoutMs: readTimeoutMs(reader, 1) };
    }
    case TXN_CLOSE_SESSION:
      return { type: 'closeSession', sessionId: readSessionId(reader) };
    case TXN_DELETE_CONTAINER:
      return { type: 'deleteContainer', path: readPath(reader) };
    default:
      return undefined;
  }
}

function readSubTxn(reader: Reader): SubTxn {
  const tag = reader.u8('multi sub-txn kind');
  if (!SUB_TXN_TAGS.includes(tag)) reader.fail(`multi sub-txn kind: ${tag} is not create, delete, setData, check or error`);
  return readBody(reader, tag) as SubTxn;
}

function writeHeader(writer: Writer, header: TxnHeader): void {
  writeOptionalSessionId(writer, header.sessionId);
  writeTime(writer, header.time);
}
function readHeader(reader: Reader): TxnHeader {
  const sessionId = readOptionalSessionId(reader, 'txn sessionId');
  return { sessionId, time: readTime(reader, 'txn time') };
}

/** Writes a txn's kind tag, header and body (no version byte: for embedding). */
export function writeTxn(writer: Writer, txn: Txn): void {
  writer.u8(bodyTag(txn.body));
  writeHeader(writer, txn.header);
  writeBodyFields(writer, txn.body);
}

/** Reads a txn's kind tag, header and body (the mirror of writeTxn). */
export function readTxn(reader: Reader): Txn {
  return readTxnAfterTag(reader, reader.u8('txn kind'));
}

function readTxnAfterTag(reader: Reader, tag: number): Txn {
  if (tag < TXN_CREATE || tag > TXN_DELETE_CONTAINER) reader.fail(`txn kind: unknown tag ${tag}`);
  const header = readHeader(reader);
  const body = readBody(reader, tag);
  if (body === undefined) reader.fail(`txn kind: unknown tag ${tag}`);
  return { header, body };
}

export function encodeTxn(txn: Txn): Uint8Array {
  return encodeWith((writer) => {
    writer.u8(FORMAT_VERSION);
    writeTxn(writer, txn);
  });
}

export function decodeTxn(bytes: Uint8Array): Decoded<Txn> {
  return decodeFramed(bytes, 'txn', readTxnAfterTag);
}
