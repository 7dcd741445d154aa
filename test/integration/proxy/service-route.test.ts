import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execRunner } from '../../../proxy/exec.js';
import { IptablesProxier } from '../../../proxy/iptables/proxier.js';
import { ensureLinkRoutes, removeRouteLink, SERVICE_ROUTE_DEVICE } from '../../../proxy/service-route.js';
import { eps, svc } from '../../unit/proxy/fixtures.js';
import { BUSYBOX, canNetns, NetLab, tally, writeFileIn } from './netlab.js';

/**
 * Why the Service range is routed to a link of its own. The lab's uplink (the node's default route) answers any port
 * 80 itself, as a transparent proxy on the way out of a real machine would: without the route, a ClusterIP the proxy
 * has not programmed yet is "answered" from outside the node. With it, such packets end at the node, and programmed
 * ClusterIPs still reach their pods, from the node and through it. In namespaces the test creates (see NetLab).
 */

const lab = new NetLab(randomBytes(3).toString('hex'), 1);
const inNode = execRunner({ netns: lab.node });
let proxier: IptablesProxier;

const WEB = '10.96.0.10';
/** A ClusterIP no Service has (yet), in the range. */
const UNSERVED = '10.104.135.141';

const fromNode = async (ip: string): Promise<Record<string, number>> => tally(await lab.fetch(lab.node, `http://${ip}/`, 1));
const fromClient = async (ip: string): Promise<Record<string, number>> => tally(await lab.fetch(lab.client, `http://${ip}/`, 1));
const routeOf = async (ip: string): Promise<string> => lab.exec(lab.node, 'ip', ['-4', '-o', 'route', 'get', ip]);

beforeAll(async () => {
  if (!canNetns) return;
  await lab.create();
  // The uplink answers whatever port 80 it is sent, for any address, with "outside".
  const www = join(lab.workDir, 'outside');
  await lab.exec(lab.uplink, 'mkdir', ['-p', www]);
  await writeFileIn(www, 'index.html', 'outside\n');
  await lab.exec(lab.uplink, 'iptables', ['-w', '-t', 'nat', '-A', 'PREROUTING', '-p', 'tcp', '--dport', '80', '-j', 'REDIRECT', '--to-ports', '8080']);
  lab.spawn(lab.uplink, BUSYBOX, ['httpd', '-f', '-p', '0.0.0.0:8080', '-h', www]);
  proxier = new IptablesProxier({ run: inNode, nodeName: 'node-a', registry: new Registry(), minSyncPeriodMs: 0, syncPeriodMs: 60_000 });
  proxier.onServiceAdd(svc('web', { clusterIP: WEB }));
  proxier.onEndpointsAdd(eps('web', [lab.backendIP(0)], [{ port: 80 }]));
  proxier.onServicesSynced();
  proxier.onEndpointsSynced();
  const r = await proxier.syncProxyRules();
  if (!r.ok) throw r.error ?? new Error('sync not ok');
  // Until the uplink answers: what a ClusterIP outside the proxy's rules gets on a node without the route.
  const deadline = Date.now() + 10_000;
  while ((await fromNode(UNSERVED)).outside !== 1) {
    if (Date.now() > deadline) throw new Error('the uplink does not answer');
    await new Promise((r) => setTimeout(r, 100));
  }
}, 60_000);

afterAll(async () => {
  await proxier?.stop();
  await lab.destroy();
});

describe.skipIf(!canNetns)('the Service and pod ranges routed to a link of their own', () => {
  it('without it, an unserved ClusterIP is answered from outside the node', async () => {
    expect(await fromNode(UNSERVED)).toEqual({ outside: 1 });
    expect(await fromClient(UNSERVED)).toEqual({ outside: 1 });
  });

  it('with it, an unserved ClusterIP gets no answer, while a served one still reaches its pod from the node and through it', async () => {
    await ensureLinkRoutes(inNode, { serviceRange: '10.96.0.0/12' });
    expect(await routeOf(UNSERVED)).toContain(`dev ${SERVICE_ROUTE_DEVICE}`);
    expect(await fromNode(UNSERVED)).toEqual({ ERR: 1 });
    expect(await fromClient(UNSERVED)).toEqual({ ERR: 1 });
    expect(await fromNode(WEB)).toEqual({ 'backend-1': 1 });
    expect(await fromClient(WEB)).toEqual({ 'backend-1': 1 });
    // Addresses outside the range still take the default route.
    expect(await routeOf('10.250.200.1')).toContain('via 10.250.99.2');
  });

  it('is idempotent, follows a changed range, and goes with cleanup', async () => {
    await ensureLinkRoutes(inNode, { serviceRange: '10.96.0.0/12' });
    await ensureLinkRoutes(inNode, { serviceRange: '10.96.0.0/16' });
    expect((await lab.exec(lab.node, 'ip', ['-4', '-o', 'route', 'show', 'dev', SERVICE_ROUTE_DEVICE])).trim().split('\n').map((l) => l.split(' ')[0])).toEqual(['10.96.0.0/16']);
    expect(await routeOf(UNSERVED)).toContain('via 10.250.99.2');
    await removeRouteLink(inNode);
    await removeRouteLink(inNode);
    await expect(lab.exec(lab.node, 'ip', ['link', 'show', SERVICE_ROUTE_DEVICE])).rejects.toThrow(/does not exist/);
  });

  it("routes the pods' range there too, under the node's own pod bridge, whose route it neither replaces nor outranks", async () => {
    // The agent's pod bridge of this node, as docker makes it: the kernel routes its /24 to it.
    const bridge = `skiff-pb${lab.id.slice(0, 4)}`;
    await lab.exec(lab.node, 'ip', ['link', 'add', bridge, 'type', 'bridge']);
    await lab.exec(lab.node, 'ip', ['addr', 'add', '10.244.3.1/24', 'dev', bridge]);
    await lab.exec(lab.node, 'ip', ['link', 'set', bridge, 'up']);
    // Without the route, an address of the range that no pod here holds is answered from outside the node.
    expect(await fromNode('10.244.7.7')).toEqual({ outside: 1 });
    await ensureLinkRoutes(inNode, { serviceRange: '10.96.0.0/12', podRange: '10.244.0.0/16' });
    expect(await routeOf('10.244.7.7')).toContain(`dev ${SERVICE_ROUTE_DEVICE}`);
    expect(await fromNode('10.244.7.7')).toEqual({ ERR: 1 });
    expect(await fromClient('10.244.7.7')).toEqual({ ERR: 1 });
    expect(await routeOf('10.244.3.7')).toContain(`dev ${bridge}`);
    expect(await routeOf(UNSERVED)).toContain(`dev ${SERVICE_ROUTE_DEVICE}`);
    // A pods' range no wider than the bridge's own prefix: both routes stay, and the bridge's is the one taken.
    await ensureLinkRoutes(inNode, { serviceRange: '10.96.0.0/12', podRange: '10.244.3.0/24' });
    const same = (await lab.exec(lab.node, 'ip', ['-4', '-o', 'route', 'show', '10.244.3.0/24'])).trim().split('\n');
    expect(same).toHaveLength(2);
    expect(same.some((l) => l.includes(`dev ${bridge}`))).toBe(true);
    expect(same.some((l) => l.includes(`dev ${SERVICE_ROUTE_DEVICE}`) && l.includes('metric 1024'))).toBe(true);
    expect(await routeOf('10.244.3.7')).toContain(`dev ${bridge}`);
    // The wider range it replaced is gone from the link: the default route again, as the range is no pod's now.
    expect(await routeOf('10.244.7.7')).toContain('via 10.250.99.2');
    await removeRouteLink(inNode);
    expect(await routeOf('10.244.3.7')).toContain(`dev ${bridge}`);
    await lab.exec(lab.node, 'ip', ['link', 'del', bridge]);
  });
});
