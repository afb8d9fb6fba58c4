// The Lock recipe (src/recipes/lock.ts) between tabs of the app, each tab a peer of one ensemble
// over real WebRTC: mutual exclusion under contention (a counter guarded only by the lock), fencing
// tokens, and what happens to the lock when its holder's tab closes or freezes. Each tab runs the
// recipe on its own `window.keeper` through `window.recipes`. Figures are printed as `locks: …`.
import { test, expect } from './fixtures.js';
import type { BrowserContext, Page } from '@playwright/test';
import { LEADER_SILENCE_MS, SESSION_TICK_MS } from '../src/peer/constants.js';
import { SESSION_TIMEOUT_MS_DEFAULT } from '../src/client/limits.js';
import { collectErrors } from './helpers.js';

/** Forming an ensemble of tabs takes a few seconds (WebRTC + admission + promotion). */
const FORM_TIMEOUT_MS = 30_000;
/** No single acquire of these tests should wait longer: a bound, not an expectation. */
const ACQUIRE_TIMEOUT_MS = 20_000;
const CONTENDING_TABS = 5;
const ACQUISITIONS = 200;
/** "At once" for a closed holder's tab: far below the election timeout (LEADER_SILENCE_MS, 2.5 s),
 *  so a hand-off that waited for an election or an expiry fails; ~20x the measured figure (~30-50 ms). */
const CLOSE_HAND_OFF_MS_MAX = 1000;
/** The freeze test's session timeout (?sessionTimeoutMs=): the shortest allowed, to keep it quick. */
const FREEZE_SESSION_TIMEOUT_MS = 4000;

interface Hold {
  readonly who: string;
  /** When acquire() was called, resolved, and release() was about to be called: ms on the shared
   *  clock (performance.timeOrigin + performance.now()). */
  readonly askedAt: number;
  readonly acquiredAt: number;
  readonly releasingAt: number;
  readonly token: number;
  /** The counter's value the holder read (it wrote read + 1). */
  readonly read: number;
}

/** Opens `count` tabs of the app in `room` and waits until each has a session and sees three voters. */
async function openTabs(context: BrowserContext, url: string, count: number): Promise<{ pages: Page[]; errors: string[][] }> {
  const pages: Page[] = [];
  const errors: string[][] = [];
  for (let i = 0; i < count; i++) {
    const page = await context.newPage();
    errors.push(collectErrors(page));
    await page.goto(url);
    await expect(page.getByTestId('state')).toHaveText('session connected', { timeout: FORM_TIMEOUT_MS });
    pages.push(page);
  }
  for (const page of pages) await expect(page.getByTestId('voters')).toHaveText(/^[^,]+, [^,]+, [^,]+$/, { timeout: FORM_TIMEOUT_MS });
  return { pages, errors };
}

function roomName(prefix: string): string {
  return `${prefix}-${test.info().workerIndex}-${Date.now()}`;
}

/**
 * In a tab: `count` times acquire the lock, read the counter, write counter + 1 (a plain setData
 * with version -1: only the lock guards it), release. Returns the holds, timed on the shared clock.
 */
function contendInTab(page: Page, args: { who: string; lockPath: string; counterPath: string; count: number; timeoutMs: number }): Promise<Hold[]> {
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

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function ms(value: number): string {
  return `${value.toFixed(1)} ms`;
}

/**
 * The lock's guarantees over one run's holds: ordered by acquisition, no hold begins before the
 * previous one ended, tokens strictly increase, and the n-th holder read n (each saw every earlier
 * holder's write, none was lost). Returns the hand-off gaps (previous releasing → next acquired).
 */
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

/** One line of figures for a contention run. */
function describeRun(label: string, holds: readonly Hold[], gaps: readonly number[]): string {
  const first = Math.min(...holds.map((h) => h.askedAt));
  const last = Math.max(...holds.map((h) => h.releasingAt));
  const seconds = (last - first) / 1000;
  const sortedGaps = [...gaps].sort((a, b) => a - b);
  const held = holds.map((h) => h.releasingAt - h.acquiredAt).sort((a, b) => a - b);
  const waited = holds.map((h) => h.acquiredAt - h.askedAt).sort((a, b) => a - b);
  const perHolder = new Map<string, number>();
  for (const hold of holds) perHolder.set(hold.who, (perHolder.get(hold.who) ?? 0) + 1);
  return `locks: ${label}: ${holds.length} acquisitions in ${seconds.toFixed(2)} s = ${(holds.length / seconds).toFixed(1)} cycles/s; ` +
    `hand-off p50 ${ms(percentile(sortedGaps, 50))} p95 ${ms(percentile(sortedGaps, 95))} max ${ms(percentile(sortedGaps, 100))}; ` +
    `hold (read + write) p50 ${ms(percentile(held, 50))}; wait p50 ${ms(percentile(waited, 50))} max ${ms(percentile(waited, 100))}; ` +
    `per holder ${[...perHolder].map(([who, n]) => `${who}=${n}`).join(' ')}`;
}

/** Resolves once the lock directory has `count` contenders (so a waiter is queued behind the holder). */
async function waitForContenders(page: Page, lockPath: string, count: number): Promise<void> {
  await expect.poll(() => page.evaluate((path) => window.keeper!.getChildren(path).then((c) => c.length), lockPath), { timeout: 10_000 }).toBe(count);
}

test(`${CONTENDING_TABS} tabs contend for one lock for ${ACQUISITIONS} acquisitions: counter = ${ACQUISITIONS}, no overlapping holds, tokens increase`, async ({ context, app }) => {
  test.setTimeout(90_000);
  const { pages, errors } = await openTabs(context, `${app.url}?room=${roomName('locks')}`, CONTENDING_TABS);
  const lockPath = '/locks/counter';
  const counterPath = '/counter';
  await pages[0]!.evaluate((path) => window.keeper!.create(path, '0'), counterPath);
  // Every tab sees the counter before it starts (each reads its local replica).
  for (const page of pages) await page.evaluate((path) => window.keeper!.sync(path), counterPath);

  const perTab = ACQUISITIONS / CONTENDING_TABS;
  const results = await Promise.all(
    pages.map((page, i) => contendInTab(page, { who: `tab${i}`, lockPath, counterPath, count: perTab, timeoutMs: ACQUIRE_TIMEOUT_MS })),
  );
  const holds = results.flat();
  expect(holds).toHaveLength(ACQUISITIONS);
  const gaps = checkHolds(holds);

  const final = await pages[CONTENDING_TABS - 1]!.evaluate(async (path) => {
    await window.keeper!.sync(path);
    return new TextDecoder().decode((await window.keeper!.getData(path)).data);
  }, counterPath);
  expect(final).toBe(String(ACQUISITIONS));
  // Every holder released: no lock node is left behind.
  expect(await pages[0]!.evaluate(async (path) => {
    await window.keeper!.sync(path);
    const stat = await window.keeper!.exists(path);
    return stat === null ? 0 : stat.numChildren;
  }, lockPath)).toBe(0);
  console.log(describeRun(`${CONTENDING_TABS} tabs`, holds, gaps));
  for (const list of errors) expect(list).toEqual([]);
});

/** Which tab holds in the close and freeze tests: a follower (the ensemble keeps its leader) or the
 *  leader itself (its close hands leadership on too; its freeze needs an election first). */
const HOLDER_ROLES = ['follower', 'leader'] as const;

/** The tab whose role is `role`, and another tab to wait. */
async function holderAndWaiter(pages: readonly Page[], role: string): Promise<{ holder: Page; waiter: Page }> {
  const roles = await Promise.all(pages.map((page) => page.getByTestId('role').textContent()));
  const holder = pages[roles.indexOf(role)];
  expect(holder, `a ${role} among roles ${roles.join(', ')}`).toBeDefined();
  return { holder: holder!, waiter: pages.find((page) => page !== holder)! };
}

for (const holderRole of HOLDER_ROLES) {
  test(`closing the holder's tab hands the lock on at once (holder: the ${holderRole})`, async ({ context, app }) => {
    test.setTimeout(90_000);
    const { pages, errors } = await openTabs(context, `${app.url}?room=${roomName('locks-close')}`, 3);
    const lockPath = '/locks/close';
    const { holder, waiter } = await holderAndWaiter(pages, holderRole);

    const sessionTimeoutMs = await holder.evaluate(() => window.keeper!.sessionTimeoutMs);
    expect(sessionTimeoutMs).toBe(SESSION_TIMEOUT_MS_DEFAULT);
    const holderToken = await holder.evaluate(async (path) => {
      const lock = new window.recipes!.Lock(window.keeper!, path);
      return (await lock.acquire({ timeoutMs: 10_000 })).token;
    }, lockPath);
    const waited = waiter.evaluate(async ({ path, timeoutMs }) => {
      const lock = new window.recipes!.Lock(window.keeper!, path);
      return (await lock.acquire({ timeoutMs })).token;
    }, { path: lockPath, timeoutMs: ACQUIRE_TIMEOUT_MS });
    await waitForContenders(waiter, lockPath, 2);

    const closedAt = performance.now();
    await holder.close();
    const closeReturnedMs = performance.now() - closedAt;
    const waiterToken = await waited;
    const handOffMs = performance.now() - closedAt;
    console.log(`locks: close hand-off (${holderRole}) ${ms(handOffMs)} after page.close() (page.close() itself took ${ms(closeReturnedMs)}; session timeout ${sessionTimeoutMs} ms)`);
    expect(waiterToken).toBeGreaterThan(holderToken);
    // At once: the close itself released it, with no failure detector involved (neither an election
    // nor the session's expiry, which cannot come before sessionTimeoutMs - SESSION_TICK_MS).
    expect(handOffMs).toBeLessThan(CLOSE_HAND_OFF_MS_MAX);
    expect(handOffMs).toBeLessThan(sessionTimeoutMs - SESSION_TICK_MS);
    // The closed tab's session is gone from the ensemble: the waiter's node is the only one.
    expect(await waiter.evaluate((path) => window.keeper!.getChildren(path).then((c) => c.length), lockPath)).toBe(1);
    for (const list of errors) expect(list).toEqual([]);
  });
}

for (const holderRole of HOLDER_ROLES) {
  test(`freezing the holder hands the lock on after the session timeout, and the frozen holder's lock is lost on resume (holder: the ${holderRole})`, async ({ context, app }) => {
    test.setTimeout(90_000);
    const { pages, errors } = await openTabs(context, `${app.url}?room=${roomName('locks-freeze')}&sessionTimeoutMs=${FREEZE_SESSION_TIMEOUT_MS}`, 3);
    const lockPath = '/locks/freeze';
    const { holder, waiter } = await holderAndWaiter(pages, holderRole);

    const sessionTimeoutMs = await holder.evaluate(() => window.keeper!.sessionTimeoutMs);
    expect(sessionTimeoutMs).toBe(FREEZE_SESSION_TIMEOUT_MS);
    const holderToken = await holder.evaluate(async (path) => {
      const lock = new window.recipes!.Lock(window.keeper!, path);
      const token = (await lock.acquire({ timeoutMs: 10_000 })).token;
      const seen = { lost: [] as { reason: string; token: number }[], states: [] as string[] };
      (window as unknown as { lockSeen: typeof seen }).lockSeen = seen;
      lock.on('lost', (event) => seen.lost.push({ reason: event.reason, token: event.token }));
      window.keeper!.on('state', (state) => seen.states.push(state));
      return token;
    }, lockPath);
    const waited = waiter.evaluate(async ({ path, timeoutMs }) => {
      const lock = new window.recipes!.Lock(window.keeper!, path);
      return (await lock.acquire({ timeoutMs })).token;
    }, { path: lockPath, timeoutMs: ACQUIRE_TIMEOUT_MS });
    await waitForContenders(waiter, lockPath, 2);

    const cdp = await context.newCDPSession(holder);
    await cdp.send('Debugger.enable');
    const frozenAt = performance.now();
    await cdp.send('Debugger.pause');
    let resumed = false;
    try {
      const waiterToken = await waited;
      const handOffMs = performance.now() - frozenAt;
      console.log(`locks: freeze hand-off (${holderRole}) ${ms(handOffMs)} after Debugger.pause (session timeout ${sessionTimeoutMs} ms, session tick ${SESSION_TICK_MS} ms)`);
      expect(waiterToken).toBeGreaterThan(holderToken);
      // Not before the session could have expired (its last liveness report is at most one session
      // tick older than the freeze), and not long after: a few session ticks, plus an election (at
      // most twice the election timeout) when the frozen holder led the ensemble.
      expect(handOffMs).toBeGreaterThanOrEqual(sessionTimeoutMs - SESSION_TICK_MS);
      expect(handOffMs).toBeLessThan(sessionTimeoutMs + 3 * SESSION_TICK_MS + (holderRole === 'leader' ? 2 * LEADER_SILENCE_MS : 0));
      await cdp.send('Debugger.resume');
      resumed = true;
    } finally {
      if (!resumed) await cdp.send('Debugger.resume').catch(() => undefined);
    }
    const resumedAt = performance.now();

    // On resume the frozen tab learns that its session expired, and its lock says it was lost.
    await expect.poll(() => holder.evaluate(() => window.keeper!.state), { timeout: 15_000 }).toBe('expired');
    const seen = await holder.evaluate(() => (window as unknown as { lockSeen: { lost: { reason: string; token: number }[]; states: string[] } }).lockSeen);
    console.log(`locks: frozen ${holderRole} saw its session expire ${ms(performance.now() - resumedAt)} after resume; states ${seen.states.join(' → ')}`);
    expect(seen.lost).toEqual([{ reason: 'session', token: holderToken }]);
    await expect(holder.getByTestId('state')).toHaveText('session expired');
    for (const list of errors) expect(list).toEqual([]);
  });
}
