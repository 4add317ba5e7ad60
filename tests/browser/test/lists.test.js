// The shopping-list screen in two windows: everything one person does, the other sees within
// a second, over each transport; and a window whose connection drops catches up exactly once.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tcpProxy } from '../../conformance/lib/proxy.js';
import { expectCount, openWindow, screenshot, SEEN_WITHIN_MS, useApp } from '../lib/app.js';
import { addItem, createList, itemRow, openList, share } from '../lib/lists.js';

const app = useApp();
const SEEN = { timeout: SEEN_WITHIN_MS };

const RUNS = [
  { transport: 'WebSockets', protocol: 'json' },
  { transport: 'ServerSentEvents', protocol: 'json' },
  // SSE carries text only; MessagePack goes over long polling (and WebSockets).
  { transport: 'LongPolling', protocol: 'messagepack' },
];

for (const { transport, protocol } of RUNS) {
  test(`two people share a list and see each other's changes live over ${transport} (${protocol})`, async () => {
    const { suite, browser } = app();
    const ann = await openWindow(browser, suite.gateway, 'Ann Lee', { transport, protocol });
    const bob = await openWindow(browser, suite.gateway, 'Bob Stone', { transport, protocol });
    try {
      const listId = await createList(ann, 'Groceries');
      await share(ann, bob, 'Bob Stone');
      await openList(bob, listId, 'Groceries');
      await ann.page.locator('#presence li[aria-label="Bob Stone"]').waitFor(SEEN);
      await bob.page.locator('#presence li[aria-label="Ann Lee"]').waitFor(SEEN);

      await addItem(ann, 'Milk', 2);
      await itemRow(bob, 'Milk').waitFor(SEEN);
      await addItem(bob, 'Bread');
      await itemRow(ann, 'Bread').waitFor(SEEN);

      await itemRow(bob, 'Milk').getByRole('checkbox').click();
      await ann.page.locator('#items li.purchased', { hasText: 'Milk' }).waitFor(SEEN);

      ann.page.once('dialog', (dialog) => dialog.accept('Rye bread'));
      await ann.page.getByRole('button', { name: 'Rename Bread' }).click();
      await itemRow(bob, 'Rye bread').waitFor(SEEN);

      await bob.page.getByRole('button', { name: 'Move Rye bread up' }).click();
      await ann.page.locator('#items li:first-child', { hasText: 'Rye bread' }).waitFor(SEEN);

      await addItem(ann, 'Coffee beans', 1);
      await itemRow(bob, 'Coffee beans').waitFor(SEEN);
      await itemRow(bob, 'Coffee beans').dragTo(itemRow(bob, 'Rye bread'));
      await ann.page.locator('#items li:first-child', { hasText: 'Coffee beans' }).waitFor(SEEN);
      if (transport === 'WebSockets') {
        await screenshot(ann.page, 'lists');
        await bob.page.setViewportSize({ width: 390, height: 844 });
        await screenshot(bob.page, 'lists-phone');
      }

      await ann.page.getByRole('button', { name: 'Delete Coffee beans' }).click();
      await expectCount(bob.page, '#items li', 2);

      await ann.page.getByRole('button', { name: 'Remove Bob Stone' }).click();
      await bob.page.locator('#list').waitFor({ state: 'hidden', ...SEEN });
      await bob.page.getByRole('alert').filter({ hasText: 'You were removed from “Groceries”' }).waitFor();
      await expectCount(bob.page, '#my-lists li', 0);
      await ann.page.locator('#presence li[aria-label="Bob Stone"]').waitFor({ state: 'detached', ...SEEN });

      assert.deepEqual([...ann.problems, ...bob.problems], []);
    } finally {
      await ann.close();
      await bob.close();
    }
  });
}

test('a window whose connection drops shows it, and after reconnecting shows an item added meanwhile exactly once', async () => {
  const { suite, browser } = app();
  const proxy = await tcpProxy(suite.gateway);
  const ann = await openWindow(browser, suite.gateway, 'Ann Lee');
  const bob = await openWindow(browser, proxy.url, 'Bob Stone');
  try {
    const listId = await createList(ann, 'Groceries');
    await share(ann, bob, 'Bob Stone');
    await openList(bob, listId, 'Groceries');
    await addItem(ann, 'Milk');
    await itemRow(bob, 'Milk').waitFor(SEEN);

    proxy.block(true);
    assert.ok(proxy.cut() > 0, 'the window had a connection through the proxy');
    await bob.page.locator('#banner[data-state="reconnecting"]').waitFor();
    await addItem(ann, 'Eggs');
    await itemRow(ann, 'Eggs').waitFor(SEEN);
    await screenshot(bob.page, 'reconnecting');
    proxy.block(false);

    await bob.page.locator('#banner[data-state="connected"]').waitFor({ timeout: 15_000 });
    await itemRow(bob, 'Eggs').waitFor(SEEN);
    await addItem(ann, 'Tea');
    await itemRow(bob, 'Tea').waitFor(SEEN);
    await expectCount(bob.page, '#items li', 3);
    assert.deepEqual(await bob.page.locator('#items li .name').allTextContents(), ['Milk', 'Eggs', 'Tea']);
    assert.deepEqual([...ann.problems, ...bob.problems], []);
  } finally {
    await ann.close();
    await bob.close();
    await proxy.close();
  }
});
