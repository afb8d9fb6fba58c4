// The unsafe "recover from this peer" control (issue 8, Controls; DESIGN.md "Quorum lost"), in
// Debian Chromium over real WebRTC: three tabs, each its own browser profile (a context each, so
// nothing is adopted between them: DESIGN.md), settle as 3 voters; two are crashed (CDP Page.crash,
// no pagehide), so the survivor has no quorum: its banner says so, its recover button is enabled,
// and a write fails. Clicking the button and accepting the confirm (which says what can be lost)
// makes the survivor the sole voter: a write through the form succeeds and the data written before
// the crash is there. With a quorum, the button stays disabled.
import { test, expect } from './fixtures.js';
import { crashTab, FORM_TIMEOUT_MS, openTabsInOwnProfiles, tabStatus, uniqueRoom } from './helpers.js';

/** How long the survivor may take to notice it lost its quorum: CheckQuorum steps a leader down
 *  within an election timeout (2.5-5 s), and a follower's leader silence is about as long. */
const QUORUM_LOSS_VISIBLE_MS = 20_000;

/** A write without a quorum must not succeed within this (it waits, then fails): long enough for a
 *  commit that could happen to happen, short enough for the test. */
const NO_QUORUM_WRITE_WAIT_MS = 3_000;

test('2 of 3 voters crashed: the survivor says no quorum; "Recover from this peer (unsafe)" after a confirm makes it lead alone, with its data', async ({ browser, app }) => {
  test.setTimeout(180_000);
  const room = uniqueRoom('recover', test.info().workerIndex);
  const { tabs, contexts } = await openTabsInOwnProfiles(browser, `${app.url}?room=${room}`, 3);
  const pages = tabs.map((tab) => tab.page);
  await expect(async () => {
    for (const page of pages) expect((await tabStatus(page)).voters).toHaveLength(3);
  }).toPass({ timeout: FORM_TIMEOUT_MS });

  // With a quorum the button is there, labelled unsafe, and disabled.
  const survivor = pages[2]!;
  const recover = survivor.getByRole('button', { name: 'Recover from this peer (unsafe)' });
  await expect(recover).toBeDisabled();

  // Data written before the crash, applied by every tab (the survivor's replica has it).
  await pages[0]!.evaluate(() => window.keeper!.create('/before-crash', 'written with 3 voters'));
  await expect(async () => {
    const applied = await survivor.evaluate(async () => (await window.keeper!.exists('/before-crash')) !== null);
    expect(applied).toBe(true);
  }).toPass({ timeout: FORM_TIMEOUT_MS });

  await Promise.all([crashTab(contexts[0]!, pages[0]!), crashTab(contexts[1]!, pages[1]!)]);
  await expect(survivor.getByTestId('quorum-banner')).toHaveText(/^No quorum/, { timeout: QUORUM_LOSS_VISIBLE_MS });
  await expect(recover).toBeEnabled();
  const stuck = await survivor.evaluate(async (waitMs) => {
    const write = window.keeper!.create('/during-loss', 'no quorum').then(
      () => 'committed',
      (error: unknown) => `failed: ${error instanceof Error ? error.message : String(error)}`,
    );
    return Promise.race([write, new Promise<string>((resolve) => setTimeout(() => resolve('waiting'), waitMs))]);
  }, NO_QUORUM_WRITE_WAIT_MS);
  expect(stuck).not.toBe('committed');

  // The confirm says it is unsafe and what is lost; dismissing it changes nothing.
  let confirmText = '';
  survivor.once('dialog', (dialog) => {
    confirmText = dialog.message();
    void dialog.dismiss();
  });
  await recover.click();
  expect(confirmText).toMatch(/^UNSAFE/);
  expect(confirmText).toMatch(/LOST/);
  expect((await tabStatus(survivor)).voters).toHaveLength(3);

  survivor.once('dialog', (dialog) => void dialog.accept());
  await recover.click();
  await expect(survivor.getByTestId('recover-result')).toHaveText(/^Recovered: this peer is the only voter/, { timeout: FORM_TIMEOUT_MS });
  await expect(survivor.getByTestId('quorum-banner')).toHaveText(/^Quorum: writes commit through leader .* once its one voter has them/, { timeout: FORM_TIMEOUT_MS });
  const status = await tabStatus(survivor);
  expect(status).toMatchObject({ role: 'leader', voters: [status.peerId], quorum: true, unsafeRecoveries: 1 });
  await expect(recover).toBeDisabled();
  // The cluster view marks the peer as recovered (from the status board).
  await expect(survivor.getByTestId('peer-recovered')).toHaveText(/recovered, unsafe/, { timeout: FORM_TIMEOUT_MS });

  // A write through the form succeeds; the data written before the crash is there.
  await survivor.getByLabel('Path', { exact: true }).fill('/after-recovery');
  await survivor.getByLabel('Data', { exact: true }).fill('written by the recovered peer');
  await survivor.getByRole('button', { name: 'Create' }).click();
  await expect(survivor.getByTestId('result')).toHaveText('created /after-recovery', { timeout: FORM_TIMEOUT_MS });
  const before = await survivor.evaluate(async () => new TextDecoder().decode((await window.keeper!.getData('/before-crash')).data));
  expect(before).toBe('written with 3 voters');
  expect(tabs[2]!.errors).toEqual([]);
  for (const context of contexts) await context.close();
});
