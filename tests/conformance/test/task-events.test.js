// The event verification matrix (CONTRACT §3.4, issue 5), live: for every row
// of the README's matrix, the official client sees the event arrive on that
// hub with the exact payload, and a connection of a different virtual key does
// not. Producers report through the task service's gRPC API with grpcurl, as a
// worker would. A README row without a scenario here fails, and so does a
// scenario without a row.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { before, test } from 'node:test';
import { expectBroadcast, expectQuiet } from '../lib/client.js';
import { requireGrpcurl } from '../lib/grpcurl.js';
import { useSuite } from '../lib/harness.js';
import { hubError } from '../lib/lists.js';
import { nonEmptyString, positiveInteger, timestamp, uuid } from '../lib/shape.js';
import { TASK_HUBS, asKey, connectAdmin, connectKey, createKey, produce, readEventMatrix } from '../lib/tasks.js';
import { newUser } from '../lib/users.js';

const suite = useSuite();

before(requireGrpcurl);

const tag = () => randomBytes(3).toString('hex');

/** Two keys, each with a tab on `hub`; `a` is the one the events are about. */
async function twoKeys(hub, options = {}) {
  const a = await createKey(suite, `key a ${tag()}`, options);
  const b = await createKey(suite, `key b ${tag()}`);
  return { a, b, tabA: await connectKey(suite, a, hub), tabB: await connectKey(suite, b, hub) };
}

/**
 * A media request (`Video`/`Image`) or task of key a, followed on its hub by
 * a's tab; b's tab follows a request of its own, and may not follow a's.
 */
async function followedWork(kind) {
  const hub = { Video: TASK_HUBS.video, Image: TASK_HUBS.image, Task: TASK_HUBS.tasks }[kind];
  const subscribe = { Video: 'SubscribeToVideoGeneration', Image: 'SubscribeToImageGeneration', Task: 'SubscribeToTask' }[kind];
  const denied = { Video: 'Access denied to video generation request', Image: 'Access denied to image generation request', Task: 'Access denied to task' }[kind];
  const { a, b, tabA, tabB } = await twoKeys(hub);
  const work = await asKey(suite, a, 'CreateTask', { kind, taskType: `${kind.toLowerCase()}.generate` });
  const other = await asKey(suite, b, 'CreateTask', { kind, taskType: `${kind.toLowerCase()}.generate` });
  await tabA.invoke(subscribe, work.id);
  await tabB.invoke(subscribe, other.id);
  await assert.rejects(tabB.invoke(subscribe, work.id), { message: hubError(subscribe, denied) });
  await assert.rejects(tabB.invoke(subscribe, ''), { message: hubError(subscribe, 'Request ID is required') });
  return { work, tabA, tabB };
}

function mediaScenario(kind, stage) {
  return async ({ event }) => {
    const { work, tabA, tabB } = await followedWork(kind);
    const requestId = work.id;
    let expected;
    if (stage === 'progress') {
      await produce(suite, 'ReportTaskProgress', { taskId: requestId, percentage: 40, status: 'Rendering', message: 'frame 40 of 100' });
      expected = { requestId, percentage: 40, status: 'Rendering', message: 'frame 40 of 100', timestamp, sequence: 1 };
    } else if (stage === 'completed') {
      await produce(suite, 'ReportTaskCompleted', { taskId: requestId, result: `https://cdn.example/${requestId}` });
      expected = { requestId, status: 'Completed', result: `https://cdn.example/${requestId}`, timestamp, sequence: 1 };
    } else {
      await produce(suite, 'ReportTaskFailed', { taskId: requestId, error: 'provider timed out' });
      expected = { requestId, status: 'Failed', error: 'provider timed out', timestamp, sequence: 1 };
    }
    await expectBroadcast([tabA], event, expected);
    await expectQuiet([tabA, tabB]);
  };
}

function taskScenario(stage) {
  return async ({ event }) => {
    const { work, tabA, tabB } = await followedWork('Task');
    const taskId = work.id;
    const reports = {
      started: ['ReportTaskStarted', { taskId }, { taskId, taskType: 'task.generate', status: 'Running', timestamp, sequence: 1 }],
      progress: ['ReportTaskProgress', { taskId, percentage: 25, message: 'a quarter' }, { taskId, percentage: 25, status: 'Running', message: 'a quarter', timestamp, sequence: 1 }],
      completed: ['ReportTaskCompleted', { taskId, result: '{"rows":12}' }, { taskId, status: 'Completed', result: '{"rows":12}', timestamp, sequence: 1 }],
      failed: ['ReportTaskFailed', { taskId, error: 'out of quota' }, { taskId, status: 'Failed', error: 'out of quota', timestamp, sequence: 1 }],
    };
    const [method, request, expected] = reports[stage];
    await produce(suite, method, request);
    await expectBroadcast([tabA], event, expected);
    await expectQuiet([tabA, tabB]);
  };
}

/** System notifications reach users and keys alike on /hubs/notifications, and no other hub. */
function systemScenario(report) {
  return async ({ event }) => {
    const a = await createKey(suite, `key ${tag()}`);
    const keyTab = await connectKey(suite, a, TASK_HUBS.notifications);
    const userTab = await suite.connect(newUser('Uma'), { hub: TASK_HUBS.notifications });
    const spendTab = await connectKey(suite, a, TASK_HUBS.spend);
    const [method, request, expected] = report(`provider-${tag()}`);
    await produce(suite, method, request);
    await expectBroadcast([keyTab, userTab], event, { ...expected, timestamp, sequence: positiveInteger });
    await expectQuiet([keyTab, userTab, spendTab]);
  };
}

/** Admin events reach master-key connections only. */
function adminScenario(report) {
  return async ({ event }) => {
    const a = await createKey(suite, `key ${tag()}`);
    const adminTab = await connectAdmin(suite);
    const keyTab = await connectKey(suite, a, TASK_HUBS.notifications);
    const [method, request, expected] = report();
    await produce(suite, method, request);
    await expectBroadcast([adminTab], event, { ...expected, timestamp, sequence: positiveInteger }, {
      where: (payload) => payload.message === expected.message && payload.setting === expected.setting,
    });
    // Creating the key above is itself a configuration change; it may arrive after the tab joined.
    await expectQuiet([adminTab, keyTab], { except: (name, payload) => name === 'ConfigurationChanged' && /^virtualKey/i.test(payload.setting) });
  };
}

async function settledSpend(tab, virtualKeyId, currentSpend) {
  return tab.events.next('SpendUpdate', { where: (update) => update.virtualKeyId === virtualKeyId && update.currentSpend === currentSpend });
}

const SCENARIOS = {
  VideoProgress: mediaScenario('Video', 'progress'),
  VideoCompleted: mediaScenario('Video', 'completed'),
  VideoFailed: mediaScenario('Video', 'failed'),
  ImageProgress: mediaScenario('Image', 'progress'),
  ImageCompleted: mediaScenario('Image', 'completed'),
  ImageFailed: mediaScenario('Image', 'failed'),
  TaskStarted: taskScenario('started'),
  TaskProgress: taskScenario('progress'),
  TaskCompleted: taskScenario('completed'),
  TaskFailed: taskScenario('failed'),
  ProviderHealthChanged: systemScenario((provider) => [
    'ReportProviderHealth',
    { provider, status: 'Degraded' },
    { provider, status: 'Degraded', message: `Provider ${provider} is now Degraded` },
  ]),
  RateLimitWarning: systemScenario((provider) => [
    'ReportRateLimit',
    { provider, limitType: 'requests_per_minute', usagePercent: 85, message: 'Close to the limit' },
    { provider, limitType: 'requests_per_minute', usagePercent: 85, message: 'Close to the limit' },
  ]),
  SpendUpdate: async ({ event }) => {
    const { a, tabA, tabB } = await twoKeys(TASK_HUBS.spend, { budget: 100 });
    await produce(suite, 'RecordSpend', { virtualKeyId: a.id, amount: 1.25, description: 'video render' });
    await expectBroadcast([tabA], event, { virtualKeyId: a.id, currentSpend: 1.25, previousSpend: 0, delta: 1.25, timestamp, sequence: 1 });
    await expectQuiet([tabA, tabB]);
  },
  BudgetAlert: async ({ event }) => {
    const { a, tabA, tabB } = await twoKeys(TASK_HUBS.spend, { budget: 10 });
    await produce(suite, 'RecordSpend', { virtualKeyId: a.id, amount: 6 });
    await settledSpend(tabA, a.id, 6);
    await expectBroadcast([tabA], event, { virtualKeyId: a.id, thresholdPercent: 50, currentSpend: 6, budget: 10, message: nonEmptyString, timestamp, sequence: positiveInteger });
    await expectQuiet([tabA, tabB]);
  },
  UnusualSpending: async ({ event }) => {
    const { a, tabA, tabB } = await twoKeys(TASK_HUBS.spend);
    let total = 0;
    for (const amount of [1, 1, 1, 10]) {
      await produce(suite, 'RecordSpend', { virtualKeyId: a.id, amount });
      total += amount;
      await settledSpend(tabA, a.id, total);
    }
    await expectBroadcast([tabA], event, { virtualKeyId: a.id, windowSpend: 10, averageSpend: 1, message: nonEmptyString, timestamp, sequence: positiveInteger });
    await expectQuiet([tabA, tabB]);
  },
  WebhookDelivered: async ({ event }) => {
    const { a, tabA, tabB } = await twoKeys(TASK_HUBS.webhooks);
    const webhookUrl = `https://hooks.example/${tag()}`;
    await produce(suite, 'ReportWebhookDelivery', { virtualKeyId: a.id, webhookUrl, statusCode: 200, attempt: 1, delivered: true });
    await expectBroadcast([tabA], event, { virtualKeyId: a.id, webhookUrl, taskId: null, statusCode: 200, attempt: 1, timestamp, sequence: 1 });
    await expectQuiet([tabA, tabB]);
  },
  WebhookFailed: async ({ event }) => {
    const { a, tabA, tabB } = await twoKeys(TASK_HUBS.webhooks);
    const webhookUrl = `https://hooks.example/${tag()}`;
    const taskId = (await asKey(suite, a, 'CreateTask', { kind: 'Task', taskType: 'batch' })).id;
    await produce(suite, 'ReportWebhookDelivery', { virtualKeyId: a.id, webhookUrl, taskId, statusCode: 503, attempt: 2, delivered: false, error: 'HTTP 503', willRetry: true });
    await expectBroadcast([tabA], event, { virtualKeyId: a.id, webhookUrl, taskId, statusCode: 503, attempt: 2, error: 'HTTP 503', willRetry: true, timestamp, sequence: 1 });
    await expectQuiet([tabA, tabB]);
  },
  SystemAlert: adminScenario(() => [
    'RaiseSystemAlert',
    { severity: 'Critical', component: 'database', message: 'Replica lag above 30 s' },
    { id: uuid, severity: 'Critical', component: 'database', message: 'Replica lag above 30 s' },
  ]),
  ConfigurationChanged: adminScenario(() => [
    'ReportConfigurationChange',
    { setting: 'routing.defaultProvider', oldValue: 'alpha', newValue: 'beta', changedBy: 'ops@example.com' },
    { setting: 'routing.defaultProvider', oldValue: 'alpha', newValue: 'beta', changedBy: 'ops@example.com' },
  ]),
  NavigationUpdated: async ({ event }) => {
    const { a, tabA, tabB } = await twoKeys(TASK_HUBS.navigation);
    const secondTabA = await connectKey(suite, a, TASK_HUBS.navigation);
    const state = { route: '/conversations/42', conversationId: '42', title: 'Storyboard' };
    assert.deepStrictEqual(await tabA.invoke('UpdateNavigation', state), state);
    await expectBroadcast([tabA, secondTabA], event, { virtualKeyId: a.id, state, timestamp, sequence: 1 });
    await expectQuiet([tabA, secondTabA, tabB]);
  },
};

const matrix = readEventMatrix();

test('every live scenario has a row in the README matrix, and every row a scenario', () => {
  assert.deepStrictEqual(matrix.map((row) => row.event).sort(), Object.keys(SCENARIOS).sort());
});

for (const row of matrix) {
  test(`${row.hub} (${row.path}) delivers ${row.event} from ${row.group}`, async () => {
    const scenario = SCENARIOS[row.event];
    assert.ok(scenario, `no live scenario for the README row ${row.event}`);
    await scenario(row);
  });
}
