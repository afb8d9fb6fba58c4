// Proves that the peer's wire envelope and log record (wire.ts, record.ts) round-trip every kind of
// message, and that their decoders are total on hostile input (STYLE.md habit 6): seeded random
// bytes and mutations of valid encodings (bit flips, truncation, extension, huge varints) never
// throw; they decode to an error with a drop reason, or to a message that re-encodes to the same
// bytes (canonical). Replay: SEED=N npx vitest run src/peer/wire.test.ts
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { requestArb, sessionIdArb, txnArb, idArb } from '../core/codec/arbitraries.js';
import type { Prng } from '../core/prng.js';
import { writeIds, writeOptionalSessionId } from '../core/codec/fields.js';
import { writeRequest } from '../core/codec/requests.js';
import { Writer } from '../core/codec/writer.js';
import type { WriteRequest } from '../core/tree/types.js';
import { testSeed, withSeed } from '../test-support/seed.js';
import { WIRE_MESSAGE_BYTES_MAX } from './constants.js';
import { decodeLogRecord, encodeLogRecord, type LogRecord } from './record.js';
import { decodeWire, encodeWire, REFUSAL_CAUSES, WIRE_FORWARD, WIRE_PING, type WireMessage } from './wire.js';

const seed = testSeed();
const FORWARDABLE = new Set(['create', 'delete', 'setData', 'setACL', 'multi', 'createSession', 'closeSession']);

const peerIdArb = fc.string({ minLength: 1, maxLength: 12 }).filter((id) => new TextEncoder().encode(id).length <= 64 && !/[\ud800-\udfff]/.test(id));
const streamArb = fc.record({ incarnation: fc.stringMatching(/^[0-9a-f]{1,16}-[0-9a-z]{1,8}$/), number: fc.nat() });

const wireArb: fc.Arbitrary<WireMessage> = fc.oneof(
  fc.record({
    kind: fc.constant('forward' as const),
    forward: fc.record({
      term: fc.nat(),
      stream: streamArb,
      seq: fc.nat(),
      requestId: fc.stringMatching(/^[0-9a-f]{4,16}\.[0-9]{1,6}$/),
      sessionId: fc.option(sessionIdArb, { nil: null }),
      auth: fc.array(idArb, { maxLength: 3 }),
      request: requestArb.filter((request): request is WriteRequest => FORWARDABLE.has(request.op)),
    }),
  }),
  fc.record({
    kind: fc.constant('forward-refused' as const),
    refusal: fc.record({ term: fc.nat(), stream: streamArb, seq: fc.nat(), cause: fc.constantFrom(...REFUSAL_CAUSES), leader: fc.option(peerIdArb, { nil: null }) }),
  }),
  fc.record({ kind: fc.constant('forward-probe' as const), probe: fc.record({ term: fc.nat(), stream: streamArb, nextSeq: fc.nat() }) }),
  fc.record({ kind: fc.constant('ping' as const), term: fc.nat(), sessions: fc.array(sessionIdArb, { maxLength: 8 }) }),
  fc.constant({ kind: 'join' as const }),
  fc.record({ kind: fc.constant('leader-hint' as const), term: fc.nat(), leader: fc.option(peerIdArb, { nil: null }) }),
  fc.record({ kind: fc.constant('removed' as const), term: fc.nat(), configIndex: fc.nat() }),
  fc.record({ kind: fc.constant('leaving' as const), successor: fc.option(peerIdArb, { nil: null }), returns: fc.boolean(), incarnation: fc.stringMatching(/^[0-9a-z-]{1,32}$/) }),
  fc.record({
    kind: fc.constant('raft' as const),
    // Raft never addresses a message to its sender (the encoder asserts it).
    message: fc
      .record({ type: fc.constant('heartbeat' as const), from: peerIdArb, to: peerIdArb, term: fc.nat(), commit: fc.nat(), readRound: fc.nat() })
      .filter((message) => message.from !== message.to),
  }),
);

const recordArb: fc.Arbitrary<LogRecord> = fc.record({ origin: peerIdArb, requestId: fc.stringMatching(/^[0-9a-f]{4,16}\.[0-9]{1,6}$/), txn: txnArb });

function mutate(bytes: Uint8Array, prng: Prng): Uint8Array {
  const out = bytes.slice();
  switch (prng.int(0, 4)) {
    case 0: {
      if (out.length > 0) {
        const at = prng.int(0, out.length - 1);
        out[at] = (out[at] as number) ^ (1 << prng.int(0, 7));
      }
      return out;
    }
    case 1:
      return out.subarray(0, prng.int(0, out.length));
    case 2: {
      const extra = new Uint8Array(prng.int(1, 8)).map(() => prng.int(0, 255));
      return new Uint8Array([...out, ...extra]);
    }
    case 3: {
      // a huge varint planted somewhere after the tag
      const at = prng.int(Math.min(1, out.length), out.length);
      return new Uint8Array([...out.subarray(0, at), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, ...out.subarray(at)]);
    }
    default: {
      if (out.length > 0) out[prng.int(0, out.length - 1)] = prng.int(0, 255);
      return out;
    }
  }
}

describe(`wire envelope (seed ${seed})`, () => {
  it('round-trips every kind of message', () => {
    for (const message of fc.sample(wireArb, { seed, numRuns: 2000 })) {
      const bytes = encodeWire(message);
      const decoded = decodeWire(bytes);
      expect(decoded.ok).toBe(true);
      if (decoded.ok) expect(encodeWire(decoded.message)).toEqual(bytes);
    }
  });

  it('round-trips log records', () => {
    for (const record of fc.sample(recordArb, { seed, numRuns: 2000 })) {
      const bytes = encodeLogRecord(record);
      const decoded = decodeLogRecord(bytes);
      expect(decoded.ok).toBe(true);
      if (decoded.ok) expect(encodeLogRecord(decoded.value)).toEqual(bytes);
    }
  });

  it('never throws on hostile bytes, and what decodes re-encodes to the same bytes', () => {
    withSeed('wire fuzz', seed, (prng) => {
      const corpus = fc.sample(wireArb, { seed, numRuns: 300 }).map(encodeWire);
      const reasons = new Map<string, number>();
      for (let i = 0; i < 20_000; i++) {
        const bytes = i % 4 === 0 ? new Uint8Array(prng.int(0, 40)).map(() => prng.int(0, 255)) : mutate(prng.pick(corpus), prng);
        const decoded = decodeWire(bytes);
        if (decoded.ok) {
          expect(encodeWire(decoded.message)).toEqual(bytes);
        } else {
          expect(typeof decoded.error).toBe('string');
          reasons.set(decoded.reason, (reasons.get(decoded.reason) ?? 0) + 1);
        }
        const record = decodeLogRecord(bytes);
        if (record.ok) expect(encodeLogRecord(record.value)).toEqual(bytes);
      }
      expect(reasons.get('malformed') ?? 0).toBeGreaterThan(0);
      expect(reasons.get('unknown-tag') ?? 0).toBeGreaterThan(0);
    });
  });

  it('names the drop reason: too large, unknown tag, empty, trailing bytes, a read forwarded as a write', () => {
    expect(decodeWire(new Uint8Array(WIRE_MESSAGE_BYTES_MAX + 1))).toMatchObject({ ok: false, reason: 'too-large' });
    expect(decodeWire(new Uint8Array([200]))).toMatchObject({ ok: false, reason: 'unknown-tag' });
    expect(decodeWire(new Uint8Array([]))).toMatchObject({ ok: false, reason: 'malformed' });
    const join = encodeWire({ kind: 'join' });
    expect(decodeWire(new Uint8Array([...join, 0]))).toMatchObject({ ok: false, reason: 'malformed' });
    // a ping claiming more sessions than its bytes can hold
    expect(decodeWire(new Uint8Array([WIRE_PING, 1, 0xff, 0x03]))).toMatchObject({ ok: false, reason: 'malformed' });
    // a forward whose request is a read: only writes travel (built by hand: the encoder refuses it)
    const writer = new Writer();
    writer.u8(WIRE_FORWARD);
    writer.varUint(1); // term
    writer.string('ab-1');
    writer.varUint(1); // stream number
    writer.varUint(0); // seq
    writer.string('ab.1');
    writeOptionalSessionId(writer, 's');
    writeIds(writer, [], 16);
    writeRequest(writer, { op: 'getData', path: '/x', watch: false });
    const asRead = decodeWire(writer.finish());
    expect(asRead).toMatchObject({ ok: false, reason: 'malformed' });
    expect(asRead.ok ? '' : asRead.error).toContain('not a forwardable write');
  });
});
