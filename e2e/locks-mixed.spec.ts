// The Lock recipe across kinds of peers: two tabs of the app, a `meshkeeper peer` edge process and
// this test process's own Node peer (two Keepers, two sessions, joined with Keeper.join) contend
// for one lock, the holder incrementing a counter guarded only by the lock — the same guarantees as
// between tabs (e2e/locks.spec.ts): counter = acquisitions, no overlapping holds, tokens increase.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { test, expect } from './fixtures.js';
import type { Page } from '@playwright/test';
import { Keeper } from '../src/node.js';
import { Lock } from '../src/recipes/index.js';
import { collectErrors } from './helpers.js';

const FORM_TIMEOUT_MS = 30_000;
/** No single acquire should wait longer: a bound, not an expectation. */
const ACQUIRE_TIMEOUT_MS = 20_000;
/** 2 tabs + 2 Keepers of this process, 15 acquisitions each. */
const ACQUISITIONS = 60;
const TABS = 2;
const NODE_KEEPERS = 2;

interface Hold {
  readonly who: string;
  /** ms on the shared clock (performance.timeOrigin + performance.now(), in tabs and in Node). */
  readonly askedAt: number;
  readonly acquiredAt: number;
  readonly releasingAt: number;
  readonly token: number;
  readonly read: number;
}

interface ContendArgs {
  readonly who: string;
  readonly lockPath: string;
  readonly counterPath: string;
  readonly count: number;
  readonly timeoutMs: number;
}

function cli(args: string[]): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, ['--import', 'tsx', 'src/edge/cli.ts', ...args], { stdio: 'pipe' });
}

/** Resolves with the first stdout match of `pattern`; rejects if the process exits first or in `timeoutMs`. */
function lineMatching(child: ChildProcessWithoutNullStreams, pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    let stderr = '';
    const timer = setTimeout(() => reject(new Error(`no ${pattern} within ${timeoutMs} ms: ${stderr}`)), timeoutMs);
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const match = buffered.match(pattern);
      if (match !== null) {
        clearTimeout(timer);
        resolve(match);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before printing ${pattern}: ${stderr}`));
    });
  });
}

function exitCode(child: ChildProcessWithoutNullStreams): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

/** The contender's loop in a tab: acquire, read the counter, write it + 1 (no CAS), release. */
function contendInTab(page: Page, args: ContendArgs): Promise<Hold[]> {
  return page.evaluate(async ({ who, lockPath, counterPath, count, timeoutMs }) => {
    const keeper = window.keeper!;
    const lock = new window.recipes!.Lock(keeper, lockPath);
    const now = (): number => performance.timeOrigin + performance.now();
    const decoder = new TextDecoder();
    const holds: Hold[] = [];
    for (let i = 0; i < count; i++) {
      const askedAt = now();
      const { token } = await lock.acquire({ timeoutMs });
      const acquiredAt = now();
      const read = Number(decoder.decode((await keeper.getData(counterPath)).data));
      await keeper.setData(counterPath, String(read + 1), -1);
      holds.push({ who, askedAt, acquiredAt, releasingAt: now(), token, read });
      await lock.release();
    }
    return holds;
  }, args);
}

/** The same loop on a Keeper of this process. */
async function contendInNode(keeper: Keeper, { who, lockPath, counterPath, count, timeoutMs }: ContendArgs): Promise<Hold[]> {
  const lock = new Lock(keeper, lockPath);
  const now = (): number => performance.timeOrigin + performance.now();
  const decoder = new TextDecoder();
  const holds: Hold[] = [];
  for (let i = 0; i < count; i++) {
    const askedAt = now();
    const { token } = await lock.acquire({ timeoutMs });
    const acquiredAt = now();
    const read = Number(decoder.decode((await keeper.getData(counterPath)).data));
    await keeper.setData(counterPath, String(read + 1), -1);
    holds.push({ who, askedAt, acquiredAt, releasingAt: now(), token, read });
    await lock.release();
  }
  return holds;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function ms(value: number): string {
  return `${value.toFixed(1)} ms`;
}

/** No hold begins before the previous ended, tokens strictly increase in acquisition order, the
 *  n-th holder read n. Returns the hand-off gaps (previous releasing → next acquired). */
function checkHolds(holds: readonly Hold[]): number[] {
  const ordered = [...holds].sort((a, b) => a.acquiredAt - b.acquiredAt);
  const gaps: number[] = [];
  for (let i = 1; i < ordered.length; i++) {
    const previous = ordered[i - 1]!;
    const next = ordered[i]!;
    expect(next.acquiredAt, `hold ${i} (${next.who}, token ${next.token}) began before hold ${i - 1} (${previous.who}, token ${previous.token}) ended`)
      .toBeGreaterThanOrEqual(previous.releasingAt);
    expect(next.token, `tokens in acquisition order: hold ${i} (${next.who}) after hold ${i - 1} (${previous.who})`).toBeGreaterThan(previous.token);
    gaps.push(next.acquiredAt - previous.releasingAt);
  }
  expect(ordered.map((hold) => hold.read)).toEqual(ordered.map((_, i) => i));
  return gaps;
}

test(`the same contention with Node peers and tabs mixed: ${TABS} tabs + ${NODE_KEEPERS} Node Keepers (+ an edge peer), ${ACQUISITIONS} acquisitions`, async ({ context, app }) => {
  test.setTimeout(90_000);
  const room = `locks-mixed-${test.info().workerIndex}-${Date.now()}`;
  const keepers: Keeper[] = [];
  let edge: ChildProcessWithoutNullStreams | null = null;
  try {
    const tabs: Page[] = [];
    const errors: string[][] = [];
    for (let i = 0; i < TABS; i++) {
      const page = await context.newPage();
      errors.push(collectErrors(page));
      await page.goto(`${app.url}?room=${room}`);
      await expect(page.getByTestId('state')).toHaveText('session connected', { timeout: FORM_TIMEOUT_MS });
      tabs.push(page);
    }
    edge = cli(['peer', '--relay', app.relayUrl, '--room', room, '--memory']);
    const [, edgeId] = await lineMatching(edge, /peer (\S+) room /, FORM_TIMEOUT_MS);
    // Keepers of one process share its peer: one Node peer, two sessions.
    for (let i = 0; i < NODE_KEEPERS; i++) keepers.push(await Keeper.join({ relay: app.relayUrl, room, storage: 'memory' }));
    const nodePeerId = keepers[0]!.status().peerId;
    // Four peers: three voters and an observer, the same view in every tab.
    for (const tab of tabs) {
      await expect(tab.getByTestId('voters')).toHaveText(/^[^,]+, [^,]+, [^,]+$/, { timeout: FORM_TIMEOUT_MS });
      // One observer's id (the panel says "none" while there is none: that must not match).
      await expect(tab.getByTestId('observers')).toHaveText(/^(tab|edge)-[0-9a-f]{8}(~[0-9a-f]{8})?$/, { timeout: FORM_TIMEOUT_MS });
    }
    const members = `${await tabs[0]!.getByTestId('voters').textContent()}, ${await tabs[0]!.getByTestId('observers').textContent()}`;
    expect(members).toContain(edgeId as string);
    expect(members).toContain(nodePeerId);

    const lockPath = '/locks/mixed';
    const counterPath = '/counter';
    await keepers[0]!.create(counterPath, '0');
    for (const tab of tabs) await tab.evaluate((path) => window.keeper!.sync(path), counterPath);
    for (const keeper of keepers) await keeper.sync(counterPath);

    const perContender = ACQUISITIONS / (TABS + NODE_KEEPERS);
    const common = { lockPath, counterPath, count: perContender, timeoutMs: ACQUIRE_TIMEOUT_MS };
    const results = await Promise.all([
      ...tabs.map((tab, i) => contendInTab(tab, { ...common, who: `tab${i}` })),
      ...keepers.map((keeper, i) => contendInNode(keeper, { ...common, who: `node${i}` })),
    ]);
    const holds = results.flat();
    expect(holds).toHaveLength(ACQUISITIONS);
    const gaps = checkHolds(holds);

    const final = await tabs[0]!.evaluate(async (path) => {
      await window.keeper!.sync(path);
      return new TextDecoder().decode((await window.keeper!.getData(path)).data);
    }, counterPath);
    expect(final).toBe(String(ACQUISITIONS));
    await keepers[0]!.sync(lockPath);
    expect((await keepers[0]!.exists(lockPath))?.numChildren ?? 0).toBe(0);

    const first = Math.min(...holds.map((h) => h.askedAt));
    const last = Math.max(...holds.map((h) => h.releasingAt));
    const seconds = (last - first) / 1000;
    const sortedGaps = [...gaps].sort((a, b) => a - b);
    const byKind = (kind: string): number[] => {
      const ordered = [...holds].sort((a, b) => a.acquiredAt - b.acquiredAt);
      const out: number[] = [];
      for (let i = 1; i < ordered.length; i++) if (ordered[i]!.who.startsWith(kind)) out.push(ordered[i]!.acquiredAt - ordered[i - 1]!.releasingAt);
      return out.sort((a, b) => a - b);
    };
    console.log(`locks: mixed (${TABS} tabs, ${NODE_KEEPERS} Node Keepers, 1 edge peer): ${holds.length} acquisitions in ${seconds.toFixed(2)} s = ` +
      `${(holds.length / seconds).toFixed(1)} cycles/s; hand-off p50 ${ms(percentile(sortedGaps, 50))} p95 ${ms(percentile(sortedGaps, 95))} ` +
      `max ${ms(percentile(sortedGaps, 100))} min ${ms(percentile(sortedGaps, 0))}; to a tab p50 ${ms(percentile(byKind('tab'), 50))}, ` +
      `to a Node Keeper p50 ${ms(percentile(byKind('node'), 50))}`);
    for (const list of errors) expect(list).toEqual([]);

    edge.kill('SIGTERM');
    expect(await exitCode(edge)).toBe(0);
  } finally {
    for (const keeper of keepers) await keeper.close().catch(() => undefined);
    if (edge !== null && edge.exitCode === null) edge.kill('SIGKILL');
  }
});
