/**
 * meshkeeper/testing/playwright: test your app on a real ensemble.
 *
 * ```ts
 * import { test, expect } from 'meshkeeper/testing/playwright';
 * test.use({ meshkeeper: { appUrl: 'http://127.0.0.1:5173/' } });
 * test('my app survives a leader freeze', async ({ ensemble }) => {
 *   const tabs = await ensemble.addTabs(3, { placement: 'context-per-tab' });
 *   const { leader } = await ensemble.waitForLeader({ voters: 3 });
 *   await ensemble.nemesis.freeze(leader!);
 *   ...
 * });
 * ```
 *
 * `ensemble` starts a signaling relay on a free loopback port (or uses `relayUrl`), opens the app
 * as peer tabs of one fresh room (`?room=…&relay=…`, override with `tabUrl`), starts Node edge peers
 * (`meshkeeper peer`), waits until every reachable tab agrees on one leader, and gives a nemesis:
 *
 * - crash: a tab by CDP `Page.crash` (no pagehide; use `context-per-tab` placement, since tabs of
 *   one context may share a renderer), a process by SIGKILL;
 * - close: a tab by `page.close()` (fires pagehide), a process by SIGTERM (graceful leave);
 * - freeze / resume: a tab by CDP `Debugger.pause` / `Debugger.resume` (its main thread stops; a
 *   dedicated worker runs on), a process by SIGSTOP / SIGCONT;
 * - restart: a process, with the same arguments and data folder (the same peer resumes);
 * - restartRelay: the relay closes and comes back on the same port after `downMs`;
 * - isolate / heal: a tab cut off from every peer and the relay by wrapping the browser's message
 *   APIs (playwright-isolation.ts). Processes cannot be partitioned (freeze them instead).
 *
 * Every action is logged with its time (`nemesis.log`). `recordLeadership` polls the tabs' status
 * to check that no term ever had two leaders. The register workload and the linearizability check
 * are in playwright-workload.ts (re-exported here).
 *
 * The app must expose its `Keeper` as `window.keeper` (as meshkeeper's own app does).
 */
import { test as base, type Browser, type BrowserContext, type BrowserContextOptions, type BrowserType, type CDPSession, type LaunchOptions, type Page } from '@playwright/test';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Keeper, KeeperStatus } from '../client/index.js';
import { startRelay, type StandaloneRelay } from '../relay/server.js';
import { installIsolationGate } from './playwright-isolation.js';

declare global {
  interface Window {
    /** The app's Keeper: the fixture reads status and runs workloads through it. */
    keeper?: Keeper;
    /** Set by the app when joining failed (meshkeeper's app does); read in reports. */
    keeperError?: string;
  }
}

export { expect } from '@playwright/test';
export * from './index.js';
export * from './playwright-workload.js';
export type { IsolationGate } from './playwright-isolation.js';

/** Forming takes a few seconds (WebRTC, admission, promotion); this bounds one tab's or process's
 *  arrival, or one wait for agreement, on a loaded two-core machine. */
export const ENSEMBLE_FORM_TIMEOUT_MS = 30_000;
/** A status read from a tab that does not answer within this is skipped (a frozen tab). */
export const STATUS_READ_TIMEOUT_MS = 1_500;
/** How often waits and the leadership recorder poll the tabs. */
export const STATUS_POLL_MS = 100;
/** At most this many peers in one ensemble (tabs and processes, including replaced ones). */
export const ENSEMBLE_PEERS_MAX = 32;
/** A process given SIGTERM that has not left within this is killed (its leave is bounded by the
 *  runtime's LEAVE_WAIT_MS = 10 s). */
export const PROCESS_TERM_GRACE_MS = 15_000;
/** At most this many status observations are kept by one leadership recorder. */
export const LEADERSHIP_OBSERVATIONS_MAX = 200_000;

/** Where a tab lives: tabs of one context share IndexedDB and may share a renderer process. */
export type TabPlacement = 'shared-context' | 'context-per-tab' | 'browser-per-tab';

export interface TabUrlParts {
  appUrl: string;
  room: string;
  relayUrl: string;
  sessionTimeoutMs: number | undefined;
  secret: string | undefined;
}

export interface EnsembleConfig {
  /** The app under test; every tab opens it. Required for tabs. */
  appUrl?: string;
  /** The URL of a tab; by default appUrl plus `room`, `relay` and `sessionTimeoutMs` query
   *  parameters (what meshkeeper's own app reads). */
  tabUrl?: (parts: TabUrlParts) => string;
  /** Use this relay instead of starting one (then `restartRelay` is unavailable). */
  relayUrl?: string;
  /** The room; a fresh unique one by default. */
  room?: string;
  sessionTimeoutMs?: number;
  /** The room secret, for edge peers and `tabUrl`. */
  secret?: string;
  /** For the contexts the fixture creates; `permissions: ['microphone']` is added (Chromium only
   *  gathers loopback ICE candidates with a media permission). */
  contextOptions?: BrowserContextOptions;
  /** The command before `peer …`: by default `node <this package's cli>` (from sources: `node
   *  --import tsx src/edge/cli.ts`). */
  peerCommand?: readonly string[];
  formTimeoutMs?: number;
  /** Install the isolation gate in every tab (default true). */
  isolation?: boolean;
}

export interface TabPeer {
  readonly kind: 'tab';
  readonly name: string;
  readonly page: Page;
  readonly context: BrowserContext;
  readonly placement: TabPlacement;
  readonly peerId: string;
  /** Uncaught page errors and console errors, in order. */
  readonly errors: string[];
  state: PeerState;
}

export interface ProcessPeer {
  readonly kind: 'process';
  readonly name: string;
  child: ChildProcessWithoutNullStreams;
  readonly peerId: string;
  readonly folder: string;
  readonly args: readonly string[];
  /** Everything it wrote to stdout and stderr (for failure reports). */
  output: string;
  state: PeerState;
}

export type MeshPeer = TabPeer | ProcessPeer;
export type PeerState = 'running' | 'frozen' | 'isolated' | 'crashed' | 'closed';

export interface NemesisEvent {
  /** ms since the ensemble started (performance.now() based). */
  readonly atMs: number;
  readonly action: string;
  readonly target: string;
}

export interface LeaderInfo {
  readonly leaderId: string;
  readonly term: number;
  /** The peer handle of the leader, when it is one of this ensemble's peers. */
  readonly leader: MeshPeer | undefined;
  readonly voters: readonly string[];
  readonly observers: readonly string[];
}

export interface WaitForLeaderOptions {
  timeoutMs?: number;
  /** Also wait until the configuration has this many voters. */
  voters?: number;
  /** Only these tabs must agree (default: every running tab). */
  tabs?: readonly TabPeer[];
  /** The leader must not be this peer id (e.g. the frozen old leader). */
  notLeader?: string;
  /** Also wait until no voter is a crashed, closed or frozen peer of this ensemble (a crashed
   *  voter has been replaced), so that stopping any one voter leaves a quorum that can elect.
   *  Voters the fixture did not start (e.g. a test's own Node Keeper) count as running. */
  votersRunning?: boolean;
}

/** One status read of one tab. */
export interface LeadershipObservation {
  readonly atMs: number;
  readonly tab: string;
  readonly peerId: string;
  readonly role: KeeperStatus['role'];
  readonly term: number;
  readonly leaderId: string | null;
}

export interface LeadershipLog {
  readonly observations: readonly LeadershipObservation[];
  /** Terms in which more than one peer reported itself leader (must be empty). */
  readonly conflicts: readonly { term: number; leaders: string[] }[];
  /** For each term seen, the peer(s) that reported leading it. */
  readonly leadersByTerm: ReadonlyMap<number, readonly string[]>;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** `promise`, or `fallback` if it has not settled within `ms` (the promise is left running). */
function within<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(fallback), ms);
  });
  return Promise.race([promise.catch(() => fallback), timeout]).finally(() => clearTimeout(timer));
}

function defaultPeerCommand(): string[] {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.ts')) return [process.execPath, '--import', 'tsx', fileURLToPath(new URL('../edge/cli.ts', import.meta.url))];
  return [process.execPath, fileURLToPath(new URL('../edge/cli.js', import.meta.url))];
}

function defaultTabUrl(parts: TabUrlParts): string {
  const url = new URL(parts.appUrl);
  url.searchParams.set('room', parts.room);
  url.searchParams.set('relay', parts.relayUrl);
  if (parts.sessionTimeoutMs !== undefined) url.searchParams.set('sessionTimeoutMs', String(parts.sessionTimeoutMs));
  return url.toString();
}

/** A room name unique to this process and moment. */
export function uniqueRoomName(prefix = 'mk'): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6).toString(36)}`;
}

/** What `createEnsemble` needs from Playwright (the fixture passes its own). */
export interface EnsembleDeps {
  browser: Browser;
  /** For 'browser-per-tab' placement. */
  browserType?: BrowserType;
  launchOptions?: LaunchOptions;
}

/** Reads `window.keeper.status()`, or null when the tab does not answer in time. */
export function readTabStatus(page: Page, timeoutMs = STATUS_READ_TIMEOUT_MS): Promise<KeeperStatus | null> {
  return within(
    page.evaluate(() => (window.keeper === undefined ? null : window.keeper.status())),
    timeoutMs,
    null,
  );
}

export class Ensemble {
  readonly room: string;
  readonly nemesis: Nemesis;
  /** Every peer ever started, in order (including crashed and closed ones). */
  readonly peers: MeshPeer[] = [];
  private readonly config: EnsembleConfig;
  private readonly deps: EnsembleDeps;
  private readonly started = performance.now();
  private relay: StandaloneRelay | null = null;
  private relayPort = 0;
  private sharedContext: BrowserContext | null = null;
  private readonly contexts: BrowserContext[] = [];
  private readonly browsers: Browser[] = [];
  private dataRoot: string | null = null;
  private tabCount = 0;
  private processCount = 0;

  private constructor(config: EnsembleConfig, deps: EnsembleDeps) {
    this.config = config;
    this.deps = deps;
    this.room = config.room ?? uniqueRoomName();
    this.nemesis = new Nemesis(this);
  }

  /** Starts the relay (unless `relayUrl` is given); tabs and processes are added by the test. */
  static async start(config: EnsembleConfig, deps: EnsembleDeps): Promise<Ensemble> {
    const ensemble = new Ensemble(config, deps);
    if (config.relayUrl === undefined) {
      // A relay started with the ensemble: nobody is on the way back, so no settling grace
      // (restartRelay keeps it: that is the case it is for).
      ensemble.relay = await startRelay({ host: '127.0.0.1', port: 0, settlingMs: 0 });
      ensemble.relayPort = ensemble.relay.port;
    }
    return ensemble;
  }

  get relayUrl(): string {
    if (this.config.relayUrl !== undefined) return this.config.relayUrl;
    return `ws://127.0.0.1:${this.relayPort}/relay`;
  }

  get formTimeoutMs(): number {
    return this.config.formTimeoutMs ?? ENSEMBLE_FORM_TIMEOUT_MS;
  }

  /** ms since the ensemble started. */
  now(): number {
    return performance.now() - this.started;
  }

  tabs(state?: PeerState): TabPeer[] {
    return this.peers.filter((peer): peer is TabPeer => peer.kind === 'tab' && (state === undefined || peer.state === state));
  }

  processes(state?: PeerState): ProcessPeer[] {
    return this.peers.filter((peer): peer is ProcessPeer => peer.kind === 'process' && (state === undefined || peer.state === state));
  }

  /** The newest peer of the ensemble with this id is running, or no peer of the ensemble has it
   *  (a peer this fixture did not start, e.g. the test's own Node Keeper). */
  private isRunningOrForeign(peerId: string): boolean {
    const peer = [...this.peers].reverse().find((p) => p.peerId === peerId);
    return peer === undefined || peer.state === 'running';
  }

  /** `id (name state)` for messages: the newest peer of the ensemble with that id, whatever its state. */
  private describe(peerId: string): string {
    const peer = [...this.peers].reverse().find((p) => p.peerId === peerId);
    return peer === undefined ? `${peerId} (not of this ensemble)` : `${peerId} (${peer.name} ${peer.state})`;
  }

  byId(peerId: string): MeshPeer | undefined {
    return [...this.peers].reverse().find((peer) => peer.peerId === peerId && (peer.state !== 'crashed' && peer.state !== 'closed'));
  }

  /** Opens `count` tabs one after the other (each waits for its session), as the fixture's
   *  placement says; 'shared-context' tabs share one context for the whole ensemble. */
  async addTabs(count: number, options: { placement?: TabPlacement } = {}): Promise<TabPeer[]> {
    const added: TabPeer[] = [];
    for (let i = 0; i < count; i++) added.push(await this.addTab(options));
    return added;
  }

  async addTab(options: { placement?: TabPlacement } = {}): Promise<TabPeer> {
    if (this.config.appUrl === undefined) throw new Error('ensemble: set meshkeeper.appUrl to open tabs');
    this.checkCapacity();
    const placement = options.placement ?? 'shared-context';
    const context = await this.contextFor(placement);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    const url = (this.config.tabUrl ?? defaultTabUrl)({
      appUrl: this.config.appUrl,
      room: this.room,
      relayUrl: this.relayUrl,
      sessionTimeoutMs: this.config.sessionTimeoutMs,
      secret: this.config.secret,
    });
    await page.goto(url);
    try {
      await page.waitForFunction(() => window.keeperError !== undefined || window.keeper?.state === 'connected', undefined, { timeout: this.formTimeoutMs, polling: STATUS_POLL_MS });
    } catch (error) {
      throw new Error(`tab at ${url} not connected within ${this.formTimeoutMs} ms; page errors: ${errors.join(' | ') || 'none'}`, { cause: error });
    }
    const joined = await page.evaluate(() => (window.keeper === undefined ? { error: window.keeperError ?? 'no keeper' } : { peerId: window.keeper.status().peerId }));
    if ('error' in joined) throw new Error(`tab at ${url} could not join: ${joined.error}`);
    this.tabCount += 1;
    const tab: TabPeer = { kind: 'tab', name: `tab${this.tabCount}`, page, context, placement, peerId: joined.peerId, errors, state: 'running' };
    this.peers.push(tab);
    return tab;
  }

  /** Starts `count` edge peers (`meshkeeper peer`), each with its own data folder under a temp dir
   *  (`memory: true`: no files). Waits for each to print its id line. */
  async addProcesses(count: number, options: { memory?: boolean } = {}): Promise<ProcessPeer[]> {
    const added: ProcessPeer[] = [];
    for (let i = 0; i < count; i++) added.push(await this.addProcess(options));
    return added;
  }

  async addProcess(options: { memory?: boolean } = {}): Promise<ProcessPeer> {
    this.checkCapacity();
    this.dataRoot ??= await mkdtemp(join(tmpdir(), 'meshkeeper-ensemble-'));
    this.processCount += 1;
    const name = `node${this.processCount}`;
    const args = ['peer', '--relay', this.relayUrl, '--room', this.room,
      ...(options.memory === true ? ['--memory'] : ['--data', join(this.dataRoot, name)]),
      ...(this.config.secret === undefined ? [] : ['--secret', this.config.secret])];
    const peer: ProcessPeer = { kind: 'process', name, child: this.spawnPeer(args), peerId: '', folder: '', args, output: '', state: 'running' };
    this.peers.push(peer);
    const [, peerId, , folder] = await this.waitForIdLine(peer);
    Object.assign(peer, { peerId, folder });
    return peer;
  }

  /** Restarts a process peer with the same arguments (kill -9 first if it still runs). */
  async restartProcess(peer: ProcessPeer): Promise<void> {
    if (peer.state !== 'crashed' && peer.state !== 'closed') await this.nemesis.crash(peer);
    peer.child = this.spawnPeer(peer.args);
    peer.output = '';
    peer.state = 'running';
    const [, peerId] = await this.waitForIdLine(peer);
    if (peerId !== peer.peerId) throw new Error(`${peer.name} came back as ${peerId}, not ${peer.peerId}`);
  }

  private spawnPeer(args: readonly string[]): ChildProcessWithoutNullStreams {
    const [command, ...prefix] = this.config.peerCommand ?? defaultPeerCommand();
    if (command === undefined) throw new Error('ensemble: empty peerCommand');
    return spawn(command, [...prefix, ...args], { stdio: 'pipe' });
  }

  private waitForIdLine(peer: ProcessPeer): Promise<RegExpMatchArray> {
    const child = peer.child;
    const pattern = /peer (\S+) room (\S+) data (.+)\n/;
    return new Promise((resolve, reject) => {
      const onData = (chunk: Buffer): void => {
        peer.output += chunk.toString();
        const match = peer.output.match(pattern);
        if (match !== null) finish(() => resolve(match));
      };
      const onExit = (code: number | null): void => finish(() => reject(new Error(`${peer.name} exited with ${code} before its id line: ${peer.output}`)));
      const timer = setTimeout(() => finish(() => reject(new Error(`${peer.name}: no id line within ${this.formTimeoutMs} ms: ${peer.output}`))), this.formTimeoutMs);
      const finish = (settle: () => void): void => {
        clearTimeout(timer);
        child.off('exit', onExit);
        settle();
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', (chunk: Buffer) => {
        peer.output += chunk.toString();
      });
      child.once('exit', onExit);
    });
  }

  private checkCapacity(): void {
    if (this.peers.length >= ENSEMBLE_PEERS_MAX) throw new Error(`ensemble: at most ${ENSEMBLE_PEERS_MAX} peers`);
  }

  private async contextFor(placement: TabPlacement): Promise<BrowserContext> {
    if (placement === 'shared-context' && this.sharedContext !== null) return this.sharedContext;
    let browser = this.deps.browser;
    if (placement === 'browser-per-tab') {
      if (this.deps.browserType === undefined) throw new Error('ensemble: browser-per-tab needs browserType');
      browser = await this.deps.browserType.launch(this.deps.launchOptions);
      this.browsers.push(browser);
    }
    const options = this.config.contextOptions ?? {};
    const permissions = [...new Set([...(options.permissions ?? []), 'microphone'])];
    const context = await browser.newContext({ ...options, permissions });
    if (this.config.isolation !== false) await context.addInitScript(installIsolationGate);
    this.contexts.push(context);
    if (placement === 'shared-context') this.sharedContext = context;
    return context;
  }

  /** The status of every running tab that answers (frozen and isolated ones are read too when they
   *  answer; a paused tab usually does not). */
  async statuses(tabs: readonly TabPeer[] = this.tabs('running')): Promise<Map<TabPeer, KeeperStatus>> {
    const read = await Promise.all(tabs.map(async (tab) => [tab, await readTabStatus(tab.page)] as const));
    const result = new Map<TabPeer, KeeperStatus>();
    for (const [tab, status] of read) if (status !== null) result.set(tab, status);
    return result;
  }

  /** Waits until every given tab (default: every running tab) answers and agrees on one leader and
   *  term, that leader reports itself leader if it is one of those tabs, and (optionally) there are
   *  `voters` voters. */
  async waitForLeader(options: WaitForLeaderOptions = {}): Promise<LeaderInfo> {
    const timeoutMs = options.timeoutMs ?? this.formTimeoutMs;
    const deadline = performance.now() + timeoutMs;
    let last = 'no status read yet';
    while (performance.now() < deadline) {
      const tabs = options.tabs ?? this.tabs('running');
      const seen = await this.statuses(tabs);
      last = [...seen].map(([tab, s]) => `${tab.name}(${s.peerId}) ${s.role} term ${s.term} leader ${s.leaderId} voters ${s.voters.length}`).join('; ') || 'no tab answered';
      const agreed = agreement(tabs, seen, options);
      const running = agreed !== null && (options.votersRunning !== true || agreed.voters.every((id) => this.isRunningOrForeign(id)));
      if (agreed !== null && running) return { ...agreed, leader: this.byId(agreed.leaderId) };
      if (agreed !== null) last = `leader ${agreed.leaderId} term ${agreed.term}; voters ${agreed.voters.map((id) => this.describe(id)).join(', ')}: not all running peers of this ensemble`;
      await sleep(STATUS_POLL_MS);
    }
    throw new Error(`ensemble: no agreed leader within ${timeoutMs} ms; last seen: ${last}`);
  }

  /** Polls the status of every tab that is not crashed or closed (one loop per tab, so a frozen
   *  tab that does not answer delays no other) until `stop()`. Tabs added meanwhile are included. */
  recordLeadership(): { stop(): Promise<LeadershipLog> } {
    const observations: LeadershipObservation[] = [];
    const polled = new Set<TabPeer>();
    const loops: Promise<void>[] = [];
    let stopped = false;
    const live = (tab: TabPeer): boolean => tab.state !== 'crashed' && tab.state !== 'closed';
    const pollTab = async (tab: TabPeer): Promise<void> => {
      while (!stopped && live(tab) && observations.length < LEADERSHIP_OBSERVATIONS_MAX) {
        const status = await readTabStatus(tab.page);
        if (status !== null && !stopped) {
          observations.push({ atMs: this.now(), tab: tab.name, peerId: status.peerId, role: status.role, term: status.term, leaderId: status.leaderId });
        }
        await sleep(STATUS_POLL_MS);
      }
    };
    const supervise = async (): Promise<void> => {
      while (!stopped) {
        for (const tab of this.tabs()) {
          if (polled.has(tab) || !live(tab)) continue;
          polled.add(tab);
          loops.push(pollTab(tab));
        }
        await sleep(STATUS_POLL_MS);
      }
    };
    const supervisor = supervise();
    return {
      stop: async () => {
        stopped = true;
        await supervisor;
        await Promise.all(loops);
        return summarizeLeadership(observations);
      },
    };
  }

  /** The relay: close it, wait `downMs`, start it again on the same port. */
  async restartRelay(downMs: number): Promise<void> {
    if (this.relay === null) throw new Error('ensemble: restartRelay needs the relay the fixture started (relayUrl was given)');
    await this.relay.close();
    this.relay = null;
    await sleep(downMs);
    this.relay = await startRelay({ host: '127.0.0.1', port: this.relayPort });
  }

  relayStats(): ReturnType<StandaloneRelay['stats']> | null {
    return this.relay?.stats() ?? null;
  }

  /** @internal the nemesis's log. */
  record(action: string, target: string): void {
    this.nemesis.log.push({ atMs: Math.round(this.now()), action, target });
  }

  /** Stops everything: processes (SIGCONT then SIGKILL), contexts, extra browsers, relay, data. */
  async close(): Promise<void> {
    await Promise.all(this.processes().map(async (peer) => {
      if (peer.child.exitCode !== null || peer.child.signalCode !== null) return;
      const gone = new Promise<void>((resolve) => peer.child.once('exit', () => resolve()));
      peer.child.kill('SIGCONT');
      peer.child.kill('SIGKILL');
      await gone;
    }));
    for (const tab of this.tabs('frozen')) await this.nemesis.resume(tab).catch(() => undefined);
    for (const context of this.contexts) await context.close().catch(() => undefined);
    for (const browser of this.browsers) await browser.close().catch(() => undefined);
    if (this.relay !== null) await this.relay.close();
    this.relay = null;
    if (this.dataRoot !== null) await rm(this.dataRoot, { recursive: true, force: true });
  }
}

function agreement(tabs: readonly TabPeer[], seen: Map<TabPeer, KeeperStatus>, options: WaitForLeaderOptions): Omit<LeaderInfo, 'leader'> | null {
  if (tabs.length === 0 || seen.size !== tabs.length) return null;
  const statuses = [...seen.values()];
  const first = statuses[0]!;
  if (first.leaderId === null) return null;
  if (options.notLeader !== undefined && first.leaderId === options.notLeader) return null;
  for (const status of statuses) {
    if (status.leaderId !== first.leaderId || status.term !== first.term) return null;
    if (options.voters !== undefined && status.voters.length !== options.voters) return null;
    if (status.peerId === first.leaderId && status.role !== 'leader') return null;
    if (status.peerId !== first.leaderId && status.role === 'leader') return null;
  }
  return { leaderId: first.leaderId, term: first.term, voters: first.voters, observers: first.observers };
}

export function summarizeLeadership(observations: readonly LeadershipObservation[]): LeadershipLog {
  const leadersByTerm = new Map<number, string[]>();
  for (const seen of observations) {
    if (seen.role !== 'leader') continue;
    const leaders = leadersByTerm.get(seen.term) ?? [];
    if (!leaders.includes(seen.peerId)) leaders.push(seen.peerId);
    leadersByTerm.set(seen.term, leaders);
  }
  const conflicts = [...leadersByTerm].filter(([, leaders]) => leaders.length > 1).map(([term, leaders]) => ({ term, leaders }));
  return { observations, conflicts, leadersByTerm };
}

/** Fault injection on the ensemble's peers and relay. Each action is logged. */
export class Nemesis {
  readonly log: NemesisEvent[] = [];
  private readonly ensemble: Ensemble;
  private readonly debuggers = new Map<Page, CDPSession>();

  constructor(ensemble: Ensemble) {
    this.ensemble = ensemble;
  }

  /** Tab: CDP Page.crash (no pagehide); process: SIGKILL. Resolves once it is gone. */
  async crash(peer: MeshPeer): Promise<void> {
    this.ensemble.record('crash', peer.name);
    if (peer.kind === 'process') {
      await signalAndWait(peer, 'SIGKILL');
      peer.state = 'crashed';
      return;
    }
    const crashed = peer.page.waitForEvent('crash', { timeout: this.ensemble.formTimeoutMs });
    const cdp = await peer.context.newCDPSession(peer.page);
    cdp.send('Page.crash').catch(() => undefined); // never answers: the page is gone
    await crashed;
    peer.state = 'crashed';
    this.debuggers.delete(peer.page);
    await peer.page.close().catch(() => undefined);
  }

  /** Tab: page.close() (pagehide fires, the app leaves at once); process: SIGTERM, then waits for
   *  its exit (SIGKILL after PROCESS_TERM_GRACE_MS). */
  async close(peer: MeshPeer): Promise<void> {
    this.ensemble.record('close', peer.name);
    if (peer.kind === 'process') {
      const exited = signalAndWait(peer, 'SIGTERM');
      const inTime = await within(exited.then(() => true), PROCESS_TERM_GRACE_MS, false);
      if (!inTime) await signalAndWait(peer, 'SIGKILL');
      peer.state = 'closed';
      return;
    }
    if (peer.state === 'frozen') await this.resume(peer);
    await peer.page.close();
    peer.state = 'closed';
    this.debuggers.delete(peer.page);
  }

  /** Tab: Debugger.enable + Debugger.pause (the main thread stops at its next task); process:
   *  SIGSTOP. */
  async freeze(peer: MeshPeer): Promise<void> {
    this.ensemble.record('freeze', peer.name);
    if (peer.kind === 'process') {
      peer.child.kill('SIGSTOP');
    } else {
      let cdp = this.debuggers.get(peer.page);
      if (cdp === undefined) {
        cdp = await peer.context.newCDPSession(peer.page);
        await cdp.send('Debugger.enable');
        this.debuggers.set(peer.page, cdp);
      }
      await cdp.send('Debugger.pause');
    }
    peer.state = 'frozen';
  }

  async resume(peer: MeshPeer): Promise<void> {
    this.ensemble.record('resume', peer.name);
    if (peer.kind === 'process') {
      peer.child.kill('SIGCONT');
    } else {
      const cdp = this.debuggers.get(peer.page);
      if (cdp === undefined) throw new Error(`${peer.name} is not frozen`);
      await cdp.send('Debugger.resume');
    }
    peer.state = 'running';
  }

  /** A process: kill -9 (if running) and start again with the same data folder. */
  async restart(peer: ProcessPeer): Promise<void> {
    this.ensemble.record('restart', peer.name);
    await this.ensemble.restartProcess(peer);
  }

  /** Cuts a tab off from every peer and the relay (see playwright-isolation.ts). */
  async isolate(peer: MeshPeer): Promise<void> {
    if (peer.kind !== 'tab') throw new Error('isolate: only tabs can be partitioned (freeze a process with nemesis.freeze)');
    this.ensemble.record('isolate', peer.name);
    await setGate(peer.page, true);
    peer.state = 'isolated';
  }

  /** Opens the gate again; returns how many messages the tab dropped while cut off. */
  async heal(peer: MeshPeer): Promise<{ sent: number; received: number }> {
    if (peer.kind !== 'tab') throw new Error('heal: only tabs can be partitioned');
    const dropped = await setGate(peer.page, false);
    this.ensemble.record(`heal (dropped ${dropped.sent} sent, ${dropped.received} received)`, peer.name);
    peer.state = 'running';
    return dropped;
  }

  async restartRelay(downMs: number): Promise<void> {
    this.ensemble.record(`restart relay (down ${downMs} ms)`, 'relay');
    await this.ensemble.restartRelay(downMs);
  }
}

/** Sets the tab's gate; returns its dropped counts so far (and resets them). */
async function setGate(page: Page, isolated: boolean): Promise<{ sent: number; received: number }> {
  const dropped = await page.evaluate((shut) => {
    const gate = window.__meshkeeperNemesis;
    if (gate === undefined) return null;
    gate.isolated = shut;
    const counts = { ...gate.dropped };
    gate.dropped = { sent: 0, received: 0 };
    return counts;
  }, isolated);
  if (dropped === null) throw new Error('isolate: the isolation gate is not installed (EnsembleConfig.isolation was false)');
  return dropped;
}

async function signalAndWait(peer: ProcessPeer, signal: NodeJS.Signals): Promise<void> {
  const child = peer.child;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  if (peer.state === 'frozen' && signal !== 'SIGKILL') child.kill('SIGCONT');
  child.kill(signal);
  await gone;
}

export interface MeshkeeperFixtures {
  /** A fresh ensemble per test: a relay, no peers yet; closed after the test. */
  ensemble: Ensemble;
}

export interface MeshkeeperOptions {
  /** Set with `test.use({ meshkeeper: { appUrl } })`, or override the fixture. */
  meshkeeper: EnsembleConfig;
}

/** Playwright's `test` with the `ensemble` fixture and the `meshkeeper` option. */
export const test = base.extend<MeshkeeperFixtures & MeshkeeperOptions>({
  meshkeeper: [{}, { option: true }],
  ensemble: async ({ meshkeeper, browser, browserName, playwright, launchOptions }, use) => {
    const ensemble = await Ensemble.start(meshkeeper, { browser, browserType: playwright[browserName], launchOptions });
    try {
      await use(ensemble);
    } finally {
      await ensemble.close();
    }
  },
});

/** For runners that do not use the fixture: the same ensemble from a config and a browser. */
export function createEnsemble(config: EnsembleConfig, deps: EnsembleDeps): Promise<Ensemble> {
  return Ensemble.start(config, deps);
}
