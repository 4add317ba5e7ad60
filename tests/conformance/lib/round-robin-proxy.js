// A load balancer of the test's own in front of several gateways, round robin
// and NOT sticky: every HTTP request and every WebSocket upgrade goes to the
// next gateway in turn, whatever connection it belongs to, the way the issue's
// distributed topology must work. A gateway whose TCP connect fails (killed) is
// skipped for the next one; one that answers (even with an error) is not.
// Request bodies are read whole before forwarding (SignalR sends are small),
// so a refused connect can be retried elsewhere; responses stream through
// unbuffered (event streams, held polls).
//
// It remembers which gateway served each transport request (a poll, a send,
// an event stream: those naming their connection; a WebSocket) of each user, so a test whose
// clients are different users can show that one client's consecutive requests
// really landed on different gateways.

import http from 'node:http';
import net from 'node:net';
import { endToEnd, listen } from './proxy.js';

function readBody(request) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

/** The user (`sub`) of the bearer token in the header or the `access_token` query, or null. */
function userOf(request, query) {
  const bearer = request.headers.authorization?.replace(/^Bearer /, '') ?? query.get('access_token');
  try {
    return JSON.parse(Buffer.from(bearer.split('.')[1], 'base64url').toString()).sub ?? null;
  } catch {
    return null;
  }
}

/**
 * @param {string[]} targets base URLs (http://host:port) of the gateways, in turn order
 * @returns {Promise<{url: string, served: (userId: string) => number[], close: () => Promise<void>}>}
 */
export async function roundRobinProxy(targets) {
  const backends = targets.map((target) => {
    const { hostname, port } = new URL(target);
    return { host: hostname, port: Number(port) };
  });
  let turn = 0;
  /** Gateway index of every transport request per user, in order. */
  const servedBy = new Map();
  const sockets = new Set();

  /** The gateways to try for one request: all of them, starting at the next turn. */
  const order = () => {
    const first = turn;
    turn = (turn + 1) % backends.length;
    return backends.map((_, i) => (first + i) % backends.length);
  };

  /** Records a transport request: one naming its connection (`id`), or any WebSocket upgrade. */
  const remember = (request, index, upgrade) => {
    const query = new URL(request.url, 'http://proxy').searchParams;
    const user = userOf(request, query);
    if ((!upgrade && !query.has('id')) || user === null) return;
    if (!servedBy.has(user)) servedBy.set(user, []);
    servedBy.get(user).push(index);
  };

  const forward = (request, response, body, candidates) => {
    const [index, ...rest] = candidates;
    const { host, port } = backends[index];
    const upstream = http.request(
      { host, port, method: request.method, path: request.url, headers: endToEnd(request.headers), agent: false },
      (upstreamResponse) => {
        remember(request, index, false);
        response.writeHead(upstreamResponse.statusCode ?? 502, endToEnd(upstreamResponse.headers));
        response.flushHeaders();
        upstreamResponse.pipe(response);
        upstreamResponse.on('error', () => response.destroy());
      },
    );
    upstream.on('error', (error) => {
      if (error.code === 'ECONNREFUSED' && rest.length > 0 && !response.headersSent) {
        forward(request, response, body, rest);
      } else if (!response.headersSent) {
        response.writeHead(502).end();
      } else {
        response.destroy();
      }
    });
    response.on('close', () => upstream.destroy());
    upstream.end(body);
  };

  const server = http.createServer(async (request, response) => {
    let body;
    try {
      body = await readBody(request);
    } catch {
      response.destroy();
      return;
    }
    forward(request, response, body, order());
  });

  server.on('upgrade', (request, client, head) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    const connect = (candidates) => {
      const [index, ...rest] = candidates;
      const upstream = net.connect(backends[index]);
      let connected = false;
      // Before the connect, an error means nothing listens there: the next gateway's turn.
      upstream.once('error', () => {
        if (!connected && rest.length > 0) connect(rest);
        else client.destroy();
      });
      upstream.once('connect', () => {
        connected = true;
        remember(request, index, true);
        sockets.add(upstream);
        upstream.on('close', () => {
          sockets.delete(upstream);
          client.destroy();
        });
        upstream.on('error', () => upstream.destroy());
        client.on('close', () => upstream.destroy());
        const headerLines = [];
        for (let i = 0; i < request.rawHeaders.length; i += 2) {
          headerLines.push(`${request.rawHeaders[i]}: ${request.rawHeaders[i + 1]}`);
        }
        upstream.write(`${request.method} ${request.url} HTTP/1.1\r\n${headerLines.join('\r\n')}\r\n\r\n`);
        if (head.length > 0) upstream.write(head);
        upstream.pipe(client);
        client.pipe(upstream);
      });
    };
    connect(order());
  });

  const port = await listen(server);
  return {
    url: `http://127.0.0.1:${port}`,
    /** The gateway index that answered each transport request of `userId` so far, in order. */
    served: (userId) => [...(servedBy.get(userId) ?? [])],
    async close() {
      for (const socket of sockets) socket.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
