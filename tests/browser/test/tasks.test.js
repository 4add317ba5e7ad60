// The task screen in two windows sharing one virtual key: a task started in one is driven by
// the worker from the other, its progress bar and completion pushed to both, and spend with
// its budget alert arrives live.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tcpProxy } from '../../conformance/lib/proxy.js';
import { openWindow, screenshot, SEEN_WITHIN_MS, useApp } from '../lib/app.js';

const app = useApp();
const SEEN = { timeout: SEEN_WITHIN_MS };
/** `SpendUpdate` is aggregated over a one-second window before it is sent. */
const SPEND_SEEN = { timeout: SEEN_WITHIN_MS + 1000 };

/**
 * Vera (over `veraTransport`) creates a key and starts a video task; Walt (at `waltUrl`, over
 * Server-Sent Events) uses the same key and follows the task. Resolves to both windows' screens and task cards.
 */
async function sharedTask(browser, suite, waltUrl, veraTransport) {
  const vera = await openWindow(browser, `${suite.gateway}/#tasks`, 'Vera', { transport: veraTransport, connects: false });
  const walt = await openWindow(browser, `${waltUrl}/#tasks`, 'Walt', { transport: 'ServerSentEvents', connects: false });
  // Other screens have fields labelled alike.
  const [veraScreen, waltScreen] = [vera, walt].map((w) => w.page.locator('#tasks'));
  await veraScreen.getByLabel('Key name').fill('Studio key');
  await veraScreen.getByLabel('Budget', { exact: true }).fill('10');
  await veraScreen.getByRole('button', { name: 'Create virtual key' }).click();
  await vera.page.locator('#key-work').waitFor();
  const keyId = await vera.page.locator('#key-id').textContent();
  const secret = await vera.page.locator('#key-secret').textContent();
  await waltScreen.getByLabel('Key id').fill(keyId);
  await waltScreen.getByLabel('Key secret').fill(secret);
  await waltScreen.getByRole('button', { name: 'Use key' }).click();
  await walt.page.locator('#key-work').waitFor();

  await vera.page.locator('#start-task').getByLabel('Kind').selectOption('Video');
  await veraScreen.getByRole('button', { name: 'Start task' }).click();
  const started = vera.page.locator('#task-list li');
  await started.waitFor();
  const taskId = await started.getAttribute('data-task-id');
  await waltScreen.getByLabel('Follow a task by id').fill(taskId);
  await waltScreen.getByRole('button', { name: 'Follow' }).click();
  const waltTask = walt.page.locator(`#task-list li[data-task-id="${taskId}"]`);
  const veraTask = vera.page.locator(`#task-list li[data-task-id="${taskId}"]`);
  await waltTask.waitFor();
  return { vera, walt, veraScreen, waltScreen, veraTask, waltTask };
}

test('a task started with a virtual key shows the worker progress and completion, and spend alerts, live', async () => {
  const { suite, browser } = app();
  const { vera, walt, veraScreen, veraTask, waltTask } = await sharedTask(browser, suite, suite.gateway, 'WebSockets');
  try {
    for (const percentage of [25, 50, 75]) {
      await waltTask.getByRole('button', { name: /^Simulate worker/ }).click();
      await veraTask.locator('.status', { hasText: `Running — ${percentage}%` }).waitFor(SEEN);
      assert.equal(await veraTask.locator('progress').getAttribute('value'), String(percentage));
    }
    await screenshot(vera.page, 'tasks');
    await waltTask.getByRole('button', { name: /^Simulate worker/ }).click();
    await veraTask.locator('.status', { hasText: 'Completed' }).waitFor(SEEN);
    await veraTask.getByRole('link', { name: 'Result' }).waitFor();

    await veraScreen.getByLabel('Amount').fill('6');
    await veraScreen.getByRole('button', { name: 'Record spend' }).click();
    await walt.page.locator('#spend-current', { hasText: '6.00' }).waitFor(SPEND_SEEN);
    await walt.page.locator('#alerts li', { hasText: '50% of the budget used' }).waitFor(SPEND_SEEN);
    await vera.page.locator('#alerts li', { hasText: '50% of the budget used' }).waitFor(SPEND_SEEN);

    assert.deepEqual([...vera.problems, ...walt.problems], []);
  } finally {
    await vera.close();
    await walt.close();
  }
});

test('a task that completes while a window is disconnected shows completed after it reconnects', async () => {
  const { suite, browser } = app();
  const proxy = await tcpProxy(suite.gateway);
  const { vera, walt, veraTask, waltTask } = await sharedTask(browser, suite, proxy.url, 'LongPolling');
  try {
    proxy.block(true);
    assert.ok(proxy.cut() > 0, 'the window had connections through the proxy');
    await walt.page.locator('#banner[data-state="reconnecting"]').waitFor();
    for (const percentage of [25, 50, 75]) {
      await veraTask.getByRole('button', { name: /^Simulate worker/ }).click();
      await veraTask.locator('.status', { hasText: `Running — ${percentage}%` }).waitFor(SEEN);
    }
    await veraTask.getByRole('button', { name: /^Simulate worker/ }).click();
    await veraTask.locator('.status', { hasText: 'Completed' }).waitFor(SEEN);
    proxy.block(false);

    await walt.page.locator('#banner[data-state="connected"]').waitFor({ timeout: 15_000 });
    await waltTask.locator('.status', { hasText: 'Completed' }).waitFor(SEEN);
    assert.equal(await waltTask.locator('progress').getAttribute('value'), '100');
    assert.deepEqual([...vera.problems, ...walt.problems], []);
  } finally {
    await vera.close();
    await walt.close();
    await proxy.close();
  }
});
