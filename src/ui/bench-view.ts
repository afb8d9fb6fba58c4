/**
 * The "Benchmarks" view: the latest full benchmark run, bundled at build time from
 * bench/results/latest.json (a summary without raw figures or notes that `npm run bench` and
 * bench/render.ts write): its table of medians and ratios to ZooKeeper (the rows of the markdown
 * report, bench/report.ts) and its chart (bench/chart.ts). main.ts loads this module lazily, so the
 * dashboard's own chunk carries none of it. Without results it says so, and how to make them.
 */
import { escapeXml, renderChart } from '../../bench/chart.js';
import { RATIO_NOTE, TABLE_HEADER, formatNumber, tableRows, type Summary } from '../../bench/report.js';

/** A glob, not an import: a checkout without bench/results/latest.json still builds, and shows none. */
const bundled = import.meta.glob<Summary>('../../bench/results/latest.json', { eager: true, import: 'default' });

export const NO_RESULTS = 'No benchmark results in this build: run `npm run bench` (a full run writes bench/results/latest.json), then build the app again.';

/** The results this build carries, or null. */
export function latestResults(): Summary | null {
  return Object.values(bundled)[0] ?? null;
}

const html = escapeXml;

/** The view's markup: facts about the run, the table, the chart; or the plain "no results" line. */
export function renderBenchView(results: Summary | null, idPrefix = 'bench-view'): string {
  if (results === null) return `<p class="bench-none" data-testid="bench-none">${html(NO_RESULTS)}</p>`;
  const { machine } = results;
  const reps = Math.max(0, ...Object.values(results.systems).flatMap((entry) => Object.values(entry.figures).map((figure) => figure.reps)));
  const facts = `${results.mode === 'full' ? 'Full' : 'Quick'} run of ${results.date}: ${machine.cpus} CPUs (${machine.model}), load ${machine.loadavg.map((load) => load.toFixed(1)).join(' ')}, Node ${machine.node}; medians of ${reps} repetition${reps === 1 ? '' : 's'}.`;
  const head = TABLE_HEADER.map((cell) => `<th scope="col">${html(cell)}</th>`).join('');
  // Workloads that this run did not measure at all (a run older than g and h) are left out.
  const measured = tableRows(results).filter(([, , ...cells]) => cells.slice(0, 3).some((cell) => cell !== '–' && cell !== 'not run'));
  const body = measured
    .map(([workload, metric, ...cells]) => `<tr><th scope="row">${html(workload ?? '')}</th><td>${html(metric ?? '')}</td>${cells.map((cell) => `<td style="text-align: right">${html(cell)}</td>`).join('')}</tr>`)
    .join('\n');
  const problems = Object.entries(results.systems)
    .filter(([, entry]) => entry.error !== undefined)
    .map(([name, entry]) => `<li>${html(`${name}: ${entry.error}`)}</li>`);
  const bundle = Array.isArray(results.bundle)
    ? results.bundle.map((size) => `${size.entry} ${formatNumber(size.gzipBytes / 1024)} KiB`).join(', ')
    : `not measured (${results.bundle.error})`;
  return [
    `<p data-testid="bench-facts">${html(facts)}</p>`,
    `<table class="bench-table" data-testid="bench-table">`,
    '<caption>Medians per workload and system</caption>',
    `<thead><tr>${head}</tr></thead>`,
    `<tbody>\n${body}\n</tbody>`,
    '</table>',
    `<p>${html(RATIO_NOTE)}</p>`,
    problems.length === 0 ? '' : `<ul data-testid="bench-problems">${problems.join('')}</ul>`,
    `<p>Client bundle (min+gzip): ${html(bundle)}.</p>`,
    `<figure class="bench-chart" data-testid="bench-chart">${renderChart(results, `${idPrefix}-chart`)}</figure>`,
  ].join('\n');
}

/** Renders the view into `container` (a panel whose heading main.ts wrote). */
export function mountBenchView(container: HTMLElement, results: Summary | null = latestResults()): void {
  const body = document.createElement('div');
  body.className = 'bench-view';
  body.innerHTML = renderBenchView(results);
  container.append(body);
}
