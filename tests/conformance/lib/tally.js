// The per-fault account of the topology test: for each follower, how many of
// the events sent during the fault it received, lost and got twice, and
// whether each writer's events reached it in the order they were committed.

import { poll } from './wait.js';

/** Counters of a follower at the start of a fault, so the table shows that fault's share. */
export function mark(followers, writers) {
  return {
    sentFrom: writers.map((writer) => writer.sent.length),
    followers: followers.map(({ feed }) => ({ repeated: feed.repeated, reconnects: feed.reconnects, holes: feed.holes })),
  };
}

/** Keys sent by each writer since `since`. */
function sentSince(writers, since) {
  return writers.map((writer, i) => writer.sent.slice(since.sentFrom[i]));
}

/**
 * Waits until every follower still alive applied every key sent since `since`, or `timeoutMs`
 * passed (a follower that never started or gave up reconnecting is not waited for). Resolves
 * with how long each follower took from the call (null: not within `timeoutMs`).
 */
export async function converge(followers, writers, since, timeoutMs) {
  const expected = sentSince(writers, since).flat();
  const started = Date.now();
  const took = followers.map(() => null);
  const complete = ({ feed }) => {
    const applied = new Set(feed.applied);
    return expected.every((key) => applied.has(key));
  };
  await poll(() => {
    followers.forEach((follower, i) => {
      if (took[i] === null && complete(follower)) took[i] = Date.now() - started;
    });
    return !followers.some((follower, i) => took[i] === null && follower.alive());
  }, { timeoutMs });
  return took;
}

/** One row per follower; `took` is what `converge` resolved with. */
export function tally(followers, writers, since, took) {
  const perWriter = sentSince(writers, since);
  const expected = perWriter.flat();
  return followers.map(({ label, feed }, i) => {
    const before = since.followers[i] ?? { repeated: 0, reconnects: 0, holes: 0 };
    const counts = new Map();
    const firstIndex = new Map();
    feed.applied.forEach((key, index) => {
      counts.set(key, (counts.get(key) ?? 0) + 1);
      if (!firstIndex.has(key)) firstIndex.set(key, index);
    });
    const received = expected.filter((key) => counts.has(key)).length;
    const twice = expected.reduce((sum, key) => sum + Math.max(0, (counts.get(key) ?? 0) - 1), 0);
    const inOrder = perWriter.every((keys) => {
      const positions = keys.filter((key) => firstIndex.has(key)).map((key) => firstIndex.get(key));
      return positions.every((position, j) => j === 0 || position > positions[j - 1]);
    });
    return {
      client: label,
      sent: expected.length,
      received,
      lost: expected.length - received,
      duplicated: twice + feed.repeated - before.repeated,
      inOrder,
      caughtUpMs: took[i] ?? '-',
      reconnects: feed.reconnects - before.reconnects,
      holes: feed.holes - before.holes,
      errors: feed.errors,
      lastError: feed.errors.at(-1) ?? '',
    };
  });
}

/** Prints the rows as a table under `title`. */
export function printTable(title, rows, notes = []) {
  const columns = ['client', 'sent', 'received', 'lost', 'duplicated', 'inOrder', 'caughtUpMs', 'reconnects', 'holes'];
  const cells = rows.map((row) => columns.map((column) => String(row[column])));
  const widths = columns.map((column, c) => Math.max(column.length, ...cells.map((line) => line[c].length)));
  const format = (line) => line.map((cell, c) => cell.padEnd(widths[c])).join('  ');
  const lines = [`\n${title}`, format(columns), format(widths.map((w) => '-'.repeat(w))), ...cells.map(format)];
  for (const row of rows) {
    if (row.lost > 0 || row.duplicated > 0) lines.push(...row.errors.map((error) => `  ${row.client}: ${error}`));
  }
  lines.push(...notes.map((note) => `  ${note}`));
  console.log(lines.join('\n'));
}
