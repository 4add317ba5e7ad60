// What a test file calls once at top level: starts one `pulse suite` before its
// tests, stops it after them, closes every tab a test opened when that test
// ends, and prints the suite's log path when a test fails.

import { after, afterEach, before } from 'node:test';
import { buildTab } from './client.js';
import { startSuite } from './suite.js';
import { mintToken } from './token.js';

const START_TIMEOUT_MS = 120_000;

/** `args`: further `pulse suite` flags for this test file. */
export function useSuite({ args } = {}) {
  let suite = null;
  let tabs = [];
  const tabCounts = new Map();

  before(async () => {
    suite = await startSuite({ args });
  }, { timeout: START_TIMEOUT_MS });

  afterEach(async (t) => {
    const open = tabs;
    tabs = [];
    await Promise.allSettled(open.map((tab) => tab.close()));
    if (suite && suite.exited() !== null) {
      console.error(`pulse is no longer running (${suite.exited()}); log: ${suite.logPath}`);
    } else if (suite && t.passed === false) {
      console.error(`"${t.name}" failed; pulse log: ${suite.logPath}`);
    }
  });

  after(async () => {
    if (suite) await suite.stop();
  }, { timeout: START_TIMEOUT_MS });

  const running = () => {
    if (!suite) throw new Error('pulse suite is not running (see the before hook failure)');
    return suite;
  };

  const harness = {
    get gateway() {
      return running().gateway;
    },
    get hubUrl() {
      return running().hubUrl;
    },
    /** host:port of the shopping-list gRPC service. */
    get lists() {
      return running().lists;
    },
    /** host:port of the Lean Coffee gRPC service. */
    get leanCoffee() {
      return running().leanCoffee;
    },
    /** host:port of the coaching gRPC service (chat, goals, notifications). */
    get coaching() {
      return running().coaching;
    },
    /** host:port of the task-notification gRPC service (virtual keys, tasks, producers). */
    get tasks() {
      return running().tasks;
    },
    /** The suite's master key (admin hub, virtual-key management, producer API). */
    get masterKey() {
      return running().masterKey;
    },
    /** The gateway's gRPC subscription API (host:port). */
    get gatewayGrpc() {
      return running().gatewayGrpc;
    },
    get secret() {
      return running().secret;
    },

    /** A valid token for `user`. */
    token(user, options) {
      return mintToken(running().secret, user, options);
    },

    /**
     * A tab for `user`, not started; closed when the test ends.
     * `token` overrides the user's valid token (null: no token at all);
     * `hub` is the hub's path (default the shopping-list hub); `gateway` replaces
     * the gateway's base URL (a proxy in front of it). `protocol`,
     * `statefulReconnect` and `reconnectDelays` are passed to `buildTab`.
     */
    tab(user, { token, transport, logLevel, label, skipNegotiation, hub, gateway, protocol, statefulReconnect, reconnectDelays } = {}) {
      const n = (tabCounts.get(user.id) ?? 0) + 1;
      tabCounts.set(user.id, n);
      const base = gateway ?? running().gateway;
      const tab = buildTab({
        url: `${base}${hub ?? new URL(running().hubUrl).pathname}`,
        token: token === undefined ? harness.token(user) : token,
        label: label ?? `${user.name} tab ${n}`,
        transport,
        logLevel,
        skipNegotiation,
        protocol,
        statefulReconnect,
        reconnectDelays,
      });
      tab.user = user;
      tabs.push(tab);
      return tab;
    },

    /** A started tab for `user`: an open, authenticated hub connection. */
    async connect(user, options) {
      const tab = harness.tab(user, options);
      await tab.start();
      return tab;
    },
  };
  return harness;
}
