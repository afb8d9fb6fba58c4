/**
 * `npm run sim`: the deterministic Raft simulator (src/sim/raft) over many seeds.
 *
 *   npm run sim -- --seeds 1000                  seeds 1..1000, default profile mix (by seed)
 *   npm run sim -- --seed 42                     replays seed 42 exactly (same profile, same trace)
 *   npm run sim -- --seeds 200 --first 5000      seeds 5000..5199
 *   npm run sim -- --profile leader-crashes      one profile for every seed
 *   npm run sim -- --mutation ackBeforePersist   a test-only unsafe Raft mutation (expect failures)
 *   npm run sim -- --trace-lines 200             trace lines printed with a failure (default 80)
 *   npm run sim -- --keep-going                  do not stop at the first failing seed
 *   npm run sim -- --verbose                     one line per seed
 *
 * A failure prints the seed, the violated check, the trace's last lines and the replay command,
 * and the exit code is 1. The closing line has the run's figures (faults by kind, operations
 * checked, entries committed, elections, wall time).
 */

import { performance } from 'node:perf_hooks';
import { RAFT_SIM_PROFILES, isMutationName, type MutationName } from '../src/sim/raft/profiles.js';
import { formatFailure, formatSummary, runSeeds } from '../src/sim/raft/runner.js';

/** A progress line on stderr this often in long runs (a 10,000-seed run takes ~10 minutes). */
const PROGRESS_EVERY_SEEDS = 500;

interface Args {
  firstSeed: number;
  seeds: number;
  profile: string | null;
  mutation: MutationName | null;
  traceLines: number;
  keepGoing: boolean;
  verbose: boolean;
}

function usage(problem: string): never {
  console.error(`sim: ${problem}\nusage: npm run sim -- [--seeds N] [--first S] [--seed S] [--profile ${Object.keys(RAFT_SIM_PROFILES).join('|')}] [--mutation commitPriorTermByCount|ackBeforePersist|voteWithoutDurableHardState] [--trace-lines N] [--keep-going] [--verbose]`);
  process.exit(2);
}

function integer(flag: string, text: string | undefined): number {
  const value = Number(text);
  if (text === undefined || !Number.isInteger(value)) usage(`${flag} takes an integer`);
  return value;
}

function parse(argv: readonly string[]): Args {
  const args: Args = { firstSeed: 1, seeds: 100, profile: null, mutation: null, traceLines: 80, keepGoing: false, verbose: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] as string;
    const next = (): string | undefined => argv[++i];
    switch (flag) {
      case '--seeds':
        args.seeds = integer(flag, next());
        break;
      case '--first':
        args.firstSeed = integer(flag, next());
        break;
      case '--seed':
        args.firstSeed = integer(flag, next());
        args.seeds = 1;
        args.verbose = true;
        break;
      case '--profile': {
        const name = next();
        if (name === undefined || !(name in RAFT_SIM_PROFILES)) usage(`unknown profile ${name ?? ''}`);
        args.profile = name;
        break;
      }
      case '--mutation': {
        const name = next() ?? '';
        if (!isMutationName(name)) usage(`unknown mutation ${name}`);
        args.mutation = name;
        break;
      }
      case '--trace-lines':
        args.traceLines = integer(flag, next());
        break;
      case '--keep-going':
        args.keepGoing = true;
        break;
      case '--verbose':
        args.verbose = true;
        break;
      default:
        usage(`unknown argument ${flag}`);
    }
  }
  if (args.seeds < 1) usage('--seeds must be at least 1');
  return args;
}

function main(): number {
  const args = parse(process.argv.slice(2));
  const started = performance.now();
  let last = started;
  let done = 0;
  let failed = 0;
  const summary = runSeeds({
    firstSeed: args.firstSeed,
    seeds: args.seeds,
    profile: args.profile,
    mutation: args.mutation,
    stopAtFirstFailure: !args.keepGoing,
    traceTailLines: args.traceLines,
    onSeed: (outcome) => {
      const now = performance.now();
      if (args.verbose) {
        const f = outcome.figures;
        console.log(
          `seed ${outcome.seed} ${outcome.profile} ${outcome.verdict}${outcome.check === null ? '' : ` (${outcome.check})`} ` +
            `${(now - last).toFixed(0)} ms: ${f.voters}v+${f.learners}l ops=${f.operations.invoked} (unknown ${f.operations.unknown}) ` +
            `committed=${f.entriesCommitted} elections=${f.elections} snapshots=${f.snapshotsInstalled} events=${f.events} digest=${outcome.digest}`,
        );
      }
      if (outcome.verdict !== 'pass') console.log(formatFailure(outcome, args.profile !== null));
      last = now;
      done += 1;
      if (outcome.verdict !== 'pass') failed += 1;
      if (!args.verbose && done % PROGRESS_EVERY_SEEDS === 0 && done < args.seeds) {
        console.error(`... ${done}/${args.seeds} seeds, ${failed} failed, ${((now - started) / 1000).toFixed(0)} s`);
      }
    },
  });
  console.log(formatSummary(summary, performance.now() - started));
  return summary.failures.length === 0 ? 0 : 1;
}

process.exitCode = main();
