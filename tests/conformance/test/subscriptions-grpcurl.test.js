// The README's walk-through of the gateway's gRPC subscription API, run with
// the real grpcurl (issue 7): reflection on the gateway's gRPC port, a stream
// that replays what a client missed and then carries live events, and the
// errors for strangers.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { grpcurl, grpcurlOk, grpcurlStream as stream, requireGrpcurl } from '../lib/grpcurl.js';
import { useSuite } from '../lib/harness.js';
import { createList } from '../lib/lists.js';
import { newUser } from '../lib/users.js';

const suite = useSuite();

before(requireGrpcurl);

test('grpcurl finds the subscription API through reflection on the gateway', async () => {
  const services = (await grpcurlOk([suite.gatewayGrpc, 'list'])).trim().split('\n');
  assert.ok(services.includes('pulse.gateway.v1.Subscriptions'), `services: ${services}`);
  const description = await grpcurlOk([suite.gatewayGrpc, 'describe', 'pulse.gateway.v1.Subscriptions']);
  assert.match(description, /rpc Subscribe \( \.pulse\.gateway\.v1\.SubscribeRequest \) returns \( stream \.pulse\.gateway\.v1\.SubscriptionMessage \)/);
});

test('a grpcurl stream replays missed events, then carries live ones', async () => {
  const ann = newUser('Ann');
  const token = suite.token(ann);
  const tab = await suite.connect(ann);
  const list = await createList(tab, { name: 'Walk-through' });
  for (const name of ['Milk', 'Bread']) {
    await tab.invoke('AddItem', list.id, { name, quantity: 1 });
  }

  const subscription = stream(
    ['-d', JSON.stringify({ follows: [{ listId: list.id, afterSequence: 1 }] }), suite.gatewayGrpc,
      'pulse.gateway.v1.Subscriptions/Subscribe'],
    token,
  );
  try {
    const bread = await subscription.next();
    assert.equal(bread.event.group, `list_${list.id}`);
    assert.equal(bread.event.eventName, 'ItemAdded');
    assert.equal(bread.event.sequence, '2');
    assert.equal(bread.event.event.lists.itemAdded.item.name, 'Bread');

    await tab.invoke('AddItem', list.id, { name: 'Eggs', quantity: 1 });
    const eggs = await subscription.next();
    assert.equal(eggs.event.sequence, '3');
    assert.equal(eggs.event.event.lists.itemAdded.item.name, 'Eggs');
  } finally {
    subscription.stop();
  }
});

test('grpcurl gets PERMISSION_DENIED for a stranger and UNAUTHENTICATED without a token', async () => {
  const ann = newUser('Ann');
  const tab = await suite.connect(ann);
  const list = await createList(tab, { name: 'Private' });
  const request = ['-d', JSON.stringify({ follows: [{ listId: list.id }] }), suite.gatewayGrpc,
    'pulse.gateway.v1.Subscriptions/Subscribe'];

  const stranger = await grpcurl(request, { token: suite.token(newUser('Eve')) });
  assert.notEqual(stranger.code, 0);
  assert.match(stranger.stderr, /PermissionDenied/);
  assert.match(stranger.stderr, /Access denied/);

  const anonymous = await grpcurl(request);
  assert.notEqual(anonymous.code, 0);
  assert.match(anonymous.stderr, /Unauthenticated/);
});
