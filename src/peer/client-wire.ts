/**
 * The client protocol between a client-only attachment (`Keeper.join({ replica: false })`,
 * client/remote-serving.ts) and a serving peer (remote-clients.ts): ZooKeeper's client-server
 * protocol carried on the room's mesh under its own channel byte (platform/room-peer.ts). Every
 * message is CLIENT_WIRE_VERSION (u8) · kind (u8) · body:
 *
 *   client → peer                              peer → client
 *   HELLO     (empty): do you serve?           SERVING  (empty): yes
 *   OPEN      tag · timeoutMs                  OPENED   tag · sessionId · timeoutMs · zxid
 *   RESUME    tag · sessionId · lastZxid ·     RESUMED  tag · sessionId · timeoutMs · zxid
 *             auth ids · watches (path · flags)  REFUSED  tag · code · optional reason
 *   REQUEST   sessionId · xid · request        RESULT   sessionId · xid · zxid · result
 *   AUTH      sessionId · id                   EVENT    sessionId · type · path · zxid
 *   CLOSE     sessionId · xid                  STATE    sessionId · state
 *   PING      (empty): I am alive              PONG     (empty)
 *                                              LEAVING  (empty): this peer leaves: move now
 *
 * `zxid` is the serving replica's applied index when the reply left (ZooKeeper's
 * ReplyHeader.zxid), an event's its change's: the client's lastZxidSeen. Requests and results
 * reuse codec/requests.ts and codec/results.ts. Decoders are bounded (every length capped, every
 * count checked against the bytes left) and return an error value; nothing here throws on bad
 * input. Encoders assert their input (our own bug otherwise).
 */

import { assert } from '../core/assert.js';
import { readFailureName, readId, readPath, readSessionId, readWatchEventType, readZxid, writeFailureName, writeId, writePath, writeSessionId, writeWatchEventType, writeZxid } from '../core/codec/fields.js';
import { decodeWith, type Reader } from '../core/codec/reader.js';
import { readRequest, writeRequest } from '../core/codec/requests.js';
import { readReadResult, readWriteResult, writeReadResult, writeWriteResult } from '../core/codec/results.js';
import { Writer } from '../core/codec/writer.js';
import type { FailureName } from '../core/errors.js';
import { AUTH_IDS_MAX } from '../core/limits.js';
import type { Id, PersistentWatchMode, ReadResult, RemoveWatchKind, Request, SessionId, WatchEventType, WriteResult } from '../core/tree/types.js';
import { WIRE_MESSAGE_BYTES_MAX } from './constants.js';
import type { ResumeWatch, SessionRequest, SessionResult, SessionState } from './serving-api.js';

export const CLIENT_WIRE_VERSION = 1;

export const CLIENT_HELLO = 1;
export const CLIENT_OPEN = 2;
export const CLIENT_RESUME = 3;
export const CLIENT_REQUEST = 4;
export const CLIENT_AUTH = 5;
export const CLIENT_CLOSE = 6;
export const CLIENT_PING = 7;

export const PEER_SERVING = 32;
export const PEER_OPENED = 33;
export const PEER_RESUMED = 34;
export const PEER_REFUSED = 35;
export const PEER_RESULT = 36;
export const PEER_EVENT = 37;
export const PEER_STATE = 38;
export const PEER_PONG = 39;
export const PEER_LEAVING = 40;

/** The largest client message either side sends or accepts: the runtime's own cap (a request
 *  carries at most one maximal znode value, as a forwarded write does). */
export const CLIENT_MESSAGE_BYTES_MAX = WIRE_MESSAGE_BYTES_MAX;
/** The most watches one RESUME carries (ZooKeeper splits SetWatches at 128 KB; 4096 paths of a
 *  typical ~30 bytes stay far under the message cap, and the byte cap below bounds long paths). */
export const RESUME_WATCHES_MAX = 4096;
/** Open/resume tags and request xids are u32 counters on the client; they wrap. */
export const XID_MAX = 0xffff_ffff;
/** The longest refusal reason carried (for the client's error message only). */
export const REASON_BYTES_MAX = 512;
/** The longest session timeout a client may ask for (the peer negotiates it down to 20 ticks). */
const TIMEOUT_MS_MAX = 3_600_000;

const STATES: readonly SessionState[] = ['connecting', 'connected', 'disconnected', 'expired', 'closed'];
const PERSISTENT_MODES: readonly PersistentWatchMode[] = ['persistent', 'persistent_recursive'];
const REMOVE_KINDS: readonly RemoveWatchKind[] = ['data', 'children', 'persistent', 'persistent_recursive', 'any'];

/** Request kinds of the REQUEST body: a tree request (codec/requests.ts) or a serving-peer one. */
const REQUEST_TREE = 1;
const REQUEST_ADD_WATCH = 2;
const REQUEST_REMOVE_WATCHES = 3;
/** Result kinds of the RESULT body. */
const RESULT_WRITE = 1;
const RESULT_READ = 2;
const RESULT_LOCAL = 3;
const RESULT_FAILURE = 4;
const LOCAL_OPS: readonly ('addWatch' | 'removeWatches')[] = ['addWatch', 'removeWatches'];
const WRITE_OPS: ReadonlySet<string> = new Set(['create', 'delete', 'setData', 'setACL', 'multi', 'createSession', 'closeSession', 'deleteContainer']);

/** Watch flags of a RESUME entry. */
const WATCH_DATA = 1;
const WATCH_EXIST = 2;
const WATCH_CHILD = 4;
const WATCH_PERSISTENT = 8;
const WATCH_RECURSIVE = 16;
const WATCH_FLAGS_ALL = 31;

export type ClientMessage =
  | { readonly kind: 'hello' }
  | { readonly kind: 'open'; readonly tag: number; readonly timeoutMs: number }
  | { readonly kind: 'resume'; readonly tag: number; readonly sessionId: SessionId; readonly lastZxid: number; readonly auth: readonly Id[]; readonly watches: readonly ResumeWatch[] }
  | { readonly kind: 'request'; readonly sessionId: SessionId; readonly xid: number; readonly request: SessionRequest }
  | { readonly kind: 'auth'; readonly sessionId: SessionId; readonly id: Id }
  | { readonly kind: 'close'; readonly sessionId: SessionId; readonly xid: number }
  | { readonly kind: 'ping' };

export type PeerMessage =
  | { readonly kind: 'serving' }
  | { readonly kind: 'opened' | 'resumed'; readonly tag: number; readonly sessionId: SessionId; readonly timeoutMs: number; readonly zxid: number }
  | { readonly kind: 'refused'; readonly tag: number; readonly code: FailureName; readonly reason: string | null }
  | { readonly kind: 'result'; readonly sessionId: SessionId; readonly xid: number; readonly zxid: number; readonly result: SessionResult }
  | { readonly kind: 'event'; readonly sessionId: SessionId; readonly type: WatchEventType; readonly path: string; readonly zxid: number }
  | { readonly kind: 'state'; readonly sessionId: SessionId; readonly state: SessionState }
  | { readonly kind: 'pong' }
  | { readonly kind: 'leaving' };

export type ClientWireDecoded<T> = { ok: true; message: T } | { ok: false; reason: 'oversize' | 'malformed' };

// --- Client → peer ------------------------------------------------------------------------------

export function encodeClientMessage(message: ClientMessage): Uint8Array {
  const writer = new Writer();
  writer.u8(CLIENT_WIRE_VERSION);
  switch (message.kind) {
    case 'hello':
      writer.u8(CLIENT_HELLO);
      break;
    case 'open':
      writer.u8(CLIENT_OPEN);
      writer.varUint(message.tag, XID_MAX);
      writer.varUint(message.timeoutMs, TIMEOUT_MS_MAX);
      break;
    case 'resume':
      writer.u8(CLIENT_RESUME);
      writer.varUint(message.tag, XID_MAX);
      writeSessionId(writer, message.sessionId);
      writeZxid(writer, message.lastZxid);
      writer.count(message.auth.length, AUTH_IDS_MAX);
      for (const id of message.auth) writeId(writer, id);
      writer.count(message.watches.length, RESUME_WATCHES_MAX);
      for (const watch of message.watches) {
        writePath(writer, watch.path);
        const flags = (watch.data ? WATCH_DATA : 0) | (watch.exist ? WATCH_EXIST : 0) | (watch.child ? WATCH_CHILD : 0) | (watch.persistent ? WATCH_PERSISTENT : 0) | (watch.recursive ? WATCH_RECURSIVE : 0);
        assert(flags !== 0, 'a resumed watch holds at least one kind');
        writer.u8(flags);
      }
      break;
    case 'request':
      writer.u8(CLIENT_REQUEST);
      writeSessionId(writer, message.sessionId);
      writer.varUint(message.xid, XID_MAX);
      writeSessionRequest(writer, message.request);
      break;
    case 'auth':
      writer.u8(CLIENT_AUTH);
      writeSessionId(writer, message.sessionId);
      writeId(writer, message.id);
      break;
    case 'close':
      writer.u8(CLIENT_CLOSE);
      writeSessionId(writer, message.sessionId);
      writer.varUint(message.xid, XID_MAX);
      break;
    case 'ping':
      writer.u8(CLIENT_PING);
      break;
  }
  const bytes = writer.finish();
  assert(bytes.length <= CLIENT_MESSAGE_BYTES_MAX, `a client message fits ${CLIENT_MESSAGE_BYTES_MAX} bytes`);
  return bytes;
}

function writeSessionRequest(writer: Writer, request: SessionRequest): void {
  if (request.op === 'addWatch') {
    writer.u8(REQUEST_ADD_WATCH);
    writePath(writer, request.path);
    writer.tag(request.mode, PERSISTENT_MODES);
  } else if (request.op === 'removeWatches') {
    writer.u8(REQUEST_REMOVE_WATCHES);
    writePath(writer, request.path);
    writer.tag(request.kind, REMOVE_KINDS);
  } else {
    writer.u8(REQUEST_TREE);
    writeRequest(writer, request);
  }
}

function readSessionRequest(reader: Reader): SessionRequest {
  const kind = reader.u8('request kind');
  if (kind === REQUEST_ADD_WATCH) return { op: 'addWatch', path: readPath(reader), mode: reader.tag('watch mode', PERSISTENT_MODES) };
  if (kind === REQUEST_REMOVE_WATCHES) return { op: 'removeWatches', path: readPath(reader), kind: reader.tag('remove kind', REMOVE_KINDS) };
  if (kind !== REQUEST_TREE) reader.fail(`request kind: unknown ${kind}`);
  const request: Request = readRequest(reader);
  return request;
}

export function decodeClientMessage(bytes: Uint8Array): ClientWireDecoded<ClientMessage> {
  if (bytes.length > CLIENT_MESSAGE_BYTES_MAX) return { ok: false, reason: 'oversize' };
  const decoded = decodeWith(bytes, (reader): ClientMessage => {
    const version = reader.u8('client wire version');
    if (version !== CLIENT_WIRE_VERSION) reader.fail(`client wire: unsupported version ${version}`);
    const kind = reader.u8('client wire kind');
    switch (kind) {
      case CLIENT_HELLO:
        return { kind: 'hello' };
      case CLIENT_OPEN:
        return { kind: 'open', tag: reader.varUint('open tag', XID_MAX), timeoutMs: reader.varUint('open timeout', TIMEOUT_MS_MAX) };
      case CLIENT_RESUME: {
        const tag = reader.varUint('resume tag', XID_MAX);
        const sessionId = readSessionId(reader);
        const lastZxid = readZxid(reader, 'resume lastZxid');
        const authCount = reader.count('resume auth', AUTH_IDS_MAX, 2);
        const auth: Id[] = [];
        for (let index = 0; index < authCount; index++) auth.push(readId(reader));
        const watchCount = reader.count('resume watches', RESUME_WATCHES_MAX, 2);
        const watches: ResumeWatch[] = [];
        for (let index = 0; index < watchCount; index++) {
          const path = readPath(reader);
          const flags = reader.u8('resume watch flags');
          if (flags === 0 || (flags & ~WATCH_FLAGS_ALL) !== 0) reader.fail(`resume watch flags: ${flags}`);
          watches.push({
            path,
            data: (flags & WATCH_DATA) !== 0,
            exist: (flags & WATCH_EXIST) !== 0,
            child: (flags & WATCH_CHILD) !== 0,
            persistent: (flags & WATCH_PERSISTENT) !== 0,
            recursive: (flags & WATCH_RECURSIVE) !== 0,
          });
        }
        return { kind: 'resume', tag, sessionId, lastZxid, auth, watches };
      }
      case CLIENT_REQUEST: {
        const sessionId = readSessionId(reader);
        const xid = reader.varUint('request xid', XID_MAX);
        return { kind: 'request', sessionId, xid, request: readSessionRequest(reader) };
      }
      case CLIENT_AUTH:
        return { kind: 'auth', sessionId: readSessionId(reader), id: readId(reader) };
      case CLIENT_CLOSE:
        return { kind: 'close', sessionId: readSessionId(reader), xid: reader.varUint('close xid', XID_MAX) };
      case CLIENT_PING:
        return { kind: 'ping' };
      default:
        return reader.fail(`client wire kind: unknown ${kind}`);
    }
  });
  return decoded.ok ? { ok: true, message: decoded.value } : { ok: false, reason: 'malformed' };
}

// --- Peer → client ------------------------------------------------------------------------------

export function encodePeerMessage(message: PeerMessage): Uint8Array {
  const writer = new Writer();
  writer.u8(CLIENT_WIRE_VERSION);
  switch (message.kind) {
    case 'serving':
      writer.u8(PEER_SERVING);
      break;
    case 'opened':
    case 'resumed':
      writer.u8(message.kind === 'opened' ? PEER_OPENED : PEER_RESUMED);
      writer.varUint(message.tag, XID_MAX);
      writeSessionId(writer, message.sessionId);
      writer.varUint(message.timeoutMs, TIMEOUT_MS_MAX);
      writeZxid(writer, message.zxid);
      break;
    case 'refused':
      writer.u8(PEER_REFUSED);
      writer.varUint(message.tag, XID_MAX);
      writeFailureName(writer, message.code);
      writer.bool(message.reason !== null);
      if (message.reason !== null) writer.string(truncate(message.reason), REASON_BYTES_MAX);
      break;
    case 'result':
      writer.u8(PEER_RESULT);
      writeSessionId(writer, message.sessionId);
      writer.varUint(message.xid, XID_MAX);
      writeZxid(writer, message.zxid);
      writeSessionResult(writer, message.result);
      break;
    case 'event':
      writer.u8(PEER_EVENT);
      writeSessionId(writer, message.sessionId);
      writeWatchEventType(writer, message.type);
      writePath(writer, message.path);
      writeZxid(writer, message.zxid);
      break;
    case 'state':
      writer.u8(PEER_STATE);
      writeSessionId(writer, message.sessionId);
      writer.tag(message.state, STATES);
      break;
    case 'pong':
      writer.u8(PEER_PONG);
      break;
    case 'leaving':
      writer.u8(PEER_LEAVING);
      break;
  }
  const bytes = writer.finish();
  assert(bytes.length <= CLIENT_MESSAGE_BYTES_MAX, `a peer message fits ${CLIENT_MESSAGE_BYTES_MAX} bytes`);
  return bytes;
}

/** A reason cut to REASON_BYTES_MAX bytes of UTF-8 (at most 3 bytes a UTF-16 unit). */
function truncate(reason: string): string {
  return reason.length * 3 <= REASON_BYTES_MAX ? reason : reason.slice(0, Math.floor(REASON_BYTES_MAX / 3));
}

function writeSessionResult(writer: Writer, result: SessionResult): void {
  if (!result.ok) {
    writer.u8(RESULT_FAILURE);
    writeFailureName(writer, result.code);
    writer.bool(result.path !== undefined);
    if (result.path !== undefined) writePath(writer, result.path);
    const reason = 'reason' in result ? result.reason : undefined;
    writer.bool(reason !== undefined);
    if (reason !== undefined) writer.string(truncate(reason), REASON_BYTES_MAX);
    const results = 'results' in result ? result.results : undefined;
    // A multi's per-op results travel as the write result's failure does.
    writer.bool(results !== undefined);
    if (results !== undefined) writeWriteResult(writer, { ok: false, code: result.code, results });
    return;
  }
  if (result.op === 'addWatch' || result.op === 'removeWatches') {
    writer.u8(RESULT_LOCAL);
    writer.tag(result.op, LOCAL_OPS);
  } else if (WRITE_OPS.has(result.op)) {
    writer.u8(RESULT_WRITE);
    writeWriteResult(writer, result as WriteResult);
  } else {
    writer.u8(RESULT_READ);
    writeReadResult(writer, result as ReadResult);
  }
}

function readSessionResult(reader: Reader): SessionResult {
  const kind = reader.u8('result kind');
  switch (kind) {
    case RESULT_FAILURE: {
      const code = readFailureName(reader);
      const path = reader.bool('failure path present') ? readPath(reader) : undefined;
      const reason = reader.bool('failure reason present') ? reader.string('failure reason', REASON_BYTES_MAX) : undefined;
      const multi = reader.bool('failure results present') ? readWriteResult(reader) : undefined;
      if (multi !== undefined && (multi.ok || multi.results === undefined)) reader.fail('failure results: not a multi failure');
      const failure: { ok: false; code: FailureName; path?: string; reason?: string; results?: NonNullable<Extract<WriteResult, { ok: false }>['results']> } = { ok: false, code };
      if (path !== undefined) failure.path = path;
      if (reason !== undefined) failure.reason = reason;
      if (multi !== undefined && !multi.ok && multi.results !== undefined) failure.results = multi.results;
      return failure as SessionResult;
    }
    case RESULT_LOCAL:
      return { ok: true, op: reader.tag('local op', LOCAL_OPS) };
    case RESULT_WRITE: {
      const result = readWriteResult(reader);
      if (!result.ok) reader.fail('write result: a failure travels as RESULT_FAILURE');
      return result;
    }
    case RESULT_READ: {
      const result = readReadResult(reader);
      if (!result.ok) reader.fail('read result: a failure travels as RESULT_FAILURE');
      return result;
    }
    default:
      return reader.fail(`result kind: unknown ${kind}`);
  }
}

export function decodePeerMessage(bytes: Uint8Array): ClientWireDecoded<PeerMessage> {
  if (bytes.length > CLIENT_MESSAGE_BYTES_MAX) return { ok: false, reason: 'oversize' };
  const decoded = decodeWith(bytes, (reader): PeerMessage => {
    const version = reader.u8('client wire version');
    if (version !== CLIENT_WIRE_VERSION) reader.fail(`client wire: unsupported version ${version}`);
    const kind = reader.u8('client wire kind');
    switch (kind) {
      case PEER_SERVING:
        return { kind: 'serving' };
      case PEER_OPENED:
      case PEER_RESUMED: {
        const tag = reader.varUint('opened tag', XID_MAX);
        const sessionId = readSessionId(reader);
        const timeoutMs = reader.varUint('opened timeout', TIMEOUT_MS_MAX);
        const zxid = readZxid(reader, 'opened zxid');
        return { kind: kind === PEER_OPENED ? 'opened' : 'resumed', tag, sessionId, timeoutMs, zxid };
      }
      case PEER_REFUSED: {
        const tag = reader.varUint('refused tag', XID_MAX);
        const code = readFailureName(reader);
        const reason = reader.bool('refused reason present') ? reader.string('refused reason', REASON_BYTES_MAX) : null;
        return { kind: 'refused', tag, code, reason };
      }
      case PEER_RESULT: {
        const sessionId = readSessionId(reader);
        const xid = reader.varUint('result xid', XID_MAX);
        const zxid = readZxid(reader, 'result zxid');
        return { kind: 'result', sessionId, xid, zxid, result: readSessionResult(reader) };
      }
      case PEER_EVENT: {
        const sessionId = readSessionId(reader);
        const type = readWatchEventType(reader);
        const path = readPath(reader);
        return { kind: 'event', sessionId, type, path, zxid: readZxid(reader, 'event zxid') };
      }
      case PEER_STATE:
        return { kind: 'state', sessionId: readSessionId(reader), state: reader.tag('session state', STATES) };
      case PEER_PONG:
        return { kind: 'pong' };
      case PEER_LEAVING:
        return { kind: 'leaving' };
      default:
        return reader.fail(`client wire kind: unknown ${kind}`);
    }
  });
  return decoded.ok ? { ok: true, message: decoded.value } : { ok: false, reason: 'malformed' };
}
