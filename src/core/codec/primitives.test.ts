// Proves the Reader/Writer primitives the codec is built on: every varint, float and string reads
// back what was written (boundaries and fast-check arbitraries), the reader refuses non-canonical
// input (overlong varints, negative zero) so that each value has one encoding, floats keep lib0's
// big-endian layout and read right from a view at an offset, and caps hold at both ends.

import fc from 'fast-check';
import * as encoding from 'lib0/encoding';
import { describe, expect, it } from 'vitest';
import { AssertionError } from '../assert.js';
import { testSeed } from '../../test-support/seed.js';
import { decodeWith, Reader } from './reader.js';
import { utf8ByteLength, Writer } from './writer.js';

const seed = testSeed();

function written(write: (writer: Writer) => void): Uint8Array {
  const writer = new Writer();
  write(writer);
  return writer.finish();
}

describe(`utf8ByteLength [seed ${seed}]`, () => {
  it('agrees with TextEncoder on well-formed strings', () => {
    const encoder = new TextEncoder();
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (value) => {
        expect(utf8ByteLength(value)).toBe(encoder.encode(value).length);
      }),
      { seed, numRuns: 1000 },
    );
    expect(utf8ByteLength('')).toBe(0);
    expect(utf8ByteLength('\u007f\u0080\u07ff\u0800\uffff\u{10000}\u{10ffff}')).toBe(1 + 2 + 2 + 3 + 3 + 4 + 4);
  });

  it('is -1 for a lone surrogate, anywhere', () => {
    for (const value of ['\ud800', '\udc00', 'a\ud800b', 'a\udfff', '\ud83d\ud83d', '\ud83d']) {
      expect(utf8ByteLength(value)).toBe(-1);
    }
  });
});

describe('varints', () => {
  const unsigned = [0, 1, 63, 64, 127, 128, 255, 16_383, 16_384, 2 ** 31, 2 ** 32, 2 ** 52, Number.MAX_SAFE_INTEGER];

  it('unsigned and signed boundaries round trip in at most 8 bytes', () => {
    for (const value of unsigned) {
      const bytes = written((w) => w.varUint(value));
      expect(bytes.length).toBeLessThanOrEqual(8);
      expect(decodeWith(bytes, (r) => r.varUint('v'))).toEqual({ ok: true, value });
      for (const signed of [value, -value]) {
        const signedBytes = written((w) => w.varInt(signed));
        expect(signedBytes.length).toBeLessThanOrEqual(8);
        const decoded = decodeWith(signedBytes, (r) => r.varInt('v', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER));
        expect(decoded).toEqual({ ok: true, value: signed === 0 ? 0 : signed });
      }
    }
  });

  it(`arbitrary safe integers round trip [seed ${seed}]`, () => {
    fc.assert(
      fc.property(fc.maxSafeInteger(), (value) => {
        const decoded = decodeWith(written((w) => w.varInt(value)), (r) => r.varInt('v', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER));
        expect(decoded).toEqual({ ok: true, value });
      }),
      { seed, numRuns: 2000 },
    );
  });

  it('refuses overlong encodings, negative zero, unterminated and too-long varints', () => {
    expect(decodeWith(new Uint8Array([0x80, 0x00]), (r) => r.varUint('v'))).toEqual({ ok: false, error: 'v: overlong varint' });
    expect(decodeWith(new Uint8Array([0x81, 0x80, 0x00]), (r) => r.varUint('v'))).toEqual({ ok: false, error: 'v: overlong varint' });
    expect(decodeWith(new Uint8Array([0xc0, 0x00]), (r) => r.varInt('v', -10, 10))).toEqual({ ok: false, error: 'v: overlong varint' });
    expect(decodeWith(new Uint8Array([0x40]), (r) => r.varInt('v', -10, 10))).toEqual({ ok: false, error: 'v: negative zero' });
    expect(decodeWith(new Uint8Array([0x80]), (r) => r.varUint('v')).ok).toBe(false);
    expect(decodeWith(new Uint8Array(9).fill(0xff), (r) => r.varUint('v'))).toEqual({ ok: false, error: 'v: varint longer than 8 bytes' });
    // 2^53 fits in 8 varint bytes but is not a safe integer.
    const tooBig = written((w) => w.bytesFixed(new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10])));
    expect(decodeWith(tooBig, (r) => r.varUint('v')).ok).toBe(false);
  });

  it('the writer writes negative zero as zero, and asserts ranges', () => {
    expect(written((w) => w.varInt(-0))).toEqual(new Uint8Array([0]));
    expect(() => written((w) => w.varUint(-1))).toThrow(AssertionError);
    expect(() => written((w) => w.varUint(11, 10))).toThrow(/at most 10/);
    expect(() => written((w) => w.varInt(-2, -1, 5))).toThrow(/at least -1/);
    expect(() => written((w) => w.varUint(2 ** 53))).toThrow(/safe integer/);
    expect(() => written((w) => w.varInt(0.5))).toThrow(/safe integer/);
  });

  it('range limits hold at the reader', () => {
    expect(decodeWith(written((w) => w.varUint(11)), (r) => r.varUint('v', 10))).toEqual({ ok: false, error: 'v: 11 exceeds 10' });
    expect(decodeWith(written((w) => w.varInt(-2)), (r) => r.varInt('v', -1, 10))).toEqual({ ok: false, error: 'v: -2 outside [-1, 10]' });
  });
});

describe('float64', () => {
  it(`keeps lib0's big-endian layout and round trips every finite double [seed ${seed}]`, () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (value) => {
        const bytes = written((w) => w.float64(value));
        const lib0 = encoding.createEncoder();
        encoding.writeFloat64(lib0, value);
        expect(bytes).toEqual(encoding.toUint8Array(lib0));
        const decoded = decodeWith(bytes, (r) => r.float64('f'));
        expect(decoded.ok && Object.is(decoded.value, value)).toBe(true);
      }),
      { seed, numRuns: 1000 },
    );
  });

  it('reads right from a view at an odd offset into a larger buffer', () => {
    const inner = written((w) => {
      w.u8(7);
      w.float64(1234.5);
      w.float64(-0.25);
    });
    const outer = new Uint8Array(inner.length + 5);
    outer.set(inner, 3);
    const view = outer.subarray(3, 3 + inner.length);
    expect(decodeWith(view, (r) => [r.u8('a'), r.float64('b'), r.float64('c')])).toEqual({ ok: true, value: [7, 1234.5, -0.25] });
  });

  it('refuses NaN and infinities at both ends', () => {
    for (const value of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      expect(() => written((w) => w.float64(value))).toThrow(AssertionError);
      const bytes = new Uint8Array(8);
      new DataView(bytes.buffer).setFloat64(0, value);
      expect(decodeWith(bytes, (r) => r.float64('f'))).toEqual({ ok: false, error: 'f: not a finite number' });
    }
  });
});

describe('strings, bytes and counts', () => {
  it('strings honour their cap at both ends and refuse lone surrogates', () => {
    const bytes = written((w) => w.string('日本', 6));
    expect(decodeWith(bytes, (r) => r.string('s', 6))).toEqual({ ok: true, value: '日本' });
    expect(decodeWith(bytes, (r) => r.string('s', 5))).toEqual({ ok: false, error: 's length: 6 exceeds 5' });
    expect(() => written((w) => w.string('日本', 5))).toThrow(/6 UTF-8 bytes is at most 5/);
    expect(() => written((w) => w.string('\ud800'))).toThrow(/lone surrogate/);
  });

  it('a string keeps a leading byte-order mark', () => {
    const bytes = written((w) => w.string('\ufeffx'));
    expect(decodeWith(bytes, (r) => r.string('s', 10))).toEqual({ ok: true, value: '\ufeffx' });
  });

  it('bytesVar returns a copy, not a view into the input, and honours its cap', () => {
    const bytes = written((w) => w.bytesVar(new Uint8Array([1, 2, 3]), 3));
    const decoded = decodeWith(bytes, (r) => r.bytesVar('b', 3));
    expect(decoded).toEqual({ ok: true, value: new Uint8Array([1, 2, 3]) });
    if (decoded.ok) expect(decoded.value.buffer).not.toBe(bytes.buffer);
    expect(() => written((w) => w.bytesVar(new Uint8Array(4), 3))).toThrow(/at most 3/);
  });

  it('a count cannot claim more items than the remaining bytes could hold', () => {
    const bytes = written((w) => {
      w.count(3, 10);
      w.u8(0);
      w.u8(0);
    });
    expect(decodeWith(bytes, (r) => r.count('n', 10, 1))).toEqual({ ok: false, error: 'n: 3 items cannot fit in 2 bytes' });
    expect(() => written((w) => w.count(11, 10))).toThrow(/at most 10/);
    const reader = new Reader(bytes);
    expect(reader.count('n', 10, 0)).toBe(3);
  });

  it('decodeWith rethrows assertion failures (our bugs) instead of hiding them', () => {
    expect(() =>
      decodeWith(new Uint8Array([1]), () => {
        throw new AssertionError('a bug');
      }),
    ).toThrow(AssertionError);
  });
});
