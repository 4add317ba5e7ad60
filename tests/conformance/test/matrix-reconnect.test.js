// Connections that drop (CONTRACT §1): with `withStatefulReconnect()` a
// WebSocket cut mid-stream is replaced on the same connection and the client
// misses nothing and sees nothing twice; with plain automatic reconnect the
// client gets a new connection and resynchronises from the snapshot's
// `sequence` (the pattern the README documents).

import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { HttpTransportType, LogLevel } from '../lib/client.js';
import { useSuite } from '../lib/harness.js';
import { createList, joinList, shareList } from '../lib/lists.js';
import { tcpProxy } from '../lib/proxy.js';
import { newUser } from '../lib/users.js';

const suite = useSuite();
const proxies = [];

after(async () => {
  await Promise.all(proxies.map((proxy) => proxy.close()));
});

async function proxy() {
  const started = await tcpProxy(suite.gateway);
  proxies.push(started);
  return started;
}

/** Bob (direct WebSocket) owns a list shared with Alice and has joined it. */
async function listOfBob() {
  const alice = newUser('Alice');
  const bob = newUser('Bob');
  const b = await suite.connect(bob);
  const list = await createList(b, { name: 'Flaky network' });
  await shareList(b, list.id, alice, 'Editor');
  await joinList(b, list.id, [bob]);
  return { alice, bob, b, list };
}

/** Waits until `condition()` holds, checking every 20 ms, for at most `ms`. */
async function until(condition, ms, what) {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

for (const protocol of ['json', 'messagepack']) {
  test(`stateful reconnect (${protocol}): a WebSocket cut mid-stream loses and repeats nothing`, async () => {
    const { alice, bob, b, list } = await listOfBob();
    const path = await proxy();
    const a = suite.tab(alice, {
      gateway: path.url,
      transport: HttpTransportType.WebSockets,
      protocol,
      statefulReconnect: true,
    });
    let closed = null;
    a.connection.onclose((error) => {
      closed = error ?? 'closed without error';
    });
    await a.start();
    const connectionId = a.connection.connectionId;
    await joinList(a, list.id, [bob, alice]);

    const names = Array.from({ length: 24 }, (_, i) => `Item ${i}`);
    for (const [i, name] of names.entries()) {
      if (i === 6 || i === 15) assert.ok(path.cut() >= 1, 'a connection was cut');
      if (i === 10) {
        // Alice's own call, sent while her socket is down or just back: done exactly once.
        path.cut();
        await a.invoke('AddItem', list.id, { name: 'From Alice', quantity: 1 });
      }
      await b.invoke('AddItem', list.id, { name, quantity: 1 });
    }

    const received = [];
    for (const name of [...names.slice(0, 10), 'From Alice', ...names.slice(10)]) {
      received.push(await a.events.next('ItemAdded', { where: (e) => e.item.name === name, timeout: 10_000 }));
    }
    const sequences = received.map((e) => e.sequence);
    sequences.slice(1).forEach((sequence, i) => {
      assert.equal(sequence, sequences[i] + 1, `no gap or repeat in ${sequences}`);
    });
    await a.events.expectNothing('ItemAdded', 500);
    assert.equal(closed, null, 'the connection never closed');
    assert.equal(a.connection.state, 'Connected');
    assert.equal(a.connection.connectionId, connectionId, 'the same connection, reattached');
    assert.ok(path.opened() >= 4, `the client reattached after each cut (${path.opened()} sockets)`);
    const snapshot = await a.invoke('GetList', list.id);
    assert.equal(snapshot.items.length, names.length + 1, 'nothing was added twice');
  });
}

test('automatic reconnect: re-join, take the snapshot, then apply only newer events', async () => {
  const { alice, bob, b, list } = await listOfBob();
  const path = await proxy();
  // The cut is logged as an error by the client; expected here.
  const a = suite.tab(alice, { gateway: path.url, reconnectDelays: [0, 200, 500, 1000], logLevel: LogLevel.None });
  await a.start();

  // The client side of the pattern: a model of the list kept current by events,
  // resynchronised from a snapshot after every reconnect.
  const model = { items: new Map(), sequence: 0, applied: [], reconnects: 0 };
  let pending = null; // events held back while a resync is in flight
  const apply = (event) => {
    if (event.sequence <= model.sequence) return;
    assert.equal(event.sequence, model.sequence + 1, 'events follow the snapshot without a gap');
    model.sequence = event.sequence;
    model.items.set(event.item.id, event.item);
    model.applied.push(event.sequence);
  };
  a.connection.on('ItemAdded', (event) => {
    if (pending) pending.push(event);
    else apply(event);
  });
  const resync = async () => {
    pending = [];
    await a.invoke('JoinList', list.id);
    const snapshot = await a.invoke('GetList', list.id);
    model.items = new Map(snapshot.items.map((item) => [item.id, item]));
    model.sequence = snapshot.sequence;
    const held = pending;
    pending = null;
    held.forEach(apply);
  };
  a.connection.onreconnected(async () => {
    model.reconnects += 1;
    await resync();
  });
  await resync();
  const connectionId = a.connection.connectionId;

  const names = Array.from({ length: 16 }, (_, i) => `Item ${i}`);
  for (const [i, name] of names.entries()) {
    if (i === 5) path.cut();
    await b.invoke('AddItem', list.id, { name, quantity: 1 });
  }
  await until(() => model.reconnects >= 1 && model.items.size === names.length, 10_000, 'the model to catch up');

  assert.notEqual(a.connection.connectionId, connectionId, 'a new connection');
  const snapshot = await b.invoke('GetList', list.id);
  assert.deepEqual(
    [...model.items.keys()].sort(),
    snapshot.items.map((item) => item.id).sort(),
    'the model holds exactly the list',
  );
  assert.equal(model.sequence, snapshot.sequence);
  assert.equal(new Set(model.applied).size, model.applied.length, 'no event applied twice');
  assert.equal(b.connection.state, 'Connected', `${bob.name} was not affected`);
});
