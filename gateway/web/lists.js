// Shopping lists (`/hubs/shopping-list`): create and open lists, share them, and edit items
// with everyone present seeing each change live. The hub has no "my lists" call, so the lists
// a user created or opened are remembered in this browser; a list shared with you is opened
// by its id (the owner sees yours on their page).

import { byId, el, initials, showError, takeForm } from './dom.js';
import { GroupScreen } from './group-screen.js';

const HUB = '/hubs/shopping-list';

/** The list events the screen applies; all carry `listId`. */
const EVENTS = [
  'ItemAdded', 'ItemUpdated', 'ItemDeleted', 'ItemPurchasedStatusChanged', 'ItemsReordered',
  'ListUpdated', 'ListArchived', 'CollaboratorAdded', 'CollaboratorRemoved',
  'CollaboratorPermissionChanged', 'UserJoined', 'UserLeft', 'PresenceUpdate',
];

export class ListsScreen extends GroupScreen {
  constructor() {
    super({ hub: HUB, events: EVENTS, groupKey: 'listId', join: 'JoinList', leave: 'LeaveList', snapshot: 'GetList' });
    this.wire();
  }

  get listId() {
    return this.groupId;
  }

  async shown() {
    this.renderMyLists();
  }

  async open(listId) {
    this.present = new Map();
    try {
      await this.openGroup(listId);
    } catch (error) {
      this.forget(listId);
      throw error;
    }
    this.remember(listId, this.list.name);
  }

  closeGroup() {
    super.closeGroup();
    byId('list').hidden = true;
  }

  reset({ list, items, collaborators }) {
    this.list = list;
    this.items = new Map(items.map((item) => [item.id, item]));
    this.collaborators = new Map(collaborators.map((c) => [c.userId, c]));
    byId('list').hidden = false;
    this.render();
  }

  apply(name, event) {
    switch (name) {
      case 'ItemAdded':
      case 'ItemUpdated':
        this.items.set(event.item.id, event.item);
        break;
      case 'ItemDeleted':
        this.items.delete(event.itemId);
        break;
      case 'ItemPurchasedStatusChanged': {
        const item = this.items.get(event.itemId);
        if (item) Object.assign(item, { isPurchased: event.isPurchased, purchasedBy: event.purchasedBy });
        break;
      }
      case 'ItemsReordered':
        for (const { itemId, position } of event.itemPositions) {
          const item = this.items.get(itemId);
          if (item) item.position = position;
        }
        break;
      case 'ListUpdated':
        Object.assign(this.list, Object.fromEntries(Object.entries(event.changes).filter(([, v]) => v !== null)));
        this.remember(this.list.id, this.list.name);
        break;
      case 'ListArchived':
        this.list.isArchived = event.isArchived;
        break;
      case 'CollaboratorAdded':
        this.collaborators.set(event.collaborator.userId, event.collaborator);
        break;
      case 'CollaboratorPermissionChanged': {
        const collaborator = this.collaborators.get(event.userId);
        if (collaborator) collaborator.permission = event.newPermission;
        break;
      }
      case 'CollaboratorRemoved':
        if (event.userId === this.me.userId) {
          this.removed();
          return;
        }
        this.collaborators.delete(event.userId);
        break;
      case 'UserJoined':
        this.present.set(event.user.id, event.user);
        break;
      case 'UserLeft':
        this.present.delete(event.userId);
        break;
      case 'PresenceUpdate':
        this.present = new Map(event.activeUsers.map((user) => [user.id, user]));
        break;
      default:
        return;
    }
    this.render();
  }

  /** This user lost access: the list goes from the page and from the remembered lists. */
  removed() {
    const name = this.list.name;
    this.forget(this.listId);
    this.closeGroup();
    showError(`You were removed from “${name}”.`);
  }

  render() {
    byId('list-name').textContent = this.list.isArchived ? `${this.list.name} (archived)` : this.list.name;
    byId('list-id').textContent = this.list.id;
    byId('presence').replaceChildren(
      ...[...this.present.values()].map((user) =>
        el('li', { class: 'avatar', title: user.displayName, 'aria-label': user.displayName }, initials(user.displayName)),
      ),
    );
    const items = [...this.items.values()].sort((a, b) => a.position - b.position);
    byId('items').replaceChildren(...items.map((item, index) => this.itemRow(item, index, items)));
    byId('collaborators').replaceChildren(
      ...[...this.collaborators.values()].map((c) =>
        el(
          'li',
          { dataset: { userId: c.userId } },
          `${c.displayName} — ${c.permission} `,
          c.permission === 'Owner' || this.list.ownerId !== this.me.userId
            ? null
            : el('button', { type: 'button', onclick: () => this.call('RemoveCollaborator', this.listId, c.userId) }, `Remove ${c.displayName}`),
        ),
      ),
    );
  }

  itemRow(item, index, items) {
    const quantity = item.quantity === null ? '' : ` × ${item.quantity}${item.unit ? ` ${item.unit}` : ''}`;
    const row = el(
      'li',
      { class: item.isPurchased ? 'item purchased' : 'item', draggable: 'true', dataset: { itemId: item.id } },
      el(
        'label',
        { class: 'check' },
        el('input', {
          type: 'checkbox',
          checked: item.isPurchased,
          onchange: (event) => this.call('SetItemPurchased', this.listId, item.id, { isPurchased: event.target.checked }),
        }),
        el('span', { class: 'name' }, item.name),
        el('span', { class: 'quantity' }, quantity),
      ),
      el('span', { class: 'actions' },
        el('button', { type: 'button', 'aria-label': `Move ${item.name} up`, disabled: index === 0, onclick: () => this.move(items, index, index - 1) }, '↑'),
        el('button', { type: 'button', 'aria-label': `Move ${item.name} down`, disabled: index === items.length - 1, onclick: () => this.move(items, index, index + 1) }, '↓'),
        el('button', { type: 'button', 'aria-label': `Rename ${item.name}`, onclick: () => this.rename(item) }, 'Edit'),
        el('button', { type: 'button', 'aria-label': `Delete ${item.name}`, onclick: () => this.call('DeleteItem', this.listId, item.id) }, 'Delete'),
      ),
    );
    row.addEventListener('dragstart', (event) => event.dataTransfer.setData('text/plain', String(index)));
    row.addEventListener('dragover', (event) => event.preventDefault());
    row.addEventListener('drop', (event) => {
      event.preventDefault();
      this.move(items, Number(event.dataTransfer.getData('text/plain')), index);
    });
    return row;
  }

  rename(item) {
    const name = window.prompt(`Rename “${item.name}” to`, item.name);
    if (name && name.trim() && name !== item.name) this.call('UpdateItem', this.listId, item.id, { name: name.trim() });
  }

  /** Moves the item at `from` to `to` and numbers every item 0, 1, 2, … in the new order. */
  move(items, from, to) {
    if (from === to || !(from in items) || !(to in items)) return;
    const order = [...items];
    const [moved] = order.splice(from, 1);
    order.splice(to, 0, moved);
    const itemPositions = order.map((item, position) => ({ itemId: item.id, position }));
    this.call('ReorderItems', this.listId, { itemPositions });
  }

  remembered() {
    return JSON.parse(localStorage.getItem(this.storageKey()) ?? '[]');
  }

  storageKey() {
    return `pulse.lists.${this.me.userId}`;
  }

  remember(id, name) {
    const lists = this.remembered().filter((list) => list.id !== id);
    localStorage.setItem(this.storageKey(), JSON.stringify([{ id, name }, ...lists]));
    this.renderMyLists();
  }

  forget(id) {
    localStorage.setItem(this.storageKey(), JSON.stringify(this.remembered().filter((list) => list.id !== id)));
    this.renderMyLists();
  }

  renderMyLists() {
    byId('my-lists').replaceChildren(
      ...this.remembered().map(({ id, name }) =>
        el('li', {}, el('button', { type: 'button', class: 'link', 'aria-current': id === this.listId, onclick: () => this.open(id).catch(showError) }, name)),
      ),
    );
  }

  /** The screen's forms, wired once. */
  wire() {
    byId('new-list').addEventListener('submit', async (event) => {
      event.preventDefault();
      const { name } = takeForm(event.target);
      const list = await this.call('CreateList', { name });
      if (list) await this.open(list.id).catch(showError);
    });
    byId('open-list').addEventListener('submit', (event) => {
      event.preventDefault();
      const { id } = takeForm(event.target);
      this.open(id.trim()).catch(showError);
    });
    byId('add-item').addEventListener('submit', (event) => {
      event.preventDefault();
      const { name, quantity } = takeForm(event.target);
      this.call('AddItem', this.listId, { name, quantity: quantity === '' ? null : Number(quantity) });
      event.target.elements.name.focus();
    });
    byId('share').addEventListener('submit', (event) => {
      event.preventDefault();
      const { userId, displayName, permission } = takeForm(event.target);
      this.call('ShareList', this.listId, { userId: userId.trim(), displayName, permission });
    });
  }
}
