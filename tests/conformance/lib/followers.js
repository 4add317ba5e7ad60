// Clients that follow one shopping list through faults, the way README
// "Delivery and resume" tells a client to: an official SignalR connection with
// automatic reconnect that, on every (re)connection, joins the list again and
// asks `GetMissedEvents` from the last sequence it applied, holding live events
// meanwhile and dropping those at or below what it has; and a gRPC subscriber
// that, when its stream ends, subscribes again with `afterSequence` on the next
// gateway that answers. Each keeps a Feed: what it applied, in sequence order,
// and every delivery that repeated one its connection had already delivered.

import { spawn } from 'node:child_process';
import net from 'node:net';
import { HubConnectionState } from '@microsoft/signalr';
import { buildTab, LogLevel } from './client.js';
import { GRPCURL, onMessages } from './grpcurl.js';
import { poll } from './wait.js';

/** Events that carry the list's `sequence` (presence notices carry null and are skipped). */
const NUMBERED_EVENTS = ['ItemAdded', 'ItemUpdated', 'ItemDeleted', 'ItemPurchasedStatusChanged', 'ListUpdated',
  'ListArchived', 'ItemsReordered', 'CollaboratorAdded', 'CollaboratorRemoved', 'CollaboratorPermissionChanged'];
/** Reconnect attempts of a SignalR follower: every 250 ms for a minute, longer than any fault here. */
const RECONNECT_DELAYS = Array(240).fill(250);
/** Wait between attempts to join and catch up while the gateway cannot reach the service. */
const RETRY_MS = 250;
/** How long a follower keeps trying to catch up, or to find a gateway for its gRPC stream: longer than any fault here. */
const GIVE_UP_MS = 30_000;

/** What a command's event is about: `ItemAdded <itemId>`; other events by their sequence. */
export function eventKey(name, payload, sequence) {
  const itemId = payload?.item?.id ?? payload?.itemId;
  return itemId === undefined ? `${name} #${sequence}` : `${name} ${itemId}`;
}

/** What one follower applied and what went wrong. */
export class Feed {
  lastSequence = 0;
  /** Keys in the order applied. */
  applied = [];
  /** Deliveries of a sequence the same connection (or stream) had already delivered. */
  repeated = 0;
  /** Live events past a hole (the follower caught up to fill it). */
  holes = 0;
  reconnects = 0;
  /** Errors of joins and catch-ups that were retried; the last few, for the table. */
  errors = [];
  #seenOnConnection = new Set();

  constructor(label) {
    this.label = label;
  }

  /** A new connection or stream: repeats are counted per connection. */
  newConnection() {
    this.#seenOnConnection = new Set();
  }

  /**
   * Returns 'applied', 'stale' (at or below what was applied) or 'hole' (something before it is
   * missing). `pushed`: delivered on the connection or stream as it happened (or as the gRPC resume
   * replays it), not read with GetMissedEvents, whose answer overlaps with live events by design.
   */
  offer(sequence, key, pushed = true) {
    const seq = Number(sequence);
    if (pushed && this.#seenOnConnection.has(seq)) {
      this.repeated += 1;
      this.error(`#${seq} (${key}) pushed twice on one connection`);
    }
    if (pushed) this.#seenOnConnection.add(seq);
    if (seq <= this.lastSequence) return 'stale';
    if (seq > this.lastSequence + 1) {
      this.holes += 1;
      return 'hole';
    }
    this.applied.push(key);
    this.lastSequence = seq;
    return 'applied';
  }

  error(error) {
    this.errors = [...this.errors.slice(-4), String(error?.message ?? error).slice(0, 200)];
  }
}

/**
 * A started SignalR follower of `listId` (after it joined and caught up).
 * Options as `buildTab` takes them (url, token, label, transport, protocol, skipNegotiation).
 */
export async function followOverSignalR({ listId, ...tabOptions }) {
  const tab = buildTab({ ...tabOptions, logLevel: LogLevel.None, reconnectDelays: RECONNECT_DELAYS });
  const feed = new Feed(tab.label);
  let held = null;
  let catchingUp = Promise.resolve();
  let stopped = false;

  // One repair at a time: the live events after a hole are holes too until it is filled.
  let repairing = false;
  const deliver = (name, payload) => {
    if (feed.offer(payload.sequence, eventKey(name, payload, payload.sequence)) === 'hole' && !repairing) {
      repairing = true;
      schedule(false).then(() => {
        repairing = false;
      });
    }
  };
  for (const name of NUMBERED_EVENTS) {
    tab.connection.on(name, (payload) => {
      if (payload?.sequence === null || payload?.sequence === undefined) return;
      if (held === null) deliver(name, payload);
      else held.push([name, payload]);
    });
  }

  /**
   * Joins (unless only filling a hole), then takes what was missed; retried until it succeeds,
   * the connection drops (its reconnect catches up again) or GIVE_UP_MS passed.
   */
  const catchUp = async (join) => {
    held = [];
    const ended = await poll(async () => {
      try {
        if (join) await tab.invoke('JoinList', listId);
        for (;;) {
          const page = await tab.invoke('GetMissedEvents', listId, feed.lastSequence);
          if (page.reset) throw new Error(`GetMissedEvents after ${feed.lastSequence} answered reset`);
          for (const missed of page.events) {
            feed.offer(missed.sequence, eventKey(missed.event, missed.payload, missed.sequence), false);
          }
          if (!page.hasMore) return true;
        }
      } catch (error) {
        feed.error(error);
        return stopped || tab.connection.state !== HubConnectionState.Connected;
      }
    }, { timeoutMs: GIVE_UP_MS, everyMs: RETRY_MS });
    if (!ended) feed.error(`no catch-up within ${GIVE_UP_MS} ms`);
    const live = held;
    held = null;
    for (const [name, payload] of live) deliver(name, payload);
  };
  const schedule = (join) => {
    catchingUp = catchingUp.then(() => catchUp(join));
    return catchingUp;
  };

  tab.connection.onreconnected(() => {
    feed.reconnects += 1;
    feed.newConnection();
    schedule(true);
  });
  let closedForGood = false;
  tab.connection.onclose((error) => {
    closedForGood = true;
    if (!stopped) feed.error(`connection closed for good${error ? `: ${error.message}` : ''}`);
  });

  await tab.start();
  await schedule(true);
  return {
    label: tab.label,
    feed,
    connected: () => tab.connection.state === HubConnectionState.Connected,
    /** A hub call (GetMissedEvents from where it stands): a send and its answer. */
    probe: () => tab.invoke('GetMissedEvents', listId, feed.lastSequence),
    /** False once the client gave up reconnecting: it can catch up no more. */
    alive: () => !closedForGood,
    async stop() {
      stopped = true;
      await tab.close();
    },
  };
}

/**
 * A gRPC subscriber of `listId` through the gateways' subscription API. It
 * starts on `gateways()[0]`; when its stream ends it subscribes again, from
 * the last sequence it applied, to the first address `gateways()` lists whose
 * stream stays up (the next one after a refused connect).
 * @param {{label: string, token: string, listId: string, gateways: () => string[]}} options
 */
export function followOverGrpc({ label, token, listId, gateways }) {
  const feed = new Feed(label);
  let child = null;
  let stopped = false;
  let attempt = 0;
  let current = null;

  const subscribe = () => {
    const candidates = gateways();
    const address = candidates[attempt % candidates.length];
    current = address;
    feed.newConnection();
    const request = JSON.stringify({ follows: [{ listId, afterSequence: feed.lastSequence }] });
    const stream = spawn(GRPCURL, ['-plaintext', '-H', `authorization: Bearer ${token}`, '-d', request, address,
      'pulse.gateway.v1.Subscriptions/Subscribe'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = stream;
    let stderr = '';
    let delivered = false;
    stream.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    // After a hole or its end the stream is abandoned for a new one; what it still prints is not offered.
    let abandoned = false;
    onMessages(stream, (message) => {
      if (abandoned) return;
      if (message.reset) feed.error(`reset: ${JSON.stringify(message.reset)}`);
      // Presence notices carry sequence 0 (absent in JSON): outside the numbered stream.
      if (!message.event?.sequence) return;
      delivered = true;
      const { sequence, eventName, event } = message.event;
      // `event` names its domain, then the event: `{lists: {itemAdded: {...}}}`.
      const [ofDomain] = Object.values(event ?? {});
      const body = Object.values(ofDomain ?? {})[0];
      if (feed.offer(sequence, eventKey(eventName, body, Number(sequence))) === 'hole') {
        abandoned = true;
        stream.kill('SIGTERM');
      }
    });
    stream.once('close', () => {
      abandoned = true;
      if (stopped) return;
      feed.reconnects += 1;
      if (stderr.trim()) feed.error(stderr.trim());
      // A stream that ended before delivering anything moves on to the next gateway.
      if (!delivered) attempt += 1;
      resubscribe();
    });
  };
  /** Subscribes again on the first gateway, from `attempt` on, that takes connections. */
  const resubscribe = async () => {
    const found = await poll(async () => {
      if (stopped) return true;
      const candidates = gateways();
      if (await listens(candidates[attempt % candidates.length])) return true;
      attempt += 1;
      return false;
    }, { timeoutMs: GIVE_UP_MS, everyMs: RETRY_MS });
    if (stopped) return;
    if (found) subscribe();
    else feed.error(`no gateway took connections within ${GIVE_UP_MS} ms`);
  };
  subscribe();
  return {
    label,
    feed,
    alive: () => true,
    /** The gateway address of the current stream. */
    address: () => current,
    stop() {
      stopped = true;
      child?.kill('SIGTERM');
    },
  };
}

/** Whether something accepts TCP connections at `address` (`host:port`) within a second. */
function listens(address) {
  const split = address.lastIndexOf(':');
  return new Promise((resolve) => {
    const socket = net.connect(Number(address.slice(split + 1)), address.slice(0, split));
    const done = (up) => {
      socket.destroy();
      resolve(up);
    };
    socket.setTimeout(1_000);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}
