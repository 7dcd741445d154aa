import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { nodeIdentity } from '../../cli/identities.js';
import { AgentProcess, eventually } from '../integration/agent/harness.js';
import { ControlPlane } from './control-harness.js';

/** The notes' flow on one machine: kubectl → API server → scheduler → the agent runs the pod on Docker. */
describe('a control plane and an agent in cluster mode', () => {
  const cp = new ControlPlane();
  let agent: AgentProcess;
  beforeAll(async () => {
    await cp.start();
    const nodeKubeconfig = join(cp.dir, 'node.kubeconfig');
    agent = new AgentProcess({ args: ['--kubeconfig', nodeKubeconfig, '--node-labels', 'disktype=ssd'] });
    // The agent is the node: system:node:<name> in system:nodes, as a joined or `skiff up` node is.
    await cp.writeKubeconfig(nodeKubeconfig, nodeIdentity(agent.nodeName));
    await agent.start();
  });
  afterAll(async () => {
    await agent?.cleanup();
    await cp.stop();
  });

  it('registers the node Ready, with capacity, addresses, labels and a lease', async () => {
    await eventually(() => cp.k(['get', 'node', agent.nodeName, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']) === 'True', 'node Ready');
    const node = JSON.parse(cp.k(['get', 'node', agent.nodeName, '-o', 'json'])) as {
      metadata: { labels: Record<string, string> };
      status: { capacity: Record<string, string>; addresses: Array<{ type: string }>; nodeInfo: { containerRuntimeVersion: string } };
    };
    expect(node.metadata.labels).toMatchObject({ 'kubernetes.io/hostname': agent.nodeName, 'kubernetes.io/os': 'linux', disktype: 'ssd' });
    expect(node.status.capacity.pods).toBe('110');
    expect(Number(node.status.capacity.cpu)).toBeGreaterThan(0);
    expect(node.status.addresses.map((a) => a.type)).toEqual(['InternalIP', 'Hostname']);
    expect(node.status.nodeInfo.containerRuntimeVersion).toMatch(/^docker:\/\//);
    expect(cp.k(['get', 'lease', agent.nodeName, '-n', 'kube-node-lease', '-o', 'jsonpath={.spec.holderIdentity}'])).toBe(agent.nodeName);
    expect(cp.k(['get', 'nodes'])).toMatch(new RegExp(`^${agent.nodeName}\\s+Ready\\s+<none>`, 'm'));
  });

  it('runs a pod created with kubectl run on the node, reports its status and IP, and serves traffic on it', async () => {
    cp.k(['run', 'web', '--image=skiff/web:1.0']);
    await eventually(() => cp.k(['get', 'pod', 'web', '-o', 'jsonpath={.status.phase}']) === 'Running', 'pod Running', 90_000);
    expect(cp.k(['get', 'pod', 'web', '-o', 'jsonpath={.spec.nodeName}'])).toBe(agent.nodeName);
    const ip = cp.k(['get', 'pod', 'web', '-o', 'jsonpath={.status.podIP}']);
    expect(ip.startsWith(agent.podCidr.split('.').slice(0, 3).join('.'))).toBe(true);
    const body = await eventually(async () => (await fetch(`http://${ip}/`, { signal: AbortSignal.timeout(3000) })).text(), 'the pod answers');
    expect(body).toBe('web\n');
    const wide = cp.k(['get', 'pod', 'web', '-o', 'wide']);
    expect(wide).toMatch(new RegExp(`^web\\s+1/1\\s+Running\\s+0\\s+\\S+\\s+${ip.replace(/\./g, '\\.')}\\s+${agent.nodeName}\\s`, 'm'));
    expect(cp.k(['get', 'pod', 'web', '-o', 'jsonpath={.status.conditions[?(@.type=="PodScheduled")].status}'])).toBe('True');
  });

  it('stops the pod within its grace period when it is deleted, and the containers are gone', async () => {
    const out = cp.k(['delete', 'pod', 'web', '--timeout=60s']);
    expect(out).toMatch(/pod "web" deleted/);
    expect(cp.kubectl(['get', 'pod', 'web']).code).not.toBe(0);
    await eventually(async () => (await agent.containers()).length === 0, 'containers removed from Docker');
  });

  it('leaves a pod that fits nowhere Pending with a FailedScheduling event', async () => {
    cp.k(['run', 'huge', '--image=skiff/web:1.0', '--overrides={"spec":{"containers":[{"name":"huge","image":"skiff/web:1.0","resources":{"requests":{"cpu":"1000"}}}]}}']);
    await eventually(() => /FailedScheduling/.test(cp.k(['get', 'events', '--field-selector', 'involvedObject.name=huge'])), 'FailedScheduling event');
    expect(cp.k(['get', 'pod', 'huge', '-o', 'jsonpath={.status.phase}'])).toBe('Pending');
    expect(cp.k(['get', 'events', '--field-selector', 'involvedObject.name=huge'])).toMatch(/0\/1 nodes are available: 1 Insufficient cpu/);
    cp.k(['delete', 'pod', 'huge', '--wait=false']);
  });

  it('shows static pods as mirror pods, recreates a deleted mirror and removes it with the manifest', async () => {
    agent.writeManifest('static.yaml', 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: static-web\nspec:\n  terminationGracePeriodSeconds: 1\n  containers:\n  - name: web\n    image: skiff/web:1.0\n');
    const name = `static-web-${agent.nodeName}`;
    await eventually(() => cp.kubectl(['get', 'pod', name, '-o', 'jsonpath={.status.phase}']).stdout === 'Running', 'mirror pod Running', 90_000);
    const annotations = JSON.parse(cp.k(['get', 'pod', name, '-o', 'jsonpath={.metadata.annotations}'])) as Record<string, string>;
    expect(annotations['kubernetes.io/config.mirror']).toBe(annotations['kubernetes.io/config.hash']);
    expect(annotations['kubernetes.io/config.source']).toBe('file');
    const firstUid = cp.k(['get', 'pod', name, '-o', 'jsonpath={.metadata.uid}']);
    cp.k(['delete', 'pod', name, '--wait=false']);
    await eventually(() => {
      const r = cp.kubectl(['get', 'pod', name, '-o', 'jsonpath={.metadata.uid}']);
      return r.code === 0 && r.stdout !== firstUid;
    }, 'mirror pod recreated');
    // The static pod itself never stopped: deleting a mirror does not touch the node's pod.
    expect((await agent.pod('static-web'))?.status.phase).toBe('Running');
    agent.removeManifest('static.yaml');
    await eventually(() => cp.kubectl(['get', 'pod', name]).code !== 0, 'mirror pod removed');
  });

  it('did all of it as the node: the API server refused the agent nothing', () => {
    expect(agent.logs()).not.toMatch(/forbidden|\b403\b/i);
  });
});
