import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getOnce } from '../helpers/http-once.js';
import { eventually, freePort } from '../integration/agent/harness.js';
import { SKIFF } from './control-harness.js';

/**
 * The walkthrough (/work/shared/walkthrough.md) phase 1 and the node-side steps of phase 2 with the real kubectl on one
 * cluster started by `skiff up` (private ports, node name, pod range, kubeconfig and data dir, as in up.test.ts):
 * what kubectl prints and what the objects hold afterwards, and what the pods, the service IPs and Docker show.
 * Needs root, Docker and kubectl; runs under `flock /tmp/skiff-host.lock` since the proxy programs the host's iptables.
 */
const docker = new Dockerode();
const canRun = process.getuid?.() === 0 && spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;

type Obj = Record<string, any>;

const header = (out: string): string[] => (out.split('\n')[0] ?? '').trim().split(/\s{2,}/);
const rows = (out: string): string[][] =>
  out
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.trim().split(/\s{2,}/));
const lines = (out: string): string[] => out.split('\n').filter(Boolean);

describe.skipIf(!canRun)('the walkthrough with kubectl on a skiff up cluster', () => {
  // Made in beforeAll, not when vitest collects the suite: a suite that -t filters out never runs its afterAll.
  let dir = '';
  let dataDir = '';
  let kubeconfig = '';
  const nodeName = `skiff-walk-${Math.random().toString(36).slice(2, 8)}`;
  const ns = 'walk';
  /** The node's spec.podCIDR (a /24) and its bridge's address, the node's own address in the pod range. */
  let podCidr = '';
  let gateway = '';
  const children: ChildProcess[] = [];

  const kubectl = async (args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> => {
    const r = await execa('kubectl', args, { env: { ...process.env, KUBECONFIG: kubeconfig }, reject: false, stripFinalNewline: false, timeout: 150_000, ...(input === undefined ? {} : { input }) });
    return { code: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr };
  };
  /** kubectl at cluster scope; throws with its output when it fails. */
  const kc = async (args: string[], input?: string): Promise<string> => {
    const r = await kubectl(args, input);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${r.code}: ${r.stdout}${r.stderr}`);
    return r.stdout;
  };
  /** kubectl in the walkthrough's namespace. */
  const k = (args: string[], input?: string): Promise<string> => kc(['-n', ns, ...args], input);
  const json = async (args: string[]): Promise<Obj> => JSON.parse(await k([...args, '-o', 'json'])) as Obj;
  const jsonpath = async (args: string[], path: string): Promise<string> => (await k([...args, '-o', `jsonpath=${path}`])).replace(/\n$/, '');
  const skiff = (args: string[], timeoutMs: number) => execa(process.execPath, [SKIFF, ...args], { reject: false, all: true, timeout: timeoutMs, env: { ...process.env, KUBECONFIG: '' } });
  const background = (args: string[]): { child: ChildProcess; out: () => string } => {
    const child = spawn('kubectl', ['-n', ns, ...args], { env: { ...process.env, KUBECONFIG: kubeconfig }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    return { child, out: () => out };
  };
  const stop = async (child: ChildProcess): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  };
  /**
   * The body of a GET, each on a new connection (see getOnce); a status other than 200 or an empty body throws, naming
   * what came back, so that a poll goes on and a failure says what answered.
   */
  const get = async (url: string): Promise<string> => {
    const res = await getOnce(url, 3000);
    if (res.status !== 200 || res.body === '') throw new Error(`GET ${url}: ${res.status} ${JSON.stringify(res.body)} (${JSON.stringify(res.headers)})`);
    return res.body;
  };
  const running = (pod: string, timeoutMs = 120_000): Promise<boolean> => eventually(async () => (await jsonpath(['get', 'pod', pod], '{.status.phase}')) === 'Running', `pod ${pod} Running`, timeoutMs, 500);
  /** The deployment's pods by name, sorted (pods being deleted left out). */
  const webPods = async (): Promise<string[]> =>
    ((await json(['get', 'pods', '-l', 'app=web'])).items as Obj[])
      .filter((p) => !p.metadata.deletionTimestamp)
      .map((p) => p.metadata.name as string)
      .sort();
  /** The ready addresses of a service's Endpoints, as IP:port, sorted. */
  const endpoints = async (svc: string): Promise<string[]> => {
    const ep = await json(['get', 'endpoints', svc]);
    return ((ep.subsets ?? []) as Obj[]).flatMap((s) => ((s.addresses ?? []) as Obj[]).flatMap((a) => ((s.ports ?? []) as Obj[]).map((p) => `${a.ip}:${p.port}`))).sort();
  };
  const podIPs = async (selector: string): Promise<string[]> =>
    ((await json(['get', 'pods', '-l', selector])).items as Obj[])
      .filter((p) => !p.metadata.deletionTimestamp && p.status.podIP)
      .map((p) => p.status.podIP as string)
      .sort();
  const ourContainers = () => docker.listContainers({ all: true, filters: { label: [`io.skiff.node=${nodeName}`] } });
  const bridgeName = () => `skiff-${podCidr.replace(/[./]/g, '-')}`;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'skiff-walk-'));
    dataDir = join(dir, 'data');
    kubeconfig = join(dir, 'kubeconfig');
    const [port, peerPort, roPort, nodePort, dnsPort] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
    const subnets = new Set((await docker.listNetworks()).flatMap((n) => (n.IPAM?.Config ?? []).map((c) => c.Subnet)));
    const cidrFlags: string[] = [];
    if ([...subnets].some((c) => c?.startsWith('10.244.'))) {
      // Another bridge in the default range on this dockerd: a /24 of it of our own.
      let third = 0;
      while (subnets.has(`10.244.${third}.0/24`) || third === 0) third = 1 + Math.floor(Math.random() * 254);
      cidrFlags.push('--cluster-cidr', `10.244.${third}.0/24`);
    }
    writeFileSync(kubeconfig, '');
    const r = await skiff(
      [
        'up',
        '--data-dir', dataDir,
        '--kubeconfig', kubeconfig,
        '--secure-port', String(port),
        ...cidrFlags,
        '--read-only-port', String(roPort),
        '--node-name', nodeName,
        '--skip-images',
        '--timeout', '240',
        `--control-arg=--listen-peer-urls=http://127.0.0.1:${peerPort}`,
        '--control-arg=--bind-address=127.0.0.1',
        // The API server reaches the node server on the node's InternalIP for logs, exec and port-forward.
        '--agent-arg=--address=0.0.0.0',
        `--agent-arg=--port=${nodePort}`,
        '--proxy-arg=--metrics-bind-address=127.0.0.1:0',
        // NodePorts on 127.0.0.1 need the host's route_localnet=1 (upstream's default): not for a test, which leaves the host as it found it.
        '--proxy-arg=--iptables-localhost-nodeports=false',
        `--proxy-arg=--dns-port=${dnsPort}`,
      ],
      300_000,
    );
    if (r.exitCode !== 0) throw new Error(`skiff up failed (${r.exitCode}):\n${r.all}`);
    podCidr = (await kc(['get', 'node', nodeName, '-o', 'jsonpath={.spec.podCIDR}'])).trim();
    gateway = podCidr.replace(/\.0\/24$/, '.1');
  }, 330_000);

  afterAll(async () => {
    if (!dir) return;
    for (const c of children) await stop(c).catch(() => undefined);
    const down = await skiff(['down', '--data-dir', dataDir, '--purge'], 180_000);
    if (down.exitCode !== 0) process.stderr.write(`skiff down failed:\n${down.all}\n`);
    // Whatever a failed run left behind: our containers and bridge network, then the files.
    for (const c of await ourContainers().catch(() => [])) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
    for (const n of await docker.listNetworks().catch(() => [])) if (podCidr && n.Name === bridgeName()) await docker.getNetwork(n.Id).remove().catch(() => undefined);
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 240_000);

  it('shows the node Ready in get nodes and its capacity, conditions and pods in describe node', async () => {
    const nodes = await kc(['get', 'nodes']);
    expect(header(nodes)).toEqual(['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION']);
    expect(rows(nodes)).toContainEqual([nodeName, 'Ready', '<none>', expect.stringMatching(/^\d+[smh]/), expect.stringMatching(/^v1\.32\./)]);
    const describe = await kc(['describe', 'node', nodeName]);
    for (const section of ['Capacity:', 'Allocatable:', 'Conditions:', 'Non-terminated Pods:', 'Allocated resources:', 'Events:']) expect(describe).toMatch(new RegExp(`^${section}`, 'm'));
    expect(describe).toMatch(/^ {2}pods:\s+110$/m);
    expect(describe).toMatch(/^ {2}Ready\s+True\s/m);
    expect(describe).toMatch(/^ {2}MemoryPressure\s+False\s/m);
  });

  it('creates a namespace from a file; objects without -n go to default; one name per namespace', async () => {
    const file = join(dir, 'ns.yaml');
    writeFileSync(file, `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${ns}\n`);
    expect(await kc(['create', '-f', file])).toBe(`namespace/${ns} created\n`);
    expect(rows(await kc(['get', 'ns']))).toContainEqual([ns, 'Active', expect.stringMatching(/^\d+[smh]/)]);
    expect(await kc(['describe', 'ns', ns])).toMatch(/^Status:\s+Active$/m);
    expect(await kc(['create', 'configmap', 'twice', '--from-literal=a=b'])).toBe('configmap/twice created\n');
    expect(await kc(['get', 'configmap', 'twice', '-o', 'jsonpath={.metadata.namespace}'])).toBe('default');
    expect(await k(['create', 'configmap', 'twice', '--from-literal=a=b'])).toBe('configmap/twice created\n');
    const again = await kubectl(['create', 'configmap', 'twice', '--from-literal=a=b', '-n', ns]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toBe('error: failed to create configmap: configmaps "twice" already exists\n');
    await kc(['delete', 'configmap', 'twice']);
  });

  it('runs kubectl create deployment to a Running pod with an IP from the node range (get deployments, get pods -o wide)', async () => {
    expect(await k(['create', 'deployment', 'web', '--image=skiff/web:1.0', '--replicas=1'])).toBe('deployment.apps/web created\n');
    await eventually(async () => (await jsonpath(['get', 'deployment', 'web'], '{.status.availableReplicas}')) === '1', 'deployment web available', 120_000, 500);
    const deployments = await k(['get', 'deployments']);
    expect(header(deployments)).toEqual(['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE']);
    expect(rows(deployments)[0]?.slice(0, 4)).toEqual(['web', '1/1', '1', '1']);
    const [pod] = await webPods();
    expect(pod).toMatch(/^web-[a-z0-9]+-[a-z0-9]{5}$/);
    const wide = await k(['get', 'pods', '-o', 'wide']);
    expect(header(wide)).toEqual(['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES']);
    const row = rows(wide).find((r) => r[0] === pod) ?? [];
    expect(row.slice(1, 4)).toEqual(['1/1', 'Running', '0']);
    expect(row[6]).toBe(nodeName);
    expect(row[5]?.split('.').slice(0, 3).join('.')).toBe(podCidr.split('.').slice(0, 3).join('.'));
    // The pod answers on its IP (routed to the node's bridge) with its name.
    expect(await eventually(() => get(`http://${row[5]}/`), 'the pod to answer', 30_000, 500)).toBe(`${pod}\n`);
  });

  it('runs the pod on the node as a pause container holding its network and the app container in it (Docker)', async () => {
    const [pod] = await webPods();
    const uid = await jsonpath(['get', 'pod', pod as string], '{.metadata.uid}');
    const containers = await docker.listContainers({ filters: { label: [`io.kubernetes.pod.uid=${uid}`, `io.skiff.node=${nodeName}`] } });
    const byName = new Map(containers.map((c) => [c.Names[0]?.replace(/^\//, ''), c]));
    const sandbox = byName.get(`k8s_POD_${pod}_${ns}_${uid}_0`);
    const app = byName.get(`k8s_web_${pod}_${ns}_${uid}_0`);
    expect(sandbox?.Image).toBe('skiff/pause:3.10');
    expect(sandbox?.Labels['io.kubernetes.docker.type']).toBe('podsandbox');
    expect(app?.Image).toBe('skiff/web:1.0');
    expect(app?.Labels).toMatchObject({ 'io.kubernetes.docker.type': 'container', 'io.kubernetes.container.name': 'web', 'io.kubernetes.pod.namespace': ns, 'io.kubernetes.pod.name': pod });
    expect(app?.HostConfig.NetworkMode).toBe(`container:${sandbox?.Id}`);
    expect((await docker.getContainer(app?.Id as string).inspect()).State.Running).toBe(true);
  });

  it('shows the pod as YAML with metadata, spec and the status the node reports', async () => {
    const [pod] = await webPods();
    const yaml = await k(['get', 'pod', pod as string, '-o', 'yaml']);
    expect(yaml).toMatch(/^apiVersion: v1$/m);
    expect(yaml).toMatch(/^kind: Pod$/m);
    const o = await json(['get', 'pod', pod as string]);
    expect(o.metadata).toMatchObject({ name: pod, namespace: ns, labels: { app: 'web', 'pod-template-hash': expect.any(String) }, uid: expect.any(String), resourceVersion: expect.any(String), creationTimestamp: expect.any(String) });
    expect(o.metadata.ownerReferences).toEqual([expect.objectContaining({ apiVersion: 'apps/v1', kind: 'ReplicaSet', controller: true, blockOwnerDeletion: true })]);
    expect(o.spec).toMatchObject({ nodeName, restartPolicy: 'Always', containers: [expect.objectContaining({ name: 'web', image: 'skiff/web:1.0' })] });
    expect(o.status).toMatchObject({ phase: 'Running', hostIP: expect.any(String), podIP: expect.any(String), qosClass: 'BestEffort', startTime: expect.any(String) });
    expect(o.status.conditions.map((c: Obj) => `${c.type}=${c.status}`).sort()).toEqual(['ContainersReady=True', 'Initialized=True', 'PodReadyToStartContainers=True', 'PodScheduled=True', 'Ready=True']);
    expect(o.status.containerStatuses[0]).toMatchObject({ name: 'web', ready: true, restartCount: 0, image: 'skiff/web:1.0', containerID: expect.stringMatching(/^docker:\/\/[0-9a-f]{64}$/), state: { running: { startedAt: expect.any(String) } } });
  });

  it('prints the pod log with kubectl logs and follows it with logs -f', async () => {
    const [pod] = await webPods();
    expect(await k(['logs', pod as string])).toContain('web-server: listening on port 80\n');
    const { child, out } = background(['logs', '-f', pod as string]);
    try {
      await eventually(() => out().includes('listening on port 80'), `logs -f to print the log so far (got ${JSON.stringify(out())})`, 30_000);
      const before = lines(out()).length;
      const ip = await jsonpath(['get', 'pod', pod as string], '{.status.podIP}');
      // httpd -v logs every request: a request made now shows up in the open stream.
      await get(`http://${ip}/healthz`);
      await eventually(() => lines(out()).length > before, `logs -f to print the new request (got ${JSON.stringify(out())})`, 30_000);
      expect(child.exitCode).toBeNull();
    } finally {
      await stop(child);
    }
  });

  it('runs commands in the pod with kubectl exec, exec -i and exec -it', async () => {
    const [pod] = await webPods();
    expect(await k(['exec', pod as string, '--', 'hostname'])).toBe(`${pod}\n`);
    const failed = await kubectl(['exec', pod as string, '-n', ns, '--', 'sh', '-c', 'exit 7']);
    expect(failed.code).toBe(7);
    expect(failed.stderr).toContain('command terminated with exit code 7');
    expect(await k(['exec', '-i', pod as string, '--', 'sh'], 'echo "from stdin $(hostname)"\nexit\n')).toBe(`from stdin ${pod}\n`);
    // script(1) gives kubectl a terminal, so that -t asks for one in the container.
    const tty = await execa('script', ['-qec', `kubectl exec -it ${pod} -n ${ns} -- sh -c "tty; echo done"`, '/dev/null'], { env: { ...process.env, KUBECONFIG: kubeconfig }, reject: false, timeout: 60_000, input: '' });
    expect(tty.exitCode, tty.stdout).toBe(0);
    // When script(1) meets the end of its own stdin while the command runs, it types its end-of-file character (^D)
    // into the terminal; kubectl passes it on raw and the container's canonical tty echoes it in caret notation
    // (Linux turns EOF into a NUL: "^@" before "done"). Noise of the harness, not of the exec.
    expect(tty.stdout).toMatch(/\/dev\/pts\/\d+\r?\n(\^.)*done/);
  });

  it('forwards a local port to the pod and to the deployment with kubectl port-forward', async () => {
    const [pod] = await webPods();
    for (const target of [`pod/${pod}`, 'deployment/web']) {
      const local = await freePort();
      const { child, out } = background(['port-forward', target, `${local}:80`]);
      try {
        await eventually(() => out().includes(`Forwarding from 127.0.0.1:${local} -> 80`), `port-forward ${target} to listen (got ${JSON.stringify(out())})`, 30_000);
        for (let i = 0; i < 3; i++) expect(await get(`http://127.0.0.1:${local}/`)).toBe(`${pod}\n`);
        expect(await get(`http://127.0.0.1:${local}/healthz`)).toBe('ok\n');
      } finally {
        await stop(child);
      }
    }
  });

  it('exposes the deployment: get svc, describe svc and the endpoints list the pod', async () => {
    expect(await k(['expose', 'deployment', 'web', '--port', '80'])).toBe('service/web exposed\n');
    expect(await k(['expose', 'deployment', 'web', '--name', 'web-8080', '--port', '8080', '--target-port', '80'])).toBe('service/web-8080 exposed\n');
    const svc = await k(['get', 'svc']);
    expect(header(svc)).toEqual(['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE']);
    const web = rows(svc).find((r) => r[0] === 'web') ?? [];
    expect(web.slice(1, 5)).toEqual(['ClusterIP', expect.stringMatching(/^10\.(9[6-9]|10\d|11[01])\.\d+\.\d+$/), '<none>', '80/TCP']);
    expect(rows(svc).find((r) => r[0] === 'web-8080')?.slice(1, 5)).toEqual(['ClusterIP', expect.any(String), '<none>', '8080/TCP']);
    const ip = await jsonpath(['get', 'pods', '-l', 'app=web'], '{.items[0].status.podIP}');
    await eventually(async () => (await endpoints('web')).join() === `${ip}:80`, 'the pod in the endpoints of web', 60_000, 500);
    const describe = await k(['describe', 'svc', 'web']);
    expect(describe).toMatch(/^Selector:\s+app=web$/m);
    expect(describe).toMatch(/^Type:\s+ClusterIP$/m);
    expect(describe).toMatch(new RegExp(`^IP:\\s+${web[2]?.replace(/\./g, '\\.')}$`, 'm'));
    expect(describe).toMatch(/^Port:\s+<unset>\s+80\/TCP$/m);
    expect(describe).toMatch(/^TargetPort:\s+80\/TCP$/m);
    expect(describe).toMatch(new RegExp(`^Endpoints:\\s+${ip.replace(/\./g, '\\.')}:80$`, 'm'));
    const d8080 = await k(['describe', 'svc', 'web-8080']);
    expect(d8080).toMatch(/^Port:\s+<unset>\s+8080\/TCP$/m);
    expect(d8080).toMatch(/^TargetPort:\s+80\/TCP$/m);
    await eventually(async () => (await endpoints('web-8080')).join() === `${ip}:80`, 'the pod in the endpoints of web-8080', 60_000, 500);
    const ep = await k(['get', 'endpoints', 'web']);
    expect(header(ep)).toEqual(['NAME', 'ENDPOINTS', 'AGE']);
    expect(rows(ep)[0]?.slice(0, 2)).toEqual(['web', `${ip}:80`]);
    // A bare pod with kubectl run, started after the services, to talk to them from inside the cluster.
    expect(await k(['run', 'client', '--image=skiff/busybox:1.0', '--', 'exit-with', '0', '3600'])).toBe('pod/client created\n');
  });

  it('answers on the ClusterIP and by DNS name from another pod, which has WEB_SERVICE_HOST and WEB_SERVICE_PORT', async () => {
    const [pod] = await webPods();
    const ip = await jsonpath(['get', 'svc', 'web'], '{.spec.clusterIP}');
    const ip8080 = await jsonpath(['get', 'svc', 'web-8080'], '{.spec.clusterIP}');
    // From this machine: the service range is routed to the node's bridge and the proxy's rules answer it.
    expect(await eventually(() => get(`http://${ip}/`), 'the ClusterIP to answer', 60_000, 500)).toBe(`${pod}\n`);
    expect(await eventually(() => get(`http://${ip8080}:8080/`), 'port 8080 of web-8080 to answer', 60_000, 500)).toBe(`${pod}\n`);
    await running('client');
    const inPod = (cmd: string): Promise<string> => k(['exec', 'client', '--', 'sh', '-c', cmd]);
    expect(await eventually(() => inPod(`timeout 10 wget -q -O- http://${ip}/`), 'the ClusterIP from the client pod', 60_000, 1000)).toBe(`${pod}\n`);
    expect(await inPod(`timeout 10 wget -q -O- http://${ip8080}:8080/`)).toBe(`${pod}\n`);
    // The pod's resolver is the cluster DNS (kube-dns, 10.96.0.10) with upstream's search path.
    const resolv = await k(['exec', 'client', '--', 'cat', '/etc/resolv.conf']);
    expect(resolv).toMatch(/^nameserver 10\.96\.0\.10$/m);
    expect(resolv).toMatch(new RegExp(`^search ${ns}\\.svc\\.cluster\\.local svc\\.cluster\\.local cluster\\.local\\b`, 'm'));
    expect(resolv).toMatch(/^options ndots:5$/m);
    expect(await jsonpath(['get', 'svc', 'kube-dns', '-n', 'kube-system'], '{.spec.clusterIP}')).toBe('10.96.0.10');
    // By name, through the pod's libc resolver: the short name and the full one.
    expect(await eventually(() => inPod('timeout 10 wget -q -O- http://web/'), 'http://web/ from the client pod', 60_000, 1000)).toBe(`${pod}\n`);
    expect(await inPod(`timeout 10 wget -q -O- http://web.${ns}.svc.cluster.local/`)).toBe(`${pod}\n`);
    expect(await inPod('timeout 10 wget -q -O- http://web-8080:8080/')).toBe(`${pod}\n`);
    // nslookup asks 10.96.0.10 itself. busybox's tries every search domain and exits 1 when any of them is NXDOMAIN
    // (web.svc.cluster.local is), as it does against CoreDNS: what it printed is what counts.
    const nslookup = async (name: string): Promise<string> => {
      const r = await kubectl(['exec', 'client', '-n', ns, '--', 'nslookup', name]);
      return `${r.stdout}${r.stderr}`;
    };
    const short = await nslookup('web');
    expect(short).toMatch(new RegExp(`Name:\\s+web\\.${ns}\\.svc\\.cluster\\.local\\s+Address:\\s+${ip.replace(/\./g, '\\.')}`));
    expect(short).toMatch(/^Server:\s+10\.96\.0\.10$/m);
    expect(await nslookup(`web.${ns}.svc.cluster.local`)).toMatch(new RegExp(`Address:\\s+${ip.replace(/\./g, '\\.')}`));
    // kubernetes.default has a dot: the libc resolver (ndots:5) still walks the search path to the API's service.
    const api = await kubectl(['exec', 'client', '-n', ns, '--', 'timeout', '10', 'wget', '-O', '/dev/null', 'http://kubernetes.default:443/']);
    expect(`${api.stdout}${api.stderr}`).toContain('Connecting to kubernetes.default:443 (10.96.0.1:443)');
    expect(await nslookup('kubernetes.default.svc.cluster.local')).toMatch(/Address:\s+10\.96\.0\.1\b/);
    // The client started after the service: its environment names it.
    const env = await k(['exec', 'client', '--', 'env']);
    expect(env).toMatch(new RegExp(`^WEB_SERVICE_HOST=${ip.replace(/\./g, '\\.')}$`, 'm'));
    expect(env).toMatch(/^WEB_SERVICE_PORT=80$/m);
    expect(env).toMatch(new RegExp(`^WEB_8080_SERVICE_HOST=${ip8080.replace(/\./g, '\\.')}$`, 'm'));
    expect(env).toMatch(/^KUBERNETES_SERVICE_HOST=10\.96\.0\.1$/m);
  });

  it('scales to 4: the endpoints grow to 4 and requests spread over all of them', async () => {
    expect(await k(['scale', 'deployment', 'web', '--replicas=4'])).toBe('deployment.apps/web scaled\n');
    await eventually(async () => (await jsonpath(['get', 'deployment', 'web'], '{.status.readyReplicas}')) === '4', '4 ready replicas', 120_000, 500);
    const ips = await podIPs('app=web');
    expect(ips).toHaveLength(4);
    await eventually(async () => (await endpoints('web')).join() === ips.map((i) => `${i}:80`).sort().join(), 'endpoints of web to list the 4 pods', 60_000, 500);
    expect(rows(await k(['get', 'deployments', 'web']))[0]?.slice(0, 4)).toEqual(['web', '4/4', '4', '4']);
    const pods = await webPods();
    const svc = await jsonpath(['get', 'svc', 'web'], '{.spec.clusterIP}');
    const seen = new Set<string>();
    await eventually(
      async () => {
        seen.add((await get(`http://${svc}/`)).trim());
        return seen.size === 4;
      },
      `answers from all 4 pods (seen ${[...seen].join(', ')})`,
      60_000,
      50,
    );
    expect([...seen].sort()).toEqual(pods);
  });

  /**
   * Requests to the service while `during` runs. Each probe tries up to 10 times, 300 ms apart: a new connection can
   * race a pod's exit before the proxy drops its endpoint (as with kube-proxy); a probe that never gets through is an
   * outage.
   */
  const keepAsking = async (svcIP: string, during: () => Promise<void>): Promise<{ answers: string[]; failedProbes: string[]; failedAttempts: number }> => {
    const answers: string[] = [];
    const failedProbes: string[] = [];
    let failedAttempts = 0;
    let done = false;
    const loop = (async () => {
      while (!done) {
        let last = '';
        let ok = false;
        for (let attempt = 0; attempt < 10 && !ok; attempt++) {
          try {
            answers.push((await get(`http://${svcIP}/`)).trim());
            ok = true;
          } catch (err) {
            failedAttempts++;
            last = err instanceof Error ? `${err.message} ${String((err as { cause?: unknown }).cause ?? '')}` : String(err);
            await new Promise((r) => setTimeout(r, 300));
          }
        }
        if (!ok) failedProbes.push(last);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    try {
      await during();
    } finally {
      done = true;
      await loop;
    }
    return { answers, failedProbes, failedAttempts };
  };

  it('rolls out a new image with kubectl set image while the service keeps answering; rollout status and history', async () => {
    const svc = await jsonpath(['get', 'svc', 'web'], '{.spec.clusterIP}');
    const old = await webPods();
    const { answers, failedProbes, failedAttempts } = await keepAsking(svc, async () => {
      expect(await k(['set', 'image', 'deployment/web', 'web=skiff/web:2.0'])).toBe('deployment.apps/web image updated\n');
      const status = await k(['rollout', 'status', 'deployment', 'web', '--timeout=180s']);
      expect(lines(status).at(-1)).toBe('deployment "web" successfully rolled out');
    });
    process.stderr.write(`set image: ${answers.length} answers, ${failedAttempts} failed attempts\n`);
    expect(failedProbes).toEqual([]);
    // Old and new answered while it rolled, and only new pods answer now.
    expect(answers.some((a) => a.startsWith('v2 '))).toBe(true);
    expect(answers.some((a) => old.includes(a))).toBe(true);
    const pods = await webPods();
    expect(pods).toHaveLength(4);
    for (const p of pods) expect(old).not.toContain(p);
    expect(await jsonpath(['get', 'deployment', 'web'], '{.spec.template.spec.containers[0].image}')).toBe('skiff/web:2.0');
    await eventually(async () => (await endpoints('web')).join() === (await podIPs('app=web')).map((i) => `${i}:80`).sort().join(), 'endpoints of web to be the new pods', 60_000, 500);
    // The proxy follows the endpoints: soon every answer comes from a new pod, with the new image's answer. Checked
    // only inside the poll: eight good answers in a row may come by chance while the proxy, a moment behind the
    // Endpoints (its --min-sync-period), still sends some connections to an old pod's address, where they
    // hang (CI once saw a single GET after the poll time out so).
    await eventually(async () => {
      for (let i = 0; i < 8; i++) {
        const answer = await get(`http://${svc}/`);
        if (!answer.startsWith('v2 web-') || !pods.includes(answer.replace(/^v2 /, '').trim())) return false;
      }
      return true;
    }, 'only the new pods to answer, with the new image', 60_000, 500);
    // Two ReplicaSets: the old one scaled to 0, the new one with 4.
    const rs = ((await json(['get', 'rs', '-l', 'app=web'])).items as Obj[]).map((r) => [r.spec.template.spec.containers[0].image, r.spec.replicas, r.metadata.annotations['deployment.kubernetes.io/revision']]);
    expect(rs.sort()).toEqual([['skiff/web:1.0', 0, '1'], ['skiff/web:2.0', 4, '2']]);
    const history = await k(['rollout', 'history', 'deployment', 'web']);
    expect(lines(history).map((l) => l.trim().split(/\s{2,}/))).toEqual([['deployment.apps/web'], ['REVISION', 'CHANGE-CAUSE'], ['1', '<none>'], ['2', '<none>']]);
  });

  it('rolls back with kubectl rollout undo: the old image answers again as revision 3', async () => {
    const svc = await jsonpath(['get', 'svc', 'web'], '{.spec.clusterIP}');
    const { failedProbes } = await keepAsking(svc, async () => {
      expect(await k(['rollout', 'undo', 'deployment', 'web'])).toBe('deployment.apps/web rolled back\n');
      expect(lines(await k(['rollout', 'status', 'deployment', 'web', '--timeout=180s'])).at(-1)).toBe('deployment "web" successfully rolled out');
    });
    expect(failedProbes).toEqual([]);
    expect(await jsonpath(['get', 'deployment', 'web'], '{.spec.template.spec.containers[0].image}')).toBe('skiff/web:1.0');
    await eventually(async () => (await endpoints('web')).join() === (await podIPs('app=web')).map((i) => `${i}:80`).sort().join(), 'endpoints of web to be the rolled-back pods', 60_000, 500);
    const pods = await webPods();
    await eventually(async () => {
      for (let i = 0; i < 8; i++) if (!pods.includes((await get(`http://${svc}/`)).trim())) return false;
      return true;
    }, 'only the rolled-back pods to answer (v1)', 60_000, 500);
    const history = await k(['rollout', 'history', 'deployment', 'web']);
    expect(lines(history).slice(2).map((l) => l.trim().split(/\s{2,}/)[0])).toEqual(['2', '3']);
    expect(await k(['rollout', 'history', 'deployment', 'web', '--revision=3'])).toMatch(/Image:\s+skiff\/web:1\.0/);
  });

  it('mounts a ConfigMap made from files and gives it and a Secret as env; the API holds the secret in base64', async () => {
    const f1 = join(dir, 'game.properties');
    const f2 = join(dir, 'ui.properties');
    writeFileSync(f1, 'enemies=aliens\nlives=3\n');
    writeFileSync(f2, 'color.good=purple\nhow.nice.to.look=fairlyNice\n');
    expect(await k(['create', 'configmap', 'game-config', `--from-file=${f1}`, `--from-file=${f2}`])).toBe('configmap/game-config created\n');
    const cm = await json(['get', 'configmap', 'game-config']);
    expect(cm.data).toEqual({ 'game.properties': 'enemies=aliens\nlives=3\n', 'ui.properties': 'color.good=purple\nhow.nice.to.look=fairlyNice\n' });
    const yaml = await k(['get', 'configmap', 'game-config', '-o', 'yaml']);
    expect(yaml).toMatch(/^kind: ConfigMap$/m);
    expect(yaml).toMatch(/^ {2}game\.properties: \|\n {4}enemies=aliens\n {4}lives=3$/m);
    const describe = await k(['describe', 'configmap', 'game-config']);
    expect(describe).toMatch(/^Name:\s+game-config$/m);
    expect(describe).toMatch(/^game\.properties:\n----\nenemies=aliens\nlives=3$/m);
    expect(await k(['create', 'secret', 'generic', 'db', '--from-literal=password=s3cret', '--from-literal=user=admin'])).toBe('secret/db created\n');
    expect(await jsonpath(['get', 'secret', 'db'], '{.data.password}')).toBe(Buffer.from('s3cret').toString('base64'));
    expect(await jsonpath(['get', 'secret', 'db'], '{.type}')).toBe('Opaque');
    await k(
      ['apply', '-f', '-'],
      `apiVersion: v1
kind: Pod
metadata:
  name: configured
spec:
  containers:
  - name: app
    image: skiff/busybox:1.0
    command: ["exit-with", "0", "3600"]
    env:
    - name: GAME
      valueFrom: {configMapKeyRef: {name: game-config, key: game.properties}}
    - name: DB_PASSWORD
      valueFrom: {secretKeyRef: {name: db, key: password}}
    envFrom:
    - configMapRef: {name: game-config}
      prefix: CM_
    - secretRef: {name: db}
      prefix: DB_
    volumeMounts:
    - {name: game, mountPath: /etc/game}
    - {name: db, mountPath: /etc/db}
  volumes:
  - name: game
    configMap: {name: game-config}
  - name: db
    secret: {secretName: db}
`,
    );
    await running('configured');
    expect(await k(['exec', 'configured', '--', 'cat', '/etc/game/game.properties'])).toBe('enemies=aliens\nlives=3\n');
    expect(await k(['exec', 'configured', '--', 'cat', '/etc/game/ui.properties'])).toBe('color.good=purple\nhow.nice.to.look=fairlyNice\n');
    expect(await k(['exec', 'configured', '--', 'cat', '/etc/db/password'])).toBe('s3cret');
    const env = await k(['exec', 'configured', '--', 'sh', '-c', 'echo "GAME=[$GAME]"; echo "DB_PASSWORD=$DB_PASSWORD"; echo "DB_user=$DB_user"']);
    expect(env).toBe('GAME=[enemies=aliens\nlives=3\n]\nDB_PASSWORD=s3cret\nDB_user=admin\n');
  });

  it('ends pods by restartPolicy: Never to Completed or Error, OnFailure restarts a failed container', async () => {
    expect(await k(['run', 'done', '--image=skiff/busybox:1.0', '--restart=Never', '--', 'exit-with', '0'])).toBe('pod/done created\n');
    expect(await k(['run', 'broken', '--image=skiff/busybox:1.0', '--restart=Never', '--', 'exit-with', '3'])).toBe('pod/broken created\n');
    expect(await k(['run', 'retry', '--image=skiff/busybox:1.0', '--restart=OnFailure', '--', 'exit-with', '1', '1'])).toBe('pod/retry created\n');
    await eventually(async () => (await jsonpath(['get', 'pod', 'done'], '{.status.phase}')) === 'Succeeded', 'pod done Succeeded', 120_000, 500);
    await eventually(async () => (await jsonpath(['get', 'pod', 'broken'], '{.status.phase}')) === 'Failed', 'pod broken Failed', 120_000, 500);
    const status = async (pod: string): Promise<string[]> => rows(await k(['get', 'pod', pod]))[0]?.slice(1, 4) ?? [];
    expect(await status('done')).toEqual(['0/1', 'Completed', '0']);
    expect(await status('broken')).toEqual(['0/1', 'Error', '0']);
    expect((await json(['get', 'pod', 'broken'])).status.containerStatuses[0].state.terminated).toMatchObject({ exitCode: 3, reason: 'Error' });
    await eventually(async () => Number(await jsonpath(['get', 'pod', 'retry'], '{.status.containerStatuses[0].restartCount}')) >= 1, 'pod retry restarted', 120_000, 500);
    expect(await jsonpath(['get', 'pod', 'retry'], '{.status.phase}')).not.toMatch(/Succeeded|Failed/);
    await k(['delete', 'pod', 'done', 'broken', 'retry', '--wait=false']);
  });

  it('restarts a container whose liveness probe fails, into CrashLoopBackOff', async () => {
    await k(
      ['apply', '-f', '-'],
      `apiVersion: v1
kind: Pod
metadata:
  name: unhealthy
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: web
    image: skiff/web:1.0
    livenessProbe:
      httpGet: {path: /no-such-page, port: 80}
      periodSeconds: 1
      failureThreshold: 1
`,
    );
    let last: string[] = [];
    const row = await eventually(
      async () => {
        last = rows(await k(['get', 'pod', 'unhealthy']))[0] ?? [];
        return last[2] === 'CrashLoopBackOff' && Number(last[3]?.split(' ')[0]) >= 1 ? last : undefined;
      },
      'pod unhealthy in CrashLoopBackOff after a restart',
      120_000,
      500,
    ).catch((err: Error) => {
      throw new Error(`${err.message} (last: ${JSON.stringify(last)})`);
    });
    expect(row.slice(0, 2)).toEqual(['unhealthy', '0/1']);
    const status = (await json(['get', 'pod', 'unhealthy'])).status.containerStatuses[0] as Obj;
    expect(status.lastState.terminated).toMatchObject({ reason: expect.any(String), exitCode: expect.any(Number) });
    const events = await k(['get', 'events', '--field-selector', 'involvedObject.name=unhealthy', '-o', 'jsonpath={range .items[*]}{.reason}: {.message}{"\\n"}{end}']);
    expect(events).toContain('Unhealthy: Liveness probe failed: HTTP probe failed with statuscode: 404\n');
    expect(events).toContain('Killing: Container web failed liveness probe, will be restarted');
    expect(events).toMatch(/^BackOff: Back-off restarting failed container web in pod unhealthy_walk\(/m);
    // It keeps going: the restart count grows.
    await eventually(async () => Number(await jsonpath(['get', 'pod', 'unhealthy'], '{.status.containerStatuses[0].restartCount}')) >= 2, 'a second restart', 120_000, 1000);
  }, 300_000);

  it('takes a pod whose readiness probe fails out of the endpoints without restarting it', async () => {
    await k(
      ['apply', '-f', '-'],
      `apiVersion: v1
kind: Pod
metadata:
  name: gate
  labels: {app: gate}
spec:
  containers:
  - name: web
    image: skiff/web:1.0
    readinessProbe:
      exec: {command: ["cat", "/tmp/ready"]}
      periodSeconds: 1
      failureThreshold: 1
`,
    );
    expect(await k(['expose', 'pod', 'gate', '--port', '80'])).toBe('service/gate exposed\n');
    await running('gate');
    const ip = await jsonpath(['get', 'pod', 'gate'], '{.status.podIP}');
    const notReady = async (): Promise<string[]> => ((await json(['get', 'endpoints', 'gate'])).subsets ?? []).flatMap((s: Obj) => ((s.notReadyAddresses ?? []) as Obj[]).map((a) => a.ip as string));
    await eventually(async () => (await notReady()).includes(ip), 'gate listed as not ready', 60_000, 500);
    expect(await endpoints('gate')).toEqual([]);
    expect(rows(await k(['get', 'pod', 'gate']))[0]?.slice(1, 3)).toEqual(['0/1', 'Running']);
    await k(['exec', 'gate', '--', 'touch', '/tmp/ready']);
    await eventually(async () => (await endpoints('gate')).join() === `${ip}:80`, 'gate in the endpoints once ready', 60_000, 500);
    expect(rows(await k(['get', 'pod', 'gate']))[0]?.slice(1, 4)).toEqual(['1/1', 'Running', '0']);
    await k(['exec', 'gate', '--', 'rm', '/tmp/ready']);
    await eventually(async () => (await endpoints('gate')).length === 0 && (await notReady()).includes(ip), 'gate out of the endpoints again', 60_000, 500);
    const pod = await json(['get', 'pod', 'gate']);
    expect(pod.status.conditions.find((c: Obj) => c.type === 'Ready')?.status).toBe('False');
    expect(pod.status.containerStatuses[0]).toMatchObject({ ready: false, restartCount: 0, started: true });
    expect(pod.status.containerStatuses[0].state.running).toBeDefined();
    expect(await k(['get', 'events', '--field-selector', 'involvedObject.name=gate,reason=Unhealthy', '-o', 'jsonpath={.items[*].message}'])).toContain("Readiness probe failed: cat: can't open '/tmp/ready': No such file or directory");
  });

  it('selects and changes labels; a pod whose label no longer matches leaves the endpoints and is replaced', async () => {
    const pods = await webPods();
    expect(pods).toHaveLength(4);
    expect(lines(await k(['get', 'pods', '-l', 'app=web', '-o', 'name'])).sort()).toEqual(pods.map((p) => `pod/${p}`));
    expect(lines(await k(['get', 'svc', '-l', 'app=web', '-o', 'name'])).sort()).toEqual(['service/web', 'service/web-8080']);
    const p = pods[0] as string;
    expect(await k(['label', 'pod', p, 'role=backend'])).toBe(`pod/${p} labeled\n`);
    expect(await k(['get', 'pods', '-l', 'role=backend', '-o', 'name'])).toBe(`pod/${p}\n`);
    const refused = await kubectl(['label', 'pod', p, 'role=abc', '-n', ns]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("'role' already has a value (backend), and --overwrite is false");
    expect(await k(['label', 'pod', p, 'role=abc', '--overwrite'])).toBe(`pod/${p} labeled\n`);
    expect(rows(await k(['get', 'pod', p, '-L', 'role']))[0]?.at(-1)).toBe('abc');
    expect(await k(['label', 'pod', p, 'role-'])).toBe(`pod/${p} unlabeled\n`);
    expect(await k(['get', 'pod', p, '--show-labels'])).not.toContain('role=');

    // Out of the selector: out of the endpoints, released by its ReplicaSet, which makes a new pod.
    const ip = await jsonpath(['get', 'pod', p], '{.status.podIP}');
    expect(await k(['label', 'pod', p, 'app=debug', '--overwrite'])).toBe(`pod/${p} labeled\n`);
    await eventually(async () => !(await endpoints('web')).includes(`${ip}:80`), `${p} out of the endpoints of web`, 60_000, 500);
    await eventually(async () => (await jsonpath(['get', 'deployment', 'web'], '{.status.readyReplicas}')) === '4' && (await webPods()).length === 4, 'a replacement pod ready', 120_000, 500);
    const now = await webPods();
    expect(now).not.toContain(p);
    expect(now.filter((n) => !pods.includes(n))).toHaveLength(1);
    await eventually(async () => (await endpoints('web')).length === 4, 'endpoints of web back to 4', 60_000, 500);
    const released = await json(['get', 'pod', p]);
    expect(released.metadata.ownerReferences ?? []).toEqual([]);
    expect(released.status.phase).toBe('Running');
    await k(['delete', 'pod', p, '--wait=false']);
  });

  it('cordons the node (Ready,SchedulingDisabled; no new pod lands there) and uncordons it', async () => {
    expect(await kc(['cordon', nodeName])).toBe(`node/${nodeName} cordoned\n`);
    try {
      expect(rows(await kc(['get', 'nodes'])).find((r) => r[0] === nodeName)?.[1]).toBe('Ready,SchedulingDisabled');
      expect(await k(['run', 'late', '--image=skiff/web:1.0'])).toBe('pod/late created\n');
      const message = await eventually(async () => (await k(['get', 'events', '--field-selector', 'involvedObject.name=late,reason=FailedScheduling', '-o', 'jsonpath={.items[*].message}'])).trim() || undefined, 'FailedScheduling for pod late', 60_000, 500);
      expect(message).toContain('0/1 nodes are available: 1 node(s) were unschedulable.');
      expect(rows(await k(['get', 'pod', 'late', '-o', 'wide']))[0]?.slice(1, 3)).toEqual(['0/1', 'Pending']);
      expect(await jsonpath(['get', 'pod', 'late'], '{.spec.nodeName}')).toBe('');
      // What already runs there keeps running.
      expect(await jsonpath(['get', 'deployment', 'web'], '{.status.readyReplicas}')).toBe('4');
    } finally {
      expect(await kc(['uncordon', nodeName])).toBe(`node/${nodeName} uncordoned\n`);
    }
    expect(rows(await kc(['get', 'nodes'])).find((r) => r[0] === nodeName)?.[1]).toBe('Ready');
    await running('late');
    expect(await jsonpath(['get', 'pod', 'late'], '{.spec.nodeName}')).toBe(nodeName);
  });

  it('exposes the deployment as a NodePort that answers on the node address', async () => {
    expect(await k(['expose', 'deployment', 'web', '--name', 'web-nodeport', '--type', 'NodePort', '--port', '80'])).toBe('service/web-nodeport exposed\n');
    const row = rows(await k(['get', 'svc', 'web-nodeport']))[0] ?? [];
    expect(row[1]).toBe('NodePort');
    const port = Number(/^80:(\d+)\/TCP$/.exec(row[4] ?? '')?.[1]);
    expect(port).toBeGreaterThanOrEqual(30000);
    expect(port).toBeLessThanOrEqual(32767);
    expect(await jsonpath(['get', 'svc', 'web-nodeport'], '{.spec.ports[0].nodePort}')).toBe(String(port));
    expect(await k(['describe', 'svc', 'web-nodeport'])).toMatch(new RegExp(`^NodePort:\\s+<unset>\\s+${port}/TCP$`, 'm'));
    // The node's address on its pod bridge is one of its own: the NodePort answers there, from the host and from a pod.
    const pods = await webPods();
    expect(pods).toContain((await eventually(() => get(`http://${gateway}:${port}/`), 'the NodePort from this machine', 60_000, 500)).trim());
    expect(pods).toContain((await k(['exec', 'client', '--', 'timeout', '10', 'wget', '-q', '-O-', `http://${gateway}:${port}/`])).trim());
  });

  it('runs a ReplicationController too: its pods run and join a service by their labels', async () => {
    await k(
      ['apply', '-f', '-'],
      `apiVersion: v1
kind: ReplicationController
metadata:
  name: legacy
spec:
  replicas: 2
  selector: {app: legacy}
  template:
    metadata:
      labels: {app: legacy}
    spec:
      containers:
      - name: web
        image: skiff/web:1.0
`,
    );
    await eventually(async () => (await jsonpath(['get', 'rc', 'legacy'], '{.status.readyReplicas}')) === '2', 'replication controller legacy ready', 120_000, 500);
    const rc = await k(['get', 'rc', 'legacy']);
    expect(header(rc)).toEqual(['NAME', 'DESIRED', 'CURRENT', 'READY', 'AGE']);
    expect(rows(rc)[0]?.slice(0, 4)).toEqual(['legacy', '2', '2', '2']);
    expect(await k(['expose', 'rc', 'legacy', '--port', '80'])).toBe('service/legacy exposed\n');
    const ips = await podIPs('app=legacy');
    expect(ips).toHaveLength(2);
    await eventually(async () => (await endpoints('legacy')).join() === ips.map((i) => `${i}:80`).join(), 'the endpoints of legacy', 60_000, 500);
    const svc = await jsonpath(['get', 'svc', 'legacy'], '{.spec.clusterIP}');
    expect(await eventually(() => get(`http://${svc}/`), 'service legacy to answer', 60_000, 500)).toMatch(/^legacy-[a-z0-9]{5}\n$/);
  });

  it('lists the events of the namespace: Scheduled, Pulled, Created, Started, Killing, Unhealthy, BackOff', async () => {
    const events = await k(['get', 'events']);
    expect(header(events)).toEqual(['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE']);
    const reasons = new Set(rows(events).map((r) => r[2]));
    for (const r of ['Scheduled', 'Pulled', 'Created', 'Started', 'Killing', 'Unhealthy', 'BackOff', 'FailedScheduling', 'ScalingReplicaSet', 'SuccessfulCreate', 'SuccessfulDelete']) expect(reasons, r).toContain(r);
    const client = rows(await k(['get', 'events', '--field-selector', 'involvedObject.name=client']));
    const byReason = (r: string) => client.find((row) => row[2] === r);
    expect(byReason('Scheduled')?.slice(1, 5)).toEqual(['Normal', 'Scheduled', 'pod/client', `Successfully assigned ${ns}/client to ${nodeName}`]);
    expect(byReason('Pulled')?.slice(1, 5)).toEqual(['Normal', 'Pulled', 'pod/client', 'Container image "skiff/busybox:1.0" already present on machine']);
    expect(byReason('Created')?.slice(1, 4)).toEqual(['Normal', 'Created', 'pod/client']);
    expect(byReason('Created')?.[4]).toMatch(/^Created container:? client$/);
    expect(byReason('Started')?.slice(1, 5)).toEqual(['Normal', 'Started', 'pod/client', 'Started container client']);
    const killing = rows(await k(['get', 'events', '--field-selector', 'reason=Killing']));
    expect(killing.some((r) => r[1] === 'Normal' && /^Stopping container web$/.test(r[4] ?? ''))).toBe(true);
    expect(rows(events).find((r) => r[2] === 'BackOff')?.[1]).toBe('Warning');
  });

  it('deletes the namespace: its pods and their containers are gone from Docker', async () => {
    const inNamespace = () => docker.listContainers({ all: true, filters: { label: [`io.kubernetes.pod.namespace=${ns}`, `io.skiff.node=${nodeName}`] } });
    expect((await inNamespace()).length).toBeGreaterThan(0);
    const del = await kubectl(['delete', 'ns', ns, '--timeout=150s']);
    expect(del.code, del.stderr).toBe(0);
    expect(del.stdout).toBe(`namespace "${ns}" deleted\n`);
    const gone = await kubectl(['get', 'ns', ns]);
    expect(gone.stderr).toContain(`Error from server (NotFound): namespaces "${ns}" not found`);
    await eventually(async () => (await inNamespace()).length === 0, `no container of namespace ${ns} in Docker`, 120_000, 1000);
    // The default namespace and the system's are untouched.
    expect(await kc(['get', 'svc', 'kubernetes', '-o', 'name'])).toBe('service/kubernetes\n');
  }, 200_000);
});

