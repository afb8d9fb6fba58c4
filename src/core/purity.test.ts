// Proves the lint rule that keeps src/core pure can fail: each impure construct, linted as if it
// were a file in src/core, is reported; the same code outside src/core is not (DESIGN.md "Layers").
import { describe, expect, it } from 'vitest';
import { ESLint } from 'eslint';

const eslint = new ESLint({ cwd: process.cwd() });

async function ruleIdsFor(code: string, filePath: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).map((message) => message.ruleId ?? 'parse-error');
}

const impure: [string, string, string][] = [
  ['wall-clock time', 'export const t = Date.now();', 'no-restricted-globals'],
  ['new Date', 'export const t = new Date();', 'no-restricted-globals'],
  ['Math.random', 'export const r = Math.random();', 'no-restricted-properties'],
  ['timers', 'setTimeout(() => undefined, 1);', 'no-restricted-globals'],
  ['performance', 'export const t = performance.now();', 'no-restricted-globals'],
  ['await', 'export async function f(): Promise<void> { await g(); }\nasync function g(): Promise<void> {}', 'no-restricted-syntax'],
  ['DOM', 'export const d = document.title;', 'no-restricted-globals'],
  ['IndexedDB', 'export const db = indexedDB.open("x");', 'no-restricted-globals'],
  ['Node APIs by import', "import { readFileSync } from 'node:fs';\nexport const f = readFileSync;", 'no-restricted-imports'],
  ['Node APIs by global', 'export const p = process.pid;', 'no-restricted-globals'],
  ['reaching upward', "import { x } from '../peer/runtime.js';\nexport const y = x;", 'no-restricted-imports'],
];

describe('src/core purity lint rule', () => {
  for (const [what, code, rule] of impure) {
    it(`reports ${what} inside src/core`, async () => {
      expect(await ruleIdsFor(code, 'src/core/tree/example.ts')).toContain(rule);
    });
  }

  it('allows the same code outside src/core', async () => {
    const ids = await ruleIdsFor('export const t = Date.now() + Math.random();', 'src/peer/example.ts');
    expect(ids).toEqual([]);
  });

  it('accepts pure code inside src/core', async () => {
    const ids = await ruleIdsFor('export function add(a: number, b: number): number { return a + b; }', 'src/core/tree/example.ts');
    expect(ids).toEqual([]);
  });
});
