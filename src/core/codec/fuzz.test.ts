// Proves that every top-level decoder is total on hostile input (STYLE.md habit 6): fed 20,000
// seeded inputs each — random bytes, and valid encodings mutated by bit flips, byte sets, length
// bumps, truncation, extension, splices, deletions, duplications and planted huge varints (snapshots
// also re-sealed with a fresh checksum, so the mutations reach past it) — a decoder never throws,
// always answers ok or an error string, and whatever decodes ok re-encodes, without an assertion
// failing, to exactly the input bytes (the encoding is canonical).
// Replay: SEED=N npx vitest run src/core/codec/fuzz.test.ts (the seed is in each test's name).

import fc from 'fast-check';
import { digest } from 'lib0/hash/sha256';
import { describe, expect, it } from 'vitest';
import type { Prng } from '../prng.js';
import { testSeed, withSeed } from '../../test-support/seed.js';
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
import { FORMAT_VERSION } from './fields.js';
import type { Decoded } from './reader.js';
import { decodeRequest, decodeRequestContext, encodeRequest, encodeRequestContext, REQUEST_CONTEXT } from './requests.js';
import {
  decodeReadResult,
  decodeWatchEvent,
  decodeWatchTrigger,
  decodeWriteResult,
  encodeReadResult,
  encodeWatchEvent,
  encodeWatchTrigger,
  encodeWriteResult,
  WATCH_EVENT,
  WATCH_TRIGGER,
} from './results.js';
import { decodeSnapshot, encodeSnapshot, SNAPSHOT_CHECKSUM_BYTES, SNAPSHOT_FORMAT_VERSION, SNAPSHOT_MAGIC } from './snapshot.js';
import { decodeTxn, encodeTxn } from './txns.js';

const seed = testSeed();
const INPUTS_PER_DECODER = 20_000;
const CORPUS_SIZE = 200;

interface Target {
  name: string;
  decode: (bytes: Uint8Array) => Decoded<unknown>;
  encode: (value: never) => Uint8Array;
  corpus: Uint8Array[];
  /** Tags a framed message of this family may start with (after the version byte). */
  tags: readonly number[];
  snapshot: boolean;
}

function target<T>(options: {
  name: string;
  arbitrary: fc.Arbitrary<T>;
  encode: (value: T) => Uint8Array;
  decode: (bytes: Uint8Array) => Decoded<T>;
  tags: readonly number[];
  snapshot?: boolean;
}): Target {
  const values = fc.sample(options.arbitrary, { seed, numRuns: CORPUS_SIZE });
  return {
    name: options.name,
    decode: options.decode,
    encode: options.encode as (value: never) => Uint8Array,
    corpus: values.map((value) => options.encode(value)),
    tags: options.tags,
    snapshot: options.snapshot ?? false,
  };
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, index) => from + index);

const targets: Target[] = [
  target({ name: 'Request', arbitrary: requestArb, encode: encodeRequest, decode: decodeRequest, tags: range(1, 17) }),
  target({ name: 'RequestContext', arbitrary: requestContextArb, encode: encodeRequestContext, decode: decodeRequestContext, tags: [REQUEST_CONTEXT] }),
  target({ name: 'Txn', arbitrary: txnArb, encode: encodeTxn, decode: decodeTxn, tags: range(32, 42) }),
  target({ name: 'WriteResult', arbitrary: writeResultArb, encode: encodeWriteResult, decode: decodeWriteResult, tags: range(64, 73) }),
  target({ name: 'ReadResult', arbitrary: readResultArb, encode: encodeReadResult, decode: decodeReadResult, tags: range(96, 104) }),
  target({ name: 'WatchTrigger', arbitrary: watchTriggerArb, encode: encodeWatchTrigger, decode: decodeWatchTrigger, tags: [WATCH_TRIGGER] }),
  target({ name: 'WatchEvent', arbitrary: watchEventArb, encode: encodeWatchEvent, decode: decodeWatchEvent, tags: [WATCH_EVENT] }),
  target({ name: 'TreeSnapshot', arbitrary: snapshotArb, encode: encodeSnapshot, decode: decodeSnapshot, tags: [], snapshot: true }),
];

// --- Input generation -------------------------------------------------------------------------

function randomBytes(prng: Prng, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let index = 0; index < length; index++) bytes[index] = prng.int(0, 255);
  return bytes;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Bytes that a varint reader sees as a large number: planted to make length fields lie. */
const HUGE_VARINTS: readonly Uint8Array[] = [
  new Uint8Array([0xff, 0xff, 0xff, 0x7f]),
  new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f]),
  new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]),
  new Uint8Array([0x80, 0x00]),
  new Uint8Array([0x40]),
];

const INTERESTING_BYTES: readonly number[] = [0x00, 0x01, 0x02, 0x3f, 0x40, 0x7f, 0x80, 0xc0, 0xef, 0xff];

/** One mutation of `bytes`; `donor` supplies spliced material. */
function mutateOnce(prng: Prng, bytes: Uint8Array, donor: Uint8Array): Uint8Array {
  const at = (): number => prng.int(0, Math.max(0, bytes.length - 1));
  const copy = (): Uint8Array => bytes.slice();
  switch (prng.int(0, 9)) {
    case 0: {
      if (bytes.length === 0) return bytes;
      const out = copy();
      const position = at();
      out[position] = (out[position] as number) ^ (1 << prng.int(0, 7));
      return out;
    }
    case 1: {
      if (bytes.length === 0) return bytes;
      const out = copy();
      out[at()] = prng.chance(0.5) ? prng.pick(INTERESTING_BYTES) : prng.int(0, 255);
      return out;
    }
    case 2: {
      // A length or count bumped: small steps, which keep most of the structure intact.
      if (bytes.length === 0) return bytes;
      const out = copy();
      const position = at();
      out[position] = ((out[position] as number) + prng.pick([-2, -1, 1, 2, 64, 127])) & 0xff;
      return out;
    }
    case 3:
      return bytes.subarray(0, prng.int(0, bytes.length));
    case 4:
      return concat(bytes, randomBytes(prng, prng.int(1, 16)));
    case 5: {
      const start = prng.int(0, donor.length);
      const chunk = donor.subarray(start, start + prng.int(1, 32));
      const position = prng.int(0, bytes.length);
      const replace = prng.chance(0.5) ? chunk.length : 0;
      return concat(bytes.subarray(0, position), chunk, bytes.subarray(Math.min(bytes.length, position + replace)));
    }
    case 6: {
      const position = prng.int(0, bytes.length);
      return concat(bytes.subarray(0, position), bytes.subarray(Math.min(bytes.length, position + prng.int(1, 8))));
    }
    case 7: {
      const position = prng.int(0, bytes.length);
      const chunk = bytes.subarray(position, position + prng.int(1, 16));
      return concat(bytes.subarray(0, position), chunk, bytes.subarray(position));
    }
    case 8: {
      const position = prng.int(0, bytes.length);
      const replace = prng.chance(0.5) ? prng.int(1, 2) : 0;
      return concat(bytes.subarray(0, position), prng.pick(HUGE_VARINTS), bytes.subarray(Math.min(bytes.length, position + replace)));
    }
    default:
      return concat(randomBytes(prng, prng.int(1, 4)), bytes);
  }
}

const SNAPSHOT_HEADER_BYTES = SNAPSHOT_MAGIC.length + 1;

/** Payload bytes sealed as a snapshot with a correct checksum. */
function seal(payload: Uint8Array): Uint8Array {
  const body = concat(new Uint8Array([...SNAPSHOT_MAGIC, SNAPSHOT_FORMAT_VERSION]), payload);
  return concat(body, digest(body));
}

function payloadOf(snapshot: Uint8Array): Uint8Array {
  return snapshot.subarray(SNAPSHOT_HEADER_BYTES, snapshot.length - SNAPSHOT_CHECKSUM_BYTES);
}

/** One fuzz input for `of`: random bytes (often behind a valid frame), or a mutated encoding. */
function nextInput(prng: Prng, of: Target): Uint8Array {
  const roll = prng.float();
  if (roll < 0.15) {
    const noise = randomBytes(prng, prng.int(0, 48));
    if (of.snapshot) return prng.chance(0.5) ? seal(noise) : noise;
    return prng.chance(0.5) ? concat(new Uint8Array([FORMAT_VERSION, prng.pick(of.tags)]), noise) : noise;
  }
  const original = prng.pick(of.corpus);
  const donor = prng.pick(prng.pick(targets).corpus);
  const mutations = 1 + (prng.chance(0.5) ? 0 : prng.int(1, 4));
  const resealed = of.snapshot && prng.chance(0.8);
  let bytes = resealed ? payloadOf(original) : original;
  for (let count = 0; count < mutations; count++) bytes = mutateOnce(prng, bytes, resealed ? payloadOf(donor) : donor);
  return resealed ? seal(bytes) : bytes;
}

// --- The property -------------------------------------------------------------------------------

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

function sameBytes(left: Uint8Array, right: Uint8Array): boolean {
  return Buffer.compare(left, right) === 0;
}

interface Tally {
  ok: number;
  errors: number;
}

function fuzz(of: Target, prng: Prng): Tally {
  const tally: Tally = { ok: 0, errors: 0 };
  for (let index = 0; index < INPUTS_PER_DECODER; index++) {
    const input = nextInput(prng, of);
    let result: Decoded<unknown>;
    try {
      result = of.decode(input);
    } catch (error) {
      throw new Error(`input ${index} made decode${of.name} throw: ${String(error)}\n  input: ${hex(input)}`, { cause: error });
    }
    if (result.ok === true) {
      tally.ok += 1;
      let again: Uint8Array;
      try {
        again = of.encode(result.value as never);
      } catch (error) {
        throw new Error(`input ${index} decoded ok but does not re-encode: ${String(error)}\n  input: ${hex(input)}`, { cause: error });
      }
      if (!sameBytes(again, input)) {
        throw new Error(`input ${index} decoded ok but re-encodes differently\n  input: ${hex(input)}\n  again: ${hex(again)}`);
      }
    } else if (result.ok === false && typeof result.error === 'string' && result.error.length > 0) {
      tally.errors += 1;
    } else {
      throw new Error(`input ${index}: decode${of.name} answered neither ok nor an error: ${JSON.stringify(result)}`);
    }
  }
  return tally;
}

describe(`decoder fuzz, ${INPUTS_PER_DECODER} inputs per decoder (seed ${seed})`, () => {
  for (const of of targets) {
    it(`decode${of.name} never throws and whatever it accepts re-encodes to the same bytes [seed ${seed}]`, () => {
      const label = `decode${of.name} never throws`;
      const tally = withSeed(label, seed, (prng) => fuzz(of, prng));
      console.log(`fuzz decode${of.name} seed=${seed}: ${tally.ok} ok, ${tally.errors} errors`);
      expect(tally.ok + tally.errors).toBe(INPUTS_PER_DECODER);
      // The corpus and mutations must reach past the framing: some inputs decode, most do not.
      expect(tally.ok).toBeGreaterThan(INPUTS_PER_DECODER / 200);
      expect(tally.errors).toBeGreaterThan(INPUTS_PER_DECODER / 2);
    });
  }
});
