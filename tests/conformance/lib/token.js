// HS256 JWTs as the gateway expects them (CONTRACT §2): claims `sub` (user id,
// UUID), `name` (display name), `roles`, `exp`. Minted here rather than with
// `pulse mint-token` because spawning a process per user is slow.

import { createHmac, randomBytes } from 'node:crypto';

function encode(part) {
  return Buffer.from(JSON.stringify(part)).toString('base64url');
}

function sign(secret, claims) {
  const unsigned = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode(claims)}`;
  const signature = createHmac('sha256', secret).update(unsigned).digest('base64url');
  return `${unsigned}.${signature}`;
}

function claimsFor(user, { roles = [], expiresInSeconds = 3600 } = {}) {
  const now = Math.floor(Date.now() / 1000);
  return { sub: user.id, name: user.name, roles, iat: now, exp: now + expiresInSeconds };
}

/** A valid token for `user` ({id, name}) signed with the suite's secret. */
export function mintToken(secret, user, options) {
  return sign(secret, claimsFor(user, options));
}

/** A well-formed token for `user` signed with a secret the gateway does not know. */
export function forgedToken(user, options) {
  return sign(randomBytes(32).toString('hex'), claimsFor(user, options));
}

/**
 * A correctly signed token that expired an hour ago: far beyond the clock-skew
 * leeway validators usually allow (a minute or two).
 */
export function expiredToken(secret, user) {
  const now = Math.floor(Date.now() / 1000);
  return sign(secret, { sub: user.id, name: user.name, roles: [], iat: now - 7200, exp: now - 3600 });
}
