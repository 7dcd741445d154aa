import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execRunner } from '../../../proxy/exec.js';
import { cleanupIptables } from '../../../proxy/iptables/proxier.js';
import { eps, svc } from '../../unit/proxy/fixtures.js';
import { BUSYBOX, canNetns, NetLab, tally } from './netlab.js';

/**
 * Userspace mode end to end: the proxier runs as a child process inside the lab's node namespace (bundled from
 * userspace-child.ts with the esbuild that vite ships), its REDIRECT rules in that namespace only.
 */

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../../..');
const lab = new NetLab(randomBytes(3).toString('hex'));
let buildDir = '';
let child: ResultPromise | undefined;
let replies: AsyncIterator<string>;

const WEB = '10.96.0.10';
const STICKY = '10.96.0.20';
const EMPTY = '10.96.0.30';
const UDP = '10.96.0.40';
/** The cluster DNS Service IP the child's proxier sends to its DNS server (see userspace-child.ts). */
const DNS_IP = '10.96.0.53';

/** Asks argv[1]:53 over TCP for the A record of argv[2] and prints the first address. */
const TCP_QUERY = `
const net = require('node:net');
const packet = require('dns-packet');
const [server, name] = process.argv.slice(1);
const c = net.connect(53, server, () => c.write(packet.streamEncode({ type: 'query', id: 7, flags: packet.RECURSION_DESIRED, questions: [{ type: 'A', name }] })));
let buf = Buffer.alloc(0);
c.on('data', (d) => {
  buf = Buffer.concat([buf, d]);
  if (buf.length < 2 || buf.length < 2 + buf.readUInt16BE(0)) return;
  process.stdout.write(String(packet.streamDecode(buf).answers?.[0]?.data ?? 'no answer'));
  c.destroy();
});
c.on('error', (e) => process.stdout.write(e.message));
setTimeout(() => { process.stdout.write('timeout'); process.exit(0); }, 10000).unref();
`;

/** A UDP server answering each datagram with its name (argv[1]), on argv[2]:5353. */
const UDP_SERVER = `const s=require('dgram').createSocket('udp4');s.on('message',(m,r)=>s.send(process.argv[1],r.port,r.address));s.bind(5353,process.argv[2]);`;

/**
 * One datagram to argv[1]:argv[2] from a connected socket, which (as resolvers do) takes replies from that address
 * only: prints the reply, or "timeout".
 */
const UDP_ASK = `const s=require('dgram').createSocket('udp4');s.connect(Number(process.argv[2]),process.argv[1],()=>{s.on('message',m=>{console.log(String(m));process.exit(0)});s.send('q');setTimeout(()=>{console.log('timeout');process.exit(0)},3000)});`;

async function askUDP(ns: string, ip: string, port: number): Promise<string> {
  return (await lab.exec(ns, process.execPath, ['-e', UDP_ASK, ip, String(port)])).trim();
}

async function send(msg: unknown): Promise<Record<string, unknown>> {
  child!.stdin!.write(`${JSON.stringify(msg)}\n`);
  const r = await replies.next();
  if (r.done) throw new Error('proxy child exited');
  return JSON.parse(r.value) as Record<string, unknown>;
}

async function sync(): Promise<void> {
  expect(await send({ op: 'sync' })).toEqual({ ok: true });
}

const backends = (n: number): string[] => Array.from({ length: n }, (_, i) => lab.backendIP(i));

beforeAll(async () => {
  if (!canNetns) return;
  await lab.create();
  // Inside this test folder so that the bundle's bare imports (execa, pino, ...) resolve from node_modules.
  buildDir = await mkdtemp(join(here, '.skiff-test-build-'));
  const out = join(buildDir, 'child.mjs');
  await execa(join(root, 'node_modules/.bin/esbuild'), [join(here, 'userspace-child.ts'), '--bundle', '--platform=node', '--format=esm', '--packages=external', `--outfile=${out}`, '--log-level=warning']);
  child = execa('ip', ['netns', 'exec', lab.node, process.execPath, out], { stdin: 'pipe', stdout: 'pipe', stderr: 'inherit', reject: false });
  replies = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  await send({ op: 'service', obj: svc('web', { type: 'NodePort', clusterIP: WEB, ports: [{ port: 80, nodePort: 30080 }] }) });
  await send({ op: 'endpoints', obj: eps('web', backends(3), [{ port: 80 }]) });
  await send({ op: 'service', obj: svc('sticky', { clusterIP: STICKY, affinity: 300 }) });
  await send({ op: 'endpoints', obj: eps('sticky', backends(3), [{ port: 80 }]) });
  await send({ op: 'service', obj: svc('empty', { clusterIP: EMPTY }) });
  await sync();
}, 60_000);

afterAll(async () => {
  if (child) {
    child.stdin?.end();
    child.kill('SIGKILL');
    await child;
  }
  await lab.destroy();
  if (buildDir) await rm(buildDir, { recursive: true, force: true });
});

describe.skipIf(!canNetns)('userspace proxier in a network namespace', () => {
  it('redirects ClusterIP traffic to its listener and takes exact turns', async () => {
    for (const ns of [lab.node, lab.client]) {
      const got = await lab.fetch(ns, `http://${WEB}/`, 30);
      expect(tally(got)).toEqual({ 'backend-1': 10, 'backend-2': 10, 'backend-3': 10 });
      for (let i = 3; i < got.length; i++) expect(got[i]).toBe(got[i - 3]);
    }
  });

  it('handles hairpin traffic: an endpoint reaching itself through its service', async () => {
    expect(tally(await lab.fetch(lab.backends[0]!, `http://${WEB}/`, 6))).toEqual({ 'backend-1': 2, 'backend-2': 2, 'backend-3': 2 });
  });

  it('answers on the NodePort at the node address', async () => {
    expect(tally(await lab.fetch(lab.client, `http://${lab.nodeIP}:30080/`, 6))).toEqual({ 'backend-1': 2, 'backend-2': 2, 'backend-3': 2 });
  });

  it('pins a client with ClientIP affinity', async () => {
    expect(Object.keys(tally(await lab.fetch(lab.client, `http://${STICKY}/`, 12)))).toHaveLength(1);
  });

  it('sends nothing to a removed endpoint', async () => {
    await send({ op: 'endpoints', obj: eps('web', backends(2), [{ port: 80 }]) });
    await sync();
    expect(tally(await lab.fetch(lab.client, `http://${WEB}/`, 10))).toEqual({ 'backend-1': 5, 'backend-2': 5 });
  });

  it('resets connections at once when there are no endpoints', async () => {
    const t0 = Date.now();
    const [line] = await lab.fetch(lab.client, `http://${EMPTY}/`, 1);
    expect(line).toMatch(/^ERR/);
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('sends the cluster DNS Service IP to the DNS server: UDP from a pod and from the node itself, TCP from the node', async () => {
    for (const ns of [lab.client, lab.node]) {
      const udp = await execa('ip', ['netns', 'exec', ns, BUSYBOX, 'timeout', '10', BUSYBOX, 'nslookup', 'web.default.svc.cluster.local.', DNS_IP], { reject: false });
      expect(`${udp.stdout}\n${udp.stderr}`).toMatch(new RegExp(`Name:\\s*web\\.default\\.svc\\.cluster\\.local[\\s\\S]*Address:\\s*${WEB.replace(/\./g, '\\.')}`));
    }
    // busybox's nslookup has no TCP mode: one query over TCP (2-byte length prefix) with dns-packet.
    const tcp = await execa('ip', ['netns', 'exec', lab.node, process.execPath, '-e', TCP_QUERY, DNS_IP, 'web.default.svc.cluster.local'], { cwd: root, reject: false });
    expect(tcp.stdout).toBe(WEB);
  });

  it('relays UDP from a pod and from the node itself, replies coming back from the Service IP', async () => {
    for (const i of [0, 1]) lab.spawn(lab.backends[i]!, process.execPath, ['-e', UDP_SERVER, `udp-${i + 1}`, lab.backendIP(i)]);
    await send({ op: 'service', obj: svc('udp', { type: 'NodePort', clusterIP: UDP, ports: [{ port: 53, protocol: 'UDP', nodePort: 30053 }] }) });
    await send({ op: 'endpoints', obj: eps('udp', backends(2), [{ port: 5353, protocol: 'UDP' }]) });
    await sync();
    // Each ask is a new client socket, so a new flow: round robin over both backends.
    const answers = async (ns: string, ip: string, port: number): Promise<string[]> => {
      const got: string[] = [];
      for (let i = 0; i < 4; i++) got.push(await askUDP(ns, ip, port));
      return got.sort();
    };
    const deadline = Date.now() + 10_000;
    // The backends' servers start asynchronously.
    while ((await askUDP(lab.client, UDP, 53)) === 'timeout' && Date.now() < deadline);
    expect(await answers(lab.client, UDP, 53)).toEqual(['udp-1', 'udp-1', 'udp-2', 'udp-2']);
    // From the node: REDIRECT in OUTPUT sends to 127.0.0.1; a reply from the node's address would be dropped.
    expect(await answers(lab.node, UDP, 53)).toEqual(['udp-1', 'udp-1', 'udp-2', 'udp-2']);
    expect(await answers(lab.node, lab.nodeIP, 30053)).toEqual(['udp-1', 'udp-1', 'udp-2', 'udp-2']);
    expect(await answers(lab.client, lab.nodeIP, 30053)).toEqual(['udp-1', 'udp-1', 'udp-2', 'udp-2']);
  });

  it('cleanup removes the redirect chains', async () => {
    expect(await send({ op: 'stop' })).toEqual({ stopped: true });
    child = undefined;
    expect(await cleanupIptables(execRunner({ netns: lab.node }))).toEqual([]);
    expect(await lab.exec(lab.node, 'iptables-save', ['-t', 'nat'])).not.toMatch(/KUBE-/);
  });
});
