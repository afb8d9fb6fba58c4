/** The benchmark's markdown table: one row per workload and metric, a column per system, and each
 *  meshkeeper figure's ratio to ZooKeeper's (meshkeeper ÷ ZooKeeper) where ZooKeeper ran. The rows
 *  (tableRows) are also the app's table (src/ui/bench-view.ts): no runtime imports here. */
import type { Figure, Results, WorkloadKey } from './run.js';

/** What the table and the chart need of a run: no raw figures, no notes (the app bundles this;
 *  bench/results/latest.json holds the latest full run's). */
export type Summary = Pick<Results, 'date' | 'mode' | 'machine' | 'counts' | 'bundle'> & {
  systems: Record<string, Pick<Results['systems'][string], 'ran' | 'error' | 'figures'>>;
};

export function summarize(results: Results): Summary {
  const systems: Summary['systems'] = {};
  for (const [name, { ran, error, figures }] of Object.entries(results.systems)) systems[name] = error === undefined ? { ran, figures } : { ran, error, figures };
  return { date: results.date, mode: results.mode, machine: results.machine, counts: results.counts, systems, bundle: results.bundle };
}

export const WORKLOADS: Array<{ key: WorkloadKey; label: string; metrics: Array<keyof Pick<Figure, 'opsPerSec' | 'p50Ms' | 'p99Ms' | 'bytesPerZnode'>> }> = [
  { key: 'a', label: 'a: create, sequential', metrics: ['opsPerSec', 'p50Ms', 'p99Ms'] },
  { key: 'b', label: 'b: create, 64 in flight', metrics: ['opsPerSec', 'p50Ms', 'p99Ms'] },
  { key: 'c1', label: 'c: setData, sequential', metrics: ['opsPerSec', 'p50Ms', 'p99Ms'] },
  { key: 'c64', label: 'c: setData, 64 in flight', metrics: ['opsPerSec', 'p50Ms', 'p99Ms'] },
  { key: 'd', label: 'd: getData, 64 in flight', metrics: ['opsPerSec', 'p50Ms', 'p99Ms'] },
  { key: 'e', label: 'e: lock, 3 clients (hand-off)', metrics: ['opsPerSec', 'p50Ms', 'p99Ms'] },
  { key: 'e-navigator.locks', label: 'e: navigator.locks, 3 pages (hand-off)', metrics: ['opsPerSec', 'p50Ms', 'p99Ms'] },
  { key: 'f', label: 'f: leader killed → next write', metrics: ['p50Ms', 'p99Ms'] },
  { key: 'g-killed', label: 'g: lock holder killed → next holder (4 s sessions)', metrics: ['p50Ms', 'p99Ms'] },
  { key: 'g-closed', label: 'g: lock holder closed → next holder', metrics: ['p50Ms', 'p99Ms'] },
  { key: 'h-reload', label: 'h: tab reload with N znodes → serves reads', metrics: ['p50Ms', 'p99Ms'] },
  { key: 'h-memory', label: 'h: JS heap per znode (a follower)', metrics: ['bytesPerZnode'] },
];

const METRIC_LABEL: Record<string, string> = { opsPerSec: 'ops/s', p50Ms: 'p50 ms', p99Ms: 'p99 ms' };

export function metricLabel(key: WorkloadKey, metric: string): string {
  if (key.startsWith('e') && metric === 'opsPerSec') return 'cycles/s';
  if (metric === 'bytesPerZnode') return 'bytes';
  if (key === 'f' || key.startsWith('g') || key === 'h-reload') return metric === 'p50Ms' ? 'median ms' : 'max ms';
  return METRIC_LABEL[metric] ?? metric;
}

export function formatNumber(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '–';
  if (value >= 100) return Math.round(value).toLocaleString('en-US');
  if (value >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

export const TABLE_HEADER = ['workload', 'metric', 'tabs (3, Chromium)', 'node (3 edge peers)', 'ZooKeeper (3 servers)', 'tabs ÷ ZK', 'node ÷ ZK'] as const;

/** The table's rows, cells as text, in TABLE_HEADER's order. */
export function tableRows(results: Summary): string[][] {
  const systems = ['tabs', 'node'] as const;
  const zk = results.systems.zookeeper;
  const zkRan = zk?.ran === true;
  const cell = (system: string, key: WorkloadKey, metric: keyof Figure): string => {
    const entry = results.systems[system];
    if (entry === undefined) return 'not run';
    const figure = entry.figures[key];
    if (figure === undefined) return entry.ran || entry.error === undefined ? '–' : 'failed';
    return formatNumber(figure[metric]);
  };
  const ratio = (system: string, key: WorkloadKey, metric: keyof Figure): string => {
    if (!zkRan) return 'not run';
    const mine = results.systems[system]?.figures[key]?.[metric];
    const theirs = zk?.figures[key]?.[metric];
    if (mine === undefined || theirs === undefined || !Number.isFinite(mine) || !Number.isFinite(theirs) || theirs === 0) return '–';
    return `${(mine / theirs).toFixed(2)}×`;
  };
  const rows: string[][] = [];
  for (const { key, label, metrics } of WORKLOADS) {
    for (const metric of metrics) {
      const zkCell = zk === undefined || !zk.ran ? (key === 'e-navigator.locks' ? '–' : 'not run') : cell('zookeeper', key, metric);
      const node = key === 'e-navigator.locks' ? '–' : cell('node', key, metric);
      const ratios = key === 'e-navigator.locks' || (key === 'f' || key.startsWith('g') || key.startsWith('h')) && !zkRan ? ['–', '–'] : systems.map((system) => ratio(system, key, metric));
      rows.push([label, metricLabel(key, metric), cell('tabs', key, metric), node, zkCell, ...ratios]);
    }
  }
  return rows;
}

export const RATIO_NOTE = 'Ratios are meshkeeper ÷ ZooKeeper: above 1 is better for ops/s and cycles/s, below 1 is better for latencies.';

export function renderMarkdown(results: Results): string {
  const lines: string[] = [];
  lines.push(`## meshkeeper benchmark, ${results.date} (${results.mode}; ${results.machine.cpus} CPUs, load ${results.machine.loadavg.map((l) => l.toFixed(1)).join(' ')})`);
  lines.push('');
  lines.push(`| ${TABLE_HEADER.join(' | ')} |`);
  lines.push('|---|---|---:|---:|---:|---:|---:|');
  for (const row of tableRows(results)) lines.push(`| ${row.join(' | ')} |`);
  lines.push('');
  lines.push(RATIO_NOTE);
  for (const [name, entry] of Object.entries(results.systems)) {
    if (entry.error !== undefined) lines.push(`- ${name}: ${entry.error}`);
    for (const [key, figure] of Object.entries(entry.figures)) {
      if (figure.errors > 0) lines.push(`- ${name} ${key}: ${figure.errors} failed operations`);
    }
  }
  lines.push('');
  lines.push('| bundle (min+gzip) | minified | gzip |');
  lines.push('|---|---:|---:|');
  if (Array.isArray(results.bundle)) {
    for (const size of results.bundle) lines.push(`| \`${size.entry}\` (${size.source}) | ${(size.minBytes / 1024).toFixed(1)} KiB | ${(size.gzipBytes / 1024).toFixed(1)} KiB |`);
  } else {
    lines.push(`| (failed: ${results.bundle.error}) | – | – |`);
  }
  lines.push('');
  for (const note of results.notes) lines.push(`- ${note}`);
  lines.push('');
  return lines.join('\n');
}

/** The chart's line in a markdown report: an image link to `<date>.svg` beside it, after the heading.
 *  Idempotent, so bench/render.ts can add it to a report written before the chart existed. */
export function linkChart(markdown: string, svgFile: string): string {
  const line = `![The benchmark as a bar chart: each workload's medians per system, with the ratios to ZooKeeper](${svgFile})`;
  if (markdown.includes(line)) return markdown;
  const newline = markdown.indexOf('\n');
  if (newline < 0) return `${markdown}\n\n${line}\n`;
  return `${markdown.slice(0, newline + 1)}\n${line}\n${markdown.slice(newline + 1)}`;
}
