// Writers for the topology test: each issues shopping-list commands through the
// lists service's gRPC API with the real grpcurl, one at a time, each on its own
// replica first and again on the other when that one does not answer. Every 4th
// command marks the item added just before as purchased, so the list's stream
// holds two kinds of event. A writer keeps the key of every event a command
// that succeeded caused (what followers must end up with), and how long its
// longest run of failed commands lasted while it ran last.

import { setTimeout as sleep } from 'node:timers/promises';
import { eventKey } from './followers.js';
import { grpcurl } from './grpcurl.js';

/** Pause between two commands of one writer (a steady, modest load on 2 shared cores). */
const PACE_MS = 20;
/** Pause after a failed command before the next try (on the other replica). */
const RETRY_MS = 100;

/**
 * @param {{label: string, token: string, listId: string, replicas: () => string[]}} options
 *   `replicas()`: the lists replicas' gRPC addresses, this writer's own first
 */
export function startWriter({ label, token, listId, replicas }) {
  /** Event keys of the commands that succeeded, in order. */
  const sent = [];
  let failed = 0;
  let outageStart = null;
  let longestOutageMs = 0;
  let lastError = null;
  let running = false;
  let loop = Promise.resolve();
  let count = 0;
  let replica = 0;
  let lastItem = null;

  const command = async () => {
    const address = replicas()[replica];
    const purchase = count % 4 === 3 && lastItem !== null;
    const [method, body] = purchase
      ? ['SetItemPurchased', { listId, itemId: lastItem, isPurchased: true }]
      : ['AddItem', { listId, item: { name: `${label} ${count}` } }];
    const { code, stdout, stderr } = await grpcurl(['-d', JSON.stringify(body), address, `pulse.lists.v1.ShoppingLists/${method}`], { token });
    if (code !== 0) {
      failed += 1;
      lastError = `${method} on ${address}: ${stderr.trim().split('\n').at(-1)}`;
      outageStart ??= Date.now();
      replica = (replica + 1) % replicas().length;
      await sleep(RETRY_MS); // Only paces the retries.
      return;
    }
    if (outageStart !== null) {
      longestOutageMs = Math.max(longestOutageMs, Date.now() - outageStart);
      outageStart = null;
    }
    replica = 0;
    const item = JSON.parse(stdout);
    sent.push(eventKey(purchase ? 'ItemPurchasedStatusChanged' : 'ItemAdded', purchase ? { itemId: lastItem } : { item }));
    lastItem = purchase ? null : item.id;
    count += 1;
    await sleep(PACE_MS); // Only paces the load.
  };

  return {
    label,
    /** Event keys of successful commands, in order (the array grows while running). */
    sent,
    failures: () => failed,
    lastError: () => lastError,
    /** The longest time from a failed command to the next one that succeeded, since `resume()`. */
    longestOutageMs: () => Math.max(longestOutageMs, outageStart === null ? 0 : Date.now() - outageStart),
    /** Starts issuing commands until `pause()`. */
    resume() {
      running = true;
      longestOutageMs = 0;
      loop = (async () => {
        while (running) await command();
      })();
    },
    /** Stops after the command in flight; resolves once it is answered. */
    async pause() {
      running = false;
      await loop;
    },
  };
}
