// Tabs and Node edge peers in one ensemble: a `meshkeeper peer` process joins the room two tabs
// formed (all three become voters), a `meshkeeper shell` process writes through its own peer, and
// the tabs read what it wrote; SIGTERM makes the edge peer leave gracefully (exit code 0).
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, expect } from './fixtures.js';
import { cli, exitCode, FORM_TIMEOUT_MS, lineMatching } from './helpers.js';

test('a Node edge peer and a shell join the tabs\' ensemble', async ({ context, app }) => {
  test.setTimeout(120_000);
  const room = `edge-${test.info().workerIndex}-${Date.now()}`;
  const data = await mkdtemp(join(tmpdir(), 'meshkeeper-edge-e2e-'));
  const children: ChildProcessWithoutNullStreams[] = [];
  try {
    const tabs = [await context.newPage(), await context.newPage()];
    for (const tab of tabs) {
      await tab.goto(`${app.url}?room=${room}`);
      await expect(tab.getByTestId('state')).toHaveText('session connected', { timeout: FORM_TIMEOUT_MS });
    }
    const edge = cli(['peer', '--relay', app.relayUrl, '--room', room, '--data', data]);
    children.push(edge);
    const [, edgeId, , folder] = await lineMatching(edge, /peer (\S+) room (\S+) data (\S+)/);
    expect(folder).toBe(join(data, room));
    // Two tabs and the edge peer: three voters, seen by every tab.
    for (const tab of tabs) {
      await expect(tab.getByTestId('voters')).toContainText(edgeId as string, { timeout: FORM_TIMEOUT_MS });
      await expect(tab.getByTestId('voters')).toHaveText(/^[^,]+, [^,]+, [^,]+$/);
    }

    const shell = cli(['shell', '--relay', app.relayUrl, '--room', room]);
    children.push(shell);
    shell.stdin.write('create /from-the-shell "written by meshkeeper shell"\nget /from-the-shell\nfrobnicate\nquit\n');
    const output = await lineMatching(shell, /Created \/from-the-shell\n(.*)\n(.*)\n/);
    expect(output[1]).toBe('written by meshkeeper shell');
    expect(output[2]).toMatch(/^BADARGUMENTS \(-8\).*unknown command/);
    expect(await exitCode(shell)).toBe(0);

    const read = await tabs[0]!.evaluate(async () => {
      await window.keeper!.sync('/');
      return new TextDecoder().decode((await window.keeper!.getData('/from-the-shell')).data);
    });
    expect(read).toBe('written by meshkeeper shell');

    edge.kill('SIGTERM');
    expect(await exitCode(edge)).toBe(0);
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await rm(data, { recursive: true, force: true });
  }
});
