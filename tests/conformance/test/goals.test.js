// `/hubs/goals` with the official client (CONTRACT §3.3, issue 4): only a
// trainer with an active relationship that allows goal edits may assign a
// goal — everyone else gets the contract's text and nothing is stored; an
// assignment reaches the client's tabs and `GoalAssignmentSuccess` the calling
// tab; progress reaches the trainer; nobody records progress on someone
// else's goal.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { expectBroadcast, expectQuiet } from '../lib/client.js';
import { GOALS_HUB, activeRelationship, coachingCall, goalShape, trainerToken } from '../lib/coaching.js';
import { requireGrpcurl } from '../lib/grpcurl.js';
import { useSuite } from '../lib/harness.js';
import { hubError } from '../lib/lists.js';
import { assertShape, timestamp, uuid } from '../lib/shape.js';
import { newUser } from '../lib/users.js';

const suite = useSuite();

before(requireGrpcurl);

const NOT_AUTHORIZED_TO_ASSIGN = hubError('AssignGoal', 'Not authorized to assign goals to this client');

const GOAL = { type: 'WeightLoss', targetCalories: 1900, targetProteinGrams: 150, targetCarbsGrams: 180, targetFatGrams: 60, targetDate: '2027-03-01' };

function connectGoals(user, options = {}) {
  return suite.connect(user, { ...options, hub: GOALS_HUB });
}

function connectTrainer(user) {
  return connectGoals(user, { token: trainerToken(suite, user) });
}

test('a trainer without an active, goal-editing relationship or without the role is refused and nothing is stored', async () => {
  const trainer = newUser('Tara');
  const client = newUser('Cleo');
  const t = await connectTrainer(trainer);
  const c = await connectGoals(client);

  // No relationship at all.
  await assert.rejects(t.invoke('AssignGoal', client.id, GOAL), { message: NOT_AUTHORIZED_TO_ASSIGN });
  // Invited but not accepted.
  const invited = await coachingCall(suite, trainer, 'InviteClient', { clientId: client.id, canEditGoals: true }, { roles: ['trainer'] });
  await assert.rejects(t.invoke('AssignGoal', client.id, GOAL), { message: NOT_AUTHORIZED_TO_ASSIGN });
  // Active, but the client withheld goal edits.
  await coachingCall(suite, client, 'AcceptInvitation', { relationshipId: invited.id });
  await coachingCall(suite, client, 'SetGoalEditPermission', { relationshipId: invited.id, canEditGoals: false });
  await assert.rejects(t.invoke('AssignGoal', client.id, GOAL), { message: NOT_AUTHORIZED_TO_ASSIGN });
  // Allowed again, but the caller's token lacks the trainer role.
  await coachingCall(suite, client, 'SetGoalEditPermission', { relationshipId: invited.id, canEditGoals: true });
  const withoutRole = await connectGoals(trainer);
  await assert.rejects(withoutRole.invoke('AssignGoal', client.id, GOAL), { message: NOT_AUTHORIZED_TO_ASSIGN });

  assert.deepStrictEqual(await c.invoke('GetGoals', null), { goals: [] });
  await expectQuiet([t, c, withoutRole]);
});

test('a permitted assignment reaches every client tab, GoalAssignmentSuccess only the calling tab', async () => {
  const trainer = newUser('Tara');
  const client = newUser('Cleo');
  await activeRelationship(suite, trainer, client);
  const trainerTabs = [await connectTrainer(trainer), await connectTrainer(trainer)];
  const clientTabs = [await connectGoals(client), await connectGoals(client)];

  const goal = await trainerTabs[0].invoke('AssignGoal', client.id, GOAL);

  const { type, ...targets } = GOAL;
  assertShape(goal, goalShape({ client, trainer, goalType: type, targets, targetDate: GOAL.targetDate }), 'AssignGoal result');
  assert.equal(await trainerTabs[0].events.next('GoalAssignmentSuccess'), goal.id);
  await expectBroadcast(clientTabs, 'GoalAssigned', { ...goal, sequence: 1 });
  assert.deepStrictEqual(await clientTabs[0].invoke('GetGoals', null), { goals: [goal] });
  await expectQuiet([...trainerTabs, ...clientTabs]);
});

test("progress reaches the trainer's tabs, and nobody records progress on someone else's goal", async () => {
  const trainer = newUser('Tara');
  const client = newUser('Cleo');
  const stranger = newUser('Sam');
  await activeRelationship(suite, trainer, client);
  const trainerTabs = [await connectTrainer(trainer), await connectTrainer(trainer)];
  const c = await connectGoals(client);
  const s = await connectGoals(stranger);
  const goal = await trainerTabs[0].invoke('AssignGoal', client.id, { type: 'MuscleGain', targetProteinGrams: 180 });
  await trainerTabs[0].events.next('GoalAssignmentSuccess');
  await c.events.next('GoalAssigned');

  const progress = await c.invoke('UpdateGoalProgress', goal.id, 1850.5, 'Hit protein, missed carbs');

  assertShape(progress, { id: uuid, goalId: goal.id, userId: client.id, value: 1850.5, notes: 'Hit protein, missed carbs', recordedAt: timestamp }, 'UpdateGoalProgress result');
  await expectBroadcast(trainerTabs, 'ClientProgressUpdate', {
    clientId: client.id,
    goalId: goal.id,
    value: 1850.5,
    notes: 'Hit protein, missed carbs',
    sequence: 1,
  });
  await assert.rejects(s.invoke('UpdateGoalProgress', goal.id, 1, null), { message: hubError('UpdateGoalProgress', 'Not authorized') });
  await assert.rejects(trainerTabs[1].invoke('UpdateGoalProgress', goal.id, 1, null), { message: hubError('UpdateGoalProgress', 'Not authorized') });
  assert.deepStrictEqual((await c.invoke('GetGoalProgress', goal.id)).progress, [progress]);
  await expectQuiet([...trainerTabs, c, s]);
});
