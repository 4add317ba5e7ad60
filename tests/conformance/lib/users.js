// Test users. Every test makes its own, with fresh ids and names that carry a
// random suffix, so tests sharing one running suite never see each other's data.

import { randomBytes, randomUUID } from 'node:crypto';

/** A new user: `{id, name}`; `name` becomes the token's `name` claim. */
export function newUser(firstName) {
  return { id: randomUUID(), name: `${firstName} ${randomBytes(2).toString('hex')}` };
}

/** The user reference events carry (`createdBy`, `deletedBy`, ...): `{id, displayName}`. */
export function ref(user) {
  return { id: user.id, displayName: user.name };
}
