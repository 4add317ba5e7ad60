// Waiting in the topology test: on a condition, with a deadline, never for a
// fixed time. One place for the pacing of every polling loop and the shape of
// every deadline, so no test or helper keeps its own sleep loop.

import { setTimeout as timer } from 'node:timers/promises';

/** How often a condition is looked at while it does not hold yet. */
export const LOOK_EVERY_MS = 100;

/**
 * Looks at `condition()` (which may be async) at once and then every `everyMs`
 * until it holds or `timeoutMs` passed. Resolves with whether it held. An
 * exception thrown by the condition ends the wait with it.
 */
export async function poll(condition, { timeoutMs, everyMs = LOOK_EVERY_MS }) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return true;
    if (Date.now() >= deadline) return false;
    await timer(Math.min(everyMs, Math.max(0, deadline - Date.now())));
  }
}

/** Like `poll`, but rejects naming `what` when the deadline passes. */
export async function until(what, condition, { timeoutMs, everyMs = LOOK_EVERY_MS }) {
  if (!(await poll(condition, { timeoutMs, everyMs }))) {
    throw new Error(`${what} within ${timeoutMs} ms`);
  }
}

/** What `deadline` resolves with when the promise did not settle in time. */
export const TIMED_OUT = Symbol('timed out');

/**
 * `promise`'s outcome, or `TIMED_OUT` once `ms` passed first. The timer keeps
 * no process alive.
 */
export function deadline(promise, ms) {
  return Promise.race([promise, timer(ms, TIMED_OUT, { ref: false })]);
}
