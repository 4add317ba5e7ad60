// Task-notification helpers (CONTRACT §3.4): virtual keys made by an admin
// with the master key, tasks created by a key, producers (workers, billing,
// health monitors, webhook senders) reporting through the task service's gRPC
// API with the real grpcurl, and tabs authenticated by a key.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { grpcurlOk } from './grpcurl.js';

const PACKAGE = 'pulse.tasks.v1';

/** Hub paths by the seed's hub names. */
export const TASK_HUBS = {
  video: '/hubs/video-generation',
  image: '/hubs/image-generation',
  tasks: '/hubs/tasks',
  notifications: '/hubs/notifications',
  spend: '/hubs/spend-notifications',
  webhooks: '/hubs/webhooks',
  admin: '/hubs/admin-notifications',
  navigation: '/hubs/navigation-state',
};

async function call(suite, token, service, method, request) {
  const reply = await grpcurlOk(['-emit-defaults', '-d', JSON.stringify(request), suite.tasks, `${PACKAGE}.${service}/${method}`], { token });
  return JSON.parse(reply);
}

/** An admin call (VirtualKeys) with the master key. */
export function admin(suite, method, request = {}) {
  return call(suite, suite.masterKey, 'VirtualKeys', method, request);
}

/** A producer report (Producers) with the master key. */
export function produce(suite, method, request) {
  return call(suite, suite.masterKey, 'Producers', method, request);
}

/** A client call (Tasks) with a key's secret. */
export function asKey(suite, key, method, request = {}) {
  return call(suite, key.secret, 'Tasks', method, request);
}

/** A new virtual key: `{id, name, secret}` (the secret is shown once). */
export async function createKey(suite, name, { budget } = {}) {
  const created = await admin(suite, 'CreateVirtualKey', budget === undefined ? { name } : { name, budget });
  return { id: created.key.id, name: created.key.name, secret: created.secret };
}

/** A started tab on `hub` authenticated by `key`. */
export function connectKey(suite, key, hub, options = {}) {
  return suite.connect({ id: key.id, name: key.name }, { ...options, hub, token: key.secret });
}

/** A started tab on the admin hub with the master key. */
export function connectAdmin(suite, options = {}) {
  return suite.connect({ id: 'master', name: 'Admin' }, { ...options, hub: TASK_HUBS.admin, token: suite.masterKey });
}

/**
 * The README's event verification matrix: `[{hub, path, event, group}]`, one
 * per row between the event-matrix markers.
 */
export function readEventMatrix() {
  const readme = readFileSync(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../README.md'), 'utf8');
  const start = readme.indexOf('<!-- event-matrix:start -->');
  const end = readme.indexOf('<!-- event-matrix:end -->');
  if (start < 0 || end < start) throw new Error('README.md has no event matrix');
  return readme
    .slice(start, end)
    .split('\n')
    .filter((line) => line.startsWith('| ') && !line.startsWith('| hub ') && !line.startsWith('|---'))
    .map((line) => {
      const [hub, hubPath, event, group] = line.split('|').slice(1, 5).map((cell) => cell.trim().replaceAll('`', ''));
      return { hub, path: hubPath, event, group };
    });
}
