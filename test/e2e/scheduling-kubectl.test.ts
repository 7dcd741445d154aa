import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../integration/agent/harness.js';
import { ControlPlane } from './control-harness.js';

/**
 * The scheduler as a user steers it with the real kubectl: label nodes, cordon and uncordon, taint and untaint, on
 * `skiff control` with three simulated nodes (Node objects whose status is written as a kubelet would).
 */
describe('scheduling driven by kubectl label, cordon and taint', () => {
  const cp = new ControlPlane();
  const nodes = ['sim-a', 'sim-b', 'sim-c'];

  beforeAll(async () => {
    // The simulated nodes renew no Lease: keep the node lifecycle controller from marking them Unknown meanwhile.
    await cp.start(['--node-monitor-grace-period', '10m', '--node-startup-grace-period', '10m']);
    for (const name of nodes) {
      cp.k(['create', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name } } }) });
      const status = { status: { capacity: { cpu: '2', memory: '4Gi', pods: '110' }, allocatable: { cpu: '2', memory: '4Gi', pods: '110' }, conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'simulated' }] } };
      cp.k(['patch', 'node', name, '--subresource=status', '--type=merge', '-p', JSON.stringify(status)]);
    }
    await eventually(() => cp.kubectl(['get', 'serviceaccount', 'default']).code === 0, 'the default service account', 30_000);
  }, 120_000);

  afterAll(async () => {
    await cp.stop();
  });

  const nodeOf = (pod: string): string => cp.k(['get', 'pod', pod, '-o', 'jsonpath={.spec.nodeName}']);
  const run = (pod: string, overrides?: unknown): void => {
    cp.k(['run', pod, '--image=skiff/busybox:1.0', '--restart=Never', ...(overrides ? [`--overrides=${JSON.stringify(overrides)}`] : [])]);
  };

  it('places a pod with a nodeSelector on the node kubectl labelled', async () => {
    cp.k(['label', 'node', 'sim-b', 'disktype=ssd']);
    run('wants-ssd', { spec: { nodeSelector: { disktype: 'ssd' } } });
    await eventually(() => nodeOf('wants-ssd') === 'sim-b', 'wants-ssd bound to sim-b', 30_000);
  });

  it('keeps new pods off cordoned nodes', async () => {
    cp.k(['cordon', 'sim-a']);
    cp.k(['cordon', 'sim-c']);
    expect(cp.k(['get', 'nodes', '--no-headers'])).toMatch(/^sim-a\s+Ready,SchedulingDisabled\s/m);
    for (const p of ['free-1', 'free-2', 'free-3']) run(p);
    await eventually(() => ['free-1', 'free-2', 'free-3'].every((p) => nodeOf(p) === 'sim-b'), 'every new pod on the only schedulable node', 30_000);
  });

  it('leaves a pod Pending with upstream\'s reasons when the last node is tainted, and places it once a node is uncordoned', async () => {
    cp.k(['taint', 'nodes', 'sim-b', 'dedicated=gpu:NoSchedule']);
    run('no-room');
    const message = await eventually(() => {
      const out = cp.k(['get', 'events', '--field-selector', 'involvedObject.name=no-room,reason=FailedScheduling', '-o', 'jsonpath={.items[*].message}']);
      return out.includes('0/3 nodes are available') ? out : undefined;
    }, 'a FailedScheduling event for no-room', 30_000);
    expect(message).toContain("1 node(s) had untolerated taint {dedicated: gpu}");
    expect(message).toContain('2 node(s) were unschedulable');
    expect(cp.k(['get', 'pod', 'no-room', '-o', 'jsonpath={.status.phase}'])).toBe('Pending');
    // A toleration lets a pod through the taint.
    run('tolerates', { spec: { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }] } });
    await eventually(() => nodeOf('tolerates') === 'sim-b', 'the tolerating pod on sim-b', 30_000);
    cp.k(['uncordon', 'sim-c']);
    await eventually(() => nodeOf('no-room') === 'sim-c', 'no-room placed once sim-c is uncordoned', 60_000);
    cp.k(['taint', 'nodes', 'sim-b', 'dedicated-']);
    expect(cp.k(['get', 'node', 'sim-b', '-o', 'jsonpath={.spec.taints}'])).toBe('');
  });
});
