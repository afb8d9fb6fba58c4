/**
 * The systems under test, each behind one interface: a 3-tab ensemble in headless Chromium (one
 * browser context per tab, so each tab has its own renderer process and in-memory storage), a
 * 3-peer Node edge ensemble (one process per peer), and (bench/zookeeper.ts) Apache ZooKeeper.
 * The data workloads run on one client attached to a follower; the lock workload on three clients,
 * one per peer.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { chromium, type Browser, type BrowserContext, type Page } from '@playwright/test';
import type { KeeperStatus } from '../src/client/index.js';
import type { WorkerReply, WorkerRequest } from './node-worker.js';
import type * as Workloads from './workloads.js';
import { sharedClock, type FailoverWrite, type LockCycle, type LockSpec, type OpsResult, type OpsSpec } from './workloads.js';

declare global {
  interface Window {
    /** bench/workloads.ts, injected by the benchmark. */
    __bench?: typeof Workloads;
  }
}

export interface System {
  readonly name: string;
  /** Creates each path if missing (in order: parents first). */
  ensure(paths: string[]): Promise<void>;
  /** The data workload on the client attached to a follower. */
  ops(spec: OpsSpec): Promise<OpsResult>;
  /** The lock workload: one client per peer, all contending for `path`. */
  lock(path: string, specs: LockSpec[]): Promise<LockCycle[][]>;
  /** Kills the leader, then writes from a survivor until a write succeeds: ms from kill to success;
   *  then restores three voters for the next round. Absent where not supported. */
  failover?(prefix: string, deadlineMs: number): Promise<number>;
  /** g: a follower's client holds `path`'s lock, another peer's client waits for it; the holder is
   *  killed ('kill') or closed gracefully ('close'): ms from then until the waiter holds the lock;
   *  then restores three voters. Absent where not supported. */
  lockLoss?(path: string, how: 'kill' | 'close', deadlineMs: number): Promise<number>;
  /** h: a follower's JS heap in use after a full GC, bytes. Absent where not supported. */
  heapUsed?(): Promise<number>;
  /** h: reloads a follower's tab: ms until a read of `path` succeeds there; then three voters again. */
  reload?(path: string, deadlineMs: number): Promise<number>;
  close(): Promise<void>;
}

/** This process's reading of the system clock, comparable with the pages' and workers' (workloads.ts). */
export function benchNow(): number {
  return sharedClock()();
}

/** How long an ensemble may take to form or to heal on a loaded two-core machine. */
export const FORM_TIMEOUT_MS = 60_000;

export async function waitUntil(condition: () => Promise<boolean> | boolean, what: string, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

function formed(statuses: readonly KeeperStatus[], count: number): boolean {
  const ids = new Set(statuses.map((s) => s.peerId));
  const leader = statuses[0]?.leaderId ?? null;
  return (
    statuses.length === count &&
    leader !== null &&
    statuses.every((s) => s.leaderId === leader && s.voters.length === count && s.voters.every((v) => ids.has(v)))
  );
}

/** bench/workloads.ts as plain JavaScript for a page (transpiled by TypeScript, so no helpers that
 *  a bundler would inject), exposed as `window.__bench`. */
async function workloadsScript(): Promise<string> {
  const source = await readFile(fileURLToPath(new URL('./workloads.ts', import.meta.url)), 'utf8');
  const { outputText } = ts.transpileModule(source, { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext } });
  return `${outputText}\nwindow.__bench = { runOps, runLockClient, webLock, writeUntilSuccess, quantile, epochNow, systemClock, sharedClock, beginAcquire, awaitAcquire };\nsharedClock();\n`;
}

export interface BrowserOptions {
  executablePath: string;
  args: string[];
}

// --- tabs -------------------------------------------------------------------------------------------

interface Tab {
  context: BrowserContext;
  page: Page;
  alive: boolean;
}

export class TabsSystem implements System {
  readonly name = 'tabs';
  readonly #tabs: Tab[] = [];
  #script = '';

  private constructor(
    readonly browser: Browser,
    readonly appUrl: string,
    readonly room: string,
    readonly sessionTimeoutMs: number | undefined,
  ) {}

  static async start(browser: Browser, appUrl: string, room: string, sessionTimeoutMs?: number): Promise<TabsSystem> {
    const system = new TabsSystem(browser, appUrl, room, sessionTimeoutMs);
    system.#script = await workloadsScript();
    try {
      for (let i = 0; i < 3; i++) await system.#openTab();
      await system.#waitFormed();
    } catch (error) {
      await system.close();
      throw error;
    }
    return system;
  }

  get #live(): Tab[] {
    return this.#tabs.filter((tab) => tab.alive);
  }

  async #openTab(): Promise<Tab> {
    const context = await this.browser.newContext({ permissions: ['microphone'] });
    const page = await context.newPage();
    const tab: Tab = { context, page, alive: true };
    this.#tabs.push(tab);
    const timeout = this.sessionTimeoutMs === undefined ? '' : `&sessionTimeoutMs=${this.sessionTimeoutMs}`;
    await page.goto(`${this.appUrl}?room=${encodeURIComponent(this.room)}${timeout}`);
    await page.getByTestId('state').filter({ hasText: 'session connected' }).waitFor({ timeout: FORM_TIMEOUT_MS });
    await page.addScriptTag({ content: this.#script, type: 'module' });
    await page.waitForFunction(() => window.__bench !== undefined, undefined, { timeout: 10_000 });
    return tab;
  }

  static status(page: Page): Promise<KeeperStatus> {
    return page.evaluate(() => {
      if (window.keeper === undefined) throw new Error('no window.keeper');
      return window.keeper.status();
    });
  }

  async #statuses(): Promise<KeeperStatus[]> {
    return Promise.all(this.#live.map((tab) => TabsSystem.status(tab.page)));
  }

  async #waitFormed(): Promise<void> {
    await waitUntil(async () => formed(await this.#statuses(), 3), 'three tabs, three voters, one leader', FORM_TIMEOUT_MS);
  }

  async #byRole(): Promise<{ leader: Tab; followers: Tab[] }> {
    const live = this.#live;
    const statuses = await Promise.all(live.map((tab) => TabsSystem.status(tab.page)));
    const leaderIndex = statuses.findIndex((s) => s.role === 'leader');
    if (leaderIndex < 0) throw new Error('no leader among the tabs');
    return { leader: live[leaderIndex] as Tab, followers: live.filter((_, i) => i !== leaderIndex) };
  }

  async ensure(paths: string[]): Promise<void> {
    const { followers } = await this.#byRole();
    await (followers[0] as Tab).page.evaluate(async (list) => {
      const keeper = window.keeper;
      if (keeper === undefined) throw new Error('no window.keeper');
      for (const path of list) {
        if ((await keeper.exists(path)) === null) await keeper.create(path, new Uint8Array(16));
      }
    }, paths);
  }

  async ops(spec: OpsSpec): Promise<OpsResult> {
    const { followers } = await this.#byRole();
    return (followers[0] as Tab).page.evaluate((s) => {
      if (window.__bench === undefined || window.keeper === undefined) throw new Error('no bench script or keeper');
      return window.__bench.runOps(window.keeper, s);
    }, spec);
  }

  lock(path: string, specs: LockSpec[]): Promise<LockCycle[][]> {
    return Promise.all(
      this.#live.slice(0, specs.length).map((tab, i) =>
        tab.page.evaluate(
          ({ path, spec }) => {
            if (window.__bench === undefined || window.keeper === undefined || window.recipes === undefined) throw new Error('no bench script, keeper or recipes');
            return window.__bench.runLockClient(new window.recipes.Lock(window.keeper, path), spec);
          },
          { path, spec: specs[i] as LockSpec },
        ),
      ),
    );
  }

  async failover(prefix: string, deadlineMs: number): Promise<number> {
    const { leader, followers } = await this.#byRole();
    const survivor = followers[0] as Tab;
    const cdp = await leader.context.newCDPSession(leader.page);
    const killedAt = benchNow();
    leader.alive = false;
    cdp.send('Page.crash').catch(() => undefined); // never answers: the page is gone
    const write = await survivor.page.evaluate(
      ({ prefix, deadlineMs }) => {
        if (window.__bench === undefined || window.keeper === undefined) throw new Error('no bench script or keeper');
        return window.__bench.writeUntilSuccess(window.keeper, prefix, deadlineMs);
      },
      { prefix, deadlineMs },
    );
    await leader.context.close().catch(() => undefined);
    if (!write.ok) throw new Error(`no write succeeded within ${deadlineMs} ms after the leader crashed: ${write.lastError}`);
    await this.#openTab();
    await this.#waitFormed();
    return write.doneAt - killedAt;
  }

  async lockLoss(path: string, how: 'kill' | 'close', deadlineMs: number): Promise<number> {
    const { leader, followers } = await this.#byRole();
    const holder = followers[0] as Tab;
    const waiter = (followers[1] ?? leader) as Tab;
    const begin = (page: Page, key: string): Promise<void> =>
      page.evaluate(
        ({ path, key }) => {
          if (window.__bench === undefined || window.keeper === undefined || window.recipes === undefined) throw new Error('no bench script, keeper or recipes');
          window.__bench.beginAcquire(key, new window.recipes.Lock(window.keeper, path));
        },
        { path, key },
      );
    const wait = (page: Page, key: string, timeoutMs: number, release: boolean): Promise<number> =>
      page.evaluate(
        ({ key, timeoutMs, release }) => {
          if (window.__bench === undefined) throw new Error('no bench script');
          return window.__bench.awaitAcquire(key, timeoutMs, release);
        },
        { key, timeoutMs, release },
      );
    await begin(holder.page, 'g-holder');
    await wait(holder.page, 'g-holder', 10_000, false);
    await begin(waiter.page, 'g-waiter');
    // The waiter's lock znode is in place (it waits on the holder's) well within this.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const cdp = how === 'kill' ? await holder.context.newCDPSession(holder.page) : null;
    const lostAt = benchNow();
    holder.alive = false;
    if (cdp !== null) cdp.send('Page.crash').catch(() => undefined); // never answers: the page is gone
    else void holder.page.close().catch(() => undefined); // pagehide: the app closes its session
    const acquiredAt = await wait(waiter.page, 'g-waiter', deadlineMs, true);
    await holder.context.close().catch(() => undefined);
    await this.#openTab();
    await this.#waitFormed();
    return acquiredAt - lostAt;
  }

  async heapUsed(): Promise<number> {
    const { followers } = await this.#byRole();
    const tab = followers[0] as Tab;
    const cdp = await tab.context.newCDPSession(tab.page);
    try {
      await cdp.send('HeapProfiler.collectGarbage');
      await cdp.send('Performance.enable');
      const { metrics } = await cdp.send('Performance.getMetrics');
      return metrics.find((m) => m.name === 'JSHeapUsedSize')?.value ?? Number.NaN;
    } finally {
      await cdp.detach().catch(() => undefined);
    }
  }

  async reload(path: string, deadlineMs: number): Promise<number> {
    const { followers } = await this.#byRole();
    const tab = followers[0] as Tab;
    const started = benchNow();
    await tab.page.reload({ waitUntil: 'commit' });
    let served = Number.NaN;
    while (Number.isNaN(served)) {
      if (benchNow() - started > deadlineMs) throw new Error(`the reloaded tab served no read of ${path} within ${deadlineMs} ms`);
      const ok = await tab.page
        .evaluate(async (path) => {
          const keeper = window.keeper;
          if (keeper === undefined) return false;
          const timeout = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 1000));
          return Promise.race([keeper.getData(path).then(() => true, () => false), timeout]);
        }, path)
        .catch(() => false); // the page is still navigating
      if (ok) served = benchNow();
      else await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await tab.page.addScriptTag({ content: this.#script, type: 'module' });
    await tab.page.waitForFunction(() => window.__bench !== undefined, undefined, { timeout: 10_000 });
    await this.#waitFormed();
    return served - started;
  }

  async close(): Promise<void> {
    await Promise.all(this.#tabs.map((tab) => tab.context.close().catch(() => undefined)));
  }
}

/** navigator.locks among three pages of one browser context (one profile): the same lock workload. */
export async function webLocksHandoff(browser: Browser, origin: string, specs: LockSpec[]): Promise<LockCycle[][]> {
  const context = await browser.newContext();
  try {
    const blank = `${origin}__bench_blank`;
    await context.route(blank, (route) => route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>bench</title>' }));
    const script = await workloadsScript();
    const pages: Page[] = [];
    for (let i = 0; i < specs.length; i++) {
      const page = await context.newPage();
      await page.goto(blank);
      await page.addScriptTag({ content: script, type: 'module' });
      await page.waitForFunction(() => window.__bench !== undefined, undefined, { timeout: 10_000 });
      pages.push(page);
    }
    const name = `bench-${Date.now()}`;
    return await Promise.all(
      pages.map((page, i) =>
        page.evaluate(
          ({ name, spec }) => {
            if (window.__bench === undefined) throw new Error('no bench script');
            return window.__bench.runLockClient(window.__bench.webLock(name), spec);
          },
          { name, spec: specs[i] as LockSpec },
        ),
      ),
    );
  } finally {
    await context.close();
  }
}

export async function launchBrowser(options: BrowserOptions): Promise<Browser> {
  return chromium.launch({ executablePath: options.executablePath, args: options.args, headless: true });
}

// --- Node edge peers --------------------------------------------------------------------------------

/** A call to a worker that gets no answer within this (beyond the workload's own deadline) fails. */
const WORKER_CALL_SLACK_MS = 60_000;

class NodeWorker {
  readonly child: ChildProcess;
  readonly #pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void; timer: NodeJS.Timeout }>();
  #nextId = 1;
  readonly ready: Promise<void>;
  alive = true;

  constructor() {
    const entry = fileURLToPath(new URL('./node-worker.ts', import.meta.url));
    this.child = fork(entry, [], { execArgv: ['--expose-gc', '--import', 'tsx'], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    let stderr = '';
    this.child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    this.ready = new Promise((resolve, reject) => {
      const onReady = (message: WorkerReply): void => {
        if (message.id === 0) {
          this.child.off('message', onReady);
          resolve();
        }
      };
      this.child.on('message', onReady);
      this.child.once('exit', (code, signal) => reject(new Error(`node worker exited (${code ?? signal}) before it was ready: ${stderr}`)));
    });
    this.child.on('message', (message: WorkerReply) => {
      const pending = this.#pending.get(message.id);
      if (pending === undefined) return;
      this.#pending.delete(message.id);
      clearTimeout(pending.timer);
      if (message.ok) pending.resolve(message.value);
      else pending.reject(new Error(message.error));
    });
    this.child.on('exit', (code, signal) => {
      this.alive = false;
      for (const [id, pending] of this.#pending) {
        clearTimeout(pending.timer);
        pending.reject(new Error(`node worker exited (${code ?? signal}) during call ${id}: ${stderr}`));
      }
      this.#pending.clear();
    });
  }

  call<T>(cmd: WorkerRequest['cmd'], args?: unknown, timeoutMs = WORKER_CALL_SLACK_MS): Promise<T> {
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`node worker: ${cmd} got no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, { resolve: resolve as (value: unknown) => void, reject, timer });
      this.child.send({ id, cmd, args } satisfies WorkerRequest);
    });
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const gone = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill(signal);
    await gone;
  }
}

export class NodeSystem implements System {
  readonly name = 'node';
  readonly #workers: NodeWorker[] = [];

  private constructor(
    readonly relayUrl: string,
    readonly room: string,
    readonly sessionTimeoutMs: number,
  ) {}

  static async start(relayUrl: string, room: string, sessionTimeoutMs = 10_000): Promise<NodeSystem> {
    const system = new NodeSystem(relayUrl, room, sessionTimeoutMs);
    try {
      for (let i = 0; i < 3; i++) await system.#startWorker();
      await system.#waitFormed();
    } catch (error) {
      await system.close();
      throw error;
    }
    return system;
  }

  get #live(): NodeWorker[] {
    return this.#workers.filter((worker) => worker.alive);
  }

  async #startWorker(): Promise<NodeWorker> {
    const worker = new NodeWorker();
    this.#workers.push(worker);
    await worker.ready;
    await worker.call('start', { relay: this.relayUrl, room: this.room, sessionTimeoutMs: this.sessionTimeoutMs }, FORM_TIMEOUT_MS);
    return worker;
  }

  async #waitFormed(): Promise<void> {
    await waitUntil(async () => formed(await Promise.all(this.#live.map((w) => w.call<KeeperStatus>('status'))), 3), 'three Node peers, three voters, one leader', FORM_TIMEOUT_MS);
  }

  async #byRole(): Promise<{ leader: NodeWorker; followers: NodeWorker[] }> {
    const live = this.#live;
    const statuses = await Promise.all(live.map((w) => w.call<KeeperStatus>('status')));
    const leaderIndex = statuses.findIndex((s) => s.role === 'leader');
    if (leaderIndex < 0) throw new Error('no leader among the Node peers');
    return { leader: live[leaderIndex] as NodeWorker, followers: live.filter((_, i) => i !== leaderIndex) };
  }

  async ensure(paths: string[]): Promise<void> {
    const { followers } = await this.#byRole();
    await (followers[0] as NodeWorker).call('ensure', paths);
  }

  async ops(spec: OpsSpec): Promise<OpsResult> {
    const { followers } = await this.#byRole();
    return (followers[0] as NodeWorker).call<OpsResult>('ops', spec, spec.deadlineMs + WORKER_CALL_SLACK_MS);
  }

  lock(path: string, specs: LockSpec[]): Promise<LockCycle[][]> {
    return Promise.all(
      this.#live.slice(0, specs.length).map((worker, i) => {
        const spec = specs[i] as LockSpec;
        return worker.call<LockCycle[]>('lock', { path, spec }, spec.stopAtEpochMs - benchNow() + WORKER_CALL_SLACK_MS);
      }),
    );
  }

  async failover(prefix: string, deadlineMs: number): Promise<number> {
    const { leader, followers } = await this.#byRole();
    const killedAt = benchNow();
    const killed = leader.kill();
    const write = await (followers[0] as NodeWorker).call<FailoverWrite>('write-until-success', { prefix, deadlineMs }, deadlineMs + WORKER_CALL_SLACK_MS);
    await killed;
    if (!write.ok) throw new Error(`no write succeeded within ${deadlineMs} ms after the leader was killed: ${write.lastError}`);
    await this.#startWorker();
    await this.#waitFormed();
    return write.doneAt - killedAt;
  }

  async lockLoss(path: string, how: 'kill' | 'close', deadlineMs: number): Promise<number> {
    const { leader, followers } = await this.#byRole();
    const holder = followers[0] as NodeWorker;
    const waiter = followers[1] ?? leader;
    await holder.call('begin-acquire', { path, key: 'g-holder' });
    await holder.call('await-acquire', { key: 'g-holder', timeoutMs: 10_000, release: false }, 20_000);
    await waiter.call('begin-acquire', { path, key: 'g-waiter' });
    await new Promise((resolve) => setTimeout(resolve, 500));
    const lostAt = benchNow();
    // SIGTERM: node-worker.ts closes its session and leaves, then exits.
    const gone = holder.kill(how === 'kill' ? 'SIGKILL' : 'SIGTERM');
    const acquiredAt = await waiter.call<number>('await-acquire', { key: 'g-waiter', timeoutMs: deadlineMs, release: true }, deadlineMs + WORKER_CALL_SLACK_MS);
    await gone;
    await this.#startWorker();
    await this.#waitFormed();
    return acquiredAt - lostAt;
  }

  async heapUsed(): Promise<number> {
    const { followers } = await this.#byRole();
    return (followers[0] as NodeWorker).call<number>('heap-used');
  }

  async close(): Promise<void> {
    await Promise.all(
      this.#live.map(async (worker) => {
        await worker.call('leave', undefined, 15_000).catch(() => undefined);
        await worker.kill();
      }),
    );
    await Promise.all(this.#workers.map((worker) => worker.kill()));
  }
}
