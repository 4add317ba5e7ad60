// The app's shell: demo sign-in, the screen shown by the URL's hash, and the transport and
// protocol every screen connects with (changing either reconnects the screen).

import { byId, clearError, showError } from './dom.js';
import { CoachingScreen } from './coaching.js';
import { LeanCoffeeScreen } from './lean-coffee.js';
import { ListsScreen } from './lists.js';
import { TasksScreen } from './tasks.js';

const SCREENS = {
  lists: new ListsScreen(),
  'lean-coffee': new LeanCoffeeScreen(),
  coaching: new CoachingScreen(),
  tasks: new TasksScreen(),
};
const DEFAULT_SCREEN = 'lists';
/** Per tab, so two tabs of one browser can be two people. */
const IDENTITY_KEY = 'pulse.identity';

let identity = unexpired(JSON.parse(sessionStorage.getItem(IDENTITY_KEY) ?? 'null'));
let current = null;

function settings() {
  return { token: identity.token, transport: byId('transport').value, protocol: byId('protocol').value };
}

async function signIn(event) {
  event.preventDefault();
  const form = new FormData(event.target);
  const response = await fetch('/demo/token', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: form.get('name'), role: form.get('role') }),
  });
  if (!response.ok) {
    const reason = response.status === 404 ? 'Demo sign-in is off: start the suite with --demo.' : await response.text();
    showError(reason);
    return;
  }
  identity = await response.json();
  sessionStorage.setItem(IDENTITY_KEY, JSON.stringify(identity));
  clearError();
  await showSignedIn();
}

async function showSignedIn() {
  byId('sign-in').hidden = true;
  byId('me').hidden = false;
  byId('screens').hidden = false;
  byId('me-name').textContent = identity.name;
  byId('me-id').textContent = identity.userId;
  await route();
}

/** Shows the screen the hash names, connected with the current settings. */
async function route() {
  if (!identity) return;
  const name = location.hash.slice(1) in SCREENS ? location.hash.slice(1) : DEFAULT_SCREEN;
  for (const link of document.querySelectorAll('#screens a')) {
    if (link.dataset.screen === name) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  if (current) await current.hide();
  for (const [key, screen] of Object.entries(SCREENS)) byId(key).hidden = key !== name;
  current = SCREENS[name];
  try {
    await current.show({ ...settings(), me: identity });
  } catch (error) {
    showError(error);
  }
}

/** `stored`, unless its token has expired (demo tokens last two hours): then sign in again. */
function unexpired(stored) {
  if (!stored) return null;
  const claims = JSON.parse(atob(stored.token.split('.')[1].replaceAll('-', '+').replaceAll('_', '/')));
  return claims.exp * 1000 > Date.now() ? stored : null;
}

function signOut() {
  sessionStorage.clear();
  location.reload();
}

byId('sign-in-form').addEventListener('submit', (event) => signIn(event).catch(showError));
byId('sign-out').addEventListener('click', signOut);
byId('transport').addEventListener('change', () => route());
byId('protocol').addEventListener('change', () => route());
window.addEventListener('hashchange', () => route());
document.body.dataset.ready = 'true';
if (identity) showSignedIn();
