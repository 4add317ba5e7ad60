// Chat and goals in two windows: a trainer and a client chat with unread counts and read
// receipts, and the trainer assigns a goal and sees the client's progress, each within a second.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tcpProxy } from '../../conformance/lib/proxy.js';
import { expectCount, openWindow, screenshot, SEEN_WITHIN_MS, useApp } from '../lib/app.js';

const app = useApp();
const SEEN = { timeout: SEEN_WITHIN_MS };

async function addContact(window, other, name) {
  await window.page.getByLabel("Contact's user id").fill(other.userId);
  await window.page.getByLabel("Contact's name").fill(name);
  await window.page.getByRole('button', { name: 'Add contact' }).click();
  await window.page.locator('#conversations li', { hasText: name }).waitFor();
}

test('a trainer and a client chat, and the trainer assigns a goal and sees progress live', async () => {
  const { suite, browser } = app();
  const tom = await openWindow(browser, `${suite.gateway}/#coaching`, 'Tom Trainer', { role: 'trainer' });
  const cleo = await openWindow(browser, `${suite.gateway}/#coaching`, 'Cleo Client', { transport: 'LongPolling' });
  try {
    await addContact(tom, cleo, 'Cleo Client');
    await addContact(cleo, tom, 'Tom Trainer');

    await tom.page.locator('#conversations').getByRole('button', { name: 'Cleo Client', exact: true }).click();
    await tom.page.locator('#send-message').getByLabel('Message').fill('Hi Cleo, ready for this week?');
    await tom.page.getByRole('button', { name: 'Send' }).click();
    await tom.page.locator('#messages li.mine', { hasText: 'Sent' }).waitFor();
    await cleo.page.locator('#conversations li', { hasText: 'Tom Trainer' }).getByLabel('1 unread').waitFor(SEEN);
    await tom.page.locator('#send-message').getByLabel('Message').fill('Here is your plan.');
    await tom.page.getByRole('button', { name: 'Send' }).click();
    await cleo.page.locator('#conversations li', { hasText: 'Tom Trainer' }).getByLabel('2 unread').waitFor(SEEN);

    await cleo.page.locator('#conversations').getByRole('button', { name: /^Tom Trainer/ }).click();
    await cleo.page.locator('#messages li', { hasText: 'Here is your plan.' }).waitFor();
    await tom.page.locator('#messages li.mine', { hasText: 'Here is your plan.' }).filter({ hasText: 'Read' }).waitFor(SEEN);
    assert.equal(await cleo.page.locator('#conversations .badge').count(), 0, 'nothing unread once open');
    await cleo.page.locator('#send-message').getByLabel('Message').fill('Ready!');
    await cleo.page.getByRole('button', { name: 'Send' }).click();
    await tom.page.locator('#messages li:not(.mine)', { hasText: 'Ready!' }).waitFor(SEEN);

    await tom.page.getByRole('button', { name: 'Coach Cleo Client' }).click();
    await tom.page.getByRole('button', { name: 'Coaching Cleo Client' }).waitFor();
    await tom.page.locator('#assign-goal').getByLabel('Client').selectOption({ label: 'Cleo Client' });
    await tom.page.locator('#assign-goal').getByLabel(/^Goal/).selectOption('WeightLoss');
    await tom.page.getByLabel('Daily calories').fill('1800');
    await tom.page.getByRole('button', { name: 'Assign goal' }).click();
    const goal = cleo.page.locator('#my-goals li', { hasText: 'WeightLoss, 1800 kcal a day (from Tom Trainer)' });
    await goal.waitFor(SEEN);

    await goal.getByLabel('Today').fill('1750');
    await goal.getByLabel('Notes').fill('Skipped dessert');
    await goal.getByRole('button', { name: 'Record progress' }).click();
    await tom.page.locator('#client-progress li', { hasText: 'Cleo Client recorded 1750 — Skipped dessert' }).waitFor(SEEN);
    await screenshot(tom.page, 'coaching');

    assert.deepEqual([...tom.problems, ...cleo.problems], []);
  } finally {
    await tom.close();
    await cleo.close();
  }
});

test('messages sent while a window is disconnected arrive once, counted unread, after it reconnects', async () => {
  const { suite, browser } = app();
  const proxy = await tcpProxy(suite.gateway);
  const tom = await openWindow(browser, `${suite.gateway}/#coaching`, 'Tom Trainer', { role: 'trainer' });
  const cleo = await openWindow(browser, `${proxy.url}/#coaching`, 'Cleo Client');
  try {
    await addContact(tom, cleo, 'Cleo Client');
    await addContact(cleo, tom, 'Tom Trainer');
    await tom.page.locator('#conversations').getByRole('button', { name: 'Cleo Client', exact: true }).click();
    const send = async (text) => {
      await tom.page.locator('#send-message').getByLabel('Message').fill(text);
      await tom.page.getByRole('button', { name: 'Send' }).click();
      await tom.page.locator('#messages li.mine', { hasText: text }).waitFor();
    };
    await send('Before');
    await cleo.page.locator('#conversations li', { hasText: 'Tom Trainer' }).getByLabel('1 unread').waitFor(SEEN);

    proxy.block(true);
    assert.ok(proxy.cut() > 0, 'the window had connections through the proxy');
    await cleo.page.locator('#banner[data-state="reconnecting"]').waitFor();
    await send('While you were away');
    await send('And again');
    proxy.block(false);

    await cleo.page.locator('#banner[data-state="connected"]').waitFor({ timeout: 15_000 });
    await cleo.page.locator('#conversations li', { hasText: 'Tom Trainer' }).getByLabel('3 unread').waitFor(SEEN);
    await send('After');
    await cleo.page.locator('#conversations li', { hasText: 'Tom Trainer' }).getByLabel('4 unread').waitFor(SEEN);
    await cleo.page.locator('#conversations').getByRole('button', { name: /^Tom Trainer/ }).click();
    await expectCount(cleo.page, '#messages li', 4);
    assert.deepEqual(await cleo.page.locator('#messages li').allTextContents(), ['Before', 'While you were away', 'And again', 'After']);
    assert.deepEqual([...tom.problems, ...cleo.problems], []);
  } finally {
    await tom.close();
    await cleo.close();
    await proxy.close();
  }
});
