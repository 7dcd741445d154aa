import { createInterface } from 'node:readline';
import { DEFAULT_DNS_TTL } from '../../../proxy/dns/answer.js';
import { resolverUpstream } from '../../../proxy/dns/forward.js';
import { ClusterDnsServer } from '../../../proxy/dns/server.js';
import { ClusterDnsView } from '../../../proxy/dns/view.js';
import { execRunner } from '../../../proxy/exec.js';
import { UserspaceProxier } from '../../../proxy/userspace/proxier.js';

/**
 * Runs the userspace proxier inside the network namespace the test starts it in (its listeners must live there),
 * with the cluster DNS as `skiff proxy --proxy-mode userspace --cluster-dns 10.96.0.53` has it: a DNS server on
 * 0.0.0.0:10053 (and, for the node's own UDP queries, on 127.0.0.1) fed the same Services, and the proxier sending
 * port 53 of 10.96.0.53 to it.
 * Commands come as JSON lines on stdin; each gets one JSON line back on stdout.
 */
const DNS_PORT = 10053;
const view = new ClusterDnsView('cluster.local');
const dns = new ClusterDnsServer({ view, upstream: resolverUpstream([], 1000), config: { domain: 'cluster.local', ttl: DEFAULT_DNS_TTL }, host: '0.0.0.0', port: DNS_PORT });
await dns.start();
const p = new UserspaceProxier({ run: execRunner(), nodeName: 'node-a', minSyncPeriodMs: 0, clusterDNS: { serviceIP: '10.96.0.53', address: '0.0.0.0', port: DNS_PORT } });
p.setClusterDnsLoopbackPort(dns.loopbackPort);
for (const consumer of [p, view]) {
  consumer.onServicesSynced();
  consumer.onEndpointsSynced();
}

type Msg = { op: 'service' | 'endpoints' | 'deleteService'; obj: never } | { op: 'sync' } | { op: 'stop' } | { op: 'port'; name: string };

const rl = createInterface({ input: process.stdin });
let chain = Promise.resolve();
rl.on('line', (line) => {
  chain = chain.then(async () => {
    const msg = JSON.parse(line) as Msg;
    switch (msg.op) {
      case 'service':
        p.onServiceAdd(msg.obj);
        view.onServiceAdd(msg.obj);
        break;
      case 'deleteService':
        p.onServiceDelete(msg.obj);
        view.onServiceDelete(msg.obj);
        break;
      case 'endpoints':
        p.onEndpointsAdd(msg.obj);
        view.onEndpointsAdd(msg.obj);
        break;
      case 'sync':
        process.stdout.write(`${JSON.stringify({ ok: await p.sync() })}\n`);
        return;
      case 'port':
        process.stdout.write(`${JSON.stringify({ port: p.proxyPort(msg.name) ?? 0 })}\n`);
        return;
      case 'stop':
        await p.stop();
        await dns.stop();
        process.stdout.write('{"stopped":true}\n');
        process.exit(0);
    }
    process.stdout.write('{}\n');
  });
});
