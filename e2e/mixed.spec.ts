// A mixed ensemble (issue 5, "Show"): two Node edge peers (`meshkeeper peer`, separate processes,
// file storage in a temp folder) and two tabs. The edge peers come first, so the voters are both
// edge peers and the first tab; the second tab observes.
// 1. kill -9 of an edge voter (the leader when an edge peer leads): writes go on. Its relay socket
//    closed, so the leader treats it as departed (docs/architecture.md, "Departures") and the
//    observer tab takes its vote.
// 2. Restarted with the same --data it is the same peer (same id) resuming its replica from its
//    files; it rejoins and replicates what it missed.
// 3. Catch-up, proven three ways: kill -9 the other edge voter and the leader promotes the
//    restarted peer (only a learner within PROMOTION_LAG_ENTRIES_MAX of the leader's log is
//    promoted); close the first tab, leaving the voters {second tab, restarted peer}, and a write
//    still commits, which needs the restarted peer's acknowledgement (Raft acknowledges an append
//    only from a log that matches the leader's up to it); kill -9 it and its files on disk hold
//    every write made while it was down.
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { test, expect } from './fixtures.js';
import {
  createUntilSuccess, FORM_TIMEOUT_MS, formatMs, kill, killAll, loadStoppedReplica, openTabsInOwnProfiles, replicaMentions, startEdgePeer, tabStatus,
  uniqueRoom,
} from './helpers.js';

/** After a voter crash the rest must commit again within an election or two. */
const WRITE_AFTER_CRASH_MS = 20_000;
/** Writes made while the crashed edge peer is down (it must have every one after catching up). */
const WRITES_WHILE_DOWN = 5;

async function expectMembers(pages: readonly Page[], voters: readonly string[], observers: readonly string[]): Promise<void> {
  await expect(async () => {
    for (const page of pages) {
      const status = await tabStatus(page);
      expect([...status.voters].sort()).toEqual([...voters].sort());
      expect([...status.observers].sort()).toEqual([...observers].sort());
      expect(status.leaderId).not.toBeNull();
    }
  }).toPass({ timeout: FORM_TIMEOUT_MS });
}

/** Every tab in `pages` sees exactly `voters` and a leader among them. */
async function expectVoters(pages: readonly Page[], voters: readonly string[]): Promise<void> {
  await expect(async () => {
    for (const page of pages) {
      const status = await tabStatus(page);
      expect([...status.voters].sort()).toEqual([...voters].sort());
      expect(voters).toContain(status.leaderId);
    }
  }).toPass({ timeout: FORM_TIMEOUT_MS });
}

test('mixed ensemble: kill -9 an edge voter, progress continues; restarted with the same --data it catches up from its files', async ({ browser, app }) => {
  test.setTimeout(240_000);
  const room = uniqueRoom('mixed', test.info().workerIndex);
  const data = await mkdtemp(join(tmpdir(), 'meshkeeper-mixed-e2e-'));
  const children: ChildProcessWithoutNullStreams[] = [];
  const edgeArgs = (name: string): string[] => ['--relay', app.relayUrl, '--room', room, '--data', join(data, name)];
  try {
    const first = await startEdgePeer(edgeArgs('a'), children);
    const second = await startEdgePeer(edgeArgs('b'), children);
    expect(first.folder).toBe(join(data, 'a', room));
    // Each tab its own profile (context): tabs of one profile adopt each other's slots, and this
    // test needs closing the first tab to take its vote away.
    const { tabs } = await openTabsInOwnProfiles(browser, `${app.url}?room=${room}`, 2);
    const [voterTab, observerTab] = tabs.map((tab) => tab.page) as [Page, Page];
    const tabIds = await Promise.all([voterTab, observerTab].map(async (page) => (await tabStatus(page)).peerId));
    // The first tab made three members, so both learners were promoted; the second tab observes.
    await expectMembers([voterTab, observerTab], [first.peerId, second.peerId, tabIds[0]!], [tabIds[1]!]);

    await observerTab.evaluate(() => window.keeper!.create('/mixed', 'before the crash'));

    // 1. kill -9 an edge voter: the leader if an edge peer leads, else the first edge peer.
    const leaderBefore = (await tabStatus(voterTab)).leaderId;
    const [crashed, other] = leaderBefore === second.peerId ? [second, first] : [first, second];
    const crashedAt = performance.now();
    await kill(crashed.child, 'SIGKILL');
    const resumed = await createUntilSuccess(observerTab, '/mixed/after-crash', WRITE_AFTER_CRASH_MS);
    const progressMs = performance.now() - crashedAt;
    expect(resumed.ok, `a write after kill -9 of ${crashed.peerId}: ${resumed.detail}`).toBe(true);
    const whileDown: string[] = [resumed.detail];
    for (let i = 0; i < WRITES_WHILE_DOWN; i++) {
      whileDown.push(await observerTab.evaluate((i) => window.keeper!.create(`/mixed/while-down-${i}`, `written while the edge peer was down (${i})`), i));
    }
    await expectVoters([voterTab, observerTab], [other.peerId, ...tabIds]);
    const replacedMs = performance.now() - crashedAt;

    // 2. Restart it on the same folder: the same peer, back in the configuration as a learner.
    const restarted = await startEdgePeer(edgeArgs(crashed === first ? 'a' : 'b'), children);
    expect(restarted.peerId).toBe(crashed.peerId);
    expect(restarted.folder).toBe(crashed.folder);
    await expect(async () => expect((await tabStatus(voterTab)).observers).toContain(restarted.peerId)).toPass({ timeout: FORM_TIMEOUT_MS });

    // 3a. kill -9 the other edge voter: the restarted peer, caught up, is promoted in its place.
    await kill(other.child, 'SIGKILL');
    await expectVoters([voterTab, observerTab], [restarted.peerId, ...tabIds]);

    // 3b. Close the first tab (it leaves): the voters are {second tab, restarted peer}, so a write
    //     commits only if the restarted peer's log holds everything before it.
    await voterTab.close();
    await expectVoters([observerTab], [restarted.peerId, tabIds[1]!]);
    const needsIt = await createUntilSuccess(observerTab, '/mixed/needs-the-restarted-peer', WRITE_AFTER_CRASH_MS);
    expect(needsIt.ok, `a write that needs ${restarted.peerId}: ${needsIt.detail}`).toBe(true);
    const afterWrite = await tabStatus(observerTab);
    expect([...afterWrite.voters].sort(), 'the configuration the write committed under').toEqual([restarted.peerId, tabIds[1]!].sort());

    // 3c. On its disk: kill -9 it, then load its replica as its next restart would.
    await kill(restarted.child, 'SIGKILL');
    const replica = await loadStoppedReplica(restarted.folder);
    for (const path of ['/mixed', ...whileDown, needsIt.detail]) {
      expect(replicaMentions(replica, path), `${restarted.peerId}'s files hold ${path}`).toBe(true);
    }
    expect(replicaMentions(replica, '/mixed/never-written'), 'the file check can fail').toBe(false);
    console.log(`[mixed] kill -9 of edge voter ${crashed.peerId} (${leaderBefore === crashed.peerId ? 'the leader' : 'a follower'}) → a tab's write succeeded: ${formatMs(progressMs)}; → observer tab promoted in its place: ${formatMs(replacedMs)}`);
    for (const tab of tabs) expect(tab.errors).toEqual([]);
  } finally {
    await killAll(children);
    await rm(data, { recursive: true, force: true });
  }
});
