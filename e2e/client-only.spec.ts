// Client-only attachments (issue 6, Show 7; src/platform/client-attachment.ts): 12 Keepers in a
// browser page that runs no replica (`Keeper.join({ relay, room, replica: false })`) over 3
// serving tabs (each its own profile, so each one voter). Each client's session sits on the
// serving peer a rendezvous hash picks; each holds an ephemeral znode and an exists watch.
// A serving tab goes — closed (pagehide: it tells its clients it is leaving) and, separately,
// crashed (CDP Page.crash: its clients notice the channel close or the room's `left`) — and:
// only its clients move, each to its rendezvous pick over the remaining peers; every client keeps
// its session id and its ephemeral; a write works after the move; the watches set before it fire.
import { type BrowserContext, type Page } from '@playwright/test';
import { rendezvousPick } from '../src/client/rendezvous.js';
import { serveBrowserEntry, type ServedEntry } from './browser-entry.js';
import { expect, test } from './fixtures.js';
import { crashTab, FORM_TIMEOUT_MS, formatMs, newProfile, openTabsInOwnProfiles, tabStatus, uniqueRoom, type OpenedTab } from './helpers.js';

const CLIENTS = 12;
/** Short enough that a session not moved would expire during the test, long enough for a move. */
const SESSION_TIMEOUT_MS = 10_000;
/** A move: noticing the peer went (at once, or by silence within 2/3 of the session timeout),
 *  then a resume on the next peer. */
const MOVE_TIMEOUT_MS = 20_000;

interface ClientsWindow {
  clients?: { keeper: InstanceType<NonNullable<Window['MeshKeeper']>>; events: string[] }[];
}

let entry: ServedEntry;
test.beforeAll(async () => {
  entry = await serveBrowserEntry({ entry: 'e2e/client-only.browser.ts', title: 'meshkeeper client-only attachments', tmpPrefix: 'meshkeeper-client-only-' });
});
test.afterAll(async () => {
  await entry.close();
});

/** Each client's session id and serving peer, as the page sees them. */
function placements(page: Page): Promise<{ sessionId: string; servedBy: string | null; state: string }[]> {
  return page.evaluate(() =>
    ((window as ClientsWindow).clients ?? []).map(({ keeper }) => ({ sessionId: keeper.sessionId, servedBy: keeper.status().servingPeerId ?? null, state: keeper.state })),
  );
}

/** Runs `call` in the page, again after a CONNECTIONLOSS (a leader change), a bounded number of times. */
const RETRY_SCRIPT = `async (call) => { for (let attempt = 1; ; attempt++) { try { return await call(); } catch (error) { if (error.code !== 'CONNECTIONLOSS' || attempt >= 20) throw error; await new Promise((r) => setTimeout(r, 500)); } } }`;

for (const how of ['close', 'crash'] as const) {
  test(`12 client-only Keepers over 3 serving tabs: a serving tab ${how === 'close' ? 'closes' : 'crashes'}, only its clients move, none loses its session`, async ({ browser, app }) => {
    test.setTimeout(180_000);
    const room = uniqueRoom(`client-only-${how}`, test.info().workerIndex);
    const contexts: BrowserContext[] = [];
    const serving: OpenedTab[] = [];
    try {
      const opened = await openTabsInOwnProfiles(browser, `${app.url}?room=${room}`, 3);
      contexts.push(...opened.contexts);
      serving.push(...opened.tabs);
      await expect(async () => {
        for (const tab of serving) expect((await tabStatus(tab.page)).voters).toHaveLength(3);
      }).toPass({ timeout: FORM_TIMEOUT_MS });
      const servingIds = await Promise.all(serving.map(async (tab) => (await tabStatus(tab.page)).peerId));

      const clientContext = await newProfile(browser);
      contexts.push(clientContext);
      const page = await clientContext.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      await page.goto(entry.origin);
      await page.waitForFunction(() => window.MeshKeeper !== undefined);
      const joinedAt = Date.now();
      await page.evaluate(
        async ({ relay, room, clients, sessionTimeoutMs }) => {
          const Keeper = window.MeshKeeper!;
          const keepers = await Promise.all(Array.from({ length: clients }, () => Keeper.join({ relay, room, replica: false, sessionTimeoutMs })));
          const list = keepers.map((keeper) => ({ keeper, events: [] as string[] }));
          (window as ClientsWindow).clients = list;
          await list[0]!.keeper.create('/e', '').catch(() => undefined);
          await list[0]!.keeper.create('/w', '').catch(() => undefined);
          for (const [i, client] of list.entries()) {
            await client.keeper.create(`/e/c${i}`, `client ${i}`, { mode: 'ephemeral' });
            await client.keeper.exists(`/w/c${i}`, { watch: (event) => void client.events.push(`${event.type} ${event.path}`) });
          }
        },
        { relay: app.relayUrl, room, clients: CLIENTS, sessionTimeoutMs: SESSION_TIMEOUT_MS },
      );
      const before = await placements(page);
      console.log(`client-only (${how}): ${CLIENTS} sessions placed in ${formatMs(Date.now() - joinedAt)}: ${servingIds.map((id) => `${id} ${before.filter((p) => p.servedBy === id).length}`).join(', ')}`);
      // Placed by rendezvous hashing of a per-Keeper key (it has no session id yet); moves go to
      // the pick of the session id over the peers left.
      for (const placed of before) expect(servingIds).toContain(placed.servedBy);
      // The serving peer with the most clients goes (at least one, by the pigeonhole principle).
      const counts = servingIds.map((id) => before.filter((p) => p.servedBy === id).length);
      const goneAt = counts.indexOf(Math.max(...counts));
      const gone = servingIds[goneAt]!;
      const remaining = servingIds.filter((id) => id !== gone);
      const wentAt = Date.now();
      const goneTab = serving[goneAt]!.page;
      if (how === 'close') {
        await goneTab.close();
      } else {
        await crashTab(contexts[goneAt]!, goneTab);
      }
      await expect(async () => {
        for (const placed of await placements(page)) {
          expect(remaining).toContain(placed.servedBy);
          expect(placed.state).toBe('connected');
        }
      }).toPass({ timeout: MOVE_TIMEOUT_MS });
      const movedMs = Date.now() - wentAt;
      const after = await placements(page);
      let moved = 0;
      for (const [i, placed] of after.entries()) {
        const was = before[i]!;
        expect(placed.sessionId).toBe(was.sessionId); // the same session: none lost
        if (was.servedBy === gone) {
          moved += 1;
          expect(placed.servedBy).toBe(rendezvousPick(placed.sessionId, remaining));
        } else {
          expect(placed.servedBy).toBe(was.servedBy); // not on the peer that went: stayed
        }
      }
      expect(moved).toBe(counts[goneAt]);
      console.log(`client-only (${how}): ${gone} went; its ${moved} clients moved within ${formatMs(movedMs)}, the other ${CLIENTS - moved} stayed`);
      // Every session still holds its ephemeral, writes, and hears the watch set before the move.
      const checked = await page.evaluate(async (retry) => {
        const again = (0, eval)(retry) as <T>(call: () => Promise<T>) => Promise<T>;
        const list = (window as ClientsWindow).clients!;
        const owners: boolean[] = [];
        for (const [i, client] of list.entries()) {
          const stat = await again(() => client.keeper.exists(`/e/c${i}`));
          owners.push(stat?.ephemeralOwner === client.keeper.sessionId);
          await again(() => client.keeper.setData(`/e/c${i}`, `after the move ${i}`));
        }
        for (const [i] of list.entries()) await again(async () => ((await list[0]!.keeper.exists(`/w/c${i}`)) === null ? list[0]!.keeper.create(`/w/c${i}`, 'now') : ''));
        const deadline = Date.now() + 10_000;
        while (Date.now() < deadline && list.some((client, i) => !client.events.includes(`NodeCreated /w/c${i}`))) await new Promise((r) => setTimeout(r, 50));
        return { owners, events: list.map((client) => client.events) };
      }, RETRY_SCRIPT);
      expect(checked.owners).toEqual(Array.from({ length: CLIENTS }, () => true));
      expect(checked.events).toEqual(Array.from({ length: CLIENTS }, (_, i) => [`NodeCreated /w/c${i}`]));
      expect(errors).toEqual([]);
      for (const tab of serving) if (!tab.page.isClosed()) expect(tab.errors).toEqual([]);
    } finally {
      for (const context of contexts) await context.close();
    }
  });
}
