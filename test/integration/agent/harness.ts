import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import Dockerode from 'dockerode';
import type { Pod, PodStatus } from '../../../control/api/index.js';
import { freePort } from '../../helpers/free-port.js';
import { unmountUnder } from '../../../agent/kuberuntime/memory-volume.js';
export { freePort } from '../../helpers/free-port.js';

/** Runs `skiff agent` as a real process against a real dockerd, and removes everything it made afterwards. */

export const ROOT = resolve(import.meta.dirname, '../../..');
export const SKIFF = join(ROOT, 'dist/cli/skiff.js');

export type PodWithStatus = Pod & { status: PodStatus };

/** Polls until `check` returns a value (not undefined/false) or throws after the timeout, with the last error. */
export async function eventually<T>(check: () => Promise<T | undefined | false> | T | undefined | false, what: string, timeoutMs = 90_000, intervalMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}${last ? `: ${last instanceof Error ? last.message : String(last)}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** A /24 inside 10.88.0.0/16 that no docker network uses yet. */
export async function freePodCidr(docker: Dockerode): Promise<string> {
  const nets = await docker.listNetworks();
  const used = new Set<string>();
  for (const n of nets) for (const c of n.IPAM?.Config ?? []) if (c.Subnet) used.add(c.Subnet);
  for (let i = 0; i < 200; i++) {
    const cidr = `10.88.${100 + Math.floor(Math.random() * 150)}.0/24`;
    if (!used.has(cidr)) return cidr;
  }
  throw new Error('no free pod CIDR');
}

export interface AgentOptions {
  /** Extra flags for `skiff agent`. */
  args?: string[];
  /** A KubeletConfiguration file's content. */
  config?: string;
  env?: Record<string, string>;
  docker?: Dockerode;
  /** DOCKER endpoint for a private dockerd, e.g. unix:///tmp/x/docker.sock. */
  runtimeEndpoint?: string;
  /** The skiff command and its own arguments, before the agent flags (default ["agent"]; e.g. a `join` command). */
  command?: string[];
}

const FAST_BACKOFF = `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
crashLoopBackOff:
  initialContainerRestartPeriod: 1s
  maxContainerRestartPeriod: 4s
`;

export class AgentProcess {
  readonly nodeName: string;
  private madeDir: string | undefined;
  readonly docker: Dockerode;
  port = 0;
  /** The node server's TLS port (--port); every agent gets its own so parallel suites never share 10250. */
  securePort = 0;
  podCidr = '';
  private child: ChildProcess | undefined;
  private output = '';
  private readonly opts: AgentOptions;

  constructor(opts: AgentOptions = {}) {
    this.opts = opts;
    this.docker = opts.docker ?? new Dockerode();
    this.nodeName = `skiff-it-${Math.random().toString(36).slice(2, 8)}`;
  }

  /**
   * The agent's files, made on first use: a suite builds its AgentProcess when vitest collects it, and a suite that
   * `-t` filters out entirely never runs its afterAll, so a directory made there would be left behind.
   */
  get dir(): string {
    if (this.madeDir === undefined) {
      this.madeDir = mkdtempSync(join(tmpdir(), 'skiff-it-'));
      mkdirSync(join(this.madeDir, 'manifests'), { recursive: true });
    }
    return this.madeDir;
  }

  get rootDir(): string {
    return join(this.dir, 'root');
  }

  get manifestDir(): string {
    return join(this.dir, 'manifests');
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  logs(): string {
    return this.output;
  }

  async start(): Promise<this> {
    if (!this.port) this.port = await freePort();
    if (!this.securePort) this.securePort = await freePort();
    if (!this.podCidr) this.podCidr = await freePodCidr(this.docker);
    const configPath = join(this.dir, 'config.yaml');
    writeFileSync(configPath, this.opts.config ?? FAST_BACKOFF);
    const args = [
      SKIFF,
      ...(this.opts.command ?? ['agent']),
      '--config',
      configPath,
      '--pod-manifest-path',
      this.manifestDir,
      '--root-dir',
      this.rootDir,
      '--hostname-override',
      this.nodeName,
      '--read-only-port',
      String(this.port),
      '--port',
      String(this.securePort),
      '--address',
      '127.0.0.1',
      '--pod-cidr',
      this.podCidr,
      '--file-check-frequency',
      '2s',
      // The control plane reaches the agent at its node IP: loopback, so that no test traffic uses the host's own
      // network address.
      ...((this.opts.args ?? []).includes('--node-ip') ? [] : ['--node-ip', '127.0.0.1']),
      ...(this.opts.runtimeEndpoint ? ['--container-runtime-endpoint', this.opts.runtimeEndpoint] : []),
      ...(this.opts.args ?? []),
    ];
    const child = spawn(process.execPath, args, { env: { ...process.env, SKIFF_LOG_FORMAT: 'json', ...this.opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    // Every agent's output is kept under .tmp/agent-logs for reading after a failure (CI included).
    const logFile = join(ROOT, '.tmp', 'agent-logs', `${this.nodeName}.log`);
    mkdirSync(dirname(logFile), { recursive: true });
    const append = (d: Buffer): void => {
      this.output += d.toString();
      appendFileSync(logFile, d);
    };
    child.stdout?.on('data', append);
    child.stderr?.on('data', append);
    child.on('exit', (code, signal) => appendFileSync(logFile, `-- agent exited: code=${code} signal=${signal}\n`));
    await eventually(async () => (await fetch(`${this.baseUrl}/healthz`)).ok, `agent ${this.nodeName} /healthz (log:\n${this.output.slice(-2000)})`, 30_000);
    return this;
  }

  /** Stops the process with a signal and waits for it to exit. */
  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill(signal);
    const code = await exited;
    this.child = undefined;
    return code;
  }

  writeManifest(name: string, text: string): void {
    const tmp = join(this.dir, `.${name}.tmp`);
    writeFileSync(tmp, text);
    // A rename is atomic: the agent never reads a half-written file.
    renameSync(tmp, join(this.manifestDir, name));
  }

  removeManifest(name: string): void {
    rmSync(join(this.manifestDir, name), { force: true });
  }

  async pods(): Promise<PodWithStatus[]> {
    const res = await fetch(`${this.baseUrl}/pods`);
    if (!res.ok) throw new Error(`/pods: ${res.status}`);
    return ((await res.json()) as { items: PodWithStatus[] }).items;
  }

  /** The static pod named `name` in the manifest (the agent suffixes the node name). */
  async pod(name: string, namespace = 'default'): Promise<PodWithStatus | undefined> {
    return (await this.pods()).find((p) => p.metadata.name === `${name}-${this.nodeName}` && p.metadata.namespace === namespace);
  }

  async waitPod(name: string, check: (p: PodWithStatus) => boolean, what: string, timeoutMs = 90_000): Promise<PodWithStatus> {
    return eventually(async () => {
      const p = await this.pod(name);
      return p && check(p) ? p : undefined;
    }, `pod ${name}: ${what}`, timeoutMs);
  }

  /** Containers this agent owns in Docker. */
  async containers(all = true): Promise<Dockerode.ContainerInfo[]> {
    return this.docker.listContainers({ all, filters: { label: [`io.skiff.node=${this.nodeName}`] } });
  }

  /** Removes everything the agent made: its process, containers, pod network and directories. */
  async cleanup(): Promise<void> {
    await this.kill('SIGKILL').catch(() => undefined);
    for (const c of await this.containers().catch(() => [])) {
      await this.docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined);
    }
    if (this.podCidr) {
      await this.docker
        .getNetwork(`skiff-${this.podCidr.replace(/[./]/g, '-')}`)
        .remove()
        .catch(() => undefined);
    }
    if (this.madeDir !== undefined) {
      // Memory-backed emptyDirs of pods the killed agent could not tear down are still mounted there.
      await unmountUnder(this.madeDir);
      rmSync(this.madeDir, { recursive: true, force: true });
    }
  }
}

export const isRunningReady = (p: PodWithStatus): boolean =>
  p.status?.phase === 'Running' && (p.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

export function podYaml(name: string, body: string): string {
  return `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\n${body}`;
}

/** Runs a command in a container through Docker's exec (not through the agent): its exit code and its output. */
export async function execIn(docker: Dockerode, id: string, cmd: string[]): Promise<{ code: number; out: string }> {
  const exec = await docker.getContainer(id).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const sink = new PassThrough();
  const chunks: Buffer[] = [];
  sink.on('data', (d: Buffer) => chunks.push(d));
  docker.modem.demuxStream(stream, sink, sink);
  await new Promise<void>((resolve) => stream.on('end', () => resolve()));
  const out = Buffer.concat(chunks).toString('utf8');
  return { code: (await exec.inspect()).ExitCode ?? -1, out };
}

/** The status of a pod's container or init container by name. */
export const statusOf = (p: PodWithStatus, name: string) => [...(p.status.containerStatuses ?? []), ...(p.status.initContainerStatuses ?? [])].find((c) => c.name === name);
/** The Docker ID of a pod's container or init container by name ('' before it has one). */
export const idOf = (p: PodWithStatus, name: string): string => statusOf(p, name)?.containerID?.replace('docker://', '') ?? '';
