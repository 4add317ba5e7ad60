// Authentication (CONTRACT §2): a JWT through accessTokenFactory; without a
// valid one, negotiate answers 401 and the official client's start() rejects.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HttpTransportType, LogLevel } from '../lib/client.js';
import { useSuite } from '../lib/harness.js';
import { createList } from '../lib/lists.js';
import { expiredToken, forgedToken } from '../lib/token.js';
import { newUser } from '../lib/users.js';

const suite = useSuite();

/** What the client reports for a negotiate answered with 401. */
const UNAUTHORIZED = /401/;

/** The status of a bare negotiate request, as the client would send it. */
async function negotiateStatus(token) {
  const headers = token === null ? {} : { Authorization: `Bearer ${token}` };
  const response = await fetch(`${suite.hubUrl}/negotiate?negotiateVersion=1`, { method: 'POST', headers });
  await response.arrayBuffer();
  return response.status;
}

/** Starting a tab with this token (null: none) fails; quiet logging, the failure is expected. */
async function assertStartRejected(user, token, expected) {
  const tab = suite.tab(user, { token, logLevel: LogLevel.None });
  await assert.rejects(tab.start(), expected);
}

test('a valid token connects, and the user id comes from it', async () => {
  const user = newUser('Alice');
  assert.equal(await negotiateStatus(suite.token(user)), 200);
  const tab = await suite.connect(user);
  assert.ok(tab.connection.connectionId, 'the connection has an id');
  // createList checks that the new list is owned by the token's user.
  await createList(tab, { name: 'Mine' });
});

test('a client without a token is refused with 401', async () => {
  assert.equal(await negotiateStatus(null), 401);
  await assertStartRejected(newUser('Nobody'), null, UNAUTHORIZED);
});

test('a token signed with another secret is refused with 401', async () => {
  const user = newUser('Mallory');
  const token = forgedToken(user);
  assert.equal(await negotiateStatus(token), 401);
  await assertStartRejected(user, token, UNAUTHORIZED);
});

test('an expired token is refused with 401', async () => {
  const user = newUser('Late');
  const token = expiredToken(suite.secret, user);
  assert.equal(await negotiateStatus(token), 401);
  await assertStartRejected(user, token, UNAUTHORIZED);
});

test('a token that is not a JWT at all is refused with 401', async () => {
  assert.equal(await negotiateStatus('not-a-jwt'), 401);
  await assertStartRejected(newUser('Garbage'), 'not-a-jwt', UNAUTHORIZED);
});

test('a WebSocket opened without negotiating is refused without a valid token', async () => {
  const user = newUser('Mallory');
  const tab = suite.tab(user, {
    token: forgedToken(user),
    transport: HttpTransportType.WebSockets,
    skipNegotiation: true,
    logLevel: LogLevel.None,
  });
  await assert.rejects(tab.start());
});
