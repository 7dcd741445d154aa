import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../integration/agent/harness.js';
import { ControlPlane } from './control-harness.js';

/**
 * `skiff control` with short node-lifecycle flags and the real kubectl: a node whose Lease is never renewed goes
 * NotReady and is tainted; pods get DefaultTolerationSeconds' tolerations; a pod that tolerates it for 0 s is evicted
 * at once; once no node at all is Ready, evictions stop and the NoExecute taints come off (master disruption mode).
 */
describe('node lifecycle through skiff control and kubectl', () => {
  const cp = new ControlPlane();
  let renewer: NodeJS.Timeout | undefined;
  beforeAll(async () => {
    await cp.start(['--node-monitor-grace-period=3s', '--node-startup-grace-period=3s', '--node-monitor-period=250ms']);
  });
  afterAll(async () => {
    clearInterval(renewer);
    await cp.stop();
  });

  const micro = (): string => new Date().toISOString().replace('Z', '000Z');
  /** A node that reports Ready once and has a Lease (renewed by the caller, or never). */
  const registerNode = (name: string): void => {
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    cp.k(['create', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name } } }) });
    cp.k(['create', '-f', '-'], { input: JSON.stringify({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace: 'kube-node-lease' }, spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime: micro() } }) });
    const status = JSON.stringify({ status: { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: now, lastTransitionTime: now }] } });
    cp.k(['patch', 'node', name, '--subresource=status', '--type=merge', '-p', status]);
  };

  it('marks a silent node NotReady, taints it, evicts what tolerates it for 0 s, and stops when no node is Ready', async () => {
    registerNode('alive');
    registerNode('silent');
    // 'alive' keeps renewing its Lease (asynchronously, so the test goes on); 'silent' never does.
    let renewing = false;
    renewer = setInterval(() => {
      if (renewing) return;
      renewing = true;
      const child = spawn('kubectl', ['patch', 'lease', 'alive', '-n', 'kube-node-lease', '--type=merge', '-p', JSON.stringify({ spec: { renewTime: micro() } })], { env: { ...process.env, KUBECONFIG: cp.kubeconfig }, stdio: 'ignore' });
      child.on('close', () => (renewing = false));
    }, 400);

    // Pods bound to it directly: one as created (with the default tolerations), one that tolerates unreachability for 0 s.
    cp.k(['create', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'default-tolerations' }, spec: { nodeName: 'silent', containers: [{ name: 'c', image: 'x' }] } }) });
    expect(JSON.parse(cp.k(['get', 'pod', 'default-tolerations', '-o', 'jsonpath={.spec.tolerations}']))).toEqual([
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    ]);
    cp.k(['create', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'impatient' }, spec: { nodeName: 'silent', tolerations: [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 0 }], containers: [{ name: 'c', image: 'x' }] } }) });
    expect(JSON.parse(cp.k(['get', 'pod', 'impatient', '-o', 'jsonpath={.spec.tolerations}']))).toEqual([
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 0 },
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    ]);

    await eventually(() => /^silent\s+NotReady\s/m.test(cp.k(['get', 'nodes'])), 'node NotReady in kubectl get nodes', 30_000);
    const described = await eventually(() => {
      const out = cp.k(['describe', 'node', 'silent']);
      return out.includes('node.kubernetes.io/unreachable:NoExecute') && out.includes('node.kubernetes.io/unreachable:NoSchedule') && out;
    }, 'taints in describe', 30_000);
    expect(described).toMatch(/Ready\s+Unknown\s.*NodeStatusUnknown\s+Kubelet stopped posting node status\./);

    // The impatient pod is marked for deletion (its kubelet is gone, so it stays terminating); the other stays.
    await eventually(() => cp.k(['get', 'pod', 'impatient', '-o', 'jsonpath={.metadata.deletionTimestamp}']).trim() !== '', 'impatient pod evicted', 30_000);
    expect(cp.k(['get', 'pod', 'default-tolerations', '-o', 'jsonpath={.metadata.deletionTimestamp}']).trim()).toBe('');
    expect(cp.k(['get', 'events', '--field-selector', 'reason=TaintManagerEviction', '-o', 'jsonpath={.items[*].message}'])).toContain('Marking for deletion Pod default/impatient');
    expect(cp.k(['get', 'nodes'])).toMatch(/^alive\s+Ready\s/m);

    // Now 'alive' goes quiet too: no node is Ready, the controller suspects itself and takes the NoExecute taints off.
    clearInterval(renewer);
    await eventually(() => /^alive\s+NotReady\s/m.test(cp.k(['get', 'nodes'])), 'alive NotReady', 30_000);
    await eventually(
      () => cp.k(['get', 'node', 'silent', '-o', 'jsonpath={range .spec.taints[*]}{.key}:{.effect} {end}']).trim() === 'node.kubernetes.io/unreachable:NoSchedule',
      'only the NoSchedule taint left on silent',
      30_000,
    );
    expect(cp.logs()).toContain('Entering master disruption mode');
  });
});
