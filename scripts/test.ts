/**
 * `npm test`: typecheck, lint, unit tests (vitest) and the e2e suite (Playwright in Debian
 * Chromium), then one closing line `N passed, N failed` summed over every runner from their JSON
 * reports. Every stage runs even when an earlier one failed, so one run shows everything; the exit
 * code is non-zero if anything failed.
 *
 * On a machine without Chromium it installs Debian's (as root) or says exactly what to run. As root
 * with `unshare`, the stages run inside a loopback-only network namespace (DESIGN.md): no test can
 * send a packet off this machine, and WebRTC candidates are loopback only.
 *
 * Flags: --unit-only (skip e2e), --no-netns (run in the current network namespace).
 */

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { summarize, type Tally } from './summary.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const REPORTS = 'reports';
const INSIDE_NETNS = 'MESHKEEPER_IN_NETNS';

const args = new Set(process.argv.slice(2));
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

function run(command: string, commandArgs: string[], env: NodeJS.ProcessEnv = process.env): number {
  const result = spawnSync(command, commandArgs, { stdio: 'inherit', env });
  if (result.error) {
    console.error(`could not run ${command}: ${result.error.message}`);
    return 1;
  }
  return result.status ?? 1;
}

function ensureChromium(): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (!isRoot) {
    console.error(`No Chromium at ${CHROMIUM}. Install Debian's, then run npm test again:\n` +
      '  sudo apt-get update && sudo apt-get install -y chromium');
    return false;
  }
  console.log(`No Chromium at ${CHROMIUM}: installing Debian's chromium package.`);
  if (run('apt-get', ['update']) !== 0) return false;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  return run('apt-get', ['install', '-y', 'chromium'], env) === 0 && existsSync(CHROMIUM);
}

function canUseNetns(): boolean {
  if (!isRoot || args.has('--no-netns') || process.env[INSIDE_NETNS] === '1') return false;
  const hasIp = existsSync('/usr/sbin/ip') || existsSync('/sbin/ip') || existsSync('/usr/bin/ip');
  return hasIp && spawnSync('unshare', ['-n', 'true']).status === 0;
}

/** Re-runs this script inside a fresh network namespace that has only loopback. */
function reexecInNetns(): number {
  const inner = [process.execPath, ...process.execArgv, process.argv[1] as string, ...process.argv.slice(2)];
  return run('unshare', ['-n', 'sh', '-c', 'ip link set lo up && exec "$@"', 'sh', ...inner], {
    ...process.env,
    [INSIDE_NETNS]: '1',
  });
}

function stage(name: string, command: string, commandArgs: string[]): Tally {
  console.log(`\n=== ${name}: ${command} ${commandArgs.join(' ')}`);
  const ok = run(command, commandArgs) === 0;
  console.log(`=== ${name}: ${ok ? 'ok' : 'FAILED'}`);
  return ok ? { passed: 1, failed: 0 } : { passed: 0, failed: 1 };
}

/** A runner's JSON report, or one failure if the runner left none (it crashed before reporting). */
function report(name: string, exitCode: number, file: string): Tally {
  const path = join(REPORTS, file);
  if (!existsSync(path)) {
    console.log(`=== ${name}: no report at ${path} (exit ${exitCode})`);
    return { passed: 0, failed: 1 };
  }
  const tally = summarize(name, JSON.parse(readFileSync(path, 'utf8')) as unknown);
  // A runner that exits non-zero with no failed test (e.g. an error outside tests) still fails.
  if (exitCode !== 0 && tally.failed === 0) return { passed: tally.passed, failed: 1 };
  return tally;
}

function main(): number {
  if (!existsSync(CHROMIUM) && process.env[INSIDE_NETNS] !== '1' && !args.has('--unit-only')) {
    if (!ensureChromium()) {
      console.log('0 passed, 1 failed');
      return 1;
    }
  }
  if (canUseNetns()) return reexecInNetns();

  rmSync(REPORTS, { recursive: true, force: true });
  mkdirSync(REPORTS, { recursive: true });
  const tallies: Tally[] = [];
  tallies.push(stage('typecheck', 'npx', ['tsc', '-p', 'tsconfig.json', '--noEmit']));
  tallies.push(stage('lint', 'npx', ['eslint', '.']));

  console.log('\n=== unit tests: vitest run');
  tallies.push(report('vitest', run('npx', ['vitest', 'run']), 'vitest.json'));

  if (!args.has('--unit-only')) {
    console.log('\n=== e2e tests: playwright test');
    tallies.push(report('playwright', run('npx', ['playwright', 'test']), 'playwright.json'));
  }

  const passed = tallies.reduce((sum, t) => sum + t.passed, 0);
  const failed = tallies.reduce((sum, t) => sum + t.failed, 0);
  console.log(`\n${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

process.exitCode = main();
