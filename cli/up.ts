// `skiff up`: a one-node cluster on this machine. Makes sure Docker answers (installing and starting it when missing),
// builds the local images, starts `skiff control` (embedded single-member store), `skiff agent` and `skiff proxy` as
// detached processes (logs in <data-dir>/logs, PIDs in <data-dir>/run), merges a `skiff` context into the user's
// kubeconfig the way kind does, and waits until the node is Ready. `skiff down` (cli/down.ts) undoes it.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, fstatSync, openSync, readFileSync, rmSync } from 'node:fs';
import { chmod, chown, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { homedir, hostname } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { KubeClient, loadKubeconfig, type KubeObject } from '../control/client/index.js';
import { controlProcessEnv } from '../control/memory.js';
import { parseCommandFlags } from '../lib/command-flags.js';
import { execRunner } from '../proxy/exec.js';
import { DEFAULT_SERVICE_CLUSTER_IP_RANGE, ensureLinkRoutes, SERVICE_ROUTE_DEVICE } from '../proxy/service-route.js';
import { recordHostSysctls } from './host-sysctls.js';
import { agentKubeconfigPath, ensureComponentKubeconfig, nodeIdentity, proxyIdentity, proxyKubeconfigPath } from './identities.js';

export const DEFAULT_DATA_DIR = '/var/lib/skiff';
export const CONTEXT_NAME = 'skiff';
export const DAEMONS = ['control', 'agent', 'proxy'] as const;
export type Daemon = (typeof DAEMONS)[number];

/** The package root (dist/cli/up.js → ../..) and the skiff entry point next to this file. */
export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const SKIFF_JS = fileURLToPath(new URL('./skiff.js', import.meta.url));

/** What `skiff up` chose; saved in <data-dir>/skiff-up.json so a later `up` or `down` uses the same values. */
export interface UpSettings {
  dataDir: string;
  /** The user's kubeconfig the `skiff` context was merged into. */
  kubeconfig: string;
  securePort: number;
  /** The pods' range (--cluster-cidr of the control plane and the proxy); each node gets a /24 of it. */
  clusterCIDR: string;
  readOnlyPort: number;
  nodeName: string;
  controlArgs: string[];
  agentArgs: string[];
  proxyArgs: string[];
}

export const settingsPath = (dataDir: string): string => join(dataDir, 'skiff-up.json');
export const pidPath = (dataDir: string, d: Daemon): string => join(dataDir, 'run', `${d}.pid`);
export const logPath = (dataDir: string, d: Daemon): string => join(dataDir, 'logs', `${d}.log`);
export const adminKubeconfigPath = (dataDir: string): string => join(dataDir, 'control', 'pki', 'admin.kubeconfig');
export const dockerStateDir = (dataDir: string): string => join(dataDir, 'docker');

export function step(msg: string): void {
  process.stderr.write(`==> ${msg}\n`);
}
export function note(msg: string): void {
  process.stderr.write(`    ${msg}\n`);
}

// ---------------------------------------------------------------------------------------------------------------
// kubeconfig: where it lives, merging the skiff entries in and taking them out (pure functions, unit-tested)

/**
 * The kubeconfig file to write, as kind picks it: --kubeconfig, else the first existing file of $KUBECONFIG (or its
 * first entry when none exists yet), else ~/.kube/config.
 */
export function userKubeconfigPath(flag: string | undefined, env: NodeJS.ProcessEnv = process.env, home = homedir(), exists: (p: string) => boolean = existsSync): string {
  if (flag) return resolve(flag);
  const list = (env.KUBECONFIG ?? '').split(delimiter).filter(Boolean);
  if (list.length) return resolve(list.find((p) => exists(p)) ?? (list[0] as string));
  return join(home, '.kube', 'config');
}

/** The cluster and credentials to merge, with the certificates embedded (base64 PEM), so it works from anywhere. */
export interface KubeconfigEntry {
  server: string;
  certificateAuthorityData: string;
  clientCertificateData: string;
  clientKeyData: string;
}

type Named = { name?: unknown } & Record<string, unknown>;

function namedList(v: unknown): Named[] {
  return Array.isArray(v) ? (v.filter((x) => x !== null && typeof x === 'object') as Named[]) : [];
}

function upsert(list: Named[], item: Named): Named[] {
  const i = list.findIndex((x) => x.name === item.name);
  if (i < 0) return [...list, item];
  const out = [...list];
  out[i] = item;
  return out;
}

/**
 * Merges cluster, user and context `name` into an existing kubeconfig (an object parsed from YAML, or nothing),
 * replacing entries of that name, keeping every other entry and field, and making `name` the current context.
 * Does not modify its input.
 */
export function mergeKubeconfig(existing: unknown, entry: KubeconfigEntry, name = CONTEXT_NAME): Record<string, unknown> {
  const base: Record<string, unknown> = existing !== null && typeof existing === 'object' && !Array.isArray(existing) ? { ...(existing as Record<string, unknown>) } : {};
  const out: Record<string, unknown> = { apiVersion: base.apiVersion ?? 'v1', kind: base.kind ?? 'Config', ...base };
  out.clusters = upsert(namedList(base.clusters), { name, cluster: { server: entry.server, 'certificate-authority-data': entry.certificateAuthorityData } });
  out.users = upsert(namedList(base.users), { name, user: { 'client-certificate-data': entry.clientCertificateData, 'client-key-data': entry.clientKeyData } });
  out.contexts = upsert(namedList(base.contexts), { name, context: { cluster: name, user: name } });
  out['current-context'] = name;
  if (out.preferences === undefined) out.preferences = {};
  return out;
}

/**
 * Takes cluster, user and context `name` out of a kubeconfig, keeping everything else; a current-context of `name`
 * is cleared (as `kind delete cluster` does). `changed` tells whether there was anything to remove.
 */
export function removeFromKubeconfig(existing: unknown, name = CONTEXT_NAME): { config: Record<string, unknown>; changed: boolean } {
  if (existing === null || typeof existing !== 'object' || Array.isArray(existing)) return { config: {}, changed: false };
  const base = existing as Record<string, unknown>;
  const out: Record<string, unknown> = { ...base };
  let changed = false;
  for (const key of ['clusters', 'users', 'contexts'] as const) {
    if (!Array.isArray(base[key])) continue;
    const kept = namedList(base[key]).filter((x) => x.name !== name);
    if (kept.length !== (base[key] as unknown[]).length) changed = true;
    out[key] = kept;
  }
  if (base['current-context'] === name) {
    out['current-context'] = '';
    changed = true;
  }
  return { config: out, changed };
}

/** Reads an admin kubeconfig (file paths or data) and returns its current context with the certificates embedded. */
export async function embeddedEntry(adminKubeconfig: string): Promise<KubeconfigEntry> {
  const conn = await loadKubeconfig(adminKubeconfig);
  if (!conn.ca || !conn.cert || !conn.key) throw new Error(`${adminKubeconfig}: expected a CA, a client certificate and a key`);
  const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
  return { server: conn.server, certificateAuthorityData: b64(conn.ca), clientCertificateData: b64(conn.cert), clientKeyData: b64(conn.key) };
}

export async function readKubeconfigFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const doc = (parseYaml(text) as unknown) ?? undefined;
  if (doc !== undefined && (typeof doc !== 'object' || Array.isArray(doc))) throw new Error(`${path}: not a kubeconfig (expected a mapping)`);
  return doc;
}

/**
 * Writes a kubeconfig atomically with mode 0600 (it holds a private key). `owner` (the user behind sudo) gets the
 * file, and the directory when this call creates it, so that their kubectl can read it; an existing file keeps its owner.
 */
export async function writeKubeconfigFile(path: string, config: Record<string, unknown>, owner?: { uid: number; gid: number }): Promise<void> {
  const dir = dirname(path);
  const created = !existsSync(dir);
  // Rewriting someone's file keeps it theirs.
  if (!owner && existsSync(path)) {
    const st = await stat(path);
    owner = { uid: st.uid, gid: st.gid };
  }
  await mkdir(dir, { recursive: true });
  if (created && owner) await chown(dir, owner.uid, owner.gid);
  const tmp = `${path}.skiff-${process.pid}.tmp`;
  await writeFile(tmp, stringifyYaml(config), { mode: 0o600 });
  await chmod(tmp, 0o600);
  if (owner) await chown(tmp, owner.uid, owner.gid);
  await rename(tmp, path);
}

/**
 * Under sudo (SUDO_USER set, no --kubeconfig, no $KUBECONFIG), the kubeconfig to write is the invoking user's
 * ~/.kube/config, owned by them: root's own file would be of no use to their kubectl.
 */
export function sudoUser(
  env: NodeJS.ProcessEnv = process.env,
  passwd = (): string => readFileSync('/etc/passwd', 'utf8'),
  uid = process.getuid?.(),
): { home: string; uid: number; gid: number } | undefined {
  const name = env.SUDO_USER;
  if (!name || name === 'root' || uid !== 0) return undefined;
  let text: string;
  try {
    text = passwd();
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f[0] === name && f.length >= 6) {
      const uid = Number(f[2]);
      const gid = Number(f[3]);
      if (Number.isInteger(uid) && Number.isInteger(gid) && f[5]) return { home: f[5], uid, gid };
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// daemon processes

/** Whether a /proc/<pid>/cmdline (NUL-separated) runs `skiff <daemon>` (node …/skiff.js <daemon>, or skiff <daemon>). */
export function isSkiffDaemonCmdline(cmdline: string, daemon: Daemon): boolean {
  const args = cmdline.split('\0').filter((a) => a !== '');
  for (let i = 0; i + 1 < args.length; i++) {
    const base = (args[i] as string).split('/').pop() ?? '';
    if ((base === 'skiff' || base === 'skiff.js') && args[i + 1] === daemon) return true;
  }
  return false;
}

export function readPidFile(path: string): number | undefined {
  try {
    const pid = Number(readFileSync(path, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** True while `pid` lives (not a zombie) and is `skiff <daemon>`: a reused PID is never taken for ours. */
export function isDaemonAlive(pid: number, daemon: Daemon): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'Z' || state === 'X') return false;
    return isSkiffDaemonCmdline(readFileSync(`/proc/${pid}/cmdline`, 'utf8'), daemon);
  } catch {
    return false;
  }
}

/** The PID of the running daemon from its PID file, if any. */
export function runningDaemon(dataDir: string, daemon: Daemon): number | undefined {
  const pid = readPidFile(pidPath(dataDir, daemon));
  return pid !== undefined && isDaemonAlive(pid, daemon) ? pid : undefined;
}

/** The kube-dns Service IP and the cluster domain, kubeadm's defaults: the agent writes them into pods' resolv.conf. */
export const CLUSTER_DNS_IP = '10.96.0.10';
export const CLUSTER_DOMAIN = 'cluster.local';
const DNS_FLAGS = ['--cluster-dns', CLUSTER_DNS_IP, '--cluster-domain', CLUSTER_DOMAIN];

/**
 * The kube-dns Service as kubeadm's CoreDNS add-on names it (kube-system/kube-dns, 10.96.0.10, ports dns, dns-tcp and
 * metrics), without a selector: on every node the proxy serves this IP's port 53 itself, so kubectl and pods see the
 * usual Service while no DNS pods run.
 */
export function kubeDnsService(): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'kube-dns', namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns', 'kubernetes.io/cluster-service': 'true', 'kubernetes.io/name': 'CoreDNS' } },
    spec: {
      type: 'ClusterIP',
      clusterIP: CLUSTER_DNS_IP,
      ports: [
        { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
        { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
        { name: 'metrics', port: 9153, protocol: 'TCP', targetPort: 9153 },
      ],
    },
  } as KubeObject;
}

async function ensureKubeDnsService(client: KubeClient): Promise<void> {
  const ref = { group: '', version: 'v1', resource: 'services' };
  try {
    await client.get(ref, 'kube-system', 'kube-dns');
    return;
  } catch (err) {
    if ((err as { code?: number }).code !== 404) throw err;
  }
  try {
    await client.create(ref, 'kube-system', kubeDnsService());
  } catch (err) {
    if ((err as { code?: number }).code !== 409) throw err;
  }
}

export const DEFAULT_CLUSTER_CIDR = '10.244.0.0/16';

/**
 * Each daemon's flags. The agent and the proxy use their own identities (cli/identities.ts), never the admin's; the
 * agent takes its pod range from its Node's spec.podCIDR, which the control plane cuts from --cluster-cidr.
 */
export function daemonArgs(s: UpSettings, d: Daemon): string[] {
  switch (d) {
    case 'control':
      return ['--data-dir', join(s.dataDir, 'control'), '--secure-port', String(s.securePort), '--cluster-cidr', s.clusterCIDR, ...s.controlArgs];
    case 'agent':
      return ['--kubeconfig', agentKubeconfigPath(s.dataDir), '--root-dir', join(s.dataDir, 'agent'), '--hostname-override', s.nodeName, '--read-only-port', String(s.readOnlyPort), ...DNS_FLAGS, ...s.agentArgs];
    case 'proxy':
      return ['--kubeconfig', proxyKubeconfigPath(s.dataDir), '--hostname-override', s.nodeName, '--cluster-cidr', s.clusterCIDR, '--service-cluster-ip-range', serviceRange(s), ...DNS_FLAGS, ...s.proxyArgs];
  }
}

/** The control plane's Service range: its default unless a --control-arg sets it. */
export function serviceRange(s: Pick<UpSettings, 'controlArgs'>): string {
  let range = DEFAULT_SERVICE_CLUSTER_IP_RANGE;
  s.controlArgs.forEach((a, i) => {
    if (a.startsWith('--service-cluster-ip-range=')) range = a.slice(a.indexOf('=') + 1);
    else if (a === '--service-cluster-ip-range' && s.controlArgs[i + 1] !== undefined) range = s.controlArgs[i + 1] as string;
  });
  return range;
}

/** Writes the agent's or the proxy's kubeconfig (its own identity, signed by the cluster CA) when missing or stale. */
async function ensureDaemonIdentity(s: UpSettings, d: 'agent' | 'proxy'): Promise<void> {
  const server = (await loadKubeconfig(adminKubeconfigPath(s.dataDir))).server;
  const caDir = join(s.dataDir, 'control', 'pki');
  const [path, id] = d === 'agent' ? [agentKubeconfigPath(s.dataDir), nodeIdentity(s.nodeName)] : [proxyKubeconfigPath(s.dataDir), proxyIdentity()];
  if (await ensureComponentKubeconfig(path, caDir, server, id)) note(`${path}: client certificate for ${id.commonName} signed by the cluster CA`);
}

/** Starts `skiff <daemon>` detached from this process (its own session), output appended to its log file. */
async function startDaemon(s: UpSettings, d: Daemon): Promise<number> {
  await mkdir(join(s.dataDir, 'logs'), { recursive: true });
  await mkdir(join(s.dataDir, 'run'), { recursive: true });
  const log = openSync(logPath(s.dataDir, d), 'a');
  logStart.set(d, fstatSync(log).size);
  try {
    const child = spawn(process.execPath, [SKIFF_JS, d, ...daemonArgs(s, d)], {
      detached: true,
      stdio: ['ignore', log, log],
      env: d === 'control' ? controlProcessEnv({ ...process.env, SKIFF_LOG_FORMAT: 'json' }) : { ...process.env, SKIFF_LOG_FORMAT: 'json' },
    });
    const pid = await new Promise<number>((res, rej) => {
      child.once('spawn', () => res(child.pid as number));
      child.once('error', rej);
    });
    child.unref();
    await writeFile(pidPath(s.dataDir, d), `${pid}\n`);
    return pid;
  } finally {
    closeSync(log);
  }
}

function tail(path: string, lines = 15): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

class UpError extends Error {}

/** Where each daemon this run started began writing to its log: only its own lines are searched for a failure. */
const logStart = new Map<Daemon, number>();

/**
 * Why a daemon is of no use any more: it exited, or it printed the CLI's fatal "skiff: <error>" line (its command
 * failed) but some handle keeps the process alive; such a process is killed so that it holds no port or lock.
 */
function daemonFailure(s: UpSettings, d: Daemon, pid: number): string | undefined {
  const log = logPath(s.dataDir, d);
  if (!isDaemonAlive(pid, d)) return `skiff ${d} exited; last lines of ${log}:\n${tail(log)}`;
  const start = logStart.get(d);
  if (start === undefined) return undefined;
  let text = '';
  try {
    text = readFileSync(log).subarray(start).toString('utf8');
  } catch {
    return undefined;
  }
  if (!/^skiff(?: [a-z]+)?: /m.test(text)) return undefined;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
  rmSync(pidPath(s.dataDir, d), { force: true });
  return `skiff ${d} failed (stopped it); last lines of ${log}:\n${tail(log)}`;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, rej) => (timer = setTimeout(() => rej(new Error(`no answer within ${ms / 1000}s`)), ms)));
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** Polls `check` until it returns true, failing early when the daemon dies, or at the deadline. */
async function waitFor(s: UpSettings, d: Daemon, pid: number, what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastErr = '';
  for (;;) {
    const failure = daemonFailure(s, d, pid);
    if (failure) throw new UpError(`while waiting for ${what}: ${failure}`);
    try {
      // A bounded check: something else holding the port may accept a connection and never answer.
      if (await withTimeout(check(), 5000)) return;
    } catch (err) {
      lastErr = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > deadline) throw new UpError(`timed out after ${Math.round(timeoutMs / 1000)}s waiting for ${what}${lastErr ? ` (${lastErr})` : ''}; see ${logPath(s.dataDir, d)}`);
    await sleep(500);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// the command

const UP_HELP = `Usage: skiff up [flags]

Runs a one-node Skiff cluster on this machine (needs root): makes sure Docker answers (installing and starting it
when it is missing), builds the local images, starts skiff control, skiff agent and skiff proxy in the background
(logs in <data-dir>/logs, PIDs in <data-dir>/run), merges a "skiff" context into your kubeconfig and waits until
the node is Ready. Running it again starts only what is not running. Stop everything with "skiff down".

Flags:
  --data-dir DIR          Where everything is kept (default ${DEFAULT_DATA_DIR})
  --kubeconfig PATH       kubeconfig to merge the "skiff" context into (default: $KUBECONFIG, else ~/.kube/config)
  --secure-port N         Port of the API server (default 6443)
  --cluster-cidr CIDR     The pods' range; the node gets a /24 of it (default ${DEFAULT_CLUSTER_CIDR}; --pod-cidr is an alias)
  --read-only-port N      The agent's read-only port (default 10255; 0 disables)
  --node-name NAME        Node name (default: the hostname)
  --control-arg=FLAG      Extra flag for skiff control, e.g. --control-arg=--listen-peer-urls=http://127.0.0.1:2390 (repeatable)
  --agent-arg=FLAG        Extra flag for skiff agent (repeatable)
  --proxy-arg=FLAG        Extra flag for skiff proxy (repeatable)
  --timeout DURATION      How long to wait for the node to be Ready, in seconds (default 300)
  --skip-images           Do not build the local images
  -h, --help              Show this help

Values given once are remembered in <data-dir>/skiff-up.json for later "skiff up" and "skiff down" runs.`;

function parsePort(flag: string, v: string, allowZero = false): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < (allowZero ? 0 : 1) || n > 65535) throw new UpError(`--${flag}: expected a port number, got "${v}"`);
  return n;
}

/** Saved settings from an earlier `skiff up`, if any. */
export function loadSettings(dataDir: string): Partial<UpSettings> {
  try {
    return JSON.parse(readFileSync(settingsPath(dataDir), 'utf8')) as Partial<UpSettings>;
  } catch {
    return {};
  }
}

async function ensureDocker(s: UpSettings): Promise<void> {
  const script = join(PACKAGE_ROOT, 'scripts', 'ensure-docker.sh');
  if (!existsSync(script)) {
    const { default: Dockerode } = await import('dockerode');
    try {
      await new Dockerode().ping();
      note('docker: already running');
      return;
    } catch {
      throw new UpError(`Docker does not answer and ${script} (which installs and starts it) is not there; start Docker and run skiff up again`);
    }
  }
  await mkdir(dockerStateDir(s.dataDir), { recursive: true });
  const code = await new Promise<number>((res, rej) => {
    const child = spawn('bash', [script, dockerStateDir(s.dataDir)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const relay = (buf: Buffer): void => {
      for (const line of buf.toString().split('\n')) if (line.trim()) note(line);
    };
    child.stdout.on('data', relay);
    child.stderr.on('data', relay);
    child.once('error', rej);
    child.once('close', (c) => res(c ?? 1));
  });
  if (code !== 0) throw new UpError(`could not start Docker (${script} exited with ${code})`);
}

/** Debian packages the images and the proxy need; installed (saying so) when missing, as Docker is. */
export const HOST_PACKAGES = ['gcc', 'libc6-dev', 'busybox-static', 'iptables', 'conntrack', 'iproute2'];

function capture(cmd: string, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((res) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    child.once('error', (err) => res({ code: 127, out: err.message }));
    child.once('close', (code) => res({ code: code ?? 1, out }));
  });
}

async function ensurePackages(): Promise<void> {
  const missing: string[] = [];
  for (const pkg of HOST_PACKAGES) {
    const r = await capture('dpkg-query', ['-W', '--showformat=${db:Status-Status}', pkg]);
    if (r.code === 127) return; // not a Debian-like system: the steps below say what is missing
    if (r.out.trim() !== 'installed') missing.push(pkg);
  }
  if (!missing.length) return;
  step(`installing ${missing.join(', ')} (needed to build the images and run the proxy)`);
  const update = await capture('apt-get', ['update', '-qq']);
  if (update.code !== 0) throw new UpError(`apt-get update failed:\n${update.out.trim()}`);
  const install = await capture('apt-get', ['install', '-y', '-qq', ...missing]);
  if (install.code !== 0) throw new UpError(`apt-get install ${missing.join(' ')} failed:\n${install.out.trim()}`);
}

type NodeLike = { status?: { conditions?: Array<{ type?: string; status?: string; reason?: string; message?: string }> } };

export async function runUp(argv: string[]): Promise<number> {
  const parsed = parseCommandFlags('up', () => UP_HELP, {
    args: argv,
    allowPositionals: false,
    options: {
      'data-dir': { type: 'string' },
      kubeconfig: { type: 'string' },
      'secure-port': { type: 'string' },
      'cluster-cidr': { type: 'string' },
      'pod-cidr': { type: 'string' },
      'read-only-port': { type: 'string' },
      'node-name': { type: 'string' },
      'control-arg': { type: 'string', multiple: true },
      'agent-arg': { type: 'string', multiple: true },
      'proxy-arg': { type: 'string', multiple: true },
      timeout: { type: 'string' },
      'skip-images': { type: 'boolean' },
    },
  });
  if ('exitCode' in parsed) return parsed.exitCode;
  const values: Record<string, string | boolean | string[] | undefined> = parsed.values;
  const str = (k: string): string | undefined => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  const list = (k: string): string[] | undefined => (Array.isArray(values[k]) ? (values[k] as string[]) : undefined);
  const started = Date.now();
  try {
    const dataDir = resolve(str('data-dir') ?? DEFAULT_DATA_DIR);
    const saved = loadSettings(dataDir);
    const sudo = str('kubeconfig') || process.env.KUBECONFIG ? undefined : sudoUser();
    if (str('cluster-cidr') && str('pod-cidr') && str('cluster-cidr') !== str('pod-cidr')) throw new UpError('--pod-cidr is another name for --cluster-cidr: give one of them');
    const cidrFlag = str('cluster-cidr') ? 'cluster-cidr' : 'pod-cidr';
    const clusterCIDR = str('cluster-cidr') ?? str('pod-cidr') ?? saved.clusterCIDR ?? DEFAULT_CLUSTER_CIDR;
    if (!/^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$/.test(clusterCIDR)) throw new UpError(`--${cidrFlag}: expected an IPv4 CIDR such as ${DEFAULT_CLUSTER_CIDR}, got "${clusterCIDR}"`);
    if (Number(clusterCIDR.split('/')[1]) > 24) throw new UpError(`--${cidrFlag}: ${clusterCIDR} is smaller than the /24 each node gets`);
    const s: UpSettings = {
      dataDir,
      kubeconfig: str('kubeconfig') || !saved.kubeconfig ? userKubeconfigPath(str('kubeconfig'), process.env, sudo?.home ?? homedir()) : saved.kubeconfig,
      securePort: str('secure-port') ? parsePort('secure-port', str('secure-port') as string) : (saved.securePort ?? 6443),
      clusterCIDR,
      readOnlyPort: str('read-only-port') ? parsePort('read-only-port', str('read-only-port') as string, true) : (saved.readOnlyPort ?? 10255),
      nodeName: (str('node-name') ?? saved.nodeName ?? hostname()).toLowerCase(),
      controlArgs: list('control-arg') ?? saved.controlArgs ?? [],
      agentArgs: list('agent-arg') ?? saved.agentArgs ?? [],
      proxyArgs: list('proxy-arg') ?? saved.proxyArgs ?? [],
    };
    const timeoutSec = Number(str('timeout') ?? 300);
    if (!Number.isFinite(timeoutSec) || timeoutSec <= 0) throw new UpError(`--timeout: expected seconds, got "${str('timeout')}"`);
    if (process.getuid?.() !== 0) throw new UpError('skiff up needs root: the agent runs pods on Docker and the proxy programs iptables');

    await mkdir(dataDir, { recursive: true, mode: 0o755 });
    await writeFile(settingsPath(dataDir), `${JSON.stringify(s, null, 2)}\n`);

    step('starting Docker');
    await ensureDocker(s);

    await ensurePackages();

    if (values['skip-images']) {
      step('building images: skipped (--skip-images)');
    } else {
      step('building images');
      const { buildImages } = await import('../images/build.js');
      const r = await buildImages({ onProgress: (m) => note(m) });
      note(`${r.built.length} built, ${r.skipped.length} up to date`);
    }

    // The control plane first: the agent's and the proxy's certificates are signed by its CA.
    const admin = adminKubeconfigPath(dataDir);
    const titles: Record<Daemon, string> = { control: 'the control plane', agent: 'the agent', proxy: 'the proxy' };
    const pids = {} as Record<Daemon, number>;
    for (const d of DAEMONS) {
      if (d === 'agent') {
        // Before any pod can send to a ClusterIP (its DNS server is one), not only once the proxy runs.
        step(`routing the Service range ${serviceRange(s)} and the pod range ${s.clusterCIDR} to ${SERVICE_ROUTE_DEVICE}, so that none of their packets leaves this machine`);
        await ensureLinkRoutes(execRunner(), { serviceRange: serviceRange(s), podRange: s.clusterCIDR });
      }
      const running = runningDaemon(dataDir, d);
      if (running !== undefined) {
        step(`starting ${titles[d]}: already running (pid ${running})`);
        pids[d] = running;
        continue;
      }
      if (d !== 'control') await ensureDaemonIdentity(s, d);
      if (d === 'proxy') await recordHostSysctls(dataDir);
      step(`starting ${titles[d]} (log: ${logPath(dataDir, d)})`);
      const pid = await startDaemon(s, d);
      pids[d] = pid;
      note(`skiff ${d} started (pid ${pid})`);
      if (d === 'control') {
        let probe: KubeClient | undefined;
        try {
          await waitFor(s, d, pid, 'the API server', 120_000, async () => {
            if (!existsSync(admin)) return false;
            probe ??= new KubeClient(await loadKubeconfig(admin), 'skiff-up');
            await probe.get({ group: '', version: 'v1', resource: 'namespaces' }, undefined, 'default');
            return true;
          });
          await ensureKubeDnsService(probe as KubeClient);
        } finally {
          // Destroys its sockets too, so a request that never got an answer does not keep this process alive.
          probe?.close();
        }
        note(`API server answers on ${(await loadKubeconfig(admin)).server}`);
      } else if (d === 'agent' && s.readOnlyPort !== 0) {
        await waitFor(s, d, pid, 'the agent', 60_000, async () => (await fetch(`http://127.0.0.1:${s.readOnlyPort}/healthz`, { signal: AbortSignal.timeout(2000) })).ok);
      } else {
        // The proxy has no readiness of its own here: make sure it did not die on its flags.
        await sleep(1500);
        const failure = daemonFailure(s, d, pid);
        if (failure) throw new UpError(failure);
      }
    }

    step(`merging the "${CONTEXT_NAME}" context into ${s.kubeconfig}`);
    const merged = mergeKubeconfig(await readKubeconfigFile(s.kubeconfig), await embeddedEntry(admin));
    const owner = sudo && s.kubeconfig.startsWith(`${sudo.home}/`) ? sudo : undefined;
    await writeKubeconfigFile(s.kubeconfig, merged, owner);
    note(`current context: ${CONTEXT_NAME}`);

    step(`waiting for node ${s.nodeName} to be Ready`);
    const client = new KubeClient(await loadKubeconfig(admin), 'skiff-up');
    try {
      const deadline = Date.now() + timeoutSec * 1000;
      const waitStart = Date.now();
      let lastState = '';
      let nextNote = Date.now() + 15_000;
      for (;;) {
        for (const d of DAEMONS) {
          const failure = daemonFailure(s, d, pids[d]);
          if (failure) throw new UpError(failure);
        }
        let state: string;
        try {
          const node = await withTimeout(client.get<NodeLike & { metadata: { name: string } }>({ group: '', version: 'v1', resource: 'nodes' }, undefined, s.nodeName), 10_000);
          const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
          state = ready?.status === 'True' ? 'Ready' : `NotReady${ready?.reason ? ` (${ready.reason}${ready.message ? `: ${ready.message}` : ''})` : ''}`;
        } catch (err) {
          state = (err as { code?: number }).code === 404 ? 'not registered yet' : `cannot ask the API server: ${err instanceof Error ? err.message : String(err)}`;
        }
        if (state === 'Ready') break;
        if (state !== lastState) {
          note(`node ${s.nodeName}: ${state}`);
          lastState = state;
          nextNote = Date.now() + 15_000;
        } else if (Date.now() >= nextNote) {
          note(`still waiting (${Math.round((Date.now() - waitStart) / 1000)}s)`);
          nextNote = Date.now() + 15_000;
        }
        if (Date.now() > deadline) throw new UpError(`node ${s.nodeName} was not Ready within ${timeoutSec}s (last: ${state}); agent log: ${logPath(dataDir, 'agent')}`);
        await sleep(1000);
      }
    } finally {
      client.close();
    }
    step(`node ${s.nodeName} is Ready (${Math.round((Date.now() - started) / 1000)}s)`);
    const kcFlag = process.env.KUBECONFIG === undefined && s.kubeconfig === join(homedir(), '.kube', 'config') ? '' : ` --kubeconfig ${s.kubeconfig}`;
    process.stdout.write(
      `Skiff is up: a one-node cluster on ${s.nodeName}.\nkubectl's context is now "${CONTEXT_NAME}"; try:\n\n  kubectl${kcFlag} get nodes\n\nStop it with: skiff down${dataDir === DEFAULT_DATA_DIR ? '' : ` --data-dir ${dataDir}`} [--purge]\n`,
    );
    return 0;
  } catch (err) {
    if (err instanceof UpError) {
      process.stderr.write(`skiff up: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
