import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { podResolvConf } from '../../../agent/kuberuntime/dns.js';
import type { Pod } from '../../../control/api/index.js';
import { formatResolvConf } from '../../../lib/resolvconf.js';
import { BUSYBOX, canNetns, NetLab } from './netlab.js';

/**
 * Cluster DNS end to end: `skiff proxy --cluster-dns 10.96.0.10` runs in the lab's node namespace against a real API
 * server (see dns-child.ts), and a process in the client namespace (standing for a pod whose traffic goes through the
 * node) resolves names with busybox nslookup against 10.96.0.10, which the proxy's rules redirect to its DNS server.
 * The client's /etc/resolv.conf (through `ip netns exec`'s /etc/netns/<name>/resolv.conf) is the one the agent would
 * write for a ClusterFirst pod in namespace "default".
 */

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../../..');
const lab = new NetLab(randomBytes(3).toString('hex'), 1);
const etcNetns = `/etc/netns/${lab.client}`;
let buildDir = '';
let child: ResultPromise | undefined;
let replies: AsyncIterator<string>;

async function next(): Promise<Record<string, unknown>> {
  const r = await replies.next();
  if (r.done) throw new Error('proxy child exited');
  return JSON.parse(r.value) as Record<string, unknown>;
}

async function send(msg: unknown): Promise<void> {
  child!.stdin!.write(`${JSON.stringify(msg)}\n`);
  const r = await next();
  if (r.error) throw new Error(String(r.error));
}

const core = { group: '', version: 'v1' };
const service = (name: string, spec: Record<string, unknown>, namespace = 'default') =>
  send({ op: 'create', ...core, resource: 'services', namespace, obj: { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace }, spec } });

/** nslookup from the client namespace (or another); the output, whether it succeeded or not. */
async function nslookup(args: string[], ns = lab.client): Promise<string> {
  const r = await execa('ip', ['netns', 'exec', ns, BUSYBOX, 'timeout', '10', BUSYBOX, 'nslookup', ...args], { reject: false });
  return `${r.stdout}\n${r.stderr}`;
}

/** Polls nslookup until its output matches (the proxy syncs its rules and informers asynchronously). */
async function resolves(args: string[], want: RegExp, timeoutMs = 30_000, ns = lab.client): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let out = '';
  while (Date.now() < deadline) {
    out = await nslookup(args, ns);
    if (want.test(out)) return out;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`nslookup ${args.join(' ')} never matched ${want}; last output:\n${out}`);
}

beforeAll(async () => {
  if (!canNetns) return;
  await lab.create();
  buildDir = await mkdtemp(join(here, '.skiff-test-build-'));
  const out = join(buildDir, 'dns-child.mjs');
  await execa(join(root, 'node_modules/.bin/esbuild'), [join(here, 'dns-child.ts'), '--bundle', '--platform=node', '--format=esm', '--packages=external', `--outfile=${out}`, '--log-level=warning']);
  const nodeResolv = join(buildDir, 'node-resolv.conf');
  await writeFile(nodeResolv, 'nameserver 127.0.0.2\n');
  // The "pod": its resolv.conf is what the agent writes for dnsPolicy ClusterFirst.
  const pod = { metadata: { name: 'client', namespace: 'default' }, spec: { containers: [] } } as unknown as Pod;
  await mkdir(etcNetns, { recursive: true });
  await writeFile(join(etcNetns, 'resolv.conf'), formatResolvConf(podResolvConf(pod, { clusterDNS: ['10.96.0.10'], clusterDomain: 'cluster.local' }, { nameservers: [], searches: [], options: [] }).conf));
  child = execa('ip', ['netns', 'exec', lab.node, process.execPath, out, nodeResolv], { stdin: 'pipe', stdout: 'pipe', stderr: 'inherit', reject: false, cwd: root });
  replies = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  expect(await next()).toEqual({ ready: true });
  await service('web', { type: 'ClusterIP', clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 80 }] });
  await service('db', { clusterIP: 'None', ports: [{ name: 'pg', port: 5432, protocol: 'TCP', targetPort: 5432 }] });
  await send({
    op: 'create',
    group: 'discovery.k8s.io',
    version: 'v1',
    resource: 'endpointslices',
    namespace: 'default',
    obj: {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'db-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'db' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: [lab.backendIP(0)], hostname: 'db-0', conditions: { ready: true } }],
      ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }],
    },
  });
}, 120_000);

afterAll(async () => {
  if (child) {
    // A clean stop lets the child's cluster remove what it made (its temporary kubeconfig); SIGKILL only if it hangs.
    child.stdin?.end(`${JSON.stringify({ op: 'stop' })}\n`);
    const killer = setTimeout(() => child?.kill('SIGKILL'), 20_000);
    await child;
    clearTimeout(killer);
  }
  await lab.destroy();
  await rm(etcNetns, { recursive: true, force: true });
  if (buildDir) await rm(buildDir, { recursive: true, force: true });
});

describe.skipIf(!canNetns)('cluster DNS from a network namespace', () => {
  it('resolves a service by its full name through the redirected Service IP', async () => {
    const out = await resolves(['web.default.svc.cluster.local.', '10.96.0.10'], /Address:\s*10\.96\.0\.20/);
    expect(out).toMatch(/Name:\s*web\.default\.svc\.cluster\.local/);
  });

  it('answers the node itself over UDP, the reply coming from the Service IP', async () => {
    // REDIRECT in OUTPUT sends the node's query to 127.0.0.1; an answer from the node's address would be dropped.
    await resolves(['web.default.svc.cluster.local.', '10.96.0.10'], /Address:\s*10\.96\.0\.20/, 30_000, lab.node);
  });

  it('resolves short names through the search path of a ClusterFirst resolv.conf', async () => {
    // busybox's nslookup applies the search path to dot-less names only (libc resolvers go by ndots).
    await resolves(['web'], /Address:\s*10\.96\.0\.20/);
    await resolves(['db'], new RegExp(`Name:\\s*db\\.default\\.svc\\.cluster\\.local[\\s\\S]*Address:\\s*${lab.backendIP(0).replace(/\./g, '\\.')}`));
  });

  it('answers headless services, endpoint hostnames, SRV and PTR from the API server state', async () => {
    await resolves(['db.default.svc.cluster.local.', '10.96.0.10'], new RegExp(`Address:\\s*${lab.backendIP(0).replace(/\./g, '\\.')}`));
    await resolves(['db-0.db.default.svc.cluster.local.', '10.96.0.10'], new RegExp(`Address:\\s*${lab.backendIP(0).replace(/\./g, '\\.')}`));
    await resolves(['-type=srv', '_pg._tcp.db.default.svc.cluster.local.', '10.96.0.10'], /5432 db-0\.db\.default\.svc\.cluster\.local/);
    await resolves(['10.96.0.20', '10.96.0.10'], /name = web\.default\.svc\.cluster\.local/);
  });

  it('follows changes: a new service resolves, a deleted one is NXDOMAIN', async () => {
    await service('late', { clusterIP: '10.96.0.30', ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }] });
    await resolves(['late.default.svc.cluster.local.', '10.96.0.10'], /Address:\s*10\.96\.0\.30/);
    await send({ op: 'delete', ...core, resource: 'services', namespace: 'default', obj: { metadata: { name: 'late' } } });
    await resolves(['late.default.svc.cluster.local.', '10.96.0.10'], /NXDOMAIN/);
  });

  it('forwards other names to the node resolver', async () => {
    await resolves(['example.org.', '10.96.0.10'], /Address:\s*192\.0\.2\.1/);
    await resolves(['nothing.example.', '10.96.0.10'], /NXDOMAIN/);
  });
});
