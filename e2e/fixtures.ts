/**
 * Shared Playwright fixtures: `app` is a meshkeeper server (the same one `npm start` runs) on a free
 * loopback port, one per worker, so parallel runs never collide.
 */
import { test as base } from '@playwright/test';
import { resolve } from 'node:path';
import { startServer, type RunningServer } from '../src/edge/server.js';

export const test = base.extend<object, { app: RunningServer }>({
  app: [
    // eslint-disable-next-line no-empty-pattern -- Playwright requires the destructuring form.
    async ({}, use) => {
      // Rooms are new to this relay (one per worker, never restarted): no settling grace for joiners.
      const server = await startServer({ port: 0, host: '127.0.0.1', staticDir: resolve('dist/ui'), relay: { settlingMs: 0 } });
      await use(server);
      await server.close();
    },
    { scope: 'worker' },
  ],
});

export { expect } from '@playwright/test';
