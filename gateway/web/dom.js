// Small DOM helpers shared by the screens: building elements without HTML strings (so a
// name typed by another user can never inject markup) and the page-wide notices.

/** The element with `id`. */
export function byId(id) {
  const found = document.getElementById(id);
  if (!found) throw new Error(`the page has no #${id}`);
  return found;
}

/**
 * `el('li', {class: 'item', dataset: {id}}, 'text', child)`: attributes by name (`on…`
 * functions become listeners; `true` sets a boolean attribute, `false` leaves it out, except
 * for `aria-…` states, which are written "true" or "false"), children as nodes or text.
 */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null) continue;
    // ARIA states are strings: an empty aria-current would read as "false".
    if (name.startsWith('aria-')) node.setAttribute(name, String(value));
    else if (value === false) continue;
    else if (name === 'dataset') Object.assign(node.dataset, value);
    else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else if (value === true) node.setAttribute(name, '');
    else node.setAttribute(name, String(value));
  }
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
}

/** Shows a failed call's message until the next success or dismissal. */
export function showError(error) {
  const box = byId('error');
  box.textContent = hubMessage(error);
  box.hidden = false;
}

export function clearError() {
  byId('error').hidden = true;
}

/** The reason a hub call failed, without the ASP.NET Core prefix. */
function hubMessage(error) {
  const text = String(error?.message ?? error);
  const marker = 'HubException: ';
  const at = text.indexOf(marker);
  return at >= 0 ? text.slice(at + marker.length) : text;
}

/** The connection banner: `state` is 'connected', 'reconnecting' or 'disconnected'. */
export function showConnection(state, text) {
  const banner = byId('banner');
  banner.dataset.state = state;
  banner.textContent = text;
  banner.hidden = false;
}

/** Initials for a presence avatar ("Ann Lee" → "AL"). */
export function initials(name) {
  return name
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((word) => word[0].toUpperCase())
    .join('');
}

/** Reads a form's fields as an object and resets it. */
export function takeForm(form) {
  const values = Object.fromEntries(new FormData(form));
  form.reset();
  return values;
}
