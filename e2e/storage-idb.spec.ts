// Proves IndexedDB storage (src/adapters/storage-idb.ts) in Debian Chromium: every case of the
// storage compliance suite runs in a page (each its own test, on a fresh database), including an
// aborted transaction leaving nothing and damage at rest reported by load. Then a real crash: a
// page of a persistent context writes the crash workload, CDP Page.crash kills it right after
// acknowledged writes, and a new page — and then a restarted browser on the same profile — must
// load the state after some step at or beyond the last acknowledged one (a consistent prefix).
// The browser side is src/adapters/storage-compliance.browser.ts, bundled here with Vite's build().
import { chromium, expect, test } from '@playwright/test';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { STORAGE_COMPLIANCE_CASES } from '../src/adapters/storage-compliance.js';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../playwright.config.js';
import { serveBrowserEntry, type ServedEntry } from './browser-entry.js';


/** Acks before the crash: past compactions (every 50 steps) and the received snapshot at 173. */
const CRASH_AFTER_ACKS = 200;

let served: ServedEntry | null = null;
let root = '';
let origin = '';

test.beforeAll(async () => {
  served = await serveBrowserEntry({ entry: 'src/adapters/storage-compliance.browser.ts', title: 'storage compliance', tmpPrefix: 'meshkeeper-idb-' });
  ({ root, origin } = served);
});

test.afterAll(async () => {
  await served?.close();
});

for (const testCase of STORAGE_COMPLIANCE_CASES) {
  test(`IndexedDB compliance: ${testCase.name}`, async ({ page }) => {
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(origin);
    const results = await page.evaluate((name) => window.runStorageCompliance([name]), testCase.name);
    expect(results).toHaveLength(1);
    const [result] = results;
    if (result?.note !== undefined) console.log(`IndexedDB, ${testCase.name}: ${result.note} (${result.durationMs.toFixed(0)} ms)`);
    expect(result?.error ?? null).toBeNull();
    expect(result?.status).toBe('passed');
    expect(errors).toEqual([]);
  });
}

test('IndexedDB: acknowledged writes survive a page crash and a browser restart', async () => {
  test.setTimeout(120_000);
  const profile = await mkdtemp(join(root, 'profile-'));
  const launch = () => chromium.launchPersistentContext(profile, { executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
  const room = 'crash';
  let context = await launch();
  try {
    const writer = await context.newPage();
    const cdp = await context.newCDPSession(writer);
    let lastAck = -1;
    let crashing = false;
    await writer.exposeFunction('reportAck', (step: number) => {
      lastAck = Math.max(lastAck, step);
      if (step >= CRASH_AFTER_ACKS && !crashing) {
        crashing = true;
        cdp.send('Page.crash').catch(() => undefined); // never answers: the page is gone
      }
    });
    await writer.goto(origin);
    const crashed = writer.waitForEvent('crash');
    await writer.evaluate((name) => window.startCrashWorkload(name), room);
    await crashed;
    const acknowledged = lastAck;
    expect(acknowledged).toBeGreaterThanOrEqual(CRASH_AFTER_ACKS);

    const reader = await context.newPage();
    await reader.goto(origin);
    const afterCrash = await reader.evaluate(([name, ack]) => window.recoveredCrashStep(name, ack), [room, acknowledged] as const);
    console.log(`IndexedDB page crash after ack ${acknowledged}: the database holds the state after step ${afterCrash.step}`);
    expect(afterCrash.step, `no step from ${acknowledged} on matches the database: ${afterCrash.difference}`).not.toBeNull();
    await context.close();

    context = await launch();
    const restarted = await context.newPage();
    await restarted.goto(origin);
    const afterRestart = await restarted.evaluate(([name, ack]) => window.recoveredCrashStep(name, ack), [room, afterCrash.step!] as const);
    expect(afterRestart.step, `after a browser restart: ${afterRestart.difference}`).toBe(afterCrash.step);
  } finally {
    await context.close();
  }
});
