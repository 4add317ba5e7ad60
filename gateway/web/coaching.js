// Chat and goals (`/hubs/chat`, `/hubs/goals`): conversations with unread counts and read
// receipts, a trainer assigning goals and watching a client's progress arrive. Both hubs put
// each connection in its user's own group; each group's events go through a GroupFeed, whose
// snapshot is the conversation list (or the goals) taken after learning where the group
// stands, so a reconnect fetches exactly what was missed. The hubs know users by id only, so
// names come from the contacts this browser remembers.

import { byId, el, showError, takeForm } from './dom.js';
import { openHub } from './connection.js';
import { GroupFeed } from './feed.js';

/** Any position past a group's end: `GetMissedEvents` answers a reset with where it stands. */
const PAST_THE_END = Number.MAX_SAFE_INTEGER;

export class CoachingScreen {
  constructor() {
    this.chat = null;
    this.goalsHub = null;
    this.open = null;
    /** Clients this trainer started coaching here (the hubs have no call that lists them). */
    this.coached = new Set();
    this.wire();
  }

  async show({ token, transport, protocol, me }) {
    this.me = me;
    this.token = token;
    this.trainer = me.roles.includes('trainer');
    this.conversations = new Map();
    this.messages = new Map();
    this.goals = new Map();
    this.chat = await openHub('/hubs/chat', { token, transport, protocol, onReconnected: () => this.chatFeed.catchUp() });
    this.chatFeed = this.feed(this.chat, async () => ({ conversations: (await this.chat.invoke('GetConversations')).conversations }), (s) => this.resetChat(s), (n, p) => this.applyChat(n, p));
    for (const name of ['ReceiveMessage', 'MessageRead', 'MessageDeleted']) this.chat.on(name, (p) => this.chatFeed.receive(name, p));
    this.goalsHub = await openHub('/hubs/goals', { token, transport, protocol, onReconnected: () => this.goalsFeed.catchUp() });
    this.goalsFeed = this.feed(this.goalsHub, async () => ({ goals: (await this.goalsHub.invoke('GetGoals', null)).goals }), (s) => this.resetGoals(s), (n, p) => this.applyGoals(n, p));
    for (const name of ['GoalAssigned', 'ClientProgressUpdate']) this.goalsHub.on(name, (p) => this.goalsFeed.receive(name, p));
    byId('assign-goal').hidden = !this.trainer;
    byId('progress-title').hidden = !this.trainer;
    byId('client-progress').hidden = !this.trainer;
    await Promise.all([this.chatFeed.start(), this.goalsFeed.start()]);
    if (this.open) await this.openConversation(this.open);
  }

  async hide() {
    const hubs = [this.chat, this.goalsHub];
    this.chat = null;
    this.goalsHub = null;
    await Promise.all(hubs.map((hub) => hub?.stop()));
  }

  /** A feed of the caller's own group on `hub`: where it stands, then `snapshot()` of it. */
  feed(hub, snapshot, reset, apply) {
    return new GroupFeed({
      load: async () => {
        const { sequence } = await hub.invoke('GetMissedEvents', PAST_THE_END);
        return { ...(await snapshot()), sequence };
      },
      missed: (after) => hub.invoke('GetMissedEvents', after),
      reset,
      apply,
    });
  }

  resetChat({ conversations }) {
    this.conversations = new Map(conversations.map((c) => [c.userId, c.unreadCount]));
    this.renderConversations();
  }

  applyChat(name, event) {
    if (name === 'ReceiveMessage') {
      if (event.senderId === this.open) {
        this.messages.set(event.id, event);
        this.markRead(event);
        this.renderMessages();
      } else {
        this.conversations.set(event.senderId, (this.conversations.get(event.senderId) ?? 0) + 1);
      }
      this.renderConversations();
    } else if (name === 'MessageRead') {
      const message = this.messages.get(event.messageId);
      if (message) message.readAt = event.readAt;
      this.renderMessages();
    } else if (name === 'MessageDeleted') {
      this.messages.delete(event.messageId);
      this.renderMessages();
    }
  }

  async openConversation(userId) {
    this.open = userId;
    const { messages } = await this.chat.invoke('GetConversation', userId, null, 50);
    this.messages = new Map(messages.reverse().map((m) => [m.id, m]));
    this.conversations.set(userId, 0);
    byId('chat').hidden = false;
    byId('chat-title').textContent = `Chat with ${this.nameOf(userId)}`;
    this.renderMessages();
    this.renderConversations();
    await Promise.all([...this.messages.values()].map((m) => this.markRead(m)));
  }

  /** Marks an incoming message read, which sends its sender the receipt. */
  async markRead(message) {
    if (message.recipientId !== this.me.userId || message.readAt) return;
    try {
      const read = await this.chat.invoke('MarkAsRead', message.id);
      message.readAt = read.readAt;
    } catch (error) {
      showError(error);
    }
  }

  renderMessages() {
    byId('messages').replaceChildren(
      ...[...this.messages.values()].map((m) => {
        const mine = m.senderId === this.me.userId;
        return el(
          'li',
          { class: mine ? 'message mine' : 'message', dataset: { messageId: m.id } },
          m.message,
          mine ? el('span', { class: 'receipt' }, m.readAt ? 'Read' : 'Sent') : null,
        );
      }),
    );
  }

  renderConversations() {
    const people = new Map([...this.contacts()].map(({ userId }) => [userId, 0]));
    for (const [userId, unread] of this.conversations) people.set(userId, unread);
    byId('conversations').replaceChildren(
      ...[...people].map(([userId, unread]) =>
        el(
          'li',
          { dataset: { userId } },
          el(
            'button',
            { type: 'button', class: 'link', 'aria-current': userId === this.open, onclick: () => this.openConversation(userId).catch(showError) },
            this.nameOf(userId),
            unread > 0 ? el('span', { class: 'badge', 'aria-label': `${unread} unread` }, String(unread)) : null,
          ),
          this.trainer
            ? el('button', { type: 'button', disabled: this.coached.has(userId), onclick: () => this.coach(userId) },
              this.coached.has(userId) ? `Coaching ${this.nameOf(userId)}` : `Coach ${this.nameOf(userId)}`)
            : null,
        ),
      ),
    );
    byId('assign-goal').elements.clientId.replaceChildren(
      ...this.contacts().map(({ userId, name }) => el('option', { value: userId }, name)),
    );
  }

  resetGoals({ goals }) {
    this.goals = new Map(goals.map((goal) => [goal.id, goal]));
    this.renderGoals();
  }

  applyGoals(name, event) {
    if (name === 'GoalAssigned') {
      this.goals.set(event.id, event);
      this.renderGoals();
    } else if (name === 'ClientProgressUpdate') {
      const notes = event.notes ? ` — ${event.notes}` : '';
      byId('client-progress').append(
        el('li', { dataset: { goalId: event.goalId } }, `${this.nameOf(event.clientId)} recorded ${event.value}${notes}`),
      );
    }
  }

  renderGoals() {
    byId('my-goals').replaceChildren(
      ...[...this.goals.values()].map((goal) => {
        const form = el(
          'form',
          { class: 'row' },
          el('label', {}, 'Today', el('input', { name: 'value', type: 'number', step: 'any', required: true })),
          el('label', {}, 'Notes', el('input', { name: 'notes', maxlength: 500 })),
          el('button', { type: 'submit' }, 'Record progress'),
        );
        form.addEventListener('submit', async (event) => {
          event.preventDefault();
          const { value, notes } = takeForm(form);
          await this.goalsHub.invoke('UpdateGoalProgress', goal.id, Number(value), notes || null).catch(showError);
        });
        const target = goal.targetCalories === null ? '' : `, ${goal.targetCalories} kcal a day`;
        const by = goal.trainerId ? ` (from ${this.nameOf(goal.trainerId)})` : '';
        return el('li', { class: 'goal', dataset: { goalId: goal.id } }, el('span', {}, `${goal.goalType}${target}${by}`), form);
      }),
    );
  }

  /** The demo makes the signed-in trainer coach `userId` (invited and accepted at once). */
  async coach(userId) {
    const response = await fetch('/demo/coach', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${this.token}` },
      body: JSON.stringify({ clientId: userId }),
    });
    if (!response.ok) {
      showError(await response.text());
      return;
    }
    this.coached.add(userId);
    this.renderConversations();
  }

  contacts() {
    return JSON.parse(localStorage.getItem(`pulse.contacts.${this.me.userId}`) ?? '[]');
  }

  nameOf(userId) {
    return this.contacts().find((c) => c.userId === userId)?.name ?? `User ${userId.slice(0, 8)}`;
  }

  wire() {
    byId('add-contact').addEventListener('submit', (event) => {
      event.preventDefault();
      const { userId, name } = takeForm(event.target);
      const others = this.contacts().filter((c) => c.userId !== userId.trim());
      localStorage.setItem(`pulse.contacts.${this.me.userId}`, JSON.stringify([...others, { userId: userId.trim(), name }]));
      this.renderConversations();
    });
    byId('send-message').addEventListener('submit', async (event) => {
      event.preventDefault();
      const { message } = takeForm(event.target);
      try {
        const sent = await this.chat.invoke('SendMessage', this.open, message);
        this.messages.set(sent.id, sent);
        this.renderMessages();
      } catch (error) {
        showError(error);
      }
    });
    byId('assign-goal').addEventListener('submit', async (event) => {
      event.preventDefault();
      const { clientId, type, targetCalories } = Object.fromEntries(new FormData(event.target));
      const goal = { type, targetCalories: targetCalories === '' ? null : Number(targetCalories) };
      await this.goalsHub.invoke('AssignGoal', clientId, goal).catch(showError);
    });
  }
}
