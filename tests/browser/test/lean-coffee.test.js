// The Lean Coffee board in two windows (long polling with MessagePack, and Server-Sent Events):
// the facilitator and a participant see each other's topics, votes, status changes and
// comings and goings within a second.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openWindow, screenshot, SEEN_WITHIN_MS, useApp } from '../lib/app.js';

const app = useApp();
const SEEN = { timeout: SEEN_WITHIN_MS };

/** The card of topic `title` in column `status` of `window`'s board. */
function card(window, status, title) {
  return window.page.locator(`#topics-${status} li`, { hasText: title });
}

test('a facilitator and a participant run a Lean Coffee session live', async () => {
  const { suite, browser } = app();
  const fay = await openWindow(browser, `${suite.gateway}/#lean-coffee`, 'Fay Facilitator', { transport: 'LongPolling', protocol: 'messagepack' });
  const pat = await openWindow(browser, `${suite.gateway}/#lean-coffee`, 'Pat Participant', { transport: 'ServerSentEvents' });
  try {
    await fay.page.getByLabel('New session').fill('Team retro');
    await fay.page.getByRole('button', { name: 'Create session' }).click();
    await fay.page.locator('#session-title', { hasText: 'Team retro' }).waitFor();
    const sessionId = await fay.page.locator('#session-id').textContent();

    await pat.page.getByLabel('Join a session by id').fill(sessionId);
    await pat.page.getByRole('button', { name: 'Join', exact: true }).click();
    await pat.page.locator('#session-status', { hasText: 'Scheduled' }).waitFor();
    await fay.page.locator('#participants li[aria-label="Pat Participant"]').waitFor(SEEN);
    assert.equal(await pat.page.locator('#facilitation button').count(), 0, 'a participant has no facilitator controls');

    await pat.page.getByLabel('Topic', { exact: true }).fill('CI is slow');
    await pat.page.getByRole('button', { name: 'Add topic' }).click();
    await card(fay, 'ToDiscuss', 'CI is slow').waitFor(SEEN);
    await fay.page.getByLabel('Topic', { exact: true }).fill('Pairing');
    await fay.page.getByRole('button', { name: 'Add topic' }).click();
    await card(pat, 'ToDiscuss', 'Pairing').waitFor(SEEN);

    await pat.page.getByRole('button', { name: 'Vote for Pairing' }).click();
    await card(fay, 'ToDiscuss', 'Pairing').filter({ hasText: '1 vote' }).waitFor(SEEN);
    await pat.page.locator('#votes-left', { hasText: 'voted for 1 topic' }).waitFor();
    await fay.page.getByRole('button', { name: 'Vote for Pairing' }).click();
    await card(pat, 'ToDiscuss', 'Pairing').filter({ hasText: '2 votes' }).waitFor(SEEN);

    await fay.page.getByRole('button', { name: 'Start session' }).click();
    await pat.page.locator('#session-status', { hasText: 'In progress' }).waitFor(SEEN);
    await fay.page.getByRole('button', { name: 'Discuss: Pairing' }).click();
    await card(pat, 'Discussing', 'Pairing').waitFor(SEEN);
    await screenshot(fay.page, 'lean-coffee');

    await fay.page.getByRole('button', { name: 'Complete session' }).click();
    await pat.page.locator('#session-status', { hasText: 'Completed' }).waitFor(SEEN);
    assert.equal(await pat.page.getByRole('button', { name: /^Vote for/ }).count(), 0, 'no votes once completed');

    assert.deepEqual([...fay.problems, ...pat.problems], []);
    await pat.close();
    // Leaving is noticed when the last connection closes, then confirmed by the service.
    await fay.page.locator('#participants li[aria-label="Pat Participant"]').waitFor({ state: 'detached', timeout: 5000 });
  } finally {
    await fay.close();
    await pat.close();
  }
});
