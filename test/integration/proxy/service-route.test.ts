import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execRunner } from '../../../proxy/exec.js';
import { IptablesProxier } from '../../../proxy/iptables/proxier.js';
import { ensureServiceRoute, removeServiceRoute, SERVICE_ROUTE_DEVICE } from '../../../proxy/service-route.js';
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

describe.skipIf(!canNetns)('the Service range routed to a link of its own', () => {
  it('without it, an unserved ClusterIP is answered from outside the node', async () => {
    expect(await fromNode(UNSERVED)).toEqual({ outside: 1 });
    expect(await fromClient(UNSERVED)).toEqual({ outside: 1 });
  });

  it('with it, an unserved ClusterIP gets no answer, while a served one still reaches its pod from the node and through it', async () => {
    await ensureServiceRoute(inNode, '10.96.0.0/12');
    expect(await routeOf(UNSERVED)).toContain(`dev ${SERVICE_ROUTE_DEVICE}`);
    expect(await fromNode(UNSERVED)).toEqual({ ERR: 1 });
    expect(await fromClient(UNSERVED)).toEqual({ ERR: 1 });
    expect(await fromNode(WEB)).toEqual({ 'backend-1': 1 });
    expect(await fromClient(WEB)).toEqual({ 'backend-1': 1 });
    // Addresses outside the range still take the default route.
    expect(await routeOf('10.250.200.1')).toContain('via 10.250.99.2');
  });

  it('is idempotent, follows a changed range, and goes with cleanup', async () => {
    await ensureServiceRoute(inNode, '10.96.0.0/12');
    await ensureServiceRoute(inNode, '10.96.0.0/16');
    expect((await lab.exec(lab.node, 'ip', ['-4', '-o', 'route', 'show', 'dev', SERVICE_ROUTE_DEVICE])).trim().split('\n').map((l) => l.split(' ')[0])).toEqual(['10.96.0.0/16']);
    expect(await routeOf(UNSERVED)).toContain('via 10.250.99.2');
    await removeServiceRoute(inNode);
    await removeServiceRoute(inNode);
    await expect(lab.exec(lab.node, 'ip', ['link', 'show', SERVICE_ROUTE_DEVICE])).rejects.toThrow(/does not exist/);
  });
});
