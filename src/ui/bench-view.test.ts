// The benchmark's SVG chart (bench/chart.ts) and the app's Benchmarks view (bench-view.ts), both
// plain strings, so no DOM here (like the other src/ui tests): well-formed markup, one bar per
// system and workload, the ratio labels, ZooKeeper "not run", escaping, and the no-results line.
// Here rather than beside bench/chart.ts because vitest.config.ts includes src/**/*.test.ts only.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CHART_SYSTEMS, CHART_WORKLOADS, renderChart } from '../../bench/chart.js';
import { summarize, tableRows, type Summary } from '../../bench/report.js';
import type { Figure, Results } from '../../bench/run.js';
import { latestResults, NO_RESULTS, renderBenchView } from './bench-view.js';

function figure(opsPerSec: number, p50Ms: number): Figure {
  return { opsPerSec, p50Ms, p99Ms: p50Ms * 2, n: 100, errors: 0, reps: 3 };
}

/** Every data and lock workload, f and g; ZooKeeper twice as fast and half as slow as tabs. */
function results(zookeeper: 'ran' | 'not run'): Summary {
  const meshkeeper = { a: figure(50, 4), b: figure(1000, 30), c1: figure(60, 4), c64: figure(1200, 28), d: figure(300_000, 0.2), e: figure(100, 8), f: figure(Number.NaN, 550), 'g-killed': figure(Number.NaN, 600), 'g-closed': figure(Number.NaN, 90) };
  const zk = { a: figure(100, 0.6), b: figure(5000, 10), c1: figure(120, 0.6), c64: figure(6000, 9), d: figure(20_000, 3), e: figure(400, 2), f: figure(Number.NaN, 420), 'g-killed': figure(Number.NaN, 4100), 'g-closed': figure(Number.NaN, 45) };
  return {
    date: '2026-11-26T00:00:00.000Z',
    mode: 'full',
    machine: { cpus: 2, model: 'test <cpu> & co', loadavg: [1, 1, 1], node: 'v20' },
    counts: { createSeq: 1, createPar: 1, setSeq: 1, setPar: 1, getPar: 1, lockCycles: 1, lockSeconds: 1, failovers: 1, lockLosses: 1, reloadZnodes: 1, reloads: 1 },
    systems: {
      tabs: { ran: true, figures: { ...meshkeeper, 'e-navigator.locks': figure(5000, 0.2) } },
      node: { ran: true, figures: { ...meshkeeper, a: figure(110, 0.5) } },
      zookeeper: zookeeper === 'ran' ? { ran: true, figures: zk } : { ran: false, error: 'not run (pass --with-zookeeper)', figures: {} },
    },
    bundle: [{ entry: 'meshkeeper', source: 'src/browser.ts', minBytes: 400_000, gzipBytes: 125_000, files: 3 }],
  };
}

/** Checks the markup nests: every tag matched, one root, quoted attributes, entities only. Returns the root's name. */
function wellFormed(markup: string): string {
  const tags = [...markup.matchAll(/<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<>]*")*)\s*(\/?)>/g)];
  expect(tags.length, 'every < opens a tag').toBe((markup.match(/</g) ?? []).length);
  expect(markup.match(/&(?!(amp|lt|gt|quot|#39);)/g), 'bare &').toBeNull();
  const open: string[] = [];
  let roots = 0;
  for (const [, closing, name, , selfClosing] of tags) {
    if (closing === '/') expect(open.pop(), `</${name}>`).toBe(name);
    else if (selfClosing !== '/') {
      if (open.length === 0) roots++;
      open.push(name as string);
    } else if (open.length === 0) roots++;
  }
  expect(open, 'unclosed').toEqual([]);
  expect(roots).toBe(1);
  return tags[0]?.[2] as string;
}

const barGroups = (svg: string, workload: string): string[] => {
  const group = svg.match(new RegExp(`<g class="workload" data-workload="${workload}">([\\s\\S]*?)\\n</g>\\n(?=<g class="workload"|</svg>)`))?.[1] ?? '';
  return [...group.matchAll(/<g class="bar" data-system="(\w+)">([\s\S]*?)<\/g>/g)].map(([, system, body]) => `${system}|${body}`);
};

describe('benchmark chart', () => {
  it('is one well-formed, labelled svg', () => {
    const svg = renderChart(results('ran'), 'x');
    expect(wellFormed(svg)).toBe('svg');
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" [^>]*role="img" aria-labelledby="x-title x-desc"/);
    expect(svg).toContain('<title id="x-title">meshkeeper benchmark, 2026-11-26T00:00:00.000Z (full run)</title>');
    expect(svg).toMatch(/<desc id="x-desc">[^<]*a: create, sequential — ops\/s, higher is better: meshkeeper tabs 50\.0 ops\/s · 0\.50× ZooKeeper;/);
    expect(svg).toContain('viewBox="0 0 ');
  });

  it('draws one bar per system for every workload, in order, on the workload\'s own scale', () => {
    const svg = renderChart(results('ran'));
    for (const { key } of CHART_WORKLOADS) {
      const bars = barGroups(svg, key);
      expect(bars.map((bar) => bar.split('|')[0]), key).toEqual(CHART_SYSTEMS.map((system) => system.name));
      for (const bar of bars) expect(bar.match(/<rect /g), `${key} ${bar}`).toHaveLength(1);
    }
    const widths = (key: string): number[] => barGroups(svg, key).map((bar) => Number(bar.match(/width="([\d.]+)"/)?.[1]));
    // d: tabs and node are the longest (300,000 ops/s), ZooKeeper 20,000 of it.
    const [tabs, node, zk] = widths('d') as [number, number, number];
    expect(tabs).toBe(node);
    expect(zk / tabs).toBeCloseTo(20_000 / 300_000, 2);
    // a: node (110 ops/s) is the longest, ZooKeeper (100) close to it.
    const [, nodeA, zkA] = widths('a') as [number, number, number];
    expect(zkA / nodeA).toBeCloseTo(100 / 110, 2);
  });

  it('labels each meshkeeper bar with its ratio to ZooKeeper; latencies in ms', () => {
    const svg = renderChart(results('ran'));
    const [tabs, node, zk] = barGroups(svg, 'a');
    expect(tabs).toContain('>50.0 ops/s · 0.50× ZooKeeper</text>');
    expect(node).toContain('>110 ops/s · 1.10× ZooKeeper</text>');
    expect(zk).toContain('>100 ops/s</text>');
    expect(zk).not.toContain('×');
    expect(barGroups(svg, 'e')[0]).toContain('>8.00 ms p50 · 4.00× ZooKeeper</text>');
    expect(barGroups(svg, 'g-killed')[1]).toContain('>600 ms median · 0.15× ZooKeeper</text>');
    expect(svg).toContain('e: lock, 3 clients (hand-off) — ms p50, lower is better');
  });

  it('says "not run" for ZooKeeper, with no bar and no ratios, when it did not run', () => {
    const svg = renderChart(results('not run'));
    wellFormed(svg);
    for (const { key } of CHART_WORKLOADS) {
      const [tabs, , zk] = barGroups(svg, key);
      expect(zk, key).toMatch(/^zookeeper\|/);
      expect(zk, key).not.toContain('<rect');
      expect(zk, key).toMatch(/font-style="italic"[^>]*>not run<\/text>/);
      expect(tabs, key).toContain('<rect');
    }
    expect(svg).not.toContain('×');
    expect(svg).toContain('ZooKeeper was not run.');
  });

  it('leaves out workloads nobody measured, marks a failed system', () => {
    const partial = results('ran');
    for (const entry of Object.values(partial.systems)) {
      delete entry.figures['g-killed'];
      delete entry.figures['g-closed'];
    }
    partial.systems.node = { ran: false, error: 'f, round 1 of 1: <timeout> & gone', figures: { a: figure(110, 0.5) } };
    const svg = renderChart(partial);
    wellFormed(svg);
    expect(svg).not.toContain('data-workload="g-killed"');
    expect(barGroups(svg, 'a')[1]).toContain('<rect');
    expect(barGroups(svg, 'b')[1]).toMatch(/>failed<\/text>/);
    expect(barGroups(svg, 'b')[1]).not.toContain('<rect');
  });

  it('renders the committed result of the first full run', () => {
    const json = JSON.parse(readFileSync('bench/results/2026-11-26T00-02-24Z.json', 'utf8')) as Results;
    const svg = renderChart(summarize(json));
    wellFormed(svg);
    // That run predates g: a-f are drawn.
    expect([...svg.matchAll(/data-workload="([\w-]+)"/g)].map((match) => match[1])).toEqual(['a', 'b', 'c1', 'c64', 'd', 'e', 'f']);
  });
});

describe('benchmarks view', () => {
  it('says plainly that there are no results', () => {
    const markup = renderBenchView(null);
    expect(markup).toContain('No benchmark results in this build');
    expect(markup).toContain(NO_RESULTS);
    expect(markup).not.toContain('<table');
    expect(markup).not.toContain('<svg');
  });

  it('shows the table with medians and ratios, the run\'s facts and the chart', () => {
    const summary = results('ran');
    const markup = renderBenchView(summary);
    expect(markup.match(/<svg /g)).toHaveLength(1);
    expect(markup).toContain('aria-labelledby="bench-view-chart-title bench-view-chart-desc"');
    expect(markup).toContain('<th scope="col">ZooKeeper (3 servers)</th>');
    const rows = [...markup.matchAll(/<tr><th scope="row">([^<]*)<\/th>((?:<td[^>]*>[^<]*<\/td>)*)<\/tr>/g)];
    // Every row of the markdown table but h's: the fixture measured no h, and the view leaves such rows out.
    expect(rows.map((row) => row[1])).toEqual(tableRows(summary).map((row) => row[0]).filter((label) => !label?.startsWith('h:')));
    const cells = (row: string): string[] => [...row.matchAll(/<td[^>]*>([^<]*)<\/td>/g)].map((cell) => cell[1] as string);
    const aOps = rows.find((row) => row[1] === 'a: create, sequential' && cells(row[2] as string)[0] === 'ops/s');
    expect(cells(aOps?.[2] as string)).toEqual(['ops/s', '50.0', '110', '100', '0.50×', '1.10×']);
    expect(markup).toContain('Full run of 2026-11-26T00:00:00.000Z: 2 CPUs (test &lt;cpu&gt; &amp; co)');
    expect(markup).toContain('medians of 3 repetitions');
    expect(markup).toContain('meshkeeper 122 KiB');
  });

  it('lists what did not run, escaped', () => {
    const notRun = renderBenchView(results('not run'));
    expect(notRun).toContain('<li>zookeeper: not run (pass --with-zookeeper)</li>');
    expect(notRun).toMatch(/<td[^>]*>not run<\/td>/);
    const broken = results('ran');
    broken.systems.tabs = { ran: false, error: '<script>x</script> & "more"', figures: {} };
    const markup = renderBenchView(broken);
    expect(markup).toContain('<li>tabs: &lt;script&gt;x&lt;/script&gt; &amp; &quot;more&quot;</li>');
    wellFormed(`<div>${markup}</div>`);
  });

  it('bundles the summary of the newest full run in bench/results (latest.json is up to date)', () => {
    const dir = 'bench/results';
    const full = readdirSync(dir)
      .filter((file) => /^\d{4}-.*Z\.json$/.test(file))
      .map((file) => JSON.parse(readFileSync(`${dir}/${file}`, 'utf8')) as Results)
      .filter((run) => run.mode === 'full')
      .sort((x, y) => x.date.localeCompare(y.date));
    const newest = full[full.length - 1];
    if (newest === undefined) expect(latestResults()).toBeNull();
    else expect(latestResults()).toEqual(summarize(newest));
  });
});
