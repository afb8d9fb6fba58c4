/**
 * `npx tsx bench/render.ts bench/results/<date>.json`: the chart of a run that is already written
 * (run.ts does the same at the end of every run): `<date>.svg` beside the JSON, the chart's link in
 * `<date>.md`, and — for a full run no older than the one there — `latest.json` in the same
 * directory: the summary (no raw figures, no notes) that the app bundles (src/ui/bench-view.ts).
 * Quick runs never replace latest.json: the app shows full runs only.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderChart } from './chart.js';
import { linkChart, summarize, type Summary } from './report.js';
import type { Results } from './run.js';

export const LATEST_FILE = 'latest.json';

/** Writes `<dir>/<name>.svg`, links it from `<dir>/<name>.md` if that exists, and updates latest.json. Returns what it wrote. */
export async function writeChart(dir: string, name: string, results: Results): Promise<string[]> {
  const written: string[] = [];
  const svg = join(dir, `${name}.svg`);
  await writeFile(svg, renderChart(summarize(results)));
  written.push(svg);
  const md = join(dir, `${name}.md`);
  const markdown = await readFile(md, 'utf8').catch(() => null);
  if (markdown !== null) {
    const linked = linkChart(markdown, `${name}.svg`);
    if (linked !== markdown) {
      await writeFile(md, linked);
      written.push(md);
    }
  }
  if (results.mode === 'full') {
    const latest = join(dir, LATEST_FILE);
    const current = await readFile(latest, 'utf8').then((text) => JSON.parse(text) as Summary, () => null);
    if (current === null || current.date <= results.date) {
      await writeFile(latest, `${JSON.stringify(summarize(results), null, 2)}\n`);
      written.push(latest);
    }
  }
  return written;
}

async function main(): Promise<void> {
  const file = process.argv[2];
  if (file === undefined || !file.endsWith('.json') || basename(file) === LATEST_FILE) throw new Error('usage: npx tsx bench/render.ts bench/results/<date>.json');
  const results = JSON.parse(await readFile(file, 'utf8')) as Results;
  const written = await writeChart(dirname(file), basename(file, '.json'), results);
  console.log(`wrote ${written.join(', ')}`);
}

// A script when run, a module when run.ts imports it.
if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
