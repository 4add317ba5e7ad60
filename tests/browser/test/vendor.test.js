// The SignalR browser builds the gateway embeds (gateway/web/vendor/) are exactly those of the
// npm version this package pins, which is the version tests/tools/vendor-web.sh fetches.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../..');
const require = createRequire(import.meta.url);
const pinned = JSON.parse(readFileSync(path.resolve(here, '../package.json'), 'utf8')).dependencies;

const VENDORED = [
  { pkg: '@microsoft/signalr', file: 'dist/browser/signalr.min.js', as: 'signalr.min.js' },
  {
    pkg: '@microsoft/signalr-protocol-msgpack',
    file: 'dist/browser/signalr-protocol-msgpack.min.js',
    as: 'signalr-protocol-msgpack.min.js',
  },
];

/** The folder of an installed package (its package.json is not in its exports map). */
function packageDir(pkg) {
  const entry = require.resolve(pkg);
  return entry.slice(0, entry.indexOf(`node_modules/${pkg}/`) + `node_modules/${pkg}/`.length);
}

test('the refresh script fetches the version this package pins', () => {
  const script = readFileSync(path.join(root, 'tests/tools/vendor-web.sh'), 'utf8');
  const version = script.match(/^SIGNALR_VERSION="([^"]+)"$/m)?.[1];
  for (const { pkg } of VENDORED) assert.equal(pinned[pkg], version, pkg);
});

for (const { pkg, file, as } of VENDORED) {
  test(`gateway/web/vendor/${as} is ${pkg}'s ${file} byte for byte`, () => {
    const dir = packageDir(pkg);
    const installed = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')).version;
    assert.equal(installed, pinned[pkg], `installed ${pkg}`);
    const expected = readFileSync(path.join(dir, file));
    const vendored = readFileSync(path.join(root, 'gateway/web/vendor', as));
    assert.ok(expected.equals(vendored), `${as} differs from ${pkg}@${installed}; run tests/tools/vendor-web.sh`);
  });
}
