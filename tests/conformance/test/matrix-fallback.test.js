// Transport fallback (CONTRACT §1): a client that may not use WebSockets, or
// whose WebSocket upgrade a proxy refuses, ends up on Server-Sent Events or long
// polling and still gets every event.

import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { expectBroadcast, expectQuiet, HttpTransportType, LogLevel } from '../lib/client.js';
import { useSuite } from '../lib/harness.js';
import { createList, joinList, shareList } from '../lib/lists.js';
import { upgradeBlockingProxy } from '../lib/proxy.js';
import { positiveInteger, timestamp } from '../lib/shape.js';
import { newUser } from '../lib/users.js';

const suite = useSuite();
let proxy = null;

/** The upgrade-refusing proxy in front of this file's gateway (started on first use). */
async function blockingProxy() {
  proxy ??= await upgradeBlockingProxy(suite.gateway);
  return proxy;
}

after(async () => {
  await proxy?.close();
});

function transportOf(tab) {
  return tab.connection.connection.transport.constructor.name;
}

/** Alice (on `options`) and Bob (plain WebSockets) on one list; Bob adds an item both must get. */
async function itemReachesBoth(options) {
  const alice = newUser('Alice');
  const bob = newUser('Bob');
  const b = await suite.connect(bob);
  const list = await createList(b, { name: 'Fallback' });
  await shareList(b, list.id, alice, 'Editor');
  await joinList(b, list.id, [bob]);

  const a = await suite.connect(alice, options);
  await joinList(a, list.id, [bob, alice]);
  await b.events.next('UserJoined');
  const item = await b.invoke('AddItem', list.id, { name: 'Milk', quantity: 1 });
  await expectBroadcast([a, b], 'ItemAdded', {
    eventType: 'ItemAdded',
    listId: list.id,
    item,
    timestamp,
    sequence: positiveInteger,
  });
  const own = await a.invoke('AddItem', list.id, { name: 'Bread', quantity: 1 });
  await expectBroadcast([a, b], 'ItemAdded', {
    eventType: 'ItemAdded',
    listId: list.id,
    item: own,
    timestamp,
    sequence: positiveInteger,
  });
  // Bob's own UserJoined is relayed after his join returned, and may reach Alice if she joined
  // meanwhile: a late notice of a user her PresenceUpdate already listed, harmless.
  const bobJoinedLate = (name, payload) => name === 'UserJoined' && payload?.user?.id === bob.id;
  await expectQuiet([a, b], { except: bobJoinedLate });
  return a;
}

test('a client with WebSockets disabled falls back to Server-Sent Events', async () => {
  const tab = await itemReachesBoth({
    transport: HttpTransportType.ServerSentEvents | HttpTransportType.LongPolling,
  });
  assert.equal(transportOf(tab), 'ServerSentEventsTransport');
});

test('a MessagePack client with WebSockets disabled falls back to long polling', async () => {
  const tab = await itemReachesBoth({
    transport: HttpTransportType.ServerSentEvents | HttpTransportType.LongPolling,
    protocol: 'messagepack',
  });
  assert.equal(transportOf(tab), 'LongPollingTransport');
});

test('a client whose WebSocket upgrade is refused on the way falls back to Server-Sent Events', async () => {
  const proxy = await blockingProxy();
  const refusedBefore = proxy.upgradesRefused();
  // The failed WebSocket attempt is logged as an error by the client; expected here.
  const tab = await itemReachesBoth({ gateway: proxy.url, logLevel: LogLevel.None });
  assert.equal(transportOf(tab), 'ServerSentEventsTransport');
  assert.ok(proxy.upgradesRefused() > refusedBefore, 'the WebSocket was tried and refused');
});

test('a MessagePack client whose WebSocket upgrade is refused falls back to long polling', async () => {
  const proxy = await blockingProxy();
  const tab = await itemReachesBoth({ gateway: proxy.url, protocol: 'messagepack', logLevel: LogLevel.None });
  assert.equal(transportOf(tab), 'LongPollingTransport');
});
