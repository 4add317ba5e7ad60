// Presence on a list (CONTRACT §3.1): a user with several tabs is one active
// user; UserJoined goes out for their first connection, UserLeft for their last
// one, whether it leaves with LeaveList or simply closes.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { expectBroadcast, expectQuiet } from '../lib/client.js';
import { useSuite } from '../lib/harness.js';
import { createList, joinList, shareList, userJoinedShape, userLeftShape } from '../lib/lists.js';
import { assertShape, timestamp } from '../lib/shape.js';
import { newUser } from '../lib/users.js';

const suite = useSuite();

/** How long a wrongly sent UserLeft is waited for after a tab closes. */
const CLOSE_WINDOW_MS = 1_000;

/** Alice's list, shared with Bob; Alice and Bob have joined it, one tab each. */
async function aliceAndBobOnAList() {
  const alice = newUser('Alice');
  const bob = newUser('Bob');
  const alice1 = await suite.connect(alice);
  const list = await createList(alice1, { name: 'Camping' });
  await joinList(alice1, list.id, [alice]);
  await shareList(alice1, list.id, bob, 'Editor');
  await alice1.events.next('CollaboratorAdded');

  const bob1 = await suite.connect(bob);
  await joinList(bob1, list.id, [alice, bob]);
  await expectBroadcast([alice1], 'UserJoined', userJoinedShape(list.id, bob));
  return { alice, bob, alice1, bob1, listId: list.id };
}

test("a user's second tab counts once among the active users and is not announced", async () => {
  const { alice, bob, alice1, bob1, listId } = await aliceAndBobOnAList();

  const alice2 = await suite.connect(alice);
  await joinList(alice2, listId, [alice, bob]);

  // Alice was already there: Bob is not told again, and nobody else hears anything.
  await expectQuiet([alice1, alice2, bob1]);
});

test('closing one of two tabs announces nothing; closing the last sends exactly one UserLeft', async () => {
  const { alice, bob, alice1, bob1, listId } = await aliceAndBobOnAList();
  const alice2 = await suite.connect(alice);
  await joinList(alice2, listId, [alice, bob]);

  await alice2.close();
  await bob1.events.expectNothing('UserLeft', CLOSE_WINDOW_MS);

  await alice1.close();
  const left = await bob1.events.next('UserLeft');
  assertShape(left, userLeftShape(listId, alice), 'UserLeft to Bob (a notice: sequence null)');
  await expectQuiet([bob1]);

  // Alice is gone: Bob's next look shows him alone.
  const bob2 = await suite.connect(bob);
  await joinList(bob2, listId, [bob]);
});

test('LeaveList announces the user as gone and stops their events until they join again', async () => {
  const { alice, bob, alice1, bob1, listId } = await aliceAndBobOnAList();
  const { sequence: before } = await alice1.invoke('GetList', listId);

  const result = await bob1.invoke('LeaveList', listId);
  assert.equal(result ?? null, null, 'LeaveList returns nothing');
  const left = await alice1.events.next('UserLeft');
  assertShape(left, userLeftShape(listId, bob), 'UserLeft to Alice');

  // Bob's connection is no longer in the list's group.
  const tea = await alice1.invoke('AddItem', listId, { name: 'Tea', quantity: 1 });
  await expectBroadcast([alice1], 'ItemAdded', {
    eventType: 'ItemAdded',
    listId,
    item: tea,
    timestamp,
    sequence: before + 1,
  });
  await expectQuiet([alice1, bob1]);

  // Joining again is announced again, and events flow again; presence took
  // no number, so the list's events stay numbered one by one.
  await joinList(bob1, listId, [alice, bob]);
  const joined = await alice1.events.next('UserJoined');
  assertShape(joined, userJoinedShape(listId, bob), 'UserJoined to Alice');
  await alice1.invoke('DeleteItem', listId, tea.id);
  await expectBroadcast([alice1, bob1], 'ItemDeleted', {
    eventType: 'ItemDeleted',
    listId,
    itemId: tea.id,
    deletedBy: { id: alice.id, displayName: alice.name },
    timestamp,
    sequence: before + 2,
  });
  await expectQuiet([alice1, bob1]);
});

test('UpdatePresence is a silent heartbeat that keeps the caller among the active users', async () => {
  const { alice, bob, alice1, bob1, listId } = await aliceAndBobOnAList();

  for (const tab of [bob1, alice1, bob1]) {
    const result = await tab.invoke('UpdatePresence', listId);
    assert.equal(result ?? null, null, 'UpdatePresence returns nothing');
  }
  await expectQuiet([alice1, bob1]);

  const alice2 = await suite.connect(alice);
  await joinList(alice2, listId, [alice, bob]);
  await expectQuiet([alice1, alice2, bob1]);
});
