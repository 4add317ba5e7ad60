// Tasks (the virtual-key hubs): a virtual key starts video and image tasks whose progress
// bars and completion are pushed from the worker's reports, and follows its spend with budget
// alerts. The key is the credential here, not the signed-in user: every window that uses the
// same key sees the same tasks and spend. "Simulate worker" stands in for the media worker,
// through the demo's /demo/work (the task service's producer API).

import { byId, el, showError, takeForm } from './dom.js';
import { openHub } from './connection.js';
import { GroupFeed } from './feed.js';

/** Per media kind: its hub, how to follow one request, and its events. */
const KINDS = {
  Video: { hub: '/hubs/video-generation', subscribe: 'SubscribeToVideoGeneration', events: ['VideoProgress', 'VideoCompleted', 'VideoFailed'] },
  Image: { hub: '/hubs/image-generation', subscribe: 'SubscribeToImageGeneration', events: ['ImageProgress', 'ImageCompleted', 'ImageFailed'] },
};

/** How far one click of "Simulate worker" moves a task. */
const WORKER_STEP = 25;

/** Any position past a group's end: `GetMissedEvents` answers a reset with where it stands. */
const PAST_THE_END = Number.MAX_SAFE_INTEGER;

/** Per tab, like the signed-in identity. */
const KEY_STORAGE = 'pulse.key';

export class TasksScreen {
  constructor() {
    this.hubs = {};
    this.tasks = new Map();
    this.key = JSON.parse(sessionStorage.getItem(KEY_STORAGE) ?? 'null');
    this.wire();
  }

  async show(settings) {
    this.settings = settings;
    if (this.key) await this.connect();
  }

  async hide() {
    const hubs = Object.values(this.hubs);
    this.hubs = {};
    await Promise.all(hubs.map((hub) => hub.stop()));
  }

  /** Connects the media and spend hubs with the key in use. */
  async connect() {
    await this.hide();
    const { transport, protocol } = this.settings;
    const token = this.key.secret;
    byId('key').hidden = false;
    byId('key-name').textContent = this.key.name;
    byId('key-id').textContent = this.key.id;
    byId('key-secret').textContent = this.key.secret;
    byId('spend-budget').textContent = this.key.budget === null || this.key.budget === undefined ? 'no budget' : money(this.key.budget);
    for (const [kind, { hub, events }] of Object.entries(KINDS)) {
      const connection = await openHub(hub, { token, transport, protocol, onReconnected: () => this.resubscribe(kind) });
      for (const name of events) connection.on(name, (event) => this.progress(event));
      this.hubs[kind] = connection;
    }
    const spend = await openHub('/hubs/spend-notifications', { token, transport, protocol, onReconnected: () => this.spendFeed.catchUp() });
    this.spendFeed = new GroupFeed({
      load: () => spend.invoke('GetMissedEvents', PAST_THE_END),
      missed: (after) => spend.invoke('GetMissedEvents', after),
      reset: () => {},
      apply: (name, event) => this.spent(name, event),
    });
    for (const name of ['SpendUpdate', 'BudgetAlert', 'UnusualSpending']) spend.on(name, (event) => this.spendFeed.receive(name, event));
    this.hubs.spend = spend;
    await this.spendFeed.start();
    byId('key-work').hidden = false;
    await Promise.all([...this.tasks.values()].map((task) => this.follow(task)));
  }

  /**
   * Request groups keep no history to catch up from (`GetMissedEvents` covers the hubs with
   * one group per connection): after a reconnect each task is followed again, then read, so
   * a report missed meanwhile (a completion, say) still shows.
   */
  async resubscribe(kind) {
    const tasks = [...this.tasks.values()].filter((task) => task.kind === kind);
    await Promise.all(tasks.map(async (task) => {
      await this.follow(task);
      const now = await this.demo(`/demo/tasks/${task.id}`, null, this.key.secret);
      this.progress({ ...now, requestId: now.id });
    }));
  }

  async follow(task) {
    const { subscribe } = KINDS[task.kind];
    await this.hubs[task.kind].invoke(subscribe, task.id);
    this.tasks.set(task.id, task);
    this.renderTasks();
  }

  /** Progress, completion or failure of a followed request. */
  progress(event) {
    const task = this.tasks.get(event.requestId);
    if (!task) return;
    if (isFinished(task)) return;
    Object.assign(task, {
      status: event.status,
      percentage: event.status === 'Completed' ? 100 : Math.max(task.percentage ?? 0, event.percentage ?? 0),
      message: event.message ?? task.message,
      result: event.result ?? task.result,
      error: event.error ?? task.error,
    });
    this.renderTasks();
  }

  spent(name, event) {
    if (name === 'SpendUpdate') {
      byId('spend-current').textContent = money(event.currentSpend);
      return;
    }
    const text = name === 'BudgetAlert' ? `${event.thresholdPercent}% of the budget used: ${event.message}` : `Unusual spending: ${event.message}`;
    byId('alerts').append(el('li', { class: 'alert' }, text));
  }

  renderTasks() {
    byId('task-list').replaceChildren(
      ...[...this.tasks.values()].map((task) => {
        const label = `${task.kind} ${task.id.slice(0, 8)}`;
        const finished = isFinished(task);
        return el(
          'li',
          { class: 'task', dataset: { taskId: task.id } },
          el('span', {}, label, ' ', el('code', {}, task.id)),
          el('progress', { max: 100, value: task.percentage ?? 0, 'aria-label': `${label} progress` }),
          el('span', { class: 'status' }, statusText(task)),
          task.result ? el('a', { href: task.result, rel: 'noopener' }, 'Result') : null,
          finished
            ? null
            : el('button', { type: 'button', onclick: () => this.simulate(task) }, `Simulate worker: ${label}`),
        );
      }),
    );
  }

  /** One step of the worker past the progress shown: the next percentage, or completion at 100. */
  async simulate(task) {
    const percentage = Math.min(100, (task.percentage ?? 0) + WORKER_STEP);
    await this.demo('/demo/work', { taskId: task.id, percentage }).catch(showError);
  }

  /** A demo helper: POSTs `body`, or GETs `path` when there is none. */
  async demo(path, body, token) {
    const response = await fetch(path, {
      method: body === null ? 'GET' : 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: body === null ? undefined : JSON.stringify(body),
    });
    if (!response.ok) throw new Error(await response.text());
    return response.json();
  }

  useKey(key) {
    this.key = key;
    this.tasks = new Map();
    sessionStorage.setItem(KEY_STORAGE, JSON.stringify(key));
    return this.connect();
  }

  wire() {
    byId('new-key').addEventListener('submit', async (event) => {
      event.preventDefault();
      const { name, budget } = Object.fromEntries(new FormData(event.target));
      const key = await this.demo('/demo/keys', { name, budget: budget === '' ? null : Number(budget) }).catch(showError);
      if (key) await this.useKey(key).catch(showError);
    });
    byId('use-key').addEventListener('submit', (event) => {
      event.preventDefault();
      const { id, secret } = takeForm(event.target);
      this.useKey({ id: id.trim(), name: 'Shared key', secret: secret.trim(), budget: null }).catch(showError);
    });
    byId('start-task').addEventListener('submit', async (event) => {
      event.preventDefault();
      const { kind } = Object.fromEntries(new FormData(event.target));
      try {
        const task = await this.demo('/demo/tasks', { kind, taskType: `${kind.toLowerCase()}.generate` }, this.key.secret);
        await this.follow(task);
      } catch (error) {
        showError(error);
      }
    });
    byId('follow-task').addEventListener('submit', (event) => {
      event.preventDefault();
      const { id, kind } = takeForm(event.target);
      this.follow({ id: id.trim(), kind, status: 'Pending', percentage: 0 }).catch(showError);
    });
    byId('record-spend').addEventListener('submit', (event) => {
      event.preventDefault();
      const { amount } = Object.fromEntries(new FormData(event.target));
      this.demo('/demo/spend', { virtualKeyId: this.key.id, amount: Number(amount) }).catch(showError);
    });
  }
}

/** A finished task reports nothing more. */
function isFinished(task) {
  return task.status === 'Completed' || task.status === 'Failed';
}

function money(amount) {
  return Number(amount).toFixed(2);
}

function statusText(task) {
  if (task.status === 'Completed') return 'Completed';
  if (task.status === 'Failed') return `Failed: ${task.error}`;
  return `${task.status} — ${task.percentage ?? 0}%${task.message ? ` (${task.message})` : ''}`;
}
