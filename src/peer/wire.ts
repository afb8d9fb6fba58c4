/**
 * The wire envelope: every peer-to-peer message is a tag byte and a body.
 *
 *   RAFT             · a Raft message (codec/raft.ts), the rest of the bytes
 *   FORWARD          · term · stream (incarnation · number) · seq · requestId · optional sessionId
 *                      · auth ids · write request (codec/requests.ts)
 *                      A serving peer's client write, sent to the leader of `term` as request `seq`
 *                      of the stream (see serving.ts for the stream protocol).
 *   FORWARD_REFUSED  · term · stream · seq · cause · optional leader
 *                      The leader refused request `seq` of the stream, and so every later one.
 *   PING             · term · count · sessionId*   the sessions a serving peer holds are alive
 *   JOIN             · (empty)                     a non-member asks the leader to add it
 *   LEADER_HINT      · term · optional leader      a non-leader's answer to JOIN
 *   REMOVED          · term · configIndex          the leader's committed configuration at
 *                      configIndex does not hold you: stop campaigning and ask to join
 *   LEAVING          · optional successor · returns (u8 0|1) · incarnation
 *                      the sender stops now; if it led, `successor` got TimeoutNow; `returns`:
 *                      its identity comes back (a browser slot), so it stays a member
 *
 * Tags are named constants, append only. Decoders are bounded (every length capped, every count
 * checked against the bytes left) and return an error value with a reason for the peer's drop
 * counters; nothing here throws on bad input. Encoders assert their input (our own bug otherwise).
 */

import { assert } from '../core/assert.js';
import { decodeMessage, encodeMessage } from '../core/codec/raft.js';
import { decodeWith, type Reader } from '../core/codec/reader.js';
import { readIds, readOptionalSessionId, readSessionId, writeIds, writeOptionalSessionId, writeSessionId } from '../core/codec/fields.js';
import { readRequest, writeRequest } from '../core/codec/requests.js';
import { Writer } from '../core/codec/writer.js';
import { peerIdProblem } from '../core/consensus/config.js';
import type { Message, PeerId } from '../core/consensus/index.js';
import { AUTH_IDS_MAX, PEER_ID_BYTES_MAX } from '../core/limits.js';
import type { Id, SessionId, WriteRequest } from '../core/tree/types.js';
import { INCARNATION_BYTES_MAX, PING_SESSIONS_PER_MESSAGE_MAX, REQUEST_ID_BYTES_MAX, WIRE_MESSAGE_BYTES_MAX } from './constants.js';

export const WIRE_RAFT = 1;
export const WIRE_FORWARD = 2;
export const WIRE_FORWARD_REFUSED = 3;
export const WIRE_PING = 4;
export const WIRE_JOIN = 5;
export const WIRE_LEADER_HINT = 6;
export const WIRE_REMOVED = 7;
export const WIRE_LEAVING = 8;
export const WIRE_FORWARD_PROBE = 9;

/** One forward stream: a serving peer's incarnation and its stream counter (increasing). */
export interface StreamId {
  readonly incarnation: string;
  readonly number: number;
}

export interface Forward {
  /** The leader term the serving peer addresses (the leader refuses any other). */
  readonly term: number;
  readonly stream: StreamId;
  /** Consecutive from 0 within the stream. */
  readonly seq: number;
  readonly requestId: string;
  /** The session the write is made in (prep's context); null for none. */
  readonly sessionId: SessionId | null;
  readonly auth: readonly Id[];
  readonly request: WriteRequest;
}

/** Why a leader refused a forward; every cause kills the stream. */
export type RefusalCause = 'not-leader' | 'stale-term' | 'out-of-order' | 'stale-stream' | 'stream-dead' | 'queue-full' | 'proposal-refused' | 'leaving' | 'forward-lost';

export const REFUSAL_CAUSES: readonly RefusalCause[] = [
  'not-leader',
  'stale-term',
  'out-of-order',
  'stale-stream',
  'stream-dead',
  'queue-full',
  'proposal-refused',
  'leaving',
  'forward-lost', // a probe found a gap: a forward sent earlier never arrived (FORWARD_PROBE_AFTER_MS)
];

export interface ForwardRefusal {
  readonly term: number;
  readonly stream: StreamId;
  /** The first refused request: it and every later one of the stream had no effect. */
  readonly seq: number;
  readonly cause: RefusalCause;
  readonly leader: PeerId | null;
}

/** A serving peer asks whether the leader received every forward of a stream before `nextSeq`
 *  (FORWARD_PROBE_AFTER_MS). The leader answers only a gap, with a `forward-lost` refusal. */
export interface ForwardProbe {
  readonly term: number;
  readonly stream: StreamId;
  /** The sequence number the stream's next forward would carry. */
  readonly nextSeq: number;
}

export type WireMessage =
  | { readonly kind: 'raft'; readonly message: Message }
  | { readonly kind: 'forward'; readonly forward: Forward }
  | { readonly kind: 'forward-refused'; readonly refusal: ForwardRefusal }
  | { readonly kind: 'forward-probe'; readonly probe: ForwardProbe }
  | { readonly kind: 'ping'; readonly term: number; readonly sessions: readonly SessionId[] }
  | { readonly kind: 'join' }
  | { readonly kind: 'leader-hint'; readonly term: number; readonly leader: PeerId | null }
  | { readonly kind: 'removed'; readonly term: number; readonly configIndex: number }
  /** The sender is stopping now (Peer.leaveNow: a closing tab); `successor` is the voter it sent
   *  TimeoutNow to when it led, else null. `returns` (Peer.suspend / suspendNow): its identity comes
   *  back — another tab of its browser profile adopts the slot and resumes it from storage — so it
   *  stays a member; only the sessions its `incarnation` served are gone. */
  | { readonly kind: 'leaving'; readonly successor: PeerId | null; readonly returns: boolean; readonly incarnation: string };

/** Why bytes were dropped (the peer counts each). */
export type WireDropReason = 'too-large' | 'unknown-tag' | 'malformed';

export type WireDecoded = { ok: true; message: WireMessage } | { ok: false; reason: WireDropReason; error: string };

/** The write ops a client may forward (deleteContainer is the leader's own; reads never travel). */
const FORWARDABLE_OPS: ReadonlySet<string> = new Set(['create', 'delete', 'setData', 'setACL', 'multi', 'createSession', 'closeSession']);

function isForwardable(request: { op: string }): request is WriteRequest {
  return FORWARDABLE_OPS.has(request.op);
}

// --- Pieces -------------------------------------------------------------------------------------

function writeStream(writer: Writer, stream: StreamId): void {
  writer.string(stream.incarnation, INCARNATION_BYTES_MAX);
  writer.varUint(stream.number);
}
function readStream(reader: Reader): StreamId {
  const incarnation = reader.string('stream incarnation', INCARNATION_BYTES_MAX);
  if (incarnation.length === 0) reader.fail('stream incarnation is empty');
  return { incarnation, number: reader.varUint('stream number') };
}

function writeOptionalPeer(writer: Writer, peer: PeerId | null): void {
  writer.bool(peer !== null);
  if (peer !== null) writer.string(peer, PEER_ID_BYTES_MAX);
}
function readOptionalPeer(reader: Reader, what: string): PeerId | null {
  if (!reader.bool(`${what} present`)) return null;
  const peer = reader.string(what, PEER_ID_BYTES_MAX);
  const problem = peerIdProblem(peer);
  if (problem !== null) reader.fail(`${what}: ${problem}`);
  return peer;
}

// --- Encoding -------------------------------------------------------------------------------------

function writeForward(writer: Writer, forward: Forward): void {
  assert(isForwardable(forward.request), `forward: ${forward.request.op} is a forwardable write`);
  assert(forward.requestId.length > 0, 'forward: request id is not empty');
  writer.varUint(forward.term);
  writeStream(writer, forward.stream);
  writer.varUint(forward.seq);
  writer.string(forward.requestId, REQUEST_ID_BYTES_MAX);
  writeOptionalSessionId(writer, forward.sessionId);
  writeIds(writer, forward.auth, AUTH_IDS_MAX);
  writeRequest(writer, forward.request);
}

export function encodeWire(message: WireMessage): Uint8Array {
  const writer = new Writer();
  switch (message.kind) {
    case 'raft': {
      writer.u8(WIRE_RAFT);
      writer.bytesFixed(encodeMessage(message.message));
      break;
    }
    case 'forward':
      writer.u8(WIRE_FORWARD);
      writeForward(writer, message.forward);
      break;
    case 'forward-refused': {
      const refusal = message.refusal;
      writer.u8(WIRE_FORWARD_REFUSED);
      writer.varUint(refusal.term);
      writeStream(writer, refusal.stream);
      writer.varUint(refusal.seq);
      writer.tag(refusal.cause, REFUSAL_CAUSES);
      writeOptionalPeer(writer, refusal.leader);
      break;
    }
    case 'forward-probe':
      writer.u8(WIRE_FORWARD_PROBE);
      writer.varUint(message.probe.term);
      writeStream(writer, message.probe.stream);
      writer.varUint(message.probe.nextSeq);
      break;
    case 'ping':
      writer.u8(WIRE_PING);
      writer.varUint(message.term);
      writer.count(message.sessions.length, PING_SESSIONS_PER_MESSAGE_MAX);
      for (const session of message.sessions) writeSessionId(writer, session);
      break;
    case 'join':
      writer.u8(WIRE_JOIN);
      break;
    case 'leader-hint':
      writer.u8(WIRE_LEADER_HINT);
      writer.varUint(message.term);
      writeOptionalPeer(writer, message.leader);
      break;
    case 'removed':
      writer.u8(WIRE_REMOVED);
      writer.varUint(message.term);
      writer.varUint(message.configIndex);
      break;
    case 'leaving':
      writer.u8(WIRE_LEAVING);
      writeOptionalPeer(writer, message.successor);
      writer.u8(message.returns ? 1 : 0);
      writer.string(message.incarnation, INCARNATION_BYTES_MAX);
      break;
  }
  const bytes = writer.finish();
  assert(bytes.length <= WIRE_MESSAGE_BYTES_MAX, `wire message of ${bytes.length} bytes within WIRE_MESSAGE_BYTES_MAX`);
  return bytes;
}

// --- Decoding -------------------------------------------------------------------------------------

/** The least bytes a session id takes (a length byte): bounds a claimed ping count. */
const SESSION_ID_BYTES_MIN = 1;

function readForward(reader: Reader): Forward {
  const term = reader.varUint('forward term');
  const stream = readStream(reader);
  const seq = reader.varUint('forward seq');
  const requestId = reader.string('forward request id', REQUEST_ID_BYTES_MAX);
  if (requestId.length === 0) reader.fail('forward request id is empty');
  const sessionId = readOptionalSessionId(reader, 'forward session');
  const auth = readIds(reader, 'forward auth', AUTH_IDS_MAX);
  const request = readRequest(reader);
  if (!isForwardable(request)) return reader.fail(`forward: ${request.op} is not a forwardable write`);
  return { term, stream, seq, requestId, sessionId, auth, request };
}

function readBody(reader: Reader, tag: number): WireMessage {
  switch (tag) {
    case WIRE_FORWARD:
      return { kind: 'forward', forward: readForward(reader) };
    case WIRE_FORWARD_REFUSED: {
      const term = reader.varUint('refusal term');
      const stream = readStream(reader);
      const seq = reader.varUint('refusal seq');
      const cause = reader.tag('refusal cause', REFUSAL_CAUSES);
      const leader = readOptionalPeer(reader, 'refusal leader');
      return { kind: 'forward-refused', refusal: { term, stream, seq, cause, leader } };
    }
    case WIRE_FORWARD_PROBE: {
      const term = reader.varUint('probe term');
      const stream = readStream(reader);
      return { kind: 'forward-probe', probe: { term, stream, nextSeq: reader.varUint('probe next seq') } };
    }
    case WIRE_PING: {
      const term = reader.varUint('ping term');
      const count = reader.count('ping sessions', PING_SESSIONS_PER_MESSAGE_MAX, SESSION_ID_BYTES_MIN);
      const sessions: SessionId[] = [];
      for (let index = 0; index < count; index++) sessions.push(readSessionId(reader, 'ping session'));
      return { kind: 'ping', term, sessions };
    }
    case WIRE_JOIN:
      return { kind: 'join' };
    case WIRE_LEADER_HINT: {
      const term = reader.varUint('hint term');
      return { kind: 'leader-hint', term, leader: readOptionalPeer(reader, 'hint leader') };
    }
    case WIRE_REMOVED: {
      const term = reader.varUint('removed term');
      return { kind: 'removed', term, configIndex: reader.varUint('removed config index') };
    }
    case WIRE_LEAVING: {
      const successor = readOptionalPeer(reader, 'leaving successor');
      const returns = reader.u8('leaving returns');
      if (returns > 1) reader.fail(`leaving returns flag ${returns}`);
      const incarnation = reader.string('leaving incarnation', INCARNATION_BYTES_MAX);
      if (incarnation.length === 0) reader.fail('leaving incarnation is empty');
      return { kind: 'leaving', successor, returns: returns === 1, incarnation };
    }
    default:
      return reader.fail(`unknown wire tag ${tag}`);
  }
}

const KNOWN_TAGS: ReadonlySet<number> = new Set([WIRE_RAFT, WIRE_FORWARD, WIRE_FORWARD_REFUSED, WIRE_PING, WIRE_JOIN, WIRE_LEADER_HINT, WIRE_REMOVED, WIRE_LEAVING, WIRE_FORWARD_PROBE]);

/** Decodes one wire message. Never throws on bad input: the reason says which counter to bump. */
export function decodeWire(bytes: Uint8Array): WireDecoded {
  if (!(bytes instanceof Uint8Array)) return { ok: false, reason: 'malformed', error: 'not a Uint8Array' };
  if (bytes.length > WIRE_MESSAGE_BYTES_MAX) return { ok: false, reason: 'too-large', error: `${bytes.length} bytes` };
  const tag = bytes[0];
  if (tag === undefined) return { ok: false, reason: 'malformed', error: 'empty message' };
  if (!KNOWN_TAGS.has(tag)) return { ok: false, reason: 'unknown-tag', error: `unknown wire tag ${tag}` };
  if (tag === WIRE_RAFT) {
    const decoded = decodeMessage(bytes.subarray(1));
    return decoded.ok ? { ok: true, message: { kind: 'raft', message: decoded.value } } : { ok: false, reason: 'malformed', error: decoded.error };
  }
  const decoded = decodeWith(bytes, (reader) => readBody(reader, reader.u8('wire tag')));
  return decoded.ok ? { ok: true, message: decoded.value } : { ok: false, reason: 'malformed', error: decoded.error };
}
