// Proves the mesh's wire format (framing.ts) and admission cryptography (admission.ts): messages
// of every size round-trip through frames of at most FRAME_BYTES_MAX; arbitrary frame sequences
// never throw and never hold more than WIRE_MESSAGE_BYTES_MAX (fast-check, seeded: the seed is
// printed on failure); HELLO and relayed envelopes decode what they encode and refuse truncations;
// a proof verifies only for the same secret, roles, nonces and DTLS fingerprints (no reflection,
// no man-in-the-middle pass-through), and a relayed tag only for the same tuple.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  deriveRoomKey,
  newIncarnation,
  newNonce,
  sdpFingerprint,
  signProof,
  signRelayed,
  verifyProof,
  verifyRelayed,
  type ProofInput,
} from './admission.js';
import { FRAME_BYTES_MAX, MESSAGE_BYTES_MAX_WIRE, PROTOCOL_VERSION } from './constants.js';
import {
  batchedBytes,
  decodeBatch,
  decodeHello,
  decodeRelayed,
  encodeBatch,
  encodeHello,
  encodeMessage,
  encodeRelayed,
  framedBytes,
  FrameKind,
  Reassembler,
} from './framing.js';

function roundTrip(bytes: Uint8Array): Uint8Array[] {
  const reassembler = new Reassembler();
  const out: Uint8Array[] = [];
  for (const frame of encodeMessage(bytes)) {
    expect(frame.length).toBeLessThanOrEqual(FRAME_BYTES_MAX);
    const result = reassembler.push(frame);
    expect(result.type).not.toBe('malformed');
    if (result.type === 'message') out.push(result.bytes);
  }
  return out;
}

describe('framing', () => {
  it('round-trips messages of boundary sizes, and framedBytes predicts the frames exactly', () => {
    for (const size of [0, 1, FRAME_BYTES_MAX - 2, FRAME_BYTES_MAX - 1, FRAME_BYTES_MAX, 3 * FRAME_BYTES_MAX, MESSAGE_BYTES_MAX_WIRE]) {
      const bytes = new Uint8Array(size).map((_, i) => (i * 31) & 0xff);
      const out = roundTrip(bytes);
      expect(out.length).toBe(1);
      const got = out[0] as Uint8Array;
      expect(got.length).toBe(size);
      expect(got.every((value, i) => value === bytes[i])).toBe(true);
      expect(encodeMessage(bytes).reduce((sum, frame) => sum + frame.length, 0)).toBe(framedBytes(size));
    }
    expect(() => encodeMessage(new Uint8Array(MESSAGE_BYTES_MAX_WIRE + 1))).toThrow();
  });

  it('never throws on arbitrary frames and never holds more than the wire limit', () => {
    const frame = fc.oneof(
      fc.uint8Array({ maxLength: 64 }),
      fc.tuple(fc.constantFrom(FrameKind.first, FrameKind.next, FrameKind.whole, FrameKind.batch), fc.uint8Array({ maxLength: 32 })).map(([kind, rest]) => Uint8Array.of(kind, ...rest)),
      fc.tuple(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.uint8Array({ minLength: 1, maxLength: 32 })).map(([total, rest]) => {
        const bytes = new Uint8Array(5 + rest.length);
        bytes[0] = FrameKind.first;
        new DataView(bytes.buffer).setUint32(1, total);
        bytes.set(rest, 5);
        return bytes;
      }),
    );
    fc.assert(
      fc.property(fc.array(frame, { maxLength: 200 }), (frames) => {
        const reassembler = new Reassembler();
        for (const each of frames) {
          const result = reassembler.push(each);
          if (result.type === 'message') expect(result.bytes.length).toBeLessThanOrEqual(MESSAGE_BYTES_MAX_WIRE);
          expect(reassembler.pendingBytes).toBeLessThanOrEqual(MESSAGE_BYTES_MAX_WIRE);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('round-trips BATCH frames of many small messages; refuses truncated, overrunning and one-message batches', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { minLength: 2, maxLength: 40 }), (messages) => {
        const frame = encodeBatch(messages);
        expect(frame.length).toBe(batchedBytes(messages.map((m) => m.length)));
        expect(frame.length).toBeLessThanOrEqual(FRAME_BYTES_MAX);
        const result = new Reassembler().push(frame);
        expect(result.type).toBe('messages');
        if (result.type !== 'messages') return;
        expect(result.list.map((m) => Array.from(m))).toEqual(messages.map((m) => Array.from(m)));
        // Every proper prefix but those ending exactly on a message boundary is refused whole.
        for (const cut of [1, 2, frame.length - 1]) {
          const decoded = decodeBatch(frame.subarray(0, cut));
          if (decoded.ok) expect(decoded.value.length).toBeGreaterThanOrEqual(2);
        }
      }),
      { numRuns: 200 },
    );
    const one = encodeBatch([Uint8Array.of(1), Uint8Array.of(2)]).subarray(0, 4); // [kind][len][1]
    expect(decodeBatch(one)).toEqual({ ok: false, reason: 'batch: fewer than two messages' });
    const overrun = Uint8Array.of(FrameKind.batch, 0, 1, 9, 0, 5, 1);
    expect(decodeBatch(overrun).ok).toBe(false);
    expect(new Reassembler().push(Uint8Array.of(FrameKind.batch, 0)).type).toBe('malformed');
    expect(() => encodeBatch([Uint8Array.of(1)])).toThrow();
    expect(() => encodeBatch([new Uint8Array(FRAME_BYTES_MAX), Uint8Array.of(1)])).toThrow();
  });

  it('a BATCH frame abandons a message in progress, as a WHOLE frame does', () => {
    const reassembler = new Reassembler();
    const big = encodeMessage(new Uint8Array(40_000).fill(1));
    reassembler.push(big[0] as Uint8Array);
    const result = reassembler.push(encodeBatch([Uint8Array.of(3), Uint8Array.of(4, 5)]));
    expect(result.type === 'messages' ? result.list.map((m) => Array.from(m)) : result).toEqual([[3], [4, 5]]);
    expect(reassembler.abandoned).toBe(1);
  });

  it('recovers after an interrupted message: the next message arrives, the abandoned one is counted', () => {
    const reassembler = new Reassembler();
    const big = encodeMessage(new Uint8Array(40_000).fill(1));
    reassembler.push(big[0] as Uint8Array);
    const small = encodeMessage(Uint8Array.of(9));
    expect(reassembler.push(small[0] as Uint8Array)).toEqual({ type: 'message', bytes: Uint8Array.of(9) });
    expect(reassembler.abandoned).toBe(1);
    expect(reassembler.push(big[1] as Uint8Array).type).toBe('malformed'); // NEXT with nothing in progress
  });

  it('decodes HELLO and relayed envelopes, and refuses truncated ones', () => {
    const hello = { version: PROTOCOL_VERSION, nonce: newNonce(), incarnation: newIncarnation(), peerId: 'peer-α' };
    const encoded = encodeHello(hello);
    expect(decodeHello(encoded)).toEqual({ ok: true, value: hello });
    for (let cut = 0; cut < encoded.length; cut++) expect(decodeHello(encoded.subarray(0, cut)).ok).toBe(false);
    const envelope = { senderIncarnation: newIncarnation(), receiverIncarnation: newIncarnation(), seq: 2 ** 40 + 3, mac: new Uint8Array(32).fill(7), payload: Uint8Array.of(1, 2) };
    const relayed = encodeRelayed(envelope);
    expect(decodeRelayed(relayed)).toEqual({ ok: true, value: envelope });
    expect(decodeRelayed(relayed.subarray(0, 10)).ok).toBe(false);
  });
});

describe('admission', () => {
  const sdp = (fingerprint: string) => `v=0\r\na=ice-ufrag:x\r\na=fingerprint:sha-256 ${fingerprint}\r\na=setup:actpass\r\n`;

  it('parses the DTLS fingerprint of an SDP', () => {
    expect(sdpFingerprint(sdp('ab:CD:01'))).toBe('sha-256 AB:CD:01');
    expect(sdpFingerprint('v=0\r\n')).toBeNull();
    expect(sdpFingerprint(42)).toBeNull();
  });

  it('verifies a proof only for the same secret, roles, nonces and fingerprints', async () => {
    const key = await deriveRoomKey('s3cret');
    const input: ProofInput = {
      room: 'room',
      prover: 'x',
      verifier: 'y',
      proverNonce: newNonce(),
      proverIncarnation: newIncarnation(),
      verifierNonce: newNonce(),
      proverFingerprint: 'sha-256 AA',
      verifierFingerprint: 'sha-256 BB',
    };
    const mac = await signProof(key, input);
    expect(await verifyProof(key, input, mac)).toBe(true);
    expect(await verifyProof(await deriveRoomKey('other'), input, mac)).toBe(false);
    expect(await verifyProof(await deriveRoomKey(''), input, await signProof(await deriveRoomKey(''), input))).toBe(true);
    // Reflection: the same proof does not serve the other direction.
    expect(await verifyProof(key, { ...input, prover: 'y', verifier: 'x' }, mac)).toBe(false);
    // A fresh challenge needs a fresh proof.
    expect(await verifyProof(key, { ...input, verifierNonce: newNonce() }, mac)).toBe(false);
    // A man in the middle: y sees the attacker's certificate, not x's.
    expect(await verifyProof(key, { ...input, proverFingerprint: 'sha-256 EE' }, mac)).toBe(false);
    expect(await verifyProof(key, { ...input, verifierFingerprint: 'sha-256 EE' }, mac)).toBe(false);
  });

  it('verifies a relayed tag only for the same tuple', async () => {
    const key = await deriveRoomKey('s3cret');
    const input = { room: 'room', from: 'x', to: 'y', senderIncarnation: newIncarnation(), receiverIncarnation: newIncarnation(), seq: 5, payload: Uint8Array.of(1, 2, 3) };
    const mac = await signRelayed(key, input);
    expect(await verifyRelayed(key, input, mac)).toBe(true);
    expect(await verifyRelayed(key, { ...input, seq: 6 }, mac)).toBe(false);
    expect(await verifyRelayed(key, { ...input, to: 'z' }, mac)).toBe(false);
    expect(await verifyRelayed(key, { ...input, payload: Uint8Array.of(1, 2, 4) }, mac)).toBe(false);
  });
});
