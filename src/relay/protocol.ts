/**
 * The relay's wire protocol, version RELAY_PROTOCOL_VERSION (README.md in this folder has the
 * summary). Control messages are JSON text frames `{ "v": 1, "type": …, …fields }`; fallback bytes
 * are binary frames (lib0 encoding): `u8 version, u8 tag, varString peer, varUint8Array bytes`.
 *
 * Both ends validate every frame field by field before use and every message before they encode it
 * (STYLE.md habit 4). Decoders never throw on bad input: they return `{ ok: false, reason, detail }`
 * where `reason` says whether the frame was malformed or from another protocol version. Unknown
 * fields are refused as well as missing ones: the version field is how the protocol grows. The one
 * optional field, `list.settlingMs`, is sent only while it applies, so a `list` without it is exactly
 * the version 1 frame every client already reads.
 *
 * Browser-safe: no Node imports (the client bundles it).
 */

import type { PeerId } from '../core/consensus/index.js';
import { assert, unreachable } from '../core/assert.js';
import { decodeWith, type Reader } from '../core/codec/reader.js';
import { utf8ByteLength, Writer } from '../core/codec/writer.js';
import {
  RELAY_FALLBACK_BYTES_PER_MESSAGE_MAX,
  RELAY_MESSAGE_BYTES_MAX,
  RELAY_NAME_PATTERN,
  RELAY_PEER_ID_BYTES_MAX,
  RELAY_PEERS_PER_ROOM_MAX,
  RELAY_PROTOCOL_VERSION,
  RELAY_ROOM_BYTES_MAX,
  RELAY_SETTLING_MS_MAX,
  RELAY_SIGNAL_DEPTH_MAX,
} from './constants.js';

/** Client to relay. `join` must be the first frame, and comes once per socket. */
export type ClientMessage =
  | { readonly type: 'join'; readonly room: string; readonly peer: PeerId }
  | { readonly type: 'leave' }
  | { readonly type: 'signal'; readonly to: PeerId; readonly data: unknown }
  | { readonly type: 'ping' };

/** Relay to client. `list` answers `join`; `pong` answers `ping`. A `list` sent while the relay is
 *  settling (just started: peers that outlived a relay restart may not have rejoined yet) carries
 *  `settlingMs`, the milliseconds left of that grace (1..RELAY_SETTLING_MS_MAX); absent, the list is
 *  complete as far as the relay knows. */
export type ServerMessage =
  | { readonly type: 'list'; readonly peers: readonly PeerId[]; readonly settlingMs?: number }
  | { readonly type: 'joined'; readonly peer: PeerId }
  | { readonly type: 'left'; readonly peer: PeerId }
  | { readonly type: 'signal'; readonly from: PeerId; readonly data: unknown }
  | { readonly type: 'pong' };

/** A fallback frame: `peer` is the recipient (client to relay) or the sender (relay to client). */
export interface RelayedFrame {
  readonly peer: PeerId;
  readonly bytes: Uint8Array;
}

export type Parsed<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly reason: 'malformed' | 'version'; readonly detail: string };

/** The binary frame's tag after the version byte (the only binary frame so far). */
export const BINARY_TAG_RELAYED = 1;

function malformed(detail: string): { ok: false; reason: 'malformed'; detail: string } {
  return { ok: false, reason: 'malformed', detail };
}

// --- Field guards ------------------------------------------------------------------------------

/** A room name: 1..RELAY_ROOM_BYTES_MAX characters of RELAY_NAME_PATTERN (ASCII, so chars = bytes). */
export function isRoomName(value: unknown): value is string {
  return typeof value === 'string' && value.length >= 1 && value.length <= RELAY_ROOM_BYTES_MAX && RELAY_NAME_PATTERN.test(value);
}

/** A list's `settlingMs`: a whole number of milliseconds in 1..RELAY_SETTLING_MS_MAX. */
export function isSettlingMs(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 1 && value <= RELAY_SETTLING_MS_MAX;
}

/** A peer id: 1..RELAY_PEER_ID_BYTES_MAX characters of RELAY_NAME_PATTERN. */
export function isPeerId(value: unknown): value is PeerId {
  return typeof value === 'string' && value.length >= 1 && value.length <= RELAY_PEER_ID_BYTES_MAX && RELAY_NAME_PATTERN.test(value);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/**
 * Whether `value` is JSON data (null, booleans, finite numbers, strings without lone surrogates,
 * arrays, plain objects) nested at most `depthMax` deep, with at most `nodesMax` values in all. An
 * iterative walk with an explicit, bounded stack: a hostile or cyclic value cannot recurse deeply.
 */
export function isJsonData(value: unknown, depthMax = RELAY_SIGNAL_DEPTH_MAX, nodesMax = RELAY_MESSAGE_BYTES_MAX): boolean {
  const stack: Array<{ value: unknown; depth: number }> = [{ value, depth: 0 }];
  let nodes = 0;
  while (stack.length > 0) {
    const item = stack.pop() as { value: unknown; depth: number };
    nodes += 1;
    if (nodes > nodesMax) return false;
    const current = item.value;
    if (current === null || typeof current === 'boolean') continue;
    if (typeof current === 'number') {
      if (!Number.isFinite(current)) return false;
      continue;
    }
    if (typeof current === 'string') {
      if (utf8ByteLength(current) < 0) return false;
      continue;
    }
    if (item.depth >= depthMax) return false;
    let children: unknown[];
    if (Array.isArray(current)) {
      children = current;
    } else if (isPlainObject(current)) {
      children = Object.values(current);
    } else {
      return false;
    }
    if (nodes + stack.length + children.length > nodesMax) return false;
    for (const child of children) stack.push({ value: child, depth: item.depth + 1 });
  }
  return true;
}

/** Checks that `object` has exactly the keys `v`, `type` and `fields` (no missing, no extra). */
function hasExactKeys(object: Record<string, unknown>, fields: readonly string[]): boolean {
  const keys = Object.keys(object);
  if (keys.length !== fields.length + 2) return false;
  return fields.every((field) => Object.hasOwn(object, field));
}

/** JSON text to an object with a supported `v` and a string `type`; everything else is refused. */
function parseEnvelope(text: unknown): Parsed<{ type: string; object: Record<string, unknown> }> {
  if (typeof text !== 'string') return malformed('text frame is not a string');
  if (text.length > RELAY_MESSAGE_BYTES_MAX) return malformed('text frame too long');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return malformed('not JSON');
  }
  if (!isPlainObject(parsed)) return malformed('not a JSON object');
  if (!Object.hasOwn(parsed, 'v')) return malformed('no version field v');
  if (parsed.v !== RELAY_PROTOCOL_VERSION) {
    return { ok: false, reason: 'version', detail: `version ${JSON.stringify(parsed.v)?.slice(0, 16)} is not ${RELAY_PROTOCOL_VERSION}` };
  }
  if (typeof parsed.type !== 'string') return malformed('type is not a string');
  return { ok: true, value: { type: parsed.type, object: parsed } };
}

// --- Client to relay -----------------------------------------------------------------------------

export function decodeClientText(text: unknown): Parsed<ClientMessage> {
  const envelope = parseEnvelope(text);
  if (!envelope.ok) return envelope;
  const { type, object } = envelope.value;
  switch (type) {
    case 'join':
      if (!hasExactKeys(object, ['room', 'peer'])) return malformed('join: fields are room, peer');
      if (!isRoomName(object.room)) return malformed('join: bad room name');
      if (!isPeerId(object.peer)) return malformed('join: bad peer id');
      return { ok: true, value: { type, room: object.room, peer: object.peer } };
    case 'leave':
    case 'ping':
      if (!hasExactKeys(object, [])) return malformed(`${type}: no fields expected`);
      return { ok: true, value: { type } };
    case 'signal':
      if (!hasExactKeys(object, ['to', 'data'])) return malformed('signal: fields are to, data');
      if (!isPeerId(object.to)) return malformed('signal: bad peer id in to');
      if (!isJsonData(object.data)) return malformed('signal: data too deep or not JSON');
      return { ok: true, value: { type, to: object.to, data: object.data } };
    default:
      return malformed(`unknown type ${JSON.stringify(type.slice(0, 16))}`);
  }
}

/** Validates and encodes a client message; throws AssertionError on a bad one (the caller's bug),
 *  except signal data, which the caller checks with `isJsonData` first. */
export function encodeClientText(message: ClientMessage): string {
  switch (message.type) {
    case 'join':
      assert(isRoomName(message.room), 'join room is a valid room name');
      assert(isPeerId(message.peer), 'join peer is a valid peer id');
      return JSON.stringify({ v: RELAY_PROTOCOL_VERSION, type: message.type, room: message.room, peer: message.peer });
    case 'leave':
    case 'ping':
      return JSON.stringify({ v: RELAY_PROTOCOL_VERSION, type: message.type });
    case 'signal':
      assert(isPeerId(message.to), 'signal to is a valid peer id');
      assert(isJsonData(message.data), 'signal data is JSON data');
      return JSON.stringify({ v: RELAY_PROTOCOL_VERSION, type: message.type, to: message.to, data: message.data });
    default:
      return unreachable(message, 'client message type');
  }
}

// --- Relay to client -----------------------------------------------------------------------------

export function decodeServerText(text: unknown): Parsed<ServerMessage> {
  const envelope = parseEnvelope(text);
  if (!envelope.ok) return envelope;
  const { type, object } = envelope.value;
  switch (type) {
    case 'list': {
      const settling = Object.hasOwn(object, 'settlingMs');
      if (!hasExactKeys(object, settling ? ['peers', 'settlingMs'] : ['peers'])) return malformed('list: fields are peers and an optional settlingMs');
      const peers = object.peers;
      if (!Array.isArray(peers) || peers.length > RELAY_PEERS_PER_ROOM_MAX) return malformed('list: peers is not a bounded array');
      if (!peers.every(isPeerId)) return malformed('list: bad peer id');
      if (new Set(peers).size !== peers.length) return malformed('list: duplicate peer id');
      if (!settling) return { ok: true, value: { type, peers } };
      if (!isSettlingMs(object.settlingMs)) return malformed(`list: settlingMs is not an integer in 1..${RELAY_SETTLING_MS_MAX}`);
      return { ok: true, value: { type, peers, settlingMs: object.settlingMs } };
    }
    case 'joined':
    case 'left':
      if (!hasExactKeys(object, ['peer'])) return malformed(`${type}: fields are peer`);
      if (!isPeerId(object.peer)) return malformed(`${type}: bad peer id`);
      return { ok: true, value: { type, peer: object.peer } };
    case 'signal':
      if (!hasExactKeys(object, ['from', 'data'])) return malformed('signal: fields are from, data');
      if (!isPeerId(object.from)) return malformed('signal: bad peer id in from');
      if (!isJsonData(object.data)) return malformed('signal: data too deep or not JSON');
      return { ok: true, value: { type, from: object.from, data: object.data } };
    case 'pong':
      if (!hasExactKeys(object, [])) return malformed('pong: no fields expected');
      return { ok: true, value: { type } };
    default:
      return malformed(`unknown type ${JSON.stringify(type.slice(0, 16))}`);
  }
}

export function encodeServerText(message: ServerMessage): string {
  switch (message.type) {
    case 'list':
      assert(message.peers.length <= RELAY_PEERS_PER_ROOM_MAX, 'list is at most a room');
      assert(message.peers.every(isPeerId), 'list holds valid peer ids');
      if (message.settlingMs === undefined) return JSON.stringify({ v: RELAY_PROTOCOL_VERSION, type: message.type, peers: message.peers });
      assert(isSettlingMs(message.settlingMs), 'list settlingMs is an integer in range');
      return JSON.stringify({ v: RELAY_PROTOCOL_VERSION, type: message.type, peers: message.peers, settlingMs: message.settlingMs });
    case 'joined':
    case 'left':
      assert(isPeerId(message.peer), `${message.type} peer is a valid peer id`);
      return JSON.stringify({ v: RELAY_PROTOCOL_VERSION, type: message.type, peer: message.peer });
    case 'signal':
      assert(isPeerId(message.from), 'signal from is a valid peer id');
      assert(isJsonData(message.data), 'signal data is JSON data');
      return JSON.stringify({ v: RELAY_PROTOCOL_VERSION, type: message.type, from: message.from, data: message.data });
    case 'pong':
      return JSON.stringify({ v: RELAY_PROTOCOL_VERSION, type: message.type });
    default:
      return unreachable(message, 'server message type');
  }
}

// --- Fallback bytes (binary frames, both directions) -------------------------------------------------

/** The largest binary frame: version, tag, a peer id with its length and a maximal payload with its
 *  length (varints of at most 3 bytes each at these sizes). Fits RELAY_MESSAGE_BYTES_MAX. */
export const RELAYED_FRAME_BYTES_MAX = 2 + 1 + RELAY_PEER_ID_BYTES_MAX + 3 + RELAY_FALLBACK_BYTES_PER_MESSAGE_MAX;

export function encodeRelayed(frame: RelayedFrame): Uint8Array {
  assert(isPeerId(frame.peer), 'relayed peer is a valid peer id');
  assert(frame.bytes instanceof Uint8Array, 'relayed bytes are a Uint8Array');
  assert(frame.bytes.length <= RELAY_FALLBACK_BYTES_PER_MESSAGE_MAX, 'relayed bytes fit one fallback message');
  const writer = new Writer();
  writer.u8(RELAY_PROTOCOL_VERSION);
  writer.u8(BINARY_TAG_RELAYED);
  writer.string(frame.peer, RELAY_PEER_ID_BYTES_MAX);
  writer.bytesVar(frame.bytes, RELAY_FALLBACK_BYTES_PER_MESSAGE_MAX);
  const bytes = writer.finish();
  assert(bytes.length <= RELAYED_FRAME_BYTES_MAX, 'relayed frame within its bound');
  return bytes;
}

function readRelayed(reader: Reader): RelayedFrame {
  // The version byte was checked by decodeRelayed before this runs.
  reader.u8('version');
  const tag = reader.u8('tag');
  if (tag !== BINARY_TAG_RELAYED) reader.fail(`unknown binary tag ${tag}`);
  const peer = reader.string('peer', RELAY_PEER_ID_BYTES_MAX);
  if (!isPeerId(peer)) reader.fail('bad peer id');
  const bytes = reader.bytesVar('bytes', RELAY_FALLBACK_BYTES_PER_MESSAGE_MAX);
  return { peer, bytes };
}

export function decodeRelayed(bytes: Uint8Array): Parsed<RelayedFrame> {
  if (!(bytes instanceof Uint8Array)) return malformed('binary frame is not bytes');
  if (bytes.length > RELAYED_FRAME_BYTES_MAX) return malformed('binary frame too long');
  if (bytes.length === 0) return malformed('empty binary frame');
  if (bytes[0] !== RELAY_PROTOCOL_VERSION) return { ok: false, reason: 'version', detail: `binary version ${bytes[0]} is not ${RELAY_PROTOCOL_VERSION}` };
  const decoded = decodeWith(bytes, readRelayed);
  if (!decoded.ok) return malformed(`binary: ${decoded.error}`);
  return decoded;
}
