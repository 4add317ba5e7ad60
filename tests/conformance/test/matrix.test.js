// The shopping-list scenario on every transport × hub protocol the official
// client supports (CONTRACT §1): WebSockets, Server-Sent Events and long polling,
// each with JSON and MessagePack (SSE carries text only, so JSON only). Every
// event reaches every member once, with the same payload and consecutive
// sequence numbers, whatever the member's transport and protocol.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { expectBroadcast, expectQuiet, HttpTransportType } from '../lib/client.js';
import { useSuite } from '../lib/harness.js';
import { createList, itemShape, joinList, shareList, userJoinedShape } from '../lib/lists.js';
import { positiveInteger, timestamp } from '../lib/shape.js';
import { newUser, ref } from '../lib/users.js';

const suite = useSuite();

/** The client's class name for each transport, to check which one it really uses. */
const TRANSPORT_CLASSES = {
  [HttpTransportType.WebSockets]: 'WebSocketTransport',
  [HttpTransportType.ServerSentEvents]: 'ServerSentEventsTransport',
  [HttpTransportType.LongPolling]: 'LongPollingTransport',
};

export const COMBINATIONS = [
  { transport: HttpTransportType.WebSockets, protocol: 'json' },
  { transport: HttpTransportType.WebSockets, protocol: 'messagepack' },
  { transport: HttpTransportType.ServerSentEvents, protocol: 'json' },
  { transport: HttpTransportType.LongPolling, protocol: 'json' },
  { transport: HttpTransportType.LongPolling, protocol: 'messagepack' },
];

function describe({ transport, protocol }) {
  return `${HttpTransportType[transport]} + ${protocol}`;
}

/** A started tab that uses exactly this transport and protocol. */
async function connectOver(user, combination) {
  const tab = await suite.connect(user, combination);
  assert.equal(tab.connection.connection.transport.constructor.name, TRANSPORT_CLASSES[combination.transport]);
  assert.equal(tab.connection._protocol.name, combination.protocol);
  return tab;
}

for (const combination of COMBINATIONS) {
  test(`the shopping-list scenario works over ${describe(combination)}`, async () => {
    const alice = newUser('Alice');
    const bob = newUser('Bob');
    const a = await connectOver(alice, combination);
    const list = await createList(a, { name: `Over ${describe(combination)}` });
    await joinList(a, list.id, [alice]);

    const collaborator = await shareList(a, list.id, bob, 'Editor');
    const shared = await expectBroadcast([a], 'CollaboratorAdded', {
      eventType: 'CollaboratorAdded',
      listId: list.id,
      collaborator,
      invitedBy: ref(alice),
      timestamp,
      sequence: positiveInteger,
    });
    let sequence = shared.sequence;

    const b = await connectOver(bob, combination);
    await joinList(b, list.id, [alice, bob]);
    await expectBroadcast([a], 'UserJoined', userJoinedShape(list.id, bob));

    const item = await b.invoke('AddItem', list.id, { name: 'Milk', quantity: 2, unit: 'l' });
    const expected = itemShape({ listId: list.id, name: 'Milk', quantity: 2, unit: 'l', createdBy: bob });
    await expectBroadcast([a, b], 'ItemAdded', {
      eventType: 'ItemAdded',
      listId: list.id,
      item: { ...expected, id: item.id, position: item.position, createdAt: item.createdAt },
      timestamp,
      sequence: ++sequence,
    });

    const purchased = await a.invoke('SetItemPurchased', list.id, item.id, { isPurchased: true });
    assert.equal(purchased.isPurchased, true);
    await expectBroadcast([a, b], 'ItemPurchasedStatusChanged', {
      eventType: 'ItemPurchasedStatusChanged',
      listId: list.id,
      itemId: item.id,
      isPurchased: true,
      purchasedBy: ref(alice),
      purchasedAt: purchased.purchasedAt,
      timestamp,
      sequence: ++sequence,
    });

    // Method names are case-insensitive whatever the protocol.
    await b.invoke('deleteitem', list.id, item.id);
    await expectBroadcast([a, b], 'ItemDeleted', {
      eventType: 'ItemDeleted',
      listId: list.id,
      itemId: item.id,
      deletedBy: ref(bob),
      timestamp,
      sequence: ++sequence,
    });

    const snapshot = await a.invoke('GetList', list.id);
    assert.deepEqual(snapshot.items, []);
    assert.equal(snapshot.sequence, sequence, 'the snapshot reflects every event');
    await expectQuiet([a, b]);
  });
}

test('members on different transports and protocols receive the same events', async () => {
  const users = COMBINATIONS.map((_, i) => newUser(`Member${i}`));
  const owner = await connectOver(users[0], COMBINATIONS[0]);
  const list = await createList(owner, { name: 'Mixed' });
  const join = async (tab) => {
    await tab.invoke('JoinList', list.id);
    await tab.events.next('PresenceUpdate', { where: (p) => p?.listId === list.id });
  };
  await join(owner);
  for (const user of users.slice(1)) {
    await shareList(owner, list.id, user, 'Editor');
    // Delivered before anyone else joins: events are relayed after their commit, and one
    // still on its way would also reach a tab that joins meanwhile.
    await owner.events.next('CollaboratorAdded');
  }
  const tabs = [owner];
  for (const [i, combination] of COMBINATIONS.entries()) {
    if (i === 0) continue;
    const tab = await connectOver(users[i], combination);
    await join(tab);
    // Everyone hears of everyone who joined after them (before the next one joins, so the
    // next one cannot hear of this one).
    for (const earlier of tabs) await earlier.events.next('UserJoined');
    tabs.push(tab);
  }

  const item = await tabs[3].invoke('AddItem', list.id, { name: 'Bread', quantity: 1 });
  const added = await expectBroadcast(tabs, 'ItemAdded', {
    eventType: 'ItemAdded',
    listId: list.id,
    item,
    timestamp,
    sequence: positiveInteger,
  });
  assert.equal(added.item.quantity, 1);
  await expectQuiet(tabs);
});
