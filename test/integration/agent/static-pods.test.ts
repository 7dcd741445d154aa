import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentProcess, eventually, isRunningReady, podYaml } from './harness.js';

const web = (name: string, labels = 'app: web') =>
  podYaml(
    name,
    `  labels: {${labels}}
spec:
  containers:
  - name: web
    image: skiff/web:1.0
    ports: [{containerPort: 80}]
    readinessProbe:
      httpGet: {path: /healthz, port: 80}
      periodSeconds: 1
`,
  );

async function httpGet(url: string): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  return res.text();
}

describe('static pods from a manifest directory', () => {
  const agent = new AgentProcess();
  beforeAll(async () => {
    await agent.start();
  });
  afterAll(async () => {
    await agent.cleanup();
  });

  it('runs a pod written to the directory, named and labelled as upstream does', async () => {
    agent.writeManifest('web.yaml', web('web'));
    const pod = await agent.waitPod('web', isRunningReady, 'running and ready');
    expect(pod.metadata.name).toBe(`web-${agent.nodeName}`);
    expect(pod.metadata.annotations?.['kubernetes.io/config.source']).toBe('file');
    expect(pod.metadata.annotations?.['kubernetes.io/config.hash']).toBe(pod.metadata.uid);
    expect(pod.spec.nodeName).toBe(agent.nodeName);
    expect(pod.status.podIP).toMatch(new RegExp(`^${agent.podCidr.split('.').slice(0, 3).join('\\.')}\\.`));
    expect(pod.status.qosClass).toBe('BestEffort');
    const cs = pod.status.containerStatuses?.[0];
    expect(cs?.ready).toBe(true);
    expect(cs?.started).toBe(true);
    expect(cs?.containerID).toMatch(/^docker:\/\/[0-9a-f]{64}$/);
    expect(cs?.imageID).toMatch(/^sha256:/);
    expect(pod.status.conditions?.map((c) => c.type)).toEqual(['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled']);

    // dockershim's names and labels, so existing tools recognise the containers.
    const containers = await agent.containers();
    const uid = pod.metadata.uid;
    const names = containers.map((c) => c.Names[0]).sort();
    expect(names).toEqual([`/k8s_POD_web-${agent.nodeName}_default_${uid}_0`, `/k8s_web_web-${agent.nodeName}_default_${uid}_0`]);
    const app = containers.find((c) => c.Labels['io.kubernetes.container.name'] === 'web');
    expect(app?.Labels).toMatchObject({
      'io.kubernetes.pod.name': `web-${agent.nodeName}`,
      'io.kubernetes.pod.namespace': 'default',
      'io.kubernetes.pod.uid': uid,
      'io.kubernetes.container.name': 'web',
    });
    const sandbox = containers.find((c) => c.Labels['io.kubernetes.container.name'] === 'POD');
    expect(app?.HostConfig.NetworkMode).toBe(`container:${sandbox?.Id}`);

    // The pod answers on its IP on Skiff's bridge with its own name (the sandbox's hostname).
    expect(await httpGet(`http://${pod.status.podIP}/`)).toBe(`web-${agent.nodeName}\n`);
  });

  it('lets pods on the node reach each other by IP', async () => {
    agent.writeManifest(
      'client.yaml',
      podYaml('client', `spec:\n  containers:\n  - name: sh\n    image: skiff/busybox:1.0\n    command: [sleep, '3600']\n  terminationGracePeriodSeconds: 0\n`),
    );
    const client = await agent.waitPod('client', (p) => p.status.phase === 'Running', 'running');
    const webPod = await agent.pod('web');
    const id = client.status.containerStatuses?.[0]?.containerID?.replace('docker://', '') ?? '';
    const exec = await agent.docker.getContainer(id).exec({ Cmd: ['wget', '-qO-', `http://${webPod?.status.podIP}/`], AttachStdout: true, AttachStderr: true });
    const stream = await exec.start({ hijack: true, stdin: false });
    const out = await new Promise<string>((resolve) => {
      let text = '';
      stream.on('data', (d: Buffer) => (text += d.toString('latin1')));
      stream.on('end', () => resolve(text));
    });
    expect(out).toContain(`web-${agent.nodeName}`);
    expect((await exec.inspect()).ExitCode).toBe(0);
  });

  it('serves the pods, their logs and metrics on the read-only port', async () => {
    const list = (await (await fetch(`${agent.baseUrl}/pods`)).json()) as { kind: string; apiVersion: string; items: unknown[] };
    expect(list.kind).toBe('PodList');
    expect(list.apiVersion).toBe('v1');
    expect(list.items.length).toBeGreaterThanOrEqual(2);

    const pod = await agent.pod('web');
    await httpGet(`http://${pod?.status.podIP}/`);
    const logs = await eventually(async () => {
      const text = await httpGet(`${agent.baseUrl}/containerLogs/default/web-${agent.nodeName}/web?tailLines=1`);
      return text.trim().length > 0 ? text : undefined;
    }, 'container logs');
    expect(logs.trim().split('\n')).toHaveLength(1);

    const missing = await fetch(`${agent.baseUrl}/containerLogs/default/nope/web`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { kind: string }).kind).toBe('Status');

    // follow streams lines as they are written.
    const ac = new AbortController();
    const res = await fetch(`${agent.baseUrl}/containerLogs/default/web-${agent.nodeName}/web?follow=true&tailLines=0`, { signal: ac.signal });
    const reader = res.body!.getReader();
    await httpGet(`http://${pod?.status.podIP}/healthz`);
    const { value } = await reader.read();
    expect(Buffer.from(value ?? new Uint8Array()).toString()).toMatch(/response:200/);
    ac.abort();

    // Gauges follow the periodic relist, so wait for it.
    const metrics = await eventually(async () => {
      const text = await httpGet(`${agent.baseUrl}/metrics`);
      return /^kubelet_running_pods 2$/m.test(text) ? text : undefined;
    }, 'kubelet_running_pods 2');
    expect(metrics).toMatch(/prober_probe_total\{probe_type="Readiness",result="successful"/);
    expect(metrics).toMatch(/process_resident_memory_bytes/);
  });

  it('recreates a pod whose manifest changed, and removes one whose file is gone', async () => {
    const before = await agent.pod('web');
    agent.writeManifest('web.yaml', web('web', 'app: web, version: two'));
    const after = await agent.waitPod('web', (p) => p.metadata.uid !== before?.metadata.uid && isRunningReady(p), 'recreated with a new uid');
    expect(after.metadata.labels?.version).toBe('two');
    await eventually(async () => {
      const old = (await agent.containers()).filter((c) => c.Labels['io.kubernetes.pod.uid'] === before?.metadata.uid);
      return old.length === 0;
    }, 'old pod containers removed');

    agent.removeManifest('client.yaml');
    await eventually(async () => (await agent.pod('client')) === undefined, 'client pod gone from /pods');
    await eventually(async () => (await agent.containers()).every((c) => !c.Labels['io.kubernetes.pod.name']?.startsWith('client-')), 'client containers removed');
  });

  it('reports a bad manifest by file and field and changes nothing else', async () => {
    const before = await agent.pod('web');
    agent.writeManifest('broken.yaml', 'apiVersion: v1\nkind: Pod\nmetadata: {name: [unterminated\n');
    agent.writeManifest('invalid.yaml', podYaml('bad', 'spec:\n  containers:\n  - name: c\n'));
    await eventually(() => agent.logs().includes('broken.yaml') && agent.logs().includes('invalid.yaml'), 'errors in the log');
    const log = agent.logs();
    expect(log).toMatch(/invalid\.yaml.*spec\.containers\[0\]\.image: Required value/);
    expect(log).toMatch(/broken\.yaml.*invalid YAML/);
    const after = await agent.pod('web');
    expect(after?.metadata.uid).toBe(before?.metadata.uid);
    expect(after?.status.containerStatuses?.[0]?.containerID).toBe(before?.status.containerStatuses?.[0]?.containerID);
    expect(await agent.pod('bad')).toBeUndefined();
    agent.removeManifest('broken.yaml');
    agent.removeManifest('invalid.yaml');
  });

  it('runs one of two files that define the same pod, the same one every time, and says so', async () => {
    const text = (image: string) => podYaml('twin', `spec:\n  containers:\n  - name: c\n    image: ${image}\n    command: [sleep, '3600']\n  terminationGracePeriodSeconds: 0\n`);
    agent.writeManifest('b-twin.yaml', text('skiff/busybox:1.0'));
    agent.writeManifest('a-twin.yaml', text('skiff/web:1.0'));
    const pod = await agent.waitPod('twin', (p) => p.status.phase === 'Running' && p.spec.containers[0]?.image === 'skiff/web:1.0', 'a-twin.yaml wins');
    expect(pod.spec.containers[0]?.image).toBe('skiff/web:1.0');
    await eventually(() => /a-twin\.yaml[^\n]*b-twin\.yaml|b-twin\.yaml[^\n]*a-twin\.yaml/.test(agent.logs()), 'conflict reported with both files');
    const running = (await agent.pods()).filter((p) => p.metadata.name === `twin-${agent.nodeName}`);
    expect(running).toHaveLength(1);
    agent.removeManifest('a-twin.yaml');
    agent.removeManifest('b-twin.yaml');
    await eventually(async () => (await agent.pod('twin')) === undefined, 'twin removed');
  });
});
