/**
 * Rendezvous hashing (rendezvous.ts): deterministic, spreads keys evenly, and when one of n
 * candidates goes only the keys it held move (about 1/n), each to the candidate that was its
 * second choice; a candidate that joins takes about 1/(n+1) and only for itself.
 */

import { describe, expect, it } from 'vitest';
import { rendezvousPick, weight } from './rendezvous.js';

const PEERS = ['edge-0a1b2c3d', 'edge-4e5f6a7b', 'edge-8c9d0e1f'];
const KEYS = Array.from({ length: 3000 }, (_, index) => `session-${index.toString(16).padStart(16, '0')}`);

describe('rendezvous hashing', () => {
  it('is deterministic and independent of the candidates order', () => {
    for (const key of KEYS.slice(0, 200)) {
      expect(rendezvousPick(key, PEERS)).toBe(rendezvousPick(key, [...PEERS].reverse()));
      expect(weight(key, PEERS[0] as string)).toBe(weight(key, PEERS[0] as string));
    }
    expect(rendezvousPick('x', [])).toBeNull();
  });

  it('spreads keys evenly over the candidates', () => {
    const counts = new Map<string, number>();
    for (const key of KEYS) {
      const pick = rendezvousPick(key, PEERS) as string;
      counts.set(pick, (counts.get(pick) ?? 0) + 1);
    }
    for (const peer of PEERS) {
      expect(counts.get(peer) ?? 0).toBeGreaterThan(KEYS.length / 3 - 200);
      expect(counts.get(peer) ?? 0).toBeLessThan(KEYS.length / 3 + 200);
    }
  });

  it('moves only the keys of a candidate that goes (~1/n), each to its second choice', () => {
    const gone = PEERS[1] as string;
    const remaining = PEERS.filter((peer) => peer !== gone);
    let moved = 0;
    for (const key of KEYS) {
      const before = rendezvousPick(key, PEERS) as string;
      const after = rendezvousPick(key, remaining) as string;
      if (before === gone) {
        moved += 1;
        const second = [...remaining].sort((x, y) => weight(key, y) - weight(key, x))[0];
        expect(after).toBe(second);
      } else {
        expect(after).toBe(before);
      }
    }
    expect(moved).toBeGreaterThan(KEYS.length / 3 - 200);
    expect(moved).toBeLessThan(KEYS.length / 3 + 200);
  });

  it('gives a candidate that joins only keys it now wins (~1/(n+1))', () => {
    const joined = [...PEERS, 'edge-ffffffff'];
    let moved = 0;
    for (const key of KEYS) {
      const before = rendezvousPick(key, PEERS) as string;
      const after = rendezvousPick(key, joined) as string;
      if (after !== before) {
        moved += 1;
        expect(after).toBe('edge-ffffffff');
      }
    }
    expect(moved).toBeGreaterThan(KEYS.length / 4 - 200);
    expect(moved).toBeLessThan(KEYS.length / 4 + 200);
  });
});
