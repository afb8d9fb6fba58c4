// Failover and watches across tabs (issue 5, "Show"), in Debian Chromium over real WebRTC:
// - five tabs, each its own browser profile (a context each: DESIGN.md — tabs of one profile adopt
//   each other's slots, so membership changes are tested across profiles), settle as 3 voters + 2
//   observers; closing the leader's tab (pagehide → the peer leaves) gives a new leader that every
//   remaining tab agrees on, writes resume, and an observer is promoted at once (not after
//   VOTER_UNREACHABLE_MS of silence), so 3 voters again;
// - a watch set in one tab fires on a write made in another (one-shot data and child watches fire
//   once, a persistent watch on every change), and the event comes before a read that shows it.
// Prints the connect time (goto → session connected), write latency and failover time (close →
// a write from a surviving tab succeeds); the README quotes them.
import type { Page } from '@playwright/test';
import type { KeeperStatus } from '../src/client/index.js';
import { VOTER_UNREACHABLE_MS } from '../src/peer/constants.js';
import { test, expect } from './fixtures.js';
import { createUntilSuccess, FORM_TIMEOUT_MS, formatMs, median, openTab, openTabsInOwnProfiles, tabStatus, uniqueRoom, type OpenedTab } from './helpers.js';

/** A graceful leave must put an observer in the closed leader's place well before a silent voter
 *  would be demoted: half of VOTER_UNREACHABLE_MS separates the two paths with room to spare. */
const REPLACEMENT_AFTER_CLOSE_MS = VOTER_UNREACHABLE_MS / 2;
/** Writes from a surviving tab must succeed within this of the close: the departed leader's
 *  successor campaigns at once (under a second), or at worst after an election timeout (2.5-5 s);
 *  a write in flight at the change fails first (CONNECTIONLOSS) and is retried. */
const WRITE_AFTER_CLOSE_MS = 20_000;
/** Writes timed for the latency figure. */
const LATENCY_WRITES = 20;

function statuses(pages: readonly Page[]): Promise<KeeperStatus[]> {
  return Promise.all(pages.map(tabStatus));
}

/** In the tab: `count` creates one after the other, each timed (ms). */
function timedCreates(page: Page, prefix: string, count: number): Promise<number[]> {
  return page.evaluate(async ({ prefix, count }) => {
    const keeper = window.keeper!;
    const times: number[] = [];
    for (let i = 0; i < count; i++) {
      const started = performance.now();
      await keeper.create(`${prefix}-${i}`, `value ${i}`);
      times.push(performance.now() - started);
    }
    return times;
  }, { prefix, count });
}

test('5 tabs with 3 voters and 2 observers: closing the leader tab gives a new leader, writes resume, an observer is promoted', async ({ browser, app }) => {
  test.setTimeout(180_000);
  const room = uniqueRoom('failover', test.info().workerIndex);
  const { tabs, contexts } = await openTabsInOwnProfiles(browser, `${app.url}?room=${room}`, 5);
  const pages = tabs.map((tab) => tab.page);

  // Settled: every tab sees the same leader, 3 voters and 2 observers, all five ids accounted for.
  const ids = await Promise.all(pages.map(async (page) => (await tabStatus(page)).peerId));
  await expect(async () => {
    const seen = await statuses(pages);
    for (const status of seen) {
      expect(status.voters).toHaveLength(3);
      expect(status.observers).toHaveLength(2);
      expect([...status.voters, ...status.observers].sort()).toEqual([...ids].sort());
      expect(status.leaderId).toBe(seen[0]!.leaderId);
    }
    expect(seen.filter((status) => status.role === 'leader')).toHaveLength(1);
  }).toPass({ timeout: FORM_TIMEOUT_MS });
  const before = await tabStatus(pages[0]!);
  const oldLeader = before.leaderId!;
  const oldObservers = before.observers;
  const leaderTab = pages[ids.indexOf(oldLeader)]!;
  const survivors = pages.filter((page) => page !== leaderTab);
  const follower = pages[ids.indexOf(before.voters.find((id) => id !== oldLeader)!)]!;

  // Write latency, from a follower (forwarded to the leader, committed by a majority, applied).
  const latencies = await timedCreates(follower, '/latency', LATENCY_WRITES);
  await follower.evaluate(() => window.keeper!.create('/before-failover', 'written before the leader left'));

  // Close the leader's tab (Playwright's close fires pagehide) and write from a surviving observer.
  const writer = pages[ids.indexOf(oldObservers[0]!)]!;
  const closed = performance.now();
  await leaderTab.close();
  const resumed = await createUntilSuccess(writer, '/after-failover', WRITE_AFTER_CLOSE_MS);
  const failoverMs = performance.now() - closed;
  expect(resumed.ok, `a write after the leader left: ${resumed.detail} after ${resumed.attempts} attempts`).toBe(true);

  // Every remaining tab agrees on a new leader among them, the old leader is gone from the
  // configuration, and one of the two observers has been promoted: 3 voters + 1 observer again.
  await expect(async () => {
    const seen = await statuses(survivors);
    const leader = seen[0]!.leaderId;
    expect(leader).not.toBeNull();
    expect(leader).not.toBe(oldLeader);
    for (const status of seen) {
      expect(status.leaderId).toBe(leader);
      expect(status.voters).toHaveLength(3);
      expect(status.voters).toContain(leader);
      expect(status.voters).not.toContain(oldLeader);
      expect(status.observers).not.toContain(oldLeader);
      expect(status.observers).toHaveLength(1);
      expect(status.voters.filter((id) => oldObservers.includes(id))).toHaveLength(1);
    }
    expect(seen.filter((status) => status.role === 'leader')).toHaveLength(1);
  }).toPass({ timeout: Math.max(1, REPLACEMENT_AFTER_CLOSE_MS - (performance.now() - closed)) });
  const replacedMs = performance.now() - closed;

  // Nothing acknowledged was lost, and every surviving tab reads both writes after sync.
  for (const page of survivors) {
    const read = await page.evaluate(async (created) => {
      await window.keeper!.sync('/');
      const decoder = new TextDecoder();
      return [decoder.decode((await window.keeper!.getData('/before-failover')).data), decoder.decode((await window.keeper!.getData(created)).data)];
    }, resumed.detail);
    expect(read).toEqual(['written before the leader left', 'written after a fault']);
  }
  for (const tab of tabs) if (tab.page !== leaderTab) expect(tab.errors).toEqual([]);

  const connect = tabs.map((tab) => tab.connectMs);
  console.log(`[failover] connect (goto → session connected): first tab ${formatMs(connect[0]!)}, tabs 2-5 ${connect.slice(1).map(formatMs).join(', ')}`);
  console.log(`[failover] write latency from a follower tab: first ${formatMs(latencies[0]!)}, median of ${LATENCY_WRITES} ${formatMs(median(latencies))}, max ${formatMs(Math.max(...latencies))}`);
  console.log(`[failover] leader tab closed → write from an observer tab succeeded: ${formatMs(failoverMs)} (${resumed.attempts} attempt(s)${resumed.failures.length > 0 ? `; failed first: ${resumed.failures.join('; ')}` : ''}); → 3 voters again, agreed by all 4 tabs: ${formatMs(replacedMs)}`);
  for (const context of contexts) await context.close();
});

test('a watch set in one tab fires on a write from another tab', async ({ context, app }) => {
  test.setTimeout(120_000);
  const room = uniqueRoom('watch', test.info().workerIndex);
  const tabs: OpenedTab[] = [];
  for (let i = 0; i < 3; i++) tabs.push(await openTab(context, `${app.url}?room=${room}`));
  const [watcher, writer, childWatcher] = tabs.map((tab) => tab.page) as [Page, Page, Page];
  for (const page of [watcher, writer, childWatcher]) {
    await expect(async () => expect((await tabStatus(page)).voters).toHaveLength(3)).toPass({ timeout: FORM_TIMEOUT_MS });
  }

  await writer.evaluate(() => window.keeper!.create('/watched', 'v1'));
  // Tab A: a one-shot data watch and a persistent watch on /watched. Tab C: a one-shot child
  // watch on /. Events are kept in the page, in arrival order.
  await watcher.evaluate(async () => {
    const keeper = window.keeper!;
    const events: string[] = [];
    (window as unknown as { events: string[] }).events = events;
    await keeper.sync('/');
    const { data } = await keeper.getData('/watched', { watch: (e) => events.push(`once ${e.type} ${e.path}`) });
    if (new TextDecoder().decode(data) !== 'v1') throw new Error('the watcher tab did not see v1 after sync');
    await keeper.addWatch('/watched', 'persistent', (e) => events.push(`persistent ${e.type} ${e.path}`));
  });
  await childWatcher.evaluate(async () => {
    const keeper = window.keeper!;
    const events: string[] = [];
    (window as unknown as { events: string[] }).events = events;
    await keeper.sync('/');
    await keeper.getChildren('/', { watch: (e) => events.push(`once ${e.type} ${e.path}`) });
  });

  // Tab B writes twice and creates a node under /.
  await writer.evaluate(async () => {
    await window.keeper!.setData('/watched', 'v2');
    await window.keeper!.setData('/watched', 'v3');
    await window.keeper!.create('/watched-sibling', '');
  });

  // A watcher sees its event before any later read that reflects the change: tab A reads until it
  // sees v3 and notes what had fired by then.
  const seenAtRead = await watcher.evaluate(async () => {
    const events = (window as unknown as { events: string[] }).events;
    const decoder = new TextDecoder();
    const started = performance.now();
    while (performance.now() - started < 10_000) {
      const { data } = await window.keeper!.getData('/watched');
      if (decoder.decode(data) === 'v3') return [...events];
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error('tab A never read v3');
  });
  expect(seenAtRead).toEqual(['once NodeDataChanged /watched', 'persistent NodeDataChanged /watched', 'persistent NodeDataChanged /watched']);
  await expect.poll(() => childWatcher.evaluate(() => (window as unknown as { events: string[] }).events), { timeout: 10_000 })
    .toEqual(['once NodeChildrenChanged /']);

  // One-shot means once: after a sync and another change, tab A has only one more persistent event.
  await writer.evaluate(() => window.keeper!.setData('/watched', 'v4'));
  await expect.poll(() => watcher.evaluate(() => (window as unknown as { events: string[] }).events.length), { timeout: 10_000 }).toBe(4);
  const final = await watcher.evaluate(async () => {
    await window.keeper!.sync('/');
    return (window as unknown as { events: string[] }).events;
  });
  expect(final.slice(3)).toEqual(['persistent NodeDataChanged /watched']);
  for (const tab of tabs) expect(tab.errors).toEqual([]);
});
