// The Lean Coffee gRPC service through the real grpcurl (CONTRACT §3, §4): a
// facilitator on a native client runs a whole session (create, topics, votes,
// statuses) while a participant watches through the official SignalR client
// and sees the same events a hub call would cause.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { expectBroadcast, expectQuiet } from '../lib/client.js';
import { grpcurl, grpcurlOk, requireGrpcurl } from '../lib/grpcurl.js';
import { useSuite } from '../lib/harness.js';
import { connectLean, joinSession, sessionShape, topicShape } from '../lib/sessions.js';
import { assertShape, timestamp } from '../lib/shape.js';
import { newUser } from '../lib/users.js';

const suite = useSuite();

before(requireGrpcurl);

const SERVICE = 'pulse.leancoffee.v1.LeanCoffee';

/**
 * Optional fields, which proto3 JSON leaves out when unset and SignalR
 * payloads write as null (CONTRACT §1).
 */
const OPTIONAL = {
  session: ['description', 'scheduledStartTime', 'actualStartTime', 'actualEndTime'],
  topic: ['description', 'updatedAt'],
  participant: ['leftAt'],
};

/** A gRPC reply as SignalR shows the same entity: absent optional fields as null. */
function withNulls(value, optional) {
  return { ...Object.fromEntries(optional.map((key) => [key, null])), ...value };
}

/** Calls `method` as `user` with `request`; returns the parsed reply (every field written). */
async function call(user, method, request) {
  const reply = await grpcurlOk(
    ['-emit-defaults', '-d', JSON.stringify(request), suite.leanCoffee, `${SERVICE}/${method}`],
    { token: suite.token(user) },
  );
  return JSON.parse(reply);
}

test('grpcurl lists and describes the Lean Coffee service through reflection', async () => {
  const services = (await grpcurlOk([suite.leanCoffee, 'list'])).trim().split('\n');
  const description = await grpcurlOk([suite.leanCoffee, 'describe', SERVICE]);
  const health = JSON.parse(await grpcurlOk(['-d', JSON.stringify({ service: SERVICE }), suite.leanCoffee, 'grpc.health.v1.Health/Check']));

  assert.ok(services.includes(SERVICE), `services: ${services}`);
  assert.ok(!services.includes('pulse.lists.v1.ShoppingLists'), `only what this port serves: ${services}`);
  for (const method of ['CreateSession', 'GetSession', 'AddTopic', 'VoteForTopic', 'RemoveVote', 'ChangeSessionStatus']) {
    assert.match(description, new RegExp(`rpc ${method} \\(`), `${method} in:\n${description}`);
  }
  assert.deepStrictEqual(health, { status: 'SERVING' });
});

test('a session run entirely over gRPC is watched live through SignalR', async () => {
  const alice = newUser('Alice');
  const bob = newUser('Bob');

  const session = withNulls(
    await call(alice, 'CreateSession', { title: 'Native retro', description: 'From a terminal' }),
    OPTIONAL.session,
  );
  assertShape(session, sessionShape({ title: 'Native retro', description: 'From a terminal', facilitator: alice }), 'CreateSession reply');
  const sessionId = session.id;
  const b = await connectLean(suite, bob);
  await joinSession(b, sessionId);
  // Bob's own arrival is a presence notice: it takes no number, so the session's events
  // are numbered from 1.
  let sequence = 0;

  const topic = withNulls(await call(alice, 'AddTopic', { sessionId, topic: { title: 'Flaky tests' } }), OPTIONAL.topic);
  assertShape(topic, topicShape({ sessionId, title: 'Flaky tests', author: alice }), 'AddTopic reply');
  await expectBroadcast([b], 'TopicAdded', { sessionId, topicId: topic.id, topic, timestamp, sequence: ++sequence });

  const voted = await call(alice, 'VoteForTopic', { sessionId, topicId: topic.id });
  assert.equal(voted.voteCount, 1);
  await expectBroadcast([b], 'VoteCast', {
    topicId: topic.id,
    sessionId,
    voteCount: 1,
    userId: alice.id,
    timestamp,
    sequence: ++sequence,
  });
  await b.invoke('VoteForTopic', sessionId, topic.id);
  await expectBroadcast([b], 'VoteCast', {
    topicId: topic.id,
    sessionId,
    voteCount: 2,
    userId: bob.id,
    timestamp,
    sequence: ++sequence,
  });
  const unvoted = await call(alice, 'RemoveVote', { sessionId, topicId: topic.id });
  assert.equal(unvoted.voteCount, 1);
  await expectBroadcast([b], 'VoteRemoved', {
    topicId: topic.id,
    sessionId,
    voteCount: 1,
    userId: alice.id,
    timestamp,
    sequence: ++sequence,
  });

  for (const status of ['InProgress', 'Completed']) {
    const moved = await call(alice, 'ChangeSessionStatus', { sessionId, status });
    assert.equal(moved.status, status);
    if (status === 'InProgress') {
      await expectBroadcast([b], 'SessionStatusChanged', { sessionId, status, timestamp, sequence: ++sequence });
      await call(alice, 'SetTopicStatus', { sessionId, topicId: topic.id, status: 'Discussed' });
      await expectBroadcast([b], 'TopicStatusChanged', {
        topicId: topic.id,
        sessionId,
        status: 'Discussed',
        timestamp,
        sequence: ++sequence,
      });
    } else {
      await expectBroadcast([b], 'SessionStatusChanged', { sessionId, status, timestamp, sequence: ++sequence });
    }
  }
  await expectQuiet([b]);

  // The snapshot over gRPC and over SignalR is the same, but for whose votes it lists.
  const overGrpc = await call(alice, 'GetSession', { sessionId });
  const overSignalr = await b.invoke('GetSession', sessionId);
  assert.equal(overGrpc.sequence, String(sequence), 'grpcurl writes a uint64 as a string');
  assert.deepStrictEqual(
    {
      session: withNulls(overGrpc.session, OPTIONAL.session),
      topics: overGrpc.topics.map((entry) => withNulls(entry, OPTIONAL.topic)),
      participants: overGrpc.participants.map((entry) => withNulls(entry, OPTIONAL.participant)),
      sequence: Number(overGrpc.sequence),
      votedTopicIds: [topic.id],
    },
    overSignalr,
    'the same snapshot; Bob still votes for the topic',
  );
  assert.deepStrictEqual(overGrpc.votedTopicIds, [], 'Alice took her vote back');
  assert.ok(overSignalr.session.actualStartTime && overSignalr.session.actualEndTime, 'both times set');
});

test('a participant cannot change the session status over gRPC either', async () => {
  const alice = newUser('Alice');
  const bob = newUser('Bob');
  const session = await call(alice, 'CreateSession', { title: 'Guarded' });

  const { code, stderr } = await grpcurl(
    ['-d', JSON.stringify({ sessionId: session.id, status: 'InProgress' }), suite.leanCoffee, `${SERVICE}/ChangeSessionStatus`],
    { token: suite.token(bob) },
  );

  assert.notEqual(code, 0, 'grpcurl fails');
  assert.match(stderr, /PermissionDenied/);
  assert.match(stderr, /only the facilitator can change the session status/);
  assert.equal((await call(alice, 'GetSession', { sessionId: session.id })).session.status, 'Scheduled');
});
