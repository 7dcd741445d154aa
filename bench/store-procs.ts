import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { freePort, onCleanup, onExit, pollUntil } from './util.js';

/**
 * Store clusters for the store bench: etcd 3.4 (Debian's binary) or `skiff store`, 1 or 3 members on 127.0.0.1,
 * each member with its own data dir under one temp root. Every process is killed by its PID and the root removed on
 * stop(), on Ctrl-C (bench cleanups) and, as a last resort, when the bench process exits.
 */

export type StoreKind = 'etcd' | 'skiff';

export interface StoreProcOptions {
  /** The etcd binary (default $ETCD_BIN or /usr/bin/etcd). */
  etcdBin: string;
  /** The skiff.js to run `store` with. */
  skiff: string;
  heartbeatMs: number;
  electionMs: number;
}

export class StoreMemberProc {
  child: ChildProcess | undefined;
  exited = false;
  /** Learned from the member's status header once the cluster is up. */
  memberId = '';

  constructor(
    readonly name: string,
    readonly peerPort: number,
    readonly clientPort: number,
    readonly dataDir: string,
    readonly logPath: string,
  ) {}

  get endpoint(): string {
    return `http://127.0.0.1:${this.clientPort}`;
  }

  get pid(): number {
    const pid = this.child?.pid;
    if (pid === undefined || this.exited) throw new Error(`member ${this.name} is not running`);
    return pid;
  }

  logTail(n = 20): string {
    return existsSync(this.logPath) ? readFileSync(this.logPath, 'utf8').split('\n').slice(-n).join('\n') : '';
  }
}

export class StoreCluster {
  readonly members: StoreMemberProc[] = [];
  private removeCleanup: (() => Promise<void>) | undefined;
  private readonly exitHooks: Array<() => void> = [];

  private constructor(
    readonly kind: StoreKind,
    readonly root: string,
  ) {}

  get label(): string {
    return `${this.kind} x${this.members.length}`;
  }

  /** Starts `size` members and waits until every member answers and agrees on a leader. */
  static async start(kind: StoreKind, size: number, opts: StoreProcOptions): Promise<StoreCluster> {
    const root = mkdtempSync(join(tmpdir(), `skiff-bench-store-${kind}-`));
    const c = new StoreCluster(kind, root);
    c.removeCleanup = onCleanup(`${kind} x${size} processes and data dirs`, () => c.stopNow());
    try {
      const names = Array.from({ length: size }, (_, i) => `${kind}${i + 1}`);
      for (const name of names) {
        const dir = join(root, name);
        c.members.push(new StoreMemberProc(name, await freePort(), await freePort(), join(dir, 'data'), join(dir, 'log')));
        mkdirSync(dir, { recursive: true });
      }
      const initialCluster = c.members.map((m) => `${m.name}=http://127.0.0.1:${m.peerPort}`).join(',');
      for (const m of c.members) c.spawn(m, initialCluster, opts);
      await c.waitLeader(60_000);
      return c;
    } catch (err) {
      const tails = c.members.map((m) => `--- ${m.name} log:\n${m.logTail()}`).join('\n');
      await c.stop();
      throw new Error(`${err instanceof Error ? err.message : String(err)}\n${tails}`);
    }
  }

  private spawn(m: StoreMemberProc, initialCluster: string, opts: StoreProcOptions): void {
    const peer = `http://127.0.0.1:${m.peerPort}`;
    const client = m.endpoint;
    // Production settings apart from the addresses: same Raft timing on both sides, default snapshot counts.
    const common = [
      `--name=${m.name}`,
      `--data-dir=${m.dataDir}`,
      `--initial-cluster=${initialCluster}`,
      `--listen-peer-urls=${peer}`,
      `--listen-client-urls=${client}`,
      `--advertise-client-urls=${client}`,
      `--heartbeat-interval=${opts.heartbeatMs}`,
      `--election-timeout=${opts.electionMs}`,
      `--initial-cluster-token=bench-${this.kind}`,
      '--initial-cluster-state=new',
    ];
    const fd = openSync(m.logPath, 'a');
    let child: ChildProcess;
    if (this.kind === 'etcd') {
      child = spawn(opts.etcdBin, [...common, `--initial-advertise-peer-urls=${peer}`, '--logger=zap', '--log-level=warn', '--log-outputs=stderr'], {
        stdio: ['ignore', fd, fd],
      });
    } else {
      // SKIFF_BENCH_STORE_NODE_ARGS: extra node flags for the skiff members (e.g. --cpu-prof --cpu-prof-dir=DIR).
      const nodeArgs = (process.env.SKIFF_BENCH_STORE_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
      child = spawn(process.execPath, [...nodeArgs, opts.skiff, 'store', ...common, '--log-level=warn'], {
        env: { ...process.env, SKIFF_LOG_FORMAT: 'json' },
        stdio: ['ignore', fd, fd],
      });
    }
    closeSync(fd);
    m.child = child;
    child.once('exit', () => (m.exited = true));
    child.once('error', () => (m.exited = true));
    this.exitHooks.push(
      onExit(() => {
        if (!m.exited && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
      }),
    );
  }

  /** Every member answers Status and they all name the same leader; records member ids. Returns the leader. */
  async waitLeader(timeoutMs: number): Promise<StoreMemberProc> {
    const clients = this.members.map((m) => new Etcd3({ hosts: m.endpoint, dialTimeout: 2000 }));
    try {
      return await pollUntil(
        async () => {
          for (const m of this.members) if (m.exited) throw new Error(`${m.name} exited early`);
          const st = await Promise.all(clients.map((c) => c.maintenance.status()));
          st.forEach((s, i) => ((this.members[i] as StoreMemberProc).memberId = s.header.member_id));
          const lead = st[0]?.leader;
          if (!lead || lead === '0' || !st.every((s) => s.leader === lead)) return undefined;
          return this.members.find((m) => m.memberId === lead);
        },
        `${this.label}: a leader every member agrees on`,
        50,
        timeoutMs,
      );
    } finally {
      for (const c of clients) c.close();
    }
  }

  /** SIGTERM by PID, SIGKILL after 5 s; then removes the data dirs. */
  private async stopNow(): Promise<void> {
    await Promise.all(
      this.members.map(async (m) => {
        const child = m.child;
        if (child?.pid === undefined || m.exited) return;
        const done = new Promise<void>((r) => child.once('exit', () => r()));
        process.kill(child.pid, 'SIGTERM');
        const timer = setTimeout(() => {
          if (!m.exited && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
        }, 5000);
        await done;
        clearTimeout(timer);
      }),
    );
    for (const h of this.exitHooks) h();
    rmSync(this.root, { recursive: true, force: true });
  }

  async stop(): Promise<void> {
    const r = this.removeCleanup;
    this.removeCleanup = undefined;
    if (r) await r();
    else await this.stopNow();
  }
}

/** The first lines a member logged (the bench runs members at log level warn, so anything here is a warning). */
export function logWarnings(m: StoreMemberProc): string[] {
  if (!existsSync(m.logPath)) return [];
  return readFileSync(m.logPath, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .slice(0, 5);
}
