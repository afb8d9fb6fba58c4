// The tree browser (issue 8, "Tree browser"), in Debian Chromium over real WebRTC: a znode created
// in one tab appears in another tab's tree (the root's child watch); selecting it by keyboard shows
// every Stat field and its data (JSON pretty-printed, hex on request); that tab's watch-event log
// shows the NodeCreated first; the browser fits 360 px with no horizontal scroll. Screenshots of the
// browser (desktop and 360 px) go to the test's output folder.
import { test, expect } from './fixtures.js';
import { openTab, uniqueRoom } from './helpers.js';

const STAT_FIELDS = ['czxid', 'mzxid', 'pzxid', 'ctime', 'mtime', 'version', 'cversion', 'aversion', 'ephemeralOwner', 'dataLength', 'numChildren'];
const NARROW = { width: 360, height: 900 };

test('a znode created in one tab shows in another tab\'s tree browser with its Stat, data and NodeCreated event', async ({ context, app }, testInfo) => {
  test.setTimeout(90_000);
  const room = uniqueRoom('tree', testInfo.workerIndex);
  const writer = await openTab(context, `${app.url}?room=${room}`);
  const reader = await openTab(context, `${app.url}?room=${room}`);
  const tree = reader.page.getByRole('tree', { name: 'Znodes' });
  await expect(tree.getByRole('treeitem', { name: '/ (root)', exact: true })).toHaveAttribute('aria-expanded', 'true');

  await writer.page.getByLabel('Path', { exact: true }).fill('/tree-node');
  await writer.page.getByLabel('Data', { exact: true }).fill('{"hello":"tree","n":[1,2]}');
  await writer.page.getByRole('button', { name: 'Create' }).click();
  await expect(writer.page.getByTestId('result')).toHaveText('created /tree-node');
  // The writer's own tree refreshes after the write.
  await expect(writer.page.locator('[role="treeitem"][data-path="/tree-node"]')).toBeVisible();

  const item = reader.page.locator('[role="treeitem"][data-path="/tree-node"]');
  await expect(item).toBeVisible({ timeout: 15_000 });
  const created = reader.page.getByTestId('event-log').locator('li[data-type="NodeCreated"][data-path="/tree-node"]');
  await expect(created).toHaveCount(1);

  // Keyboard: focus the root, move down to the node, select it with Enter.
  await tree.locator('[role="treeitem"][data-path="/"]').focus();
  for (let i = 0; i < 10; i++) {
    if ((await reader.page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.path)) === '/tree-node') break;
    await reader.page.keyboard.press('ArrowDown');
  }
  await reader.page.keyboard.press('Enter');
  await expect(item).toHaveAttribute('aria-selected', 'true');
  const stat = reader.page.getByTestId('stat');
  for (const field of STAT_FIELDS) await expect(stat.locator(`dd[data-field="${field}"]`)).not.toBeEmpty();
  await expect(stat.locator('dd[data-field="version"]')).toHaveText('0');
  await expect(stat.locator('dd[data-field="ctime"]')).toHaveText(/^\d{4}-\d\d-\d\dT/);
  await expect(stat.locator('dd[data-field="dataLength"]')).toHaveText('26');
  await expect(reader.page.getByTestId('data-view')).toHaveText('{\n  "hello": "tree",\n  "n": [\n    1,\n    2\n  ]\n}');
  await reader.page.getByTestId('data-format').selectOption('hex');
  await expect(reader.page.getByTestId('data-view')).toHaveText(/^0{8} {2}7b 22 68/);

  // Keyboard expand: down to /zookeeper, ArrowRight expands it (lazily read children), Left collapses.
  const zookeeper = tree.locator('[role="treeitem"][data-path="/zookeeper"]');
  await zookeeper.focus();
  await expect(zookeeper).toHaveAttribute('aria-expanded', 'false');
  await reader.page.keyboard.press('ArrowRight');
  await expect(zookeeper).toHaveAttribute('aria-expanded', 'true');
  await expect(zookeeper.locator('[role="group"] > [role="treeitem"]').first()).toBeVisible();
  await reader.page.keyboard.press('ArrowLeft');
  await expect(zookeeper).toHaveAttribute('aria-expanded', 'false');

  // A later write shows in the selected node's Stat and the log, newest first.
  await writer.page.getByLabel('Data', { exact: true }).fill('changed');
  await writer.page.getByRole('button', { name: 'Set data' }).click();
  await expect(writer.page.getByTestId('result')).toHaveText('setData ok');
  await expect(stat.locator('dd[data-field="version"]')).toHaveText('1', { timeout: 15_000 });
  await expect(reader.page.getByTestId('event-log').locator('li').first()).toHaveAttribute('data-type', 'NodeDataChanged');

  await reader.page.getByTestId('tree-browser').screenshot({ path: testInfo.outputPath('tree-browser-desktop.png') });
  await reader.page.setViewportSize(NARROW);
  const overflow = await reader.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await reader.page.getByTestId('tree-browser').screenshot({ path: testInfo.outputPath('tree-browser-360.png') });

  expect(writer.errors).toEqual([]);
  expect(reader.errors).toEqual([]);
});
