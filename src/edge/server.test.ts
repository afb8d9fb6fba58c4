// Proves the app server serves the built files, falls back to the app for client routes, and never
// serves a file outside its folder (path traversal), using a real server on a free loopback port.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveInside, startServer, type RunningServer } from './server.js';

describe('resolveInside', () => {
  it('keeps paths inside the root', () => {
    expect(resolveInside('/srv/app', '/index.html')).toBe('/srv/app/index.html');
    expect(resolveInside('/srv/app', '/a/../b.js?x=1')).toBe('/srv/app/b.js');
  });
  it('refuses traversal, encoded traversal and NUL', () => {
    expect(resolveInside('/srv/app', '/../etc/passwd')).toBeNull();
    expect(resolveInside('/srv/app', '/%2e%2e/%2e%2e/etc/passwd')).toBeNull();
    expect(resolveInside('/srv/app', '/a%00b')).toBeNull();
    expect(resolveInside('/srv/app', '/%E0%A4%A')).toBeNull();
  });
});

describe('startServer', () => {
  let server: RunningServer;
  let root: string;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'mk-serve-'));
    mkdirSync(join(root, 'assets'));
    writeFileSync(join(root, 'index.html'), '<h1>app</h1>');
    writeFileSync(join(root, 'assets', 'x.js'), 'export {}');
    writeFileSync(join(tmpdir(), 'mk-secret.txt'), 'secret');
    server = await startServer({ port: 0, host: '127.0.0.1', staticDir: root });
  });
  afterAll(() => server.close());

  it('serves index.html at / and assets with their type', async () => {
    const index = await fetch(server.url);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toContain('text/html');
    expect(await index.text()).toBe('<h1>app</h1>');
    const asset = await fetch(new URL('assets/x.js', server.url));
    expect(asset.headers.get('content-type')).toContain('text/javascript');
  });

  it('answers client routes with the app and missing files with 404', async () => {
    expect(await (await fetch(new URL('cluster/view', server.url))).text()).toBe('<h1>app</h1>');
    expect((await fetch(new URL('missing.js', server.url))).status).toBe(404);
  });

  it('never serves a file outside its folder', async () => {
    const response = await fetch(`${server.url}..%2fmk-secret.txt`);
    expect(response.status).not.toBe(200);
    expect(await response.text()).not.toContain('secret');
  });

  it('refuses to start without a built app', async () => {
    await expect(startServer({ port: 0, host: '127.0.0.1', staticDir: join(root, 'assets') })).rejects.toThrow(/no built app/);
  });
});
