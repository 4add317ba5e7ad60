// The real grpcurl binary, for tests that drive a service the way a native
// client or an operator would (CONTRACT §4: reflection, health, bearer auth).
//
// grpcurl: env GRPCURL, default tests/tools/bin/grpcurl (tests/tools/install-grpcurl.sh).

import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
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

/** A streaming grpcurl whose JSON messages are read one by one. */
export function grpcurlStream(args, token) {
  const child = spawn(GRPCURL, ['-plaintext', '-H', `authorization: Bearer ${token}`, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const objects = [];
  const waiters = [];
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  onMessages(child, (object) => {
    objects.push(object);
    while (waiters.length && objects.length) waiters.shift()(objects.shift());
  });
  return {
    /** The next message that is not a heartbeat. */
    async next(timeoutMs = 10_000) {
      for (;;) {
        const message = objects.length
          ? objects.shift()
          : await Promise.race([
              new Promise((resolve) => waiters.push(resolve)),
              new Promise((_, reject) => setTimeout(() => reject(new Error('no stream message in time')), timeoutMs)),
            ]);
        if (!message.heartbeat) return message;
      }
    },
    /** Resolves with grpcurl's error output once the stream ends (the status it ended with). */
    async ended(timeoutMs = 10_000) {
      await Promise.race([
        exited,
        new Promise((_, reject) => setTimeout(() => reject(new Error(`stream still open after ${timeoutMs} ms`)), timeoutMs)),
      ]);
      return stderr;
    },
    stop: () => child.kill('SIGTERM'),
  };
}

/** Calls `onMessage` with each JSON message a streaming grpcurl `child` prints (one per pretty-printed object). */
export function onMessages(child, onMessage) {
  let buffer = '';
  createInterface({ input: child.stdout }).on('line', (line) => {
    buffer += `${line}\n`;
    if (line === '}') {
      const object = JSON.parse(buffer);
      buffer = '';
      onMessage(object);
    }
  });
}
