// A group's numbered events applied exactly once and in order, whatever the connection does.
//
// Every event of a group carries the group's sequence (1, 2, 3, …); a snapshot (`GetList`,
// `GetSession`) carries the sequence of the last event it reflects. The feed applies a live
// event only if it is the next one; one already applied is dropped, and a gap (events missed
// while the connection was down, or before a reconnect was noticed) is filled with
// `GetMissedEvents` before anything newer is applied. While the snapshot or a catch-up is
// loading, live events wait in order. Presence notices (`sequence: null`) are not numbered and
// are applied at once.

export class GroupFeed {
  /**
   * `load()` resolves to a snapshot with `sequence`; `missed(after)` to `GetMissedEvents`'
   * answer; `reset(snapshot)` redraws from a snapshot; `apply(name, payload)` one event.
   */
  constructor({ load, missed, reset, apply }) {
    Object.assign(this, { load, missed, reset, apply });
    this.sequence = null;
    this.waiting = [];
    this.busy = null;
  }

  /** Loads the snapshot, then applies what arrived meanwhile. */
  start() {
    return this.exclusive(async () => {
      const snapshot = await this.load();
      this.reset(snapshot);
      this.sequence = snapshot.sequence;
    });
  }

  /**
   * A live event `name` of this group. `caughtUp`: a catch-up just ran, so a gap that is still
   * there is not in the history (retention) and waiting would never end.
   */
  receive(name, payload, caughtUp = false) {
    if (payload.sequence === null || payload.sequence === undefined) {
      this.apply(name, payload);
      return;
    }
    if (this.busy) {
      this.waiting.push([name, payload]);
      return;
    }
    if (payload.sequence <= this.sequence) return;
    if (payload.sequence === this.sequence + 1 || caughtUp) {
      this.sequence = payload.sequence;
      this.apply(name, payload);
      return;
    }
    this.waiting.push([name, payload]);
    this.catchUp();
  }

  /** Fetches every event after the last one applied (after a reconnect, or on a gap). */
  catchUp() {
    return this.exclusive(async () => {
      for (;;) {
        const page = await this.missed(this.sequence);
        if (page.reset) {
          const snapshot = await this.load();
          this.reset(snapshot);
          this.sequence = snapshot.sequence;
          return;
        }
        for (const { event, sequence, payload } of page.events) {
          if (sequence <= this.sequence) continue;
          this.sequence = sequence;
          this.apply(event, payload);
        }
        if (!page.hasMore) return;
      }
    });
  }

  /** Runs `work` alone, then the events that waited for it (also when `work` failed). */
  async exclusive(work) {
    while (this.busy) await this.busy.catch(() => {});
    this.busy = work();
    try {
      await this.busy;
    } finally {
      this.busy = null;
      const waiting = this.waiting.splice(0);
      for (const [name, payload] of waiting) this.receive(name, payload, true);
    }
  }
}
