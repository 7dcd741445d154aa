import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Dockerode from 'dockerode';
import { eventually, ROOT } from './harness.js';

/**
 * A dockerd of the test's own, so that a test can stop and restart "Docker" without touching the system daemon
 * that every other suite (and other people) use. Everything lives under one temp dir named skiff-it-dockerd-*:
 * data-root, exec-root (with its managed containerd), pid file, socket and an empty daemon.json. The daemon's log
 * goes to .tmp/agent-logs/ beside the agents' logs, for reading after a failure.
 *
 * Flags beyond the dirs, and why (the system dockerd keeps running on the same host and kernel):
 * - --bridge=none: the default bridge is docker0, which the system daemon owns. A second daemon would adopt the same
 *   Linux bridge with its own IPAM and hand out addresses the system daemon also hands out. Skiff does not use the
 *   default bridge (the agent creates its own bridge network per pod CIDR), so the private daemon needs none.
 * - --iptables=false: on start, dockerd's bridge driver removes and re-creates the DOCKER, DOCKER-ISOLATION-STAGE-1/2
 *   chains, which are shared by name in the host's one netfilter table: starting (and restarting) a second daemon
 *   with iptables on would flush the system daemon's rules (port mappings, isolation) from under its containers.
 * - --ip-masq=false: masquerading is an iptables rule too; stated explicitly so the daemon never tries it.
 * - --config-file: an empty daemon.json of our own, so a host /etc/docker/daemon.json (say with "hosts" or
 *   "bridge") can neither conflict with these flags nor leak into the test.
 * Without iptables rules, the host still reaches pod IPs on the agent's bridge (that traffic is the host's own,
 * INPUT/OUTPUT, not FORWARD), which is what the test checks.
 */
export class PrivateDockerd {
  readonly dir: string;
  readonly socketPath: string;
  readonly dataRoot: string;
  readonly execRoot: string;
  readonly pidFile: string;
  readonly logFile: string;
  readonly docker: Dockerode;
  private child: ChildProcess | undefined;
  /** Every dockerd PID this object started, for the record and for cleanup. */
  readonly pids: number[] = [];

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'skiff-it-dockerd-'));
    this.socketPath = join(this.dir, 'docker.sock');
    this.dataRoot = join(this.dir, 'data');
    this.execRoot = join(this.dir, 'exec');
    this.pidFile = join(this.dir, 'dockerd.pid');
    mkdirSync(this.dataRoot, { recursive: true });
    mkdirSync(this.execRoot, { recursive: true });
    writeFileSync(join(this.dir, 'daemon.json'), '{}\n');
    this.logFile = join(ROOT, '.tmp', 'agent-logs', `${this.dir.split('/').pop()}.dockerd.log`);
    mkdirSync(dirname(this.logFile), { recursive: true });
    this.docker = new Dockerode({ socketPath: this.socketPath });
  }

  get endpoint(): string {
    return `unix://${this.socketPath}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts dockerd on this object's dirs and waits until it answers. */
  async start(timeoutMs = 60_000): Promise<void> {
    if (this.running) throw new Error('private dockerd already running');
    const args = [
      '--host',
      this.endpoint,
      '--data-root',
      this.dataRoot,
      '--exec-root',
      this.execRoot,
      '--pidfile',
      this.pidFile,
      '--config-file',
      join(this.dir, 'daemon.json'),
      '--bridge=none',
      '--iptables=false',
      '--ip-masq=false',
    ];
    mkdirSync(dirname(this.logFile), { recursive: true });
    const fd = openSync(this.logFile, 'a');
    const child = spawn('dockerd', args, { stdio: ['ignore', fd, fd] });
    closeSync(fd);
    this.child = child;
    if (child.pid !== undefined) this.pids.push(child.pid);
    await eventually(
      async () => {
        if (!this.running) throw new Error(`dockerd exited during startup; see ${this.logFile}`);
        await this.docker.ping();
        return true;
      },
      `private dockerd on ${this.socketPath}`,
      timeoutMs,
    );
  }

  /** SIGTERM to our dockerd's PID (it stops its containers), waiting for it to exit; SIGKILL after the timeout. */
  async stop(timeoutMs = 60_000): Promise<void> {
    const child = this.child;
    if (!child || !this.running) {
      this.child = undefined;
      return;
    }
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
    this.child = undefined;
  }

  /** Processes started on our dirs that outlived dockerd (its managed containerd, shims after a SIGKILL). */
  private leftoverPids(): number[] {
    const out: number[] = [];
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
      try {
        const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
        if (cmd.includes(this.dir)) out.push(Number(entry));
      } catch {
        // gone already
      }
    }
    return out;
  }

  /** Mount points under our dir, deepest first. */
  mountsUnder(): string[] {
    const mounts = readFileSync('/proc/mounts', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[1]?.replace(/\\040/g, ' '))
      .filter((p): p is string => !!p && (p === this.dir || p.startsWith(`${this.dir}/`)));
    return mounts.sort((a, b) => b.length - a.length);
  }

  /** Stops the daemon by PID, ends what it left running on our dirs, unmounts and removes the dirs. */
  async cleanup(): Promise<void> {
    await this.stop(30_000).catch(() => undefined);
    for (const pid of this.leftoverPids()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    for (let i = 0; i < 3 && this.mountsUnder().length > 0; i++) {
      for (const m of this.mountsUnder()) spawnSync('umount', ['-R', m], { stdio: 'ignore' });
      for (const m of this.mountsUnder()) spawnSync('umount', ['-l', m], { stdio: 'ignore' });
    }
    if (existsSync(this.dir)) rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A /24 that neither dockerd uses and no host route covers: both daemons' bridges live in the same kernel. */
export async function podCidrFreeEverywhere(dockers: Dockerode[]): Promise<string> {
  const used = new Set<string>();
  for (const d of dockers) {
    for (const n of await d.listNetworks()) for (const c of n.IPAM?.Config ?? []) if (c.Subnet) used.add(c.Subnet);
  }
  const routes = spawnSync('ip', ['-4', 'route', 'show'], { encoding: 'utf8' }).stdout ?? '';
  for (const line of routes.split('\n')) {
    const dst = line.split(' ')[0];
    if (dst && dst.includes('/')) used.add(dst);
  }
  const prefixes = [...used].map((c) => c.split('.').slice(0, 2).join('.'));
  for (let i = 0; i < 200; i++) {
    // 10.89/16 stays clear of the harness's 10.88.100-249 range that other suites pick from the system daemon.
    const cidr = `10.89.${10 + Math.floor(Math.random() * 240)}.0/24`;
    if (!used.has(cidr) && !prefixes.some((p) => used.has(`${p}.0.0/16`) && cidr.startsWith(`${p}.`))) return cidr;
  }
  throw new Error('no free pod CIDR');
}
