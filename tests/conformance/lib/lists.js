// Shopping-list shapes (CONTRACT §3.1 plus the per-list `sequence`) and the
// steps most tests start with: create a list, share it, join it.

import assert from 'node:assert/strict';
import { absentOr, assertShape, integer, nullOr, timestamp, unordered, uuid } from './shape.js';
import { ref } from './users.js';

/** The .NET text of a failed hub call that threw `HubException(text)` (CONTRACT §1). */
export function hubError(method, text) {
  return `An unexpected error occurred invoking '${method}' on the server. HubException: ${text}`;
}

/** Matches any HubException failure of `method` with a non-empty text. */
export function anyHubError(method) {
  const prefix = hubError(method, '').replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${prefix}\\S`);
}

/** A new list as CreateList returns it. */
export function listShape({ id = uuid, name, description = null, owner, isArchived = false, createdAt = timestamp, updatedAt = null }) {
  return { id, name, description, ownerId: owner.id, isArchived, createdAt, updatedAt };
}

/**
 * An item; unspecified optional fields are expected null (CONTRACT §1: absent
 * optional values are null) and the item unpurchased and never updated.
 */
export function itemShape({ listId, name, quantity, createdBy, ...rest }) {
  return {
    id: uuid,
    listId,
    name,
    quantity,
    unit: null,
    categoryId: null,
    notes: null,
    imageUrl: null,
    isPurchased: false,
    purchasedAt: null,
    purchasedBy: null,
    position: integer,
    createdBy: ref(createdBy),
    createdAt: timestamp,
    updatedAt: null,
    updatedBy: null,
    ...rest,
  };
}

/** A collaborator entry: ShareList's result and CollaboratorAdded's `collaborator`. */
export function collaboratorShape(user, permission, addedAt = timestamp) {
  return { userId: user.id, displayName: user.name, permission, addedAt };
}

/**
 * PresenceUpdate for the joiner. It goes to one connection, not to the list's
 * group, so it may or may not carry a `sequence`.
 */
export function presenceShape(listId, users) {
  return {
    eventType: 'PresenceUpdate',
    listId,
    activeUsers: unordered(
      users.map((user) => ({ id: user.id, displayName: user.name, avatarUrl: null, joinedAt: timestamp })),
      (activeUser) => activeUser.id,
    ),
    timestamp,
    sequence: absentOr(nullOr(integer)),
  };
}

/**
 * Presence notices (UserJoined, UserLeft) carry `sequence: null`: they are
 * outside the list's numbered stream, so they never leave a hole in it.
 */
export function userJoinedShape(listId, user) {
  return {
    eventType: 'UserJoined',
    listId,
    user: { id: user.id, displayName: user.name, avatarUrl: null },
    timestamp,
    sequence: null,
  };
}

export function userLeftShape(listId, user) {
  return { eventType: 'UserLeft', listId, userId: user.id, displayName: user.name, timestamp, sequence: null };
}

/** CreateList by `tab`'s user; checks and returns the new list. */
export async function createList(tab, { name, description = null }) {
  const fields = description === null ? { name } : { name, description };
  const list = await tab.invoke('CreateList', fields);
  assertShape(list, listShape({ name, description, owner: tab.user }), 'CreateList result');
  return list;
}

/**
 * JoinList; checks that it returns nothing and that this tab then gets a
 * PresenceUpdate listing exactly `activeUsers`. Returns that PresenceUpdate.
 */
export async function joinList(tab, listId, activeUsers) {
  const result = await tab.invoke('JoinList', listId);
  assert.equal(result ?? null, null, 'JoinList returns nothing');
  const presence = await tab.events.next('PresenceUpdate', { where: (p) => p?.listId === listId });
  assertShape(presence, presenceShape(listId, activeUsers), `PresenceUpdate to ${tab.label}`);
  return presence;
}

/** ShareList by `tab`'s user; checks and returns the collaborator. */
export async function shareList(tab, listId, user, permission) {
  const collaborator = await tab.invoke('ShareList', listId, {
    userId: user.id,
    displayName: user.name,
    permission,
  });
  assertShape(collaborator, collaboratorShape(user, permission), 'ShareList result');
  return collaborator;
}
