// Proves the `npm run sim` contract (scripts/sim.ts): passing seeds exit 0 with the summary line
// of figures; a failing seed prints its seed, the violated check, the trace's last lines and the
// replay command, and exits 1; `--seed` replays that seed to the same trace digest.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

function sim(args: string[]): { status: number | null; output: string } {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/sim.ts', ...args], { encoding: 'utf8', cwd: new URL('../../..', import.meta.url).pathname });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('npm run sim', () => {
  it('exits 0 with a summary line of figures when every seed passes', () => {
    const { status, output } = sim(['--seeds', '2', '--first', '11']);
    expect(output).toMatch(/seeds=2 passed=2 failed=0 ops_checked=\d+ .* entries_committed=\d+ elections=\d+ .* wall=.* \| faults: .*crash=\d+/);
    expect(status).toBe(0);
  });

  it('prints a failing seed with its check, trace and replay command, and exits 1', () => {
    // Seed 1 of rapid-restarts with this mutation elects two leaders in one term (see the hunt).
    const args = ['--seed', '1', '--profile', 'rapid-restarts', '--mutation', 'voteWithoutDurableHardState', '--trace-lines', '12'];
    const first = sim(args);
    expect(first.status).toBe(1);
    expect(first.output).toContain('SEED 1 FAILED (violation) — check: election-safety — profile rapid-restarts — mutation voteWithoutDurableHardState');
    expect(first.output).toMatch(/the last 12 trace lines:\n( {2}\d+ .*\n){12}replay: npm run sim -- --seed 1 --profile rapid-restarts --mutation voteWithoutDurableHardState/);
    const digest = /trace digest (\S+);/.exec(first.output)?.[1];
    expect(digest).toBeDefined();
    expect(sim(args).output).toContain(`trace digest ${digest ?? '?'};`);
  });
});
