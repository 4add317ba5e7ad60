// What an ASP.NET Core SignalR client relies on beyond the hub's own methods
// (CONTRACT §1): case-insensitive method names, .NET error texts for failed
// calls, invocations without result, every advertised transport, skipped negotiation.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { expectBroadcast, expectQuiet, HttpTransportType } from '../lib/client.js';
import { useSuite } from '../lib/harness.js';
import { anyHubError, createList, itemShape, joinList, listShape } from '../lib/lists.js';
import { assertShape, positiveInteger, timestamp } from '../lib/shape.js';
import { newUser } from '../lib/users.js';

const suite = useSuite();

test('hub method names are matched case-insensitively', async () => {
  const alice = newUser('Alice');
  const tab = await suite.connect(alice);

  const list = await tab.invoke('createlist', { name: 'Lower case' });
  assertShape(list, listShape({ name: 'Lower case', owner: alice }), 'createlist result');
  await tab.invoke('joinList', list.id);
  await tab.events.next('PresenceUpdate', { where: (p) => p?.listId === list.id });
  const snapshot = await tab.invoke('GETLIST', list.id);
  assert.deepStrictEqual(snapshot.list, list, 'GETLIST returns the list');
  await expectQuiet([tab]);
});

test('calling a method the hub does not have fails with the .NET message and the connection stays usable', async () => {
  const tab = await suite.connect(newUser('Alice'));

  await assert.rejects(tab.invoke('Nope', 'x'), { message: "Unknown hub method 'Nope'" });

  assert.equal(tab.connection.state, 'Connected');
  await createList(tab, { name: 'Still here' });
});

test('a validation error reaches the caller as HubException text and changes nothing', async () => {
  const alice = newUser('Alice');
  const tab = await suite.connect(alice);

  await assert.rejects(tab.invoke('CreateList', { name: '' }), { message: anyHubError('CreateList') });

  const list = await createList(tab, { name: 'Valid' });
  await joinList(tab, list.id, [alice]);
  await assert.rejects(tab.invoke('AddItem', list.id, { name: '', quantity: 1 }), {
    message: anyHubError('AddItem'),
  });

  assert.equal(tab.connection.state, 'Connected');
  const snapshot = await tab.invoke('GetList', list.id);
  assert.deepStrictEqual(snapshot.items, [], 'no item was added');
  await expectQuiet([tab]);
});

test('an invocation without result (send) is carried out', async () => {
  const alice = newUser('Alice');
  const tab = await suite.connect(alice);
  const list = await createList(tab, { name: 'Fire and forget' });

  await tab.send('JoinList', list.id);
  await tab.events.next('PresenceUpdate', { where: (p) => p?.listId === list.id });
  await tab.send('AddItem', list.id, { name: 'Salt', quantity: 1 });
  const added = await tab.events.next('ItemAdded');
  assertShape(added.item, itemShape({ listId: list.id, name: 'Salt', quantity: 1, createdBy: alice }), 'item');
});

// Every transport the gateway advertises (test/matrix.test.js adds the
// MessagePack protocol to each).
for (const [name, transport] of [
  ['WebSockets', HttpTransportType.WebSockets],
  ['ServerSentEvents', HttpTransportType.ServerSentEvents],
  ['LongPolling', HttpTransportType.LongPolling],
]) {
  test(`the ${name} transport carries calls, results and events`, async () => {
    const alice = newUser('Alice');
    const tab = await suite.connect(alice, { transport });
    assert.equal(tab.connection.state, 'Connected');

    const list = await createList(tab, { name: `Over ${name}` });
    await joinList(tab, list.id, [alice]);
    const item = await tab.invoke('AddItem', list.id, { name: 'Rice', quantity: 1 });
    assertShape(item, itemShape({ listId: list.id, name: 'Rice', quantity: 1, createdBy: alice }), 'AddItem result');
    await expectBroadcast([tab], 'ItemAdded', {
      eventType: 'ItemAdded',
      listId: list.id,
      item,
      timestamp,
      sequence: positiveInteger,
    });
    await expectQuiet([tab]);
  });
}

test('a client that skips negotiation connects over WebSockets directly', async () => {
  const alice = newUser('Alice');
  const tab = await suite.connect(alice, { transport: HttpTransportType.WebSockets, skipNegotiation: true });

  const list = await createList(tab, { name: 'No negotiate' });
  await joinList(tab, list.id, [alice]);
});
