// Identities that outlive tabs (issue 6, Show 1 and 2; src/platform/slots.ts). Tabs of one browser
// profile (one Playwright context) host the profile's slots — persistent peer ids with their own
// IndexedDB replica — through the Web Locks `meshkeeper:<room>:slot:<k>`.
// - Closing (pagehide) and, separately, crashing (CDP Page.crash) two of three tabs one after the
//   other: a writer and a lock loop in the last tab never fail, the voters stay the same three ids,
//   and the last tab ends up hosting every slot; reopening two tabs spreads the slots out again.
// - A persistent profile (launchPersistentContext): write, close the browser, launch it again on
//   the same profile: the data is there and the same three identities resume.
// Prints the longest pause the writer saw and how long the slots took to move.
import { chromium, type BrowserContext, type Page } from '@playwright/test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../playwright.config.js';
import { expect, test } from './fixtures.js';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { crashTab, FORM_TIMEOUT_MS, formatMs, killAll, newProfile, type OpenedTab, openTab, startEdgePeer, tabStatus, uniqueRoom } from './helpers.js';

/** How long the slots may take to settle after a tab opens or goes: a hand-back needs a balance
 *  round or two (SLOT_BALANCE_INTERVAL_MS) and a suspend/resume of a peer. */
const SETTLE_MS = 20_000;
/** The workload in the surviving tab: one write and one lock cycle about this often. */
const WORKLOAD_PAUSE_MS = 50;
/** The workload's bound on its own length (it is stopped well before). */
const WORKLOAD_MAX_MS = 90_000;

declare global {
  interface Window {
    slotsWorkload?: { stop: boolean; writes: number; cycles: number; failures: string[]; unknown: number; losses: string[]; maxGapMs: number; done?: Promise<void> };
  }
}

/** Held slot locks of `room` as this page's profile sees them: slot → client id. */
function heldSlots(page: Page, room: string): Promise<Record<string, string>> {
  return page.evaluate(async (room) => {
    const state = await navigator.locks.query();
    const prefix = `meshkeeper:${room}:slot:`;
    const held: Record<string, string> = {};
    for (const lock of state.held ?? []) if (lock.name?.startsWith(prefix) === true) held[lock.name.slice(prefix.length)] = lock.clientId ?? '';
    return held;
  }, room);
}

/** Waits until the 3 slots are held by `clients` distinct tabs. */
async function slotsHeldBy(page: Page, room: string, clients: number): Promise<void> {
  await expect(async () => {
    const held = await heldSlots(page, room);
    expect(Object.keys(held).sort()).toEqual(['0', '1', '2']);
    expect(new Set(Object.values(held)).size).toBe(clients);
  }).toPass({ timeout: SETTLE_MS });
}

/** Waits until every page agrees on one leader and on the voters `voters` (or any 3). */
async function agreed(pages: readonly Page[], voters?: readonly string[]): Promise<string[]> {
  let seen: string[] = [];
  await expect(async () => {
    const statuses = await Promise.all(pages.map(tabStatus));
    for (const status of statuses) {
      expect(status.voters).toHaveLength(3);
      expect(status.quorum).toBe(true);
      expect(status.leaderId).toBe(statuses[0]!.leaderId);
      if (voters !== undefined) expect([...status.voters].sort()).toEqual([...voters].sort());
    }
    seen = [...statuses[0]!.voters].sort();
  }).toPass({ timeout: FORM_TIMEOUT_MS });
  return seen;
}

/** Starts, in `page`, a loop of writes (sequential creates) and lock cycles until stopped. */
async function startWorkload(page: Page): Promise<void> {
  await page.evaluate(
    ({ pauseMs, maxMs }) => {
      const keeper = window.keeper!;
      const lock = new window.recipes!.Lock(keeper, '/slots-lock');
      const state: NonNullable<Window['slotsWorkload']> = { stop: false, writes: 0, cycles: 0, failures: [], unknown: 0, losses: [], maxGapMs: 0 };
      window.slotsWorkload = state;
      const started = Date.now();
      state.done = (async () => {
        await keeper.create('/slots-writes', '').catch(() => undefined);
        let last = Date.now();
        while (!state.stop && Date.now() - started < maxMs) {
          try {
            await keeper.create('/slots-writes/w-', String(state.writes), { mode: 'persistent_sequential' });
            state.writes += 1;
            await lock.acquire();
            await lock.release();
            state.cycles += 1;
          } catch (error) {
            // A write in flight when a leader's tab crashes fails with CONNECTIONLOSS (outcome
            // unknown), as a ZooKeeper client's does when its server dies: counted, and the loop
            // goes on. Anything else is a failure.
            const code = (error as { code?: string }).code;
            if (code === 'CONNECTIONLOSS') {
              state.unknown += 1;
              // Why (the first few, with the time into the loop): printed with the figures.
              if (state.losses.length < 5) state.losses.push(`${Date.now() - started} ms: ${error instanceof Error ? error.message : String(error)}`);
            }
            else if (state.failures.length < 10) state.failures.push(error instanceof Error ? error.message : String(error));
          }
          const now = Date.now();
          state.maxGapMs = Math.max(state.maxGapMs, now - last);
          last = now;
          await new Promise((resolve) => setTimeout(resolve, pauseMs));
        }
      })();
    },
    { pauseMs: WORKLOAD_PAUSE_MS, maxMs: WORKLOAD_MAX_MS },
  );
}

async function stopWorkload(page: Page): Promise<{ writes: number; cycles: number; failures: string[]; unknown: number; losses: string[]; maxGapMs: number }> {
  return page.evaluate(async () => {
    const state = window.slotsWorkload!;
    state.stop = true;
    await state.done;
    return { writes: state.writes, cycles: state.cycles, failures: state.failures, unknown: state.unknown, losses: state.losses, maxGapMs: state.maxGapMs };
  });
}

for (const how of ['close', 'crash'] as const) {
  test(`${how} two of three tabs one after the other: the last tab hosts every slot and keeps writing and locking; reopened tabs take slots back`, async ({ context, app }) => {
    test.setTimeout(180_000);
    const room = uniqueRoom(`slots-${how}`, test.info().workerIndex);
    const url = `${app.url}?room=${room}`;
    const tabs: OpenedTab[] = [];
    for (let i = 0; i < 3; i++) tabs.push(await openTab(context, url));
    const pages = tabs.map((tab) => tab.page);
    const voters = await agreed(pages);
    await slotsHeldBy(pages[0]!, room, 3);

    // The survivor is a follower's tab; the leader's tab goes first.
    const statuses = await Promise.all(pages.map(tabStatus));
    const leaderAt = statuses.findIndex((status) => status.role === 'leader');
    const order = [leaderAt, ...[0, 1, 2].filter((i) => i !== leaderAt)];
    const [first, second, last] = order.map((i) => pages[i]!) as [Page, Page, Page];
    await startWorkload(last);
    await last.waitForFunction(() => (window.slotsWorkload?.cycles ?? 0) >= 5, undefined, { timeout: FORM_TIMEOUT_MS });

    const moves: number[] = [];
    for (const page of [first, second]) {
      const at = Date.now();
      if (how === 'close') await page.close();
      else await crashTab(context, page);
      const remaining = pages.filter((other) => !other.isClosed());
      await slotsHeldBy(last, room, remaining.length);
      moves.push(Date.now() - at);
      await agreed(remaining, voters);
    }
    // The last tab hosts all three slots, keeps the same voters, and its workload went on.
    await slotsHeldBy(last, room, 1);
    await last.waitForFunction((writes) => (window.slotsWorkload?.writes ?? 0) >= writes + 10, (await last.evaluate(() => window.slotsWorkload!.writes)), { timeout: FORM_TIMEOUT_MS });
    const workload = await stopWorkload(last);
    console.log(`slots (${how}): slots moved to the last tab in ${moves.map(formatMs).join(', ')}; its workload: ${workload.writes} writes, ${workload.cycles} lock cycles, longest pause ${formatMs(workload.maxGapMs)}, ${workload.unknown} CONNECTIONLOSS, failures ${workload.failures.length}`);
    if (workload.losses.length > 0) console.log(`slots (${how}): CONNECTIONLOSS reasons (first ${workload.losses.length}):\n  ${workload.losses.join('\n  ')}`);
    expect(workload.failures).toEqual([]);
    // A write in flight at the leader as its tab goes fails with CONNECTIONLOSS (its outcome is
    // unknown), closed or crashed: at most one per departure (the loop has one request out).
    expect(workload.unknown).toBeLessThanOrEqual(2);
    const written = (await last.evaluate(() => window.keeper!.getChildren('/slots-writes'))).length;
    expect(written).toBeGreaterThanOrEqual(workload.writes);
    expect(written).toBeLessThanOrEqual(workload.writes + workload.unknown);

    // Reopen two tabs: the slots spread out again, the same identities, the data intact.
    const reopenedAt = Date.now();
    const again = [await openTab(context, url), await openTab(context, url)];
    const all = [last, ...again.map((tab) => tab.page)];
    await slotsHeldBy(last, room, 3);
    console.log(`slots (${how}): two tabs reopened, slots spread over 3 tabs ${formatMs(Date.now() - reopenedAt)} after the first reopen`);
    await agreed(all, voters);
    for (const page of all) {
      await page.evaluate(() => window.keeper!.sync('/'));
      expect(await page.evaluate(() => window.keeper!.getChildren('/slots-writes'))).toHaveLength(written);
    }
    for (const tab of [...tabs, ...again]) if (!tab.page.isClosed()) expect(tab.errors).toEqual([]);
  });
}

test('a persistent profile: write, close the browser, launch it again: the data is there and the same identities resume', async ({ app }) => {
  test.setTimeout(180_000);
  const profile = await mkdtemp(join(tmpdir(), 'meshkeeper-profile-'));
  const room = uniqueRoom('slots-profile', test.info().workerIndex);
  const url = `${app.url}?room=${room}`;
  const launch = (): Promise<BrowserContext> => chromium.launchPersistentContext(profile, { executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true, permissions: ['microphone'] });
  try {
    let context = await launch();
    let tabs = [await openTab(context, url), await openTab(context, url), await openTab(context, url)];
    const voters = await agreed(tabs.map((tab) => tab.page));
    await slotsHeldBy(tabs[0]!.page, room, 3);
    await tabs[1]!.page.evaluate(async () => {
      await window.keeper!.create('/kept', 'across browser restarts');
      for (let i = 0; i < 20; i++) await window.keeper!.create(`/kept/n-${i}`, String(i));
    });
    for (const tab of tabs) expect(tab.errors).toEqual([]);
    await context.close();

    context = await launch();
    const reopenedAt = Date.now();
    tabs = [await openTab(context, url)];
    // One tab alone resumes every slot (the room was empty: it needs all three for a quorum).
    await agreed([tabs[0]!.page], voters);
    await slotsHeldBy(tabs[0]!.page, room, 1);
    const resumedMs = Date.now() - reopenedAt;
    expect(await tabs[0]!.page.evaluate(() => window.keeper!.getData('/kept').then((got) => new TextDecoder().decode(got.data)))).toBe('across browser restarts');
    expect(await tabs[0]!.page.evaluate(() => window.keeper!.getChildren('/kept'))).toHaveLength(20);
    tabs.push(await openTab(context, url), await openTab(context, url));
    await slotsHeldBy(tabs[0]!.page, room, 3);
    await agreed(tabs.map((tab) => tab.page), voters);
    console.log(`slots (profile): browser relaunched, one tab resumed all 3 identities with a leader in ${formatMs(resumedMs)}; 3 tabs host one slot each again`);
    for (const tab of tabs) expect(tab.errors).toEqual([]);
    await context.close();
  } finally {
    await rm(profile, { recursive: true, force: true });
  }
});

test('voters spread over failure domains: one profile\'s slots share one; an edge peer and another profile take votes, and status() says when voters share a domain', async ({ context, browser, app }) => {
  test.setTimeout(180_000);
  const room = uniqueRoom('slots-domains', test.info().workerIndex);
  const url = `${app.url}?room=${room}`;
  const tabs = [await openTab(context, url), await openTab(context, url), await openTab(context, url)];
  const pages = tabs.map((tab) => tab.page);
  await agreed(pages);
  const profile = (id: string): string => id.slice(id.lastIndexOf('~') + 1);
  const first = await tabStatus(pages[0]!);
  // Three slots of one profile: one domain, and status() says so.
  expect(new Set(first.voters.map(profile)).size).toBe(1);
  expect(first.votersShareDomain).toBe(true);

  const data = await mkdtemp(join(tmpdir(), 'meshkeeper-domains-'));
  const children: ChildProcessWithoutNullStreams[] = [];
  const other = await newProfile(browser);
  try {
    // An edge peer (a domain of its own) takes a vote from the profile.
    const edge = await startEdgePeer(['--relay', app.relayUrl, '--room', room, '--data', data], children);
    await expect(async () => {
      const status = await tabStatus(pages[0]!);
      expect(status.voters).toContain(edge.peerId);
      expect(status.voters).toHaveLength(3);
    }).toPass({ timeout: FORM_TIMEOUT_MS });
    expect((await tabStatus(pages[0]!)).votersShareDomain).toBe(true); // 2 domains for 3 voters
    // A tab of another profile (another device, to the ensemble) takes another: 3 domains.
    const stranger = await openTab(other, url);
    const strangerId = (await tabStatus(stranger.page)).peerId;
    await expect(async () => {
      for (const page of [...pages, stranger.page]) {
        const status = await tabStatus(page);
        expect(status.voters).toHaveLength(3);
        expect(status.voters).toContain(edge.peerId);
        expect(status.voters).toContain(strangerId);
        expect(status.votersShareDomain).toBe(false);
      }
    }).toPass({ timeout: FORM_TIMEOUT_MS });
    const spread = await tabStatus(stranger.page);
    console.log(`slots (domains): voters ${spread.voters.join(', ')} — ${new Set(spread.voters.map(profile)).size} failure domains`);
    // Writes still work through the spread voters.
    await pages[0]!.evaluate(() => window.keeper!.create('/spread', 'over three domains'));
    await expect(async () => expect(await stranger.page.evaluate(() => window.keeper!.sync('/').then(() => window.keeper!.exists('/spread')))).not.toBeNull()).toPass({ timeout: 10_000 });
    for (const tab of [...tabs, stranger]) expect(tab.errors).toEqual([]);
  } finally {
    await other.close();
    await killAll(children);
    await rm(data, { recursive: true, force: true });
  }
});
