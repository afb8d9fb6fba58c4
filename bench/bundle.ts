/**
 * The client bundle's size as a web app would ship it: each entry built by Vite in library mode
 * (ES module, browser conditions, minified, dependencies bundled) into a temp dir, every emitted
 * .js file gzipped (level 9) with node:zlib and summed.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'vite';

export interface BundleSize {
  entry: string;
  source: string;
  minBytes: number;
  gzipBytes: number;
  files: number;
}

const ENTRIES = [
  { entry: 'meshkeeper', source: 'src/browser.ts' },
  { entry: 'meshkeeper/recipes', source: 'src/recipes/index.ts' },
] as const;

async function jsFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const item of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, item.name);
    if (item.isDirectory()) found.push(...(await jsFiles(path)));
    else if (item.name.endsWith('.js')) found.push(path);
  }
  return found;
}

export async function bundleSizes(): Promise<BundleSize[]> {
  const sizes: BundleSize[] = [];
  for (const { entry, source } of ENTRIES) {
    const outDir = await mkdtemp(join(tmpdir(), 'meshkeeper-bench-bundle-'));
    try {
      await build({
        configFile: false,
        logLevel: 'warn',
        root: resolve('.'),
        publicDir: false,
        build: {
          outDir,
          emptyOutDir: true,
          target: 'es2022',
          minify: true,
          sourcemap: false,
          reportCompressedSize: false,
          lib: { entry: resolve(source), formats: ['es'], fileName: 'entry' },
          // Library mode keeps ES output's whitespace (for the app's own bundler); an app ships it
          // minified, so minify fully here.
          rolldownOptions: { output: { minify: true } },
        },
      });
      let minBytes = 0;
      let gzipBytes = 0;
      const files = await jsFiles(outDir);
      for (const file of files) {
        const bytes = await readFile(file);
        minBytes += bytes.length;
        gzipBytes += gzipSync(bytes, { level: 9 }).length;
      }
      sizes.push({ entry, source, minBytes, gzipBytes, files: files.length });
    } finally {
      await rm(outDir, { recursive: true, force: true });
    }
  }
  return sizes;
}
