/** The benchmark's SVG chart: for each workload all three systems run (a-g), one horizontal bar per
 *  system (meshkeeper tabs, meshkeeper Node, ZooKeeper) on that workload's own scale, labelled with
 *  the median and each meshkeeper bar's ratio to ZooKeeper (meshkeeper ÷ ZooKeeper, as in the
 *  table). role="img" with a <title> and a <desc> that reads every figure out. Plain strings, no
 *  runtime imports but report.ts's: the app (src/ui/bench-view.ts) draws it too. */
import type { WorkloadKey } from './run.js';
import { formatNumber, WORKLOADS, type Summary } from './report.js';

/** Okabe-Ito colours (told apart with colour-blindness); every bar is also named in text. */
export const CHART_SYSTEMS = [
  { name: 'tabs', label: 'meshkeeper tabs', color: '#0072b2' },
  { name: 'node', label: 'meshkeeper Node', color: '#d55e00' },
  { name: 'zookeeper', label: 'ZooKeeper', color: '#707070' },
] as const;

/** One figure per workload: throughput where the workload is about it, else the median latency. */
export const CHART_WORKLOADS: ReadonlyArray<{ key: WorkloadKey; metric: 'opsPerSec' | 'p50Ms'; unit: string; better: 'higher' | 'lower' }> = [
  { key: 'a', metric: 'opsPerSec', unit: 'ops/s', better: 'higher' },
  { key: 'b', metric: 'opsPerSec', unit: 'ops/s', better: 'higher' },
  { key: 'c1', metric: 'opsPerSec', unit: 'ops/s', better: 'higher' },
  { key: 'c64', metric: 'opsPerSec', unit: 'ops/s', better: 'higher' },
  { key: 'd', metric: 'opsPerSec', unit: 'ops/s', better: 'higher' },
  { key: 'e', metric: 'p50Ms', unit: 'ms p50', better: 'lower' },
  { key: 'f', metric: 'p50Ms', unit: 'ms median', better: 'lower' },
  { key: 'g-killed', metric: 'p50Ms', unit: 'ms median', better: 'lower' },
  { key: 'g-closed', metric: 'p50Ms', unit: 'ms median', better: 'lower' },
];

/** Wide enough for the longest heading at FONT_PX; scales down in the app (viewBox). */
const WIDTH = 760;
const MARGIN = 16;
const FONT_PX = 12;
/** Room left of the bars for "meshkeeper tabs", right of the longest bar for "1,472 ops/s · 12.34× ZooKeeper". */
const SYSTEM_LABEL_WIDTH = 120;
const VALUE_LABEL_WIDTH = 235;
const BAR_HEIGHT = 14;
const BAR_GAP = 4;
const HEADING_HEIGHT = 22;
const GROUP_GAP = 12;
/** The title and the subtitle line above the first workload. */
const TOP = 60;
/** A figure above zero still shows as a sliver next to a bar thousands of times longer. */
const MIN_BAR_PX = 1;
const BAR_MAX_PX = WIDTH - 2 * MARGIN - SYSTEM_LABEL_WIDTH - VALUE_LABEL_WIDTH;

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

interface Bar {
  system: (typeof CHART_SYSTEMS)[number];
  value: number | undefined;
  /** Shown instead of a bar: "not run", "failed", "–" (not measured). */
  missing: string;
  ratio: number | undefined;
}

function barsOf(results: Summary, key: WorkloadKey, metric: 'opsPerSec' | 'p50Ms'): Bar[] {
  const valueOf = (name: string): number | undefined => {
    const value = results.systems[name]?.figures[key]?.[metric];
    return value !== undefined && Number.isFinite(value) ? value : undefined;
  };
  const zk = valueOf('zookeeper');
  return CHART_SYSTEMS.map((system) => {
    const entry = results.systems[system.name];
    const value = valueOf(system.name);
    const missing = entry === undefined || (!entry.ran && entry.error?.startsWith('not run') === true) ? 'not run' : !entry.ran && entry.figures[key] === undefined ? 'failed' : '–';
    const ratio = system.name !== 'zookeeper' && value !== undefined && zk !== undefined && zk > 0 ? value / zk : undefined;
    return { system, value, missing, ratio };
  });
}

function label(bar: Bar, unit: string): string {
  if (bar.value === undefined) return bar.missing;
  return `${formatNumber(bar.value)} ${unit}${bar.ratio === undefined ? '' : ` · ${bar.ratio.toFixed(2)}× ZooKeeper`}`;
}

/** The workloads drawn: those of CHART_WORKLOADS that some system measured. */
export function chartedWorkloads(results: Summary): typeof CHART_WORKLOADS {
  return CHART_WORKLOADS.filter(({ key }) => Object.values(results.systems).some((entry) => entry.figures[key] !== undefined));
}

function workloadLabel(key: WorkloadKey): string {
  return WORKLOADS.find((workload) => workload.key === key)?.label ?? key;
}

/** The whole chart as an SVG document (standalone file or inline in HTML). `idPrefix` keeps the
 *  title's and desc's ids unique where several charts share a page. */
export function renderChart(results: Summary, idPrefix = 'bench-chart'): string {
  const workloads = chartedWorkloads(results);
  const groupHeight = HEADING_HEIGHT + CHART_SYSTEMS.length * (BAR_HEIGHT + BAR_GAP) + GROUP_GAP;
  const height = TOP + Math.max(1, workloads.length) * groupHeight;
  const title = `meshkeeper benchmark, ${results.date} (${results.mode} run)`;
  const zkRan = results.systems.zookeeper?.ran === true;
  const describe: string[] = [
    `Bars per workload for meshkeeper in 3 Chromium tabs, meshkeeper on 3 Node edge peers and Apache ZooKeeper with 3 servers, medians on ${results.machine.cpus} CPUs; each workload has its own scale. Ratios are meshkeeper ÷ ZooKeeper: above 1 is better for ops/s, below 1 for milliseconds.${zkRan ? '' : ' ZooKeeper was not run.'}`,
  ];
  const groups: string[] = [];
  workloads.forEach(({ key, metric, unit, better }, index) => {
    const bars = barsOf(results, key, metric);
    const max = Math.max(0, ...bars.map((bar) => bar.value ?? 0));
    const heading = `${workloadLabel(key)} — ${unit}, ${better} is better`;
    describe.push(`${heading}: ${bars.map((bar) => `${bar.system.label} ${label(bar, unit)}`).join('; ')}.`);
    const y0 = TOP + index * groupHeight;
    const parts = [`<g class="workload" data-workload="${escapeXml(key)}">`, `<text x="${MARGIN}" y="${y0 + FONT_PX + 2}" font-weight="bold">${escapeXml(heading)}</text>`];
    bars.forEach((bar, row) => {
      const y = y0 + HEADING_HEIGHT + row * (BAR_HEIGHT + BAR_GAP);
      const textY = y + BAR_HEIGHT - 3;
      const x = MARGIN + SYSTEM_LABEL_WIDTH;
      const width = bar.value === undefined || max <= 0 ? 0 : Math.max(bar.value > 0 ? MIN_BAR_PX : 0, (bar.value / max) * BAR_MAX_PX);
      parts.push(`<g class="bar" data-system="${bar.system.name}">`);
      parts.push(`<title>${escapeXml(`${bar.system.label}, ${workloadLabel(key)}: ${label(bar, unit)}`)}</title>`);
      parts.push(`<text x="${MARGIN}" y="${textY}">${escapeXml(bar.system.label)}</text>`);
      if (bar.value !== undefined) parts.push(`<rect x="${x}" y="${y}" width="${width.toFixed(1)}" height="${BAR_HEIGHT}" fill="${bar.system.color}"/>`);
      parts.push(`<text x="${(x + width + 6).toFixed(1)}" y="${textY}"${bar.value === undefined ? ' font-style="italic" fill="#555"' : ''}>${escapeXml(label(bar, unit))}</text>`);
      parts.push('</g>');
    });
    parts.push('</g>');
    groups.push(parts.join('\n'));
  });
  if (workloads.length === 0) {
    describe.push('No workload has a figure.');
    groups.push(`<text x="${MARGIN}" y="${TOP + FONT_PX}">No workload has a figure.</text>`);
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-labelledby="${idPrefix}-title ${idPrefix}-desc" font-family="system-ui, sans-serif" font-size="${FONT_PX}" style="max-width: 100%; height: auto">`,
    `<title id="${idPrefix}-title">${escapeXml(title)}</title>`,
    `<desc id="${idPrefix}-desc">${escapeXml(describe.join(' '))}</desc>`,
    `<rect width="${WIDTH}" height="${height}" fill="#fff"/>`,
    `<text x="${MARGIN}" y="${MARGIN + FONT_PX}" font-size="${FONT_PX + 3}" font-weight="bold">${escapeXml(title)}</text>`,
    `<text x="${MARGIN}" y="${MARGIN + 2 * FONT_PX + 8}" fill="#333">${escapeXml(`Medians, ${results.machine.cpus} CPUs; each workload on its own scale; ratio = meshkeeper ÷ ZooKeeper${zkRan ? '' : ' (ZooKeeper not run)'}`)}</text>`,
    ...groups,
    '</svg>',
    '',
  ].join('\n');
}
