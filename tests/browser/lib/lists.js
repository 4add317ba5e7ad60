// What a person does on the shopping-list screen, step by step, as the tests need it.

/** Creates a list named `name` in `window`; resolves to its id. */
export async function createList(window, name) {
  const { page } = window;
  await page.getByLabel('New list').fill(name);
  await page.getByRole('button', { name: 'Create' }).click();
  await page.locator('#list-name', { hasText: name }).waitFor();
  return page.locator('#list-id').textContent();
}

/** The owner's `window` shares the open list with `other` as `permission`. */
export async function share(window, other, displayName, permission = 'Editor') {
  const { page } = window;
  await page.getByLabel('User id').fill(other.userId);
  await page.getByLabel('Name', { exact: true }).fill(displayName);
  await page.getByLabel('Permission').selectOption(permission);
  await page.getByRole('button', { name: 'Share' }).click();
  await page.locator('#collaborators li', { hasText: `${displayName} — ${permission}` }).waitFor();
}

/** Opens the list `listId` (shared with this window's user) by its id. */
export async function openList(window, listId, name) {
  const { page } = window;
  await page.getByLabel('Open a shared list by id').fill(listId);
  await page.getByRole('button', { name: 'Open' }).click();
  await page.locator('#list-name', { hasText: name }).waitFor();
}

/** Adds an item to the open list. */
export async function addItem(window, name, quantity = 1) {
  const { page } = window;
  await page.getByLabel('Item', { exact: true }).fill(name);
  await page.getByLabel('Quantity').fill(String(quantity));
  await page.getByRole('button', { name: 'Add', exact: true }).click();
}

/** The row of the item named `name` (exactly). */
export function itemRow(window, name) {
  return window.page.locator('#items li', { has: window.page.locator('.name', { hasText: new RegExp(`^${name}$`) }) });
}
