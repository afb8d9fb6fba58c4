// The tick source in Chromium (DESIGN.md "Time in browsers"): the worker clock
// (src/platform/worker-clock.ts) against a chained main-thread setTimeout (RealClock) and a
// setInterval, all re-arming every PERIOD_MS as the peer's ticks do, measured when the main thread
// is busy (a long task), paused (Debugger.pause, the frozen-tab nemesis), CPU-throttled
// (Emulation.setCPUThrottlingRate), and "hidden" as far as this browser allows (another tab in
// front; a browser launched without Playwright's anti-throttling flags; a minimized window).
// Prints every figure; asserts only what holds on any machine: the worker clock's timers fire on
// time inside the worker while the page is blocked, and reach the page late but all of them, in
// order, once it yields. What could not be reproduced (a hidden page, so the 1 s clamp) is printed
// as such. The page side is src/platform/worker-clock.browser.ts, bundled here with Vite's build().
import { chromium, expect, test, type Page } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../playwright.config.js';
import type { TickRecord } from '../src/platform/worker-clock.browser.js';
import { serveBrowserEntry, type ServedEntry } from './browser-entry.js';


/** Each source re-arms every 100 ms: fine enough to see a 1 s clamp or a 2 s stall, coarse enough
 *  for a loaded two-core machine (RAFT_TICK_MS is 250 ms). */
const PERIOD_MS = 100;
/** A long task of 2 s: longer than a Raft tick and a session tick's half, shorter than the
 *  shortest election timeout (2.5 s). */
const BUSY_MS = 2000;
/** One-shot timers armed just before the long task, all due inside it. */
const BATCH_DELAYS_MS = [100, 300, 500, 700, 900, 1100, 1300, 1500, 1700, 1900];
/** One-shot timers armed just before Debugger.pause (which takes effect within a tick, <= 100 ms),
 *  due inside the ~2 s pause. */
const PAUSE_BATCH_DELAYS_MS = [400, 700, 1000, 1300, 1600];
/** After the main thread yields, queued worker messages are tasks like any other: they run within
 *  a few ms. The bound is generous for a machine shared by parallel test runs. */
const DELIVERY_AFTER_YIELD_MAX_MS = 1000;
/** Each measured window ("phase"). */
const PHASE_MS = 3000;
/** Chromium's own flags that keep background pages unthrottled (Playwright adds them by default). */
const ANTI_THROTTLING_ARGS = ['--disable-background-timer-throttling', '--disable-renderer-backgrounding', '--disable-backgrounding-occluded-windows'];

let served: ServedEntry | null = null;
let origin = '';

test.beforeAll(async () => {
  served = await serveBrowserEntry({ entry: 'src/platform/worker-clock.browser.ts', title: 'tick lab', tmpPrefix: 'meshkeeper-ticks-' });
  ({ origin } = served);
});

test.afterAll(async () => {
  await served?.close();
});

async function openLab(page: Page): Promise<void> {
  await page.goto(origin);
  await page.waitForFunction(() => window.tickLab !== undefined);
}

function within(times: readonly number[], from: number, to: number): number[] {
  return times.filter((time) => time > from && time <= to);
}

/** "n ticks (expected e), gaps p50 x / max y ms" for one source over [from, to]. */
function describeSource(times: readonly number[], from: number, to: number): string {
  const inside = within(times, from, to);
  const gaps = inside.slice(1).map((time, index) => time - (inside[index] as number)).sort((a, b) => a - b);
  const p50 = gaps[Math.floor((gaps.length - 1) / 2)] ?? NaN;
  const max = gaps[gaps.length - 1] ?? NaN;
  return `${inside.length} ticks (expect ~${Math.round((to - from) / PERIOD_MS)}), gap p50 ${p50.toFixed(0)} / max ${max.toFixed(0)} ms`;
}

function report(label: string, record: TickRecord, from: number, to: number): void {
  console.log(
    `[ticks] ${label} (visibility ${record.visibility}, clock ${record.stats.mode}):\n` +
      `  worker clock   ${describeSource(record.worker, from, to)}\n` +
      `  setTimeout     ${describeSource(record.timeout, from, to)}\n` +
      `  setInterval    ${describeSource(record.interval, from, to)}\n` +
      `  (in the worker ${within(record.workerFired, from, to).length} timers fired)`,
  );
}

/** Runs the three sources for PHASE_MS on `page`, with `during` started at the phase's start. */
async function phase(page: Page, label: string, during: () => Promise<void> = async () => undefined): Promise<{ record: TickRecord; from: number; to: number }> {
  await page.evaluate((period) => window.tickLab.start(period), PERIOD_MS);
  const from = await page.evaluate(() => window.tickLab.epoch());
  await during();
  await page.waitForTimeout(Math.max(0, PHASE_MS - 50));
  const to = await page.evaluate(() => window.tickLab.epoch());
  const record = await page.evaluate(() => window.tickLab.stop());
  report(label, record, from, to);
  return { record, from, to };
}

test('a busy main thread delays the worker clock ticks but loses none; the worker keeps time meanwhile', async ({ page }) => {
  await openLab(page);
  await page.evaluate((period) => window.tickLab.start(period), PERIOD_MS);
  await page.waitForTimeout(500);
  await page.evaluate((delays) => window.tickLab.armBatch(delays), BATCH_DELAYS_MS);
  const { from, to } = await page.evaluate((ms) => window.tickLab.busy(ms), BUSY_MS);
  await page.waitForTimeout(1000);
  const batch = await page.evaluate(() => window.tickLab.batch());
  const record = await page.evaluate(() => window.tickLab.stop());
  report(`main thread busy ${BUSY_MS} ms`, record, from - 500, to + 1000);
  expect(record.stats.mode).toBe('worker');
  expect(batch).not.toBeNull();
  const ran = batch!.ran;
  const firstTickAfter = (times: readonly number[]): number => (times.find((time) => time > to) ?? Number.POSITIVE_INFINITY) - to;
  console.log(
    `[ticks] busy ${BUSY_MS} ms: nothing ran on the page during it (worker ${within(record.worker, from, to).length}, setTimeout ${within(record.timeout, from, to).length}, setInterval ${within(record.interval, from, to).length}); ` +
      `${within(record.workerFired, from, to).length} worker timers fired inside the worker during it; ` +
      `first tick after it: worker clock +${firstTickAfter(record.worker).toFixed(1)} ms, setTimeout +${firstTickAfter(record.timeout).toFixed(1)} ms, setInterval +${firstTickAfter(record.interval).toFixed(1)} ms; ` +
      `${ran.length}/${BATCH_DELAYS_MS.length} one-shot timers due inside it ran, the last +${((ran[ran.length - 1]?.at ?? NaN) - to).toFixed(1)} ms after it`,
  );
  // Not lost: every one-shot timer due inside the long task ran, in due order, right after it.
  expect(ran.map((entry) => entry.delay)).toEqual(BATCH_DELAYS_MS);
  for (const entry of ran) {
    expect(entry.at).toBeGreaterThanOrEqual(to);
    expect(entry.at - to).toBeLessThan(DELIVERY_AFTER_YIELD_MAX_MS);
  }
  // The worker kept time: the batch's timers (and the tick due first) fired there during the task.
  expect(within(record.workerFired, from, to).length).toBeGreaterThanOrEqual(BATCH_DELAYS_MS.length);
  // And the periodic tick went on after it.
  expect(firstTickAfter(record.worker)).toBeLessThan(DELIVERY_AFTER_YIELD_MAX_MS);
  expect(within(record.worker, to, to + 1000).length).toBeGreaterThanOrEqual(3);
});

test('a paused main thread (Debugger.pause, the frozen-tab nemesis): worker timers fire meanwhile and reach the page on resume', async ({ page }) => {
  await openLab(page);
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Debugger.enable');
  await page.evaluate((period) => window.tickLab.start(period), PERIOD_MS);
  await page.waitForTimeout(500);
  // One-shot timers armed now, due while the page is paused (the periodic ticks re-arm from their
  // callback, so at most one of each is pending when the pause hits).
  await page.evaluate((delays) => window.tickLab.armBatch(delays), PAUSE_BATCH_DELAYS_MS);
  const paused = new Promise<void>((resolvePaused) => cdp.once('Debugger.paused', () => resolvePaused()));
  await cdp.send('Debugger.pause');
  await paused; // takes effect at the next JavaScript the page runs (a tick)
  const pausedAt = Date.now();
  await new Promise((wait) => setTimeout(wait, BUSY_MS));
  const resumedAt = Date.now();
  await cdp.send('Debugger.resume');
  await cdp.send('Debugger.disable');
  await page.waitForTimeout(1000);
  const batch = await page.evaluate(() => window.tickLab.batch());
  const record = await page.evaluate(() => window.tickLab.stop());
  report(`main thread paused ~${BUSY_MS} ms`, record, pausedAt - 500, resumedAt + 1000);
  expect(batch?.ran.map((entry) => entry.delay)).toEqual(PAUSE_BATCH_DELAYS_MS);
  for (const entry of batch?.ran ?? []) expect(entry.at - resumedAt).toBeLessThan(DELIVERY_AFTER_YIELD_MAX_MS);
  const firedWhilePaused = within(record.workerFired, pausedAt + 50, resumedAt - 50).length;
  const deliveredWhilePaused = within(record.worker, pausedAt + 50, resumedAt - 50).length;
  const firstAfter = (record.worker.find((time) => time > resumedAt) ?? Number.POSITIVE_INFINITY) - resumedAt;
  console.log(
    `[ticks] paused ${resumedAt - pausedAt} ms: worker timers fired inside the worker meanwhile: ${firedWhilePaused}; delivered to the page meanwhile: ${deliveredWhilePaused}; ` +
      `first worker-clock tick +${firstAfter.toFixed(1)} ms after resume; ${batch?.ran.length ?? 0}/${PAUSE_BATCH_DELAYS_MS.length} one-shot timers due during the pause ran, the last +${((batch?.ran.at(-1)?.at ?? NaN) - resumedAt).toFixed(1)} ms after resume (page and test clocks may differ by a few ms)`,
  );
  expect(deliveredWhilePaused).toBe(0);
  expect(firedWhilePaused).toBeGreaterThanOrEqual(PAUSE_BATCH_DELAYS_MS.length - 1);
  expect(firstAfter).toBeLessThan(DELIVERY_AFTER_YIELD_MAX_MS);
  expect(within(record.worker, resumedAt, resumedAt + 1000).length).toBeGreaterThanOrEqual(3);
});

test('CPU throttling (Emulation.setCPUThrottlingRate): ticks per source', async ({ page }) => {
  await openLab(page);
  const cdp = await page.context().newCDPSession(page);
  const idle = await phase(page, 'idle');
  const counts: Record<string, number> = { idle: within(idle.record.worker, idle.from, idle.to).length };
  for (const rate of [4, 20]) {
    await cdp.send('Emulation.setCPUThrottlingRate', { rate });
    const throttled = await phase(page, `CPU throttled ${rate}x`);
    counts[`${rate}x`] = within(throttled.record.worker, throttled.from, throttled.to).length;
  }
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 });
  // Measured here: the worker clock keeps ~85-100% of its rate even at 20x (the ticks' callbacks
  // are tiny). Asserted loosely (a third), as the machine is shared with other test runs.
  for (const [label, count] of Object.entries(counts)) expect(count, `worker-clock ticks, ${label}`).toBeGreaterThanOrEqual(Math.floor(PHASE_MS / PERIOD_MS / 3));
});

test('hidden as far as this browser allows: another tab in front, throttling flags off, a minimized window', async () => {
  test.setTimeout(90_000);
  const outcomes: string[] = [];
  for (const variant of ['Playwright defaults', 'without the anti-throttling flags']) {
    const browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      args: CHROMIUM_ARGS,
      headless: true,
      ...(variant === 'Playwright defaults' ? {} : { ignoreDefaultArgs: ANTI_THROTTLING_ARGS }),
    });
    try {
      const context = await browser.newContext();
      const page = await context.newPage();
      await openLab(page);
      const front = await context.newPage();
      const { record, from, to } = await phase(page, `${variant}: another tab in front`, async () => {
        await front.bringToFront();
      });
      outcomes.push(`${variant}, another tab in front: ${record.visibility}`);
      expect(within(record.worker, from, to).length, 'worker-clock ticks behind another tab').toBeGreaterThanOrEqual(Math.floor((PHASE_MS / PERIOD_MS) * 0.5));
      if (record.visibility === 'hidden') {
        console.log(`[ticks] ${variant}: the page WAS hidden behind another tab; setTimeout ticks ${within(record.timeout, from, to).length} vs worker clock ${within(record.worker, from, to).length}`);
      }
      await page.bringToFront();
      const cdp = await context.newCDPSession(page);
      let minimized = 'not tried';
      try {
        const { windowId } = (await cdp.send('Browser.getWindowForTarget')) as { windowId: number };
        await cdp.send('Browser.setWindowBounds', { windowId, bounds: { windowState: 'minimized' } });
        const bounds = (await cdp.send('Browser.getWindowBounds', { windowId })) as { bounds: { windowState?: string } };
        minimized = `window state ${bounds.bounds.windowState ?? '?'}`;
      } catch (error) {
        minimized = `refused: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`;
      }
      const minimizedPhase = await phase(page, `${variant}: window minimized (${minimized})`);
      outcomes.push(`${variant}, minimized (${minimized}): ${minimizedPhase.record.visibility}`);
      expect(within(minimizedPhase.record.worker, minimizedPhase.from, minimizedPhase.to).length, 'worker-clock ticks, minimized').toBeGreaterThanOrEqual(Math.floor((PHASE_MS / PERIOD_MS) * 0.5));
    } finally {
      await browser.close();
    }
  }
  const hidden = outcomes.filter((outcome) => outcome.endsWith('hidden'));
  console.log(
    `[ticks] visibility reached: ${outcomes.join('; ')}. ` +
      (hidden.length === 0
        ? 'The page never became hidden here, so the hidden-tab 1 s timer clamp could NOT be reproduced; the runtime is sized from Chrome\'s documented rules instead (docs/architecture.md "Time in browsers").'
        : `Hidden in: ${hidden.join('; ')}.`),
  );
});
