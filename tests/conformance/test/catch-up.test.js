// Catching up after a classic reconnect (no stateful reconnect): the official
// client comes back on a new connection, joins again, and asks
// `GetMissedEvents(groupId, lastSequence)` for what it missed. The result holds
// those events exactly as the live invocations carried them (JSON and
// MessagePack alike), then live events follow; a position no longer retained
// answers `reset` (the client refetches the snapshot).

import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { HttpTransportType, LogLevel } from '../lib/client.js';
import { useSuite } from '../lib/harness.js';
import { createList, hubError, joinList, shareList } from '../lib/lists.js';
import { tcpProxy } from '../lib/proxy.js';
import { connectLean, createSession, joinSession } from '../lib/sessions.js';
import { assertShape, satisfying, timestamp } from '../lib/shape.js';
import { newUser } from '../lib/users.js';

const suite = useSuite();
const proxies = [];

after(async () => {
  await Promise.all(proxies.map((proxy) => proxy.close()));
});

/** The result of GetMissedEvents holding exactly `missed` (live payloads of `event`). */
function caughtUpShape(group, event, missed) {
  const last = missed.at(-1).sequence;
  return {
    group,
    events: missed.map((payload) => ({ event, sequence: payload.sequence, occurredAt: timestamp, payload })),
    sequence: satisfying(`sequence >= ${last}`, (v) => Number.isInteger(v) && v >= last),
    reset: false,
    hasMore: false,
  };
}

for (const protocol of ['json', 'messagepack']) {
  test(`automatic reconnect (${protocol}): GetMissedEvents hands over what was missed, as it was pushed`, async () => {
    const alice = newUser('Alice');
    const bob = newUser('Bob');
    const b = await suite.connect(bob);
    const list = await createList(b, { name: 'Catch-up' });
    await shareList(b, list.id, alice, 'Editor');
    await joinList(b, list.id, [bob]);

    const path = await tcpProxy(suite.gateway);
    proxies.push(path);
    // The cut is logged as an error by the client; expected here. The first retry comes after
    // Bob's changes, so Alice misses them.
    const a = suite.tab(alice, {
      gateway: path.url,
      transport: HttpTransportType.WebSockets,
      protocol,
      reconnectDelays: [1_000, 1_000, 1_000],
      logLevel: LogLevel.None,
    });
    await a.start();
    await joinList(a, list.id, [bob, alice]);
    await b.invoke('AddItem', list.id, { name: 'Milk', quantity: 1 });
    const milk = await a.events.next('ItemAdded');
    await b.events.next('ItemAdded');

    const reconnected = new Promise((resolve) => a.connection.onreconnected(resolve));
    const connectionId = a.connection.connectionId;
    assert.ok(path.cut() >= 1, 'a connection was cut');
    const missed = [];
    for (const name of ['Bread', 'Eggs', 'Jam']) {
      await b.invoke('AddItem', list.id, { name, quantity: 1 });
      missed.push(await b.events.next('ItemAdded', { where: (e) => e.item.name === name }));
    }
    await reconnected;
    assert.notEqual(a.connection.connectionId, connectionId, 'a new connection: the transport replayed nothing');

    await joinList(a, list.id, [bob, alice]);
    const caughtUp = await a.invoke('GetMissedEvents', list.id, milk.sequence);
    assertShape(caughtUp, caughtUpShape(`list_${list.id}`, 'ItemAdded', missed), 'GetMissedEvents result');
    assert.deepStrictEqual(
      caughtUp.events.map((e) => e.payload),
      missed,
      'the very payloads Bob received live',
    );

    await b.invoke('AddItem', list.id, { name: 'Tea', quantity: 1 });
    const tea = await b.events.next('ItemAdded', { where: (e) => e.item.name === 'Tea' });
    assert.deepStrictEqual(await a.events.next('ItemAdded'), tea, 'then live events');
    assert.ok(tea.sequence > caughtUp.sequence);
    await a.events.expectNothing('ItemAdded');
  });
}

test('a Lean Coffee participant back on a new connection catches up the same way', async () => {
  const alice = newUser('Alice');
  const bob = newUser('Bob');
  const a = await connectLean(suite, alice);
  const session = await createSession(a, { title: 'Team retro' });
  await joinSession(a, session.id);
  const b = await connectLean(suite, bob, { protocol: 'messagepack' });
  await joinSession(b, session.id);
  await a.invoke('AddTopic', session.id, { title: 'Deploys' });
  const first = await b.events.next('TopicAdded');
  await a.events.next('TopicAdded');
  await b.close();

  const missed = [];
  for (const title of ['Tests', 'Coffee']) {
    await a.invoke('AddTopic', session.id, { title });
    missed.push(await a.events.next('TopicAdded', { where: (e) => e.topic.title === title }));
  }
  const back = await connectLean(suite, bob, { protocol: 'messagepack' });
  await joinSession(back, session.id);
  const caughtUp = await back.invoke('GetMissedEvents', session.id, first.sequence);
  assertShape(caughtUp, caughtUpShape(`session_${session.id}`, 'TopicAdded', missed), 'GetMissedEvents result');
  assert.deepStrictEqual(caughtUp.events.map((e) => e.payload), missed);
});

test('a position never reached answers reset; malformed positions and outsiders are refused', async () => {
  const alice = newUser('Alice');
  const mallory = newUser('Mallory');
  const a = await suite.connect(alice);
  const list = await createList(a, { name: 'Private' });

  // A reset names where the group stands (nothing published yet: 0), never the position asked.
  for (const position of [1_000, Number.MAX_SAFE_INTEGER]) {
    const ahead = await a.invoke('GetMissedEvents', list.id, position);
    assert.deepStrictEqual(ahead, { group: `list_${list.id}`, events: [], sequence: 0, reset: true, hasMore: false });
  }
  const fresh = await a.invoke('GetMissedEvents', list.id, 0);
  assert.deepStrictEqual(fresh, { group: `list_${list.id}`, events: [], sequence: 0, reset: false, hasMore: false });

  for (const position of [-1, 2.5, '3', null]) {
    await assert.rejects(
      a.invoke('GetMissedEvents', list.id, position),
      {
        message:
          "Failed to invoke 'GetMissedEvents' due to an error on the server. InvalidDataException: afterSequence must be a non-negative integer",
      },
      `afterSequence ${JSON.stringify(position)}`,
    );
  }
  const m = await suite.connect(mallory);
  await assert.rejects(m.invoke('GetMissedEvents', list.id, 0), { message: hubError('GetMissedEvents', 'Access denied') });
});
