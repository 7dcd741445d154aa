import { createSocket } from 'node:dgram';
import { createInterface } from 'node:readline';
import dnsPacket from 'dns-packet';
import type { KubeObject } from '../../../control/client/index.js';
import { silentLogger } from '../../../lib/log.js';
import { runProxy } from '../../../proxy/main.js';
import { startCluster } from '../controllers/harness.js';

/**
 * Runs inside the lab's node namespace: a real API server with the controllers (in process, on 127.0.0.1 of that
 * namespace), a stand-in for the node's own resolver on 127.0.0.2:53 (example.org is 192.0.2.1, other names NXDOMAIN), and
 * `skiff proxy` itself with --cluster-dns, so its DNS server and REDIRECT rules live in the namespace. The test sends
 * JSON lines (objects to create or delete) and gets one JSON line back for each.
 */
const [resolvConf] = process.argv.slice(2);
const cluster = await startCluster(['endpointslice']);

const upstream = createSocket('udp4');
upstream.on('message', (msg, r) => {
  const q = dnsPacket.decode(msg);
  const name = q.questions?.[0]?.name ?? '';
  // example.org exists (A 192.0.2.1); every other name is NXDOMAIN, as a real resolver would say for made-up names.
  const known = name.toLowerCase() === 'example.org';
  const flags = dnsPacket.RECURSION_AVAILABLE | dnsPacket.RECURSION_DESIRED | (known ? 0 : 3);
  upstream.send(dnsPacket.encode({ id: q.id ?? 0, type: 'response', flags, questions: q.questions ?? [], answers: known && q.questions?.[0]?.type === 'A' ? [{ type: 'A', name, ttl: 60, data: '192.0.2.1' }] : [] }), r.port, r.address);
});
await new Promise<void>((r) => upstream.bind(53, '127.0.0.2', () => r()));

void runProxy(
  ['--master', cluster.client.conn.server, '--hostname-override', 'node-a', '--min-sync-period', '0s', '--metrics-bind-address', '127.0.0.1:0', '--cluster-dns', '10.96.0.10', '--cluster-domain', 'cluster.local', '--resolv-conf', resolvConf ?? '', '--dns-upstream-timeout', '1s'],
  { logger: silentLogger() },
);

type Msg = { op: 'create' | 'delete'; group: string; version: string; resource: string; namespace: string; obj: KubeObject & { metadata: { name: string } } } | { op: 'stop' };

process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
const rl = createInterface({ input: process.stdin });
let chain = Promise.resolve();
rl.on('line', (line) => {
  chain = chain.then(async () => {
    const msg = JSON.parse(line) as Msg;
    try {
      if (msg.op === 'stop') {
        await cluster.stop();
        process.stdout.write('{"stopped":true}\n');
        process.exit(0);
      }
      const ref = { group: msg.group, version: msg.version, resource: msg.resource };
      if (msg.op === 'create') await cluster.client.create(ref, msg.namespace, msg.obj);
      else await cluster.client.delete(ref, msg.namespace, msg.obj.metadata.name);
      process.stdout.write('{"ok":true}\n');
    } catch (err) {
      process.stdout.write(`${JSON.stringify({ error: err instanceof Error ? err.message : String(err) })}\n`);
    }
  });
});
