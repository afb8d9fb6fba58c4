/**
 * The HTTP server behind `npm start` / `meshkeeper start`: serves the built web app (dist/ui) and
 * the signaling relay (WebSocket upgrades at `/relay`) on one port, so a newcomer opens one URL and
 * gets app and relay together; every tab of the app joins the relay at its own origin.
 */

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';
import type { AddressInfo } from 'node:net';
import { attachRelay, type Relay, type RelayOptions } from '../relay/server.js';
import { RELAY_PATH_DEFAULT } from '../relay/constants.js';

/** Files larger than this are not served from memory (the built app's largest asset is ~100 KB). */
const STATIC_FILE_BYTES_MAX = 32 * 1024 * 1024;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webmanifest': 'application/manifest+json',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};

export interface ServerOptions {
  /** 0 picks a free port (what tests do). */
  port: number;
  host: string;
  /** The built app: `vite build` writes it to dist/ui. */
  staticDir: string;
  /** The relay's caps (tests shorten its timers); the relay always runs at RELAY_PATH_DEFAULT. */
  relay?: RelayOptions;
}

export interface RunningServer {
  url: string;
  /** ws://host:port/relay: the relay on this server. */
  relayUrl: string;
  relay: Relay;
  port: number;
  close(): Promise<void>;
}

/** Resolves a request path inside `root`, or null if it would escape it. */
export function resolveInside(root: string, urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath.split('?')[0] ?? '/');
  } catch {
    return null;
  }
  if (decoded.includes('\0')) return null;
  const candidate = normalize(join(root, decoded));
  const rootResolved = resolve(root);
  if (candidate !== rootResolved && !candidate.startsWith(rootResolved + sep)) return null;
  return candidate;
}

async function fileIfPresent(path: string): Promise<string | null> {
  try {
    const info = await stat(path);
    if (info.isFile() && info.size <= STATIC_FILE_BYTES_MAX) return path;
    if (info.isDirectory()) return fileIfPresent(join(path, 'index.html'));
    return null;
  } catch {
    return null;
  }
}

async function serveStatic(root: string, request: IncomingMessage, response: ServerResponse): Promise<void> {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.writeHead(405, { allow: 'GET, HEAD' }).end();
    return;
  }
  const target = resolveInside(root, request.url ?? '/');
  if (target === null) {
    response.writeHead(400, { 'content-type': 'text/plain' }).end('bad path');
    return;
  }
  // Unknown paths without an extension get the app (client-side routes); others are 404.
  const file = (await fileIfPresent(target)) ?? (extname(target) === '' ? await fileIfPresent(join(root, 'index.html')) : null);
  if (file === null) {
    response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    return;
  }
  const body = await readFile(file);
  const type = CONTENT_TYPES[extname(file)] ?? 'application/octet-stream';
  const cache = file.includes(`${sep}assets${sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache';
  response.writeHead(200, { 'content-type': type, 'content-length': body.length, 'cache-control': cache });
  response.end(request.method === 'HEAD' ? undefined : body);
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const indexPath = join(options.staticDir, 'index.html');
  if ((await fileIfPresent(indexPath)) === null) {
    throw new Error(`no built app at ${options.staticDir} (run \`npx vite build\` first)`);
  }
  const server = createServer((request, response) => {
    serveStatic(options.staticDir, request, response).catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' });
      response.end(error instanceof Error ? error.message : 'error');
    });
  });
  await new Promise<void>((resolveListen, rejectListen) => {
    server.once('error', rejectListen);
    server.listen(options.port, options.host, () => resolveListen());
  });
  const relay = attachRelay(server, { ...options.relay, path: RELAY_PATH_DEFAULT });
  const { port } = server.address() as AddressInfo;
  const hostForUrl = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${hostForUrl}:${port}/`,
    relayUrl: relay.url,
    relay,
    port,
    close: async () => {
      await relay.close();
      await new Promise<void>((resolveClose) => {
        server.closeAllConnections();
        server.close(() => resolveClose());
      });
    },
  };
}
