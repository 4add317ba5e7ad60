// Loopback proxies between a client and the gateway, to break the path the way
// networks do: `tcpProxy` forwards raw bytes and can cut every connection at
// once (a mobile network dropping for a moment); `upgradeBlockingProxy` forwards
// HTTP but refuses WebSocket upgrades (a corporate proxy).

import http from 'node:http';
import net from 'node:net';

/** Listens on 127.0.0.1 (port 0); resolves with the port. */
export function listen(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server.address().port));
  });
}

function closeServer(server) {
  return new Promise((resolve) => server.close(() => resolve()));
}

/**
 * A TCP proxy to `target` (an http://host:port URL).
 * `cut()` resets every open connection in both directions; new ones keep working, unless
 * `block(true)` made the proxy reset each new connection at once (a network that stays down)
 * until `block(false)`.
 * @returns {Promise<{url: string, cut: () => number, block: (blocked: boolean) => void,
 *   opened: () => number, close: () => Promise<void>}>}
 */
export async function tcpProxy(target) {
  const { hostname, port } = new URL(target);
  const pairs = new Set();
  let opened = 0;
  let blocked = false;
  const server = net.createServer((client) => {
    if (blocked) {
      client.resetAndDestroy();
      return;
    }
    opened += 1;
    const upstream = net.connect(Number(port), hostname);
    const pair = { client, upstream };
    pairs.add(pair);
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  const listenPort = await listen(server);
  return {
    url: `http://127.0.0.1:${listenPort}`,
    /** Resets every connection (no close handshake on either side); returns how many. */
    cut() {
      const count = pairs.size;
      for (const { client, upstream } of [...pairs]) {
        client.resetAndDestroy();
        upstream.resetAndDestroy();
      }
      pairs.clear();
      return count;
    },
    block(value) {
      blocked = value;
    },
    /** How many connections were accepted so far. */
    opened: () => opened,
    async close() {
      for (const { client, upstream } of pairs) {
        client.destroy();
        upstream.destroy();
      }
      await closeServer(server);
    },
  };
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection']);

/** The headers that pass a proxy: all but the hop-by-hop ones. */
export function endToEnd(headers) {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name.toLowerCase())));
}

/**
 * An HTTP proxy to `target` that streams requests and responses through
 * unchanged but answers every WebSocket upgrade with 403, like a proxy that
 * does not allow WebSockets. `upgradesRefused()` counts the refusals.
 * @returns {Promise<{url: string, upgradesRefused: () => number, close: () => Promise<void>}>}
 */
export async function upgradeBlockingProxy(target) {
  const { hostname, port } = new URL(target);
  let refused = 0;
  const server = http.createServer((request, response) => {
    const upstream = http.request(
      { host: hostname, port, method: request.method, path: request.url, headers: endToEnd(request.headers) },
      (upstreamResponse) => {
        response.writeHead(upstreamResponse.statusCode ?? 502, endToEnd(upstreamResponse.headers));
        response.flushHeaders();
        upstreamResponse.pipe(response);
      },
    );
    upstream.on('error', () => response.destroy());
    response.on('close', () => upstream.destroy());
    request.pipe(upstream);
  });
  server.on('upgrade', (_request, socket) => {
    refused += 1;
    socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
  });
  const listenPort = await listen(server);
  return {
    url: `http://127.0.0.1:${listenPort}`,
    upgradesRefused: () => refused,
    async close() {
      server.closeAllConnections();
      await closeServer(server);
    },
  };
}
