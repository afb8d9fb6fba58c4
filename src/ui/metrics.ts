/**
 * The metrics view (issue 8, "Metrics"): for this tab's peer, a latency histogram of the writes
 * this tab makes (the write form, the lock playground and its name tag: every create, delete,
 * setData, multi and setACL through `instrumentWrites`), writes per second over the last minute,
 * and the counters the peer shows: elections seen (term increases in `status()`), leader changes,
 * quorum losses, and — where the status board keeps them (the networked board's `stats()`) — its
 * messages sent and received and the messages it dropped, by cause.
 *
 * Every buffer is bounded: the histogram is a fixed set of buckets, percentiles come from the last
 * LATENCY_SAMPLES_MAX writes, the throughput series keeps THROUGHPUT_WINDOW_S seconds. Charts are
 * plain SVG drawn here (role="img" with a text summary, and the counts as a table beside them).
 */

import type { KeeperStatus } from '../browser.js';

/** Upper bounds of the latency buckets, in ms, in 1-2-5 steps: from 1 ms (a write on a one-voter
 *  ensemble in this tab) to 10 s (past a default session timeout: a write that waited out an
 *  election). Slower writes land in one last, open bucket. */
export const LATENCY_BUCKET_BOUNDS_MS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000] as const;
/** Percentiles are taken over this many latest writes: enough for a stable p99, small to sort
 *  once a second. */
export const LATENCY_SAMPLES_MAX = 1_000;
/** The throughput chart shows this many latest seconds: long enough to see an election and the
 *  recovery after it on one screen. */
export const THROUGHPUT_WINDOW_S = 60;
/** Failures are counted by error code; codes beyond this many distinct ones count as 'other'
 *  (ZooKeeper has about twenty codes; a bound keeps a buggy caller from growing the map). */
export const FAILURE_CODES_MAX = 24;
/** The view redraws this often (the throughput series moves by the second). */
export const METRICS_REFRESH_MS = 1_000;

/** The calls counted as writes. */
export const WRITE_METHODS = ['create', 'delete', 'setData', 'multi', 'setACL'] as const;

/** The bucket `latencyMs` falls in: the first whose bound it does not exceed, or the open last one. */
export function bucketIndex(latencyMs: number): number {
  for (let i = 0; i < LATENCY_BUCKET_BOUNDS_MS.length; i++) if (latencyMs <= LATENCY_BUCKET_BOUNDS_MS[i]!) return i;
  return LATENCY_BUCKET_BOUNDS_MS.length;
}

/** A bucket's short axis label: its upper bound ("5", "1k"), or "more" for the open bucket. */
export function bucketLabel(index: number): string {
  const bound = LATENCY_BUCKET_BOUNDS_MS[index];
  if (bound === undefined) return 'more';
  return bound >= 1_000 ? `${bound / 1_000}k` : String(bound);
}

/** A bucket's range in words ("≤ 1 ms", "2–5 ms", "> 10000 ms"). */
export function bucketRange(index: number): string {
  const bound = LATENCY_BUCKET_BOUNDS_MS[index];
  const below = LATENCY_BUCKET_BOUNDS_MS[index - 1];
  if (bound === undefined) return `> ${LATENCY_BUCKET_BOUNDS_MS[LATENCY_BUCKET_BOUNDS_MS.length - 1]} ms`;
  return below === undefined ? `≤ ${bound} ms` : `${below}–${bound} ms`;
}

export interface SecondCount {
  /** Seconds since the epoch of the clock passed in. */
  readonly second: number;
  readonly ok: number;
  readonly failed: number;
}

/** What this tab's writes did: a histogram of successful writes' latencies, failures by code, and
 *  a per-second series. Time comes in as arguments (ms), so it is tested without a clock. */
export class WriteMetrics {
  readonly buckets: number[] = new Array<number>(LATENCY_BUCKET_BOUNDS_MS.length + 1).fill(0);
  readonly failures = new Map<string, number>();
  #ok = 0;
  #samples: number[] = [];
  #seconds: SecondCount[] = [];

  get ok(): number {
    return this.#ok;
  }

  get failed(): number {
    let total = 0;
    for (const count of this.failures.values()) total += count;
    return total;
  }

  record(write: { latencyMs: number; endedAtMs: number; error?: string }): void {
    const second = Math.floor(write.endedAtMs / 1_000);
    let last = this.#seconds[this.#seconds.length - 1];
    if (last === undefined || last.second !== second) {
      last = { second, ok: 0, failed: 0 };
      this.#seconds.push(last);
      if (this.#seconds.length > THROUGHPUT_WINDOW_S) this.#seconds.shift();
    }
    if (write.error !== undefined) {
      const code = this.failures.has(write.error) || this.failures.size < FAILURE_CODES_MAX ? write.error : 'other';
      this.failures.set(code, (this.failures.get(code) ?? 0) + 1);
      (last as { failed: number }).failed += 1;
      return;
    }
    this.#ok += 1;
    this.buckets[bucketIndex(write.latencyMs)]! += 1;
    this.#samples.push(write.latencyMs);
    if (this.#samples.length > LATENCY_SAMPLES_MAX) this.#samples.shift();
    (last as { ok: number }).ok += 1;
  }

  /** The `p`-th percentile (0 < p ≤ 100, nearest rank) of the latest successful writes, or null. */
  percentile(p: number): number | null {
    if (this.#samples.length === 0) return null;
    const sorted = [...this.#samples].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
  }

  /** The last THROUGHPUT_WINDOW_S seconds up to `nowMs`, oldest first, seconds without writes as 0. */
  series(nowMs: number): SecondCount[] {
    const now = Math.floor(nowMs / 1_000);
    const bySecond = new Map(this.#seconds.map((entry) => [entry.second, entry]));
    const out: SecondCount[] = [];
    for (let second = now - THROUGHPUT_WINDOW_S + 1; second <= now; second++) out.push(bySecond.get(second) ?? { second, ok: 0, failed: 0 });
    return out;
  }
}

/** The error code of a failed call (KeeperError's `code`), else its name. */
export function errorCode(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    if (error instanceof Error) return error.name;
  }
  return 'unknown';
}

/**
 * `target` with its write calls timed into `metrics` (everything else passes through). Methods
 * and getters run on the target itself, so a class with private fields (Keeper) works unchanged.
 */
export function instrumentWrites<T extends object>(target: T, metrics: WriteMetrics, now: () => number = () => performance.now(), wallNow: () => number = () => Date.now()): T {
  const writes = new Set<PropertyKey>(WRITE_METHODS);
  return new Proxy(target, {
    get(object, property) {
      const value: unknown = Reflect.get(object, property, object);
      if (typeof value !== 'function') return value;
      if (!writes.has(property)) return value.bind(object);
      return (...args: unknown[]): unknown => {
        const started = now();
        const done = (error?: unknown): void =>
          metrics.record({ latencyMs: now() - started, endedAtMs: wallNow(), ...(error === undefined ? {} : { error: errorCode(error) }) });
        const result = (value as (...a: unknown[]) => Promise<unknown>).apply(object, args);
        result.then(() => done(), (error: unknown) => done(error));
        return result;
      };
    },
  });
}

/** What the peer's status events showed since this page loaded. */
export class StatusCounters {
  elections = 0;
  leaderChanges = 0;
  quorumLosses = 0;
  #last: KeeperStatus | null = null;

  observe(status: KeeperStatus): void {
    const last = this.#last;
    this.#last = status;
    if (last === null) return;
    if (status.term > last.term) this.elections += status.term - last.term;
    if (status.leaderId !== last.leaderId && status.leaderId !== null) this.leaderChanges += 1;
    if (last.quorum && !status.quorum) this.quorumLosses += 1;
  }
}

/** The counters a networked status board keeps (platform/status-board.ts `stats()`); the public
 *  StatusBoard does not promise them, so they are read only where present. */
export interface BoardCounters {
  readonly runtimeReceived: number;
  readonly boardReceived: number;
  readonly boardSent: number;
  readonly dropped: Readonly<Record<string, number>>;
}

export function boardCounters(board: unknown): BoardCounters | null {
  if (typeof board !== 'object' || board === null) return null;
  const stats = (board as { stats?: unknown }).stats;
  if (typeof stats !== 'function') return null;
  const read: unknown = stats.call(board);
  if (typeof read !== 'object' || read === null || typeof (read as BoardCounters).dropped !== 'object') return null;
  return read as BoardCounters;
}

// --- drawing -------------------------------------------------------------------------------------

const SVG = 'http://www.w3.org/2000/svg';
/** Charts are drawn at their CSS width (text stays at its CSS size), at least this wide. */
const CHART_WIDTH_MIN = 240;
/** Before layout (no width yet), charts are drawn this wide. */
const CHART_WIDTH_DEFAULT = 560;
const CHART_HEIGHT = 170;
/** Axis labels at least this far apart (px), so they never overlap; others are left out. */
const LABEL_SPACING_MIN_PX = 34;
const AXIS_HEIGHT = 22;
const CHART_TOP = 14;

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attributes: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const made = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) made.setAttribute(name, String(value));
  if (text !== undefined) made.textContent = text;
  return made;
}

function element<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Record<string, string> = {}, text?: string): HTMLElementTagNameMap[K] {
  const made = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) made.setAttribute(name, value);
  if (text !== undefined) made.textContent = text;
  return made;
}

/** Bars scaled to the largest (stacked) value, each with its label (if any) under it. */
function barChart(chart: SVGSVGElement, bars: ReadonlyArray<{ value: number; stacked?: number; label: string; attributes: Record<string, string> }>): void {
  const measured = chart.getBoundingClientRect().width;
  const width = measured > 0 ? Math.max(CHART_WIDTH_MIN, Math.round(measured)) : CHART_WIDTH_DEFAULT;
  chart.setAttribute('viewBox', `0 0 ${width} ${CHART_HEIGHT}`);
  const plotHeight = CHART_HEIGHT - AXIS_HEIGHT - CHART_TOP;
  const max = Math.max(1, ...bars.map((bar) => bar.value + (bar.stacked ?? 0)));
  const slot = width / bars.length;
  const labelStep = Math.ceil(LABEL_SPACING_MIN_PX / slot);
  let lastLabel = -Infinity;
  const children: SVGElement[] = [
    svg('line', { x1: 0, x2: width, y1: CHART_TOP + plotHeight, y2: CHART_TOP + plotHeight, class: 'chart-axis' }),
    svg('text', { x: 2, y: CHART_TOP - 3, class: 'chart-label' }, `max ${max}`),
  ];
  bars.forEach((bar, i) => {
    const height = (bar.value / max) * plotHeight;
    const x = i * slot + slot * 0.1;
    const barWidth = Math.max(1, slot * 0.8);
    children.push(svg('rect', { x, width: barWidth, y: CHART_TOP + plotHeight - height, height, class: 'chart-bar', ...bar.attributes }));
    if (bar.stacked !== undefined && bar.stacked > 0) {
      const above = (bar.stacked / max) * plotHeight;
      children.push(svg('rect', { x, width: barWidth, y: CHART_TOP + plotHeight - height - above, height: above, class: 'chart-bar failed' }));
    }
    if (bar.label === '' || i - lastLabel < labelStep) return;
    lastLabel = i;
    // Labels near an edge are anchored to it, so none is cut off.
    const middle = i * slot + slot / 2;
    const anchor = middle < LABEL_SPACING_MIN_PX / 2 ? 'start' : middle > width - LABEL_SPACING_MIN_PX / 2 ? 'end' : 'middle';
    const labelX = anchor === 'start' ? 0 : anchor === 'end' ? width : middle;
    children.push(svg('text', { x: labelX, y: CHART_HEIGHT - 6, 'text-anchor': anchor, class: 'chart-label' }, bar.label));
  });
  chart.replaceChildren(...children);
}

/** The throughput axis labels every THROUGHPUT_LABEL_EVERY_S seconds back from now. */
const THROUGHPUT_LABEL_EVERY_S = 10;

export function secondLabel(secondsAgo: number): string {
  if (secondsAgo === 0) return 'now';
  return secondsAgo % THROUGHPUT_LABEL_EVERY_S === 0 ? `-${secondsAgo}s` : '';
}

function formatLatency(ms: number | null): string {
  if (ms === null) return '–';
  return ms < 10 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`;
}

export interface MetricsSource {
  status(): KeeperStatus;
  board(): unknown;
}

export interface MetricsView {
  render(): void;
  destroy(): void;
}

/** Fills `container` (a panel with its own heading) with the charts and counters. */
export function mountMetricsView(container: HTMLElement, options: { source: MetricsSource; metrics: WriteMetrics; counters: StatusCounters }): MetricsView {
  const { source, metrics, counters } = options;
  const summary = element('p', { class: 'metrics-summary', 'data-testid': 'metrics-summary' });

  const histogramBox = element('figure', { class: 'chart' });
  const histogramTitle = element('figcaption', { id: 'histogram-title' }, 'Write latency (ms, upper bound of each bucket)');
  const histogram = svg('svg', { height: CHART_HEIGHT, role: 'img', 'data-testid': 'latency-histogram', 'aria-labelledby': 'histogram-title histogram-text' });
  const histogramText = element('p', { id: 'histogram-text', class: 'visually-hidden' });
  histogramBox.append(histogramTitle, histogram, histogramText);

  const throughputBox = element('figure', { class: 'chart' });
  const throughputTitle = element('figcaption', { id: 'throughput-title' }, `Writes per second, last ${THROUGHPUT_WINDOW_S} s (failed ones stacked on top, dashed outline)`);
  const throughput = svg('svg', { height: CHART_HEIGHT, role: 'img', 'data-testid': 'throughput-chart', 'aria-labelledby': 'throughput-title throughput-text' });
  const throughputText = element('p', { id: 'throughput-text', class: 'visually-hidden' });
  throughputBox.append(throughputTitle, throughput, throughputText);

  const details = element('details', { class: 'metrics-table' });
  details.append(element('summary', {}, 'Latency buckets as a table'));
  const table = element('table', { 'data-testid': 'histogram-table' });
  details.append(table);

  const facts = element('dl', { class: 'facts', 'data-testid': 'peer-counters', 'aria-label': 'Counters of this peer since the page loaded' });
  container.append(summary, histogramBox, throughputBox, details, facts);

  const render = (): void => {
    const p50 = metrics.percentile(50);
    const p99 = metrics.percentile(99);
    summary.textContent = `${metrics.ok} writes ok, ${metrics.failed} answered with an error since this page loaded; p50 ${formatLatency(p50)}, p99 ${formatLatency(p99)} (last ${LATENCY_SAMPLES_MAX}).`;
    histogram.dataset.total = String(metrics.ok);
    barChart(
      histogram,
      metrics.buckets.map((count, i) => ({ value: count, label: bucketLabel(i), attributes: { 'data-bucket': String(i), 'data-count': String(count) } })),
    );
    histogramText.textContent = metrics.buckets.map((count, i) => `${bucketRange(i)}: ${count}`).join('; ');
    table.replaceChildren(
      element('caption', { class: 'visually-hidden' }, 'Successful writes by latency'),
      tableRow('th', ['Latency', 'Writes']),
      ...metrics.buckets.map((count, i) => tableRow('td', [bucketRange(i), String(count)])),
    );

    const series = metrics.series(Date.now());
    barChart(
      throughput,
      series.map((entry, i) => ({ value: entry.ok, stacked: entry.failed, label: secondLabel(series.length - 1 - i), attributes: { 'data-ok': String(entry.ok), 'data-failed': String(entry.failed) } })),
    );
    const peak = Math.max(...series.map((entry) => entry.ok));
    const failed = series.reduce((sum, entry) => sum + entry.failed, 0);
    throughputText.textContent = `Last second ${series[series.length - 1]?.ok ?? 0} writes; peak ${peak} per second; ${failed} failed in the window.`;

    const status = source.status();
    const rows: Array<[string, string]> = [
      ['Term', String(status.term)],
      ['Elections seen', String(counters.elections)],
      ['Leader changes', String(counters.leaderChanges)],
      ['Quorum lost', `${counters.quorumLosses} time${counters.quorumLosses === 1 ? '' : 's'}`],
      ['Errors by code', [...metrics.failures].map(([code, count]) => `${code} ${count}`).join(', ') || 'none'],
    ];
    const board = boardCounters(source.board());
    if (board === null) rows.push(['Status board', 'no counters here']);
    else {
      const dropped = Object.entries(board.dropped).filter(([, count]) => count > 0);
      rows.push(
        ['Board messages', `${board.boardSent} sent, ${board.boardReceived} received`],
        ['Runtime messages in', String(board.runtimeReceived)],
        ['Dropped messages', dropped.length === 0 ? 'none' : dropped.map(([cause, count]) => `${cause} ${count}`).join(', ')],
      );
    }
    facts.replaceChildren(...rows.flatMap(([label, value]) => [element('dt', {}, label), element('dd', { 'data-counter': label }, value)]));
  };

  const timer = setInterval(render, METRICS_REFRESH_MS);
  // Charts are drawn at their width: redraw when it changes (their height is fixed, so drawing
  // never resizes what is observed).
  const resized = new ResizeObserver(() => render());
  resized.observe(histogram);
  resized.observe(throughput);
  render();
  return {
    render,
    destroy: () => {
      clearInterval(timer);
      resized.disconnect();
    },
  };
}

function tableRow(cellTag: 'th' | 'td', cells: readonly string[]): HTMLTableRowElement {
  const row = element('tr');
  for (const text of cells) {
    const cell = element(cellTag, cellTag === 'th' ? { scope: 'col' } : {}, text);
    row.append(cell);
  }
  return row;
}
