// Closing the leader's tab hands leadership on at once (DESIGN.md "Sessions": pagehide closes the
// tab's sessions at once and, on a leader, transfers leadership first). Three tabs of the app form
// 3 voters; the leader tab holds an ephemeral znode; Playwright's page.close() fires pagehide, where
// the browser platform's hook (src/platform/leave-on-pagehide.ts → Peer.leaveNow) sends every
// member a leaving notice and the most caught-up voter TimeoutNow before the page goes.
// Asserted: the next leader is elected at the old term + 1 and known to another tab before the
// relay path could have started an election (it waits DEPARTURE_CONFIRM_MS after the relay reports
// the closed socket; an election timeout takes 2.5-5 s), a write from another tab succeeds within a
// second of the close, and the ephemeral is gone within that second too (not after a session
// timeout). Prints each figure.
import type { Page } from '@playwright/test';
import { DEPARTURE_CONFIRM_MS } from '../src/peer/constants.js';
import { expect, test } from './fixtures.js';
import { FORM_TIMEOUT_MS, openTabsInOwnProfiles, tabStatus, uniqueRoom, type OpenedTab } from './helpers.js';

/** The brief's bound for "leadership moved without an election timeout" (the shortest election
 *  timeout is 2.5 s): close → a write from another tab succeeded. */
const WRITE_AFTER_CLOSE_MAX_MS = 1000;
/** How long the survivors may take to agree on the new leader (generous: it is a status poll). */
const AGREE_MAX_MS = 5000;
const EPHEMERAL = '/handoff-ephemeral';

declare global {
  interface Window {
    /** Set by the spec's watch in a surviving tab: when the closed tab's ephemeral was deleted. */
    handoffGoneAt?: number;
    /** Set by the spec in a surviving tab: when it first heard of a leader other than the closed one. */
    handoffLeaderAt?: number;
  }
}

/** In the tab: creates `${prefix}-1`, `-2`, ... until one succeeds; resolves with the wall-clock
 *  time of the success and the attempts (each path fresh: a failed attempt's outcome is unknown). */
function writeUntilSuccess(page: Page, prefix: string, deadlineMs: number): Promise<{ ok: boolean; at: number; attempts: number; errors: string[] }> {
  return page.evaluate(
    async ({ prefix, deadlineMs }) => {
      const keeper = window.keeper!;
      const started = Date.now();
      const errors: string[] = [];
      for (let attempts = 1; Date.now() - started < deadlineMs; attempts++) {
        try {
          await keeper.create(`${prefix}-${attempts}`, 'after the hand-off');
          return { ok: true, at: Date.now(), attempts, errors };
        } catch (error) {
          if (errors.length < 5) errors.push(error instanceof Error ? error.message : String(error));
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
      return { ok: false, at: Date.now(), attempts: -1, errors };
    },
    { prefix, deadlineMs },
  );
}

test('closing the leader tab: TimeoutNow hands leadership on at term + 1, writes resume within a second, its ephemeral goes at once', async ({ browser, app }) => {
  test.setTimeout(120_000);
  const room = uniqueRoom('handoff', test.info().workerIndex);
  const tabs: OpenedTab[] = [];
  // A browser profile (context) per tab: the closed tab's identity leaves with it. (Tabs of one
  // profile adopt each other's slots — e2e/slots.spec.ts — and the adopting tab's work of
  // resuming that peer would be measured here too.)
  const opened = await openTabsInOwnProfiles(browser, `${app.url}?room=${room}`, 3);
  const contexts = opened.contexts;
  tabs.push(...opened.tabs);
  const pages = tabs.map((tab) => tab.page);
  const ids = await Promise.all(pages.map(async (page) => (await tabStatus(page)).peerId));
  await expect(async () => {
    const seen = await Promise.all(pages.map(tabStatus));
    for (const status of seen) {
      expect(status.voters).toHaveLength(3);
      expect(status.leaderId).toBe(seen[0]!.leaderId);
    }
    expect(seen.filter((status) => status.role === 'leader')).toHaveLength(1);
  }).toPass({ timeout: FORM_TIMEOUT_MS });
  const before = await tabStatus(pages[0]!);
  const oldLeader = before.leaderId!;
  const leaderTab = pages[ids.indexOf(oldLeader)]!;
  const survivors = pages.filter((page) => page !== leaderTab);
  const writer = survivors[0]!;

  // The leader tab's session holds an ephemeral; a surviving tab watches it.
  await leaderTab.evaluate((path) => window.keeper!.create(path, 'held by the leader tab', { mode: 'ephemeral' }), EPHEMERAL);
  await expect(async () => expect(await writer.evaluate((path) => window.keeper!.exists(path), EPHEMERAL)).not.toBeNull()).toPass({ timeout: 10_000 });
  await writer.evaluate((path) => window.keeper!.exists(path, { watch: () => void (window.handoffGoneAt = Date.now()) }), EPHEMERAL);
  // A write through the leader just before, so its log is busy as it closes.
  await writer.evaluate(() => window.keeper!.create('/before-handoff', 'x'));

  await writer.evaluate((oldLeader) => {
    window.keeper!.on('status', (status) => {
      if (status.leaderId !== null && status.leaderId !== oldLeader) window.handoffLeaderAt ??= Date.now();
    });
  }, oldLeader);
  const closedAt = Date.now();
  await leaderTab.close(); // fires pagehide
  const closeReturnedMs = Date.now() - closedAt;
  const write = await writeUntilSuccess(writer, '/after-handoff', 20_000);
  expect(write.ok, `a write after the close: ${write.errors.join(' | ')}`).toBe(true);
  const writeMs = write.at - closedAt;

  let after = await tabStatus(writer);
  await expect(async () => {
    const seen = await Promise.all(survivors.map(tabStatus));
    for (const status of seen) {
      expect(status.leaderId).not.toBeNull();
      expect(status.leaderId).not.toBe(oldLeader);
      expect(status.leaderId).toBe(seen[0]!.leaderId);
    }
    after = seen[0]!;
  }).toPass({ timeout: AGREE_MAX_MS });

  await expect(async () => expect(await writer.evaluate(() => window.handoffGoneAt ?? null)).not.toBeNull()).toPass({ timeout: 10_000 });
  const goneMs = (await writer.evaluate(() => window.handoffGoneAt!)) - closedAt;
  const leaderMs = (await writer.evaluate(() => window.handoffLeaderAt ?? Number.NaN)) - closedAt;
  console.log(
    `[handoff] leader tab closed (page.close returned after ${closeReturnedMs} ms): term ${before.term} → ${after.term}, new leader ${after.leaderId}, known in another tab ${leaderMs} ms after the close; ` +
      `a write from another tab succeeded ${writeMs} ms after the close (${write.attempts} attempt(s)${write.errors.length > 0 ? `; failed first: ${write.errors.join(' | ')}` : ''}); ` +
      `the closed tab's ephemeral was deleted ${goneMs} ms after the close`,
  );
  // One election round started by TimeoutNow: exactly one term more (a timeout-driven election
  // after PreVote would also be +1, but only after 2.5-5 s, which the bounds below exclude).
  expect(after.term).toBe(before.term + 1);
  // Elected before the relay path could even start one: that path campaigns only
  // DEPARTURE_CONFIRM_MS after the relay reports the closed socket (Peer.roomChanged).
  expect(leaderMs).toBeLessThan(DEPARTURE_CONFIRM_MS);
  expect(writeMs).toBeLessThan(WRITE_AFTER_CLOSE_MAX_MS);
  // At once: one commit of the new leader, not a session timeout (the app's default is 10 s+).
  expect(goneMs).toBeLessThan(WRITE_AFTER_CLOSE_MAX_MS);
  expect(await writer.evaluate((path) => window.keeper!.exists(path), EPHEMERAL)).toBeNull();
  for (const tab of tabs) if (tab.page !== leaderTab) expect(tab.errors).toEqual([]);
  for (const context of contexts) await context.close();
});
