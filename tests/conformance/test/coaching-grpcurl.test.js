// The coaching gRPC service through the real grpcurl (CONTRACT §3.3, §4,
// issue 4): reflection and health; a relationship managed entirely over gRPC
// while both sides watch `/hubs/notifications`; a message sent over gRPC that
// the recipient's SignalR tab and their own gRPC subscription both receive;
// a notification from an internal sender.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { expectBroadcast, expectQuiet } from '../lib/client.js';
import { CHAT_HUB, NOTIFICATIONS_HUB, coachingCall, messageShape } from '../lib/coaching.js';
import { grpcurl, grpcurlOk, grpcurlStream, requireGrpcurl } from '../lib/grpcurl.js';
import { useSuite } from '../lib/harness.js';
import { assertShape, nonEmptyString, positiveInteger, timestamp, uuid } from '../lib/shape.js';
import { newUser } from '../lib/users.js';

const suite = useSuite();

before(requireGrpcurl);

const SERVICE = 'pulse.coaching.v1.Coaching';

function relationshipShape({ trainer, client, status, canEditGoals }) {
  return { id: uuid, trainerId: trainer.id, clientId: client.id, status, canEditGoals, createdAt: timestamp, updatedAt: timestamp };
}

test('grpcurl lists and describes the coaching service through reflection', async () => {
  const services = (await grpcurlOk([suite.coaching, 'list'])).trim().split('\n');
  const description = await grpcurlOk([suite.coaching, 'describe', SERVICE]);
  const health = JSON.parse(await grpcurlOk(['-d', JSON.stringify({ service: SERVICE }), suite.coaching, 'grpc.health.v1.Health/Check']));

  assert.ok(services.includes(SERVICE), `services: ${services}`);
  for (const method of ['SendMessage', 'MarkAsRead', 'GetConversation', 'InviteClient', 'AcceptInvitation', 'EndRelationship', 'SetGoalEditPermission', 'AssignGoal', 'UpdateGoalProgress', 'Notify']) {
    assert.match(description, new RegExp(`rpc ${method} \\(`), `${method} in:\n${description}`);
  }
  assert.deepStrictEqual(health, { status: 'SERVING' });
});

test('grpcurl manages a relationship while both sides watch their notifications', async () => {
  const trainer = newUser('Tara');
  const client = newUser('Cleo');
  const t = await suite.connect(trainer, { hub: NOTIFICATIONS_HUB });
  const c = await suite.connect(client, { hub: NOTIFICATIONS_HUB });

  const refused = await grpcurl(['-d', JSON.stringify({ clientId: client.id }), suite.coaching, `${SERVICE}/InviteClient`], { token: suite.token(trainer) });
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /PermissionDenied/);

  const invited = await coachingCall(suite, trainer, 'InviteClient', { clientId: client.id, canEditGoals: true }, { roles: ['trainer'] });
  assertShape(invited, relationshipShape({ trainer, client, status: 'Pending', canEditGoals: true }), 'InviteClient reply');
  await expectBroadcast([t], 'RelationshipUpdated', { relationship: invited, sequence: 1 });
  // The client also gets an invitation notice; both events commit together.
  const [update, invitation] = [await c.events.next('RelationshipUpdated'), await c.events.next('ReceiveNotification')];
  assert.deepStrictEqual(update.relationship, invited);
  assertShape(invitation, { id: uuid, userId: client.id, kind: 'RelationshipInvited', title: nonEmptyString, body: `${trainer.name} invited you to be their client`, createdAt: timestamp, sequence: positiveInteger });
  assert.deepStrictEqual([update.sequence, invitation.sequence].sort(), [1, 2]);

  const accepted = await coachingCall(suite, client, 'AcceptInvitation', { relationshipId: invited.id });
  assert.equal(accepted.status, 'Active');
  await expectBroadcast([t], 'RelationshipUpdated', { relationship: accepted, sequence: 2 });
  await expectBroadcast([c], 'RelationshipUpdated', { relationship: accepted, sequence: 3 });

  const ended = await coachingCall(suite, trainer, 'EndRelationship', { relationshipId: invited.id });
  assert.equal(ended.status, 'Ended');
  await expectBroadcast([t], 'RelationshipUpdated', { relationship: ended, sequence: 3 });
  await expectBroadcast([c], 'RelationshipUpdated', { relationship: ended, sequence: 4 });
  await expectQuiet([t, c]);
});

test('a message sent with grpcurl reaches the SignalR tab and the gRPC subscription of its recipient', async () => {
  const alice = newUser('Alice');
  const bob = newUser('Bob');
  const b = await suite.connect(bob, { hub: CHAT_HUB });
  const subscription = grpcurlStream(
    // From the start of the group's history, so the message arrives once whether
    // it commits before or after the stream is live.
    ['-d', JSON.stringify({ follows: [{ own: 'USER_CHANNEL_CHAT', afterSequence: 0 }] }), suite.gatewayGrpc, 'pulse.gateway.v1.Subscriptions/Subscribe'],
    suite.token(bob),
  );
  try {
    const sent = await coachingCall(suite, alice, 'SendMessage', { recipientId: bob.id, message: 'Sent from a terminal' });
    assertShape({ readAt: null, ...sent }, messageShape({ sender: alice, recipient: bob, message: 'Sent from a terminal' }), 'SendMessage reply');

    await expectBroadcast([b], 'ReceiveMessage', { readAt: null, ...sent, sequence: 1 });
    const delivery = await subscription.next();
    assert.equal(delivery.event.group, `chat_${bob.id}`);
    assert.equal(delivery.event.eventName, 'ReceiveMessage');
    assert.equal(delivery.event.sequence, '1');
    assert.deepStrictEqual(delivery.event.event.coaching.receiveMessage, sent);
    await expectQuiet([b]);
  } finally {
    subscription.stop();
  }
});

test("nobody follows someone else's user groups, and notifications come only from internal senders", async () => {
  const alice = newUser('Alice');
  const bob = newUser('Bob');
  const b = await suite.connect(bob, { hub: NOTIFICATIONS_HUB });

  const denied = await grpcurl(['-d', JSON.stringify({ userId: bob.id, kind: 'Announcement', title: 'Hi' }), suite.coaching, `${SERVICE}/Notify`], { token: suite.token(alice) });
  assert.notEqual(denied.code, 0);
  assert.match(denied.stderr, /PermissionDenied/);

  const notification = await coachingCall(suite, alice, 'Notify', { userId: bob.id, kind: 'Announcement', title: 'New plan', body: 'Week 2 starts Monday' }, { roles: ['service'] });
  await expectBroadcast([b], 'ReceiveNotification', { ...notification, sequence: 1 });
  assert.deepStrictEqual((await b.invoke('GetNotifications', null)).notifications, [notification]);
  await expectQuiet([b]);
});
