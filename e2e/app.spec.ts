// Proves the built app loads in Debian Chromium from the meshkeeper server and runs the data model
// in the page: ZooKeeper's reserved nodes are there, a create shows up with its Stat, sequential
// names get ZooKeeper's %010d suffix, and errors come back with ZooKeeper's codes.
import { test, expect } from './fixtures.js';

test('the app renders the local data model and writes through it', async ({ page, app }) => {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => { if (message.type() === 'error') errors.push(message.text()); });
  await page.goto(app.url);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('meshkeeper');
  await expect(page.getByTestId('mode')).toContainText('Standalone');

  const tree = page.getByTestId('tree');
  // A fresh ZooKeeper tree: /, /zookeeper, /zookeeper/config, /zookeeper/quota; root cversion -1.
  await expect(tree.locator('tbody tr')).toHaveCount(4);
  await expect(tree.locator('tr[data-path="/"] td').nth(6)).toHaveText('-1');

  await page.getByLabel('Path').fill('/app');
  await page.getByLabel('Data').fill('hello');
  await page.getByRole('button', { name: 'Create' }).click();
  await expect(page.getByTestId('result')).toHaveText('created /app');
  const appRow = tree.locator('tr[data-path="/app"] td');
  await expect(appRow.nth(1)).toHaveText('hello');
  await expect(appRow.nth(2)).toHaveText('2'); // czxid: zxid 1 opened the tab's session

  await page.getByRole('button', { name: 'Create' }).click();
  await expect(page.getByTestId('result')).toHaveText('NODEEXISTS (-110)');

  await page.getByLabel('Path').fill('/app/job-');
  await page.getByLabel('Mode', { exact: true }).selectOption('persistent_sequential');
  await page.getByRole('button', { name: 'Create' }).click();
  await expect(page.getByTestId('result')).toHaveText('created /app/job-0000000000');

  await page.getByLabel('Path').fill('/app');
  await page.getByLabel('Version (-1 = any)').fill('7');
  await page.getByRole('button', { name: 'Set data' }).click();
  await expect(page.getByTestId('result')).toHaveText('BADVERSION (-103)');
  await expect(page.getByTestId('zxid')).toHaveText('5');
  expect(errors).toEqual([]);
});
