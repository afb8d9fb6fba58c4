/**
 * The mesh's wire format: frames on a data channel (each at most FRAME_BYTES_MAX bytes) and the
 * envelope of a relayed message. Pure functions and one small reassembler; every decoder checks
 * bounds before each read and returns an error value for bad input, never throws.
 *
 * A frame starts with its kind (one byte):
 *   HELLO  [kind][version u8][nonce NONCE_BYTES][incarnation INCARNATION_BYTES][id length u8][id]
 *   PROOF  [kind][mac MAC_BYTES]
 *   WHOLE  [kind][payload ...]                      a message that fits one frame
 *   FIRST  [kind][total length u32 BE][payload ...] the first frame of a larger message
 *   NEXT   [kind][payload ...]                      the following frames, in order
 *   BATCH  [kind]([length u16 BE][payload])*        two or more small messages in one frame
 * The channel is reliable and ordered, so a message's frames arrive consecutively; a FIRST, WHOLE
 * or BATCH while a message is incomplete abandons the incomplete one (counted) and starts afresh.
 * A BATCH is all or nothing: one bad length drops the whole frame. The mesh packs the small
 * messages sent to one peer within one task into BATCH frames (one data channel send instead of
 * one per message: in Node, node-datachannel runs SCTP and DTLS inside `send`).
 *
 * A relayed message (signaling.sendRelayed) is one envelope:
 *   [RELAYED][version u8][sender incarnation][receiver incarnation][seq u32 hi][seq u32 lo][mac][payload]
 */

import { assert } from '../../core/assert.js';
import {
  FRAME_BYTES_MAX,
  HELLO_PEER_ID_BYTES_MAX,
  INCARNATION_BYTES,
  MAC_BYTES,
  MESSAGE_BYTES_MAX_WIRE,
  NONCE_BYTES,
  PROTOCOL_VERSION,
  RELAYED_PAYLOAD_BYTES_MAX,
} from './constants.js';

export const FrameKind = {
  hello: 1,
  proof: 2,
  whole: 3,
  first: 4,
  next: 5,
  batch: 6,
  relayed: 16,
} as const;

/** FIRST's header: kind + u32 total length. */
export const FIRST_HEADER_BYTES = 5;
/** WHOLE's and NEXT's header: the kind byte. */
export const SIMPLE_HEADER_BYTES = 1;
/** Each message in a BATCH: its u16 length before its bytes. */
export const BATCH_ITEM_HEADER_BYTES = 2;
/** The most messages one BATCH frame can hold (each has at least its length). */
export const BATCH_MESSAGES_MAX = Math.floor((FRAME_BYTES_MAX - SIMPLE_HEADER_BYTES) / BATCH_ITEM_HEADER_BYTES);
/** The relayed envelope's header before the payload. */
export const RELAYED_HEADER_BYTES = 2 + 2 * INCARNATION_BYTES + 8 + MAC_BYTES;

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: true });

export interface Hello {
  readonly version: number;
  readonly nonce: Uint8Array;
  readonly incarnation: Uint8Array;
  readonly peerId: string;
}

export function encodeHello(hello: Hello): Uint8Array {
  const id = textEncoder.encode(hello.peerId);
  assert(hello.nonce.length === NONCE_BYTES, 'hello: nonce length');
  assert(hello.incarnation.length === INCARNATION_BYTES, 'hello: incarnation length');
  assert(id.length > 0 && id.length <= HELLO_PEER_ID_BYTES_MAX, 'hello: peer id length');
  const frame = new Uint8Array(2 + NONCE_BYTES + INCARNATION_BYTES + 1 + id.length);
  frame[0] = FrameKind.hello;
  frame[1] = hello.version;
  frame.set(hello.nonce, 2);
  frame.set(hello.incarnation, 2 + NONCE_BYTES);
  frame[2 + NONCE_BYTES + INCARNATION_BYTES] = id.length;
  frame.set(id, 3 + NONCE_BYTES + INCARNATION_BYTES);
  return frame;
}

export type Decoded<T> = { ok: true; value: T } | { ok: false; reason: string };

export function decodeHello(frame: Uint8Array): Decoded<Hello> {
  const fixed = 3 + NONCE_BYTES + INCARNATION_BYTES;
  if (frame.length < fixed + 1) return { ok: false, reason: 'hello: short' };
  if (frame[0] !== FrameKind.hello) return { ok: false, reason: 'hello: kind' };
  const version = frame[1] as number;
  const idLength = frame[fixed - 1] as number;
  if (idLength === 0 || idLength > HELLO_PEER_ID_BYTES_MAX) return { ok: false, reason: 'hello: id length' };
  if (frame.length !== fixed + idLength) return { ok: false, reason: 'hello: length' };
  let peerId: string;
  try {
    peerId = textDecoder.decode(frame.subarray(fixed, fixed + idLength));
  } catch {
    return { ok: false, reason: 'hello: id not utf-8' };
  }
  return {
    ok: true,
    value: {
      version,
      nonce: frame.slice(2, 2 + NONCE_BYTES),
      incarnation: frame.slice(2 + NONCE_BYTES, 2 + NONCE_BYTES + INCARNATION_BYTES),
      peerId,
    },
  };
}

export function encodeProof(mac: Uint8Array): Uint8Array {
  assert(mac.length === MAC_BYTES, 'proof: mac length');
  const frame = new Uint8Array(1 + MAC_BYTES);
  frame[0] = FrameKind.proof;
  frame.set(mac, 1);
  return frame;
}

export function decodeProof(frame: Uint8Array): Decoded<Uint8Array> {
  if (frame.length !== 1 + MAC_BYTES || frame[0] !== FrameKind.proof) return { ok: false, reason: 'proof: layout' };
  return { ok: true, value: frame.slice(1) };
}

/** The data frames of one message, each at most FRAME_BYTES_MAX bytes. */
export function encodeMessage(bytes: Uint8Array): Uint8Array[] {
  assert(bytes.length <= MESSAGE_BYTES_MAX_WIRE, 'encodeMessage: message within the wire limit');
  if (bytes.length + SIMPLE_HEADER_BYTES <= FRAME_BYTES_MAX) {
    const frame = new Uint8Array(SIMPLE_HEADER_BYTES + bytes.length);
    frame[0] = FrameKind.whole;
    frame.set(bytes, SIMPLE_HEADER_BYTES);
    return [frame];
  }
  const frames: Uint8Array[] = [];
  const firstPayload = FRAME_BYTES_MAX - FIRST_HEADER_BYTES;
  const first = new Uint8Array(FRAME_BYTES_MAX);
  first[0] = FrameKind.first;
  new DataView(first.buffer).setUint32(1, bytes.length);
  first.set(bytes.subarray(0, firstPayload), FIRST_HEADER_BYTES);
  frames.push(first);
  const nextPayload = FRAME_BYTES_MAX - SIMPLE_HEADER_BYTES;
  for (let offset = firstPayload; offset < bytes.length; offset += nextPayload) {
    const chunk = bytes.subarray(offset, Math.min(bytes.length, offset + nextPayload));
    const frame = new Uint8Array(SIMPLE_HEADER_BYTES + chunk.length);
    frame[0] = FrameKind.next;
    frame.set(chunk, SIMPLE_HEADER_BYTES);
    frames.push(frame);
  }
  assert(frames.length <= Math.ceil(MESSAGE_BYTES_MAX_WIRE / nextPayload) + 1, 'encodeMessage: frame count bounded');
  return frames;
}

/** The bytes a BATCH frame of messages of these lengths takes. */
export function batchedBytes(lengths: readonly number[]): number {
  return lengths.reduce((sum, length) => sum + BATCH_ITEM_HEADER_BYTES + length, SIMPLE_HEADER_BYTES);
}

/** One frame for two or more small messages (their BATCH frame fits FRAME_BYTES_MAX). */
export function encodeBatch(messages: readonly Uint8Array[]): Uint8Array {
  assert(messages.length >= 2, 'encodeBatch: two or more messages (one is a WHOLE frame)');
  const total = batchedBytes(messages.map((message) => message.length));
  assert(total <= FRAME_BYTES_MAX, 'encodeBatch: the batch fits one frame');
  const frame = new Uint8Array(total);
  const view = new DataView(frame.buffer);
  frame[0] = FrameKind.batch;
  let offset = SIMPLE_HEADER_BYTES;
  for (const message of messages) {
    view.setUint16(offset, message.length);
    frame.set(message, offset + BATCH_ITEM_HEADER_BYTES);
    offset += BATCH_ITEM_HEADER_BYTES + message.length;
  }
  return frame;
}

/** The messages of a BATCH frame, or why it is malformed (then none of them counts). */
export function decodeBatch(frame: Uint8Array): Decoded<Uint8Array[]> {
  if (frame[0] !== FrameKind.batch) return { ok: false, reason: 'batch: kind' };
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const messages: Uint8Array[] = [];
  let offset = SIMPLE_HEADER_BYTES;
  while (offset < frame.length) {
    if (offset + BATCH_ITEM_HEADER_BYTES > frame.length) return { ok: false, reason: 'batch: truncated length' };
    const length = view.getUint16(offset);
    offset += BATCH_ITEM_HEADER_BYTES;
    if (offset + length > frame.length) return { ok: false, reason: 'batch: a message overruns the frame' };
    messages.push(frame.subarray(offset, offset + length));
    offset += length;
  }
  if (messages.length < 2) return { ok: false, reason: 'batch: fewer than two messages' };
  return { ok: true, value: messages };
}

/** The total bytes of `encodeMessage(bytes)`'s frames, without encoding. */
export function framedBytes(messageBytes: number): number {
  if (messageBytes + SIMPLE_HEADER_BYTES <= FRAME_BYTES_MAX) return messageBytes + SIMPLE_HEADER_BYTES;
  const rest = messageBytes - (FRAME_BYTES_MAX - FIRST_HEADER_BYTES);
  return FRAME_BYTES_MAX + rest + Math.ceil(rest / (FRAME_BYTES_MAX - SIMPLE_HEADER_BYTES)) * SIMPLE_HEADER_BYTES;
}

export type FrameResult =
  | { readonly type: 'message'; readonly bytes: Uint8Array }
  /** A BATCH frame's messages, in order. */
  | { readonly type: 'messages'; readonly list: readonly Uint8Array[] }
  | { readonly type: 'partial' }
  /** An unknown kind, a bad length, or an out-of-place NEXT: the frame is dropped. */
  | { readonly type: 'malformed'; readonly reason: string };

/** Reassembles data frames of one connection, bounded by MESSAGE_BYTES_MAX_WIRE. */
export class Reassembler {
  private buffer: Uint8Array | null = null;
  private filled = 0;
  /** Incomplete messages abandoned (a FIRST or WHOLE arrived before their last NEXT). */
  abandoned = 0;

  /** Bytes currently held for an incomplete message. */
  get pendingBytes(): number {
    return this.buffer === null ? 0 : this.buffer.length;
  }

  push(frame: Uint8Array): FrameResult {
    if (frame.length === 0) return { type: 'malformed', reason: 'empty frame' };
    if (frame.length > FRAME_BYTES_MAX) return { type: 'malformed', reason: 'frame too large' };
    const kind = frame[0];
    if (kind === FrameKind.whole) {
      this.abandon();
      return { type: 'message', bytes: frame.subarray(SIMPLE_HEADER_BYTES) };
    }
    if (kind === FrameKind.batch) {
      this.abandon();
      const batch = decodeBatch(frame);
      return batch.ok ? { type: 'messages', list: batch.value } : { type: 'malformed', reason: batch.reason };
    }
    if (kind === FrameKind.first) return this.first(frame);
    if (kind === FrameKind.next) return this.next(frame);
    return { type: 'malformed', reason: `unexpected frame kind ${String(kind)}` };
  }

  /** Forgets an incomplete message (counted in `abandoned`). */
  private abandon(): void {
    if (this.buffer === null) return;
    this.buffer = null;
    this.filled = 0;
    this.abandoned += 1;
  }

  private first(frame: Uint8Array): FrameResult {
    this.abandon();
    if (frame.length <= FIRST_HEADER_BYTES) return { type: 'malformed', reason: 'first: short' };
    const total = new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getUint32(1);
    const chunk = frame.subarray(FIRST_HEADER_BYTES);
    if (total > MESSAGE_BYTES_MAX_WIRE) return { type: 'malformed', reason: 'first: total over the wire limit' };
    if (total <= chunk.length) return { type: 'malformed', reason: 'first: total within one frame' };
    this.buffer = new Uint8Array(total);
    this.buffer.set(chunk, 0);
    this.filled = chunk.length;
    return { type: 'partial' };
  }

  private next(frame: Uint8Array): FrameResult {
    const buffer = this.buffer;
    if (buffer === null) return { type: 'malformed', reason: 'next: no message in progress' };
    const chunk = frame.subarray(SIMPLE_HEADER_BYTES);
    if (chunk.length === 0 || this.filled + chunk.length > buffer.length) {
      this.buffer = null;
      this.filled = 0;
      return { type: 'malformed', reason: 'next: overruns the announced length' };
    }
    buffer.set(chunk, this.filled);
    this.filled += chunk.length;
    if (this.filled < buffer.length) return { type: 'partial' };
    this.buffer = null;
    this.filled = 0;
    return { type: 'message', bytes: buffer };
  }
}

export interface RelayedEnvelope {
  readonly senderIncarnation: Uint8Array;
  readonly receiverIncarnation: Uint8Array;
  /** Strictly increasing per (sender incarnation, receiver incarnation), from 1. */
  readonly seq: number;
  readonly mac: Uint8Array;
  readonly payload: Uint8Array;
}

export function encodeRelayed(envelope: RelayedEnvelope): Uint8Array {
  assert(envelope.payload.length <= RELAYED_PAYLOAD_BYTES_MAX, 'relayed: payload bounded');
  assert(Number.isSafeInteger(envelope.seq) && envelope.seq > 0, 'relayed: seq is a positive safe integer');
  const bytes = new Uint8Array(RELAYED_HEADER_BYTES + envelope.payload.length);
  bytes[0] = FrameKind.relayed;
  bytes[1] = PROTOCOL_VERSION;
  let offset = 2;
  bytes.set(envelope.senderIncarnation, offset);
  offset += INCARNATION_BYTES;
  bytes.set(envelope.receiverIncarnation, offset);
  offset += INCARNATION_BYTES;
  writeSeq(bytes, offset, envelope.seq);
  offset += 8;
  bytes.set(envelope.mac, offset);
  offset += MAC_BYTES;
  bytes.set(envelope.payload, offset);
  return bytes;
}

export function decodeRelayed(bytes: Uint8Array): Decoded<RelayedEnvelope> {
  if (bytes.length < RELAYED_HEADER_BYTES) return { ok: false, reason: 'relayed: short' };
  if (bytes.length > RELAYED_HEADER_BYTES + RELAYED_PAYLOAD_BYTES_MAX) return { ok: false, reason: 'relayed: too large' };
  if (bytes[0] !== FrameKind.relayed) return { ok: false, reason: 'relayed: kind' };
  if (bytes[1] !== PROTOCOL_VERSION) return { ok: false, reason: 'relayed: version' };
  let offset = 2;
  const senderIncarnation = bytes.slice(offset, offset + INCARNATION_BYTES);
  offset += INCARNATION_BYTES;
  const receiverIncarnation = bytes.slice(offset, offset + INCARNATION_BYTES);
  offset += INCARNATION_BYTES;
  const seq = readSeq(bytes, offset);
  offset += 8;
  if (seq === null) return { ok: false, reason: 'relayed: seq' };
  const mac = bytes.slice(offset, offset + MAC_BYTES);
  offset += MAC_BYTES;
  return { ok: true, value: { senderIncarnation, receiverIncarnation, seq, mac, payload: bytes.slice(offset) } };
}

export function writeSeq(bytes: Uint8Array, offset: number, seq: number): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  view.setUint32(offset, Math.floor(seq / 2 ** 32));
  view.setUint32(offset + 4, seq >>> 0);
}

function readSeq(bytes: Uint8Array, offset: number): number | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const seq = view.getUint32(offset) * 2 ** 32 + view.getUint32(offset + 4);
  return Number.isSafeInteger(seq) && seq > 0 ? seq : null;
}

/** Length-prefixed concatenation (each part's length as u32 BE): the input to an HMAC, so that
 *  no two different tuples of parts produce the same bytes. */
export function concatPrefixed(parts: readonly (Uint8Array | string)[]): Uint8Array<ArrayBuffer> {
  const encoded = parts.map((part) => (typeof part === 'string' ? textEncoder.encode(part) : part));
  const total = encoded.reduce((sum, part) => sum + 4 + part.length, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let offset = 0;
  for (const part of encoded) {
    view.setUint32(offset, part.length);
    out.set(part, offset + 4);
    offset += 4 + part.length;
  }
  return out;
}
