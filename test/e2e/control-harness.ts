import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { ensureComponentKubeconfig, type ComponentIdentity } from '../../cli/identities.js';
import { loadKubeconfig } from '../../control/client/index.js';
import { eventually, freePort } from '../integration/agent/harness.js';

export const ROOT = resolve(import.meta.dirname, '../..');
export const SKIFF = join(ROOT, 'dist/cli/skiff.js');

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `skiff control` as a real process and the real kubectl against it, with the admin kubeconfig it writes. */
export class ControlPlane {
  private madeDir: string | undefined;
  port = 0;
  private child: ChildProcess | undefined;
  private output = '';

  /**
   * The control plane's files, made on first use: a suite builds its ControlPlane when vitest collects it, and a suite
   * that `-t` filters out entirely never runs its afterAll, so a directory made there would be left behind.
   */
  get dir(): string {
    this.madeDir ??= mkdtempSync(join(tmpdir(), 'skiff-e2e-'));
    return this.madeDir;
  }

  get kubeconfig(): string {
    return join(this.dir, 'data', 'pki', 'admin.kubeconfig');
  }

  private peerPort = 0;

  async start(extraArgs: string[] = []): Promise<this> {
    if (!this.port) this.port = await freePort();
    if (!this.peerPort) this.peerPort = await freePort();
    this.output = '';
    const logFile = join(ROOT, '.tmp', 'e2e-logs', `control-${this.port}.log`);
    mkdirSync(dirname(logFile), { recursive: true });
    const args = [SKIFF, 'control', '--secure-port', String(this.port), '--bind-address', '127.0.0.1', '--data-dir', join(this.dir, 'data'), '--listen-peer-urls', `http://127.0.0.1:${this.peerPort}`, ...extraArgs];
    const child = spawn(process.execPath, args, {
      env: { ...process.env, SKIFF_LOG_FORMAT: 'json' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const append = (d: Buffer): void => {
      this.output += d.toString();
      appendFileSync(logFile, d);
    };
    child.stdout?.on('data', append);
    child.stderr?.on('data', append);
    await eventually(() => this.output.includes('API server listening'), `skiff control to listen (log:\n${this.output.slice(-2000)})`, 60_000);
    return this;
  }

  logs(): string {
    return this.output;
  }

  /**
   * Writes a kubeconfig for another identity than the admin's, signed by this cluster's CA (as `skiff up` does for its
   * agent and proxy): nodeIdentity(name) for an agent that is the node, proxyIdentity() for a proxy.
   */
  async writeKubeconfig(path: string, id: ComponentIdentity): Promise<string> {
    const server = (await loadKubeconfig(this.kubeconfig)).server;
    await ensureComponentKubeconfig(path, join(this.dir, 'data', 'pki'), server, id);
    return path;
  }

  /** kubectl with this cluster's kubeconfig; `bin` picks another kubectl version. */
  kubectl(args: string[], opts: { input?: string; bin?: string; env?: Record<string, string> } = {}): KubectlResult {
    const r = spawnSync(opts.bin ?? 'kubectl', args, {
      env: { ...process.env, KUBECONFIG: this.kubeconfig, ...opts.env },
      input: opts.input,
      encoding: 'utf8',
      timeout: 60_000,
    });
    return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  }

  /** kubectl that must succeed; returns stdout. */
  k(args: string[], opts: { input?: string; bin?: string; env?: Record<string, string> } = {}): string {
    const r = this.kubectl(args, opts);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}${r.stdout}`);
    return r.stdout;
  }

  /**
   * Creates a namespace and waits for its "default" service account: pods are refused until the service account
   * controller has made it (upstream's ServiceAccount admission gives it about a second and a half).
   */
  async namespace(name: string, opts: { bin?: string } = {}): Promise<void> {
    this.k(['create', 'namespace', name], opts);
    await eventually(() => this.kubectl(['get', 'serviceaccount', 'default', '-n', name], opts).code === 0, `the default service account of namespace ${name}`, 90_000);
  }

  writeFile(name: string, text: string): string {
    const path = join(this.dir, name);
    writeFileSync(path, text);
    return path;
  }

  /** Stops the process (SIGTERM, or SIGKILL to simulate a crash), keeping the data dir. */
  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill(signal);
      await exited;
    }
    this.child = undefined;
  }

  async stop(): Promise<void> {
    await this.kill('SIGTERM');
    if (this.madeDir !== undefined) rmSync(this.madeDir, { recursive: true, force: true });
  }
}
