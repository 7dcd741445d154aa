import { afterEach, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../control/client/index.js';
import type { Node, Pod } from '../../../control/controllers/objects.js';
import { eventually, R, startCluster, type Cluster } from './harness.js';

const micro = (): string => new Date().toISOString().replace('Z', '000Z');
const condition = (n: Node, type: string) => n.status?.conditions?.find((c) => c.type === type);
const ready = (p: Pod): string | undefined => p.status?.conditions?.find((c) => c.type === 'Ready')?.status;

describe('node lifecycle controller', () => {
  let cluster: Cluster | undefined;
  let renewer: NodeJS.Timeout | undefined;
  afterEach(async () => {
    clearInterval(renewer);
    await cluster?.stop();
    cluster = undefined;
  });

  it('marks a node whose lease stops Unknown, taints it, marks its pods not ready and evicts them by their tolerations', async () => {
    // Short flags: a node is silent after 3 s, checked every 200 ms; the test renews leases every 250 ms.
    cluster = await startCluster(['nodelifecycle'], { nodes: ['n1', 'w1'], config: { nodeMonitorGracePeriodMs: 3000, nodeStartupGracePeriodMs: 3000, nodeMonitorPeriodMs: 200 } });
    const c = cluster;
    const { client } = c;
    const alive = new Set(['n1', 'w1']);
    for (const name of alive) {
      const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
      const node = await client.get<Node>(R.nodes, undefined, name);
      await client.update(R.nodes, { ...node, status: { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: now, lastTransitionTime: now }] } }, 'status');
      await client.create(R.leases, 'kube-node-lease', { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name }, spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime: micro() } } as KubeObject);
    }
    renewer = setInterval(() => {
      for (const name of alive) {
        void client.patch(R.leases, 'kube-node-lease', name, { spec: { renewTime: micro() } }).catch(() => undefined);
      }
    }, 250);
    const pod = (name: string, tolerations: unknown[]) =>
      client.create(R.pods, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { nodeName: 'w1', tolerations, containers: [{ name: 'c', image: 'x' }] } });
    await pod('intolerant', []);
    await pod('patient', [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 2 }]);
    await pod('forever', [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' }]);
    await eventually(async () => (await client.list<Pod>(R.pods, { namespace: 'default' })).items.every((p) => ready(p) === 'True'), 'pods ready');
    expect((await client.get<Node>(R.nodes, undefined, 'w1')).spec?.taints ?? []).toEqual([]);

    // w1's kubelet dies: no more lease renewals, no more pod updates.
    alive.delete('w1');
    c.kubelet.down.add('w1');
    const w1 = await eventually(async () => {
      const n = await client.get<Node>(R.nodes, undefined, 'w1');
      return condition(n, 'Ready')?.status === 'Unknown' && n;
    }, 'w1 Unknown');
    expect(condition(w1, 'Ready')).toMatchObject({ reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' });
    expect(condition(w1, 'MemoryPressure')).toMatchObject({ status: 'Unknown', reason: 'NodeStatusNeverUpdated', message: 'Kubelet never posted node status.' });
    const tainted = await eventually(async () => {
      const n = await client.get<Node>(R.nodes, undefined, 'w1');
      return (n.spec?.taints ?? []).length === 2 && n;
    }, 'w1 tainted');
    expect(tainted.spec?.taints?.map((t) => `${t.key}:${t.effect}`).sort()).toEqual(['node.kubernetes.io/unreachable:NoExecute', 'node.kubernetes.io/unreachable:NoSchedule']);
    expect(tainted.spec?.taints?.find((t) => t.effect === 'NoExecute')?.timeAdded).toBeDefined();

    // The intolerant pod goes at once; the patient one after its 2 s; the forever one stays, marked not ready.
    const deleting = async (name: string): Promise<boolean> => !!(await client.get<Pod>(R.pods, 'default', name)).metadata.deletionTimestamp;
    await eventually(() => deleting('intolerant'), 'intolerant evicted');
    await eventually(async () => ready(await client.get<Pod>(R.pods, 'default', 'forever')) === 'False', 'forever marked not ready');
    await eventually(() => deleting('patient'), 'patient evicted after its toleration');
    const evicted = await client.get<Pod>(R.pods, 'default', 'patient');
    expect(evicted.status?.conditions?.find((x) => x.type === 'DisruptionTarget')).toMatchObject({ status: 'True', reason: 'DeletionByTaintManager' });
    const events = (await client.list<KubeObject & { reason?: string; message?: string; involvedObject?: { name?: string } }>({ group: '', version: 'v1', resource: 'events' }, { namespace: 'default' })).items;
    expect(events.some((e) => e.reason === 'TaintManagerEviction' && e.message === 'Marking for deletion Pod default/patient')).toBe(true);
    expect(events.some((e) => e.reason === 'NodeNotReady' && e.involvedObject?.name === 'w1' && e.message === 'Node w1 status is now: NodeNotReady')).toBe(true);
    expect(await deleting('forever')).toBe(false);
    // n1, whose lease kept being renewed for longer than the grace period, is untouched.
    expect(condition(await client.get<Node>(R.nodes, undefined, 'n1'), 'Ready')?.status).toBe('True');
    expect((await client.get<Node>(R.nodes, undefined, 'n1')).spec?.taints ?? []).toEqual([]);

    // The kubelet comes back: Ready again, taints gone.
    alive.add('w1');
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const back = await client.get<Node>(R.nodes, undefined, 'w1');
    await client.update(R.nodes, { ...back, status: { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: now, lastTransitionTime: now }] } }, 'status');
    await eventually(async () => ((await client.get<Node>(R.nodes, undefined, 'w1')).spec?.taints ?? []).length === 0, 'taints removed');
  });
});
