/**
 * Bounds-checked binary reading on top of lib0/decoding. Every read checks the remaining length
 * first and every length is capped by the caller, so untrusted bytes can never read past the end,
 * allocate without bound, or yield a value outside its range. Decoders run inside `decodeWith`,
 * which turns any malformed input into an error value: nothing throws out of a decoder.
 */

import * as decoding from 'lib0/decoding';
import { AssertionError } from '../assert.js';

/** Why bytes were rejected. Internal to decoders; callers see `{ ok: false, error }`. */
export class DecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecodeError';
  }
}

export type Decoded<T> = { ok: true; value: T } | { ok: false; error: string };

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The most bytes a varuint of a safe integer takes (ceil(53 / 7)). */
const VAR_UINT_BYTES_MAX = 8;

export class Reader {
  private readonly decoder: decoding.Decoder;
  /** One view over the whole input for float64 reads (lib0 makes a DataView per read). */
  private readonly view: DataView;

  constructor(readonly bytes: Uint8Array) {
    this.decoder = decoding.createDecoder(bytes);
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get remaining(): number {
    return this.bytes.length - this.decoder.pos;
  }

  get position(): number {
    return this.decoder.pos;
  }

  private need(count: number, what: string): void {
    if (count > this.remaining) {
      throw new DecodeError(`${what}: needs ${count} bytes, ${this.remaining} left at offset ${this.position}`);
    }
  }

  u8(what = 'u8'): number {
    this.need(1, what);
    return decoding.readUint8(this.decoder);
  }

  bool(what = 'bool'): boolean {
    const value = this.u8(what);
    if (value > 1) throw new DecodeError(`${what}: ${value} is not 0 or 1`);
    return value === 1;
  }

  /**
   * Checks that a whole varint lies ahead: it ends at the first byte below 0x80, within
   * VAR_UINT_BYTES_MAX bytes, and is canonical (a multi-byte varint never ends in 0x00, which only
   * an overlong encoding of a smaller number does). Canonical input means one value has one
   * encoding, so whatever decodes re-encodes to the same bytes.
   */
  private varintAhead(what: string): void {
    let length = 0;
    while (true) {
      this.need(length + 1, what);
      const byte = this.bytes[this.position + length] as number;
      length += 1;
      if (byte < 0x80) {
        if (byte === 0 && length > 1) throw new DecodeError(`${what}: overlong varint`);
        return;
      }
      if (length >= VAR_UINT_BYTES_MAX) throw new DecodeError(`${what}: varint longer than ${VAR_UINT_BYTES_MAX} bytes`);
    }
  }

  /** An unsigned varint in [0, max]. */
  varUint(what: string, max: number = Number.MAX_SAFE_INTEGER): number {
    this.varintAhead(what);
    const value = decoding.readVarUint(this.decoder);
    if (!Number.isSafeInteger(value) || value > max) throw new DecodeError(`${what}: ${value} exceeds ${max}`);
    return value;
  }

  /** A signed varint in [min, max]. lib0's negative zero (0x40) is refused: the writer never
   *  emits it, and accepting it would give zero two encodings. */
  varInt(what: string, min: number, max: number): number {
    this.varintAhead(what);
    const value = decoding.readVarInt(this.decoder);
    if (Object.is(value, -0)) throw new DecodeError(`${what}: negative zero`);
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      throw new DecodeError(`${what}: ${value} outside [${min}, ${max}]`);
    }
    return value;
  }

  /** A big-endian IEEE float64 (for times that may exceed 2^53 rarely; must be finite). */
  float64(what: string): number {
    this.need(8, what);
    const value = this.view.getFloat64(this.decoder.pos, false);
    this.decoder.pos += 8;
    if (!Number.isFinite(value)) throw new DecodeError(`${what}: not a finite number`);
    return value;
  }

  /** A fixed-size little-endian uint32. */
  u32(what: string): number {
    this.need(4, what);
    return decoding.readUint32(this.decoder);
  }

  /** Length-prefixed bytes, at most `maxBytes`; returns a copy (never a view into the input). */
  bytesVar(what: string, maxBytes: number): Uint8Array {
    const length = this.varUint(`${what} length`, maxBytes);
    this.need(length, what);
    return decoding.readUint8Array(this.decoder, length).slice();
  }

  /** Exactly `length` raw bytes (a copy). */
  bytesFixed(what: string, length: number): Uint8Array {
    this.need(length, what);
    return decoding.readUint8Array(this.decoder, length).slice();
  }

  /** A length-prefixed UTF-8 string of at most `maxBytes` encoded bytes; invalid UTF-8 is rejected. */
  string(what: string, maxBytes: number): string {
    const length = this.varUint(`${what} length`, maxBytes);
    this.need(length, what);
    const view = decoding.readUint8Array(this.decoder, length);
    try {
      return utf8.decode(view);
    } catch {
      throw new DecodeError(`${what}: invalid UTF-8`);
    }
  }

  /** A count of items that follow, at most `max`, and no more than the bytes left could hold
   *  at `minItemBytes` each (so a lying count cannot make us allocate). */
  count(what: string, max: number, minItemBytes = 1): number {
    const value = this.varUint(what, max);
    if (value * minItemBytes > this.remaining) {
      throw new DecodeError(`${what}: ${value} items cannot fit in ${this.remaining} bytes`);
    }
    return value;
  }

  /** A one-byte tag, mapped through `table` (index = tag). */
  tag<T>(what: string, table: readonly T[]): T {
    const index = this.u8(what);
    const value = table[index];
    if (value === undefined) throw new DecodeError(`${what}: unknown tag ${index}`);
    return value;
  }

  fail(message: string): never {
    throw new DecodeError(message);
  }
}

/**
 * Runs `read` over `bytes` and requires that it consumes them exactly. Malformed input becomes
 * `{ ok: false }`; an AssertionError (a bug in our own code) is rethrown, never swallowed.
 */
export function decodeWith<T>(bytes: Uint8Array, read: (reader: Reader) => T): Decoded<T> {
  if (!(bytes instanceof Uint8Array)) return { ok: false, error: 'input is not a Uint8Array' };
  const reader = new Reader(bytes);
  try {
    const value = read(reader);
    if (reader.remaining !== 0) return { ok: false, error: `${reader.remaining} trailing bytes` };
    return { ok: true, value };
  } catch (error) {
    if (error instanceof AssertionError) throw error;
    if (error instanceof DecodeError) return { ok: false, error: error.message };
    // lib0 raises plain Errors on end of input; our checks come first, but stay safe.
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}
