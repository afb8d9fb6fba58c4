// The app is a peer: tabs of it form one ensemble over the relay served at the same origin, talk
// over real WebRTC data channels in Debian Chromium, keep their replica in IndexedDB, and show
// their status; a znode written in one tab is read in another; a Node edge peer joins the same
// room. Every tab exposes its Keeper as window.keeper.
import { test, expect } from './fixtures.js';
import type { Page } from '@playwright/test';
import { collectErrors } from './helpers.js';

/** Forming an ensemble of tabs takes a few seconds (WebRTC + admission + promotion). */
const FORM_TIMEOUT_MS = 30_000;

async function role(page: Page): Promise<string> {
  return (await page.getByTestId('role').textContent()) ?? '';
}

test('three tabs form one ensemble: one leader, three voters, a write in one tab read in another', async ({ context, app }) => {
  test.setTimeout(90_000);
  const room = `e2e-${test.info().workerIndex}-${Date.now()}`;
  const pages: Page[] = [];
  const errors: string[][] = [];
  for (let i = 0; i < 3; i++) {
    const page = await context.newPage();
    errors.push(collectErrors(page));
    await page.goto(`${app.url}?room=${room}`);
    await expect(page.getByTestId('state')).toHaveText('session connected', { timeout: FORM_TIMEOUT_MS });
    pages.push(page);
  }
  await expect(pages[0]!.getByRole('heading', { level: 1 })).toHaveText('meshkeeper');
  await expect(pages[0]!.getByTestId('room')).toHaveText(room);

  // Every tab sees three voters and the same leader; exactly one tab is that leader.
  for (const page of pages) await expect(page.getByTestId('voters')).toHaveText(/^[^,]+, [^,]+, [^,]+$/, { timeout: FORM_TIMEOUT_MS });
  const leaderIds = await Promise.all(pages.map((page) => page.getByTestId('leader').textContent()));
  expect(new Set(leaderIds).size).toBe(1);
  const roles = await Promise.all(pages.map(role));
  expect(roles.filter((r) => r === 'leader')).toHaveLength(1);
  expect(roles.filter((r) => r === 'follower')).toHaveLength(2);

  // A write through the form of a follower tab; read in the leader's tab after sync.
  const writer = pages[roles.indexOf('follower')]!;
  const reader = pages[roles.indexOf('leader')]!;
  await writer.getByLabel('Path', { exact: true }).fill('/from-a-tab');
  await writer.getByLabel('Data', { exact: true }).fill('hello from a follower');
  await writer.getByRole('button', { name: 'Create' }).click();
  await expect(writer.getByTestId('result')).toHaveText('created /from-a-tab');
  const item = reader.getByTestId('tree').locator('[role="treeitem"][data-path="/from-a-tab"]');
  await item.locator('.tree-name').first().click();
  await expect(reader.getByTestId('data-view')).toHaveText('hello from a follower');
  const read = await reader.evaluate(async () => {
    await window.keeper!.sync('/');
    return new TextDecoder().decode((await window.keeper!.getData('/from-a-tab')).data);
  });
  expect(read).toBe('hello from a follower');

  // ZooKeeper's error codes come back through the form.
  await writer.getByRole('button', { name: 'Create' }).click();
  await expect(writer.getByTestId('result')).toHaveText('NODEEXISTS (-110)');
  await writer.getByLabel('Path', { exact: true }).fill('/from-a-tab/job-');
  await writer.getByLabel('Mode', { exact: true }).selectOption('persistent_sequential');
  await writer.getByRole('button', { name: 'Create' }).click();
  await expect(writer.getByTestId('result')).toHaveText('created /from-a-tab/job-0000000000');

  for (const list of errors) expect(list).toEqual([]);
});
