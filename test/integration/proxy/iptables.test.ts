import { randomBytes } from 'node:crypto';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execRunner, type CommandRunner } from '../../../proxy/exec.js';
import { cleanupIptables, IptablesProxier } from '../../../proxy/iptables/proxier.js';
import { eps, svc } from '../../unit/proxy/fixtures.js';
import { canNetns, NetLab, tally } from './netlab.js';

/**
 * The iptables proxier against real netfilter, inside namespaces the test creates (see NetLab): the ruleset is
 * applied with iptables-restore in the "node" namespace only.
 */

const lab = new NetLab(randomBytes(3).toString('hex'));
const inNode = execRunner({ netns: lab.node });
/** Lets one test turn conntrack cleanup off, to show what it is for. */
let skipConntrack = false;
const run: CommandRunner = (cmd, args, input) => (skipConntrack && cmd === 'conntrack' ? Promise.resolve({ exitCode: 0, stdout: '', stderr: '' }) : inNode(cmd, args, input));
const registry = new Registry();
let proxier: IptablesProxier;

const WEB = '10.96.0.10';
const STICKY = '10.96.0.20';
const EMPTY = '10.96.0.30';
const NP = '10.96.0.40';
const UDP = '10.96.0.53';

function backends(n: number): string[] {
  return Array.from({ length: n }, (_, i) => lab.backendIP(i));
}

async function sync(): Promise<void> {
  const r = await proxier.syncProxyRules();
  if (!r.ok) throw r.error ?? new Error('sync not ok');
}

beforeAll(async () => {
  if (!canNetns) return;
  await lab.create();
  proxier = new IptablesProxier({ run, nodeName: 'node-a', registry, minSyncPeriodMs: 0, syncPeriodMs: 60_000 });
  proxier.onServiceAdd(svc('web', { clusterIP: WEB }));
  proxier.onEndpointsAdd(eps('web', backends(3), [{ port: 80 }]));
  proxier.onServiceAdd(svc('sticky', { clusterIP: STICKY, affinity: 300 }));
  proxier.onEndpointsAdd(eps('sticky', backends(3), [{ port: 80 }]));
  proxier.onServiceAdd(svc('empty', { clusterIP: EMPTY }));
  proxier.onServiceAdd(svc('np', { type: 'NodePort', clusterIP: NP, ports: [{ port: 80, nodePort: 30080 }] }));
  proxier.onEndpointsAdd(eps('np', backends(3), [{ port: 80 }]));
  proxier.onServicesSynced();
  proxier.onEndpointsSynced();
  await sync();
}, 60_000);

afterAll(async () => {
  await proxier?.stop();
  // Netfilter state lives in the namespace: deleting it removes every rule; cleanup() is tested on its own below.
  await lab.destroy();
});

describe.skipIf(!canNetns)('iptables proxier in a network namespace', () => {
  it('installs the upstream chain layout', async () => {
    const nat = await lab.exec(lab.node, 'iptables-save', ['-t', 'nat']);
    expect(nat).toContain('-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES');
    expect(nat).toContain('-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES');
    expect(nat).toContain('-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING');
    expect(nat).toMatch(/-A KUBE-SVC-\S+ .*--probability 0\.33333333\d* -j KUBE-SEP-/);
    const filter = await lab.exec(lab.node, 'iptables-save', ['-t', 'filter']);
    expect(filter).toContain('"default/empty has no endpoints"');
    // A second full sync over the existing rules is accepted and changes nothing.
    proxier.forceFullSync();
    await sync();
    const strip = (t: string): string => t.replace(/^#.*$/gm, '');
    expect(strip(await lab.exec(lab.node, 'iptables-save', ['-t', 'nat']))).toBe(strip(nat));
  });

  it('spreads 300 requests from the node over all three endpoints', async () => {
    const counts = tally(await lab.fetch(lab.node, `http://${WEB}/`, 300));
    expect(counts.ERR).toBeUndefined();
    // Each gets 1/3: 100 ± 40 is about five standard deviations (sd ≈ 8.2).
    for (const b of ['backend-1', 'backend-2', 'backend-3']) {
      expect(counts[b]).toBeGreaterThan(60);
      expect(counts[b]).toBeLessThan(140);
    }
    console.log('spread over 300 requests (node → ClusterIP):', counts);
  });

  it('spreads requests forwarded from another namespace too', async () => {
    const counts = tally(await lab.fetch(lab.client, `http://${WEB}/`, 60));
    expect(counts.ERR).toBeUndefined();
    expect(Object.keys(counts).sort()).toEqual(['backend-1', 'backend-2', 'backend-3']);
  });

  it('sends nothing to a removed endpoint', async () => {
    proxier.onEndpointsUpdate(undefined, eps('web', backends(2), [{ port: 80 }]));
    await sync();
    expect(proxier.history.at(-1)?.full).toBe(false);
    const counts = tally(await lab.fetch(lab.node, `http://${WEB}/`, 100));
    expect(counts['backend-3']).toBeUndefined();
    expect(counts.ERR).toBeUndefined();
    expect((counts['backend-1'] ?? 0) + (counts['backend-2'] ?? 0)).toBe(100);
    proxier.onEndpointsUpdate(undefined, eps('web', backends(3), [{ port: 80 }]));
    await sync();
  });

  it('handles hairpin traffic: an endpoint reaching itself through its service', async () => {
    // Without the SEP chain's "-s <endpoint> -j KUBE-MARK-MASQ", the backend would get a SYN from its own address
    // and drop it as martian.
    const counts = tally(await lab.fetch(lab.backends[0]!, `http://${WEB}/`, 30));
    expect(counts.ERR).toBeUndefined();
    expect(counts['backend-1']).toBeGreaterThan(0);
  });

  it('refuses at once when a service has no endpoints (REJECT)', async () => {
    for (const ns of [lab.node, lab.client]) {
      const t0 = Date.now();
      const [line] = await lab.fetch(ns, `http://${EMPTY}/`, 1);
      const ms = Date.now() - t0;
      console.log(`no endpoints from ${ns}: ${ms} ms: ${line}`);
      expect(line).toMatch(/^ERR .*(refused|unreachable)/i);
      // Refused, not timed out: a dropped SYN would hang until the 5 s timeout. The kernel answers the first SYN's
      // ICMP port-unreachable after about 1 s for local sockets (measured 1.03 s), so allow 2.5 s.
      expect(ms).toBeLessThan(2500);
    }
  });

  it('pins a client to one endpoint with ClientIP affinity', async () => {
    const fromClient = tally(await lab.fetch(lab.client, `http://${STICKY}/`, 40));
    expect(Object.keys(fromClient)).toHaveLength(1);
    expect(fromClient.ERR).toBeUndefined();
    const fromNode = tally(await lab.fetch(lab.node, `http://${STICKY}/`, 40));
    expect(Object.keys(fromNode)).toHaveLength(1);
    expect(fromNode.ERR).toBeUndefined();
  });

  it('answers on the NodePort at the node address', async () => {
    const counts = tally(await lab.fetch(lab.client, `http://${lab.nodeIP}:30080/`, 60));
    expect(counts.ERR).toBeUndefined();
    expect(Object.keys(counts).length).toBeGreaterThanOrEqual(2);
    // And through the ClusterIP.
    expect(tally(await lab.fetch(lab.node, `http://${NP}/`, 5)).ERR).toBeUndefined();
  });

  it('deletes UDP conntrack entries of a removed endpoint so the next datagram goes elsewhere', async () => {
    // A UDP echo server per backend answers with its own name.
    const server = `const s=require('dgram').createSocket('udp4');s.on('message',(m,r)=>s.send(process.argv[1],r.port,r.address));s.bind(5353,process.argv[2]);`;
    for (const i of [0, 1]) lab.spawn(lab.backends[i]!, process.execPath, ['-e', server, `udp-${i + 1}`, lab.backendIP(i)]);
    await new Promise((r) => setTimeout(r, 500));
    proxier.onServiceAdd(svc('dns', { clusterIP: UDP, ports: [{ port: 53, protocol: 'UDP' }] }));
    proxier.onEndpointsAdd(eps('dns', backends(2), [{ port: 5353, protocol: 'UDP' }]));
    await sync();
    // Always the same source port, so one conntrack entry carries every datagram.
    const client = `const s=require('dgram').createSocket('udp4');s.bind(40053,()=>{s.on('message',m=>{console.log(String(m));process.exit(0)});s.send('q',53,'${UDP}');setTimeout(()=>{console.log('timeout');process.exit(0)},2000)});`;
    const ask = async (): Promise<string> => (await lab.exec(lab.node, process.execPath, ['-e', client])).trim();
    const first = await ask();
    expect(first).toMatch(/^udp-[12]$/);
    for (let i = 0; i < 3; i++) expect(await ask()).toBe(first);
    const keep = first === 'udp-1' ? 1 : 0;
    const removeFirst = async (): Promise<void> => {
      proxier.onEndpointsUpdate(undefined, eps('dns', [lab.backendIP(keep)], [{ port: 5353, protocol: 'UDP' }]));
      await sync();
    };
    // Control: without conntrack -D the flow keeps going to the removed endpoint (its server still runs).
    skipConntrack = true;
    await removeFirst();
    expect(await ask()).toBe(first);
    skipConntrack = false;
    proxier.onEndpointsUpdate(undefined, eps('dns', backends(2), [{ port: 5353, protocol: 'UDP' }]));
    await sync();
    expect(await ask()).toBe(first);
    // With it, the next datagram of the same flow goes to the endpoint that is left.
    await removeFirst();
    expect(await ask()).toBe(`udp-${keep + 1}`);
  });

  it('reports syncs and failures in /metrics', async () => {
    const text = await registry.metrics();
    expect(text).toMatch(/^kubeproxy_sync_proxy_rules_duration_seconds_count [1-9]\d*$/m);
    expect(text).toMatch(/^kubeproxy_sync_proxy_rules_iptables_restore_failures_total 0$/m);
    const sum = Number(/^kubeproxy_sync_proxy_rules_duration_seconds_sum (\S+)$/m.exec(text)?.[1]);
    const count = Number(/^kubeproxy_sync_proxy_rules_duration_seconds_count (\S+)$/m.exec(text)?.[1]);
    console.log(`mean sync: ${((sum / count) * 1000).toFixed(1)} ms over ${count} syncs`);
  });

  it('converges on its own with the runner (min-sync-period) after changes', async () => {
    proxier.start();
    proxier.onEndpointsUpdate(undefined, eps('web', [lab.backendIP(2)], [{ port: 80 }]));
    const deadline = Date.now() + 5000;
    let counts: Record<string, number> = {};
    while (Date.now() < deadline) {
      counts = tally(await lab.fetch(lab.node, `http://${WEB}/`, 5));
      if (counts['backend-3'] === 5) break;
    }
    expect(counts).toEqual({ 'backend-3': 5 });
    await proxier.stop();
  });

  it('cleanup removes every chain and jump it made, and nothing else', async () => {
    await lab.exec(lab.node, 'iptables', ['-t', 'nat', '-N', 'SKIFF-TEST-KEEP']);
    await lab.exec(lab.node, 'iptables', ['-t', 'nat', '-A', 'OUTPUT', '-j', 'SKIFF-TEST-KEEP']);
    expect(await cleanupIptables(run)).toEqual([]);
    for (const table of ['nat', 'filter']) {
      const save = await lab.exec(lab.node, 'iptables-save', ['-t', table]);
      expect(save).not.toMatch(/KUBE-/);
    }
    const nat = await lab.exec(lab.node, 'iptables-save', ['-t', 'nat']);
    expect(nat).toContain('-A OUTPUT -j SKIFF-TEST-KEEP');
    // Running it again finds nothing to do.
    expect(await cleanupIptables(run)).toEqual([]);
  });
});
