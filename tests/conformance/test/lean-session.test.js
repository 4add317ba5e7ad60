// CONTRACT §3.2 through the official client: a facilitator and participants
// in a Lean Coffee session. Every event reaches the session's group exactly
// once with every field present and the session's `sequence` going up by one;
// refusals carry the contract's texts; participants are tracked across tabs
// and disconnects.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { expectBroadcast, expectQuiet } from '../lib/client.js';
import { useSuite } from '../lib/harness.js';
import { hubError } from '../lib/lists.js';
import {
  acceptEarlierArrival,
  connectLean,
  createSession,
  joinSession,
  participantJoinedShape,
  participantLeftShape,
  participantShape,
  sessionShape,
  topicShape,
} from '../lib/sessions.js';
import { assertShape, positiveInteger, timestamp } from '../lib/shape.js';
import { newUser } from '../lib/users.js';

const suite = useSuite();

/** How long a wrongly sent ParticipantLeft is waited for after a tab closes. */
const CLOSE_WINDOW_MS = 1_000;

/** Follows a session's event sequence: each event must carry the previous one plus one. */
function sequenceAfter(first) {
  let last = first;
  return {
    get last() {
      return last;
    },
    next: () => ++last,
  };
}

/**
 * Alice creates "Team retro" and joins it, then Bob joins. Arrivals are
 * presence notices without a number (Alice's may still reach Bob, see
 * `acceptEarlierArrival`; Bob's is heard by Alice only), so the session's
 * numbered events start after the snapshot's sequence (0).
 */
async function aliceAndBobInASession() {
  const alice = newUser('Alice');
  const bob = newUser('Bob');
  const a = await connectLean(suite, alice);
  const session = await createSession(a, { title: 'Team retro', description: 'Monthly' });
  await joinSession(a, session.id);
  const b = await connectLean(suite, bob);
  await joinSession(b, session.id);
  await expectBroadcast([a], 'ParticipantJoined', participantJoinedShape(session.id, bob));
  const { sequence } = await a.invoke('GetSession', session.id);
  assert.equal(sequence, 0, 'joining takes no sequence number');
  return { alice, bob, a, b, session, sessionId: session.id, seq: sequenceAfter(sequence) };
}

test('every Lean Coffee event reaches the session with exact payloads, numbered one by one', async () => {
  const { alice, bob, a, b, session, sessionId, seq } = await aliceAndBobInASession();

  const topic = await b.invoke('AddTopic', sessionId, { title: 'Deploys', description: 'Why so slow?' });
  assertShape(topic, topicShape({ sessionId, title: 'Deploys', description: 'Why so slow?', author: bob }), 'AddTopic result');
  await expectBroadcast([a, b], 'TopicAdded', { sessionId, topicId: topic.id, topic, timestamp, sequence: seq.next() });
  acceptEarlierArrival(b, sessionId, alice);

  const edited = await a.invoke('EditTopic', sessionId, topic.id, { title: 'Releases' });
  assertShape(
    edited,
    topicShape({ ...topic, title: 'Releases', author: bob, updatedAt: timestamp }),
    'EditTopic result (by the facilitator)',
  );
  await expectBroadcast([a, b], 'TopicEdited', { topicId: topic.id, sessionId, topic: edited, timestamp, sequence: seq.next() });

  const afterBob = await b.invoke('VoteForTopic', sessionId, topic.id);
  assert.equal(afterBob.voteCount, 1, 'VoteForTopic returns the topic with the new count');
  await expectBroadcast([a, b], 'VoteCast', {
    topicId: topic.id,
    sessionId,
    voteCount: 1,
    userId: bob.id,
    timestamp,
    sequence: seq.next(),
  });
  await a.invoke('VoteForTopic', sessionId, topic.id);
  await expectBroadcast([a, b], 'VoteCast', {
    topicId: topic.id,
    sessionId,
    voteCount: 2,
    userId: alice.id,
    timestamp,
    sequence: seq.next(),
  });
  const afterRemoval = await b.invoke('RemoveVote', sessionId, topic.id);
  assert.equal(afterRemoval.voteCount, 1);
  await expectBroadcast([a, b], 'VoteRemoved', {
    topicId: topic.id,
    sessionId,
    voteCount: 1,
    userId: bob.id,
    timestamp,
    sequence: seq.next(),
  });

  const midway = await b.invoke('GetSession', sessionId);
  assertShape(
    midway,
    {
      session,
      topics: [{ ...edited, voteCount: 1 }],
      participants: [participantShape(alice, 'Facilitator'), participantShape(bob, 'Participant')],
      sequence: seq.last,
      votedTopicIds: [],
    },
    'GetSession by Bob, whose vote is withdrawn',
  );
  assert.deepStrictEqual((await a.invoke('GetSession', sessionId)).votedTopicIds, [topic.id], "Alice's vote");

  const started = await a.invoke('ChangeSessionStatus', sessionId, 'InProgress');
  assertShape(
    started,
    sessionShape({ ...session, facilitator: alice, status: 'InProgress', actualStartTime: timestamp }),
    'ChangeSessionStatus result',
  );
  await expectBroadcast([a, b], 'SessionStatusChanged', { sessionId, status: 'InProgress', timestamp, sequence: seq.next() });

  const discussing = await a.invoke('SetTopicStatus', sessionId, topic.id, { status: 'Discussing' });
  assert.equal(discussing.status, 'Discussing');
  await expectBroadcast([a, b], 'TopicStatusChanged', {
    topicId: topic.id,
    sessionId,
    status: 'Discussing',
    timestamp,
    sequence: seq.next(),
  });

  const deleted = await b.invoke('DeleteTopic', sessionId, topic.id);
  assert.deepStrictEqual(deleted, { topicId: topic.id }, 'DeleteTopic result (by the author)');
  await expectBroadcast([a, b], 'TopicDeleted', { topicId: topic.id, sessionId, timestamp, sequence: seq.next() });

  const completed = await a.invoke('ChangeSessionStatus', sessionId, { status: 'Completed' });
  assertShape(
    completed,
    sessionShape({
      ...session,
      facilitator: alice,
      status: 'Completed',
      actualStartTime: started.actualStartTime,
      actualEndTime: timestamp,
    }),
    'the start time is kept, the end time set',
  );
  await expectBroadcast([a, b], 'SessionStatusChanged', { sessionId, status: 'Completed', timestamp, sequence: seq.next() });

  const left = await b.invoke('LeaveSession', sessionId);
  assert.equal(left ?? null, null, 'LeaveSession returns nothing');
  await expectBroadcast([a], 'ParticipantLeft', participantLeftShape(sessionId, bob));
  await expectQuiet([a, b]);

  assertShape(
    await a.invoke('GetSession', sessionId),
    {
      session: completed,
      topics: [],
      participants: [
        participantShape(alice, 'Facilitator'),
        participantShape(bob, 'Participant', { isActive: false, leftAt: timestamp }),
      ],
      sequence: seq.last,
      votedTopicIds: [],
    },
    'the final snapshot',
  );
});

test('refusals carry the contract texts, change nothing and send nothing', async () => {
  const { alice, a, b, sessionId, seq } = await aliceAndBobInASession();
  const carol = newUser('Carol');
  const c = await connectLean(suite, carol);
  await joinSession(c, sessionId);
  // Alice's own arrival may still reach Bob first (see acceptEarlierArrival).
  await expectBroadcast([a, b], 'ParticipantJoined', participantJoinedShape(sessionId, carol), {
    where: (payload) => payload?.userId === carol.id,
  });
  acceptEarlierArrival(b, sessionId, alice);
  const topic = await b.invoke('AddTopic', sessionId, { title: 'Deploys' });
  await expectBroadcast([a, b, c], 'TopicAdded', { sessionId, topicId: topic.id, topic, timestamp, sequence: seq.next() });
  await b.invoke('VoteForTopic', sessionId, topic.id);
  await expectBroadcast([a, b, c], 'VoteCast', {
    topicId: topic.id,
    sessionId,
    voteCount: 1,
    userId: b.user.id,
    timestamp,
    sequence: seq.next(),
  });

  const refusals = [
    [b, 'ChangeSessionStatus', [sessionId, 'InProgress'], 'Access denied'],
    [a, 'ChangeSessionStatus', [sessionId, 'Completed'], 'session cannot move from Scheduled to Completed'],
    [a, 'ChangeSessionStatus', [sessionId, 'Paused'], 'status must be one of Scheduled, InProgress, Completed, Cancelled'],
    [c, 'EditTopic', [sessionId, topic.id, { title: 'Mine now' }], 'Access denied'],
    [c, 'DeleteTopic', [sessionId, topic.id], 'Access denied'],
    [b, 'VoteForTopic', [sessionId, topic.id], 'you have already voted for this topic'],
    [c, 'RemoveVote', [sessionId, topic.id], 'you have not voted for this topic'],
    [c, 'AddTopic', [sessionId, { title: '  ' }], 'title must not be empty'],
    [c, 'VoteForTopic', [sessionId, randomUUID()], 'topic not found'],
    [c, 'JoinSession', [randomUUID()], 'Access denied'],
    [c, 'JoinSession', ['not-a-session'], 'sessionId must be a UUID string'],
  ];
  for (const [tab, method, args, text] of refusals) {
    await assert.rejects(tab.invoke(method, ...args), { message: hubError(method, text) }, `${method} by ${tab.label}`);
  }
  await expectQuiet([a, b, c]);

  for (const status of ['InProgress', 'Completed']) {
    await a.invoke('ChangeSessionStatus', sessionId, status);
    await expectBroadcast([a, b, c], 'SessionStatusChanged', { sessionId, status, timestamp, sequence: seq.next() });
  }
  const closed = 'session is Completed: topics and votes can no longer change';
  await assert.rejects(c.invoke('AddTopic', sessionId, { title: 'Too late' }), { message: hubError('AddTopic', closed) });
  await assert.rejects(c.invoke('VoteForTopic', sessionId, topic.id), { message: hubError('VoteForTopic', closed) });
  await assert.rejects(a.invoke('ChangeSessionStatus', sessionId, 'InProgress'), {
    message: hubError('ChangeSessionStatus', 'session is Completed: its status can no longer change'),
  });
  await expectQuiet([a, b, c]);

  const snapshot = await c.invoke('GetSession', sessionId);
  assert.deepStrictEqual(
    snapshot.topics.map((t) => [t.title, t.voteCount]),
    [['Deploys', 1]],
    'no topic or vote was added',
  );
  assert.equal(snapshot.sequence, seq.last, 'no event was published');
});

test('closing the last tab makes a participant inactive for the others; coming back makes them active again', async () => {
  const { alice, bob, a, b, sessionId, seq } = await aliceAndBobInASession();

  // A second tab of Bob's is not announced, and closing it announces nothing.
  const b2 = await connectLean(suite, bob);
  await joinSession(b2, sessionId);
  await expectQuiet([a, b, b2], { except: (name, payload) => name === 'ParticipantJoined' && payload?.userId === alice.id });
  await b2.close();
  await a.events.expectNothing('ParticipantLeft', CLOSE_WINDOW_MS);

  // Closing his last tab (no LeaveSession) is.
  await b.close();
  const left = await a.events.next('ParticipantLeft');
  assertShape(left, participantLeftShape(sessionId, bob), 'ParticipantLeft to Alice');
  assertShape(
    await a.invoke('GetActiveParticipants', sessionId),
    { participants: [participantShape(alice, 'Facilitator')] },
    'Bob is no longer active',
  );

  // Bob reconnects: active again, and Alice is told.
  const b3 = await connectLean(suite, bob);
  await joinSession(b3, sessionId);
  const back = await a.events.next('ParticipantJoined');
  assertShape(back, participantJoinedShape(sessionId, bob), 'ParticipantJoined to Alice');
  assertShape(
    await b3.invoke('GetActiveParticipants', sessionId),
    { participants: [participantShape(alice, 'Facilitator'), participantShape(bob, 'Participant')] },
    'both active',
  );

  // The facilitator's last tab closing is announced the same way.
  await a.close();
  assertShape(await b3.events.next('ParticipantLeft'), participantLeftShape(sessionId, alice), 'to Bob');
  await expectQuiet([b3]);
});

test('fifty tabs of one user voting at once store one vote, and every tab sees voteCount 1 once', async () => {
  const alice = newUser('Alice');
  const bob = newUser('Bob');
  const a = await connectLean(suite, alice);
  const { id: sessionId } = await createSession(a, { title: 'Busy retro' });
  await joinSession(a, sessionId);
  const topic = await a.invoke('AddTopic', sessionId, { title: 'Deploys' });
  await a.events.next('TopicAdded');
  const tabs = await Promise.all(Array.from({ length: 50 }, () => connectLean(suite, bob)));
  await Promise.all(tabs.map((tab) => joinSession(tab, sessionId)));
  await a.events.next('ParticipantJoined');

  const outcomes = await Promise.allSettled(tabs.map((tab) => tab.invoke('VoteForTopic', sessionId, topic.id)));

  const accepted = outcomes.filter((outcome) => outcome.status === 'fulfilled');
  assert.equal(accepted.length, 1, 'exactly one vote is accepted');
  for (const refused of outcomes.filter((outcome) => outcome.status === 'rejected')) {
    assert.equal(refused.reason.message, hubError('VoteForTopic', 'you have already voted for this topic'));
  }
  const watchers = [a, ...tabs];
  await expectBroadcast(watchers, 'VoteCast', {
    topicId: topic.id,
    sessionId,
    voteCount: 1,
    userId: bob.id,
    timestamp,
    sequence: positiveInteger,
  });
  await expectQuiet(watchers);
  const snapshot = await a.invoke('GetSession', sessionId);
  assert.equal(snapshot.topics[0].voteCount, 1, 'one vote stored');
});

test('fifty users voting at once: every tab sees the counts 1 to 50 in order, the last one stored', async () => {
  const alice = newUser('Alice');
  const a = await connectLean(suite, alice);
  const { id: sessionId } = await createSession(a, { title: 'Crowded retro' });
  await joinSession(a, sessionId);
  const topic = await a.invoke('AddTopic', sessionId, { title: 'Deploys' });
  // Once Alice has it, the topic's event is out: the voters will not get it.
  await a.events.next('TopicAdded');
  const voters = await Promise.all(Array.from({ length: 50 }, (_, n) => connectLean(suite, newUser(`Voter${n}`))));
  await Promise.all(voters.map((tab) => joinSession(tab, sessionId)));

  const replies = await Promise.all(voters.map((tab) => tab.invoke('VoteForTopic', sessionId, topic.id)));

  const expected = Array.from({ length: 50 }, (_, n) => n + 1);
  assert.deepStrictEqual(
    replies.map((reply) => reply.voteCount).sort((x, y) => x - y),
    expected,
    'each reply holds a different count',
  );
  await Promise.all(
    [a, ...voters].map(async (tab) => {
      const seen = [];
      for (let n = 0; n < 50; n += 1) seen.push((await tab.events.next('VoteCast')).voteCount);
      assert.deepStrictEqual(seen, expected, `${tab.label} sees the counts in order`);
      tab.events.drain('ParticipantJoined');
    }),
  );
  await expectQuiet([a, ...voters]);
  const snapshot = await a.invoke('GetSession', sessionId);
  assert.equal(snapshot.topics[0].voteCount, 50, 'the store holds what the last event said');
});
