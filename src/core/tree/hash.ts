/**
 * A small, pure, streaming 64-bit hash (two murmur3-style 32-bit lanes with different seeds and
 * mixing constants) for the tree digest. Not cryptographic: it only has to make two replicas that
 * diverged disagree with overwhelming probability, and be fast on 1 MB values (one pass, no
 * allocation). Every input is fed as 32-bit words, typed and length-prefixed, so that field
 * boundaries cannot shift ("ab"+"c" and "a"+"bc" hash differently).
 */

import { assert } from '../assert.js';

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;
const C3 = 0x85ebca6b;
const C4 = 0xc2b2ae35;
const TWO_POW_32 = 4294967296;

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, C3);
  h ^= h >>> 13;
  h = Math.imul(h, C4);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A 64-bit hash as two unsigned 32-bit lanes. */
export interface Hash64 {
  hi: number;
  lo: number;
}

export const ZERO_HASH: Readonly<Hash64> = { hi: 0, lo: 0 };

export class Hasher {
  private a: number;
  private b: number;
  private words = 0;

  constructor(seed: number) {
    assert(Number.isInteger(seed), 'hasher seed is an integer');
    this.a = seed | 0;
    this.b = (seed ^ 0x5bd1e995) | 0;
  }

  /** Mixes one 32-bit word into both lanes. */
  word(value: number): this {
    let k = Math.imul(value | 0, C1);
    k = rotl(k, 15);
    k = Math.imul(k, C2);
    this.a ^= k;
    this.a = rotl(this.a, 13);
    this.a = (Math.imul(this.a, 5) + 0xe6546b64) | 0;
    let j = Math.imul(value | 0, C3);
    j = rotl(j, 17);
    j = Math.imul(j, C4);
    this.b ^= j;
    this.b = rotl(this.b, 11);
    this.b = (Math.imul(this.b, 9) + 0x38495ab5) | 0;
    this.words += 1;
    return this;
  }

  /** An integer-valued number (safe integers, negatives included) as two words. */
  integer(value: number): this {
    assert(Number.isSafeInteger(value), `hash integer ${value} is a safe integer`);
    const high = Math.floor(value / TWO_POW_32);
    return this.word(value - high * TWO_POW_32).word(high);
  }

  /** UTF-16 code units, two per word, after the length. */
  string(text: string): this {
    this.word(text.length);
    let i = 0;
    for (; i + 1 < text.length; i += 2) this.word(text.charCodeAt(i) | (text.charCodeAt(i + 1) << 16));
    if (i < text.length) this.word(text.charCodeAt(i));
    return this;
  }

  /** Bytes, four per little-endian word, after the length. */
  bytes(data: Uint8Array): this {
    this.word(data.length);
    const whole = data.length - (data.length % 4);
    let i = 0;
    for (; i < whole; i += 4) {
      this.word((data[i] as number) | ((data[i + 1] as number) << 8) | ((data[i + 2] as number) << 16) | ((data[i + 3] as number) << 24));
    }
    let tail = 0;
    for (let shift = 0; i < data.length; i++, shift += 8) tail |= (data[i] as number) << shift;
    if (data.length % 4 !== 0) this.word(tail);
    return this;
  }

  hash(value: Readonly<Hash64>): this {
    return this.word(value.hi).word(value.lo);
  }

  finish(): Hash64 {
    let a = (this.a ^ this.words) | 0;
    let b = (this.b ^ this.words) | 0;
    a = (a + b) | 0;
    b = (b + a) | 0;
    a = fmix(a);
    b = fmix(b);
    a = (a + b) | 0;
    b = (b + a) | 0;
    return { hi: a >>> 0, lo: b >>> 0 };
  }
}

/** Adds (sign = 1) or removes (sign = -1) one hash from a commutative sum, lane by lane mod 2^32. */
export function addHash(sum: Hash64, value: Readonly<Hash64>, sign: 1 | -1): void {
  sum.hi = (sum.hi + sign * value.hi) >>> 0;
  sum.lo = (sum.lo + sign * value.lo) >>> 0;
}

export function hashToHex(value: Readonly<Hash64>): string {
  return value.hi.toString(16).padStart(8, '0') + value.lo.toString(16).padStart(8, '0');
}
