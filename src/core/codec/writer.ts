/**
 * Binary writing on top of lib0/encoding: the mirror of reader.ts, one write per read. Writers
 * assert their inputs (a bad value here is our bug: validate before encode, STYLE.md habit 4).
 */

import * as encoding from 'lib0/encoding';
import { assert } from '../assert.js';

export class Writer {
  private readonly encoder = encoding.createEncoder();

  u8(value: number): void {
    assert(Number.isInteger(value) && value >= 0 && value <= 0xff, 'u8 in range');
    encoding.writeUint8(this.encoder, value);
  }

  bool(value: boolean): void {
    encoding.writeUint8(this.encoder, value ? 1 : 0);
  }

  varUint(value: number): void {
    assert(Number.isSafeInteger(value), 'varUint is a safe integer');
    assert(value >= 0, 'varUint is not negative');
    encoding.writeVarUint(this.encoder, value);
  }

  varInt(value: number): void {
    assert(Number.isSafeInteger(value), 'varInt is a safe integer');
    encoding.writeVarInt(this.encoder, value);
  }

  float64(value: number): void {
    assert(Number.isFinite(value), 'float64 is finite');
    encoding.writeFloat64(this.encoder, value);
  }

  u32(value: number): void {
    assert(Number.isInteger(value) && value >= 0 && value <= 0xffffffff, 'u32 in range');
    encoding.writeUint32(this.encoder, value);
  }

  bytesVar(value: Uint8Array): void {
    encoding.writeVarUint8Array(this.encoder, value);
  }

  bytesFixed(value: Uint8Array): void {
    encoding.writeUint8Array(this.encoder, value);
  }

  string(value: string): void {
    encoding.writeVarString(this.encoder, value);
  }

  /** Writes the index of `value` in `table` as one byte (the reader's `tag`). */
  tag<T>(value: T, table: readonly T[]): void {
    const index = table.indexOf(value);
    assert(index >= 0, `tag ${String(value)} is in its table`);
    this.u8(index);
  }

  get length(): number {
    return encoding.length(this.encoder);
  }

  finish(): Uint8Array {
    return encoding.toUint8Array(this.encoder);
  }
}
