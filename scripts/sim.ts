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
 *   npm run sim -- --layer peer --seeds 100      the peer simulator (src/sim/peer): the whole runtime
 *   npm run sim -- --layer peer --seed 42        replays peer seed 42 (the same flags apply;
 *                                                --profile and --mutation take the peer layer's names)
 *
 * A failure prints the seed, the violated check, the trace's last lines and the replay command,
 * and the exit code is 1. The closing line has the run's figures (faults by kind, operations
 * checked, entries committed, elections, wall time).
 */

import { performance } from 'node:perf_hooks';
import { PEER_SIM_PROFILES, RUNTIME_MUTATIONS, isRuntimeMutationName, type RuntimeMutationName } from '../src/sim/peer/profiles.js';
import { formatPeerFailure, formatPeerSummary, runPeerSeeds } from '../src/sim/peer/runner.js';
import { RAFT_SIM_PROFILES, isMutationName, type MutationName } from '../src/sim/raft/profiles.js';
import { formatFailure, formatSummary, runSeeds } from '../src/sim/raft/runner.js';

/** A progress line on stderr this often in long runs (a 10,000-seed run takes ~10 minutes). */
const PROGRESS_EVERY_SEEDS = 500;

interface Args {
  layer: 'raft' | 'peer';
  firstSeed: number;
  seeds: number;
  profile: string | null;
  mutation: MutationName | RuntimeMutationName | null;
  traceLines: number;
  keepGoing: boolean;
  verbose: boolean;
}

function usage(problem: string): never {
  console.error(
    `sim: ${problem}\nusage: npm run sim -- [--layer raft|peer] [--seeds N] [--first S] [--seed S] [--trace-lines N] [--keep-going] [--verbose]` +
      `\n  raft: [--profile ${Object.keys(RAFT_SIM_PROFILES).join('|')}] [--mutation commitPriorTermByCount|ackBeforePersist|voteWithoutDurableHardState]` +
      `\n  peer: [--profile ${Object.keys(PEER_SIM_PROFILES).join('|')}] [--mutation ${RUNTIME_MUTATIONS.join('|')}]`,
  );
  process.exit(2);
}

function integer(flag: string, text: string | undefined): number {
  const value = Number(text);
  if (text === undefined || !Number.isInteger(value)) usage(`${flag} takes an integer`);
  return value;
}

function parse(argv: readonly string[]): Args {
  const args: Args = { layer: 'raft', firstSeed: 1, seeds: 100, profile: null, mutation: null, traceLines: 80, keepGoing: false, verbose: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] as string;
    const next = (): string | undefined => argv[++i];
    switch (flag) {
      case '--layer': {
        const layer = next();
        if (layer !== 'raft' && layer !== 'peer') usage(`unknown layer ${layer ?? ''} (raft or peer)`);
        args.layer = layer;
        break;
      }
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
        if (name === undefined) usage('--profile takes a name');
        args.profile = name;
        break;
      }
      case '--mutation': {
        const name = next() ?? '';
        if (!isMutationName(name) && !isRuntimeMutationName(name)) usage(`unknown mutation ${name}`);
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
  // Profiles and mutations are checked against the chosen layer once every flag is read.
  const profiles: Readonly<Record<string, unknown>> = args.layer === 'raft' ? RAFT_SIM_PROFILES : PEER_SIM_PROFILES;
  if (args.profile !== null && !(args.profile in profiles)) usage(`unknown ${args.layer} profile ${args.profile}`);
  if (args.mutation !== null && (args.layer === 'raft' ? !isMutationName(args.mutation) : !isRuntimeMutationName(args.mutation))) {
    usage(`unknown ${args.layer} mutation ${args.mutation}`);
  }
  return args;
}

/** Progress printing shared by both layers. */
function progress(args: Args, started: number): (seed: number, failedSeed: boolean, line: () => string, failure: () => string) => void {
  let last = started;
  let done = 0;
  let failed = 0;
  return (_seed, failedSeed, line, failure) => {
    const now = performance.now();
    if (args.verbose) console.log(`${line()} ${(now - last).toFixed(0)} ms`);
    if (failedSeed) console.log(failure());
    last = now;
    done += 1;
    if (failedSeed) failed += 1;
    if (!args.verbose && done % PROGRESS_EVERY_SEEDS === 0 && done < args.seeds) {
      console.error(`... ${done}/${args.seeds} seeds, ${failed} failed, ${((now - started) / 1000).toFixed(0)} s`);
    }
  };
}

function mainRaft(args: Args): number {
  const started = performance.now();
  const report = progress(args, started);
  const summary = runSeeds({
    firstSeed: args.firstSeed,
    seeds: args.seeds,
    profile: args.profile,
    mutation: args.mutation as MutationName | null,
    stopAtFirstFailure: !args.keepGoing,
    traceTailLines: args.traceLines,
    onSeed: (outcome) => {
      const f = outcome.figures;
      report(
        outcome.seed,
        outcome.verdict !== 'pass',
        () =>
          `seed ${outcome.seed} ${outcome.profile} ${outcome.verdict}${outcome.check === null ? '' : ` (${outcome.check})`}: ` +
          `${f.voters}v+${f.learners}l ops=${f.operations.invoked} (unknown ${f.operations.unknown}) ` +
          `committed=${f.entriesCommitted} elections=${f.elections} snapshots=${f.snapshotsInstalled} events=${f.events} digest=${outcome.digest}`,
        () => formatFailure(outcome, args.profile !== null),
      );
    },
  });
  console.log(formatSummary(summary, performance.now() - started));
  return summary.failures.length === 0 ? 0 : 1;
}

function mainPeer(args: Args): number {
  const started = performance.now();
  const report = progress(args, started);
  const summary = runPeerSeeds({
    firstSeed: args.firstSeed,
    seeds: args.seeds,
    profile: args.profile,
    mutation: args.mutation as RuntimeMutationName | null,
    stopAtFirstFailure: !args.keepGoing,
    traceTailLines: args.traceLines,
    onSeed: (outcome) => {
      const f = outcome.figures;
      report(
        outcome.seed,
        outcome.verdict !== 'pass',
        () =>
          `peer seed ${outcome.seed} ${outcome.profile} ${outcome.verdict}${outcome.check === null ? '' : ` (${outcome.check})`}: ` +
          `${f.voters}v+${f.observers}o requests=${f.operations.invoked} znode_ops=${f.operations.historyOps} (unknown ${f.operations.historyUnknown}) ` +
          `committed=${f.entriesCommitted} elections=${f.elections} sessions=${f.sessions.opened} (expired ${f.sessions.expired}) ` +
          `grants=${f.lock.grants} fenced=${f.lock.fencedWrites} watch_events=${f.watchEvents} events=${f.events} digest=${outcome.digest}`,
        () => formatPeerFailure(outcome, args.profile !== null),
      );
    },
  });
  console.log(formatPeerSummary(summary, performance.now() - started));
  return summary.failures.length === 0 ? 0 : 1;
}

function main(): number {
  const args = parse(process.argv.slice(2));
  return args.layer === 'raft' ? mainRaft(args) : mainPeer(args);
}

process.exitCode = main();
