/**
 * Real time and real entropy: the ONLY place in src/peer where they enter. Everything else gets
 * time through the Clock interface and randomness through a seed, so a simulator can replay runs.
 */

import type { Cancel, Clock } from './interfaces.js';

/** Wall-clock time (Date.now) and timers (setTimeout). */
export class RealClock implements Clock {
  now(): number {
    return Date.now();
  }

  after(ms: number, fn: () => void): Cancel {
    const timer = setTimeout(fn, Math.max(0, ms));
    return () => clearTimeout(timer);
  }
}

/** A fresh 32-bit seed from the platform's CSPRNG (browsers and Node 20 both have crypto). */
export function realSeed(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0] as number;
}
