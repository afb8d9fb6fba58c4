// The API suite (src/client/api-suite.ts) against a 3-tab ensemble: three tabs of Debian Chromium
// join one room over the relay of the app server (the `app` fixture), each a real peer with
// IndexedDB storage talking over WebRTC data channels; once they are three voters, every case of
// API_CASES runs inside a tab, each its own test named like the case, the cases spread over the
// three tabs (so some are served by the leader's tab and some by followers' tabs, which forward
// their writes). The tab side is src/client/api-suite.browser.ts, bundled here with Vite's build()
// and served by a loopback server of this spec, so the app's own page is untouched.
import { test, expect } from './fixtures.js';
import type { BrowserContext, Page } from '@playwright/test';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'vite';
import { API_CASES } from '../src/client/api-suite.js';

const BUNDLE = 'api-suite.js';
const PAGE = `<!doctype html><meta charset="utf-8"><title>meshkeeper API suite</title><script type="module" src="./${BUNDLE}"></script>`;
const TABS = 3;
/** Forming an ensemble of tabs takes a few seconds (WebRTC + admission + promotion). */
const FORM_TIMEOUT_MS = 30_000;

let root = '';
const files = new Map<string, Buffer>();
let server: Server | null = null;
let context: BrowserContext | null = null;
const tabs: Page[] = [];
const pageErrors: string[][] = [];

test.beforeAll(async ({ browser, app }) => {
  test.setTimeout(120_000);
  root = await mkdtemp(join(tmpdir(), 'meshkeeper-api-suite-'));
  const outDir = join(root, 'bundle');
  await build({
    configFile: false,
    logLevel: 'warn',
    publicDir: false,
    build: {
      outDir,
      emptyOutDir: true,
      minify: false,
      target: 'es2022',
      lib: { entry: resolve('src/client/api-suite.browser.ts'), formats: ['es'], fileName: () => BUNDLE },
    },
  });
  for (const name of await readdir(outDir)) files.set(name, await readFile(join(outDir, name)));
  files.set('index.html', Buffer.from(PAGE));

  // A server of its own on loopback: a page fulfilled by page.route has no address, and
  // Chromium's local network access checks then block its WebSocket to the loopback relay.
  server = createServer((request, response) => {
    const name = new URL(request.url ?? '/', 'http://x').pathname.slice(1);
    const body = files.get(name);
    if (body === undefined) return void response.writeHead(404).end();
    response.writeHead(200, { 'content-type': name.endsWith('.html') ? 'text/html' : 'text/javascript' }).end(body);
  });
  await new Promise<void>((ready) => server!.listen(0, '127.0.0.1', ready));
  const { port } = server.address() as AddressInfo;
  context = await browser.newContext({ permissions: ['microphone'] });
  const room = `api-suite-${test.info().workerIndex}-${Date.now()}`;
  for (let i = 0; i < TABS; i++) {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`http://127.0.0.1:${port}/index.html?room=${room}&relay=${encodeURIComponent(app.relayUrl)}`);
    await page.waitForFunction(() => window.apiSuiteJoined !== undefined);
    await page.evaluate(() => window.apiSuiteJoined);
    tabs.push(page);
    pageErrors.push(errors);
  }
  for (const page of tabs) {
    await page.waitForFunction(() => {
      const status = window.keeper?.status();
      return status !== undefined && status.voters.length === 3 && status.leaderId !== null;
    }, undefined, { timeout: FORM_TIMEOUT_MS });
  }
  const statuses = await Promise.all(tabs.map((page) => page.evaluate(() => window.keeper!.status())));
  console.log(`3-tab ensemble: ${statuses.map((s) => `${s.peerId} ${s.role}`).join(', ')}`);
});

test.afterAll(async () => {
  for (const page of tabs) await page.evaluate(() => window.keeper?.close()).catch(() => undefined);
  await context?.close();
  await new Promise((closed) => (server ? server.close(closed) : closed(undefined)));
  tabs.length = 0;
  if (root !== '') await rm(root, { recursive: true, force: true });
});

test('three tabs of one room are three voters with one leader, all agreeing', async () => {
  const statuses = await Promise.all(tabs.map((page) => page.evaluate(() => window.keeper!.status())));
  const ids = statuses.map((s) => s.peerId).sort();
  expect(statuses.filter((s) => s.role === 'leader')).toHaveLength(1);
  for (const status of statuses) {
    expect([...status.voters].sort()).toEqual(ids);
    expect(status.leaderId).toBe(statuses.find((s) => s.role === 'leader')?.peerId);
  }
});

test.describe('API suite: 3-tab ensemble', () => {
  API_CASES.forEach((apiCase, index) => {
    test(apiCase.name, async () => {
      const tab = tabs[index % TABS]!;
      const errorsBefore = pageErrors[index % TABS]!.length;
      const outcome = await tab.evaluate((name) => window.runApiCase!(name), apiCase.name);
      const role = await tab.evaluate(() => window.keeper!.status().role);
      test.info().annotations.push({ type: 'served by', description: `tab ${index % TABS} (${role}), ${outcome.durationMs.toFixed(0)} ms` });
      expect(outcome.error, `in tab ${index % TABS} (${role})`).toBeNull();
      expect(pageErrors[index % TABS]!.slice(errorsBefore)).toEqual([]);
    });
  });
});
