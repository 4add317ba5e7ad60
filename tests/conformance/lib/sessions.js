// Lean Coffee shapes (CONTRACT §3.2 plus the per-session `sequence`) and the
// steps most tests start with: open a tab on the hub, create a session, join.

import assert from 'node:assert/strict';
import { assertShape, timestamp, uuid } from './shape.js';

/** Path of the Lean Coffee hub. */
export const LEAN_HUB = '/hubs/lean-session';

/** A started tab for `user` on the Lean Coffee hub. */
export function connectLean(suite, user, options = {}) {
  return suite.connect(user, { ...options, hub: LEAN_HUB });
}

/** A session as CreateSession, ChangeSessionStatus and GetSession return it. */
export function sessionShape({
  id = uuid,
  title,
  description = null,
  facilitator,
  status = 'Scheduled',
  scheduledStartTime = null,
  actualStartTime = null,
  actualEndTime = null,
  createdAt = timestamp,
}) {
  return {
    id,
    title,
    description,
    facilitatorId: facilitator.id,
    status,
    scheduledStartTime,
    actualStartTime,
    actualEndTime,
    createdAt,
  };
}

/** A topic; unspecified fields are those of a new topic. */
export function topicShape({
  id = uuid,
  sessionId,
  title,
  description = null,
  author,
  status = 'ToDiscuss',
  voteCount = 0,
  createdAt = timestamp,
  updatedAt = null,
}) {
  return {
    id,
    sessionId,
    title,
    description,
    authorId: author.id,
    authorName: author.name,
    status,
    voteCount,
    createdAt,
    updatedAt,
  };
}

/** A participant entry of GetSession and GetActiveParticipants. */
export function participantShape(user, role, { isActive = true, joinedAt = timestamp, leftAt = null } = {}) {
  return { userId: user.id, displayName: user.name, role, isActive, joinedAt, leftAt };
}

/**
 * Presence notices (ParticipantJoined, ParticipantLeft) carry
 * `sequence: null`: they are outside the session's numbered stream.
 */
export function participantJoinedShape(sessionId, user) {
  return { sessionId, userId: user.id, displayName: user.name, timestamp, sequence: null };
}

export function participantLeftShape(sessionId, user) {
  return { sessionId, userId: user.id, displayName: user.name, timestamp, sequence: null };
}

/**
 * Consumes the ParticipantJoined about `user` that `tab` may have received
 * although `user` arrived first: an event committed just before `tab` joined
 * can still be on its way to the bus, and then reaches `tab` too (news to its
 * user, so that is right). Call once `tab` has received a later event of the
 * session, so that the early one has arrived if it ever will.
 */
export function acceptEarlierArrival(tab, sessionId, user) {
  const early = tab.events.drain('ParticipantJoined', (payload) => payload?.userId === user.id);
  assert.ok(early.length <= 1, `${tab.label} heard of ${user.name}'s arrival ${early.length} times`);
  for (const joined of early) {
    assertShape(joined, participantJoinedShape(sessionId, user), `early ParticipantJoined to ${tab.label}`);
  }
}

/** CreateSession by `tab`'s user; checks and returns the new session. */
export async function createSession(tab, { title, description = null }) {
  const fields = description === null ? { title } : { title, description };
  const session = await tab.invoke('CreateSession', fields);
  assertShape(session, sessionShape({ title, description, facilitator: tab.user }), 'CreateSession result');
  return session;
}

/** JoinSession; checks that it returns nothing. */
export async function joinSession(tab, sessionId) {
  const result = await tab.invoke('JoinSession', sessionId);
  assert.equal(result ?? null, null, 'JoinSession returns nothing');
}
