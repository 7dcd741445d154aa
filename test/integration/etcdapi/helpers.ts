import { spawn, type ChildProcess } from 'node:child_process';
import { MemoryStore } from '../../../control/store/index.js';
import { startEtcdApiServer, type EtcdApiServer } from '../../../control/store/etcdapi/index.js';

export const ETCDCTL = '/usr/bin/etcdctl';

/** A big cluster id, to check 64-bit ids survive the wire (etcd's are random uint64s). */
export const CLUSTER_ID = 0xcafe_f00d_1234_5678n;
export const MEMBER_ID = 0x8e9e_05c5_2164_694dn;

export interface Harness {
  /** Undefined when the harness targets an external etcd. */
  readonly store: MemoryStore | undefined;
  readonly server: EtcdApiServer | undefined;
  readonly endpoint: string;
  /** Runs etcdctl to completion. */
  etcdctl(args: readonly string[], input?: string): Promise<Result>;
  /** Starts a long-running etcdctl (watch, keep-alive); its output accumulates in `lines`. */
  spawnEtcdctl(args: readonly string[]): Running;
  /** Kills every process this harness started (by PID), stops the server, closes the store. */
  close(): Promise<void>;
}

export interface Result {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface Running {
  readonly child: ChildProcess;
  /** stdout so far, split into lines (the last, unfinished line is held back). */
  readonly lines: string[];
  stderr(): string;
  /** Resolves when `lines` has at least n entries; rejects after timeoutMs. */
  waitForLines(n: number, timeoutMs?: number): Promise<string[]>;
  exited: Promise<number | null>;
  kill(): void;
}

/** A Skiff etcd API server over a fresh MemoryStore; or, given `external` ('host:port'), just etcdctl against it. */
export async function startHarness(external?: string): Promise<Harness> {
  const store = external === undefined ? new MemoryStore() : undefined;
  const server = store === undefined ? undefined : await startEtcdApiServer({
    store,
    listen: '127.0.0.1:0',
    cluster: {
      clusterId: CLUSTER_ID,
      memberId: MEMBER_ID,
      name: 'skiff-1',
      peerURLs: ['http://127.0.0.1:2380'],
      clientURLs: ['http://127.0.0.1:2379'],
      members: [
        {
          id: MEMBER_ID,
          name: 'skiff-1',
          peerURLs: ['http://127.0.0.1:2380'],
          clientURLs: ['http://127.0.0.1:2379'],
        },
      ],
    },
    status: () => ({ version: '3.4.0-skiff', dbSize: 4096, leader: MEMBER_ID, raftIndex: store.revision, raftTerm: 1 }),
    raftTerm: () => 1,
  });
  const endpoint = server === undefined ? external! : `127.0.0.1:${server.port}`;
  const children = new Set<ChildProcess>();
  const env = { ...process.env, ETCDCTL_API: '3' };
  const baseArgs = [`--endpoints=${endpoint}`, '--dial-timeout=5s', '--command-timeout=10s'];

  const track = (child: ChildProcess): void => {
    children.add(child);
    child.on('exit', () => children.delete(child));
  };

  return {
    store,
    server,
    endpoint,
    etcdctl(args, input) {
      return new Promise((resolve, reject) => {
        const child = spawn(ETCDCTL, [...baseArgs, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
        track(child);
        let stdout = '';
        let stderr = '';
        child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
        child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
        child.on('error', reject);
        child.on('close', (code) => resolve({ code, stdout, stderr }));
        child.stdin.end(input ?? '');
      });
    },
    spawnEtcdctl(args) {
      const child = spawn(ETCDCTL, [...baseArgs, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      track(child);
      const lines: string[] = [];
      let partial = '';
      let stderr = '';
      const waiters: Array<() => void> = [];
      child.stdout!.setEncoding('utf8').on('data', (d: string) => {
        const parts = (partial + d).split('\n');
        partial = parts.pop()!;
        lines.push(...parts);
        for (const w of waiters.splice(0)) w();
      });
      child.stdout!.on('end', () => {
        if (partial !== '') lines.push(partial);
        partial = '';
        for (const w of waiters.splice(0)) w();
      });
      child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      // 'close' comes after stdout has ended, so `lines` is complete when `exited` resolves.
      const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      return {
        child,
        lines,
        stderr: () => stderr,
        exited,
        waitForLines(n, timeoutMs = 10_000) {
          return new Promise((resolve, reject) => {
            const deadline = setTimeout(
              () => reject(new Error(`timed out waiting for ${n} lines; got ${JSON.stringify(lines)}; stderr ${stderr}`)),
              timeoutMs,
            );
            const check = (): void => {
              if (lines.length >= n) {
                clearTimeout(deadline);
                resolve(lines.slice());
              } else {
                waiters.push(check);
              }
            };
            check();
          });
        },
        kill() {
          if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
        },
      };
    },
    async close() {
      for (const child of children) {
        if (child.pid !== undefined && child.exitCode === null) {
          try {
            process.kill(child.pid, 'SIGKILL');
          } catch {
            // already gone
          }
        }
      }
      children.clear();
      await server?.close();
      await store?.close();
    },
  };
}

/** etcdctl prints lease ids as 16 hex digits. */
export function hexId(id: number | bigint): string {
  return BigInt(id).toString(16).padStart(16, '0');
}
