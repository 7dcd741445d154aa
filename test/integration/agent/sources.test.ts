import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentProcess, eventually, isRunningReady } from './harness.js';

const podJson = (name: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, labels: { from: 'url' } },
  spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'web', image: 'skiff/web:1.0', readinessProbe: { tcpSocket: { port: 80 }, periodSeconds: 1 } }] },
});

describe('static pods from a manifest URL', () => {
  let body = '';
  let statusCode = 200;
  let lastHeaders: IncomingHttpHeaders = {};
  let requests = 0;
  let server: Server;
  let agent: AgentProcess;

  beforeAll(async () => {
    server = createServer((req, res) => {
      requests++;
      lastHeaders = req.headers;
      res.writeHead(statusCode, { 'Content-Type': 'application/yaml' });
      res.end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as AddressInfo).port;
    body = `${JSON.stringify(podJson('from-url'))}`;
    agent = new AgentProcess({
      args: ['--manifest-url', `http://127.0.0.1:${port}/pods`, '--manifest-url-header', 'X-Node:test', '--manifest-url-header', 'Authorization:Bearer abc', '--http-check-frequency', '1s'],
    });
    await agent.start();
  });
  afterAll(async () => {
    await agent?.cleanup();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('runs the pod the URL serves and sends the configured headers', async () => {
    const pod = await agent.waitPod('from-url', isRunningReady, 'running and ready');
    expect(pod.metadata.annotations?.['kubernetes.io/config.source']).toBe('http');
    expect(lastHeaders['x-node']).toBe('test');
    expect(lastHeaders.authorization).toBe('Bearer abc');
  });

  it('follows a multi-document YAML body: adds and removes pods', async () => {
    body = `apiVersion: v1
kind: Pod
metadata: {name: from-url}
spec:
  terminationGracePeriodSeconds: 1
  containers: [{name: web, image: skiff/web:1.0}]
---
apiVersion: v1
kind: PodList
items:
- ${JSON.stringify(podJson('second'))}
`;
    await agent.waitPod('second', (p) => p.status.phase === 'Running', 'second pod running');
    expect((await agent.pod('from-url'))?.metadata.labels?.from).toBeUndefined();
  });

  it('keeps the last good pods running while the URL fails or serves garbage', async () => {
    const before = await eventually(async () => {
      const pods = await agent.pods();
      return pods.length === 2 && pods.every((p) => p.status.phase === 'Running' && p.status.containerStatuses?.[0]?.containerID) ? pods : undefined;
    }, 'both pods running');
    const ids = before.map((p) => p.status.containerStatuses?.[0]?.containerID).sort();
    statusCode = 500;
    let seen = requests;
    await eventually(() => requests > seen + 1, 'two failing polls');
    statusCode = 200;
    body = '{"apiVersion": "v1", "kind": "Pod", "metadata": {';
    seen = requests;
    await eventually(() => requests > seen + 1, 'two garbage polls');
    const after = await agent.pods();
    expect(after.map((p) => p.status.containerStatuses?.[0]?.containerID).sort()).toEqual(ids);
    expect(after.every((p) => p.status.phase === 'Running')).toBe(true);
    expect(agent.logs()).toMatch(/500/);
  });

  it('keeps the URL pods across an agent restart while the URL is down', async () => {
    const ids = (await agent.pods()).map((p) => p.status.containerStatuses?.[0]?.containerID).sort();
    statusCode = 503;
    await agent.kill('SIGTERM');
    await agent.start();
    const seen = requests;
    await eventually(() => requests > seen + 2, 'three polls after restart');
    const running = (await agent.containers(false)).filter((c) => c.Labels['io.kubernetes.container.name'] === 'web').map((c) => `docker://${c.Id}`).sort();
    expect(running).toEqual(ids);
  });
});

describe("pods submitted to the agent's HTTP API", () => {
  const agent = new AgentProcess();
  beforeAll(async () => {
    await agent.start();
  });
  afterAll(async () => {
    await agent.cleanup();
  });

  const submit = (text: string, method = 'POST') => fetch(`${agent.baseUrl}/pods`, { method, body: text, headers: { 'Content-Type': 'application/yaml' } });

  it('runs a submitted pod, and keeps it across an agent restart', async () => {
    const res = await submit(`apiVersion: v1\nkind: Pod\nmetadata: {name: posted}\nspec:\n  containers: [{name: web, image: skiff/web:1.0}]\n`);
    expect(res.status).toBe(201);
    const created = (await res.json()) as { items: Array<{ metadata: { name: string } }> };
    expect(created.items[0]?.metadata.name).toBe(`posted-${agent.nodeName}`);
    const pod = await agent.waitPod('posted', (p) => p.status.phase === 'Running', 'running');
    await agent.kill('SIGTERM');
    await agent.start();
    const again = await agent.waitPod('posted', (p) => p.status.phase === 'Running', 'running after restart');
    expect(again.metadata.uid).toBe(pod.metadata.uid);
    expect(again.status.containerStatuses?.[0]?.containerID).toBe(pod.status.containerStatuses?.[0]?.containerID);
  });

  it('rejects an invalid submission with a 422 Status naming the field, and runs nothing', async () => {
    const res = await submit(`apiVersion: v1\nkind: Pod\nmetadata: {name: Bad_Name}\nspec:\n  containers: [{name: web}]\n`);
    expect(res.status).toBe(422);
    const status = (await res.json()) as { kind: string; code: number; message: string };
    expect(status.kind).toBe('Status');
    expect(status.code).toBe(422);
    expect(status.message).toMatch(/metadata\.name/);
    expect(status.message).toMatch(/spec\.containers\[0\]\.image: Required value/);
    expect((await agent.pods()).map((p) => p.metadata.name)).toEqual([`posted-${agent.nodeName}`]);

    const big = await submit('x'.repeat(4 * 1024 * 1024));
    expect(big.status).toBe(413);
  });

  it('stops and removes a pod deleted through the API', async () => {
    const res = await fetch(`${agent.baseUrl}/pods/default/posted-${agent.nodeName}`, { method: 'DELETE' });
    expect(res.status).toBe(200);
    await eventually(async () => (await agent.containers()).length === 0, 'containers removed');
    expect(await agent.pods()).toEqual([]);
    expect((await fetch(`${agent.baseUrl}/pods/default/posted-${agent.nodeName}`, { method: 'DELETE' })).status).toBe(404);
  });
});
