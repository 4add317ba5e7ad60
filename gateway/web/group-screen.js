// What the shopping-list and Lean Coffee screens share: one hub connection, one group open at
// a time (joined, then its snapshot, then its events in order through a GroupFeed), joined
// again and caught up after every reconnect, and commands whose effect is drawn when their
// event arrives, as it is for everyone else.

import { clearError, showError } from './dom.js';
import { openHub } from './connection.js';
import { GroupFeed } from './feed.js';

export class GroupScreen {
  /**
   * `hub`: its path; `events`: the event names of a group; `groupKey`: the payload field that
   * names the group (`listId`); `join`, `leave`, `snapshot`: the hub's methods for a group.
   */
  constructor({ hub, events, groupKey, join, leave, snapshot }) {
    Object.assign(this, { path: hub, events, groupKey, joinMethod: join, leaveMethod: leave, snapshotMethod: snapshot });
    this.hub = null;
    this.groupId = null;
    this.feed = null;
  }

  async show({ token, transport, protocol, me }) {
    this.me = me;
    this.hub = await openHub(this.path, { token, transport, protocol, onReconnected: () => this.rejoin() });
    for (const name of this.events) {
      this.hub.on(name, (payload) => {
        if (payload[this.groupKey] === this.groupId) this.feed?.receive(name, payload);
      });
    }
    await this.shown();
    if (this.groupId) await this.openGroup(this.groupId);
  }

  /** Called once the screen's connection is up (before a group reopens). */
  async shown() {}

  async hide() {
    const hub = this.hub;
    this.hub = null;
    this.feed = null;
    await hub?.stop();
  }

  /** After a reconnect: the new connection joins again and fetches what it missed. */
  async rejoin() {
    if (!this.groupId) return;
    await this.hub.invoke(this.joinMethod, this.groupId);
    await this.feed.catchUp();
  }

  /** Joins group `id` (leaving the one open), then draws its snapshot. */
  async openGroup(id) {
    if (this.groupId && this.groupId !== id && this.feed) {
      await this.hub.invoke(this.leaveMethod, this.groupId).catch(() => {});
    }
    this.groupId = id;
    this.feed = new GroupFeed({
      load: () => this.hub.invoke(this.snapshotMethod, id),
      missed: (after) => this.hub.invoke('GetMissedEvents', id, after),
      reset: (snapshot) => this.reset(snapshot),
      apply: (name, payload) => this.apply(name, payload),
    });
    try {
      await this.hub.invoke(this.joinMethod, id);
      await this.feed.start();
    } catch (error) {
      this.closeGroup();
      throw error;
    }
  }

  closeGroup() {
    this.groupId = null;
    this.feed = null;
  }

  /** A command; failures are shown, successes clear the last failure. */
  async call(method, ...args) {
    try {
      const result = await this.hub.invoke(method, ...args);
      clearError();
      return result;
    } catch (error) {
      showError(error);
      return null;
    }
  }
}
