// The nemesis of meshkeeper/testing/playwright on real tabs (issue 6, Show 3 and 4), one browser
// context per tab (so a tab's fault never touches another's renderer):
// - Show 3: a tab's ephemeral znode vanishes at once when the tab closes (pagehide closes its
//   session through the log), and after its session timeout when the tab is frozen (CDP
//   Debugger.pause: the tab stops pinging; the leader expires the session).
// - Show 4: freezing the leader tab gives a new leader among the others, which accepts writes;
//   resumed, the old leader steps down to the new term, its own writes either fail or go through
//   the new leader (and are then on every replica), and the status of every tab, polled all along,
//   never shows two leaders in one term.
// Prints the times (the README quotes them).
import type { Page } from '@playwright/test';
import { SESSION_TICK_MS } from '../src/peer/constants.js';
import { expect, type TabPeer } from '../src/testing/playwright.js';
import { ensembleTest as test, formatMs } from './helpers.js';

/** Show 3's session timeout (ZooKeeper's minimum is 2 session ticks = 4 s). */
const SHOW3_SESSION_TIMEOUT_MS = 4_000;
/** A closed tab's ephemeral must be gone within this ("at once": no failure detector involved). */
const CLOSE_EPHEMERAL_GONE_MS = 1_000;
/** A frozen tab's ephemeral goes after its session timeout: not before the timeout less one session
 *  tick (its last ping may be that old), and within a few ticks after it (the leader checks
 *  expiry once per tick, then commits the closeSession). */
const FREEZE_EPHEMERAL_GONE_MIN_MS = SHOW3_SESSION_TIMEOUT_MS - SESSION_TICK_MS;
const FREEZE_EPHEMERAL_GONE_MAX_MS = SHOW3_SESSION_TIMEOUT_MS + 3 * SESSION_TICK_MS;
/** A new leader among the unfrozen tabs within this of the freeze (election timeout 2.5-5 s, a
 *  split vote or two, on a loaded machine). */
const NEW_LEADER_MS = 20_000;
/** Resumed, the old leader must step down within this (it hears the new leader's next heartbeat). */
const STEP_DOWN_MS = 10_000;
/** Writes from the tabs that remain, while the leader is frozen. */
const WRITES_DURING_FREEZE = 5;

/** In `watcher`: arms a one-shot exists watch on `path` that notes when NodeDeleted arrives. */
async function armDeletionWatch(watcher: Page, path: string): Promise<void> {
  const present = await watcher.evaluate(async (path) => {
    const seen = ((window as unknown as { deletedAt?: Record<string, number> }).deletedAt ??= {});
    await window.keeper!.sync('/');
    const stat = await window.keeper!.exists(path, {
      watch: (event) => {
        if (event.type === 'NodeDeleted') seen[event.path] = performance.now();
      },
    });
    return stat !== null;
  }, path);
  expect(present, `${path} exists before the fault`).toBe(true);
}

/** Resolves when the watcher has seen `path` deleted. */
function deletionSeen(watcher: Page, path: string, timeoutMs: number): Promise<unknown> {
  return watcher.waitForFunction((path) => (window as unknown as { deletedAt?: Record<string, number> }).deletedAt?.[path] !== undefined, path, { timeout: timeoutMs, polling: 10 });
}

function createEphemeral(tab: TabPeer, path: string): Promise<string> {
  return tab.page.evaluate((path) => window.keeper!.create(path, 'mine while my session lives', { mode: 'ephemeral' }), path);
}

test.describe('Show 3: ephemerals', () => {
  test.use({ ensembleConfig: { sessionTimeoutMs: SHOW3_SESSION_TIMEOUT_MS } });

  test('a tab\'s ephemeral vanishes at once when it closes, and after its session timeout when it freezes', async ({ ensemble }) => {
    test.setTimeout(150_000);
    const tabs = await ensemble.addTabs(4, { placement: 'context-per-tab' });
    const { leaderId, voters, observers } = await ensemble.waitForLeader({ voters: 3 });
    expect(observers).toHaveLength(1);
    const leaderTab = tabs.find((tab) => tab.peerId === leaderId)!;
    const closer = tabs.find((tab) => tab.peerId === observers[0])!;
    const freezer = tabs.find((tab) => tab.peerId !== leaderId && voters.includes(tab.peerId))!;
    const watcher = leaderTab.page;
    expect(await freezer.page.evaluate(() => window.keeper!.sessionTimeoutMs)).toBe(SHOW3_SESSION_TIMEOUT_MS);

    await createEphemeral(closer, '/eph-closed');
    await createEphemeral(freezer, '/eph-frozen');
    await armDeletionWatch(watcher, '/eph-closed');
    await armDeletionWatch(watcher, '/eph-frozen');

    // Close (an observer's tab): pagehide closes its session through the log, at once.
    const closedAt = performance.now();
    const closedGone = deletionSeen(watcher, '/eph-closed', CLOSE_EPHEMERAL_GONE_MS * 10);
    await ensemble.nemesis.close(closer);
    await closedGone;
    const closeMs = performance.now() - closedAt;

    // Freeze (a follower voter's tab): its session expires after the timeout; the other two voters
    // are a majority, so the leader's closeSession commits.
    const frozenAt = performance.now();
    await ensemble.nemesis.freeze(freezer);
    let freezeMs: number;
    try {
      await deletionSeen(watcher, '/eph-frozen', FREEZE_EPHEMERAL_GONE_MAX_MS * 3);
      freezeMs = performance.now() - frozenAt;
      // Still gone for every running tab, after sync.
      for (const tab of ensemble.tabs('running')) {
        expect(await tab.page.evaluate(async () => {
          await window.keeper!.sync('/');
          return [await window.keeper!.exists('/eph-closed'), await window.keeper!.exists('/eph-frozen')];
        })).toEqual([null, null]);
      }
    } finally {
      await ensemble.nemesis.resume(freezer);
    }
    // Resumed, the frozen tab learns its session expired.
    await expect.poll(() => freezer.page.evaluate(() => window.keeper!.state), { timeout: 15_000 }).toBe('expired');

    console.log(`[nemesis] ephemeral gone after page.close(): ${formatMs(closeMs)}; after Debugger.pause: ${formatMs(freezeMs)} (session timeout ${SHOW3_SESSION_TIMEOUT_MS} ms, session tick ${SESSION_TICK_MS} ms)`);
    expect(closeMs).toBeLessThan(CLOSE_EPHEMERAL_GONE_MS);
    expect(freezeMs).toBeGreaterThanOrEqual(FREEZE_EPHEMERAL_GONE_MIN_MS);
    expect(freezeMs).toBeLessThan(FREEZE_EPHEMERAL_GONE_MAX_MS);
    for (const tab of [leaderTab, ...tabs.filter((tab) => tab !== closer && tab !== freezer && tab !== leaderTab)]) expect(tab.errors).toEqual([]);
  });
});

test('Show 4: freezing the leader tab elects another; resumed, it steps down and never leads a term twice', async ({ ensemble }) => {
  test.setTimeout(150_000);
  const tabs = await ensemble.addTabs(3, { placement: 'context-per-tab' });
  const before = await ensemble.waitForLeader({ voters: 3 });
  const oldLeader = before.leader as TabPeer;
  expect(oldLeader.kind).toBe('tab');
  const survivors = tabs.filter((tab) => tab !== oldLeader);
  await oldLeader.page.evaluate(() => window.keeper!.create('/before-freeze', 'written by the old leader'));

  const leadership = ensemble.recordLeadership();
  const frozenAt = performance.now();
  await ensemble.nemesis.freeze(oldLeader);
  let resumed = false;
  try {
    // The two others elect a leader among themselves, in a higher term, and it accepts writes.
    const after = await ensemble.waitForLeader({ tabs: survivors, notLeader: oldLeader.peerId, timeoutMs: NEW_LEADER_MS });
    const electedMs = performance.now() - frozenAt;
    expect(after.term).toBeGreaterThan(before.term);
    for (let i = 0; i < WRITES_DURING_FREEZE; i++) {
      await survivors[i % survivors.length]!.page.evaluate((i) => window.keeper!.create(`/during-freeze-${i}`, `written while the old leader was frozen (${i})`), i);
    }
    const writtenMs = performance.now() - frozenAt;

    // A write issued in the frozen tab (it runs when the tab's main thread does), then resume.
    const pendingWrite = oldLeader.page.evaluate(() => {
      const calledAt = Date.now();
      return window.keeper!.create('/from-old-leader-1', 'queued while frozen').then(
        (path) => ({ ok: true, detail: path, calledAt }),
        (error: Error & { code?: string }) => ({ ok: false, detail: `${error.code ?? error.name}: ${error.message}`, calledAt }));
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const resumedAt = performance.now();
    const resumedAtWall = Date.now();
    await ensemble.nemesis.resume(oldLeader);
    resumed = true;
    const afterResumeWrite = await oldLeader.page.evaluate(() => window.keeper!.create('/from-old-leader-2', 'written right after resume').then((path) => ({ ok: true, detail: path }), (error: Error & { code?: string }) => ({ ok: false, detail: `${error.code ?? error.name}: ${error.message}` })));
    const queuedWrite = await pendingWrite;

    // The old leader steps down: a follower (or observer) of the new term, naming the new leader.
    await expect(async () => {
      const status = await oldLeader.page.evaluate(() => window.keeper!.status());
      expect(status.role).not.toBe('leader');
      expect(status.role).not.toBe('candidate');
      expect(status.term).toBeGreaterThanOrEqual(after.term);
      expect(status.leaderId).not.toBe(oldLeader.peerId);
      expect(status.leaderId).not.toBeNull();
    }).toPass({ timeout: STEP_DOWN_MS });
    const steppedDownMs = performance.now() - resumedAt;
    const final = await ensemble.waitForLeader({ voters: 3 });
    expect(final.leaderId).not.toBe(oldLeader.peerId);

    // Writes from the old leader's tab either failed, or went through the new leader: then every
    // replica has them. Every tab has what the survivors wrote.
    for (const tab of tabs) {
      const seen = await tab.page.evaluate(async (count) => {
        await window.keeper!.sync('/');
        const paths = ['/before-freeze', '/from-old-leader-1', '/from-old-leader-2', ...Array.from({ length: count }, (_, i) => `/during-freeze-${i}`)];
        return Promise.all(paths.map(async (path) => [path, (await window.keeper!.exists(path)) !== null] as const));
      }, WRITES_DURING_FREEZE);
      for (const [path, present] of seen) {
        if (path === '/from-old-leader-1') expect(present, `${tab.name}: ${path} (write ${queuedWrite.detail})`).toBe(queuedWrite.ok);
        else if (path === '/from-old-leader-2') expect(present, `${tab.name}: ${path} (write ${afterResumeWrite.detail})`).toBe(afterResumeWrite.ok);
        else expect(present, `${tab.name}: ${path}`).toBe(true);
      }
    }

    const log = await leadership.stop();
    const terms = [...log.leadersByTerm].sort(([a], [b]) => a - b).map(([term, leaders]) => `${term}:${leaders.join('+')}`).join(' ');
    console.log(`[nemesis] leader frozen → new leader agreed by the other 2 tabs: ${formatMs(electedMs)} (term ${before.term} → ${after.term}); ${WRITES_DURING_FREEZE} writes done ${formatMs(writtenMs)} after the freeze; resumed → stepped down: ${formatMs(steppedDownMs)}`);
    const ranWhileFrozen = queuedWrite.calledAt < resumedAtWall;
    console.log(`[nemesis] old leader's writes: issued while frozen (its create() ${ranWhileFrozen ? 'ran while the page was paused' : 'ran only after resume'}) → ${queuedWrite.ok ? 'ok' : 'failed'} (${queuedWrite.detail}); right after resume → ${afterResumeWrite.ok ? 'ok' : 'failed'} (${afterResumeWrite.detail})`);
    console.log(`[nemesis] ${log.observations.length} status observations; leaders by term: ${terms}`);
    expect(log.conflicts, 'two leaders in one term').toEqual([]);
    expect(log.leadersByTerm.get(before.term) ?? [oldLeader.peerId]).toEqual([oldLeader.peerId]);
    for (const tab of survivors) expect(tab.errors).toEqual([]);
  } finally {
    if (!resumed) await ensemble.nemesis.resume(oldLeader).catch(() => undefined);
  }
});
