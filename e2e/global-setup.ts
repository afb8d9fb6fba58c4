// Builds the web app once before the e2e run, so every spec serves the same dist/ui. It builds into
// a private folder and swaps it in with two renames, so a run that starts while another is serving
// dist/ui (engineers running specs side by side) never finds the folder half-written.
import { rename, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { build } from 'vite';

export default async function globalSetup(): Promise<void> {
  const target = resolve('dist/ui');
  const fresh = resolve(`dist/ui.build-${process.pid}`);
  const old = resolve(`dist/ui.old-${process.pid}`);
  await build({ configFile: 'vite.config.ts', logLevel: 'warn', build: { outDir: fresh, emptyOutDir: true } });
  await rename(target, old).catch(() => undefined);
  await rename(fresh, target);
  await rm(old, { recursive: true, force: true });
}
