import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { startScheduler, type SchedulerHandle } from '../../../control/scheduler/index.js';
import { silentLogger } from '../../../lib/log.js';
import { targetNodeName, type DaemonSet } from '../../../control/controllers/daemonset.js';
import type { Node, Pod } from '../../../control/controllers/objects.js';
import type { ControllerRevision } from '../../../control/controllers/revisions.js';
import { eventually, listPods, podTemplate, R, startCluster, type Cluster } from './harness.js';

const active = (pods: Pod[]): Pod[] => pods.filter((p) => !p.metadata.deletionTimestamp);
const image = (p: Pod): string | undefined => p.spec?.containers?.[0]?.image;

describe('daemonset controller', () => {
  let cluster: Cluster | undefined;
  let scheduler: SchedulerHandle | undefined;
  afterEach(async () => {
    await scheduler?.stop();
    scheduler = undefined;
    await cluster?.stop();
    cluster = undefined;
  });

  const ds = async (c: Cluster): Promise<DaemonSet> => c.client.get<DaemonSet>(R.daemonsets, 'default', 'agent');

  it('runs one pod per eligible node, follows nodes and taints, and rolls out a new template', async () => {
    cluster = await startCluster(['daemonset'], { nodes: ['n1', 'n2', 'n3'] });
    const c = cluster;
    const { client } = c;
    // n3 is tainted with a NoSchedule taint the daemon does not tolerate; the unschedulable taint it does tolerate.
    await client.patch<Node>(R.nodes, undefined, 'n3', { spec: { taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] } });
    await client.patch<Node>(R.nodes, undefined, 'n2', { spec: { unschedulable: true, taints: [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }] } });
    await client.create(R.daemonsets, 'default', { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'agent' }, spec: { selector: { matchLabels: { app: 'agent' } }, template: podTemplate({ app: 'agent' }, 'agent:1') } });
    await eventually(async () => {
      const s = (await ds(c)).status;
      return s?.desiredNumberScheduled === 2 && s.numberAvailable === 2 && s.updatedNumberScheduled === 2 && s.currentNumberScheduled === 2 && s.observedGeneration === 1;
    }, 'two daemon pods available');
    let pods = active(await listPods(client, 'default', 'app=agent'));
    expect(pods.map((p) => p.spec?.nodeName).sort()).toEqual(['n1', 'n2']);
    const first = pods[0] as Pod;
    const terms = (first.spec?.affinity as { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: unknown[] } } }).nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms;
    expect(terms).toEqual([{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [first.spec?.nodeName] }] }]);
    expect((first.spec?.tolerations as Array<{ key: string; effect: string }>).map((t) => `${t.key}:${t.effect}`)).toEqual([
      'node.kubernetes.io/not-ready:NoExecute',
      'node.kubernetes.io/unreachable:NoExecute',
      'node.kubernetes.io/disk-pressure:NoSchedule',
      'node.kubernetes.io/memory-pressure:NoSchedule',
      'node.kubernetes.io/pid-pressure:NoSchedule',
      'node.kubernetes.io/unschedulable:NoSchedule',
    ]);
    expect(first.metadata.labels?.['pod-template-generation']).toBe('1');
    const revs = (await client.list<ControllerRevision>(R.controllerrevisions, { namespace: 'default' })).items;
    expect(revs).toHaveLength(1);
    expect(revs[0]?.revision).toBe(1);
    expect(first.metadata.labels?.['controller-revision-hash']).toBe(revs[0]?.metadata.labels?.['controller-revision-hash']);
    expect(revs[0]?.metadata.name).toBe(`agent-${revs[0]?.metadata.labels?.['controller-revision-hash']}`);

    // Untainting n3 brings a pod there; a node that stops matching the nodeSelector loses its pod.
    await client.patch<Node>(R.nodes, undefined, 'n3', { spec: { taints: null } });
    await eventually(async () => (await ds(c)).status?.numberAvailable === 3, 'three daemon pods');

    // A new template rolls out one node at a time (maxUnavailable 1) and ends with every pod updated.
    await client.patch(R.daemonsets, 'default', 'agent', { spec: { template: podTemplate({ app: 'agent' }, 'agent:2') } });
    await eventually(async () => {
      const s = (await ds(c)).status;
      const now = active(await listPods(client, 'default', 'app=agent'));
      return s?.observedGeneration === 2 && s.updatedNumberScheduled === 3 && s.numberAvailable === 3 && now.length === 3 && now.every((p) => image(p) === 'agent:2');
    }, 'rolled out to agent:2');
    expect(active(await listPods(client, 'default', 'app=agent')).every((p) => p.metadata.labels?.['pod-template-generation'] === '2')).toBe(true);
    const revs2 = (await client.list<ControllerRevision>(R.controllerrevisions, { namespace: 'default' })).items;
    expect(revs2.map((r) => r.revision).sort()).toEqual([1, 2]);

    // Labelling nodes and selecting on them: only n1 keeps a pod.
    await client.patch<Node>(R.nodes, undefined, 'n1', { metadata: { labels: { role: 'edge' } } });
    await client.patch(R.daemonsets, 'default', 'agent', { spec: { template: { ...podTemplate({ app: 'agent' }, 'agent:2'), spec: { nodeSelector: { role: 'edge' }, containers: [{ name: 'web', image: 'agent:2' }] } } } });
    await eventually(async () => {
      pods = active(await listPods(client, 'default', 'app=agent'));
      const s = (await ds(c)).status;
      return pods.length === 1 && pods[0]?.spec?.nodeName === 'n1' && s?.desiredNumberScheduled === 1 && s.numberMisscheduled === 0;
    }, 'only the edge node keeps a daemon pod');

    // Settled: no further writes (status included) once nothing changes.
    const head = async (): Promise<string | undefined> => (await client.list(R.pods, {})).metadata.resourceVersion;
    await new Promise((r) => setTimeout(r, 300));
    const before = await head();
    await new Promise((r) => setTimeout(r, 1000));
    expect(await head()).toBe(before);
  });

  it('surges a new pod beside the old one with maxSurge, and OnDelete waits for deletions', async () => {
    cluster = await startCluster(['daemonset'], { nodes: ['n1', 'n2'] });
    const c = cluster;
    const { client } = c;
    await client.create(R.daemonsets, 'default', {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'agent' },
      spec: { selector: { matchLabels: { app: 'agent' } }, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } }, template: podTemplate({ app: 'agent' }, 'agent:1') },
    });
    await eventually(async () => (await ds(c)).status?.numberAvailable === 2, 'two daemon pods');
    // New pods stay unready for a while: the old ones must stay until they are available.
    c.kubelet.ready = (p) => image(p) !== 'agent:2';
    c.kubelet.refresh();
    await client.patch(R.daemonsets, 'default', 'agent', { spec: { template: podTemplate({ app: 'agent' }, 'agent:2') } });
    await eventually(async () => {
      const pods = active(await listPods(client, 'default', 'app=agent'));
      return pods.length === 3 && pods.filter((p) => image(p) === 'agent:2').length === 1;
    }, 'one surge pod beside the old ones');
    expect(active(await listPods(client, 'default', 'app=agent')).filter((p) => image(p) === 'agent:1')).toHaveLength(2);
    c.kubelet.ready = () => true;
    c.kubelet.refresh();
    await eventually(async () => {
      const pods = active(await listPods(client, 'default', 'app=agent'));
      return pods.length === 2 && pods.every((p) => image(p) === 'agent:2') && (await ds(c)).status?.updatedNumberScheduled === 2;
    }, 'surged rollout complete');

    await client.patch(R.daemonsets, 'default', 'agent', { spec: { updateStrategy: { type: 'OnDelete', rollingUpdate: null }, template: podTemplate({ app: 'agent' }, 'agent:3') } });
    await eventually(async () => (await ds(c)).status?.observedGeneration === 3, 'OnDelete observed');
    expect(active(await listPods(client, 'default', 'app=agent')).every((p) => image(p) === 'agent:2')).toBe(true);
    const victim = active(await listPods(client, 'default', 'app=agent'))[0]?.metadata.name ?? '';
    await client.delete(R.pods, 'default', victim);
    await eventually(async () => {
      const pods = active(await listPods(client, 'default', 'app=agent'));
      return pods.length === 2 && pods.filter((p) => image(p) === 'agent:3').length === 1 && (await ds(c)).status?.updatedNumberScheduled === 1;
    }, 'the deleted pod comes back at the new template, the other stays');
  });

  it('the real scheduler places daemon pods by their node-name affinity, tolerating a cordoned node but not a tainted one', async () => {
    cluster = await startCluster(['daemonset'], { nodes: ['n1', 'n2', 'n3'] });
    const c = cluster;
    const { client } = c;
    c.kubelet.binds = false;
    for (const name of ['n1', 'n2', 'n3']) {
      const n = await client.get<Node>(R.nodes, undefined, name);
      await client.update(R.nodes, { ...n, status: { capacity: { cpu: '2', memory: '4Gi', pods: '110' }, allocatable: { cpu: '2', memory: '4Gi', pods: '110' }, conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }] } }, 'status');
    }
    await client.patch<Node>(R.nodes, undefined, 'n2', { spec: { unschedulable: true, taints: [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }] } });
    await client.patch<Node>(R.nodes, undefined, 'n3', { spec: { taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] } });
    scheduler = startScheduler({ client, logger: silentLogger(), registry: new Registry(), initialBackoffMs: 50, maxBackoffMs: 200 });
    await client.create(R.daemonsets, 'default', { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'agent' }, spec: { selector: { matchLabels: { app: 'agent' } }, template: podTemplate({ app: 'agent' }, 'agent:1') } });
    await eventually(async () => (await ds(c)).status?.numberAvailable === 2, 'two daemon pods placed by the scheduler and running');
    const pods = active(await listPods(client, 'default', 'app=agent'));
    expect(pods.map((p) => p.spec?.nodeName).sort()).toEqual(['n1', 'n2']);
    for (const p of pods) expect(targetNodeName({ ...p, spec: { ...p.spec, nodeName: undefined } as Pod['spec'] })).toBe(p.spec?.nodeName);
  });
});
