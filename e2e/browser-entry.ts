// A browser entry of the sources (e.g. src/adapters/storage-compliance.browser.ts) bundled with
// Vite's build() and served, with a page that loads it, from a loopback HTTP server of its own
// (a page fulfilled by page.route has no address, and Chromium then blocks loopback sockets).
import { createServer } from 'node:http';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { build } from 'vite';

export interface ServedEntry {
  /** http://127.0.0.1:<port>/ : the page (also with a query string). */
  readonly origin: string;
  /** A temporary folder of the test's own (the bundle lives in it); removed by close(). */
  readonly root: string;
  close(): Promise<void>;
}

export async function serveBrowserEntry(options: { readonly entry: string; readonly title: string; readonly tmpPrefix: string }): Promise<ServedEntry> {
  const bundleName = 'entry.js';
  const page = `<!doctype html><meta charset="utf-8"><title>${options.title}</title><script type="module" src="/${bundleName}"></script>`;
  const root = await mkdtemp(join(tmpdir(), options.tmpPrefix));
  const outDir = join(root, 'bundle');
  await build({
    configFile: false,
    logLevel: 'warn',
    publicDir: false,
    build: { outDir, emptyOutDir: true, minify: false, lib: { entry: resolve(options.entry), formats: ['es'], fileName: () => bundleName } },
  });
  // The entry and whatever the build split off it (chunks of dynamic imports, worker scripts),
  // by their plain names in the bundle folder.
  const files = new Map<string, Buffer>();
  for (const name of await readdir(outDir, { recursive: true })) {
    const path = join(outDir, name);
    if ((await stat(path)).isFile()) files.set(`/${name.split(sep).join('/')}`, await readFile(path));
  }
  const server = createServer((request, response) => {
    if (request.url === '/' || request.url?.startsWith('/?') === true) return void response.writeHead(200, { 'content-type': 'text/html' }).end(page);
    const file = files.get(request.url ?? '');
    if (file !== undefined) return void response.writeHead(200, { 'content-type': 'text/javascript' }).end(file);
    response.writeHead(404).end();
  });
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('server has no port');
  return {
    origin: `http://127.0.0.1:${address.port}/`,
    root,
    close: async () => {
      await new Promise((closed) => server.close(closed));
      await rm(root, { recursive: true, force: true });
    },
  };
}
