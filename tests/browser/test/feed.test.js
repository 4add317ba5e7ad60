// GroupFeed (gateway/web/feed.js), the part of the web app that makes "never twice, never
// missed" true: it runs in Node as well, so its rules are checked here without a browser.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GroupFeed } from '../../../gateway/web/feed.js';

/** A feed over a group whose history is `history` ([{event, sequence, payload}]). */
function feedOver(history, snapshotSequence) {
  const applied = [];
  let releaseLoad;
  const loaded = new Promise((resolve) => {
    releaseLoad = resolve;
  });
  const feed = new GroupFeed({
    load: async () => {
      await loaded;
      return { sequence: snapshotSequence };
    },
    missed: async (after) => ({
      events: history.filter((e) => e.sequence > after),
      sequence: history.at(-1)?.sequence ?? after,
      reset: false,
      hasMore: false,
    }),
    reset: () => applied.push('snapshot'),
    apply: (name, payload) => applied.push(payload.sequence === null ? name : payload.sequence),
  });
  return { feed, applied, releaseLoad };
}

const numbered = (sequence) => ({ event: 'ItemAdded', sequence, payload: { sequence } });

test('events that arrive while the snapshot loads wait, and those it already holds are dropped', async () => {
  const { feed, applied, releaseLoad } = feedOver([], 2);
  const started = feed.start();
  feed.receive('ItemAdded', { sequence: 2 });
  feed.receive('ItemAdded', { sequence: 3 });
  releaseLoad();
  await started;
  assert.deepEqual(applied, ['snapshot', 3]);
});

test('an event seen twice is applied once', async () => {
  const { feed, applied, releaseLoad } = feedOver([], 0);
  releaseLoad();
  await feed.start();
  for (const sequence of [1, 2, 2, 1, 3]) feed.receive('ItemAdded', { sequence });
  assert.deepEqual(applied, ['snapshot', 1, 2, 3]);
});

test('a gap is filled from the history before anything newer is applied', async () => {
  const history = [1, 2, 3, 4].map(numbered);
  const { feed, applied, releaseLoad } = feedOver(history, 1);
  releaseLoad();
  await feed.start();
  feed.receive('ItemAdded', { sequence: 4 });
  await feed.catchUp();
  assert.deepEqual(applied, ['snapshot', 2, 3, 4]);
});

test('presence notices are not numbered and are applied at once', async () => {
  const { feed, applied, releaseLoad } = feedOver([], 0);
  releaseLoad();
  await feed.start();
  feed.receive('UserJoined', { sequence: null });
  assert.deepEqual(applied, ['snapshot', 'UserJoined']);
});
