// What a person does on the shopping-list screen, step by step, as the tests need it (within
// the screen's section: other screens' fields have similar labels).

/** Creates a list named `name` in `window`; resolves to its id. */
export async function createList(window, name) {
  const screen = window.page.locator('#lists');
  await screen.getByLabel('New list').fill(name);
  await screen.getByRole('button', { name: 'Create' }).click();
  await screen.locator('#list-name', { hasText: name }).waitFor();
  return screen.locator('#list-id').textContent();
}

/** The owner's `window` shares the open list with `other` as `permission`. */
export async function share(window, other, displayName, permission = 'Editor') {
  const screen = window.page.locator('#lists');
  await screen.getByLabel('User id').fill(other.userId);
  await screen.getByLabel('Name', { exact: true }).fill(displayName);
  await screen.getByLabel('Permission').selectOption(permission);
  await screen.getByRole('button', { name: 'Share' }).click();
  await screen.locator('#collaborators li', { hasText: `${displayName} — ${permission}` }).waitFor();
}

/** Opens the list `listId` (shared with this window's user) by its id. */
export async function openList(window, listId, name) {
  const screen = window.page.locator('#lists');
  await screen.getByLabel('Open a shared list by id').fill(listId);
  await screen.getByRole('button', { name: 'Open' }).click();
  await screen.locator('#list-name', { hasText: name }).waitFor();
}

/** Adds an item to the open list from the keyboard: Enter in the form submits it. */
export async function addItem(window, name, quantity = 1) {
  const screen = window.page.locator('#lists');
  await screen.getByLabel('Item', { exact: true }).fill(name);
  await screen.getByLabel('Quantity').fill(String(quantity));
  await screen.getByLabel('Quantity').press('Enter');
}

/** The row of the item named `name` (exactly). */
export function itemRow(window, name) {
  return window.page.locator('#items li', { has: window.page.locator('.name', { hasText: new RegExp(`^${name}$`) }) });
}
