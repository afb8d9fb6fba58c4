// Proves the Raft message codec: every message type round-trips; malformed bytes (unknown tags,
// truncation, trailing bytes, over-long ids and lengths, invalid configs, inconsistent snapshot
// chunks, entry terms above the message term) are rejected as error values; and a seeded fuzz
// (random bytes and mutations of valid messages) never makes a decoder throw, while whatever it
// accepts re-encodes and decodes to the same message. Storage records (entry, hard state,
// snapshot meta) round-trip too. Dissertation Figure 3.1 / §5.3 for the message fields.

import { describe, expect, it } from 'vitest';
import { testSeed, withSeed } from '../../test-support/seed.js';
import { encodeConfigEntry, makeConfig } from '../consensus/config.js';
import type { Message } from '../consensus/messages.js';
import type { Entry } from '../consensus/types.js';
import { APPEND_ENTRIES_PER_MESSAGE_MAX, ENTRY_DATA_BYTES_MAX, PEER_ID_BYTES_MAX } from '../limits.js';
import type { Prng } from '../prng.js';
import { Writer } from './writer.js';
import {
  decodeEntry,
  decodeHardState,
  decodeMessage,
  decodeSnapshotMeta,
  encodeEntry,
  encodeHardState,
  encodeMessage,
  encodeSnapshotMeta,
  MESSAGE_TAG,
} from './raft.js';

const config = makeConfig(['a', 'b', 'c'], ['d']);
const configData = encodeConfigEntry({ change: { type: 'add-learner', peer: 'd' }, config });
const head = { from: 'a', to: 'b', term: 7 };
const appendEntries: Entry[] = [
  { index: 11, term: 6, kind: 'normal', data: new Uint8Array([1, 2, 3]) },
  { index: 12, term: 7, kind: 'noop', data: new Uint8Array(0) },
  { index: 13, term: 7, kind: 'config', data: configData },
];

const SAMPLES: readonly Message[] = [
  { type: 'vote', ...head, lastLogIndex: 12, lastLogTerm: 6, transfer: false },
  { type: 'pre-vote', ...head, term: 8, lastLogIndex: 0, lastLogTerm: 0, transfer: true },
  { type: 'vote-response', ...head, reject: false },
  { type: 'pre-vote-response', ...head, reject: true },
  { type: 'append', ...head, prevLogIndex: 10, prevLogTerm: 6, commit: 9, entries: appendEntries },
  { type: 'append', ...head, prevLogIndex: 0, prevLogTerm: 0, commit: 0, entries: [] },
  { type: 'append-response', ...head, index: 13, reject: true, rejectHint: 4, rejectHintTerm: 2 },
  { type: 'heartbeat', ...head, commit: 99, readRound: 3 },
  { type: 'heartbeat-response', ...head, readRound: 3 },
  { type: 'snapshot', ...head, meta: { index: 40, term: 6, config }, size: 10, offset: 4, data: new Uint8Array(6), done: true },
  { type: 'snapshot-response', ...head, index: 40, snapshotTerm: 6, offset: 4, resend: true },
  { type: 'read-index', ...head, requestId: 'peer-a:17' },
  { type: 'read-index-response', ...head, requestId: 'peer-a:17', index: 12 },
  { type: 'timeout-now', ...head },
  { type: 'transfer-leader', ...head, target: 'c' },
];

function decoded(bytes: Uint8Array): Message {
  const result = decodeMessage(bytes);
  if (!result.ok) throw new Error(`decode failed: ${result.error}`);
  return result.value;
}

function rejects(bytes: Uint8Array): string {
  const result = decodeMessage(bytes);
  expect(result.ok).toBe(false);
  return result.ok ? '' : result.error;
}

/** The bytes of a message header (tag, ids, term) followed by `body`. */
function raw(type: keyof typeof MESSAGE_TAG, body: (writer: Writer) => void, from = 'a', to = 'b'): Uint8Array {
  const writer = new Writer();
  writer.u8(MESSAGE_TAG[type]);
  writer.string(from);
  writer.string(to);
  writer.varUint(7);
  body(writer);
  return writer.finish();
}

describe('Raft message codec', () => {
  it('covers every message type', () => {
    expect(new Set(SAMPLES.map((m) => m.type)).size).toBe(Object.keys(MESSAGE_TAG).length);
  });

  for (const sample of SAMPLES) {
    it(`round-trips ${sample.type}`, () => {
      expect(decoded(encodeMessage(sample))).toEqual(sample);
    });
  }

  it('rejects unknown tags, truncation and trailing bytes', () => {
    expect(rejects(new Uint8Array(0))).toMatch(/message tag/);
    expect(rejects(new Uint8Array([0]))).toMatch(/unknown message tag/);
    expect(rejects(new Uint8Array([99, 1, 97, 1, 98, 0]))).toMatch(/unknown message tag/);
    for (const sample of SAMPLES) {
      const bytes = encodeMessage(sample);
      for (let cut = 0; cut < bytes.length; cut++) rejects(bytes.subarray(0, cut));
      rejects(new Uint8Array([...bytes, 0]));
    }
  });

  it('rejects bad ids: empty, over PEER_ID_BYTES_MAX, or a message to itself', () => {
    rejects(raw('timeout-now', () => {}, '', 'b'));
    rejects(raw('timeout-now', () => {}, 'x'.repeat(PEER_ID_BYTES_MAX + 1), 'b'));
    expect(rejects(raw('timeout-now', () => {}, 'a', 'a'))).toMatch(/itself/);
    expect(decodeMessage(raw('timeout-now', () => {}, 'x'.repeat(PEER_ID_BYTES_MAX), 'b')).ok).toBe(true);
  });

  it('caps entry counts and entry sizes before allocating', () => {
    const tooMany = raw('append', (w) => {
      w.varUint(0);
      w.varUint(0);
      w.varUint(0);
      w.varUint(APPEND_ENTRIES_PER_MESSAGE_MAX + 1);
    });
    expect(rejects(tooMany)).toMatch(/entry count/);
    const lying = raw('append', (w) => {
      for (const value of [0, 0, 0, 500]) w.varUint(value);
    });
    expect(rejects(lying)).toMatch(/cannot fit/);
    const huge = raw('append', (w) => {
      for (const value of [0, 0, 0, 1, 7]) w.varUint(value);
      w.u8(0); // kind: normal
      w.varUint(ENTRY_DATA_BYTES_MAX + 1);
    });
    expect(rejects(huge)).toMatch(/exceeds/);
  });

  it('validates content: entry terms, config entries, snapshot chunks, configs', () => {
    const entryTermAboveMessage = { ...SAMPLES[4], entries: [{ index: 11, term: 8, kind: 'normal', data: new Uint8Array(0) }] };
    const writer = (m: unknown): Uint8Array => raw('append', (w) => {
      const a = m as { prevLogIndex: number; prevLogTerm: number; commit: number; entries: Entry[] };
      for (const value of [a.prevLogIndex, a.prevLogTerm, a.commit, a.entries.length]) w.varUint(value);
      for (const entry of a.entries) {
        w.varUint(entry.term);
        w.u8(['normal', 'config', 'noop'].indexOf(entry.kind));
        w.bytesVar(entry.data);
      }
    });
    expect(rejects(writer(entryTermAboveMessage))).toMatch(/above the message term/);
    const badConfig = { ...SAMPLES[4], entries: [{ index: 11, term: 7, kind: 'config', data: new Uint8Array([9, 9]) }] };
    expect(rejects(writer(badConfig))).toMatch(/config entry/);
    const noopWithData = { ...SAMPLES[4], entries: [{ index: 11, term: 7, kind: 'noop', data: new Uint8Array([1]) }] };
    expect(rejects(writer(noopWithData))).toMatch(/noop/);
    const chunk = (size: number, offset: number, length: number, done: boolean, voters: string[]): Uint8Array =>
      raw('snapshot', (w) => {
        w.varUint(40);
        w.varUint(6);
        w.varUint(voters.length);
        for (const id of voters) w.string(id);
        w.varUint(0);
        w.varUint(size);
        w.varUint(offset);
        w.bool(done);
        w.bytesVar(new Uint8Array(length));
      });
    expect(decodeMessage(chunk(10, 4, 6, true, ['a'])).ok).toBe(true);
    expect(rejects(chunk(10, 6, 6, true, ['a']))).toMatch(/beyond the size/);
    expect(rejects(chunk(10, 4, 6, false, ['a']))).toMatch(/done flag/);
    expect(rejects(chunk(10, 4, 6, true, ['b', 'a']))).toMatch(/sorted/);
  });
});

describe('storage records', () => {
  it('round-trip entries, hard state and snapshot meta', () => {
    for (const entry of appendEntries) {
      const result = decodeEntry(encodeEntry(entry));
      expect(result.ok && result.value).toEqual(entry);
    }
    for (const state of [{ term: 3, vote: 'b', commit: 9 }, { term: 0, vote: null, commit: 0 }]) {
      const result = decodeHardState(encodeHardState(state));
      expect(result.ok && result.value).toEqual(state);
    }
    const meta = { index: 40, term: 6, config };
    const result = decodeSnapshotMeta(encodeSnapshotMeta(meta));
    expect(result.ok && result.value).toEqual(meta);
    expect(decodeEntry(new Uint8Array([0, 1, 0, 0])).ok).toBe(false); // index 0
    expect(decodeHardState(new Uint8Array([1, 1, 0, 0])).ok).toBe(false); // empty vote
  });
});

/** A valid message's bytes with one random mutation (flip, cut, insert, duplicate a span). */
function mutate(prng: Prng, bytes: Uint8Array): Uint8Array {
  const copy = [...bytes];
  const at = prng.int(0, Math.max(0, copy.length - 1));
  switch (prng.int(0, 3)) {
    case 0:
      copy[at] = prng.int(0, 255);
      break;
    case 1:
      copy.length = at;
      break;
    case 2:
      copy.splice(at, 0, prng.int(0, 255));
      break;
    default:
      copy.splice(at, 0, ...copy.slice(at, at + prng.int(1, 8)));
  }
  return new Uint8Array(copy);
}

describe('fuzz', () => {
  it('never throws; whatever decodes re-encodes to the same message', () => {
    const seed = testSeed();
    console.info(`raft codec fuzz: SEED=${seed}`);
    withSeed('raft codec fuzz', seed, (prng) => {
      const encoded = SAMPLES.map(encodeMessage);
      let accepted = 0;
      for (let i = 0; i < 20_000; i++) {
        const input = prng.chance(0.2)
          ? new Uint8Array(Array.from({ length: prng.int(0, 64) }, () => prng.int(0, 255)))
          : mutate(prng, prng.pick(encoded));
        const result = decodeMessage(input);
        if (!result.ok) continue;
        accepted += 1;
        expect(decoded(encodeMessage(result.value))).toEqual(result.value);
      }
      expect(accepted).toBeGreaterThan(0);
    });
  });
});
