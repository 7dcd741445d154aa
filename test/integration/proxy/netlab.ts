import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';

/**
 * A throw-away network lab made of namespaces this test creates (every name starts with "skiff-test-"):
 *
 *   client (10.250.9.2) ──veth── node (10.250.9.1; 10.250.N.1) ──veth── backend N (10.250.N.2, busybox httpd :80)
 *                                   └─ default route ──veth── uplink (10.250.99.2)
 *
 * The proxy's rules go into the node namespace only; the host's tables and interfaces are never touched. Traffic
 * stays inside these namespaces. `destroy()` kills the processes it started and deletes the namespaces.
 */

export const BUSYBOX = '/bin/busybox';

/** Network namespaces need root (and ip, iptables, busybox); without them these suites are skipped, saying why. */
export const canNetns = process.getuid?.() === 0 && existsSync(BUSYBOX) && existsSync('/usr/sbin/iptables-restore');
if (!canNetns) process.stderr.write('proxy integration tests: skipped (need root, /bin/busybox and iptables-restore)\n');

export async function sh(cmd: string, args: string[], input?: string): Promise<string> {
  const r = await execa(cmd, args, { reject: false, ...(input !== undefined ? { input } : {}) });
  if (r.exitCode !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr || r.stdout}`);
  return String(r.stdout);
}

export class NetLab {
  readonly node: string;
  readonly client: string;
  readonly uplink: string;
  readonly backends: string[];
  readonly nodeIP = '10.250.9.1';
  readonly clientIP = '10.250.9.2';
  /** The node's address towards the uplink. */
  readonly uplinkNodeIP = '10.250.99.1';
  private readonly procs: ResultPromise[] = [];
  private readonly namespaces: string[] = [];
  private dir = '';

  constructor(
    readonly id: string,
    readonly backendCount = 3,
  ) {
    this.node = `skiff-test-${id}-node`;
    this.client = `skiff-test-${id}-client`;
    this.uplink = `skiff-test-${id}-up`;
    this.backends = Array.from({ length: backendCount }, (_, i) => `skiff-test-${id}-b${i + 1}`);
  }

  /** A directory of the lab's own (after create()), removed by destroy(). */
  get workDir(): string {
    return this.dir;
  }

  backendIP(i: number): string {
    return `10.250.${i + 1}.2`;
  }

  exec(ns: string, cmd: string, args: string[], input?: string): Promise<string> {
    return sh('ip', ['netns', 'exec', ns, cmd, ...args], input);
  }

  private async addNetns(name: string): Promise<void> {
    await sh('ip', ['netns', 'add', name]);
    this.namespaces.push(name);
    await sh('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  }

  /** A veth pair from the node namespace to `peer`, addressed /24. */
  private async link(peer: string, nodeIf: string, peerIf: string, nodeAddr: string, peerAddr: string): Promise<void> {
    await sh('ip', ['-n', this.node, 'link', 'add', nodeIf, 'type', 'veth', 'peer', 'name', peerIf, 'netns', peer]);
    await sh('ip', ['-n', this.node, 'addr', 'add', `${nodeAddr}/24`, 'dev', nodeIf]);
    await sh('ip', ['-n', peer, 'addr', 'add', `${peerAddr}/24`, 'dev', peerIf]);
    await sh('ip', ['-n', this.node, 'link', 'set', nodeIf, 'up']);
    await sh('ip', ['-n', peer, 'link', 'set', peerIf, 'up']);
    await sh('ip', ['-n', peer, 'route', 'add', 'default', 'via', nodeAddr]);
  }

  async create(): Promise<void> {
    this.dir = await mkdtemp(join(tmpdir(), 'skiff-test-proxy-'));
    await this.addNetns(this.node);
    await this.exec(this.node, 'sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1']);
    await this.addNetns(this.client);
    await this.link(this.client, 'skiffc0', 'skiffc1', this.nodeIP, this.clientIP);
    // The node's default route leads to an "uplink" that drops what it gets, like a real node's: Service IPs the
    // proxy has not programmed go there, so a missing REJECT would show as a timeout.
    await this.addNetns(this.uplink);
    await this.link(this.uplink, 'skiffu0', 'skiffu1', this.uplinkNodeIP, '10.250.99.2');
    await sh('ip', ['-n', this.node, 'route', 'add', 'default', 'via', '10.250.99.2']);
    for (const [i, ns] of this.backends.entries()) {
      await this.addNetns(ns);
      await this.link(ns, `skiffb${i}`, `skiffe${i}`, `10.250.${i + 1}.1`, this.backendIP(i));
      const www = join(this.dir, `www${i + 1}`);
      await execa('mkdir', ['-p', www]);
      await writeFile(join(www, 'index.html'), `backend-${i + 1}\n`);
      this.procs.push(execa('ip', ['netns', 'exec', ns, BUSYBOX, 'httpd', '-f', '-p', `${this.backendIP(i)}:80`, '-h', www], { reject: false }));
    }
    // Wait until every httpd answers from the node.
    for (const i of this.backends.keys()) {
      const deadline = Date.now() + 5000;
      for (;;) {
        const out = await this.fetch(this.node, `http://${this.backendIP(i)}/`, 1).catch(() => ['ERR']);
        if (out[0] === `backend-${i + 1}`) break;
        if (Date.now() > deadline) throw new Error(`backend ${i + 1} does not answer: ${out.join(' ')}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  /** Starts a long-running process in a namespace; destroy() kills it. */
  spawn(ns: string, cmd: string, args: string[]): ResultPromise {
    const p = execa('ip', ['netns', 'exec', ns, cmd, ...args], { reject: false });
    this.procs.push(p);
    return p;
  }

  /**
   * `count` HTTP GETs from a namespace, each a new connection; one line per request: the body's first line, or
   * "ERR <message>" with the time it took.
   */
  async fetch(ns: string, url: string, count: number): Promise<string[]> {
    const script = `i=0; while [ $i -lt ${count} ]; do i=$((i+1)); ${BUSYBOX} timeout 5 ${BUSYBOX} wget -q -O - '${url}' 2>/tmp/skiff-wget-$$ || echo "ERR $(cat /tmp/skiff-wget-$$)"; done; rm -f /tmp/skiff-wget-$$`;
    const out = await this.exec(ns, BUSYBOX, ['sh', '-c', script]);
    return out.split('\n').filter(Boolean);
  }

  async destroy(): Promise<void> {
    for (const p of this.procs) p.kill('SIGKILL');
    await Promise.allSettled(this.procs);
    for (const ns of this.namespaces.reverse()) await execa('ip', ['netns', 'del', ns], { reject: false });
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}

export function tally(lines: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const l of lines) out[l.startsWith('ERR') ? 'ERR' : l] = (out[l.startsWith('ERR') ? 'ERR' : l] ?? 0) + 1;
  return out;
}

export async function writeFileIn(dir: string, name: string, text: string): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, text);
  return p;
}
