import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { agentClients, KUBELET_EVENT_LIMIT } from '../../../../agent/cluster/clients.js';
import { RateLimiterClosedError } from '../../../../control/client/index.js';

describe('agentClients: the kubelet\'s three clients', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    server = undefined;
  });

  it('holds API requests to kubeAPIQPS/kubeAPIBurst and events to their own bucket, never the heartbeat', async () => {
    const seen: string[] = [];
    server = createServer((req, res) => {
      seen.push(req.url ?? '');
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } }));
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as AddressInfo).port;
    // One token per 1,000 s after a burst of two: whatever waits for a third token waits for the whole test.
    const clients = agentClients({ server: `http://127.0.0.1:${port}` }, 'n1', { kubeAPIQPS: 0.001, kubeAPIBurst: 2 });
    expect(clients.api.rateLimit).toEqual({ qps: 0.001, burst: 2 });
    expect(clients.events.rateLimit).toEqual(KUBELET_EVENT_LIMIT);
    expect(clients.heartbeat.rateLimit).toBeUndefined();
    const NODES = { group: '', version: 'v1', resource: 'nodes' };
    const api = Array.from({ length: 4 }, (_, i) => clients.api.get(NODES, undefined, `api-${i}`).then(() => 'done', (e: unknown) => e));
    const heartbeats = await Promise.all(Array.from({ length: 5 }, (_, i) => clients.heartbeat.get(NODES, undefined, `hb-${i}`)));
    expect(heartbeats).toHaveLength(5);
    const events = await Promise.all(Array.from({ length: 5 }, (_, i) => clients.events.get(NODES, undefined, `ev-${i}`)));
    expect(events).toHaveLength(5);
    expect(seen.filter((u) => u.includes('/api-'))).toHaveLength(2);
    clients.close();
    const outcomes = await Promise.all(api);
    expect(outcomes.filter((o) => o === 'done')).toHaveLength(2);
    expect(outcomes.filter((o) => o instanceof RateLimiterClosedError)).toHaveLength(2);
  });

  it('gives events the bucket of eventRecordQPS/eventBurst', async () => {
    server = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ apiVersion: 'v1', kind: 'Event', metadata: { name: 'e' } }));
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as AddressInfo).port;
    const EVENTS = { group: '', version: 'v1', resource: 'events' };
    // One token per 1,000 s after a burst of three: the fourth event waits past the end of the test.
    const tight = agentClients({ server: `http://127.0.0.1:${port}` }, 'n1', { kubeAPIQPS: 50, kubeAPIBurst: 100, eventRecordQPS: 0.001, eventBurst: 3 });
    expect(tight.events.rateLimit).toEqual({ qps: 0.001, burst: 3 });
    const sent = Array.from({ length: 4 }, (_, i) => tight.events.get(EVENTS, 'default', `e-${i}`).then(() => 'done', (e: unknown) => e));
    await Promise.all(sent.slice(0, 3));
    tight.close();
    expect((await Promise.all(sent)).filter((o) => o instanceof RateLimiterClosedError)).toHaveLength(1);
    // A 0 goes to the bucket as it is, which reads it as client-go does (see the rate limiter's tests).
    const zero = agentClients({ server: `http://127.0.0.1:${port}` }, 'n1', { kubeAPIQPS: 50, kubeAPIBurst: 100, eventRecordQPS: 0, eventBurst: 0 });
    expect(zero.events.rateLimit).toEqual({ qps: 0, burst: 0 });
    zero.close();
  });
});
