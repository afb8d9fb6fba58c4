#!/usr/bin/env node
/**
 * `meshkeeper` command line. `start` serves the web app (and, from the peers issue on, the relay)
 * at one URL and prints it. Further commands (`relay`, `peer`, `shell`) arrive with the issues that
 * build them; until then they are not listed.
 */

import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';
import { startServer } from './server.js';

const DEFAULT_PORT = 8787;
const DEFAULT_HOST = '127.0.0.1';

const usage = `usage: meshkeeper <command> [options]

commands:
  start [--port ${DEFAULT_PORT}] [--host ${DEFAULT_HOST}] [--static <dir>]
        serve the meshkeeper app at one URL and print it
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
  console.log(`meshkeeper app at ${server.url}`);
  const stop = (): void => {
    server.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'start':
      return start(rest);
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
