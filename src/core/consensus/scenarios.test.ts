// Proves the Raft core against hand-reviewed scripts (testdata/*.txt, etcd-raft's datadriven
// style): each command's expected output is stored beside it and is the spec. Every script
// names the dissertation sections it checks. Regenerate after an intended change with
//   UPDATE_SCENARIOS=1 npx vitest run src/core/consensus
// and review the diff by hand.

import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseScript, renderScript, runScript } from './harness/script.js';

const TESTDATA = join(import.meta.dirname, 'testdata');
/** Scenario runs are deterministic: one fixed seed for every node's election timeouts. */
const SCENARIO_SEED = 1;
const update = process.env.UPDATE_SCENARIOS === '1';

describe('scenario scripts', () => {
  const files = readdirSync(TESTDATA).filter((file) => file.endsWith('.txt')).sort();
  it('has scripts', () => {
    expect(files.length).toBeGreaterThan(0);
  });
  for (const file of files) {
    it(file, () => {
      const path = join(TESTDATA, file);
      const script = parseScript(readFileSync(path, 'utf8'));
      const outputs = runScript(script, SCENARIO_SEED);
      if (update) {
        writeFileSync(path, renderScript(script, outputs));
        return;
      }
      script.blocks.forEach((block, i) => {
        const where = `${file}:${block.command.line}: ${block.command.text}`;
        expect(outputs[i], where).toEqual(block.command.expected);
      });
    });
  }
});
