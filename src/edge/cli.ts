#!/usr/bin/env node
/**
 * `meshkeeper` command line (API.md, "Node entry points"):
 *   start  serves the web app and the relay at one URL and prints it;
 *   relay  runs a standalone signaling relay (src/relay) and prints its URL;
 *   peer   runs a Node edge peer of a room (file storage) and prints `peer <id> room <room> data <dir>`;
 *   shell  a zkCli-like shell over a Keeper joined to a room (edge/shell.ts).
 * SIGINT/SIGTERM leave gracefully (sessions closed, leadership handed over); kill -9 is a crash.
 */

import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';
import { startServer } from './server.js';
import { createInterface } from 'node:readline';
import { startRelay } from '../relay/server.js';
import { Keeper } from '../node.js';
import { startNodePeer } from '../platform/node.js';
import { planJoin, type NetworkPlan } from '../client/options.js';
import { runShellCommand, SHELL_HELP } from './shell.js';

const DEFAULT_PORT = 8787;
const DEFAULT_HOST = '127.0.0.1';

const usage = `usage: meshkeeper <command> [options]

commands:
  start [--port ${DEFAULT_PORT}] [--host ${DEFAULT_HOST}] [--static <dir>]
        serve the meshkeeper app at one URL and print it
  relay [--port ${DEFAULT_PORT}] [--host ${DEFAULT_HOST}]
        run a standalone signaling relay and print its URL (ws://HOST:PORT/relay)
  peer  --relay <ws-url> --room <room> [--data ./meshkeeper-data] [--memory] [--secret <s>] [--voters 3]
        run an edge peer of the room; prints "peer <id> room <room> data <dir>"
  shell --relay <ws-url> --room <room> [--secret <s>]
        a zkCli-like shell (ls get set create delete stat watch sync srvr; help lists them)
`;

/** dist/ui next to this file's package: works from src/edge (tsx) and dist/edge (built). */
function defaultStaticDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return resolve(here, '..', '..', 'dist', 'ui');
}

async function start(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: 'string', default: String(DEFAULT_PORT) },
      host: { type: 'string', default: DEFAULT_HOST },
      static: { type: 'string' },
    },
    strict: true,
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be 0..65535, got ${values.port}`);
  const server = await startServer({ port, host: values.host, staticDir: values.static ?? defaultStaticDir() });
  console.log(`meshkeeper app at ${server.url} (relay at ${server.relayUrl}); open it in several tabs to form an ensemble`);
  const stop = (): void => {
    server.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

async function relay(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: 'string', default: String(DEFAULT_PORT) },
      host: { type: 'string', default: DEFAULT_HOST },
    },
    strict: true,
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be 0..65535, got ${values.port}`);
  const running = await startRelay({ port, host: values.host });
  console.log(`meshkeeper relay at ${running.url}`);
  const stop = (): void => {
    running.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

/** Keeper.join's option checks, for the options the CLI takes. */
function networkPlan(values: { relay?: string; room?: string; secret?: string; voters?: string }, storage: NetworkPlan['storage']): NetworkPlan {
  if (values.relay === undefined) throw new Error('--relay <ws-url> is required (the URL `meshkeeper start` or `meshkeeper relay` printed)');
  const plan = planJoin({
    relay: values.relay,
    room: values.room,
    storage,
    ...(values.secret === undefined ? {} : { secret: values.secret }),
    ...(values.voters === undefined ? {} : { voters: Number(values.voters) }),
  });
  if (plan.kind !== 'network') throw new Error('a relay URL is required');
  return plan;
}

async function peer(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      relay: { type: 'string' },
      room: { type: 'string' },
      data: { type: 'string', default: './meshkeeper-data' },
      memory: { type: 'boolean', default: false },
      secret: { type: 'string' },
      voters: { type: 'string' },
    },
    strict: true,
  });
  const plan = networkPlan(values, values.memory ? 'memory' : `file:${values.data}`);
  const running = await startNodePeer(plan);
  console.log(`peer ${running.status().peerId} room ${plan.room} data ${running.folder ?? '(memory)'}`);
  let leaving = false;
  const stop = (): void => {
    if (leaving) return;
    leaving = true;
    running.leave().then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

async function shell(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { relay: { type: 'string' }, room: { type: 'string' }, secret: { type: 'string' } },
    strict: true,
  });
  const plan = networkPlan(values, 'memory');
  // The shell runs its own peer (memory storage, it joins as an observer); client-only
  // attachment without a replica comes with the browser-realities work.
  const keeper = await Keeper.join({ relay: plan.relay, room: plan.room, storage: 'memory', ...(plan.secret === undefined ? {} : { secret: plan.secret }) });
  const interactive = process.stdin.isTTY === true;
  if (interactive) console.log(`connected to room ${plan.room} as ${keeper.status().peerId}; ${SHELL_HELP.split('\n')[0]} help`);
  const lines = createInterface({ input: process.stdin, terminal: interactive, prompt: '[meshkeeper] ' });
  const out = { line: (text: string) => console.log(text) };
  if (interactive) lines.prompt();
  for await (const line of lines) {
    if (!(await runShellCommand(keeper, line, out))) break;
    if (interactive) lines.prompt();
  }
  lines.close();
  await keeper.close();
  process.exit(0);
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'start':
      return start(rest);
    case 'relay':
      return relay(rest);
    case 'peer':
      return peer(rest);
    case 'shell':
      return shell(rest);
    case undefined:
    case '-h':
    case '--help':
      process.stdout.write(usage);
      return;
    default:
      process.stderr.write(`unknown command: ${command}\n${usage}`);
      process.exitCode = 2;
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(`meshkeeper: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
