// Proves the built app loads in Debian Chromium from the meshkeeper server and renders its page.
import { test, expect } from './fixtures.js';

test('the app page renders its heading and mode', async ({ page, app }) => {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => { if (message.type() === 'error') errors.push(message.text()); });
  await page.goto(app.url);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('meshkeeper');
  await expect(page.getByTestId('mode')).toContainText('Standalone');
  expect(errors).toEqual([]);
});
