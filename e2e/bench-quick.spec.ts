// The benchmark's smoke test, so it never rots: `npm run bench -- --quick` (small counts, one
// repetition, no ZooKeeper) runs as a child process against the app globalSetup built, and its JSON
// must hold a number for every workload on the tabs and the Node ensemble, the navigator.locks
// baseline and the bundle sizes, and its SVG chart must draw every workload. No timing targets:
// those figures are for people, not for asserts.
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { CHART_WORKLOADS } from '../bench/chart.js';
import { WORKLOADS } from '../bench/report.js';
import type { Results } from '../bench/run.js';

/** The quick run (a-h) takes ~40 s alone here; allow for a loaded two-core machine. */
const BENCH_TIMEOUT_MS = 150_000;

test('npm run bench -- --quick measures every workload', async () => {
  test.setTimeout(BENCH_TIMEOUT_MS + 15_000);
  const out = await mkdtemp(join(tmpdir(), 'meshkeeper-bench-smoke-'));
  try {
    const child = spawn('npm', ['run', 'bench', '--', '--quick', '--out', out], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => {
        // The whole group: npm, the bench, its Chromium and Node peers.
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      }, BENCH_TIMEOUT_MS);
      child.once('exit', (exitCode) => {
        clearTimeout(timer);
        resolve(exitCode);
      });
    });
    expect(code, output.slice(-4000)).toBe(0);

    const files = await readdir(out);
    const json = files.find((file) => file.endsWith('.json'));
    expect(json, files.join(', ')).toBeDefined();
    const name = (json as string).replace(/\.json$/, '');
    expect(files.sort()).toEqual([`${name}.json`, `${name}.md`, `${name}.svg`]); // a quick run leaves latest.json (the app's) alone
    const markdown = await readFile(join(out, `${name}.md`), 'utf8');
    expect(markdown).toContain(`](${name}.svg)`);
    const results = JSON.parse(await readFile(join(out, json as string), 'utf8')) as Results;

    expect(results.mode).toBe('quick');
    for (const system of ['tabs', 'node'] as const) {
      const entry = results.systems[system];
      expect(entry?.ran, `${system}: ${entry?.error}`).toBe(true);
      for (const key of ['a', 'b', 'c1', 'c64', 'd', 'e', 'f', 'g-killed', 'g-closed'] as const) {
        const figure = entry?.figures[key];
        expect(figure, `${system} ${key}`).toBeDefined();
        expect(Number.isFinite(figure?.p50Ms), `${system} ${key} p50`).toBe(true);
        expect(Number.isFinite(figure?.p99Ms), `${system} ${key} p99`).toBe(true);
        if (key !== 'f' && !key.startsWith('g')) expect(figure?.opsPerSec, `${system} ${key} ops/s`).toBeGreaterThan(0);
        expect(figure?.errors, `${system} ${key} errors`).toBe(0);
      }
    }
    expect(results.systems.tabs?.figures['e-navigator.locks']?.opsPerSec).toBeGreaterThan(0);
    expect(Number.isFinite(results.systems.tabs?.figures['h-reload']?.p50Ms), 'tabs h-reload').toBe(true);
    for (const system of ['tabs', 'node'] as const) expect(Number.isFinite(results.systems[system]?.figures['h-memory']?.bytesPerZnode), `${system} h-memory`).toBe(true);
    expect(results.systems.zookeeper?.ran).toBe(false);
    expect(Array.isArray(results.bundle)).toBe(true);
    for (const size of results.bundle as Array<{ entry: string; gzipBytes: number }>) expect(size.gzipBytes, size.entry).toBeGreaterThan(0);
    expect(output).toContain('| a: create, sequential | ops/s |');
    expect(output).toContain('not run');

    const svg = await readFile(join(out, `${name}.svg`), 'utf8');
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" [^>]*role="img"/);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    for (const { key } of CHART_WORKLOADS) {
      const label = WORKLOADS.find((workload) => workload.key === key)?.label as string;
      expect(svg, key).toContain(`data-workload="${key}"`);
      expect(svg, key).toContain(`>${label} — `);
      // Tabs and Node drew bars; ZooKeeper did not run.
      expect(svg.split(`data-workload="${key}"`)[1]?.split('class="workload"')[0]?.match(/<rect /g), key).toHaveLength(2);
    }
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});
