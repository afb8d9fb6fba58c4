/**
 * Small 32-bit hashes for the simulator's checkers: FNV-1a over bytes or a string, finished with
 * murmur3's fmix32 so that sums of hashes (an order-free digest of a set) stay well spread.
 * Not for anything adversarial: a collision can only hide a difference with chance 2^-32.
 */

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

function fmix32(value: number): number {
  let h = value;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export function hashBytes(bytes: Uint8Array): number {
  let h = FNV_OFFSET;
  for (let index = 0; index < bytes.length; index++) h = Math.imul(h ^ (bytes[index] as number), FNV_PRIME);
  return fmix32(Math.imul(h ^ bytes.length, FNV_PRIME));
}

export function hashString(text: string): number {
  let h = FNV_OFFSET;
  for (let index = 0; index < text.length; index++) h = Math.imul(h ^ text.charCodeAt(index), FNV_PRIME);
  return fmix32(Math.imul(h ^ text.length, FNV_PRIME));
}

/** Adds (sign 1) or removes (sign -1) a member's hash from an order-free sum, mod 2^32. */
export function sumHash(sum: number, member: number, sign: 1 | -1): number {
  return (sum + sign * member) >>> 0;
}
