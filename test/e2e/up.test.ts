import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { execa } from 'execa';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, freePort } from '../integration/agent/harness.js';
import { SKIFF } from './control-harness.js';

/**
 * `skiff up` and `skiff down --purge` as a user runs them, on this machine's dockerd, with ports, pod range and node
 * name of its own so that it never meets a real cluster on 6443/2380/10255/10249. Needs root, Docker and kubectl.
 */
const docker = new Dockerode();
const canRun = process.getuid?.() === 0 && spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;

type Kubeconfig = { clusters: Array<{ name: string; cluster: Record<string, unknown> }>; users: Array<{ name: string; user: Record<string, unknown> }>; contexts: Array<{ name: string }>; 'current-context'?: string };

describe.skipIf(!canRun)('skiff up / skiff down', () => {
  // Made in beforeAll, not when vitest collects the suite: a suite that -t filters out never runs its afterAll.
  let dir = '';
  let dataDir = '';
  let kubeconfig = '';
  const nodeName = `skiff-up-${Math.random().toString(36).slice(2, 8)}`;
  let flags: string[] = [];
  /** The node's spec.podCIDR, given by the control plane's node IPAM; its bridge network is named after it. */
  let podCidr = '';
  /** What `skiff up` is given: nothing (the default cluster CIDR, 10.244.0.0/16) unless its first /24 is taken here. */
  let cidrFlags: string[] = [];
  const pids: number[] = [];

  const kubectl = (args: string[]): { code: number; out: string } => {
    const r = spawnSync('kubectl', args, { env: { ...process.env, KUBECONFIG: kubeconfig }, encoding: 'utf8', timeout: 60_000 });
    return { code: r.status ?? -1, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
  };
  const k = (args: string[]): string => {
    const r = kubectl(args);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.out}`);
    return r.out;
  };
  const skiff = (args: string[], timeoutMs: number) => execa(process.execPath, [SKIFF, ...args], { reject: false, all: true, timeout: timeoutMs, env: { ...process.env, KUBECONFIG: '' } });
  const ourContainers = () => docker.listContainers({ all: true, filters: { label: [`io.skiff.node=${nodeName}`] } });
  const networkExists = async () => (await docker.listNetworks()).some((n) => n.Name === `skiff-${podCidr.replace(/[./]/g, '-')}`);
  const alive = (pid: number): boolean => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return !/^\d+ \(.*\) [ZX]/.test(stat);
    } catch {
      return false;
    }
  };

  const parentOf = (pid: string): string => /^PPid:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '';
  /**
   * Every live process whose command line mentions `text` (our daemons all carry the data dir in theirs). A child a
   * daemon has forked but not yet exec'd (the proxy runs iptables-restore often) still shows its parent's command line:
   * it is the parent, not a process of its own, so it is left out.
   */
  const processesUsing = (text: string): string[] => {
    const found = new Map<string, string>();
    for (const p of readdirSync('/proc')) {
      if (!/^\d+$/.test(p) || Number(p) === process.pid) continue;
      try {
        const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0/g, ' ');
        if (cmd.includes(text) && alive(Number(p))) found.set(p, cmd);
      } catch {
        // gone meanwhile
      }
    }
    return [...found].flatMap(([p, cmd]) => {
      try {
        if (found.get(parentOf(p)) === cmd) return [];
      } catch {
        return [];
      }
      return [`${p}: ${cmd}`];
    });
  };

  // The proxy turns it on for localhost NodePorts; skiff down puts back what the host had.
  const ROUTE_LOCALNET_FILE = '/proc/sys/net/ipv4/conf/all/route_localnet';
  let routeLocalnetBefore = '';
  /** Whether the proxy's link for the Service range was there before (another cluster's): afterAll leaves it then. */
  let serviceLinkBefore = false;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'skiff-up-'));
    dataDir = join(dir, 'data');
    kubeconfig = join(dir, 'kubeconfig');
    const [port, peerPort, roPort, nodePort] = [await freePort(), await freePort(), await freePort(), await freePort()];
    routeLocalnetBefore = readFileSync(ROUTE_LOCALNET_FILE, 'utf8').trim();
    serviceLinkBefore = spawnSync('ip', ['link', 'show', 'skiff-svc0']).status === 0;
    const subnets = new Set((await docker.listNetworks()).flatMap((n) => (n.IPAM?.Config ?? []).map((c) => c.Subnet)));
    if ([...subnets].some((c) => c?.startsWith('10.244.'))) {
      // Another bridge in the default range on this dockerd: a /24 of it through the old flag name, which still works.
      let third = 0;
      while (subnets.has(`10.244.${third}.0/24`) || third === 0) third = 1 + Math.floor(Math.random() * 254);
      cidrFlags = ['--pod-cidr', `10.244.${third}.0/24`];
    }
    flags = [
      '--data-dir', dataDir,
      '--kubeconfig', kubeconfig,
      '--secure-port', String(port),
      ...cidrFlags,
      '--read-only-port', String(roPort),
      '--node-name', nodeName,
      `--control-arg=--listen-peer-urls=http://127.0.0.1:${peerPort}`,
      '--control-arg=--bind-address=127.0.0.1',
      // The node server's TLS port: never the machine's 10250, which something else may hold. On every address, as
      // in the other e2e suites: the API server dials the node's InternalIP (kubectl exec and logs).
      '--agent-arg=--address=0.0.0.0',
      `--agent-arg=--port=${nodePort}`,
      // NodePorts answer on 127.0.0.1 (upstream's default): the proxy turns the host's route_localnet on, and skiff down
      // (or, should a test fail, afterAll) puts it back.
      '--proxy-arg=--metrics-bind-address=127.0.0.1:0',
    ];
    // A kubeconfig with someone else's context, which must survive both commands.
    writeFileSync(
      kubeconfig,
      'apiVersion: v1\nkind: Config\nclusters:\n- name: other\n  cluster: {server: "https://10.0.0.1:6443"}\nusers:\n- name: other\n  user: {token: abc}\ncontexts:\n- name: other\n  context: {cluster: other, user: other}\ncurrent-context: other\n',
    );
  });

  afterAll(async () => {
    // Whatever a failed test left behind: our processes, containers, network and files.
    for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
    for (const c of await ourContainers().catch(() => [])) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
    if (podCidr && (await networkExists().catch(() => false))) await docker.getNetwork(`skiff-${podCidr.replace(/[./]/g, '-')}`).remove().catch(() => undefined);
    for (const n of await docker.listNetworks({ filters: { label: [`io.skiff.node=${nodeName}`] } }).catch(() => [])) await docker.getNetwork(n.Id).remove().catch(() => undefined);
    if (routeLocalnetBefore && readFileSync(ROUTE_LOCALNET_FILE, 'utf8').trim() !== routeLocalnetBefore) writeFileSync(ROUTE_LOCALNET_FILE, routeLocalnetBefore);
    if (!serviceLinkBefore) spawnSync('ip', ['link', 'del', 'skiff-svc0']);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('brings the node Ready, showing its steps, and merges a skiff context into the kubeconfig', async () => {
    const r = await skiff(['up', ...flags, '--timeout', '240'], 330_000);
    for (const d of ['control', 'agent', 'proxy']) {
      const pid = Number(readFileSync(join(dataDir, 'run', `${d}.pid`), 'utf8').trim());
      if (pid) pids.push(pid);
    }
    expect(r.exitCode, r.all).toBe(0);
    const err = r.stderr;
    const steps = err.split('\n').filter((l) => l.startsWith('==> '));
    expect(steps[0]).toBe('==> starting Docker');
    expect(steps[1]).toBe('==> building images');
    expect(err).toMatch(/^==> starting the control plane \(log: .*\/logs\/control\.log\)$/m);
    expect(err).toMatch(/^==> starting the agent /m);
    expect(err).toMatch(/^==> starting the proxy /m);
    expect(err).toContain(`==> waiting for node ${nodeName} to be Ready`);
    expect(err).toMatch(new RegExp(`^==> node ${nodeName} is Ready`, 'm'));
    expect(r.stdout).toMatch(/kubectl --kubeconfig .* get nodes/);
    for (const d of ['control', 'agent', 'proxy']) expect(existsSync(join(dataDir, 'logs', `${d}.log`))).toBe(true);
    expect(pids).toHaveLength(3);
    for (const pid of pids) expect(alive(pid)).toBe(true);

    const cfg = parse(readFileSync(kubeconfig, 'utf8')) as Kubeconfig;
    expect(cfg['current-context']).toBe('skiff');
    expect(cfg.contexts.map((c) => c.name).sort()).toEqual(['other', 'skiff']);
    const cluster = cfg.clusters.find((c) => c.name === 'skiff')?.cluster ?? {};
    expect(cluster['certificate-authority-data']).toEqual(expect.any(String));
    expect(cluster['certificate-authority']).toBeUndefined();
    expect(Object.keys(cfg.users.find((u) => u.name === 'skiff')?.user ?? {}).sort()).toEqual(['client-certificate-data', 'client-key-data']);

    // The node's pod range comes from the control plane, out of the cluster CIDR, and names its bridge network.
    podCidr = k(['get', 'node', nodeName, '-o', 'jsonpath={.spec.podCIDR}']);
    expect(podCidr).toMatch(cidrFlags.length ? new RegExp(`^${cidrFlags[1]?.replace(/\./g, '\\.')}$`) : /^10\.244\.\d{1,3}\.0\/24$/);
    expect(k(['get', 'node', nodeName, '-o', 'jsonpath={.spec.podCIDRs}'])).toBe(`["${podCidr}"]`);
    expect(await networkExists()).toBe(true);
    // No --pod-cidr for the agent: it waited for the Node's range and says which one it uses.
    expect(readFileSync(join(dataDir, 'logs', 'agent.log'), 'utf8')).toContain(`"podCIDR":"${podCidr}","msg":"using the node's pod CIDR"`);
    const using = processesUsing(dataDir);
    expect(using, using.join('\n')).toHaveLength(3);
    expect(k(['get', 'nodes'])).toMatch(new RegExp(`^${nodeName}\\s+Ready\\s`, 'm'));
  }, 360_000);

  it('runs the agent as system:node:<name> and the proxy as system:kube-proxy, each with its own kubeconfig', async () => {
    const subject = (file: string): string => {
      const user = (parse(readFileSync(file, 'utf8')) as Kubeconfig).users[0]?.user ?? {};
      return new X509Certificate(Buffer.from(String(user['client-certificate-data']), 'base64')).subject;
    };
    expect(subject(join(dataDir, 'agent.kubeconfig'))).toBe(`CN=system:node:${nodeName}\nO=system:nodes`);
    expect(subject(join(dataDir, 'proxy.kubeconfig'))).toBe('CN=system:kube-proxy');
    // The daemons run with those kubeconfigs, not the admin's.
    const cmdline = (d: string): string => readFileSync(`/proc/${readFileSync(join(dataDir, 'run', `${d}.pid`), 'utf8').trim()}/cmdline`, 'utf8').split('\0').join(' ');
    expect(cmdline('agent')).toContain(`--kubeconfig ${join(dataDir, 'agent.kubeconfig')}`);
    expect(cmdline('proxy')).toContain(`--kubeconfig ${join(dataDir, 'proxy.kubeconfig')}`);
    for (const d of ['agent', 'proxy']) expect(cmdline(d)).not.toContain('admin.kubeconfig');
    // The API server knows them by those names: what the Node authorizer and system:node-proxier do not allow fails.
    const as = (file: string, args: string[]) => kubectl(['--kubeconfig', join(dataDir, file), ...args]);
    const nodes = as('agent.kubeconfig', ['get', 'nodes']);
    expect(nodes.code).not.toBe(0);
    expect(nodes.out).toContain(`User "system:node:${nodeName}" cannot list resource "nodes" in API group "" at the cluster scope`);
    expect(as('agent.kubeconfig', ['get', 'node', nodeName, '-o', 'name']).out.trim()).toBe(`node/${nodeName}`);
    const secrets = as('proxy.kubeconfig', ['get', 'secrets', '-n', 'kube-system']);
    expect(secrets.code).not.toBe(0);
    expect(secrets.out).toContain('User "system:kube-proxy" cannot list resource "secrets" in API group "" in the namespace "kube-system"');
    expect(as('proxy.kubeconfig', ['get', 'services', '-A', '-o', 'name']).out).toContain('service/kubernetes');
    // The proxy masquerades ClusterIP traffic from outside the cluster CIDR (the kubernetes service's at least).
    const clusterCidr = cidrFlags[1] ?? '10.244.0.0/16';
    await eventually(() => (spawnSync('iptables-save', ['-t', 'nat'], { encoding: 'utf8' }).stdout ?? '').includes(`! -s ${clusterCidr} `), `a masquerade rule for traffic from outside ${clusterCidr}`, 30_000, 500);
  });

  it('is idempotent: a second skiff up finds everything running', async () => {
    const r = await skiff(['up', ...flags, '--skip-images', '--timeout', '120'], 180_000);
    expect(r.exitCode, r.all).toBe(0);
    for (const what of ['the control plane', 'the agent', 'the proxy']) expect(r.stderr).toMatch(new RegExp(`^==> starting ${what}: already running \\(pid \\d+\\)$`, 'm'));
    for (const d of ['control', 'agent', 'proxy']) expect(Number(readFileSync(join(dataDir, 'run', `${d}.pid`), 'utf8').trim())).toBeOneOf(pids);
  }, 200_000);

  it('routes the Service and pod ranges to a link of their own, so that no packet for an unserved ClusterIP or a missing pod leaves the machine', () => {
    // Only the routes are asked about: sending to such an address would leave the machine if the test failed.
    const route = (...args: string[]): string => spawnSync('ip', ['-4', '-o', 'route', ...args], { encoding: 'utf8' }).stdout;
    expect(route('show', '10.96.0.0/12')).toMatch(/^10\.96\.0\.0\/12 dev skiff-svc0 /);
    expect(route('get', '10.104.135.141')).toMatch(/^10\.104\.135\.141 dev skiff-svc0 /);
    // The cluster CIDR, under the node's own pod range: that stays on the node's bridge, whatever the two prefixes.
    const clusterCidr = cidrFlags[1] ?? '10.244.0.0/16';
    expect(route('show', clusterCidr, 'dev', 'skiff-svc0')).toMatch(new RegExp(`^${clusterCidr.replace(/\./g, '\\.')} scope link metric 1024`));
    const podAddress = podCidr.replace(/\.0\/24$/, '.77');
    expect(route('get', podAddress)).not.toContain('dev skiff-svc0');
    expect(route('get', podAddress)).toMatch(/ dev br-[0-9a-f]+ /);
    const elsewhere = podCidr.startsWith('10.244.255.') ? '10.244.254.77' : '10.244.255.77';
    if (clusterCidr !== podCidr) expect(route('get', elsewhere)).toMatch(new RegExp(`^${elsewhere.replace(/\./g, '\\.')} dev skiff-svc0 `));
  });

  it('runs a pod to Running with kubectl and the merged kubeconfig', async () => {
    k(['run', 'web', '--image=skiff/web:1.0']);
    await eventually(() => k(['get', 'pod', 'web', '-o', 'jsonpath={.status.phase}']) === 'Running', 'pod web Running', 150_000, 1000);
    expect(k(['get', 'pod', 'web', '-o', 'jsonpath={.spec.nodeName}'])).toBe(nodeName);
    const ip = k(['get', 'pod', 'web', '-o', 'jsonpath={.status.podIP}']);
    // The pod's address lies in the node's pod range (a /24: the first three octets).
    expect(ip.split('.').slice(0, 3).join('.')).toBe(podCidr.split('.').slice(0, 3).join('.'));
    const body = await eventually(async () => (await fetch(`http://${ip}/`, { signal: AbortSignal.timeout(3000) })).text(), 'the pod answers', 60_000, 500);
    expect(body).toBe('web\n');
    expect((await ourContainers()).length).toBeGreaterThan(0);
    // The node may have tokens for the service account of a pod it runs, bound to that pod only (NodeRestriction).
    const asAgent = (args: string[]) => kubectl(['--kubeconfig', join(dataDir, 'agent.kubeconfig'), ...args]);
    const unbound = asAgent(['create', 'token', 'default']);
    expect(unbound.code).not.toBe(0);
    expect(unbound.out).toContain('serviceaccounts "default" is forbidden: node requested token not bound to a pod');
    const uid = k(['get', 'pod', 'web', '-o', 'jsonpath={.metadata.uid}']);
    const bound = asAgent(['create', 'token', 'default', '--bound-object-kind', 'Pod', '--bound-object-name', 'web', '--bound-object-uid', uid]);
    expect(bound.code, bound.out).toBe(0);
    expect(bound.out.trim().split('.')).toHaveLength(3);
    // Under their own identities, the agent and the proxy were refused nothing they do.
    for (const d of ['agent', 'proxy']) expect(readFileSync(join(dataDir, 'logs', `${d}.log`), 'utf8')).not.toMatch(/forbidden|\b403\b/i);
  }, 240_000);

  it('gives pods the cluster DNS at 10.96.0.10, which resolves kubernetes.default to the kubernetes Service', async () => {
    k(['run', 'dns', '--image=skiff/busybox:1.0', '--restart=Never', '--command', '--', 'sleep', '3600']);
    await eventually(() => k(['get', 'pod', 'dns', '-o', 'jsonpath={.status.phase}']) === 'Running', 'pod dns Running', 150_000, 1000);
    const resolv = k(['exec', 'dns', '--', 'cat', '/etc/resolv.conf']);
    expect(resolv).toContain('nameserver 10.96.0.10\n');
    expect(resolv).toMatch(/^search default\.svc\.cluster\.local svc\.cluster\.local cluster\.local\b/m);
    const clusterIP = k(['get', 'service', 'kubernetes', '-o', 'jsonpath={.spec.clusterIP}']);
    expect(clusterIP).toMatch(/^10\.96\.\d+\.\d+$/);
    const ip = clusterIP.replace(/\./g, '\\.');
    const execOut = (args: string[], want: RegExp, what: string): Promise<string> =>
      eventually(
        () => {
          const r = kubectl(['exec', 'dns', '--', ...args]);
          if (!want.test(r.out)) throw new Error(`${args.join(' ')} said:\n${r.out}`);
          return r.out;
        },
        what,
        60_000,
        1000,
      );
    // The full name, asked of the nameserver in resolv.conf.
    const full = await execOut(['nslookup', 'kubernetes.default.svc.cluster.local'], new RegExp(`Name:\\s*kubernetes\\.default\\.svc\\.cluster\\.local\\s+Address:\\s*${ip}\\b`), 'the full name to resolve');
    expect(full).toMatch(/^Server:\s*10\.96\.0\.10$/m);
    // busybox's nslookup applies the search path only to names without a dot (busybox bug 11161): "kubernetes" goes
    // through it; "kubernetes.default" is resolved the way applications resolve it, by the libc resolver (ping prints
    // the address it resolved; a ClusterIP does not answer pings, which does not matter here).
    await execOut(['nslookup', 'kubernetes'], new RegExp(`Name:\\s*kubernetes\\.default\\.svc\\.cluster\\.local\\s+Address:\\s*${ip}\\b`), 'kubernetes through the search path');
    await execOut(['ping', '-c', '1', '-W', '1', 'kubernetes.default'], new RegExp(`^PING kubernetes\\.default \\(${ip}\\)`, 'm'), 'kubernetes.default through the search path');
    k(['delete', 'pod', 'dns', '--grace-period=0', '--force']);
  }, 240_000);

  it('skiff down stops and removes everything but the data dir; --purge removes that too', async () => {
    const r = await skiff(['down', '--data-dir', dataDir], 180_000);
    expect(r.exitCode, r.all).toBe(0);
    for (const d of ['proxy', 'agent', 'control']) expect(r.stderr).toMatch(new RegExp(`^==> stopping skiff ${d} \\(pid \\d+\\)$`, 'm'));
    for (const pid of pids) expect(alive(pid), `pid ${pid}`).toBe(false);
    expect(processesUsing(dataDir)).toEqual([]);
    expect(await ourContainers()).toEqual([]);
    expect(await networkExists()).toBe(false);
    // Docker took the pod bridge and its route with the network.
    const gateway = podCidr.replace(/\.0\/24$/, '.1');
    expect(spawnSync('ip', ['-o', '-4', 'addr', 'show'], { encoding: 'utf8' }).stdout).not.toContain(`inet ${gateway}/`);
    expect(spawnSync('ip', ['-4', 'route', 'show'], { encoding: 'utf8' }).stdout).not.toContain(podCidr);
    const cfg = parse(readFileSync(kubeconfig, 'utf8')) as Kubeconfig;
    expect(cfg.contexts.map((c) => c.name)).toEqual(['other']);
    expect(cfg.clusters.map((c) => c.name)).toEqual(['other']);
    expect(cfg.users.map((c) => c.name)).toEqual(['other']);
    expect(cfg['current-context']).toBe('');
    // The proxy's chains are gone from the host's nat table.
    const nat = spawnSync('iptables-save', ['-t', 'nat'], { encoding: 'utf8' }).stdout ?? '';
    expect(nat).not.toMatch(/^:KUBE-SERVICES /m);
    expect(spawnSync('ip', ['link', 'show', 'skiff-svc0'], { encoding: 'utf8' }).status).not.toBe(0);
    expect(readFileSync(ROUTE_LOCALNET_FILE, 'utf8').trim()).toBe(routeLocalnetBefore);
    expect(r.stderr).toMatch(/^==> putting back the kernel settings the proxy changed$/m);
    // On a host that had it off (a fresh one), the proxy turned it on and skiff down says it turned it off again.
    if (routeLocalnetBefore === '0') expect(r.stderr).toContain('net.ipv4.conf.all.route_localnet: 1 -> 0');
    // The data dir stays (store, certificates, logs), the PID files go.
    expect(existsSync(join(dataDir, 'control', 'pki', 'ca.crt'))).toBe(true);
    expect(existsSync(join(dataDir, 'logs', 'agent.log'))).toBe(true);
    expect(existsSync(join(dataDir, 'run', 'agent.pid'))).toBe(false);

    // --purge afterwards: nothing left to stop, and the data dir goes.
    const purge = await skiff(['down', '--data-dir', dataDir, '--purge'], 120_000);
    expect(purge.exitCode, purge.all).toBe(0);
    expect(purge.stderr).toMatch(/^==> stopping skiff control: not running$/m);
    expect(existsSync(dataDir)).toBe(false);
    expect(parse(readFileSync(kubeconfig, 'utf8'))).toMatchObject({ 'current-context': '', contexts: [{ name: 'other' }] });
  }, 300_000);
});
