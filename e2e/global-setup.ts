// Builds the web app once before the e2e run, so every spec serves the same dist/ui.
import { build } from 'vite';

export default async function globalSetup(): Promise<void> {
  await build({ configFile: 'vite.config.ts', logLevel: 'warn' });
}
