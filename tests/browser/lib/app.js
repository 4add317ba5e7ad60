// The browser tests' harness: one `pulse suite --demo` per test file (started by the
// conformance harness, so both suites start it the same way), Debian's Chromium driven by
// playwright-core, and windows that sign in through the app's own demo sign-in.
//
// Environment: PULSE_BIN and the CONFORMANCE_* settings of ../conformance/lib/suite.js;
// CHROMIUM, the browser binary (default /usr/bin/chromium, installed by
// tests/tools/install-chromium.sh).

import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before } from 'node:test';
import { chromium } from 'playwright-core';
import { startSuite } from '../../conformance/lib/suite.js';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const SCREENSHOTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../docs/screenshots');

/** What one window does, the other window shows within this (the "within a second"). */
export const SEEN_WITHIN_MS = 1000;

/** Every transport of the transport selector, by its value. */
export const TRANSPORTS = ['WebSockets', 'ServerSentEvents', 'LongPolling'];

/**
 * Starts the suite with the demo sign-in and a browser before the file's tests, stops both
 * after. Returns a getter: `app()` is `{suite, browser}`.
 */
export function useApp() {
  let running = null;
  before(async () => {
    const suite = await startSuite({ args: ['--demo'] });
    try {
      // Root in a container has no user namespace for Chromium's sandbox.
      const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
      running = { suite, browser };
    } catch (error) {
      await suite.stop();
      throw error;
    }
  });
  after(async () => {
    if (!running) return;
    await running.browser.close();
    await running.suite.stop();
  });
  return () => running;
}

/**
 * A new browser window (its own context: its own storage, so its own user) at `url`, signed
 * in as `name` over `transport` and `protocol`, its screen connected (unless `connects` is
 * false: the task screen connects once a virtual key is chosen). Resolves to
 * `{page, userId, close}`.
 */
export async function openWindow(browser, url, name, { transport = 'WebSockets', protocol = 'json', role = '', width = 1100, connects = true } = {}) {
  const context = await browser.newContext({ viewport: { width, height: 800 } });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (error) => problems.push(error.message));
  await page.goto(url);
  await page.locator('body[data-ready="true"]').waitFor();
  await page.getByLabel('Transport').selectOption(transport);
  await page.getByLabel('Protocol').selectOption(protocol);
  await page.getByLabel('Your name').fill(name);
  await page.getByLabel('Role').selectOption({ value: role });
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#me').waitFor();
  if (connects) await page.locator('#banner[data-state="connected"]').waitFor();
  const userId = await page.locator('#me-id').textContent();
  return {
    page,
    context,
    userId,
    /** Uncaught errors of the page so far (a test expects none). */
    problems,
    close: () => context.close(),
  };
}

/** Writes `page` to docs/screenshots/`name`.png, the README's pictures. */
export async function screenshot(page, name) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** Waits until `selector` matches exactly `count` elements of `page`, within `timeout` ms. */
export async function expectCount(page, selector, count, timeout = SEEN_WITHIN_MS) {
  await page.waitForFunction(
    ([css, expected]) => document.querySelectorAll(css).length === expected,
    [selector, count],
    { timeout },
  );
}
