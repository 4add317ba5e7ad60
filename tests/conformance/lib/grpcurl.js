// The real grpcurl binary, for tests that drive a service the way a native
// client or an operator would (CONTRACT §4: reflection, health, bearer auth).
//
// grpcurl: env GRPCURL, default tests/tools/bin/grpcurl (tests/tools/install-grpcurl.sh).

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const GRPCURL = path.resolve(packageDir, process.env.GRPCURL ?? '../tools/bin/grpcurl');
const GRPCURL_TIMEOUT_MS = 20_000;

/** Fails (for a `before` hook) when grpcurl is not installed. */
export function requireGrpcurl() {
  if (!existsSync(GRPCURL)) {
    throw new Error(`no grpcurl at ${GRPCURL}: run tests/tools/install-grpcurl.sh or set GRPCURL`);
  }
}

/** Runs grpcurl; resolves {code, stdout, stderr}, never rejects on exit codes. */
export function grpcurl(args, { token } = {}) {
  const auth = token === undefined ? [] : ['-H', `authorization: Bearer ${token}`];
  return new Promise((resolve, reject) => {
    execFile(
      GRPCURL,
      ['-plaintext', '-max-time', '15', ...auth, ...args],
      { timeout: GRPCURL_TIMEOUT_MS },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') reject(error);
        else resolve({ code: error ? error.code : 0, stdout, stderr });
      },
    );
  });
}

/** Like grpcurl(), but the call must succeed; returns stdout. */
export async function grpcurlOk(args, options) {
  const { code, stdout, stderr } = await grpcurl(args, options);
  assert.equal(code, 0, `grpcurl ${args.join(' ')} failed:\n${stderr}`);
  return stdout;
}
