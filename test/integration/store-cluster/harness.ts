import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Etcd3 } from 'etcd3';
import { freePort } from '../../helpers/free-port.js';
export { freePort } from '../../helpers/free-port.js';

export const ROOT = resolve(import.meta.dirname, '../../..');
export const ENTRY = join(ROOT, 'dist/control/store/cli-main.js');
export const HEARTBEAT_MS = 100;
export const ELECTION_MS = 1000;

const run = promisify(execFile);

/** Compiles only what `skiff store` needs (control/store/cli-main.ts and its imports) into dist/. */
export async function buildEntry(): Promise<void> {
  try {
    await run('npx', ['tsc', '-p', 'test/integration/store-cluster/tsconfig.build.json'], { cwd: ROOT, timeout: 180_000 });
  } catch (err) {
    throw new Error(`building the store entry failed: ${(err as { stdout?: string }).stdout ?? String(err)}`);
  }
  if (!existsSync(ENTRY)) throw new Error(`${ENTRY} missing after the build`);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function poll<T>(fn: () => Promise<T | undefined>, what: string, timeoutMs = 20_000, everyMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    await sleep(everyMs);
  }
}

export class Member {
  proc: ChildProcess | undefined;
  logs = '';
  exit: Promise<number | null> | undefined;
  client: Etcd3 | undefined;
  /** Learned from the member's status header. */
  memberIdCache: string | undefined;
  /** Serve clients over https:// with these PEM files (etcd's --cert-file and friends); the test client uses them too. */
  clientTls: { readonly caFile: string; readonly certFile: string; readonly keyFile: string; readonly clientCertAuth: boolean } | undefined;
  /** Peer traffic over https:// with these PEM files (--peer-cert-file, --peer-key-file, --peer-trusted-ca-file). */
  peerTls: { readonly caFile: string; readonly certFile: string; readonly keyFile: string } | undefined;
  /** Serve /metrics and /health on http://127.0.0.1:<this> (--listen-metrics-urls). */
  metricsPort: number | undefined;

  get peerUrl(): string {
    return `${this.peerTls === undefined ? 'http' : 'https'}://127.0.0.1:${this.peerPort}`;
  }

  constructor(
    readonly name: string,
    readonly peerPort: number,
    readonly clientPort: number,
    readonly dataDir: string,
    private readonly initialCluster: string,
    private readonly pids: Set<number>,
  ) {}

  get endpoint(): string {
    return `127.0.0.1:${this.clientPort}`;
  }

  get clientUrl(): string {
    return `${this.clientTls === undefined ? 'http' : 'https'}://${this.endpoint}`;
  }

  private newClient(): Etcd3 {
    const tls = this.clientTls;
    return new Etcd3({
      hosts: this.clientUrl,
      dialTimeout: 3000,
      ...(tls === undefined
        ? {}
        : {
            credentials: {
              rootCertificate: readFileSync(tls.caFile),
              certChain: readFileSync(tls.certFile),
              privateKey: readFileSync(tls.keyFile),
            },
          }),
    });
  }

  start(extra: readonly string[] = []): void {
    const args = [
      ENTRY,
      '--name', this.name,
      '--data-dir', this.dataDir,
      '--initial-cluster', this.initialCluster,
      '--listen-peer-urls', this.peerUrl,
      ...(this.peerTls === undefined
        ? []
        : ['--peer-cert-file', this.peerTls.certFile, '--peer-key-file', this.peerTls.keyFile, '--peer-trusted-ca-file', this.peerTls.caFile, '--peer-client-cert-auth']),
      '--listen-client-urls', this.clientUrl,
      ...(this.clientTls === undefined
        ? []
        : [
            '--cert-file', this.clientTls.certFile,
            '--key-file', this.clientTls.keyFile,
            '--trusted-ca-file', this.clientTls.caFile,
            ...(this.clientTls.clientCertAuth ? ['--client-cert-auth'] : []),
          ]),
      ...(this.metricsPort === undefined ? [] : ['--listen-metrics-urls', `http://127.0.0.1:${this.metricsPort}`]),
      '--heartbeat-interval', String(HEARTBEAT_MS),
      '--election-timeout', String(ELECTION_MS),
      '--snapshot-count', '50',
      '--snapshot-catchup-entries', '10',
      '--wal-segment-size', '16384',
      ...extra,
    ];
    const proc = spawn(process.execPath, args, { env: { ...process.env, SKIFF_LOG_FORMAT: 'json' }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    if (proc.pid !== undefined) this.pids.add(proc.pid);
    proc.stdout!.setEncoding('utf8').on('data', (d: string) => (this.logs += d));
    proc.stderr!.setEncoding('utf8').on('data', (d: string) => (this.logs += d));
    this.exit = new Promise((r) => proc.on('exit', (code) => {
      if (proc.pid !== undefined) this.pids.delete(proc.pid);
      r(code);
    }));
    this.client?.close();
    this.client = this.newClient();
  }

  /** SIGKILL by PID; waits for the exit. */
  async kill(): Promise<void> {
    const proc = this.proc;
    if (proc?.pid === undefined || proc.exitCode !== null) return;
    process.kill(proc.pid, 'SIGKILL');
    await this.exit;
  }

  async status(): Promise<{ memberId: string; leader: string; raftIndex: number; raftTerm: number; applied: number }> {
    let s;
    try {
      s = await this.client!.maintenance.status();
    } catch (err) {
      // The etcd3 client opens its circuit breaker after failed dials while the member starts, and keeps failing
      // fast long after the member answers: start over with a fresh client, and let the caller's poll retry.
      if (err instanceof Error && /circuit breaker/i.test(err.message)) {
        this.client?.close();
        this.client = this.newClient();
      }
      throw err;
    }
    return {
      memberId: s.header.member_id,
      leader: s.leader,
      raftIndex: Number(s.raftIndex),
      raftTerm: Number(s.raftTerm),
      applied: Number((s as unknown as { raftAppliedIndex?: string }).raftAppliedIndex ?? s.raftIndex),
    };
  }

  async walSegments(): Promise<string[]> {
    return (await readdir(join(this.dataDir, 'wal'))).filter((n) => n.endsWith('.wal')).sort();
  }

  logTail(n = 30): string {
    return this.logs.split('\n').slice(-n).join('\n');
  }
}

export class ProcCluster {
  readonly members: Member[] = [];
  readonly pids = new Set<number>();

  private constructor(readonly root: string) {}

  /** `peerScheme` https: give every member `peerTls` before starting it. */
  static async create(names: readonly string[], peerScheme: 'http' | 'https' = 'http'): Promise<ProcCluster> {
    const root = await mkdtemp(join(tmpdir(), 'skiff-store-cluster-'));
    const c = new ProcCluster(root);
    const ports: Array<{ peer: number; client: number }> = [];
    for (const _ of names) ports.push({ peer: await freePort(), client: await freePort() });
    const spec = names.map((n, i) => `${n}=${peerScheme}://127.0.0.1:${ports[i]!.peer}`).join(',');
    for (const [i, n] of names.entries()) {
      const m = new Member(n, ports[i]!.peer, ports[i]!.client, join(root, n), spec, c.pids);
      m.metricsPort = await freePort();
      c.members.push(m);
    }
    return c;
  }

  member(memberId: string): Member | undefined {
    return this.members.find((m) => m.memberIdCache === memberId);
  }

  /** The leader every running member in `among` reports (member ids are learned from their status headers). */
  async leader(among: readonly Member[], timeoutMs = 20_000): Promise<Member> {
    return poll(
      async () => {
        const st = await Promise.all(among.map((m) => m.status()));
        st.forEach((s, i) => (among[i]!.memberIdCache = s.memberId));
        const lead = st[0]!.leader;
        if (lead === '0' || !st.every((s) => s.leader === lead)) return undefined;
        return among.find((m) => m.memberIdCache === lead);
      },
      'a leader all members agree on',
      timeoutMs,
    );
  }

  /** Kills every process still running, by PID, and removes the temp dir. */
  async close(): Promise<void> {
    for (const m of this.members) m.client?.close();
    for (const pid of [...this.pids]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await Promise.all(this.members.map((m) => m.exit));
    await rm(this.root, { recursive: true, force: true });
  }
}

