/**
 * Binary writing on top of lib0/encoding: the mirror of reader.ts, one write per read. Writers
 * assert their inputs (a bad value here is our bug: validate before encode, STYLE.md habit 4).
 */

import * as encoding from 'lib0/encoding';
import { assert, AssertionError } from '../assert.js';

/**
 * The UTF-8 length of `value` in bytes, or -1 when it holds a lone surrogate (which UTF-8 cannot
 * carry). One pass over the UTF-16 code units, no allocation.
 */
export function utf8ByteLength(value: string): number {
  let bytes = 0;
  for (let index = 0; index < value.length; index++) {
    const code = value.charCodeAt(index);
    if (code < 0x80) {
      bytes += 1;
    } else if (code < 0x800) {
      bytes += 2;
    } else if (code < 0xd800 || code > 0xdfff) {
      bytes += 3;
    } else if (code <= 0xdbff) {
      const next = index + 1 < value.length ? value.charCodeAt(index + 1) : 0;
      if (next < 0xdc00 || next > 0xdfff) return -1;
      bytes += 4;
      index += 1;
    } else {
      return -1;
    }
  }
  return bytes;
}

const float64Bytes = new Uint8Array(8);
const float64View = new DataView(float64Bytes.buffer);

export class Writer {
  private readonly encoder = encoding.createEncoder();

  u8(value: number): void {
    assert(Number.isInteger(value) && value >= 0 && value <= 0xff, 'u8 in range');
    encoding.writeUint8(this.encoder, value);
  }

  bool(value: boolean): void {
    assert(typeof value === 'boolean', 'bool is a boolean');
    encoding.writeUint8(this.encoder, value ? 1 : 0);
  }

  /** An unsigned varint in [0, max] (the reader's `varUint(what, max)`). */
  varUint(value: number, max: number = Number.MAX_SAFE_INTEGER): void {
    assert(Number.isSafeInteger(value), 'varUint is a safe integer');
    assert(value >= 0, 'varUint is not negative');
    if (value > max) throw new AssertionError(`varUint ${value} is at most ${max}`);
    encoding.writeVarUint(this.encoder, value);
  }

  /** A signed varint in [min, max] (the reader's `varInt(what, min, max)`). Negative zero is
   *  written as zero: the reader refuses lib0's negative-zero form so that encodings are canonical. */
  varInt(value: number, min: number = Number.MIN_SAFE_INTEGER, max: number = Number.MAX_SAFE_INTEGER): void {
    assert(Number.isSafeInteger(value), 'varInt is a safe integer');
    if (value < min) throw new AssertionError(`varInt ${value} is at least ${min}`);
    if (value > max) throw new AssertionError(`varInt ${value} is at most ${max}`);
    encoding.writeVarInt(this.encoder, value === 0 ? 0 : value);
  }

  /** A count of items that follow, at most `max` (the reader's `count`). */
  count(value: number, max: number): void {
    this.varUint(value, max);
  }

  /** A big-endian IEEE float64 (lib0's writeFloat64 layout, through one scratch view instead of
   *  a DataView per call: snapshots write two per node). */
  float64(value: number): void {
    assert(Number.isFinite(value), 'float64 is finite');
    float64View.setFloat64(0, value, false);
    encoding.writeUint8Array(this.encoder, float64Bytes);
  }

  u32(value: number): void {
    assert(Number.isInteger(value) && value >= 0 && value <= 0xffffffff, 'u32 in range');
    encoding.writeUint32(this.encoder, value);
  }

  /** Length-prefixed bytes, at most `maxBytes` (the reader's `bytesVar(what, maxBytes)`). */
  bytesVar(value: Uint8Array, maxBytes: number = Number.MAX_SAFE_INTEGER): void {
    assert(value instanceof Uint8Array, 'bytesVar is a Uint8Array');
    if (value.length > maxBytes) throw new AssertionError(`bytesVar of ${value.length} bytes is at most ${maxBytes}`);
    encoding.writeVarUint8Array(this.encoder, value);
  }

  bytesFixed(value: Uint8Array): void {
    encoding.writeUint8Array(this.encoder, value);
  }

  /** A length-prefixed UTF-8 string of at most `maxBytes` encoded bytes (the reader's `string`).
   *  A lone surrogate has no UTF-8 form (it would silently become U+FFFD), so it fails an assertion. */
  string(value: string, maxBytes: number = Number.MAX_SAFE_INTEGER): void {
    assert(typeof value === 'string', 'string is a string');
    const bytes = utf8ByteLength(value);
    assert(bytes >= 0, 'string is well-formed UTF-16 (no lone surrogate)');
    if (bytes > maxBytes) throw new AssertionError(`string of ${bytes} UTF-8 bytes is at most ${maxBytes}`);
    if (bytes === value.length) {
      // ASCII (ids, most paths): the code units are the bytes; no call into the engine's encoder.
      encoding.writeVarUint(this.encoder, bytes);
      for (let index = 0; index < bytes; index++) encoding.write(this.encoder, value.charCodeAt(index));
      return;
    }
    encoding.writeVarString(this.encoder, value);
  }

  /** Writes the index of `value` in `table` as one byte (the reader's `tag`). */
  tag<T>(value: T, table: readonly T[]): void {
    const index = table.indexOf(value);
    if (index < 0) throw new AssertionError(`tag ${String(value)} is in its table`);
    this.u8(index);
  }

  get length(): number {
    return encoding.length(this.encoder);
  }

  finish(): Uint8Array {
    return encoding.toUint8Array(this.encoder);
  }
}
