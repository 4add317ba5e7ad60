// One hub connection with the transport and protocol chosen in the header, retrying for as
// long as the page is open, and the connection banner that says what it is doing.

import { showConnection } from './dom.js';

const { signalR } = globalThis;

const TRANSPORT_NAMES = {
  WebSockets: 'WebSockets',
  ServerSentEvents: 'Server-Sent Events',
  LongPolling: 'long polling',
};

/** Retries at once, then after 0.5, 1 and 2 s, then every 5 s: a demo should heal by itself. */
const RETRY = {
  nextRetryDelayInMilliseconds: ({ previousRetryCount }) => [0, 500, 1000, 2000][previousRetryCount] ?? 5000,
};

/**
 * A started connection to `path`. `onReconnected` runs after every automatic reconnect (the
 * new connection is in no group: the screen joins again and catches up).
 */
export async function openHub(path, { token, transport, protocol, onReconnected }) {
  const builder = new signalR.HubConnectionBuilder()
    .withUrl(path, { accessTokenFactory: () => token, transport: signalR.HttpTransportType[transport] })
    .withAutomaticReconnect(RETRY)
    .configureLogging(signalR.LogLevel.Warning);
  if (protocol === 'messagepack') {
    builder.withHubProtocol(new signalR.protocols.msgpack.MessagePackHubProtocol());
  }
  const hub = builder.build();
  const live = `Live over ${TRANSPORT_NAMES[transport]}`;
  hub.onreconnecting(() => showConnection('reconnecting', 'Connection lost — reconnecting…'));
  hub.onreconnected(async () => {
    showConnection('catching-up', 'Reconnected — catching up…');
    await onReconnected?.();
    showConnection('connected', live);
  });
  hub.onclose(() => showConnection('disconnected', 'Disconnected. Reload the page to connect again.'));
  await hub.start();
  showConnection('connected', live);
  return hub;
}
