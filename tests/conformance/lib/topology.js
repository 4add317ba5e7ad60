// The distributed topology of issue 14 as separate OS processes on loopback: a
// three-node NATS JetStream cluster, two replicas of each domain service (each
// pair on one fresh database), and three gateways, each pointed at one replica
// of every service (a gateway takes one URL per service), spread over both.
// Every process can be killed (SIGKILL or SIGTERM) and started again on the
// same ports, with the same store directory for a NATS node. Each process logs
// to its own file in one temp directory, printed when a test fails.
//
// Environment: PULSE_BIN and CONFORMANCE_POSTGRES_URL as for lib/suite.js;
// NATS_SERVER (default /usr/sbin/nats-server).

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { dropDatabase, POSTGRES_URL, PULSE_BIN, readyLine, tail } from './suite.js';
import { deadline, TIMED_OUT, until } from './wait.js';

const NATS_SERVER = process.env.NATS_SERVER ?? '/usr/sbin/nats-server';
const READY_TIMEOUT_MS = 60_000;
/** A SIGTERM'd gateway drains for DRAIN_PERIOD, then has at most 5 s more (README). */
const EXIT_TIMEOUT_MS = 15_000;
export const DRAIN_PERIOD_MS = 2_000;
/** Polls answered empty after 5 s: long polls cycle, and so land on other gateways, often. */
export const LONG_POLL_TIMEOUT_MS = 5_000;
/** Short presence settings, so a killed gateway's users leave within seconds. */
export const PRESENCE_TIMEOUT_MS = 6_000;
const HEARTBEAT_INTERVAL = '1s';

/** The four domain services: subcommand, address flag, database flag and pool-size variable. */
const SERVICES = [
  { command: 'lists', readyKey: 'lists', addr: '--lists-addr', database: '--database-url', pool: 'PULSE_DB_MAX_CONNECTIONS' },
  { command: 'lean-coffee', readyKey: 'leanCoffee', addr: '--lean-coffee-addr', database: '--lean-coffee-database-url', pool: 'PULSE_LEAN_COFFEE_DB_MAX_CONNECTIONS' },
  { command: 'coaching', readyKey: 'coaching', addr: '--coaching-addr', database: '--coaching-database-url', pool: 'PULSE_COACHING_DB_MAX_CONNECTIONS' },
  { command: 'tasks', readyKey: 'tasks', addr: '--tasks-addr', database: '--tasks-database-url', pool: 'PULSE_TASKS_DB_MAX_CONNECTIONS' },
];
/** Pool size per replica: 8 service processes share PostgreSQL's 100 connections with other tests. */
const POOL_SIZE = '4';

/**
 * Starts everything and resolves once every process is ready. On failure,
 * whatever had started is stopped before the error is thrown.
 * @returns {Promise<Topology>}
 */
export async function startTopology() {
  for (const binary of [PULSE_BIN, NATS_SERVER]) {
    if (!existsSync(binary)) throw new Error(`no ${binary} (build pulse with \`cargo build -p pulse\`)`);
  }
  const topology = new Topology();
  try {
    await topology.start();
  } catch (error) {
    await topology.stop().catch(() => {});
    throw new Error(`${error.message}\n(logs in ${topology.logDir})`);
  }
  return topology;
}

class Topology {
  id = randomBytes(5).toString('hex');
  logDir = mkdtempSync(path.join(tmpdir(), 'pulse-topology-'));
  secret = randomBytes(32).toString('hex');
  masterKey = `master-${randomBytes(24).toString('hex')}`;
  /** @type {NatsNode[]} */
  nats = [];
  /** Replicas by service command: `services.lists[0]`, `[1]`. @type {Record<string, PulseProcess[]>} */
  services = {};
  /** @type {PulseProcess[]} */
  gateways = [];
  databases = SERVICES.map((service) => `pulse_topo_${service.command.replace('-', '_')}_${this.id}`);

  async start() {
    unstopped.add(this);
    this.nats = await startCluster(this.logDir);
    const shared = {
      PULSE_NATS_URL: this.nats.map((node) => node.url).join(','),
      PULSE_STREAM_REPLICAS: '3',
      PULSE_BUS_NAMESPACE: `topo_${this.id}`,
      PULSE_JWT_SECRET: this.secret,
      PULSE_MASTER_KEY: this.masterKey,
    };
    // Replica 0 of each service creates and migrates its database, then replica 1 joins it.
    for (const index of [0, 1]) {
      await Promise.all(
        SERVICES.map(async (service, i) => {
          const name = `${service.command}-${index + 1}`;
          const args = [service.command, service.addr, '127.0.0.1:0', service.database, `${POSTGRES_URL}/${this.databases[i]}`];
          if (service.command === 'lists') {
            args.push('--presence-timeout', `${PRESENCE_TIMEOUT_MS}ms`, '--presence-sweep-interval', '1s');
          }
          const replica = await startPulse(name, args, { ...shared, [service.pool]: POOL_SIZE }, this.logDir);
          replica.pinAddresses({ [service.addr]: replica.ready[service.readyKey] });
          (this.services[service.command] ??= []).push(replica);
        }),
      );
    }
    this.gateways = await Promise.all(
      [0, 1, 2].map(async (g) => {
        const urls = SERVICES.flatMap((service) => [
          `--${service.command}-url`,
          `http://${this.services[service.command][g % 2].ready[service.readyKey]}`,
        ]);
        const args = [
          'gateway',
          '--gateway-addr', '127.0.0.1:0',
          '--gateway-grpc-addr', '127.0.0.1:0',
          ...urls,
          '--drain-period', `${DRAIN_PERIOD_MS}ms`,
          '--participant-heartbeat-interval', HEARTBEAT_INTERVAL,
          '--long-poll-timeout', `${LONG_POLL_TIMEOUT_MS}ms`,
        ];
        const gateway = await startPulse(`gateway-${g + 1}`, args, shared, this.logDir);
        gateway.pinAddresses({
          '--gateway-addr': new URL(gateway.ready.gateway).host,
          '--gateway-grpc-addr': gateway.ready.gatewayGrpc,
        });
        return gateway;
      }),
    );
  }

  /**
   * Every process that is running now, NATS last (the others publish until they stop); the
   * databases are dropped, and the logs removed unless `keepLogs` or a process failed to stop.
   */
  async stop({ keepLogs = false } = {}) {
    const pulses = [...this.gateways, ...Object.values(this.services).flat()];
    const results = await Promise.allSettled(pulses.map((p) => p.stop()));
    await Promise.allSettled(this.nats.map((node) => node.stop()));
    for (const database of this.databases) await dropDatabase(database).catch(() => {});
    unstopped.delete(this);
    const failed = results.filter((r) => r.status === 'rejected');
    if (failed.length > 0) throw new Error(failed.map((r) => r.reason.message).join('; '));
    if (keepLogs) console.log(`topology logs: ${this.logDir}`);
    else rmSync(this.logDir, { recursive: true, force: true });
  }
}

/**
 * Kills every child still running if the test process itself goes away; when it is told to
 * (the test runner's timeout), also drops the databases of every topology not stopped.
 */
const running = new Set();
const unstopped = new Set();
const killAll = () => {
  for (const child of running) child.kill('SIGKILL');
};
process.once('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, async () => {
    killAll();
    const databases = [...unstopped].flatMap((topology) => topology.databases);
    await Promise.allSettled(databases.map(dropDatabase));
    process.exit(1);
  });
}

/** One child process with its log; `exited` resolves once it has gone (and its output is logged). */
function spawnLogged(binary, args, env, logPath) {
  const log = createWriteStream(logPath, { flags: 'a' });
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  running.add(child);
  child.stderr.pipe(log, { end: false });
  let description = null;
  const exited = new Promise((resolve) => {
    child.once('close', (code, signal) => {
      running.delete(child);
      description = signal ? `killed by ${signal}` : `exit code ${code}`;
      log.end();
      resolve(description);
    });
  });
  return { child, log, exited, description: () => description };
}

/** A process of the topology that can be signalled, stopped, and started again (by its subclass). */
class Member {
  constructor(name, logDir) {
    this.name = name;
    this.logPath = path.join(logDir, `${name}.log`);
    /** The current run (spawnLogged), null before the first start. */
    this.run = null;
  }

  get alive() {
    return this.run !== null && this.run.description() === null;
  }

  /** Sends `signal` and resolves with how the process exited. */
  async signal(signal) {
    this.run.child.kill(signal);
    return this.run.exited;
  }

  /** SIGTERM, SIGKILL after EXIT_TIMEOUT_MS; rejects when SIGTERM was not enough. */
  async stop() {
    if (!this.alive) return;
    this.run.child.kill('SIGTERM');
    if ((await deadline(this.run.exited, EXIT_TIMEOUT_MS)) === TIMED_OUT) {
      await this.signal('SIGKILL');
      throw new Error(`${this.name} did not exit within ${EXIT_TIMEOUT_MS} ms of SIGTERM (${this.logPath})`);
    }
  }
}

/** A `pulse` subcommand; restarts keep the addresses pinned after its first start. */
class PulseProcess extends Member {
  constructor(name, args, env, logDir) {
    super(name, logDir);
    this.args = args;
    this.env = env;
    /** The ready line's addresses. */
    this.ready = null;
  }

  async start() {
    const run = spawnLogged(PULSE_BIN, this.args, { RUST_LOG: process.env.RUST_LOG ?? 'info', ...this.env }, this.logPath);
    this.run = run;
    const spawnFailed = new Promise((_, reject) => run.child.once('error', reject));
    try {
      const ready = await deadline(Promise.race([
        readyLine(run.child, run.log),
        spawnFailed,
        run.exited.then((how) => {
          throw new Error(`${this.name} exited before it was ready (${how})`);
        }),
      ]), READY_TIMEOUT_MS);
      if (ready === TIMED_OUT) throw new Error(`${this.name} printed no ready line within ${READY_TIMEOUT_MS} ms`);
      this.ready = ready;
    } catch (error) {
      run.child.kill('SIGKILL');
      await run.exited;
      throw new Error(`${error.message}; ${this.logPath}:\n${tail(this.logPath, 15)}`);
    }
  }

  /** Replaces each flag's value (port 0) by the address it got, for restarts. */
  pinAddresses(addresses) {
    for (const [flag, address] of Object.entries(addresses)) {
      this.args[this.args.indexOf(flag) + 1] = address;
    }
  }

}

async function startPulse(name, args, env, logDir) {
  const pulse = new PulseProcess(name, args, env, logDir);
  await pulse.start();
  return pulse;
}

/** A port free now (the OS picks it; released before the caller binds it). */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** One nats-server of the cluster, with its own ports and store directory. */
class NatsNode extends Member {
  constructor(name, ports, routes, logDir) {
    super(name, logDir);
    this.ports = ports;
    this.url = `nats://127.0.0.1:${ports.client}`;
    this.storeDir = path.join(logDir, `${name}-store`);
    this.args = [
      '-n', name, '-a', '127.0.0.1', '-p', String(ports.client), '-m', String(ports.monitor),
      '-js', '-sd', this.storeDir,
      '--cluster_name', 'pulse-topo', '--cluster', `nats://127.0.0.1:${ports.cluster}`, '--routes', routes,
    ];
  }

  start() {
    this.run = spawnLogged(NATS_SERVER, this.args, {}, this.logPath);
    this.run.child.stdout.pipe(this.run.log, { end: false });
  }

  /** This node's JetStream view (`/jsz` with `query`), null while it does not answer. */
  async jsz(query = '') {
    try {
      const response = await fetch(`http://127.0.0.1:${this.ports.monitor}/jsz${query}`, { signal: AbortSignal.timeout(2_000) });
      return response.ok ? await response.json() : null;
    } catch {
      return null;
    }
  }

  /** Resolves once this node is up, routed, and sees the cluster's meta leader. */
  async waitCurrent(timeoutMs = 30_000) {
    let leader = null;
    await until(`${this.name} sees a JetStream meta leader (${this.logPath})`, async () => {
      if (!this.alive) throw new Error(`${this.name} exited (${this.run.description()}); ${this.logPath}`);
      leader = (await this.jsz())?.meta_cluster?.leader ?? null;
      return leader !== null;
    }, { timeoutMs, everyMs: 200 });
    return leader;
  }
}

/** Three routed nats-servers; resolves once each sees a JetStream meta leader. */
async function startCluster(logDir) {
  const ports = [];
  for (let i = 0; i < 3; i += 1) {
    ports.push({ client: await freePort(), monitor: await freePort(), cluster: await freePort() });
  }
  const nodes = ports.map((own, i) => {
    const routes = ports.filter((_, j) => j !== i).map((other) => `nats://127.0.0.1:${other.cluster}`).join(',');
    return new NatsNode(`nats-${i + 1}`, own, routes, logDir);
  });
  for (const node of nodes) node.start();
  try {
    await Promise.all(nodes.map((node) => node.waitCurrent()));
  } catch (error) {
    await Promise.allSettled(nodes.map((node) => node.stop()));
    throw error;
  }
  return nodes;
}

/** The value of `metric` (a gauge without labels) on a lists replica's `/metrics` (its gRPC port); null if unreachable. */
export async function listsMetric(replica, metric) {
  try {
    const response = await fetch(`http://${replica.ready.lists}/metrics`, { signal: AbortSignal.timeout(2_000) });
    const text = await response.text();
    const line = text.split('\n').find((l) => l.startsWith(`${metric} `));
    return line === undefined ? null : Number(line.split(' ')[1]);
  } catch {
    return null;
  }
}
