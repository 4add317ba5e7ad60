// Lean Coffee (`/hubs/lean-session`): a board of topics in columns by status, votes, and a
// facilitator who moves the session from Scheduled to InProgress to Completed (or Cancelled),
// every participant seeing each change and who is here live.

import { byId, el, initials, showError, takeForm } from './dom.js';
import { GroupScreen } from './group-screen.js';

const HUB = '/hubs/lean-session';

const EVENTS = [
  'ParticipantJoined', 'ParticipantLeft', 'TopicAdded', 'TopicEdited', 'TopicDeleted',
  'TopicStatusChanged', 'VoteCast', 'VoteRemoved', 'SessionStatusChanged',
];

/** The board's columns; archived topics leave the board. */
const COLUMNS = ['ToDiscuss', 'Discussing', 'Discussed'];

/** Where a topic may go from each column, and the button that sends it there. */
const TOPIC_MOVES = {
  ToDiscuss: [['Discussing', 'Discuss']],
  Discussing: [['Discussed', 'Done'], ['ToDiscuss', 'Back']],
  Discussed: [['Archived', 'Archive']],
};

/** How a session status reads on the page. */
const STATUS_LABELS = { Scheduled: 'Scheduled', InProgress: 'In progress', Completed: 'Completed', Cancelled: 'Cancelled' };

/** The facilitator's next steps from each session status. */
const SESSION_MOVES = {
  Scheduled: [['InProgress', 'Start session'], ['Cancelled', 'Cancel session']],
  InProgress: [['Completed', 'Complete session'], ['Cancelled', 'Cancel session']],
  Completed: [],
  Cancelled: [],
};

export class LeanCoffeeScreen extends GroupScreen {
  constructor() {
    super({ hub: HUB, events: EVENTS, groupKey: 'sessionId', join: 'JoinSession', leave: 'LeaveSession', snapshot: 'GetSession' });
    this.wire();
  }

  async shown() {
    await this.renderMySessions();
  }

  async open(sessionId) {
    await this.openGroup(sessionId);
    await this.renderMySessions();
  }

  /** Who came and went while the connection was down is not in the history: ask again. */
  async rejoin() {
    await super.rejoin();
    if (!this.groupId) return;
    const { participants } = await this.hub.invoke('GetActiveParticipants', this.groupId);
    this.present = new Map(participants.map((p) => [p.userId, p.displayName]));
    this.render();
  }

  closeGroup() {
    super.closeGroup();
    byId('session').hidden = true;
  }

  reset({ session, topics, participants, votedTopicIds }) {
    this.session = session;
    this.topics = new Map(topics.map((topic) => [topic.id, topic]));
    this.voted = new Set(votedTopicIds);
    this.present = new Map(participants.filter((p) => p.isActive).map((p) => [p.userId, p.displayName]));
    byId('session').hidden = false;
    this.render();
  }

  apply(name, event) {
    switch (name) {
      case 'TopicAdded':
      case 'TopicEdited':
        this.topics.set(event.topic.id, event.topic);
        break;
      case 'TopicDeleted':
        this.topics.delete(event.topicId);
        break;
      case 'TopicStatusChanged':
        this.patchTopic(event.topicId, { status: event.status });
        break;
      case 'VoteCast':
      case 'VoteRemoved':
        this.patchTopic(event.topicId, { voteCount: event.voteCount });
        if (event.userId === this.me.userId) {
          if (name === 'VoteCast') this.voted.add(event.topicId);
          else this.voted.delete(event.topicId);
        }
        break;
      case 'SessionStatusChanged':
        this.session.status = event.status;
        this.renderMySessions().catch(showError);
        break;
      case 'ParticipantJoined':
        this.present.set(event.userId, event.displayName);
        break;
      case 'ParticipantLeft':
        this.present.delete(event.userId);
        break;
      default:
        return;
    }
    this.render();
  }

  patchTopic(id, changes) {
    const topic = this.topics.get(id);
    if (topic) Object.assign(topic, changes);
  }

  isFacilitator() {
    return this.session.facilitatorId === this.me.userId;
  }

  render() {
    const { session } = this;
    byId('session-title').textContent = session.title;
    byId('session-status').textContent = STATUS_LABELS[session.status];
    byId('session-id').textContent = session.id;
    byId('participants').replaceChildren(
      ...[...this.present].map(([, name]) => el('li', { class: 'avatar', title: name, 'aria-label': name }, initials(name))),
    );
    byId('facilitation').replaceChildren(
      ...(this.isFacilitator() ? SESSION_MOVES[session.status] : []).map(([status, label]) =>
        el('button', { type: 'button', onclick: () => this.call('ChangeSessionStatus', this.groupId, { status }) }, label),
      ),
    );
    const open = session.status === 'Scheduled' || session.status === 'InProgress';
    byId('add-topic').hidden = !open;
    byId('votes-left').textContent = `You have voted for ${this.voted.size} ${this.voted.size === 1 ? 'topic' : 'topics'} (one vote per topic).`;
    const topics = [...this.topics.values()].sort((a, b) => b.voteCount - a.voteCount || a.createdAt.localeCompare(b.createdAt));
    for (const column of COLUMNS) {
      byId(`topics-${column}`).replaceChildren(
        ...topics.filter((topic) => topic.status === column).map((topic) => this.topicCard(topic, open)),
      );
    }
  }

  topicCard(topic, open) {
    const mine = this.voted.has(topic.id);
    const mayMove = this.isFacilitator() || topic.authorId === this.me.userId;
    const votes = `${topic.voteCount} ${topic.voteCount === 1 ? 'vote' : 'votes'}`;
    return el(
      'li',
      { class: 'topic', dataset: { topicId: topic.id } },
      el('span', { class: 'title' }, topic.title),
      el('span', { class: 'meta' }, `by ${topic.authorName} · `, el('span', { class: 'votes' }, votes)),
      el(
        'span',
        { class: 'actions' },
        open
          ? el('button', {
            type: 'button',
            'aria-pressed': String(mine),
            'aria-label': `${mine ? 'Remove vote for' : 'Vote for'} ${topic.title}`,
            onclick: () => this.call(mine ? 'RemoveVote' : 'VoteForTopic', this.groupId, topic.id),
          }, mine ? 'Voted' : 'Vote')
          : null,
        ...(mayMove ? TOPIC_MOVES[topic.status] ?? [] : []).map(([status, label]) =>
          el('button', {
            type: 'button',
            'aria-label': `${label}: ${topic.title}`,
            onclick: () => this.call('SetTopicStatus', this.groupId, topic.id, { status }),
          }, label),
        ),
      ),
    );
  }

  async renderMySessions() {
    const { sessions } = await this.hub.invoke('ListSessions');
    byId('my-sessions').replaceChildren(
      ...sessions.map((session) =>
        el('li', {}, el('button', { type: 'button', class: 'link', 'aria-current': session.id === this.groupId, onclick: () => this.open(session.id).catch(showError) }, `${session.title} (${STATUS_LABELS[session.status]})`)),
      ),
    );
  }

  wire() {
    byId('new-session').addEventListener('submit', async (event) => {
      event.preventDefault();
      const { title } = takeForm(event.target);
      const session = await this.call('CreateSession', { title });
      if (session) await this.open(session.id).catch(showError);
    });
    byId('open-session').addEventListener('submit', (event) => {
      event.preventDefault();
      const { id } = takeForm(event.target);
      this.open(id.trim()).catch(showError);
    });
    byId('add-topic').addEventListener('submit', (event) => {
      event.preventDefault();
      const { title } = takeForm(event.target);
      this.call('AddTopic', this.groupId, { title });
      event.target.elements.title.focus();
    });
  }
}
