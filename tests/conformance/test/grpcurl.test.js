// The shopping-list gRPC service through the real grpcurl (CONTRACT §3, §4):
// reflection and health work without .proto files, and a change made over gRPC
// reaches SignalR members as the same event a hub call would cause.
//
// grpcurl: env GRPCURL, default tests/tools/bin/grpcurl (tests/tools/install-grpcurl.sh).

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { expectBroadcast, expectQuiet } from '../lib/client.js';
import { grpcurl, grpcurlOk, requireGrpcurl } from '../lib/grpcurl.js';
import { useSuite } from '../lib/harness.js';
import { createList, itemShape, joinList, shareList, userJoinedShape } from '../lib/lists.js';
import { positiveInteger, timestamp } from '../lib/shape.js';
import { newUser } from '../lib/users.js';

const suite = useSuite();

before(requireGrpcurl);

test('grpcurl lists the shopping-list, health and reflection services through reflection', async () => {
  const services = (await grpcurlOk([suite.lists, 'list'])).trim().split('\n');

  assert.ok(services.includes('pulse.lists.v1.ShoppingLists'), `services: ${services}`);
  assert.ok(services.includes('grpc.health.v1.Health'), `services: ${services}`);
  assert.ok(services.some((s) => s.startsWith('grpc.reflection.')), `services: ${services}`);
});

test('grpcurl describes the shopping-list methods through reflection', async () => {
  const description = await grpcurlOk([suite.lists, 'describe', 'pulse.lists.v1.ShoppingLists']);

  for (const method of ['CreateList', 'GetList', 'AddItem', 'ShareList', 'RemoveCollaborator']) {
    assert.match(description, new RegExp(`rpc ${method} \\(`), `${method} in:\n${description}`);
  }
});

test('the health service reports the server as serving', async () => {
  const reply = JSON.parse(await grpcurlOk(['-d', '{}', suite.lists, 'grpc.health.v1.Health/Check']));

  assert.deepStrictEqual(reply, { status: 'SERVING' });
});

test('a gRPC call without a bearer token is refused as Unauthenticated', async () => {
  const { code, stderr } = await grpcurl([
    '-d', '{"name":"Sneaky"}', suite.lists, 'pulse.lists.v1.ShoppingLists/CreateList',
  ]);

  assert.notEqual(code, 0, 'grpcurl fails');
  assert.match(stderr, /Unauthenticated/);
});

test('an item added through gRPC reaches SignalR members as ItemAdded with the same item', async () => {
  const alice = newUser('Alice');
  const bob = newUser('Bob');
  const a = await suite.connect(alice);
  const list = await createList(a, { name: 'Mixed clients' });
  await joinList(a, list.id, [alice]);
  await shareList(a, list.id, bob, 'Editor');
  await a.events.next('CollaboratorAdded');
  const b = await suite.connect(bob);
  await joinList(b, list.id, [alice, bob]);
  await expectBroadcast([a], 'UserJoined', userJoinedShape(list.id, bob));

  // Bob, on a native client, adds milk; the quantity defaults to 1.
  const reply = await grpcurlOk(
    ['-d', JSON.stringify({ listId: list.id, item: { name: 'Milk' } }), suite.lists, 'pulse.lists.v1.ShoppingLists/AddItem'],
    { token: suite.token(bob) },
  );
  const grpcItem = JSON.parse(reply);

  const added = await expectBroadcast([a, b], 'ItemAdded', {
    eventType: 'ItemAdded',
    listId: list.id,
    item: itemShape({ listId: list.id, name: 'Milk', quantity: 1, createdBy: bob }),
    timestamp,
    sequence: positiveInteger,
  });
  assert.equal(added.item.id, grpcItem.id, 'the event carries the item gRPC created');
  assert.equal(grpcItem.name, 'Milk');
  assert.equal(grpcItem.createdAt, added.item.createdAt);
  await expectQuiet([a, b]);
});
