/**
 * Rendezvous (highest-random-weight) hashing, Thaler and Ravishankar 1996: a client-only
 * attachment serves each session from the candidate with the highest weight hash(key, candidate).
 * When a candidate goes, only the keys it held move (each to its next-highest candidate), so a
 * membership change of n serving peers moves about 1/n of the sessions; a candidate that comes
 * back takes back exactly its own. Pure and deterministic: the same key and candidates give the
 * same choice in every process.
 */

import { assert } from '../core/assert.js';

/** 32-bit FNV-1a over the UTF-16 units of `text`, finished with murmur3's fmix32 avalanche (FNV
 *  alone spreads keys that differ only in their last characters poorly). */
export function weight(key: string, candidate: string): number {
  const text = `${key}\u0000${candidate}`;
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

/** The candidate with the highest weight for `key` (ties: the lower id); null when there is none. */
export function rendezvousPick(key: string, candidates: Iterable<string>): string | null {
  let best: string | null = null;
  let bestWeight = -1;
  for (const candidate of candidates) {
    assert(typeof candidate === 'string' && candidate.length > 0, 'rendezvous: a candidate is a non-empty id');
    const value = weight(key, candidate);
    if (value > bestWeight || (value === bestWeight && best !== null && candidate < best)) {
      best = candidate;
      bestWeight = value;
    }
  }
  return best;
}
