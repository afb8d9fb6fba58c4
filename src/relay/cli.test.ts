/**
 * `npx meshkeeper relay` as a process (API.md, "Node entry points"): it prints the URL it listens
 * on, serves joins there, and SIGTERM closes its sockets (1001) and exits 0.
 */

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLOSE_CODE } from './constants.js';
import { Probe } from './test-probe.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Starting tsx and its transform can be slow on a busy 2-core machine. */
const START_WAIT_MS = 60_000;

describe('meshkeeper relay (CLI)', () => {
  it('prints its URL, serves joins, and leaves on SIGTERM', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/edge/cli.ts', 'relay', '--port', '0', '--host', '127.0.0.1'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));
    try {
      const url = await new Promise<string>((resolveUrl, reject) => {
        let output = '';
        const timer = setTimeout(() => reject(new Error(`no URL within ${START_WAIT_MS} ms: ${output}`)), START_WAIT_MS);
        child.stdout.on('data', (chunk: Buffer) => {
          output += chunk.toString();
          const match = /meshkeeper relay at (ws:\/\/127\.0\.0\.1:\d+\/relay)/.exec(output);
          if (match?.[1] !== undefined) {
            clearTimeout(timer);
            resolveUrl(match[1]);
          }
        });
        child.once('exit', (code) => reject(new Error(`exited ${code} before printing a URL: ${output}`)));
      });
      const a = await Probe.joined(url, 'demo', 'peer-a');
      const b = await Probe.joined(url, 'demo', 'peer-b');
      expect(b.peers).toEqual(['peer-a']);
      expect((await a.probe.nextJson()).type).toBe('joined');
      child.kill('SIGTERM');
      expect((await a.probe.closedWithin()).code).toBe(CLOSE_CODE.goingAway);
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
