// One browser tab: an official `@microsoft/signalr` HubConnection to a hub
// (the shopping-list hub unless told otherwise), with a recorder listening to
// every event of CONTRACT §3.

import assert from 'node:assert/strict';
import { HubConnectionBuilder, HttpTransportType, LogLevel } from '@microsoft/signalr';
import { MessagePackHubProtocol } from '@microsoft/signalr-protocol-msgpack';
import { EventRecorder, QUIET_MS } from './recorder.js';
import { assertShape } from './shape.js';

/** Every event the shopping-list hub sends (CONTRACT §3.1). */
export const LIST_EVENTS = [
  'ItemAdded',
  'ItemUpdated',
  'ItemDeleted',
  'ItemPurchasedStatusChanged',
  'ListUpdated',
  'ListArchived',
  'ItemsReordered',
  'CollaboratorAdded',
  'CollaboratorRemoved',
  'CollaboratorPermissionChanged',
  'UserJoined',
  'UserLeft',
  'PresenceUpdate',
];

/** Every event the Lean Coffee hub sends (CONTRACT §3.2). */
export const SESSION_EVENTS = [
  'ParticipantJoined',
  'ParticipantLeft',
  'TopicAdded',
  'TopicEdited',
  'TopicDeleted',
  'TopicStatusChanged',
  'VoteCast',
  'VoteRemoved',
  'SessionStatusChanged',
];

/** Every event the chat, goals and notifications hubs send (CONTRACT §3.3). */
export const COACHING_EVENTS = [
  'ReceiveMessage',
  'MessageSent',
  'MessageRead',
  'MessageDeleted',
  'GoalAssigned',
  'GoalAssignmentSuccess',
  'ClientProgressUpdate',
  'RelationshipUpdated',
  'ReceiveNotification',
];

/** Every event the task-notification hubs send (CONTRACT §3.4). */
export const TASK_EVENTS = [
  'VideoProgress',
  'VideoCompleted',
  'VideoFailed',
  'ImageProgress',
  'ImageCompleted',
  'ImageFailed',
  'TaskStarted',
  'TaskProgress',
  'TaskCompleted',
  'TaskFailed',
  'ProviderHealthChanged',
  'RateLimitWarning',
  'SpendUpdate',
  'BudgetAlert',
  'UnusualSpending',
  'WebhookDelivered',
  'WebhookFailed',
  'SystemAlert',
  'ConfigurationChanged',
  'NavigationUpdated',
];

export { HttpTransportType, LogLevel };

/**
 * Builds a connection (not started) with handlers for every event of §3.
 * @param {object} options
 * @param {string} options.url hub URL
 * @param {string | null} options.token bearer token; null sends none
 * @param {string} options.label names the tab in failure messages
 * @param {number} [options.transport] an HttpTransportType; default lets the client choose (WebSockets)
 * @param {number} [options.logLevel] client log level; default Warning
 * @param {boolean} [options.skipNegotiation] open the WebSocket directly (needs transport WebSockets)
 * @param {'json' | 'messagepack'} [options.protocol] hub protocol; default JSON
 * @param {boolean} [options.statefulReconnect] `withStatefulReconnect()`
 * @param {number[]} [options.reconnectDelays] `withAutomaticReconnect(delays)`
 */
export function buildTab({
  url,
  token,
  label,
  transport,
  logLevel = LogLevel.Warning,
  skipNegotiation = false,
  protocol = 'json',
  statefulReconnect = false,
  reconnectDelays,
}) {
  const connectionOptions = { skipNegotiation };
  if (token !== null) connectionOptions.accessTokenFactory = () => token;
  if (transport !== undefined) connectionOptions.transport = transport;
  let builder = new HubConnectionBuilder().withUrl(url, connectionOptions).configureLogging(logLevel);
  if (protocol === 'messagepack') builder = builder.withHubProtocol(new MessagePackHubProtocol());
  if (statefulReconnect) builder = builder.withStatefulReconnect();
  if (reconnectDelays !== undefined) builder = builder.withAutomaticReconnect(reconnectDelays);
  const connection = builder.build();

  let closeError = null;
  let closed = false;
  connection.onclose((error) => {
    closed = true;
    closeError = error ?? null;
  });
  const events = new EventRecorder(label, () =>
    closed ? `connection closed${closeError ? `: ${closeError.message}` : ''}` : `connection ${connection.state}`,
  );
  for (const name of [...LIST_EVENTS, ...SESSION_EVENTS, ...COACHING_EVENTS, ...TASK_EVENTS]) {
    connection.on(name, (payload, ...rest) => {
      // Events carry exactly one argument; record extras so a test sees them.
      events.record(name, rest.length === 0 ? payload : [payload, ...rest]);
    });
  }

  return {
    label,
    connection,
    events,
    start: () => connection.start(),
    /** Hub call with a result (rejects with the server's error text). */
    invoke: (method, ...args) => connection.invoke(method, ...args),
    /** Hub call without a result (fire and forget). */
    send: (method, ...args) => connection.send(method, ...args),
    close: () => connection.stop(),
  };
}

/**
 * Waits for `name` on every tab, checks each payload against `shape`, and that
 * all tabs got the very same payload. Returns that payload.
 */
export async function expectBroadcast(tabs, name, shape, { where } = {}) {
  const payloads = await Promise.all(tabs.map((tab) => tab.events.next(name, { where })));
  payloads.forEach((payload, i) => {
    assertShape(payload, shape, `${name} as received by ${tabs[i].label}`);
    assert.deepStrictEqual(payload, payloads[0], `${tabs[i].label} and ${tabs[0].label} got different ${name}`);
  });
  return payloads[0];
}

/**
 * Fails if any tab received an event the test did not consume (watching all
 * tabs at once). `except(name, payload)` marks events that are tolerated; they
 * are returned per tab.
 */
export function expectQuiet(tabs, { ms = QUIET_MS, except } = {}) {
  return Promise.all(tabs.map((tab) => tab.events.expectNothing(null, ms, { except })));
}
