// Admission and the relay's role (issue 5, "Show"; DESIGN.md "Transport and relay"):
// - a peer with the wrong room secret is never admitted: two `meshkeeper peer` processes with the
//   right secret form the room, a process and an in-process peer with a wrong secret sit in the
//   same relay room and keep asking to join, while a later peer with the right secret is admitted
//   and promoted; the wrong ones never appear in the configuration, never learn of a leader or an
//   entry, and never get a session;
// - the relay is only for meeting: with it gone, the tabs' data channels carry on (a write in one
//   tab is read in another); started again on the same port, the tabs re-register and a new tab
//   joins the room and reads what was written during the outage.
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import type { Page } from '@playwright/test';
import { Keeper } from '../src/node.js';
import { hostOnPeer } from '../src/client/network.js';
import { planJoin, type NetworkPlan } from '../src/client/options.js';
import { startNodePeer, type NodePeer } from '../src/platform/node.js';
import { LEADER_SILENCE_MS, RAFT_TICK_MS } from '../src/peer/constants.js';
import { startRelay, type StandaloneRelay } from '../src/relay/server.js';
import { test, expect } from './fixtures.js';
import { FORM_TIMEOUT_MS, formatMs, freePort, killAll, openTab, startEdgePeer, tabStatus, uniqueRoom, type OpenedTab } from './helpers.js';

const RIGHT_SECRET = 'the right room secret';
const WRONG_SECRET = 'a wrong room secret';
/** How many JOINs (one per JOIN_RETRY_MS) the wrong-secret peer sends while we watch: a right
 *  peer is admitted and joined well within this many (it takes about one). */
const WRONG_JOIN_ATTEMPTS_WATCHED = 8;
/** The relay stays down longer than the longest randomized election timeout (10-20 ticks, i.e. up
 *  to twice LEADER_SILENCE_MS) plus a heartbeat, so channels that depended on it would show as an
 *  election (or the leader stepping down by CheckQuorum). */
const RELAY_OUTAGE_MS = 2 * LEADER_SILENCE_MS + RAFT_TICK_MS;
/** How often the watch looks at every peer's view. */
const WATCH_INTERVAL_MS = 100;

function networkPlan(relay: string, room: string, secret: string): NetworkPlan {
  const plan = planJoin({ relay, room, secret, storage: 'memory' });
  if (plan.kind !== 'network') throw new Error('expected a network plan');
  return plan;
}

test('a peer with the wrong secret is never admitted', async () => {
  test.setTimeout(120_000);
  const relay = await startRelay({ host: '127.0.0.1', port: 0 });
  const room = uniqueRoom('admission', test.info().workerIndex);
  const children: ChildProcessWithoutNullStreams[] = [];
  const inProcess: NodePeer[] = [];
  const keepers: Keeper[] = [];
  const edgeArgs = (secret: string): string[] => ['--relay', relay.url, '--room', room, '--memory', '--secret', secret];
  try {
    const good1 = await startEdgePeer(edgeArgs(RIGHT_SECRET), children);
    const good2 = await startEdgePeer(edgeArgs(RIGHT_SECRET), children);
    const bad1 = await startEdgePeer(edgeArgs(WRONG_SECRET), children);
    const badPlan = networkPlan(relay.url, room, WRONG_SECRET);
    const bad2 = await startNodePeer(badPlan);
    inProcess.push(bad2);
    let badSession: { ok: true } | { ok: false; error: string } | null = null;
    void Keeper.open(hostOnPeer(bad2), badPlan).then(
      (keeper) => {
        keepers.push(keeper);
        badSession = { ok: true };
      },
      (error: unknown) => {
        badSession = { ok: false, error: String(error) };
      },
    );
    const bad = [bad1.peerId, bad2.status().peerId];

    // A peer with the right secret, arriving after the wrong ones, is admitted and promoted.
    const goodPlan = networkPlan(relay.url, room, RIGHT_SECRET);
    const good3 = await startNodePeer(goodPlan);
    inProcess.push(good3);
    const good = [good1.peerId, good2.peerId, good3.status().peerId];
    await expect.poll(() => [...good3.status().voters].sort(), { timeout: FORM_TIMEOUT_MS }).toEqual([...good].sort());

    // Watch every view until the wrong-secret peer has asked to join many times over.
    const sightings: string[] = [];
    let roomPeersMax = 0;
    const watchStarted = performance.now();
    while (bad2.status().counters.joinRequests < WRONG_JOIN_ATTEMPTS_WATCHED) {
      expect(performance.now() - watchStarted, 'the wrong-secret peer keeps asking to join').toBeLessThan(FORM_TIMEOUT_MS);
      const seen = good3.status();
      for (const id of bad) if (seen.voters.includes(id) || seen.observers.includes(id)) sightings.push(`${id} in ${JSON.stringify(seen)}`);
      const own = bad2.status();
      if (own.leaderId !== null || own.voters.length > 0 || own.commitIndex > 0) sightings.push(`wrong-secret peer's view: ${JSON.stringify(own)}`);
      if (badSession !== null && (badSession as { ok: boolean }).ok) sightings.push('the wrong-secret peer got a session');
      roomPeersMax = Math.max(roomPeersMax, relay.stats().peers);
      await new Promise((resolve) => setTimeout(resolve, WATCH_INTERVAL_MS));
    }
    expect(sightings).toEqual([]);
    expect(roomPeersMax, 'every peer, wrong secrets included, was in the relay room').toBe(good.length + bad.length);
    expect(bad1.child.exitCode, 'the wrong-secret process still runs (it keeps trying)').toBeNull();

    // The admitted peers work: a session on the late good peer writes, and the write commits.
    const keeper = await Keeper.open(hostOnPeer(good3), goodPlan);
    keepers.push(keeper);
    await keeper.create('/admitted', 'only peers with the secret');
    const after = good3.status();
    expect([...after.voters, ...after.observers].filter((id) => bad.includes(id))).toEqual([]);
    expect(bad2.status().appliedIndex, 'the wrong-secret peer never received an entry').toBe(0);
    expect(badSession === null || !(badSession as { ok: boolean }).ok, `the wrong-secret session: ${JSON.stringify(badSession)}`).toBe(true);
  } finally {
    for (const keeper of keepers) await keeper.close().catch(() => undefined);
    await Promise.all(inProcess.map((peer) => peer.leave().catch(() => undefined)));
    await killAll(children);
    await relay.close();
  }
});

test('relay restart: established channels keep working; new peers join once it is back', async ({ context, app }) => {
  test.setTimeout(180_000);
  const port = await freePort();
  let relay: StandaloneRelay | null = await startRelay({ host: '127.0.0.1', port });
  const room = uniqueRoom('relay-restart', test.info().workerIndex);
  const url = `${app.url}?room=${room}&relay=${encodeURIComponent(`ws://127.0.0.1:${port}/relay`)}`;
  try {
    const tabs: OpenedTab[] = [];
    for (let i = 0; i < 3; i++) tabs.push(await openTab(context, url));
    const [first, second, third] = tabs.map((tab) => tab.page) as [Page, Page, Page];
    const ids = await Promise.all([first, second, third].map(async (page) => (await tabStatus(page)).peerId));
    for (const page of [first, second, third]) {
      await expect(async () => expect([...(await tabStatus(page)).voters].sort()).toEqual([...ids].sort())).toPass({ timeout: FORM_TIMEOUT_MS });
    }
    const termBefore = (await tabStatus(first)).term;

    // The relay goes away for longer than a leader may stay silent. The data channels are up:
    // meanwhile writes in one tab are read in the next, and no election happens.
    await relay.close();
    relay = null;
    const outageStarted = performance.now();
    let outageWrites = 0;
    while (performance.now() - outageStarted < RELAY_OUTAGE_MS) {
      const writer = tabs[outageWrites % tabs.length]!.page;
      const reader = tabs[(outageWrites + 1) % tabs.length]!.page;
      const path = await writer.evaluate((i) => window.keeper!.create(`/during-outage-${i}`, `written with no relay (${i})`), outageWrites);
      const read = await reader.evaluate(async (path) => {
        await window.keeper!.sync('/');
        return new TextDecoder().decode((await window.keeper!.getData(path)).data);
      }, path);
      expect(read).toBe(`written with no relay (${outageWrites})`);
      outageWrites += 1;
    }
    for (const page of [first, second, third]) {
      const status = await tabStatus(page);
      expect([...status.voters].sort()).toEqual([...ids].sort());
      expect(status.term, 'no election while the relay was down').toBe(termBefore);
      await expect(page.getByTestId('state')).toHaveText('session connected');
    }

    // The relay is back on the same port: the tabs re-register, then a new tab joins the room.
    // The wait matters: a fresh peer that finds the room empty bootstraps its own ensemble, so a
    // newcomer arriving before the members re-register (their backoff reaches 5-10 s) founds a
    // second, separate ensemble in the same room that never merges (networked.ts "Known gap";
    // reported to the lead with a reproduction).
    const restarted = await startRelay({ host: '127.0.0.1', port });
    relay = restarted;
    const restartedAt = performance.now();
    await expect.poll(() => restarted.stats().peers, { timeout: FORM_TIMEOUT_MS, message: 'the three tabs rejoin the relay room' }).toBe(3);
    const reRegisteredMs = performance.now() - restartedAt;
    const newcomer = await openTab(context, url);
    tabs.push(newcomer);
    const newId = (await tabStatus(newcomer.page)).peerId;
    const seen = await newcomer.page.evaluate(async (last) => {
      await window.keeper!.sync('/');
      return new TextDecoder().decode((await window.keeper!.getData(`/during-outage-${last}`)).data);
    }, outageWrites - 1);
    expect(seen).toBe(`written with no relay (${outageWrites - 1})`);
    for (const page of [first, second, third, newcomer.page]) {
      await expect(async () => {
        const status = await tabStatus(page);
        expect([...status.voters].sort()).toEqual([...ids].sort());
        expect(status.observers).toEqual([newId]);
        expect(status.term, 'the same leader throughout').toBe(termBefore);
      }).toPass({ timeout: FORM_TIMEOUT_MS });
    }
    console.log(`[relay-restart] ${outageWrites} writes, each read in another tab, during a ${formatMs(RELAY_OUTAGE_MS)} relay outage; relay back → 3 tabs re-registered: ${formatMs(reRegisteredMs)}; new tab connected in ${formatMs(newcomer.connectMs)}`);
    // Chromium logs each refused reconnect to the relay while it is down; nothing else may appear.
    const refused = `WebSocket connection to 'ws://127.0.0.1:${port}/relay' failed`;
    for (const tab of tabs) expect(tab.errors.filter((error) => !error.startsWith(refused))).toEqual([]);
  } finally {
    await relay?.close();
  }
});
