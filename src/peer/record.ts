/**
 * The log record: what a `normal` Raft entry carries in meshkeeper. The txn is the tree's; the
 * origin and request id let the peer that served the request recognise its own write when it
 * applies the entry, and answer its client from the applied result (so a client never hears of a
 * write before its own replica reflects it).
 *
 *   record = RECORD_FORMAT_VERSION (u8) · origin (peer id) · requestId · txn (codec/txns.ts writeTxn)
 *
 * A record is written by the leader and read by every replica from committed entries: one that
 * fails to decode is a bug (or corrupted storage), never input, and the state machine asserts.
 */

import { assert } from '../core/assert.js';
import { peerIdProblem } from '../core/consensus/config.js';
import type { PeerId } from '../core/consensus/index.js';
import { decodeWith, type Decoded } from '../core/codec/reader.js';
import { readTxn, writeTxn } from '../core/codec/txns.js';
import { Writer } from '../core/codec/writer.js';
import { PEER_ID_BYTES_MAX } from '../core/limits.js';
import type { Txn } from '../core/tree/types.js';
import { REQUEST_ID_BYTES_MAX } from './constants.js';

export const RECORD_FORMAT_VERSION = 1;

/** Prefixes the request id of a movable session's createSession (a client-only attachment's,
 *  serving-api.ts OpenSessionOptions.movable): every replica learns from the log itself that the
 *  session may move between serving peers, so no leader (a new one included) closes it when the
 *  peer that opened it departs. A request id never starts with it otherwise (incarnations are hex). */
export const MOVABLE_REQUEST_MARK = 'm~';

export function isMovableRequest(requestId: string): boolean {
  return requestId.startsWith(MOVABLE_REQUEST_MARK);
}

export interface LogRecord {
  /** The peer whose client asked (or the leader, for its own clean-ups). */
  readonly origin: PeerId;
  /** Unique per origin incarnation (`<incarnation>.<counter>`). */
  readonly requestId: string;
  readonly txn: Txn;
}

export function encodeLogRecord(record: LogRecord): Uint8Array {
  const problem = peerIdProblem(record.origin);
  assert(problem === null, `log record origin: ${problem ?? ''}`);
  assert(typeof record.requestId === 'string' && record.requestId.length > 0, 'log record request id is a non-empty string');
  const writer = new Writer();
  writer.u8(RECORD_FORMAT_VERSION);
  writer.string(record.origin, PEER_ID_BYTES_MAX);
  writer.string(record.requestId, REQUEST_ID_BYTES_MAX);
  writeTxn(writer, record.txn);
  return writer.finish();
}

export function decodeLogRecord(bytes: Uint8Array): Decoded<LogRecord> {
  return decodeWith(bytes, (reader) => {
    const version = reader.u8('log record version');
    if (version !== RECORD_FORMAT_VERSION) reader.fail(`log record: unsupported version ${version}`);
    const origin = reader.string('log record origin', PEER_ID_BYTES_MAX);
    const problem = peerIdProblem(origin);
    if (problem !== null) reader.fail(`log record origin: ${problem}`);
    const requestId = reader.string('log record request id', REQUEST_ID_BYTES_MAX);
    if (requestId.length === 0) reader.fail('log record request id is empty');
    const txn = readTxn(reader);
    return { origin, requestId, txn };
  });
}
