import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../helpers/free-port.js';
export { freePort } from '../../helpers/free-port.js';

/**
 * A throwaway single-member etcd for tests: its own temp data dir, client and peer URLs on free 127.0.0.1 ports,
 * killed by PID and its data dir removed on stop() (and, as a last resort, when the test process exits).
 *
 *   const etcd = await startEtcd();
 *   afterAll(() => etcd.stop());
 *   ... createEtcdStore({ endpoints: etcd.endpoints }) ...
 */
export interface EtcdProcessOptions {
  /** The etcd binary. Default: $ETCD_BIN or 'etcd' on the PATH (Debian's etcd-server installs /usr/bin/etcd). */
  readonly binary?: string;
  /**
   * Raft timing in ms. Defaults 10 / 100: fast start, and a minimum lease TTL of ceil(1.5 * election timeout) = 1 s
   * (etcd raises any smaller TTL to that), so tests can use short leases.
   */
  readonly heartbeatIntervalMs?: number;
  readonly electionTimeoutMs?: number;
  /** etcd's --experimental-watch-progress-notify-interval (default here 10m, etcd's own default). */
  readonly progressNotifyInterval?: string;
  /** How long to wait for the member to answer /health. Default 60 s (generous: CI machines are slow). */
  readonly startTimeoutMs?: number;
  /**
   * Serve clients over TLS (https:// endpoints) with these PEM files; with clientCertAuth etcd also demands a
   * client certificate signed by caFile (then certFile/keyFile double as the health check's client certificate).
   */
  readonly tls?: {
    readonly certFile: string;
    readonly keyFile: string;
    readonly caFile: string;
    readonly clientCertAuth?: boolean;
  };
  /** More command-line flags, appended verbatim. */
  readonly extraArgs?: readonly string[];
}

export interface EtcdProcess {
  /** Client URLs, for createEtcdStore({ endpoints }). */
  readonly endpoints: string[];
  readonly clientUrl: string;
  readonly peerUrl: string;
  readonly name: string;
  readonly dataDir: string;
  /** The current etcd process id (changes on restart()). */
  readonly pid: number;
  /** The tail of etcd's stderr, for diagnosing failures. */
  logs(): string;
  /** Kills the member (SIGTERM, SIGKILL after 5 s) but keeps its data dir; start() brings it back on the same ports. */
  kill(): Promise<void>;
  /** Starts a killed member again with its data (and waits until it answers). */
  start(): Promise<void>;
  /** kill() then start(). */
  restart(): Promise<void>;
  /** Kills the member and removes its data dir. Idempotent. */
  stop(): Promise<void>;
}

const LOG_TAIL_BYTES = 64 * 1024;

/** Processes still running, killed synchronously if the test process exits without stopping them. */
interface Entry {
  child: ChildProcess | undefined;
  watchdog: ChildProcess | undefined;
  readonly dataDir: string;
}
const live = new Set<Entry>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const entry of live) {
      const pid = entry.child?.pid;
      if (pid !== undefined && entry.child?.exitCode === null && entry.child.signalCode === null) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      try {
        rmSync(entry.dataDir, { recursive: true, force: true });
      } catch {
        // best effort
      }
    }
  });
}

interface HealthTls {
  readonly ca: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
}

/** GET <clientUrl>/health answers {"health":"true"} once the member serves requests. */
function healthy(clientUrl: string, tls: HealthTls | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    const url = new URL('/health', clientUrl);
    const tlsOptions = tls === undefined ? {} : { ca: tls.ca, cert: tls.cert, key: tls.key, servername: 'localhost' };
    const options = { timeout: 2_000, ...tlsOptions };
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, options, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        try {
          resolve(res.statusCode === 200 && (JSON.parse(body) as { health?: string }).health === 'true');
        } catch {
          resolve(false);
        }
      });
      res.on('error', () => resolve(false));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(false));
    req.end();
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      resolve(false);
    }, timeoutMs);
    const onExit = () => {
      clearTimeout(timer);
      resolve(true);
    };
    child.once('exit', onExit);
  });
}

export async function startEtcd(options: EtcdProcessOptions = {}): Promise<EtcdProcess> {
  installExitHook();
  const binary = options.binary ?? process.env['ETCD_BIN'] ?? 'etcd';
  const name = `skiff-test-${randomBytes(4).toString('hex')}`;
  const dataDir = await mkdtemp(join(tmpdir(), `${name}-`));
  const entry: Entry = { child: undefined, watchdog: undefined, dataDir };
  live.add(entry);

  const healthTls: HealthTls | undefined =
    options.tls === undefined
      ? undefined
      : {
          ca: readFileSync(options.tls.caFile),
          ...(options.tls.clientCertAuth === true
            ? { cert: readFileSync(options.tls.certFile), key: readFileSync(options.tls.keyFile) }
            : {}),
        };
  const scheme = options.tls === undefined ? 'http' : 'https';
  let logTail = '';
  let clientUrl = '';
  let peerUrl = '';
  let initialized = false;

  const spawnOnce = async (): Promise<void> => {
    const args = [
      `--name=${name}`,
      `--data-dir=${dataDir}`,
      ...(options.tls !== undefined
        ? [
            `--cert-file=${options.tls.certFile}`,
            `--key-file=${options.tls.keyFile}`,
            `--trusted-ca-file=${options.tls.caFile}`,
            `--client-cert-auth=${options.tls.clientCertAuth === true}`,
          ]
        : []),
      `--listen-client-urls=${clientUrl}`,
      `--advertise-client-urls=${clientUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=${name}=${peerUrl}`,
      `--initial-cluster-state=new`,
      `--initial-cluster-token=${name}`,
      `--heartbeat-interval=${options.heartbeatIntervalMs ?? 10}`,
      `--election-timeout=${options.electionTimeoutMs ?? 100}`,
      `--experimental-watch-progress-notify-interval=${options.progressNotifyInterval ?? '10m'}`,
      '--logger=zap',
      '--log-level=warn',
      '--log-outputs=stderr',
      ...(options.extraArgs ?? []),
    ];
    const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    entry.child = child;
    // If this process dies without stopping etcd (a test worker killed on timeout runs no exit handlers), a
    // watchdog shell kills etcd by its pid and removes the data dir within a second.
    if (child.pid !== undefined) {
      const script =
        `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; ` +
        `kill -9 ${child.pid} 2>/dev/null; rm -rf '${dataDir.replaceAll("'", '')}'`;
      const watchdog = spawn('sh', ['-c', script], { stdio: 'ignore' });
      watchdog.on('error', () => {});
      watchdog.unref();
      entry.watchdog = watchdog;
    }
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      logTail = (logTail + chunk).slice(-LOG_TAIL_BYTES);
    });
    const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
    const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(
          `etcd exited early (code ${child.exitCode}, signal ${child.signalCode}):\n${logTail.slice(-4000)}`,
        );
      }
      const failed = await Promise.race([spawnError, sleep(0).then(() => undefined)]);
      if (failed !== undefined) throw new Error(`cannot run ${binary}: ${failed.message}`);
      if (await healthy(clientUrl, healthTls)) return;
      if (Date.now() > deadline) {
        throw new Error(`etcd did not become healthy at ${clientUrl} in time:\n${logTail.slice(-4000)}`);
      }
      await sleep(50);
    }
  };

  const kill = async (): Promise<void> => {
    const child = entry.child;
    if (child === undefined || child.pid === undefined) return;
    if (child.exitCode === null && child.signalCode === null) {
      process.kill(child.pid, 'SIGTERM');
      if (!(await waitForExit(child, 5_000)) && child.exitCode === null && child.signalCode === null) {
        process.kill(child.pid, 'SIGKILL');
        await waitForExit(child, 5_000);
      }
    }
    entry.child = undefined;
    const watchdog = entry.watchdog;
    entry.watchdog = undefined;
    if (watchdog?.pid !== undefined && watchdog.exitCode === null && watchdog.signalCode === null) {
      try {
        process.kill(watchdog.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };

  const start = async (): Promise<void> => {
    if (entry.child !== undefined) throw new Error('etcd is already running');
    if (!existsSync(dataDir)) throw new Error('etcd was stopped; its data dir is gone');
    await spawnOnce();
  };

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    try {
      await kill();
    } finally {
      await rm(dataDir, { recursive: true, force: true });
      live.delete(entry);
    }
  };

  // Free ports can be taken between probing and etcd binding them: try a few times with fresh ports.
  try {
    for (let attempt = 1; !initialized; attempt++) {
      clientUrl = `${scheme}://127.0.0.1:${await freePort()}`;
      peerUrl = `http://127.0.0.1:${await freePort()}`;
      try {
        await spawnOnce();
        initialized = true;
      } catch (error) {
        await kill();
        await rm(dataDir, { recursive: true, force: true });
        const inUse = /address already in use/i.test(logTail);
        if (!inUse || attempt >= 3) throw error;
        logTail = ''; // etcd recreates the (removed) data dir itself
      }
    }
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    get endpoints() {
      return [clientUrl];
    },
    clientUrl,
    peerUrl,
    name,
    dataDir,
    get pid() {
      const pid = entry.child?.pid;
      if (pid === undefined) throw new Error('etcd is not running');
      return pid;
    },
    logs: () => logTail,
    kill,
    start,
    restart: async () => {
      await kill();
      await start();
    },
    stop,
  };
}
