// `/hubs/chat` with the official client (CONTRACT §3.3, issue 4): a message
// reaches every connection of its recipient — several tabs, any transport and
// protocol — once, and nobody else; `MessageSent` confirms it to the sending
// tab only; read receipts reach the sender's tabs; history pages newest first
// without gaps or repeats, and holds what was sent while the recipient was away.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HttpTransportType, expectBroadcast, expectQuiet } from '../lib/client.js';
import { CHAT_HUB, messageShape } from '../lib/coaching.js';
import { useSuite } from '../lib/harness.js';
import { hubError } from '../lib/lists.js';
import { assertShape, timestamp } from '../lib/shape.js';
import { newUser } from '../lib/users.js';

const suite = useSuite();

function connectChat(user, options = {}) {
  return suite.connect(user, { ...options, hub: CHAT_HUB });
}

async function tabsOf(user, count) {
  const tabs = [];
  for (let i = 0; i < count; i += 1) tabs.push(await connectChat(user));
  return tabs;
}

test('a message reaches all three recipient tabs once, MessageSent only the sending tab, and no other user', async () => {
  const alice = newUser('Alice');
  const bob = newUser('Bob');
  const carol = newUser('Carol');
  const aliceTabs = await tabsOf(alice, 3);
  const bobTabs = await tabsOf(bob, 3);
  const carolTabs = await tabsOf(carol, 1);

  const sent = await aliceTabs[0].invoke('SendMessage', bob.id, 'Morning! Ready for leg day?');

  assertShape(sent, messageShape({ sender: alice, recipient: bob, message: 'Morning! Ready for leg day?' }), 'SendMessage result');
  assert.equal(await aliceTabs[0].events.next('MessageSent'), sent.id);
  await expectBroadcast(bobTabs, 'ReceiveMessage', { ...sent, sequence: 1 });
  await expectQuiet([...aliceTabs, ...bobTabs, ...carolTabs]);
});

test('a read receipt reaches every tab of the sender, and only the recipient may mark a message read', async () => {
  const alice = newUser('Alice');
  const bob = newUser('Bob');
  const aliceTabs = await tabsOf(alice, 3);
  const bobTabs = await tabsOf(bob, 2);
  const sent = await aliceTabs[0].invoke('SendMessage', bob.id, 'Did you log lunch?');
  await aliceTabs[0].events.next('MessageSent');
  await expectBroadcast(bobTabs, 'ReceiveMessage', { ...sent, sequence: 1 });

  await assert.rejects(aliceTabs[1].invoke('MarkAsRead', sent.id), { message: hubError('MarkAsRead', 'Not authorized') });
  const read = await bobTabs[1].invoke('MarkAsRead', sent.id);

  assertShape(read, messageShape({ id: sent.id, sender: alice, recipient: bob, message: sent.message, sentAt: sent.sentAt, readAt: timestamp }), 'MarkAsRead result');
  await expectBroadcast(aliceTabs, 'MessageRead', { messageId: sent.id, readAt: read.readAt, sequence: 1 });
  // Marking it again changes nothing and tells nobody.
  assert.deepStrictEqual(await bobTabs[0].invoke('MarkAsRead', sent.id), read);
  await expectQuiet([...aliceTabs, ...bobTabs]);
});

test('history pages newest first without gaps or repeats across page boundaries', async () => {
  const alice = newUser('Alice');
  const bob = newUser('Bob');
  const a = await connectChat(alice);
  const b = await connectChat(bob);
  const sent = [];
  for (let i = 0; i < 12; i += 1) {
    const [from, to] = i % 3 === 2 ? [b, alice] : [a, bob];
    sent.push(await from.invoke('SendMessage', to.id, `message ${i}`));
  }

  const pages = [];
  let before = null;
  do {
    const page = await a.invoke('GetConversation', bob.id, before, 5);
    pages.push(page.messages);
    before = page.nextBefore;
  } while (before !== null);

  assert.deepStrictEqual(pages.map((p) => p.length), [5, 5, 2]);
  assert.deepStrictEqual(pages.flat().map((m) => m.id), sent.map((m) => m.id).reverse());
  const fromBob = await b.invoke('GetConversation', alice.id, null, 50);
  assert.deepStrictEqual(fromBob.messages, pages.flat(), 'both sides see the same conversation');
});

test('a message sent while the recipient is offline is in their history when they come back', async () => {
  const alice = newUser('Alice');
  const dave = newUser('Dave');
  const a = await connectChat(alice);
  const sent = await a.invoke('SendMessage', dave.id, 'Check in when you are back');

  const d = await connectChat(dave);
  const history = await d.invoke('GetConversation', alice.id, null, 50);

  assert.deepStrictEqual(history, { messages: [sent], nextBefore: null });
  await expectQuiet([d]);
});

test('empty, oversized and self-addressed messages are refused and nothing is stored', async () => {
  const alice = newUser('Alice');
  const bob = newUser('Bob');
  const a = await connectChat(alice);
  const b = await connectChat(bob);

  await assert.rejects(a.invoke('SendMessage', bob.id, '   '), { message: hubError('SendMessage', 'Message cannot be empty') });
  await assert.rejects(a.invoke('SendMessage', bob.id, 'x'.repeat(4001)), {
    message: hubError('SendMessage', 'Message cannot exceed 4000 characters'),
  });
  await assert.rejects(a.invoke('SendMessage', alice.id, 'note to self'), {
    message: hubError('SendMessage', 'Cannot send a message to yourself'),
  });
  const longest = await a.invoke('SendMessage', bob.id, 'é'.repeat(4000));

  assert.deepStrictEqual(await b.invoke('GetConversation', alice.id, null, 50), { messages: [longest], nextBefore: null });
  await b.events.next('ReceiveMessage');
  await expectQuiet([a, b], { except: (name) => name === 'MessageSent' });
});

for (const { name, transport, protocol } of [
  { name: 'Server-Sent Events, JSON', transport: HttpTransportType.ServerSentEvents, protocol: 'json' },
  { name: 'long polling, JSON', transport: HttpTransportType.LongPolling, protocol: 'json' },
  { name: 'WebSockets, MessagePack', transport: HttpTransportType.WebSockets, protocol: 'messagepack' },
]) {
  test(`user-targeted delivery over ${name}`, async () => {
    const alice = newUser('Alice');
    const bob = newUser('Bob');
    const a = await connectChat(alice, { transport, protocol });
    const bobTabs = [await connectChat(bob, { transport, protocol }), await connectChat(bob)];

    const sent = await a.invoke('SendMessage', bob.id, `over ${name}`);

    assert.equal(await a.events.next('MessageSent'), sent.id);
    await expectBroadcast(bobTabs, 'ReceiveMessage', { ...sent, sequence: 1 });
    await expectQuiet([a, ...bobTabs]);
  });
}

test('a tab that was away catches up on its chat with GetMissedEvents after the last sequence it saw', async () => {
  const alice = newUser('Alice');
  const bob = newUser('Bob');
  const b = await connectChat(bob);
  const first = await connectChat(alice);
  await b.invoke('SendMessage', alice.id, 'before the tunnel');
  await first.events.next('ReceiveMessage');
  await first.close();

  const missed = [
    await b.invoke('SendMessage', alice.id, 'in the tunnel'),
    await b.invoke('SendMessage', alice.id, 'still in the tunnel'),
  ];
  const back = await connectChat(alice);
  const caughtUp = await back.invoke('GetMissedEvents', 1);

  assert.deepStrictEqual(caughtUp, {
    group: `chat_${alice.id}`,
    events: missed.map((message, i) => ({ event: 'ReceiveMessage', sequence: i + 2, occurredAt: caughtUp.events[i].occurredAt, payload: { ...message, sequence: i + 2 } })),
    sequence: 3,
    reset: false,
    hasMore: false,
  });
  await expectQuiet([back]);
});
