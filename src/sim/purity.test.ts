// Proves the simulator and the checker stay deterministic by construction: no module of
// src/sim or src/testing (tests aside) reads real time, real randomness or real timers. The
// lint rule that enforces this lives on src/core only; this is the same rule for these two.
// Exempt: the Playwright fixture (src/testing/playwright*.ts, the `meshkeeper/testing/playwright`
// entry), which drives real browsers and processes in real time by design; the checker and the
// models it feeds stay in the pure files.

import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const FORBIDDEN: readonly [RegExp, string][] = [
  [/\bDate\b/, 'Date'],
  [/\bMath\.random\b/, 'Math.random'],
  [/\bperformance\b/, 'performance'],
  [/\bset(Timeout|Interval|Immediate)\b/, 'timers'],
  [/\bqueueMicrotask\b/, 'queueMicrotask'],
  [/\bprocess\.(hrtime|nextTick)\b/, 'process clocks'],
  [/\bcrypto\b/, 'crypto'],
];

function sources(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts'))
    .filter((entry) => !entry.name.startsWith('playwright'))
    .map((entry) => join(entry.parentPath, entry.name));
}

describe('determinism by construction', () => {
  const root = new URL('..', import.meta.url).pathname;
  for (const directory of ['sim', 'testing']) {
    it(`src/${directory} uses no real time, randomness or timers`, () => {
      const files = sources(join(root, directory));
      expect(files.length).toBeGreaterThan(0);
      for (const file of files) {
        const code = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, ''); // comments may name them
        for (const [pattern, name] of FORBIDDEN) {
          expect(pattern.test(code), `${file} uses ${name}`).toBe(false);
        }
      }
    });
  }
});
