// Admission and the relay's role (issue 5, "Show"; DESIGN.md "Transport and relay"):
// - a peer with the wrong room secret is never admitted: two `meshkeeper peer` processes with the
//   right secret form the room, a process and an in-process peer with a wrong secret sit in the
//   same relay room and keep asking to join, while a later peer with the right secret is admitted
//   and promoted; the wrong ones never appear in the configuration, never learn of a leader or an
//   entry, and never get a session;
// - the relay is only for meeting: with it gone, the tabs' data channels carry on (a write in one
//   tab is read in another); started again on the same port, a new tab that arrives while the
//   members are still held back from the relay (as in their reconnect backoff) finds the room empty
//   but the relay settling: it does not bootstrap a second ensemble, it waits, and joins the
//   existing one (same leader and term, the outage's writes) once the members are back.
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
  // A relay started with the room: nobody is on the way back, so no settling grace.
  const relay = await startRelay({ host: '127.0.0.1', port: 0, settlingMs: 0 });
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

test('relay restart: established channels keep working; a new peer arriving before the members are back joins them', async ({ browser, context, app }) => {
  test.setTimeout(180_000);
  const port = await freePort();
  // The first start is the room's first: no settling grace. The restart below keeps the default.
  let relay: StandaloneRelay | null = await startRelay({ host: '127.0.0.1', port, settlingMs: 0 });
  const cleanups: Array<() => Promise<void>> = [];
  const room = uniqueRoom('relay-restart', test.info().workerIndex);
  const url = `${app.url}?room=${room}&relay=${encodeURIComponent(`ws://127.0.0.1:${port}/relay`)}`;
  try {
    // The members' relay sockets pass through a route that can hold them back: while `holdBack`,
    // each connection is closed at once (the tab backs off and retries), as if its backoff ran
    // long. Routed from the start: the relay client keeps the WebSocket constructor it started with.
    let holdBack = false;
    const routed = { held: 0, passed: 0 };
    await context.routeWebSocket(/\/relay$/, (socket) => {
      if (holdBack) {
        routed.held += 1;
        void socket.close();
      } else {
        routed.passed += 1;
        socket.connectToServer();
      }
    });
    const tabs: OpenedTab[] = [];
    for (let i = 0; i < 3; i++) tabs.push(await openTab(context, url));
    const [first, second, third] = tabs.map((tab) => tab.page) as [Page, Page, Page];
    const ids = await Promise.all([first, second, third].map(async (page) => (await tabStatus(page)).peerId));
    for (const page of [first, second, third]) {
      await expect(async () => expect([...(await tabStatus(page)).voters].sort()).toEqual([...ids].sort())).toPass({ timeout: FORM_TIMEOUT_MS });
    }
    const termBefore = (await tabStatus(first)).term;
    const leaderBefore = (await tabStatus(first)).leaderId;

    // The relay goes away for longer than a leader may stay silent. The data channels are up:
    // meanwhile writes in one tab are read in the next, and no election happens.
    holdBack = true;
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

    // The relay is back on the same port, and a new tab arrives before any member is back: its
    // first list is empty. Before the fix it bootstrapped a second ensemble in the same room that
    // never merged; now the list says the relay is settling (RELAY_SETTLING_MS), so it waits.
    const restarted = await startRelay({ host: '127.0.0.1', port });
    relay = restarted;
    const restartedAt = performance.now();
    // The newcomer is another profile (its own browser context): no slot, storage or tab of the
    // members' profile can reach it, so the relay is its only way in and its replica is empty.
    const elsewhere = await browser.newContext({ permissions: ['microphone'] });
    cleanups.push(() => elsewhere.close());
    const opening = openTab(elsewhere, url);
    await expect.poll(() => restarted.stats().peers, { timeout: FORM_TIMEOUT_MS, message: `the new tab joins the relay room (member reconnects held back: ${JSON.stringify(routed)})` }).toBe(1);
    const newcomerListedMs = performance.now() - restartedAt;
    expect(restarted.stats().peers, 'the new tab was alone in the relay room: its first list was empty').toBe(1);
    expect(routed.held, 'the members tried to reconnect and were held back').toBeGreaterThan(0);
    const heldBack = routed.held;
    // The members come back within their backoff (at most RELAY_CLIENT_BACKOFF_MAX_MS).
    holdBack = false;
    await expect.poll(() => restarted.stats().peers, { timeout: FORM_TIMEOUT_MS, message: 'the three tabs rejoin the relay room' }).toBe(4);
    const reRegisteredMs = performance.now() - restartedAt;
    const newcomer = await opening;
    tabs.push(newcomer);
    const newId = (await tabStatus(newcomer.page)).peerId;
    expect(ids, 'the newcomer is a new peer').not.toContain(newId);
    expect((await tabStatus(newcomer.page)).leaderId, 'the newcomer follows the old leader').toBe(leaderBefore);
    const seen = await newcomer.page.evaluate(async (last) => {
      await window.keeper!.sync('/');
      return new TextDecoder().decode((await window.keeper!.getData(`/during-outage-${last}`)).data);
    }, outageWrites - 1);
    expect(seen).toBe(`written with no relay (${outageWrites - 1})`);
    // One ensemble of four, as every member sees it: the same leader in the same term. (The
    // newcomer, on another device, may take a voter seat from the members' shared profile: voter
    // placement prefers distinct failure domains; that is a config change within the term.)
    for (const page of [first, second, third, newcomer.page]) {
      await expect(async () => {
        const status = await tabStatus(page);
        expect([...status.voters, ...status.observers].sort()).toEqual([...ids, newId].sort());
        expect(status.voters).toHaveLength(3);
        expect(status.leaderId, 'the same leader throughout').toBe(leaderBefore);
        expect(status.term, 'the same term throughout').toBe(termBefore);
      }).toPass({ timeout: FORM_TIMEOUT_MS });
    }
    console.log(`[relay-restart] ${outageWrites} writes, each read in another tab, during a ${formatMs(RELAY_OUTAGE_MS)} relay outage; relay back → new tab alone in the room: ${formatMs(newcomerListedMs)}, 3 tabs re-registered: ${formatMs(reRegisteredMs)}; new tab joined the old ensemble, connected ${formatMs(newcomer.connectMs)} after it opened; member reconnects held back ${heldBack}`);
    // Chromium logs each refused reconnect to the relay while it is down; nothing else may appear.
    const refused = `WebSocket connection to 'ws://127.0.0.1:${port}/relay' failed`;
    for (const tab of tabs) expect(tab.errors.filter((error) => !error.startsWith(refused))).toEqual([]);
  } finally {
    for (const cleanup of cleanups) await cleanup().catch(() => undefined);
    await relay?.close();
  }
});
