// Records every event one connection receives, in arrival order, so a test can
// wait for the next one of a kind (with a timeout) and check that nothing it did
// not consume arrived: an event delivered twice, or to someone who should not
// get it, stays unconsumed and fails `expectNothing`.

import { setTimeout as sleep } from 'node:timers/promises';

export const EVENT_TIMEOUT_MS = Number(process.env.CONFORMANCE_EVENT_TIMEOUT_MS ?? 5_000);
/** How long "nothing more arrives" is watched for. */
export const QUIET_MS = Number(process.env.CONFORMANCE_QUIET_MS ?? 500);

export class EventRecorder {
  /** @type {{name: string, payload: any, consumed: boolean}[]} */
  #records = [];
  /** @type {Set<{name: string, where: (payload: any) => boolean, resolve: (payload: any) => void}>} */
  #waiters = new Set();

  /**
   * @param {string} label names the connection in failure messages
   * @param {() => string} describeConnection its current state, for failure messages
   */
  constructor(label, describeConnection = () => '') {
    this.label = label;
    this.describeConnection = describeConnection;
  }

  /** Called by the connection's handler for every event. */
  record(name, payload) {
    const record = { name, payload, consumed: false };
    this.#records.push(record);
    for (const waiter of this.#waiters) {
      if (waiter.name === name && waiter.where(payload)) {
        record.consumed = true;
        this.#waiters.delete(waiter);
        waiter.resolve(payload);
        return;
      }
    }
  }

  /**
   * The first event called `name` (matching `where`) not consumed yet, waiting
   * up to `timeout` ms for it to arrive.
   */
  next(name, { timeout = EVENT_TIMEOUT_MS, where = () => true } = {}) {
    const record = this.#records.find((r) => !r.consumed && r.name === name && where(r.payload));
    if (record) {
      record.consumed = true;
      return Promise.resolve(record.payload);
    }
    return new Promise((resolve, reject) => {
      const waiter = {
        name,
        where,
        resolve: (payload) => {
          clearTimeout(timer);
          resolve(payload);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new Error(`${this.label}: no ${name} within ${timeout} ms; ${this.summary()}`));
      }, timeout);
      this.#waiters.add(waiter);
    });
  }

  /** Consumes and returns every event called `name` (matching `where`) received so far. */
  drain(name, where = () => true) {
    const drained = this.#records.filter((r) => !r.consumed && r.name === name && where(r.payload));
    for (const record of drained) record.consumed = true;
    return drained.map((r) => r.payload);
  }

  /**
   * Watches for `ms` and fails if any event called `name` (any event at all when
   * `name` is null) arrived that the test has not consumed. Events for which
   * `except(name, payload)` holds are tolerated: consumed and returned.
   */
  async expectNothing(name = null, ms = QUIET_MS, { except = () => false } = {}) {
    await sleep(ms);
    const pending = this.#records.filter((r) => !r.consumed && (name === null || r.name === name));
    const tolerated = pending.filter((r) => except(r.name, r.payload));
    for (const record of tolerated) record.consumed = true;
    const unexpected = pending.filter((r) => !r.consumed);
    if (unexpected.length > 0) {
      const list = unexpected.map((r) => `${r.name} ${JSON.stringify(r.payload)}`).join('\n  ');
      throw new Error(`${this.label}: unexpected event(s):\n  ${list}`);
    }
    return tolerated.map((r) => r.payload);
  }

  /** Everything received so far, for failure messages. */
  summary() {
    const received = this.#records.map((r) => `${r.consumed ? '' : '*'}${r.name}${sequenceOf(r.payload)}`);
    const state = this.describeConnection();
    return `received ${received.length ? received.join(', ') : 'nothing'} (* = not consumed)${state ? `; ${state}` : ''}`;
  }
}

function sequenceOf(payload) {
  return payload && typeof payload === 'object' && 'sequence' in payload ? `#${payload.sequence}` : '';
}
