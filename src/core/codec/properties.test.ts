// Proves with fast-check, over arbitrary well-formed values of every type (arbitraries.ts), that
// decode(encode(x)) equals x, that encoding is deterministic (equal values, equal bytes, and a
// value's deep copy encodes the same), and that a nested value embedded through the Writer/Reader
// API reads back the same. Seeded: the seed is in each test's name; SEED=N replays.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { testSeed } from '../../test-support/seed.js';
import {
  readResultArb,
  requestArb,
  requestContextArb,
  snapshotArb,
  txnArb,
  watchEventArb,
  watchTriggerArb,
  writeResultArb,
} from './arbitraries.js';
import { Reader, type Decoded } from './reader.js';
import { decodeRequest, decodeRequestContext, encodeRequest, encodeRequestContext, readRequest, writeRequest } from './requests.js';
import {
  decodeReadResult,
  decodeWatchEvent,
  decodeWatchTrigger,
  decodeWriteResult,
  encodeReadResult,
  encodeWatchEvent,
  encodeWatchTrigger,
  encodeWriteResult,
  readReadResult,
  readWriteResult,
  writeReadResult,
  writeWriteResult,
} from './results.js';
import { decodeSnapshot, encodeSnapshot, snapshotHash } from './snapshot.js';
import { decodeTxn, encodeTxn, readTxn, writeTxn } from './txns.js';
import { Writer } from './writer.js';

const seed = testSeed();
const RUNS = 300;

/** A deep copy that keeps Uint8Arrays as (fresh) Uint8Arrays. */
function deepCopy<T>(value: T): T {
  return structuredClone(value);
}

interface Codec<T> {
  name: string;
  arbitrary: fc.Arbitrary<T>;
  encode: (value: T) => Uint8Array;
  decode: (bytes: Uint8Array) => Decoded<T>;
  runs: number;
}

/** Erases a codec's value type, so that codecs of different types share one list. */
function codec<T>(entry: Codec<T>): Codec<unknown> {
  return entry as unknown as Codec<unknown>;
}

const codecs: Codec<unknown>[] = [
  codec({ name: 'Request', arbitrary: requestArb, encode: encodeRequest, decode: decodeRequest, runs: RUNS }),
  codec({ name: 'RequestContext', arbitrary: requestContextArb, encode: encodeRequestContext, decode: decodeRequestContext, runs: RUNS }),
  codec({ name: 'Txn', arbitrary: txnArb, encode: encodeTxn, decode: decodeTxn, runs: RUNS }),
  codec({ name: 'WriteResult', arbitrary: writeResultArb, encode: encodeWriteResult, decode: decodeWriteResult, runs: RUNS }),
  codec({ name: 'ReadResult', arbitrary: readResultArb, encode: encodeReadResult, decode: decodeReadResult, runs: RUNS }),
  codec({ name: 'WatchTrigger', arbitrary: watchTriggerArb, encode: encodeWatchTrigger, decode: decodeWatchTrigger, runs: RUNS }),
  codec({ name: 'WatchEvent', arbitrary: watchEventArb, encode: encodeWatchEvent, decode: decodeWatchEvent, runs: RUNS }),
  codec({ name: 'TreeSnapshot', arbitrary: snapshotArb, encode: encodeSnapshot, decode: decodeSnapshot, runs: 150 }),
];

describe(`codec properties (seed ${seed})`, () => {
  for (const entry of codecs) {
    it(`${entry.name}: decode(encode(x)) equals x and re-encodes to the same bytes [seed ${seed}]`, () => {
      fc.assert(
        fc.property(entry.arbitrary, (value) => {
          const bytes = entry.encode(value);
          const decoded = entry.decode(bytes);
          if (!decoded.ok) throw new Error(`decode failed: ${decoded.error}`);
          expect(decoded.value).toEqual(value);
          expect(entry.encode(decoded.value)).toEqual(bytes);
        }),
        { seed, numRuns: entry.runs },
      );
    });

    it(`${entry.name}: encoding is deterministic (same value, deep copy: same bytes) [seed ${seed}]`, () => {
      fc.assert(
        fc.property(entry.arbitrary, (value) => {
          const first = entry.encode(value);
          expect(entry.encode(value)).toEqual(first);
          expect(entry.encode(deepCopy(value))).toEqual(first);
        }),
        { seed: seed + 1, numRuns: entry.runs },
      );
    });
  }

  it(`embedded values read back through Writer/Reader, one after another [seed ${seed}]`, () => {
    fc.assert(
      fc.property(requestArb, txnArb, writeResultArb, readResultArb, (request, txn, writeResult, readResult) => {
        const writer = new Writer();
        writeRequest(writer, request);
        writeTxn(writer, txn);
        writeWriteResult(writer, writeResult);
        writeReadResult(writer, readResult);
        const reader = new Reader(writer.finish());
        expect(readRequest(reader)).toEqual(request);
        expect(readTxn(reader)).toEqual(txn);
        expect(readWriteResult(reader)).toEqual(writeResult);
        expect(readReadResult(reader)).toEqual(readResult);
        expect(reader.remaining).toBe(0);
      }),
      { seed: seed + 2, numRuns: RUNS },
    );
  });

  it(`snapshotHash: equal trees, equal hashes; a changed field, a different hash [seed ${seed}]`, () => {
    fc.assert(
      fc.property(snapshotArb, (snapshot) => {
        const hash = snapshotHash(snapshot);
        expect(hash).toMatch(/^[0-9a-f]{64}$/);
        expect(snapshotHash(deepCopy(snapshot))).toBe(hash);
        expect(snapshotHash({ ...snapshot, lastZxid: snapshot.lastZxid + 1 })).not.toBe(hash);
      }),
      { seed: seed + 3, numRuns: 100 },
    );
  });
});
