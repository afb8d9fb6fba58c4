/**
 * Helpers shared by the e2e specs: `meshkeeper` CLI processes (edge peers, shells), tabs of the app
 * and what they show, free loopback ports, and reading a Node peer's replica files after it stopped.
 * Every wait here is a wait for a condition with a bound; the callers pick the bounds.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { mergeTests, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { openFileStorage } from '../src/adapters/storage-file.js';
import type { KeeperStatus } from '../src/client/index.js';
import type { PersistedState } from '../src/core/consensus/index.js';
import { test as meshkeeperTest, type EnsembleConfig } from '../src/testing/playwright.js';
import { test as appTest } from './fixtures.js';

/** Forming an ensemble of tabs takes a few seconds (WebRTC + admission + promotion); this bounds
 *  one peer's arrival or one membership step on a loaded two-core machine. */
export const FORM_TIMEOUT_MS = 30_000;

/** `meshkeeper <args>` as a child process (node + tsx, the same entry `npx meshkeeper` runs). */
export function cli(args: string[]): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, ['--import', 'tsx', 'src/edge/cli.ts', ...args], { stdio: 'pipe' });
}

/** Resolves with the first match of `pattern` in the stdout written from now on; rejects if the
 *  process exits first or `timeoutMs` passes. */
export function lineMatching(child: ChildProcessWithoutNullStreams, pattern: RegExp, timeoutMs = FORM_TIMEOUT_MS): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    let stderr = '';
    const onStderr = (chunk: Buffer): void => {
      stderr += chunk.toString();
    };
    const onStdout = (chunk: Buffer): void => {
      buffered += chunk.toString();
      const match = buffered.match(pattern);
      if (match !== null) finish(() => resolve(match));
    };
    const onExit = (code: number | null): void => finish(() => reject(new Error(`exited with ${code} before printing ${pattern}: ${stderr}`)));
    const timer = setTimeout(() => finish(() => reject(new Error(`no ${pattern} within ${timeoutMs} ms; stdout: ${buffered} stderr: ${stderr}`))), timeoutMs);
    function finish(settle: () => void): void {
      clearTimeout(timer);
      child.stdout.off('data', onStdout);
      child.stderr.off('data', onStderr);
      child.off('exit', onExit);
      settle();
    }
    child.stderr.on('data', onStderr);
    child.stdout.on('data', onStdout);
    child.once('exit', onExit);
    if (child.exitCode !== null) onExit(child.exitCode);
  });
}

export function exitCode(child: ChildProcessWithoutNullStreams): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

/** Kills `child` with `signal` and waits until it is gone. */
export async function kill(child: ChildProcessWithoutNullStreams, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = exitCode(child);
  child.kill(signal);
  await gone;
}

/** For `finally` blocks: SIGKILL every child still running and wait for each. */
export async function killAll(children: readonly ChildProcessWithoutNullStreams[]): Promise<void> {
  await Promise.all(children.map((child) => kill(child, 'SIGKILL')));
}

export interface EdgePeer {
  readonly child: ChildProcessWithoutNullStreams;
  readonly peerId: string;
  /** The folder the peer printed (`<data>/<room>`), or `(memory)`. */
  readonly folder: string;
}

/** Starts `meshkeeper peer <args>` and waits for its `peer <id> room <room> data <dir>` line. The
 *  child is pushed onto `children` first, so a finally block cleans it up even if it never prints. */
export async function startEdgePeer(args: string[], children: ChildProcessWithoutNullStreams[]): Promise<EdgePeer> {
  const child = cli(['peer', ...args]);
  children.push(child);
  const [, peerId, , folder] = await lineMatching(child, /peer (\S+) room (\S+) data (.+)\n/);
  return { child, peerId: peerId as string, folder: folder as string };
}

/** A TCP port on 127.0.0.1 that was free a moment ago (to restart a server on the same port). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return address.port;
}

/** A room name no other test or worker uses. */
export function uniqueRoom(prefix: string, workerIndex: number): string {
  return `${prefix}-${workerIndex}-${Date.now()}`;
}

/** Collects the page's uncaught errors and console errors (a spec asserts the list stays empty). */
export function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  return errors;
}

export interface OpenedTab {
  readonly page: Page;
  readonly errors: string[];
  /** goto → the state line says "session connected", in ms. */
  readonly connectMs: number;
}

/** Opens the app at `url` in a new tab of `context` and waits until its session is connected. */
export async function openTab(context: BrowserContext, url: string): Promise<OpenedTab> {
  const page = await context.newPage();
  const errors = collectErrors(page);
  const started = performance.now();
  await page.goto(url);
  try {
    await page.getByTestId('state').filter({ hasText: 'session connected' }).waitFor({ timeout: FORM_TIMEOUT_MS });
  } catch (error) {
    const shown = await page.getByTestId('state').textContent().catch(() => '(unreadable)');
    throw new Error(`tab at ${url} not connected within ${FORM_TIMEOUT_MS} ms; state line: ${shown}; page errors: ${errors.join(' | ') || 'none'}`, { cause: error });
  }
  return { page, errors, connectMs: performance.now() - started };
}

/** A new browser profile (context) in `browser`, with the media permission WebRTC over loopback
 *  needs (DESIGN.md, Platform facts). Tabs of separate profiles adopt nothing from each other. */
export function newProfile(browser: Browser): Promise<BrowserContext> {
  return browser.newContext({ permissions: ['microphone'] });
}

/** Opens `count` tabs of the app at `url`, one after the other, each in a profile of its own (so
 *  closing or crashing one takes its peer out of the room: membership changes, not adoption).
 *  `contexts[i]` is `tabs[i]`'s; the caller closes them. */
export async function openTabsInOwnProfiles(browser: Browser, url: string, count: number): Promise<{ tabs: OpenedTab[]; contexts: BrowserContext[] }> {
  const tabs: OpenedTab[] = [];
  const contexts: BrowserContext[] = [];
  for (let i = 0; i < count; i++) {
    const context = await newProfile(browser);
    contexts.push(context);
    tabs.push(await openTab(context, url));
  }
  return { tabs, contexts };
}

/** Crashes a tab by CDP `Page.crash` (no pagehide: its peer says nothing) and closes what is left
 *  of it. Tabs of one context may share a renderer: crash them in contexts of their own unless the
 *  spec means to take the context's other tabs along. */
export async function crashTab(context: BrowserContext, page: Page): Promise<void> {
  const crashed = page.waitForEvent('crash', { timeout: FORM_TIMEOUT_MS });
  const cdp = await context.newCDPSession(page);
  cdp.send('Page.crash').catch(() => undefined); // never answers: the page is gone
  await crashed;
  await page.close().catch(() => undefined);
}

/** The tab's `keeper.status()` (API.md). */
export function tabStatus(page: Page): Promise<KeeperStatus> {
  return page.evaluate(() => {
    if (window.keeper === undefined) throw new Error(`no window.keeper: ${window.keeperError ?? 'not joined yet'}`);
    return window.keeper.status();
  });
}

export interface WriteAttempts {
  readonly ok: boolean;
  readonly attempts: number;
  /** The path that was created (ok) or the last error (not ok). */
  readonly detail: string;
  /** The failed attempts' errors, in order (at most the first few). */
  readonly failures: string[];
}

/** createUntilSuccess keeps at most this many failure messages. */
const FAILURES_KEPT_MAX = 5;

/**
 * In the tab: creates `${prefix}-1`, `${prefix}-2`, ... until one create succeeds or `deadlineMs`
 * passes. Each attempt has its own path because a failed attempt's outcome may be unknown
 * (CONNECTIONLOSS): it may still take effect, and must not turn the next one into NODEEXISTS.
 */
export function createUntilSuccess(page: Page, prefix: string, deadlineMs: number): Promise<WriteAttempts> {
  return page.evaluate(async ({ prefix, deadlineMs, failuresKeptMax }) => {
    const keeper = window.keeper;
    if (keeper === undefined) throw new Error('no window.keeper');
    const started = performance.now();
    let attempts = 0;
    let detail = 'no attempt';
    const failures: string[] = [];
    while (performance.now() - started < deadlineMs) {
      attempts += 1;
      const attempted = performance.now();
      try {
        return { ok: true, attempts, detail: await keeper.create(`${prefix}-${attempts}`, 'written after a fault'), failures };
      } catch (error) {
        detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        if (failures.length < failuresKeptMax) failures.push(`${detail} (after ${Math.round(performance.now() - attempted)} ms)`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    return { ok: false, attempts, detail, failures };
  }, { prefix, deadlineMs, failuresKeptMax: FAILURES_KEPT_MAX });
}

/** The middle value (the lower middle of an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted[Math.floor((sorted.length - 1) / 2)];
  if (middle === undefined) throw new Error('median of nothing');
  return middle;
}

export function formatMs(ms: number): string {
  return `${ms.toFixed(1)} ms`;
}

/** The durable replica of a Node peer whose process has stopped: `<folder>/replica`, loaded the way
 *  the peer loads it at restart (torn tails dropped, only committed batches). */
export async function loadStoppedReplica(folder: string): Promise<PersistedState> {
  const storage = await openFileStorage(join(folder, 'replica'));
  try {
    return await new Promise<PersistedState>((resolve, reject) => {
      storage.load((result) => {
        if (!result.ok) reject(result.error);
        else if (result.state === null) reject(new Error(`${folder}: no replica on disk`));
        else resolve(result.state);
      });
    });
  } finally {
    await storage.close();
  }
}

/** Whether the replica's log entries or snapshot hold the UTF-8 bytes of `text` (a znode path or
 *  value unique to the test: the txn records carry them verbatim). */
export function replicaMentions(state: PersistedState, text: string): boolean {
  const needle = new TextEncoder().encode(text);
  return state.entries.some((entry) => contains(entry.data, needle)) || contains(state.snapshot.data, needle);
}

function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  return Buffer.from(haystack.buffer, haystack.byteOffset, haystack.byteLength).includes(Buffer.from(needle));
}

/** The public fixture (meshkeeper/testing/playwright) on this repository's app: `ensemble` opens
 *  tabs of the worker's app server (`app`) against a relay of its own (restartable). Options per
 *  file: `ensembleTest.use({ meshkeeper: { sessionTimeoutMs } })` is merged with the app's URL. */
export const ensembleTest = mergeTests(appTest, meshkeeperTest).extend<{ ensembleConfig: EnsembleConfig }>({
  ensembleConfig: [{}, { option: true }],
  meshkeeper: async ({ app, ensembleConfig }, use) => {
    await use({ ...ensembleConfig, appUrl: app.url });
  },
});
