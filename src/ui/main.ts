/**
 * The meshkeeper app: every tab of it is a peer. It joins the room named by `?room=` (default
 * `demo`) through the relay served at this page's own origin (`/relay`; `?relay=` overrides;
 * `?relay=none` joins with no relay: the ensemble is this browser profile's tabs, which meet over
 * BroadcastChannel, so the page works served as static files alone), keeps
 * its replica in IndexedDB, and exposes its Keeper as `window.keeper` for the console and tests.
 * It shows the quorum state in a banner, the cluster (every peer of the room from the status board:
 * cluster-view.ts), this tab's peer status, controls (add a tab, leave gracefully: controls.ts), a
 * write form, the lock playground (lock-playground.ts), this peer's metrics (metrics.ts: latency
 * histogram and throughput of this tab's writes, elections, dropped messages) and the tree browser
 * (tree-view.ts: lazy tree, Stat, data, watch events). The form's and the playground's writes go
 * through `instrumentWrites`, which times them for the metrics; `window.keeper` is the Keeper itself.
 *
 * The recipes (meshkeeper/recipes: Lock, Semaphore, ...) are exposed as `window.recipes`, so the
 * console and tests can run them on `window.keeper`. `?sessionTimeoutMs=` sets this tab's session
 * timeout (API.md bounds; the default otherwise), e.g. to watch a frozen holder's lock expire sooner.
 */
import './style.css';
import { CREATE_MODES, Keeper, KeeperError, type CreateMode, type KeeperStatus } from '../browser.js';
import type * as Recipes from '../recipes/index.js';
import { mountClusterView } from './cluster-view.js';
import { mountControls, quorumLine, type Controls } from './controls.js';
import { mountLockPlayground } from './lock-playground.js';
import { instrumentWrites, mountMetricsView, StatusCounters, WriteMetrics } from './metrics.js';
import { mountTreeView } from './tree-view.js';

declare global {
  interface Window {
    keeper?: Keeper;
    /** Set when joining failed: the error's message (tests read it). */
    keeperError?: string;
    /** meshkeeper/recipes, for the console and tests: `new recipes.Lock(window.keeper, '/locks/x')`. */
    recipes?: typeof Recipes;
  }
}

const params = new URLSearchParams(location.search);
const room = params.get('room') ?? 'demo';
const relayParam = params.get('relay');
/** undefined: no relay (`?relay=none`), the ensemble of this profile's tabs. */
const relay = relayParam === 'none' ? undefined : (relayParam ?? `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/relay`);
/** Absent: Keeper.join's default. Out of bounds or not a number: joining fails and says why. */
const sessionTimeoutParam = params.get('sessionTimeoutMs');
const sessionTimeoutMs = sessionTimeoutParam === null ? undefined : Number(sessionTimeoutParam);

const app = document.querySelector<HTMLDivElement>('#app');
if (app === null) throw new Error('index.html has no #app');

app.innerHTML = `
  <header class="top">
    <h1>meshkeeper</h1>
    <p class="tagline">ZooKeeper's coordination model for browser tabs and edge peers. Every tab of this page is a peer of room <strong data-testid="room"></strong>.</p>
    <p class="banner" data-testid="quorum-banner" data-quorum="unknown" role="status" aria-live="polite">Joining…</p>
  </header>
  <main>
    <section aria-labelledby="cluster-title" class="panel wide" data-testid="cluster">
      <h2 id="cluster-title">Cluster</h2>
      <p class="cluster-waiting">Waiting for this tab to join the room…</p>
    </section>
    <section aria-labelledby="status-title" class="panel">
      <h2 id="status-title">This tab</h2>
      <p data-testid="state" role="status" aria-live="polite">connecting…</p>
      <dl class="facts">
        <dt>Peer</dt><dd data-testid="peer-id">–</dd>
        <dt>Role</dt><dd data-testid="role">–</dd>
        <dt>Term</dt><dd data-testid="term">–</dd>
        <dt>Leader</dt><dd data-testid="leader">–</dd>
        <dt>Voters</dt><dd data-testid="voters">–</dd>
        <dt>Observers</dt><dd data-testid="observers">–</dd>
        <dt>Commit / applied</dt><dd data-testid="indexes">–</dd>
        <dt>Quorum</dt><dd data-testid="quorum">–</dd>
      </dl>
    </section>
    <section aria-labelledby="controls-title" class="panel" data-testid="controls">
      <h2 id="controls-title">Controls</h2>
      <p class="controls-waiting">Waiting for this tab to join the room…</p>
    </section>
    <section aria-labelledby="write-title" class="panel" data-testid="write-panel">
      <h2 id="write-title">Write</h2>
      <form id="write" class="form">
        <label>Path <input name="path" value="/app" required autocomplete="off" spellcheck="false" /></label>
        <label>Data <input name="data" value="hello" autocomplete="off" spellcheck="false" /></label>
        <label>Mode <select name="mode" aria-label="Mode">${CREATE_MODES.map((m) => `<option>${m}</option>`).join('')}</select></label>
        <label>TTL (ms, TTL modes) <input name="ttl" type="number" min="1" value="60000" /></label>
        <label>Version (-1 = any) <input name="version" type="number" value="-1" /></label>
        <div class="buttons">
          <button name="action" value="create">Create</button>
          <button name="action" value="set">Set data</button>
          <button name="action" value="delete">Delete</button>
        </div>
      </form>
      <p role="status" aria-live="polite" data-testid="result" class="result"></p>
    </section>
    <section aria-labelledby="lock-title" class="panel" data-testid="lock-playground">
      <h2 id="lock-title">Lock playground</h2>
      <p class="lock-waiting">Waiting for this tab to join the room…</p>
    </section>
    <section aria-labelledby="metrics-title" class="panel wide" data-testid="metrics">
      <h2 id="metrics-title">Metrics of this peer</h2>
      <p class="metrics-waiting">Waiting for this tab to join the room…</p>
    </section>
    <section aria-labelledby="tree-title" class="panel wide" data-testid="tree-browser">
      <h2 id="tree-title">Znodes</h2>
      <p class="tree-waiting">Waiting for this tab to join the room…</p>
    </section>
    <section aria-labelledby="bench-title" class="panel wide" data-testid="benchmarks">
      <h2 id="bench-title">Benchmarks</h2>
      <p class="bench-waiting">Loading the latest benchmark results…</p>
    </section>
  </main>
`;

function part<T extends Element>(selector: string): T {
  const element = app!.querySelector<T>(selector);
  if (element === null) throw new Error(`app markup has no ${selector}`);
  return element;
}

const form = part<HTMLFormElement>('#write');
const result = part<HTMLParagraphElement>('[data-testid="result"]');
const stateLine = part<HTMLParagraphElement>('[data-testid="state"]');
const banner = part<HTMLParagraphElement>('[data-testid="quorum-banner"]');
part<HTMLElement>('[data-testid="room"]').textContent = room;

function show(testId: string, value: string): void {
  part<HTMLElement>(`[data-testid="${testId}"]`).textContent = value;
}

function showStatus(status: KeeperStatus): void {
  show('peer-id', status.peerId);
  show('role', status.role);
  show('term', String(status.term));
  show('leader', status.leaderId ?? 'none');
  show('voters', status.voters.join(', ') || 'none');
  show('observers', status.observers.join(', ') || 'none');
  show('indexes', `${status.commitIndex} / ${status.appliedIndex}`);
  show('quorum', status.quorum ? 'yes' : 'no quorum: writes wait until a majority of voters is reachable');
  const line = quorumLine(status);
  if (banner.textContent !== line.text) banner.textContent = line.text;
  banner.dataset.quorum = line.quorum ? 'yes' : 'no';
}

/** A panel's placeholder goes and the view takes its place. */
function panel(testId: string): HTMLElement {
  const section = part<HTMLElement>(`[data-testid="${testId}"]`);
  section.querySelector('[class$="-waiting"]')?.remove();
  return section;
}

function describeError(error: unknown): string {
  if (error instanceof KeeperError) return `${error.code} (${error.errno})`;
  return error instanceof Error ? error.message : String(error);
}

async function submit(keeper: Pick<Keeper, 'create' | 'setData' | 'delete'>, event: SubmitEvent): Promise<string> {
  const fields = new FormData(form);
  const path = String(fields.get('path') ?? '');
  const data = String(fields.get('data') ?? '');
  const version = Number(fields.get('version') ?? -1);
  const mode = String(fields.get('mode')) as CreateMode;
  const submitter = event.submitter as HTMLButtonElement | null;
  switch (submitter?.value) {
    case 'set':
      await keeper.setData(path, data, version);
      return 'setData ok';
    case 'delete':
      await keeper.delete(path, version);
      return 'delete ok';
    default: {
      const created = await keeper.create(path, data, mode.endsWith('_ttl') ? { mode, ttlMs: Number(fields.get('ttl')) } : { mode });
      return `created ${created}`;
    }
  }
}

async function main(): Promise<void> {
  // Loaded (not imported statically) because the client loads web-locks.ts lazily for keeper.locks:
  // a static import here would defeat that split. Set before joining, so it is there once the
  // state line says "session connected".
  window.recipes = await import('../recipes/index.js');
  const keeper = await Keeper.join({ room, ...(relay === undefined ? {} : { relay }), ...(sessionTimeoutMs === undefined ? {} : { sessionTimeoutMs }) });
  window.keeper = keeper;
  const metrics = new WriteMetrics();
  const counters = new StatusCounters();
  const measured = instrumentWrites(keeper, metrics);
  stateLine.textContent = `session ${keeper.state}`;
  showStatus(keeper.status());
  counters.observe(keeper.status());
  let controls: Controls | null = null;
  const stopStatus = keeper.on('status', (status) => {
    counters.observe(status);
    showStatus(status);
    controls?.showQuorum(quorumLine(status));
  });
  const clusterView = mountClusterView(panel('cluster'), keeper, 'cluster-title');
  keeper.on('state', (state) => {
    stateLine.textContent = `session ${state}`;
  });
  const tree = mountTreeView(panel('tree-browser'), keeper, 'tree-title');
  const playground = mountLockPlayground(panel('lock-playground'), { keeper: measured, Lock: window.recipes.Lock, labelledBy: 'lock-title' });
  const metricsView = mountMetricsView(panel('metrics'), { source: keeper, metrics, counters });
  controls = mountControls(panel('controls'), {
    href: location.href,
    room,
    leave: async () => {
      stopStatus();
      playground.destroy();
      clusterView.destroy();
      tree.destroy();
      metricsView.destroy();
      for (const button of form.querySelectorAll('button')) button.disabled = true;
      await keeper.close();
      const left = `This tab left room ${room}: it is no peer any more. Reload to rejoin.`;
      banner.textContent = left;
      banner.dataset.quorum = 'left';
      part<HTMLElement>('[data-testid="quorum-summary"]').textContent = left;
    },
    recover: () => keeper.unsafeRecoverFromThisPeer(),
  });
  controls.showQuorum(quorumLine(keeper.status()));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    submit(measured, event as SubmitEvent).then(
      (text) => {
        result.textContent = text;
        result.classList.remove('error');
        tree.refresh().catch((error: unknown) => console.warn('meshkeeper: tree refresh failed', error));
      },
      (error: unknown) => {
        result.textContent = describeError(error);
        result.classList.add('error');
      },
    );
  });
  // pagehide: the browser platform's hook (platform/leave-on-pagehide.ts) leaves at once for every Keeper.
}

main().catch((error: unknown) => {
  window.keeperError = describeError(error);
  stateLine.textContent = `could not join room ${room} ${relay === undefined ? 'without a relay' : `at ${relay}`}: ${window.keeperError}`;
  stateLine.classList.add('error');
});

// The Benchmarks view (bench-view.ts: the latest results, bundled at build time) is a chunk of its
// own, loaded without waiting for the room: the dashboard's chunk does not carry it.
import('./bench-view.js').then(
  ({ mountBenchView }) => mountBenchView(panel('benchmarks')),
  (error: unknown) => {
    panel('benchmarks').insertAdjacentHTML('beforeend', '<p class="error">Could not load the benchmark view.</p>');
    console.warn('meshkeeper: bench view failed to load', error);
  },
);
