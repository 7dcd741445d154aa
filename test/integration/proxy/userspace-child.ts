import { createInterface } from 'node:readline';
import { execRunner } from '../../../proxy/exec.js';
import { UserspaceProxier } from '../../../proxy/userspace/proxier.js';

/**
 * Runs the userspace proxier inside the network namespace the test starts it in (its listeners must live there).
 * Commands come as JSON lines on stdin; each gets one JSON line back on stdout.
 */
const p = new UserspaceProxier({ run: execRunner(), nodeName: 'node-a', minSyncPeriodMs: 0 });
p.onServicesSynced();
p.onEndpointsSynced();

type Msg = { op: 'service' | 'endpoints' | 'deleteService'; obj: never } | { op: 'sync' } | { op: 'stop' } | { op: 'port'; name: string };

const rl = createInterface({ input: process.stdin });
let chain = Promise.resolve();
rl.on('line', (line) => {
  chain = chain.then(async () => {
    const msg = JSON.parse(line) as Msg;
    switch (msg.op) {
      case 'service':
        p.onServiceAdd(msg.obj);
        break;
      case 'deleteService':
        p.onServiceDelete(msg.obj);
        break;
      case 'endpoints':
        p.onEndpointsAdd(msg.obj);
        break;
      case 'sync':
        process.stdout.write(`${JSON.stringify({ ok: await p.sync() })}\n`);
        return;
      case 'port':
        process.stdout.write(`${JSON.stringify({ port: p.proxyPort(msg.name) ?? 0 })}\n`);
        return;
      case 'stop':
        await p.stop();
        process.stdout.write('{"stopped":true}\n');
        process.exit(0);
    }
    process.stdout.write('{}\n');
  });
});
