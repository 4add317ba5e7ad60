// Coaching shapes (CONTRACT §3.3 plus the per-group `sequence`) and the steps
// chat and goal tests start with: tabs on the three user hubs, and
// relationships set up the way the contract says they are managed — through
// the coaching service's gRPC API (here with the real grpcurl).

import { grpcurlOk } from './grpcurl.js';
import { timestamp, uuid } from './shape.js';

export const CHAT_HUB = '/hubs/chat';
export const GOALS_HUB = '/hubs/goals';
export const NOTIFICATIONS_HUB = '/hubs/notifications';

const SERVICE = 'pulse.coaching.v1.Coaching';

/** A token option for a trainer: the `trainer` role claim. */
export function trainerToken(suite, user) {
  return suite.token(user, { roles: ['trainer'] });
}

/** Calls the coaching service as `user` (with `roles`); returns the reply with every field written. */
export async function coachingCall(suite, user, method, request, { roles = [] } = {}) {
  const reply = await grpcurlOk(
    ['-emit-defaults', '-d', JSON.stringify(request), suite.coaching, `${SERVICE}/${method}`],
    { token: suite.token(user, { roles }) },
  );
  return JSON.parse(reply);
}

/**
 * An Active relationship between `trainer` and `client`, invited by the
 * trainer and accepted by the client. Returns it as the service does.
 */
export async function activeRelationship(suite, trainer, client, { canEditGoals = true } = {}) {
  const invited = await coachingCall(
    suite,
    trainer,
    'InviteClient',
    { clientId: client.id, canEditGoals },
    { roles: ['trainer'] },
  );
  return coachingCall(suite, client, 'AcceptInvitation', { relationshipId: invited.id });
}

/** A chat message as SendMessage returns it and ReceiveMessage carries it. */
export function messageShape({ id = uuid, sender, recipient, message, sentAt = timestamp, readAt = null }) {
  return { id, senderId: sender.id, recipientId: recipient.id, message, sentAt, readAt };
}

/** A goal as AssignGoal returns it and GoalAssigned carries it. */
export function goalShape({ id = uuid, client, trainer, goalType, targets = {}, targetDate = null }) {
  return {
    id,
    userId: client.id,
    trainerId: trainer.id,
    goalType,
    targetCalories: targets.targetCalories ?? null,
    targetProteinGrams: targets.targetProteinGrams ?? null,
    targetCarbsGrams: targets.targetCarbsGrams ?? null,
    targetFatGrams: targets.targetFatGrams ?? null,
    targetDate,
    createdAt: timestamp,
    updatedAt: timestamp,
  };
}
