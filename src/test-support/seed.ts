/**
 * Seeds for randomized tests (lib0's testRepeat habit): each run draws a fresh seed unless SEED is
 * set, and a failure names the seed and the command that replays it exactly.
 *
 *   SEED=1234 npx vitest run src/core/codec/fuzz.test.ts
 */

import { Prng } from '../core/prng.js';

/** The seed for this run: $SEED when given (replay), else a fresh one. */
export function testSeed(): number {
  const fromEnv = process.env.SEED;
  if (fromEnv !== undefined && fromEnv !== '') {
    const seed = Number(fromEnv);
    if (!Number.isInteger(seed)) throw new Error(`SEED must be an integer, got ${fromEnv}`);
    return seed;
  }
  return Math.floor(Math.random() * 0x7fffffff);
}

/**
 * Runs `body` with a PRNG seeded from `seed`; on failure the error names the seed and how to
 * replay it, so a red run in CI can be reproduced locally.
 */
export function withSeed<T>(label: string, seed: number, body: (prng: Prng) => T): T {
  try {
    return body(new Prng(seed));
  } catch (error) {
    const replay = `SEED=${seed} npx vitest run -t ${JSON.stringify(label)}`;
    if (error instanceof Error) {
      error.message = `[${label}] seed=${seed} (replay: ${replay})\n${error.message}`;
      throw error;
    }
    throw new Error(`[${label}] seed=${seed} (replay: ${replay}): ${String(error)}`, { cause: error });
  }
}
