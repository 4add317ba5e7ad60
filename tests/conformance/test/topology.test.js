// Issue 14's topology test: the suite as a distributed system of separate OS
// processes on loopback — a three-node NATS JetStream cluster, two replicas of
// each domain service, three gateways behind a round-robin, non-sticky proxy —
// broken one fault after another while writers issue commands through both
// lists replicas and followers on every transport (official SignalR clients
// through the proxy, gRPC subscribers on two gateways) record what they get.
// After each fault a table shows, per follower, the events sent during it and
// how many were received, lost and duplicated; any loss or duplicate fails.
//
// Runs with the rest of the package (`npm test`), or alone:
//   node --test test/topology.test.js

import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import { buildTab, HttpTransportType, LogLevel } from '../lib/client.js';
import { Feed, followOverGrpc, followOverSignalR } from '../lib/followers.js';
import { grpcurlOk, requireGrpcurl } from '../lib/grpcurl.js';
import { roundRobinProxy } from '../lib/round-robin-proxy.js';
import { converge, mark, printTable, tally } from '../lib/tally.js';
import { deadline, poll, until } from '../lib/wait.js';
import { mintToken } from '../lib/token.js';
import { DRAIN_PERIOD_MS, listsMetric, LONG_POLL_TIMEOUT_MS, PRESENCE_TIMEOUT_MS, startTopology } from '../lib/topology.js';
import { newUser } from '../lib/users.js';
import { startWriter } from '../lib/writers.js';

/** Official-client followers through the proxy: transport, hub protocol, negotiation. */
const SIGNALR_FOLLOWERS = [
  { label: 'ws-json', transport: HttpTransportType.WebSockets, protocol: 'json', skipNegotiation: true },
  { label: 'ws-msgpack', transport: HttpTransportType.WebSockets, protocol: 'messagepack', skipNegotiation: true },
  { label: 'ws-json-negotiated', transport: HttpTransportType.WebSockets, protocol: 'json' },
  // A reattach that reaches another gateway resumes there or is refused, and the client reconnects anew.
  { label: 'ws-json-stateful', transport: HttpTransportType.WebSockets, protocol: 'json', statefulReconnect: true },
  { label: 'sse-json', transport: HttpTransportType.ServerSentEvents, protocol: 'json' },
  { label: 'lp-json', transport: HttpTransportType.LongPolling, protocol: 'json' },
  { label: 'lp-msgpack', transport: HttpTransportType.LongPolling, protocol: 'messagepack' },
];
/**
 * How long followers get to catch up after the load of a fault ends. A long poll that another
 * gateway forwarded to the one holding its connection is answered only at the forwarding
 * deadline (the poll timeout and 5 s) when that holder dies or drains meanwhile: its client
 * hears nothing until then, then reconnects and catches up.
 */
const CONVERGE_MS = LONG_POLL_TIMEOUT_MS + 10_000;
/** Longest a writer's commands may fail in a row: JetStream's fail-over, a replica's refused connects. */
const MAX_OUTAGE_MS = 10_000;
const started = Date.now();
// The hooks' and tests' timeouts add up to 240 s: the file ends within 4 minutes even when stuck.

let topology = null;
let proxy = null;
let list = null;
let owner = null;
/** SignalR and gRPC followers; one whose start failed keeps an empty feed. */
const followers = [];
const writers = [];
/** Tabs of the presence checks, closed at the end. */
const tabs = [];

const token = (user) => mintToken(topology.secret, user);
const listsAddress = (i) => topology.services.lists[i].ready.lists;
const gatewayHub = (g) => `${topology.gateways[g].ready.gateway}/hubs/shopping-list`;
const grpcGateways = (first) => [0, 1, 2].map((i) => topology.gateways[(first + i) % 3].ready.gatewayGrpc);

/** The owner shares the list (through the replica that did not create it). */
async function share(user, permission = 'Viewer') {
  await grpcurlOk(['-d', JSON.stringify({ listId: list.id, userId: user.id, displayName: user.name, permission }),
    listsAddress(1), 'pulse.lists.v1.ShoppingLists/ShareList'], { token: token(owner) });
}

before(async () => {
  requireGrpcurl();
  topology = await startTopology();
  proxy = await roundRobinProxy(topology.gateways.map((gateway) => gateway.ready.gateway));

  owner = newUser('Owner');
  const writer = newUser('Writer');
  list = JSON.parse(await grpcurlOk(['-d', JSON.stringify({ name: 'Topology' }), listsAddress(0),
    'pulse.lists.v1.ShoppingLists/CreateList'], { token: token(owner) }));
  await share(writer, 'Editor');

  const signalr = await Promise.all(SIGNALR_FOLLOWERS.map(async ({ label, ...options }) => {
    const user = newUser(label);
    await share(user);
    try {
      const follower = await followOverSignalR({ url: `${proxy.url}/hubs/shopping-list`, token: token(user), label, listId: list.id, ...options });
      return { ...follower, user };
    } catch (error) {
      const feed = new Feed(label);
      feed.error(`could not start: ${error.message}`);
      const never = () => Promise.reject(new Error('never started'));
      return { label, feed, user, alive: () => false, probe: never, stop: async () => {} };
    }
  }));
  followers.push(...signalr);
  for (const [label, first] of [['grpc-a', 0], ['grpc-b', 1]]) {
    const user = newUser(label);
    await share(user);
    followers.push(followOverGrpc({ label, token: token(user), listId: list.id, gateways: () => grpcGateways(first) }));
  }
  writers.push(
    startWriter({ label: 'owner', token: token(owner), listId: list.id, replicas: () => [listsAddress(0), listsAddress(1)] }),
    startWriter({ label: 'editor', token: token(writer), listId: list.id, replicas: () => [listsAddress(1), listsAddress(0)] }),
  );
}, { timeout: 30_000 });

/** Set when a test failed: the processes' logs are kept (their directory is printed). */
let failed = false;
afterEach((t) => {
  if (t.passed === false) failed = true;
});

after(async () => {
  await Promise.allSettled(writers.map((writer) => writer.pause()));
  // A client's goodbye (a long-polling DELETE) may wait on a gateway's forwarding deadline: bounded.
  const goodbyes = Promise.allSettled([...followers.map((follower) => follower.stop()), ...tabs.map((tab) => tab.close())]);
  await deadline(goodbyes, 5_000);
  await proxy?.close();
  await topology?.stop({ keepLogs: failed });
  console.log(`topology test: ${((Date.now() - started) / 1000).toFixed(1)} s in all`);
}, { timeout: 30_000 });

/** Resolves once the writers together have had `count` more commands succeed. */
async function progress(count, timeoutMs = 15_000) {
  const total = () => writers.reduce((sum, writer) => sum + writer.sent.length, 0);
  const target = total() + count;
  const progressed = await poll(() => total() >= target, { timeoutMs, everyMs: 50 });
  assert.ok(progressed, `writers made no progress: ${writers.map((w) => w.lastError()).join('; ')}`);
}

/** Resolves once every SignalR follower that ever started is connected again. */
function reconnected() {
  const signalr = followers.filter((f) => f.connected !== undefined);
  return until('every SignalR follower connected again', () => signalr.every((f) => f.connected()), { timeoutMs: 15_000 });
}

/**
 * The followers each gateway holds now, by gateway index: WebSocket followers where the proxy
 * sent their last upgrade, gRPC subscribers where their stream is. (Long polling and SSE are
 * spread over all gateways by design.)
 */
function holdings() {
  const held = topology.gateways.map(() => []);
  for (const follower of followers) {
    const g = follower.address
      ? topology.gateways.findIndex((gateway) => gateway.ready.gatewayGrpc === follower.address())
      : /^ws-/.test(follower.label) && follower.alive() ? proxy.served(follower.user.id).at(-1) : undefined;
    if (g !== undefined && g >= 0) held[g].push(follower.label);
  }
  return held;
}

/** The gateway holding the most followers (the first of those holding `preferred`, if any does). */
function busiestGateway(preferred) {
  const held = holdings();
  const holder = held.findIndex((labels) => labels.includes(preferred));
  const most = held.reduce((best, labels, g) => (labels.length > held[best].length ? g : best), 0);
  return { index: holder >= 0 ? holder : most, held: held[holder >= 0 ? holder : most] };
}

/** Checks, as a subtest, that every follower `held` by a gateway that went away connected anew. */
async function movedOn(t, rows, held, gatewayName) {
  await t.test(`the followers ${gatewayName} held reconnected elsewhere`, () => {
    for (const label of held) {
      const row = rows.find((r) => r.client === label);
      assert.ok(row.reconnects >= 1, `${label} (on ${gatewayName}) did not reconnect`);
    }
  });
}

/**
 * Runs the writers, applies `fault` once some commands went through, keeps the
 * load on a little longer, lets the followers catch up, prints the table and
 * checks every follower as a subtest. `fault` returns notes for the table.
 */
async function underLoad(t, title, fault) {
  const since = mark(followers, writers);
  for (const writer of writers) writer.resume();
  let notes;
  try {
    await progress(10);
    notes = await fault();
    await progress(15);
  } finally {
    await Promise.all(writers.map((writer) => writer.pause()));
  }
  const took = await converge(followers, writers, since, CONVERGE_MS);
  const rows = tally(followers, writers, since, took);
  const writerNotes = writers.map((writer, i) =>
    `writer ${writer.label}: ${writer.sent.length - since.sentFrom[i]} commands, longest run of failures ${writer.longestOutageMs()} ms` +
    (writer.longestOutageMs() > 0 ? ` (last error: ${writer.lastError()})` : ''));
  printTable(title, rows, [...notes, ...writerNotes]);
  for (const row of rows) {
    await t.test(row.client, () => {
      assert.equal(row.lost, 0, `${row.client} lost ${row.lost} of ${row.sent} events (${row.lastError})`);
      assert.equal(row.duplicated, 0, `${row.client} got ${row.duplicated} events twice`);
      assert.ok(row.inOrder, `${row.client} got a writer's events out of order`);
    });
  }
  for (const writer of writers) {
    assert.ok(writer.longestOutageMs() < MAX_OUTAGE_MS, `${writer.label}'s commands failed for ${writer.longestOutageMs()} ms`);
  }
  return rows;
}

/** A tab of `user` opened straight on gateway `g` (not through the proxy), with its recorder. */
async function tabOn(g, user, label) {
  const tab = buildTab({ url: gatewayHub(g), token: token(user), label, logLevel: LogLevel.None });
  tabs.push(tab);
  await tab.start();
  return tab;
}

/** JoinList on `tab`; resolves with the active users of the PresenceUpdate it gets. */
async function join(tab) {
  await tab.invoke('JoinList', list.id);
  return (await tab.events.next('PresenceUpdate', { where: (p) => p.listId === list.id })).activeUsers;
}

const about = (user) => (payload) => (payload.user?.id ?? payload.userId) === user.id;

test('a user with tabs on three gateways is present once; closing two of them changes nothing', async () => {
  const [observer, tabbed, late, later] = ['Observer', 'Tabbed', 'Late', 'Later'].map(newUser);
  for (const user of [observer, tabbed, late, later]) await share(user);
  const watching = await tabOn(2, observer, 'observer@gateway-3');
  await join(watching);

  const own = [];
  for (const g of [0, 1, 2]) {
    own.push(await tabOn(g, tabbed, `tabbed@gateway-${g + 1}`));
    await join(own[g]);
  }
  await watching.events.next('UserJoined', { where: about(tabbed) });
  const present = await join(await tabOn(1, late, 'late@gateway-2'));
  assert.equal(present.filter((user) => user.id === tabbed.id).length, 1, `active users: ${JSON.stringify(present)}`);

  await own[1].close();
  await own[2].close();
  // Watches for a UserLeft that must not come (presence heartbeats every second).
  await watching.events.expectNothing('UserLeft', 2_000, { except: (_, payload) => !about(tabbed)(payload) });
  assert.deepStrictEqual(watching.events.drain('UserJoined', about(tabbed)), [], 'one UserJoined for three tabs');
  const stillPresent = await join(await tabOn(0, later, 'later@gateway-1'));
  assert.equal(stillPresent.filter((user) => user.id === tabbed.id).length, 1, `active users: ${JSON.stringify(stillPresent)}`);

  await own[0].close();
  await watching.events.next('UserLeft', { where: about(tabbed) });
  await watching.events.expectNothing('UserLeft', 1_000, { except: (_, payload) => !about(tabbed)(payload) });
}, { timeout: 15_000 });

test('kill -9 a gateway: its clients reconnect through the proxy and catch up; its presences end once', async (t) => {
  // The gateway of the stateful-reconnect WebSocket: its reattach must fail over to another gateway.
  const { index, held } = busiestGateway('ws-json-stateful');
  const victim = topology.gateways[index];
  const [observer, stranded] = ['Observer', 'Stranded'].map(newUser);
  for (const user of [observer, stranded]) await share(user);
  const watching = await tabOn((index + 1) % 3, observer, 'observer');
  await join(watching);
  await join(await tabOn(index, stranded, `stranded@${victim.name}`));
  await watching.events.next('UserJoined', { where: about(stranded) });
  let left = null;

  const rows = await underLoad(t, `fault 1: kill -9 ${victim.name}`, async () => {
    const killedAt = Date.now();
    const how = await victim.signal('SIGKILL');
    // The presence timeout after the last heartbeat, a sweep (1 s), and slack for a busy machine.
    left = watching.events.next('UserLeft', { where: about(stranded), timeout: PRESENCE_TIMEOUT_MS + 5_000 })
      .then(() => Date.now() - killedAt, (error) => error);
    await reconnected();
    return [`${victim.name} ${how}; it held ${held.join(', ') || 'no WebSocket or gRPC follower'}`];
  });
  await movedOn(t, rows, held, victim.name);
  await t.test('the killed gateway\'s user leaves the list once, within the presence timeout and a sweep', async () => {
    const leftAfter = await left;
    if (leftAfter instanceof Error) throw leftAfter;
    console.log(`  UserLeft for the user stranded on ${victim.name} came ${leftAfter} ms after the kill (presence timeout ${PRESENCE_TIMEOUT_MS} ms)`);
    await watching.events.expectNothing('UserLeft', 1_000, { except: (_, payload) => !about(stranded)(payload) });
  });
  await victim.start();
}, { timeout: 35_000 });

/** The NATS node leading the list events' stream (the one a publish goes to first). */
async function streamLeader() {
  for (const node of topology.nats.filter((n) => n.alive)) {
    const jsz = await node.jsz('?accounts=true&streams=true');
    const streams = (jsz?.account_details ?? []).flatMap((account) => account.stream_detail ?? []);
    const leader = streams.find((stream) => stream.cluster?.leader && /list/i.test(stream.name))?.cluster.leader;
    if (leader) return topology.nats.find((n) => n.name === leader);
  }
  return topology.nats[0];
}

test('kill -9 a NATS node, then bring it back: commands keep working, nothing lost or repeated', async (t) => {
  await underLoad(t, 'fault 2: kill -9 the NATS node leading the list stream, then restart it', async () => {
    const node = await streamLeader();
    const how = await node.signal('SIGKILL');
    await progress(20);
    node.start();
    const restartedAt = Date.now();
    await node.waitCurrent();
    return [`${node.name} ${how}, restarted on the same ports and store; current again after ${Date.now() - restartedAt} ms`];
  });
}, { timeout: 40_000 });

test('kill -9 the lists replica holding the relay lock: the other publishes', async (t) => {
  await underLoad(t, 'fault 3: kill -9 the lists replica that runs the outbox relay', async () => {
    const leaders = await Promise.all(topology.services.lists.map((replica) => listsMetric(replica, 'pulse_relay_leader')));
    const index = leaders.indexOf(1);
    assert.notEqual(index, -1, `one replica leads the relay (pulse_relay_leader: ${leaders})`);
    const victim = topology.services.lists[index];
    const other = topology.services.lists[1 - index];
    // Aim the kill between commit and publish: at a moment the outbox holds committed rows.
    let waiting = 0;
    const aimUntil = Date.now() + 3_000;
    while (waiting < 1 && Date.now() < aimUntil) waiting = (await listsMetric(victim, 'pulse_outbox_rows')) ?? 0;
    const how = await victim.signal('SIGKILL');
    const killedAt = Date.now();
    await until(`${other.name} takes the relay lock`, async () => (await listsMetric(other, 'pulse_relay_leader')) === 1, { timeoutMs: 15_000 });
    const takeover = Date.now() - killedAt;
    await progress(20);
    // Back on its port, for the gateways that call it; the lock stays with the other.
    await victim.start();
    return [
      `${victim.name} ${how} right after its /metrics showed ${waiting} committed, unpublished outbox rows`,
      `${other.name} took the relay lock ${takeover} ms after the kill; ${victim.name} restarted`,
    ];
  });
}, { timeout: 35_000 });

test('SIGTERM a gateway under load: it drains, nothing is lost', async (t) => {
  const { index, held } = busiestGateway();
  const victim = topology.gateways[index];
  const rows = await underLoad(t, `fault 4: SIGTERM ${victim.name} (graceful drain)`, async () => {
    const signalledAt = Date.now();
    const how = await victim.signal('SIGTERM');
    const exitedAfter = Date.now() - signalledAt;
    assert.equal(how, 'exit code 0', 'a drained gateway exits cleanly');
    // README: it exits at most 5 s after the drain period (a long-polling connection whose client
    // went elsewhere is waited for that long); a second more for the process to end.
    assert.ok(exitedAfter < DRAIN_PERIOD_MS + 6_000, `exited ${exitedAfter} ms after SIGTERM`);
    await reconnected();
    return [
      `${victim.name} held ${held.join(', ') || 'no WebSocket or gRPC follower'}`,
      `${victim.name} drained and exited (${how}) ${exitedAfter} ms after SIGTERM (drain period ${DRAIN_PERIOD_MS} ms)`,
    ];
  });
  await movedOn(t, rows, held, victim.name);
  await victim.start();
}, { timeout: 30_000 });

test('long-polling and SSE clients keep working while consecutive requests land on different gateways', async (t) => {
  const httpFollowers = followers.filter((f) => /^(sse|lp)-/.test(f.label));
  const before = new Map(httpFollowers.map((f) => [f.label, proxy.served(f.user.id).length]));
  let calls = [];
  await underLoad(t, 'fault 5: none; polls and sends spread round robin over three gateways', async () => {
    // Hub calls make sends (POSTs) beside the polls and the event stream.
    calls = await Promise.allSettled(httpFollowers.map(async (follower) => {
      for (let i = 0; i < 5; i += 1) {
        const page = await follower.probe();
        assert.equal(page.reset, false, `${follower.label}: GetMissedEvents answered reset`);
      }
    }));
    return calls.map((call, i) => `${httpFollowers[i].label}: 5 hub calls ${call.status === 'fulfilled' ? 'answered' : `failed: ${call.reason.message}`}`);
  });
  for (const [i, follower] of httpFollowers.entries()) {
    const served = proxy.served(follower.user.id).slice(before.get(follower.label));
    const switches = served.filter((g, j) => j > 0 && g !== served[j - 1]).length;
    console.log(`  ${follower.label}: ${served.length} transport requests, on gateways ${[...new Set(served)].map((g) => g + 1).join(', ')}, ${switches} switches`);
    await t.test(`${follower.label}: hub calls answered while its requests reached several gateways`, () => {
      if (calls[i].status === 'rejected') throw calls[i].reason;
      assert.ok(new Set(served).size >= 2, `${follower.label}'s requests all went to one gateway: ${served}`);
    });
  }
}, { timeout: 25_000 });
