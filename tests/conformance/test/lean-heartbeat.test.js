// Participation over time (CONTRACT §3.2): the service drops session
// connections nobody confirms (a gateway that died cannot say goodbye), and
// the gateway confirms every open one, so a participant who is still there is
// never dropped. This file's suite runs with short timeouts so the sweeper
// acts within the test.

import { test } from 'node:test';
import { expectBroadcast, expectQuiet } from '../lib/client.js';
import { useSuite } from '../lib/harness.js';
import {
  acceptEarlierArrival,
  connectLean,
  createSession,
  joinSession,
  participantJoinedShape,
  participantLeftShape,
  participantShape,
} from '../lib/sessions.js';
import { assertShape } from '../lib/shape.js';
import { newUser } from '../lib/users.js';

const PARTICIPANT_TIMEOUT_MS = 1_500;

const suite = useSuite({
  args: [
    '--participant-timeout', `${PARTICIPANT_TIMEOUT_MS}ms`,
    '--participant-sweep-interval', '100ms',
    '--participant-heartbeat-interval', '300ms',
  ],
});

test('open connections outlive the participant timeout because the gateway keeps confirming them', async () => {
  const alice = newUser('Alice');
  const bob = newUser('Bob');
  const a = await connectLean(suite, alice);
  const { id: sessionId } = await createSession(a, { title: 'Long retro' });
  await joinSession(a, sessionId);
  const b = await connectLean(suite, bob);
  await joinSession(b, sessionId);
  await expectBroadcast([a], 'ParticipantJoined', participantJoinedShape(sessionId, bob));

  // Time passing is what is tested: three timeouts without a word from the clients.
  await a.events.expectNothing('ParticipantLeft', 3 * PARTICIPANT_TIMEOUT_MS);
  acceptEarlierArrival(b, sessionId, alice);
  await expectQuiet([a, b]);
  assertShape(
    await a.invoke('GetActiveParticipants', sessionId),
    { participants: [participantShape(alice, 'Facilitator'), participantShape(bob, 'Participant')] },
    'both still active',
  );

  await b.close();
  assertShape(
    await a.events.next('ParticipantLeft'),
    participantLeftShape(sessionId, bob),
    'a closed tab still leaves at once',
  );
});
