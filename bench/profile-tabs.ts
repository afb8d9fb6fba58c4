/**
 * Where a tab's write goes: `npx tsx bench/profile-tabs.ts [--writes N] [--from leader|follower]`.
 *
 * Builds the app, starts the server (relay included) on 127.0.0.1, opens 3 tabs of one room (a
 * browser context each, as the benchmark does), waits for 3 voters and a leader, then records a CPU
 * profile (CDP Profiler, 200 µs sampling) of every tab while one tab makes N sequential creates.
 * Prints the write latency (p50/p90) and, per tab, how much of the time its main thread was busy
 * (per write) and the functions that took it ("(program)" is the browser's own work outside
 * JavaScript: style, layout, paint, IPC). Run it like the benchmark, as root in a loopback-only
 * namespace: `unshare -n sh -c 'ip link set lo up && exec "$@"' sh npx tsx bench/profile-tabs.ts`.
 *
 * It found the tabs' write latency of issue 9: the tree browser redrew its event log on every
 * watch event, ~15 ms of style and layout per write in every tab (fixed in src/ui/tree-view.ts).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type CDPSession, type Page } from '@playwright/test';
import { build } from 'vite';
import { startServer } from '../src/edge/server.js';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../playwright.config.js';

/** Sampling interval of the CPU profiles (µs): fine enough for sub-millisecond tasks. */
const SAMPLING_INTERVAL_US = 200;
/** How long the tabs may take to connect and agree on 3 voters and a leader. */
const FORM_TIMEOUT_MS = 60_000;
const STATUS_POLL_MS = 200;
/** Functions listed per tab. */
const TOP_FUNCTIONS = 12;
const WRITES_DEFAULT = 300;
const WRITES_MAX = 100_000;

interface TabStatus {
  readonly role: string;
  readonly voters: readonly string[];
}

function parseArgs(argv: readonly string[]): { writes: number; from: 'leader' | 'follower' } {
  let writes = WRITES_DEFAULT;
  let from: 'leader' | 'follower' = 'follower';
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--writes') writes = Number(argv[++i]);
    else if (arg === '--from') {
      const value = argv[++i];
      if (value !== 'leader' && value !== 'follower') throw new Error(`--from leader|follower, not ${value}`);
      from = value;
    } else throw new Error(`unknown argument ${arg}; usage: npx tsx bench/profile-tabs.ts [--writes N] [--from leader|follower]`);
  }
  if (!Number.isSafeInteger(writes) || writes < 1 || writes > WRITES_MAX) throw new Error(`--writes between 1 and ${WRITES_MAX}`);
  return { writes, from };
}

const status = (page: Page): Promise<TabStatus> => page.evaluate('window.keeper.status()') as Promise<TabStatus>;

async function formed(pages: readonly Page[]): Promise<TabStatus[]> {
  const deadline = performance.now() + FORM_TIMEOUT_MS;
  while (performance.now() < deadline) {
    const seen = await Promise.all(pages.map(status));
    if (seen.filter((s) => s.role === 'leader').length === 1 && seen.every((s) => s.voters.length === pages.length)) return seen;
    await new Promise((resolve) => setTimeout(resolve, STATUS_POLL_MS));
  }
  throw new Error(`no leader with ${pages.length} voters within ${FORM_TIMEOUT_MS} ms`);
}

/** The page's script (a string: the bundler's helpers must not leak into the page). */
function writeLoop(writes: number): string {
  return `(async () => {
    const latencies = [];
    for (let i = 0; i < ${writes}; i++) {
      const begun = performance.now();
      await window.keeper.create('/profile/n' + i, new Uint8Array(16));
      latencies.push(performance.now() - begun);
    }
    latencies.sort((a, b) => a - b);
    return { p50: latencies[Math.floor(latencies.length / 2)], p90: latencies[Math.floor(latencies.length * 0.9)] };
  })()`;
}

async function main(): Promise<void> {
  const { writes, from } = parseArgs(process.argv.slice(2));
  const dir = await mkdtemp(join(tmpdir(), 'meshkeeper-profile-ui-'));
  await build({ configFile: 'vite.config.ts', logLevel: 'warn', build: { outDir: dir, emptyOutDir: true } });
  const server = await startServer({ port: 0, host: '127.0.0.1', staticDir: dir, relay: { settlingMs: 0 } });
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
  try {
    const room = `profile-${Date.now().toString(36)}`;
    const pages: Page[] = [];
    for (let i = 0; i < 3; i++) {
      const context = await browser.newContext({ permissions: ['microphone'] });
      const page = await context.newPage();
      await page.goto(`${server.url}?room=${room}`);
      await page.getByTestId('state').filter({ hasText: 'session connected' }).waitFor({ timeout: FORM_TIMEOUT_MS });
      pages.push(page);
    }
    const roles = await formed(pages);
    const writerIndex = roles.findIndex((s) => (from === 'leader' ? s.role === 'leader' : s.role !== 'leader'));
    const writer = pages[writerIndex] as Page;
    await writer.evaluate(`window.keeper.create('/profile', new Uint8Array(0))`);
    const sessions: CDPSession[] = [];
    for (const page of pages) {
      const cdp = await page.context().newCDPSession(page);
      await cdp.send('Profiler.enable');
      await cdp.send('Profiler.setSamplingInterval', { interval: SAMPLING_INTERVAL_US });
      await cdp.send('Profiler.start');
      sessions.push(cdp);
    }
    const started = performance.now();
    const latency = (await writer.evaluate(writeLoop(writes))) as { p50: number; p90: number };
    const wallMs = performance.now() - started;
    console.log(`${writes} sequential creates from the ${from} (tab ${writerIndex}) in ${wallMs.toFixed(0)} ms: p50 ${latency.p50.toFixed(1)} ms, p90 ${latency.p90.toFixed(1)} ms`);
    for (const [i, cdp] of sessions.entries()) {
      const { profile } = await cdp.send('Profiler.stop');
      const totalMs = (profile.endTime - profile.startTime) / 1000;
      const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
      const deltas = profile.timeDeltas ?? [];
      const selfMs = new Map<string, number>();
      (profile.samples ?? []).forEach((id, k) => {
        const frame = nodes.get(id)?.callFrame;
        if (frame === undefined) return;
        const key = `${frame.functionName || '(anonymous)'} ${frame.url.split('/').pop() ?? ''}${frame.url === '' ? '' : `:${frame.lineNumber + 1}`}`;
        selfMs.set(key, (selfMs.get(key) ?? 0) + (deltas[k + 1] ?? 0) / 1000);
      });
      const idleMs = [...selfMs].filter(([key]) => key.startsWith('(idle)')).reduce((sum, [, ms]) => sum + ms, 0);
      const busyMs = totalMs - idleMs;
      console.log(`tab ${i} (${roles[i]?.role ?? '?'}): main thread busy ${busyMs.toFixed(0)} of ${totalMs.toFixed(0)} ms = ${(busyMs / writes).toFixed(2)} ms per write`);
      const top = [...selfMs].filter(([key]) => !key.startsWith('(idle)')).sort((a, b) => b[1] - a[1]).slice(0, TOP_FUNCTIONS);
      for (const [key, ms] of top) console.log(`  ${ms.toFixed(0).padStart(6)} ms  ${key}`);
    }
  } finally {
    await browser.close();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
