/**
 * The binary codec of Raft messages (src/core/consensus/messages.ts) and of what storage keeps
 * (entries, hard state, snapshot meta). One write per read; decoders are bounds-checked, cap every
 * length (ids at PEER_ID_BYTES_MAX, entries at APPEND_ENTRIES_PER_MESSAGE_MAX and
 * ENTRY_DATA_BYTES_MAX, chunks at SNAPSHOT_CHUNK_BYTES_MAX), validate the result with
 * `messageProblem` and return an error value: nothing throws on bad input.
 *
 * Layout of a message: u8 tag | from | to | varuint term | body. Append entries omit their index
 * (entry i has index prevLogIndex + 1 + i), so contiguity holds by construction.
 *
 * Size accounting: the leader packs an append so that APPEND_HEADER_BYTES_MAX plus the sum of
 * `appendEntryBytes` stays within MESSAGE_BYTES_MAX; an entry larger than that travels alone, and
 * the transport fragments such a message (the data-channel adapter's job, not the core's).
 */

import { assert } from '../assert.js';
import {
  APPEND_ENTRIES_PER_MESSAGE_MAX,
  ENTRY_DATA_BYTES_MAX,
  PEER_ID_BYTES_MAX,
  READ_REQUEST_ID_BYTES_MAX,
  SNAPSHOT_BYTES_MAX,
  SNAPSHOT_CHUNK_BYTES_MAX,
} from '../limits.js';
import { readConfig, writeConfig } from '../consensus/config.js';
import { messageProblem, type Message, type MessageType } from '../consensus/messages.js';
import type { Entry, EntryKind, HardState, SnapshotMeta } from '../consensus/types.js';
import { decodeWith, type Decoded, type Reader } from './reader.js';
import { Writer } from './writer.js';

/** Wire tags of the message types. Stable: never renumber, only add. 0 is never a tag. */
export const MESSAGE_TAG: Readonly<Record<MessageType, number>> = Object.freeze({
  vote: 1,
  'vote-response': 2,
  'pre-vote': 3,
  'pre-vote-response': 4,
  append: 5,
  'append-response': 6,
  heartbeat: 7,
  'heartbeat-response': 8,
  snapshot: 9,
  'snapshot-response': 10,
  'read-index': 11,
  'read-index-response': 12,
  'timeout-now': 13,
  'transfer-leader': 14,
});

const TYPE_BY_TAG: readonly (MessageType | undefined)[] = (() => {
  const table: (MessageType | undefined)[] = [];
  for (const [type, tag] of Object.entries(MESSAGE_TAG) as [MessageType, number][]) table[tag] = type;
  return table;
})();

const ENTRY_KINDS: readonly EntryKind[] = ['normal', 'config', 'noop'];

/** Bytes lib0 takes for a varuint of `value`. */
export function varUintBytes(value: number): number {
  assert(Number.isSafeInteger(value) && value >= 0, 'varUintBytes of a non-negative safe integer');
  let bytes = 1;
  for (let rest = Math.floor(value / 128); rest > 0; rest = Math.floor(rest / 128)) bytes += 1;
  return bytes;
}

/** The most bytes a varuint of a safe integer takes. */
const VAR_UINT_BYTES_MAX = 8;

/** An upper bound on an append message without its entries: tag, two ids (length + bytes),
 *  term, prevLogIndex, prevLogTerm, commit and the entry count, each at its largest. */
export const APPEND_HEADER_BYTES_MAX =
  1 + 2 * (varUintBytes(PEER_ID_BYTES_MAX) + PEER_ID_BYTES_MAX) + 4 * VAR_UINT_BYTES_MAX + varUintBytes(APPEND_ENTRIES_PER_MESSAGE_MAX);

/** The exact bytes one entry takes inside an append message. */
export function appendEntryBytes(entry: Entry): number {
  return varUintBytes(entry.term) + 1 + varUintBytes(entry.data.length) + entry.data.length;
}

// --- Writers ---------------------------------------------------------------------------------

function writeSnapshotMeta(writer: Writer, meta: SnapshotMeta): void {
  writer.varUint(meta.index);
  writer.varUint(meta.term);
  writeConfig(writer, meta.config);
}

function writeBody(writer: Writer, m: Message): void {
  switch (m.type) {
    case 'vote':
    case 'pre-vote':
      writer.varUint(m.lastLogIndex);
      writer.varUint(m.lastLogTerm);
      writer.bool(m.transfer);
      return;
    case 'vote-response':
    case 'pre-vote-response':
      writer.bool(m.reject);
      return;
    case 'append':
      writer.varUint(m.prevLogIndex);
      writer.varUint(m.prevLogTerm);
      writer.varUint(m.commit);
      writer.varUint(m.entries.length);
      for (const entry of m.entries) {
        writer.varUint(entry.term);
        writer.tag(entry.kind, ENTRY_KINDS);
        writer.bytesVar(entry.data);
      }
      return;
    case 'append-response':
      writer.varUint(m.index);
      writer.bool(m.reject);
      writer.varUint(m.rejectHint);
      writer.varUint(m.rejectHintTerm);
      return;
    case 'heartbeat':
      writer.varUint(m.commit);
      writer.varUint(m.readRound);
      return;
    case 'heartbeat-response':
      writer.varUint(m.readRound);
      return;
    case 'snapshot':
      writeSnapshotMeta(writer, m.meta);
      writer.varUint(m.size);
      writer.varUint(m.offset);
      writer.bool(m.done);
      writer.bytesVar(m.data);
      return;
    case 'snapshot-response':
      writer.varUint(m.index);
      writer.varUint(m.snapshotTerm);
      writer.varUint(m.offset);
      writer.bool(m.resend);
      return;
    case 'read-index':
      writer.string(m.requestId);
      return;
    case 'read-index-response':
      writer.string(m.requestId);
      writer.varUint(m.index);
      return;
    case 'timeout-now':
      return;
    case 'transfer-leader':
      writer.string(m.target);
      return;
  }
}

/** Encodes a message; a malformed one is our bug (validate before encode) and fails an assertion. */
export function encodeMessage(m: Message): Uint8Array {
  const problem = messageProblem(m);
  assert(problem === null, `encodeMessage: ${problem ?? ''}`);
  const writer = new Writer();
  writer.u8(MESSAGE_TAG[m.type]);
  writer.string(m.from);
  writer.string(m.to);
  writer.varUint(m.term);
  writeBody(writer, m);
  return writer.finish();
}

// --- Readers ---------------------------------------------------------------------------------

function readSnapshotMeta(reader: Reader): SnapshotMeta {
  const index = reader.varUint('snapshot index');
  const term = reader.varUint('snapshot term');
  return { index, term, config: readConfig(reader) };
}

function readAppendEntries(reader: Reader, prevLogIndex: number): Entry[] {
  // Each entry takes at least 3 bytes (term, kind, data length).
  const count = reader.count('entry count', APPEND_ENTRIES_PER_MESSAGE_MAX, 3);
  const entries: Entry[] = [];
  for (let i = 0; i < count; i++) {
    const term = reader.varUint('entry term');
    const kind = reader.tag('entry kind', ENTRY_KINDS);
    const data = reader.bytesVar('entry data', ENTRY_DATA_BYTES_MAX);
    entries.push({ index: prevLogIndex + 1 + i, term, kind, data });
  }
  return entries;
}

type Head = { from: string; to: string; term: number };

function readBody(reader: Reader, type: MessageType, head: Head): Message {
  switch (type) {
    case 'vote':
    case 'pre-vote': {
      const lastLogIndex = reader.varUint('lastLogIndex');
      const lastLogTerm = reader.varUint('lastLogTerm');
      return { type, ...head, lastLogIndex, lastLogTerm, transfer: reader.bool('transfer') };
    }
    case 'vote-response':
    case 'pre-vote-response':
      return { type, ...head, reject: reader.bool('reject') };
    case 'append': {
      const prevLogIndex = reader.varUint('prevLogIndex');
      const prevLogTerm = reader.varUint('prevLogTerm');
      const commit = reader.varUint('commit');
      return { type, ...head, prevLogIndex, prevLogTerm, commit, entries: readAppendEntries(reader, prevLogIndex) };
    }
    case 'append-response': {
      const index = reader.varUint('index');
      const reject = reader.bool('reject');
      const rejectHint = reader.varUint('rejectHint');
      return { type, ...head, index, reject, rejectHint, rejectHintTerm: reader.varUint('rejectHintTerm') };
    }
    case 'heartbeat': {
      const commit = reader.varUint('commit');
      return { type, ...head, commit, readRound: reader.varUint('readRound') };
    }
    case 'heartbeat-response':
      return { type, ...head, readRound: reader.varUint('readRound') };
    case 'snapshot': {
      const meta = readSnapshotMeta(reader);
      const size = reader.varUint('snapshot size', SNAPSHOT_BYTES_MAX);
      const offset = reader.varUint('snapshot offset', SNAPSHOT_BYTES_MAX);
      const done = reader.bool('done');
      return { type, ...head, meta, size, offset, done, data: reader.bytesVar('snapshot chunk', SNAPSHOT_CHUNK_BYTES_MAX) };
    }
    case 'snapshot-response': {
      const index = reader.varUint('snapshot index');
      const snapshotTerm = reader.varUint('snapshot term');
      const offset = reader.varUint('snapshot offset', SNAPSHOT_BYTES_MAX);
      return { type, ...head, index, snapshotTerm, offset, resend: reader.bool('resend') };
    }
    case 'read-index':
      return { type, ...head, requestId: reader.string('request id', READ_REQUEST_ID_BYTES_MAX) };
    case 'read-index-response': {
      const requestId = reader.string('request id', READ_REQUEST_ID_BYTES_MAX);
      return { type, ...head, requestId, index: reader.varUint('read index') };
    }
    case 'timeout-now':
      return { type, ...head };
    case 'transfer-leader':
      return { type, ...head, target: reader.string('target', PEER_ID_BYTES_MAX) };
  }
}

/** Decodes and validates one message. Bad bytes give `{ ok: false, error }`, never a throw. */
export function decodeMessage(bytes: Uint8Array): Decoded<Message> {
  return decodeWith(bytes, (reader) => {
    const tag = reader.u8('message tag');
    const type = TYPE_BY_TAG[tag];
    if (type === undefined) return reader.fail(`unknown message tag ${tag}`);
    const from = reader.string('from', PEER_ID_BYTES_MAX);
    const to = reader.string('to', PEER_ID_BYTES_MAX);
    const term = reader.varUint('term');
    const message = readBody(reader, type, { from, to, term });
    const problem = messageProblem(message);
    if (problem !== null) reader.fail(problem);
    return message;
  });
}

// --- Storage records -------------------------------------------------------------------------

export function encodeEntry(entry: Entry): Uint8Array {
  const writer = new Writer();
  writer.varUint(entry.index);
  writer.varUint(entry.term);
  writer.tag(entry.kind, ENTRY_KINDS);
  writer.bytesVar(entry.data);
  return writer.finish();
}

export function decodeEntry(bytes: Uint8Array): Decoded<Entry> {
  return decodeWith(bytes, (reader) => {
    const index = reader.varUint('entry index');
    const term = reader.varUint('entry term');
    const kind = reader.tag('entry kind', ENTRY_KINDS);
    const data = reader.bytesVar('entry data', ENTRY_DATA_BYTES_MAX);
    if (index < 1 || term < 1) reader.fail('entry index and term are positive');
    return { index, term, kind, data };
  });
}

export function encodeHardState(state: HardState): Uint8Array {
  const writer = new Writer();
  writer.varUint(state.term);
  writer.bool(state.vote !== null);
  if (state.vote !== null) writer.string(state.vote);
  writer.varUint(state.commit);
  return writer.finish();
}

export function decodeHardState(bytes: Uint8Array): Decoded<HardState> {
  return decodeWith(bytes, (reader) => {
    const term = reader.varUint('term');
    const vote = reader.bool('has vote') ? reader.string('vote', PEER_ID_BYTES_MAX) : null;
    if (vote === '') reader.fail('vote is empty');
    return { term, vote, commit: reader.varUint('commit') };
  });
}

export function encodeSnapshotMeta(meta: SnapshotMeta): Uint8Array {
  const writer = new Writer();
  writeSnapshotMeta(writer, meta);
  return writer.finish();
}

export function decodeSnapshotMeta(bytes: Uint8Array): Decoded<SnapshotMeta> {
  return decodeWith(bytes, readSnapshotMeta);
}
