// Virtual keys and the master key on the task hubs (CONTRACT §2, §3.4, issue
// 5): each hub takes only its kind of credential; a revoked key is refused
// everywhere within seconds — new connections get 401, open ones are closed
// with an error and do not come back on their own, its gRPC streams end with
// PERMISSION_DENIED; progress only moves forward and a failure is told once.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { before, test } from 'node:test';
import { expectBroadcast, expectQuiet } from '../lib/client.js';
import { grpcurlOk, grpcurlStream, requireGrpcurl } from '../lib/grpcurl.js';
import { useSuite } from '../lib/harness.js';
import { TASK_HUBS, admin, asKey, connectKey, createKey, produce } from '../lib/tasks.js';
import { timestamp } from '../lib/shape.js';
import { newUser } from '../lib/users.js';

const suite = useSuite();

before(requireGrpcurl);

const tag = () => randomBytes(3).toString('hex');

async function negotiateStatus(hub, token) {
  const response = await fetch(`${suite.gateway}${hub}/negotiate?negotiateVersion=1`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
  });
  return response.status;
}

test('grpcurl lists, describes and health-checks the task service through reflection', async () => {
  const services = (await grpcurlOk([suite.tasks, 'list'])).trim().split('\n');
  for (const service of ['pulse.tasks.v1.VirtualKeys', 'pulse.tasks.v1.Tasks', 'pulse.tasks.v1.Producers']) {
    assert.ok(services.includes(service), `services: ${services}`);
    const health = JSON.parse(await grpcurlOk(['-d', JSON.stringify({ service }), suite.tasks, 'grpc.health.v1.Health/Check']));
    assert.deepStrictEqual(health, { status: 'SERVING' });
  }
  const producers = await grpcurlOk([suite.tasks, 'describe', 'pulse.tasks.v1.Producers']);
  for (const method of ['ReportTaskProgress', 'RecordSpend', 'ReportProviderHealth', 'ReportWebhookDelivery', 'RaiseSystemAlert']) {
    assert.match(producers, new RegExp(`rpc ${method} \\(`), `${method} in:\n${producers}`);
  }
});

test('each hub takes only its kind of credential: 401 for none valid, 403 for the wrong kind', async () => {
  const key = await createKey(suite, `key ${tag()}`);
  const jwt = suite.token(newUser('Uma'));

  assert.equal(await negotiateStatus(TASK_HUBS.video, 'pvk_not-a-real-key'), 401);
  assert.equal(await negotiateStatus(TASK_HUBS.video, jwt), 403);
  assert.equal(await negotiateStatus(TASK_HUBS.admin, key.secret), 403);
  assert.equal(await negotiateStatus(TASK_HUBS.video, suite.masterKey), 403);
  assert.equal(await negotiateStatus('/hubs/shopping-list', key.secret), 403);
  assert.equal(await negotiateStatus(TASK_HUBS.notifications, key.secret), 200);
  assert.equal(await negotiateStatus(TASK_HUBS.notifications, jwt), 200);
  assert.equal(await negotiateStatus(TASK_HUBS.admin, suite.masterKey), 200);
  assert.equal(await negotiateStatus(TASK_HUBS.spend, key.secret), 200);
});

test('a revoked key: its open connections close with an error and stay closed, new ones get 401, its streams end', async () => {
  const key = await createKey(suite, `key ${tag()}`);
  const other = await createKey(suite, `other ${tag()}`);
  const spend = suite.tab({ id: key.id, name: key.name }, { hub: TASK_HUBS.spend, token: key.secret, reconnectDelays: [0, 100, 200] });
  let reconnecting = 0;
  spend.connection.onreconnecting(() => {
    reconnecting += 1;
  });
  const closed = new Promise((resolve) => spend.connection.onclose(resolve));
  await spend.start();
  const otherTab = await connectKey(suite, other, TASK_HUBS.spend);
  const stream = grpcurlStream(['-d', JSON.stringify({ follows: [{ key: 'KEY_CHANNEL_SPEND', afterSequence: 0 }] }), suite.gatewayGrpc, 'pulse.gateway.v1.Subscriptions/Subscribe'], key.secret);
  try {
    // Both are live once this key's first spend update reaches them.
    await produce(suite, 'RecordSpend', { virtualKeyId: key.id, amount: 1 });
    assert.equal((await stream.next()).event.eventName, 'SpendUpdate');
    await spend.events.next('SpendUpdate');

    const revoked = await admin(suite, 'RevokeVirtualKey', { virtualKeyId: key.id });
    assert.equal(revoked.status, 'Revoked');

    const error = await Promise.race([closed, sleep(5_000).then(() => 'still open after 5 s')]);
    assert.ok(error instanceof Error, `closed with an error, got ${error}`);
    assert.match(error.message, /no longer accepted/);
    await sleep(500);
    assert.equal(reconnecting, 0, 'a revoked key must not reconnect on its own');
    assert.equal(spend.connection.state, 'Disconnected');
    assert.equal(await negotiateStatus(TASK_HUBS.spend, key.secret), 401);
    const ending = await stream.ended(5_000);
    assert.match(ending, /PermissionDenied/);
    // Other keys go on.
    await produce(suite, 'RecordSpend', { virtualKeyId: other.id, amount: 2 });
    await expectBroadcast([otherTab], 'SpendUpdate', { virtualKeyId: other.id, currentSpend: 2, previousSpend: 0, delta: 2, timestamp, sequence: 1 });
  } finally {
    stream.stop();
  }
});

test('out-of-order progress is not broadcast, and a failed task says so once', async () => {
  const key = await createKey(suite, `key ${tag()}`);
  const tab = await connectKey(suite, key, TASK_HUBS.video);
  const video = await asKey(suite, key, 'CreateTask', { kind: 'Video', taskType: 'video.generate' });
  await tab.invoke('SubscribeToVideoGeneration', video.id);

  await produce(suite, 'ReportTaskProgress', { taskId: video.id, percentage: 60 });
  const late = await produce(suite, 'ReportTaskProgress', { taskId: video.id, percentage: 40 });
  assert.equal(late.percentage, 60, 'the stored progress stays at 60');
  await produce(suite, 'ReportTaskFailed', { taskId: video.id, error: 'GPU lost' });
  await produce(suite, 'ReportTaskFailed', { taskId: video.id, error: 'GPU lost again' });
  await produce(suite, 'ReportTaskProgress', { taskId: video.id, percentage: 90 });

  await expectBroadcast([tab], 'VideoProgress', { requestId: video.id, percentage: 60, status: 'Running', message: null, timestamp, sequence: 1 });
  await expectBroadcast([tab], 'VideoFailed', { requestId: video.id, status: 'Failed', error: 'GPU lost', timestamp, sequence: 2 });
  await expectQuiet([tab]);
  const stored = await asKey(suite, key, 'GetTask', { taskId: video.id });
  assert.equal(stored.status, 'Failed');
  assert.equal(stored.percentage, 60);
});

test('a key follows its own task over a gRPC stream, and not another key\'s', async () => {
  const key = await createKey(suite, `key ${tag()}`);
  const other = await createKey(suite, `other ${tag()}`);
  const task = await asKey(suite, key, 'CreateTask', { kind: 'Task', taskType: 'embedding.batch' });
  const request = (taskId) => ['-d', JSON.stringify({ follows: [{ taskId, afterSequence: 0 }] }), suite.gatewayGrpc, 'pulse.gateway.v1.Subscriptions/Subscribe'];

  const stranger = grpcurlStream(request(task.id), other.secret);
  const stream = grpcurlStream(request(task.id), key.secret);
  try {
    assert.match(await stranger.ended(5_000), /PermissionDenied[\s\S]*Access denied to task/);
    await produce(suite, 'ReportTaskProgress', { taskId: task.id, percentage: 10, message: 'warming up' });
    const delivery = await stream.next();
    assert.equal(delivery.event.group, `task_${task.id}`);
    assert.equal(delivery.event.eventName, 'TaskProgress');
    assert.equal(delivery.event.event.tasks.taskProgress.percentage, 10);
  } finally {
    stream.stop();
    stranger.stop();
  }
});

test('gRPC follows of the system and admin groups are authorized like their hubs', async () => {
  const key = await createKey(suite, `key ${tag()}`);
  const subscribe = (follow) => ['-d', JSON.stringify({ follows: [follow] }), suite.gatewayGrpc, 'pulse.gateway.v1.Subscriptions/Subscribe'];

  const keyOnAdmin = grpcurlStream(subscribe({ admin: true }), key.secret);
  const jwtOnSystem = grpcurlStream(subscribe({ system: true, afterSequence: 0 }), suite.token(newUser('Uma')));
  const masterOnAdmin = grpcurlStream(subscribe({ admin: true, afterSequence: 0 }), suite.masterKey);
  try {
    assert.match(await keyOnAdmin.ended(5_000), /PermissionDenied[\s\S]*Access denied/);
    const provider = `provider-${tag()}`;
    await produce(suite, 'ReportProviderHealth', { provider, status: 'Unhealthy' });
    await produce(suite, 'RaiseSystemAlert', { severity: 'Warning', component: provider, message: 'queue depth rising' });

    let health;
    do {
      health = await jwtOnSystem.next();
    } while (health.event.event.tasks?.providerHealthChanged?.provider !== provider);
    assert.equal(health.event.group, 'system-notifications');
    assert.equal(health.event.event.tasks.providerHealthChanged.provider, provider);
    let alert;
    do {
      alert = await masterOnAdmin.next();
    } while (alert.event.event.tasks?.systemAlert?.component !== provider);
    assert.equal(alert.event.group, 'admin');
    assert.equal(alert.event.event.tasks.systemAlert.component, provider);
  } finally {
    for (const stream of [keyOnAdmin, jwtOnSystem, masterOnAdmin]) stream.stop();
  }
});
