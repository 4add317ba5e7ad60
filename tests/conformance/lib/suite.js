// Starts one `pulse suite` process (shopping-list, Lean Coffee, coaching and
// task-notification services + gateway) for a test file: every listener on port 0, fresh databases, its own
// bus namespace and JWT secret, so several instances never share state. Its
// stdout and stderr go to a log file under the OS temp dir.
//
// Environment:
//   PULSE_BIN                  the pulse binary (default ../../target/debug/pulse
//                              from this package)
//   CONFORMANCE_POSTGRES_URL   server URL without a database
//                              (default postgres://postgres@127.0.0.1:5432)
//   CONFORMANCE_NATS_URL       (default nats://127.0.0.1:4222)
//   CONFORMANCE_READY_TIMEOUT_MS  how long to wait for the ready line (default 60000)

import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const PULSE_BIN = path.resolve(packageDir, process.env.PULSE_BIN ?? '../../target/debug/pulse');
export const POSTGRES_URL = process.env.CONFORMANCE_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432';
const NATS_URL = process.env.CONFORMANCE_NATS_URL ?? 'nats://127.0.0.1:4222';
const READY_TIMEOUT_MS = Number(process.env.CONFORMANCE_READY_TIMEOUT_MS ?? 60_000);
/** SIGTERM must end the process (the brief's shutdown contract); past this it is killed and stop() fails. */
const EXIT_TIMEOUT_MS = 15_000;

/**
 * Starts `pulse suite` and resolves once it has printed its ready line.
 * `args` are further flags (settings a test file needs, e.g. short timeouts).
 * @returns {Promise<{gateway: string, hubUrl: string, lists: string, leanCoffee: string,
 *   coaching: string, tasks: string, masterKey: string, gatewayGrpc: string, secret: string, logPath: string, exited: () => string | null,
 *   stop: () => Promise<void>}>}
 */
export async function startSuite({ args = [] } = {}) {
  if (!existsSync(PULSE_BIN)) {
    throw new Error(`no pulse binary at ${PULSE_BIN} (build it with \`cargo build -p pulse\` or set PULSE_BIN)`);
  }
  const id = randomBytes(6).toString('hex');
  const database = `pulse_conf_${id}`;
  const leanCoffeeDatabase = `pulse_conf_lc_${id}`;
  const coachingDatabase = `pulse_conf_co_${id}`;
  const tasksDatabase = `pulse_conf_ts_${id}`;
  const databases = [database, leanCoffeeDatabase, coachingDatabase, tasksDatabase];
  const masterKey = `master-${randomBytes(24).toString('hex')}`;
  const secret = randomBytes(32).toString('hex');
  const logPath = path.join(tmpdir(), `pulse-conformance-${id}.log`);
  const log = createWriteStream(logPath);

  const child = spawn(
    PULSE_BIN,
    [
      'suite',
      '--gateway-addr', '127.0.0.1:0',
      '--gateway-grpc-addr', '127.0.0.1:0',
      '--lists-addr', '127.0.0.1:0',
      '--database-url', `${POSTGRES_URL}/${database}`,
      '--lean-coffee-addr', '127.0.0.1:0',
      '--lean-coffee-database-url', `${POSTGRES_URL}/${leanCoffeeDatabase}`,
      '--coaching-addr', '127.0.0.1:0',
      '--coaching-database-url', `${POSTGRES_URL}/${coachingDatabase}`,
      '--tasks-addr', '127.0.0.1:0',
      '--tasks-database-url', `${POSTGRES_URL}/${tasksDatabase}`,
      '--master-key', masterKey,
      '--nats-url', NATS_URL,
      '--bus-namespace', `conf_${id}`,
      '--jwt-secret', secret,
      ...args,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'info' } },
  );
  child.stderr.pipe(log, { end: false });

  let exitDescription = null;
  // 'close', not 'exit': only then has all of the child's stderr been handed to the log, so
  // ending the log afterwards never meets a late write (ERR_STREAM_WRITE_AFTER_END).
  const exited = new Promise((resolve) => {
    child.once('close', (code, signal) => {
      exitDescription = signal ? `killed by ${signal}` : `exit code ${code}`;
      resolve();
    });
  });
  const spawnFailed = new Promise((_, reject) => child.once('error', reject));

  let ready;
  try {
    ready = await Promise.race([
      readyLine(child, log),
      spawnFailed,
      exited.then(() => {
        throw new Error(`pulse exited before it was ready (${exitDescription})`);
      }),
      timeout(READY_TIMEOUT_MS, `pulse printed no ready line within ${READY_TIMEOUT_MS} ms`),
    ]);
  } catch (error) {
    child.kill('SIGKILL');
    await exited;
    log.end();
    await dropDatabases(databases).catch(() => {});
    throw new Error(`${error.message}; log ${logPath}:\n${tail(logPath)}`);
  }

  let stopping = null;
  const stop = () => {
    stopping ??= (async () => {
      if (exitDescription === null) child.kill('SIGTERM');
      const inTime = await Promise.race([exited.then(() => true), delay(EXIT_TIMEOUT_MS).then(() => false)]);
      if (!inTime) {
        child.kill('SIGKILL');
        await exited;
      }
      log.end();
      await dropDatabases(databases);
      if (!inTime) throw new Error(`pulse did not exit within ${EXIT_TIMEOUT_MS} ms of SIGTERM (log ${logPath})`);
    })();
    return stopping;
  };

  return {
    gateway: ready.gateway,
    hubUrl: `${ready.gateway}/hubs/shopping-list`,
    lists: ready.lists,
    leanCoffee: ready.leanCoffee,
    coaching: ready.coaching,
    tasks: ready.tasks,
    masterKey,
    gatewayGrpc: ready.gatewayGrpc,
    secret,
    logPath,
    exited: () => exitDescription,
    stop,
  };
}

/** Resolves with the first stdout line that is `{"ready":true,...}`; every stdout line is logged too. */
export function readyLine(child, log) {
  return new Promise((resolve) => {
    const lines = createInterface({ input: child.stdout });
    let found = false;
    lines.on('line', (line) => {
      log.write(`[stdout] ${line}\n`);
      if (found) return;
      let parsed;
      try {
        parsed = JSON.parse(line);
      } catch {
        return;
      }
      if (parsed?.ready === true) {
        found = true;
        resolve(parsed);
      }
    });
  });
}

async function dropDatabases(databases) {
  for (const database of databases) await dropDatabase(database);
}

export async function dropDatabase(database) {
  const url = new URL(POSTGRES_URL);
  const env = { ...process.env };
  if (url.password) env.PGPASSWORD = decodeURIComponent(url.password);
  await promisify(execFile)(
    'psql',
    [
      '-h', url.hostname,
      '-p', url.port || '5432',
      '-U', decodeURIComponent(url.username || 'postgres'),
      '-d', 'postgres',
      '-v', 'ON_ERROR_STOP=1',
      '-c', `DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`,
    ],
    { env },
  );
}

export function tail(file, lines = 40) {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(log unreadable)';
  }
}

function delay(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

function timeout(ms, message) {
  return delay(ms).then(() => {
    throw new Error(message);
  });
}
