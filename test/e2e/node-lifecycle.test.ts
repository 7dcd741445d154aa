import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../integration/agent/harness.js';
import { ControlPlane } from './control-harness.js';

/**
 * `skiff control` with short node-lifecycle flags and the real kubectl: a node whose Lease is never renewed goes
 * NotReady and is tainted; pods get DefaultTolerationSeconds' tolerations; a pod that tolerates it for 0 s is evicted
 * at once.
 */
describe('node lifecycle through skiff control and kubectl', () => {
  const cp = new ControlPlane();
  beforeAll(async () => {
    await cp.start(['--node-monitor-grace-period=2s', '--node-startup-grace-period=2s', '--node-monitor-period=250ms']);
  });
  afterAll(async () => {
    await cp.stop();
  });

  it('marks a silent node NotReady, taints it and evicts what tolerates it for 0 s', async () => {
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    cp.k(['create', '-f', '-'], {
      input: JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'silent', labels: { 'kubernetes.io/hostname': 'silent' } } }),
    });
    cp.k(['create', '-f', '-'], {
      input: JSON.stringify({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'silent', namespace: 'kube-node-lease' }, spec: { holderIdentity: 'silent', leaseDurationSeconds: 40, renewTime: new Date().toISOString().replace('Z', '000Z') } }),
    });
    // The node reports Ready once, then never again.
    const status = JSON.stringify({ status: { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: now, lastTransitionTime: now }] } });
    cp.k(['patch', 'node', 'silent', '--subresource=status', '--type=merge', '-p', status]);

    // Pods bound to it directly: one as created (with the default tolerations), one that tolerates unreachability for 0 s.
    cp.k(['create', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'default-tolerations' }, spec: { nodeName: 'silent', containers: [{ name: 'c', image: 'x' }] } }) });
    const tolerations = JSON.parse(cp.k(['get', 'pod', 'default-tolerations', '-o', 'jsonpath={.spec.tolerations}'])) as unknown[];
    expect(tolerations).toEqual([
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    ]);
    cp.k(['create', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'impatient' }, spec: { nodeName: 'silent', tolerations: [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 0 }], containers: [{ name: 'c', image: 'x' }] } }) });

    await eventually(() => /^silent\s+NotReady\s/m.test(cp.k(['get', 'nodes'])), 'node NotReady in kubectl get nodes', 30_000);
    const describe = await eventually(() => {
      const out = cp.k(['describe', 'node', 'silent']);
      return out.includes('node.kubernetes.io/unreachable:NoExecute') && out.includes('node.kubernetes.io/unreachable:NoSchedule') && out;
    }, 'taints in describe', 30_000);
    expect(describe).toMatch(/Ready\s+Unknown\s.*NodeStatusUnknown\s+Kubelet stopped posting node status\./);

    expect(JSON.parse(cp.k(['get', 'pod', 'impatient', '-o', 'jsonpath={.spec.tolerations}']))).toEqual([
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 0 },
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    ]);
    // The impatient pod is marked for deletion (its kubelet is gone, so it stays terminating); the other stays.
    await eventually(() => cp.k(['get', 'pod', 'impatient', '-o', 'jsonpath={.metadata.deletionTimestamp}']).trim() !== '', 'impatient pod evicted', 30_000);
    expect(cp.k(['get', 'pod', 'default-tolerations', '-o', 'jsonpath={.metadata.deletionTimestamp}']).trim()).toBe('');
    const events = cp.k(['get', 'events', '--field-selector', 'reason=TaintManagerEviction', '-o', 'jsonpath={.items[*].message}']);
    expect(events).toContain('Marking for deletion Pod default/impatient');
  });
});
