import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execRunner } from '../../../proxy/exec.js';
import { IptablesProxier } from '../../../proxy/iptables/proxier.js';
import { eps, svc } from '../../unit/proxy/fixtures.js';
import { canNetns, NetLab, tally } from './netlab.js';

/**
 * --iptables-localhost-nodeports against real netfilter, in namespaces the test creates (see NetLab): the proxier
 * programs the "node" namespace and sets route_localnet there; the host's own sysctl is only read, never written.
 */

const lab = new NetLab(randomBytes(3).toString('hex'), 1);
const run = execRunner({ netns: lab.node });
let proxier: IptablesProxier;
const HOST_ROUTE_LOCALNET = '/proc/sys/net/ipv4/conf/all/route_localnet';
let hostBefore = '';

const routeLocalnetInNode = async (): Promise<string> => (await lab.exec(lab.node, 'sysctl', ['-n', 'net.ipv4.conf.all.route_localnet'])).trim();

beforeAll(async () => {
  if (!canNetns) return;
  hostBefore = readFileSync(HOST_ROUTE_LOCALNET, 'utf8').trim();
  await lab.create();
}, 60_000);

afterAll(async () => {
  await proxier?.stop();
  await lab.destroy();
});

describe.skipIf(!canNetns)('localhost NodePorts in a network namespace', () => {
  it('sets route_localnet in the namespace it programs, and NodePorts answer on 127.0.0.1', async () => {
    // The namespace starts with route_localnet off, so that 127.0.0.1 NodePorts cannot work there without the proxy.
    // Turned off here: a new namespace inherits the host's net.ipv4.conf.all values, and a kube-proxy on the host
    // (`skiff up`'s, or upstream's) leaves route_localnet on there.
    await lab.exec(lab.node, 'sysctl', ['-qw', 'net.ipv4.conf.all.route_localnet=0']);
    expect(await routeLocalnetInNode()).toBe('0');
    proxier = new IptablesProxier({ run, nodeName: 'node-a', registry: new Registry(), minSyncPeriodMs: 0, syncPeriodMs: 60_000, render: { localhostNodePorts: true } });
    proxier.onServiceAdd(svc('np', { type: 'NodePort', clusterIP: '10.96.0.40', ports: [{ port: 80, nodePort: 30080 }] }));
    proxier.onEndpointsAdd(eps('np', [lab.backendIP(0)], [{ port: 80 }]));
    proxier.onServicesSynced();
    proxier.onEndpointsSynced();
    const r = await proxier.syncProxyRules();
    expect(r.error?.message).toBeUndefined();
    expect(await routeLocalnetInNode()).toBe('1');
    // The host's own setting is untouched.
    expect(readFileSync(HOST_ROUTE_LOCALNET, 'utf8').trim()).toBe(hostBefore);
    expect(tally(await lab.fetch(lab.node, 'http://127.0.0.1:30080/', 5))).toEqual({ 'backend-1': 5 });
  });

  it("installs upstream's KUBE-FIREWALL rule against outside traffic to 127.0.0.0/8", async () => {
    const filter = await lab.exec(lab.node, 'iptables-save', ['-t', 'filter']);
    expect(filter).toContain('-A INPUT -j KUBE-FIREWALL');
    expect(filter).toContain('-A OUTPUT -j KUBE-FIREWALL');
    expect(filter).toMatch(
      /-A KUBE-FIREWALL ! -s 127\.0\.0\.0\/8 -d 127\.0\.0\.0\/8 -m comment --comment "block incoming localnet connections" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP/,
    );
    // Loopback traffic to a NodePort still passes it (its source is 127.0.0.1, and it is DNATed).
    expect(tally(await lab.fetch(lab.node, 'http://127.0.0.1:30080/', 3))).toEqual({ 'backend-1': 3 });
  });
});
