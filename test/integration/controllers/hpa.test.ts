import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiServer } from '../../../control/apiserver/server.js';
import type { ResourceMetricsSource } from '../../../control/apiserver/metrics-api.js';
import { KubeClient, type KubeObject } from '../../../control/client/index.js';
import { startControllerManager, type ControllerManager } from '../../../control/controllers/index.js';
import type { NodeUsageReport } from '../../../control/metrics/usage.js';
import { MemoryStore } from '../../../control/store/index.js';
import { silentLogger } from '../../../lib/log.js';
import { eventually, FakeKubelet, listPods, R } from './harness.js';

const HPAS = { group: 'autoscaling', version: 'v2', resource: 'horizontalpodautoscalers' };

/**
 * Simulated nodes' resource metrics: every running pod of the test's deployment uses `millicoresPerPod`, sampled
 * "now" over a one-second window, as the control plane's scraper would report them.
 */
class SimulatedUsage implements ResourceMetricsSource {
  millicoresPerPod = 0;
  pods: Array<{ namespace: string; name: string }> = [];

  get latest(): ReadonlyMap<string, NodeUsageReport> {
    const now = Date.now();
    const usage = { cpuNanoCores: this.millicoresPerPod * 1e6, memoryBytes: 64 * 1024 * 1024, timestampMs: now, windowMs: 1000 };
    return new Map([['n1', { node: usage, pods: this.pods.map((p) => ({ ...p, containers: [{ name: 'web', usage }] })) }]]);
  }
}

describe('horizontal pod autoscaler on a real API server with simulated node metrics', () => {
  const usage = new SimulatedUsage();
  let server: ApiServer;
  let store: MemoryStore;
  let client: KubeClient;
  let manager: ControllerManager;
  let kubelet: FakeKubelet;
  let tracker: NodeJS.Timeout;
  // Off once a test wants the metrics to stay as it set them (a list in flight must not put pods back).
  let tracking = true;

  beforeAll(async () => {
    store = new MemoryStore();
    server = new ApiServer({ store, logger: silentLogger(), resourceMetrics: usage });
    const port = await server.listen(0);
    client = new KubeClient({ server: `http://127.0.0.1:${port}` });
    await client.create({ group: '', version: 'v1', resource: 'nodes' }, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } });
    manager = startControllerManager({
      client,
      logger: silentLogger(),
      registry: new Registry(),
      controllers: ['deployment', 'replicaset', 'horizontalpodautoscaling'],
      config: { horizontalPodAutoscaler: { syncPeriodMs: 300, downscaleStabilizationMs: 0 } },
    });
    await manager.ready;
    kubelet = new FakeKubelet(client);
    kubelet.start();
    // The simulated metrics follow the running pods.
    tracker = setInterval(() => {
      void listPods(client, 'default', 'app=load').then((pods) => {
        if (tracking) usage.pods = pods.filter((p) => p.status?.phase === 'Running' && !p.metadata.deletionTimestamp).map((p) => ({ namespace: 'default', name: p.metadata.name ?? '' }));
      }, () => undefined);
    }, 100);
    await client.create(R.deployments, 'default', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'load', namespace: 'default' },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'load' } },
        template: { metadata: { labels: { app: 'load' } }, spec: { containers: [{ name: 'web', image: 'skiff/busybox', resources: { requests: { cpu: '100m' } } }] } },
      },
    } as KubeObject);
  }, 60_000);

  afterAll(async () => {
    clearInterval(tracker);
    kubelet.stop();
    await manager.stop();
    client.close();
    await server.close();
    await store.close();
  });

  const rescaleMessages = async (): Promise<string[]> => {
    const events = await client.list({ group: '', version: 'v1', resource: 'events' }, { namespace: 'default', fieldSelector: 'involvedObject.kind=HorizontalPodAutoscaler,reason=SuccessfulRescale' });
    return events.items.map((e) => (e as unknown as { message: string }).message);
  };
  const replicas = async (): Promise<number> => ((await client.get(R.deployments, 'default', 'load')) as unknown as { spec: { replicas: number } }).spec.replicas;
  const hpa = async (): Promise<KubeObject & { status?: { currentReplicas?: number; desiredReplicas?: number; currentMetrics?: unknown[]; conditions?: Array<{ type: string; status: string; reason: string }> } }> =>
    client.get(HPAS, 'default', 'load');

  it('serves the simulated usage as metrics.k8s.io PodMetrics', async () => {
    usage.millicoresPerPod = 10;
    const list = await eventually(async () => {
      const l = await client.list({ group: 'metrics.k8s.io', version: 'v1beta1', resource: 'pods' }, { namespace: 'default', labelSelector: 'app=load' });
      return l.items.length === 2 ? l : undefined;
    }, 'PodMetrics for both pods');
    expect(list.items[0]).toMatchObject({ kind: 'PodMetrics', containers: [{ name: 'web', usage: { cpu: '10000000n', memory: '64Mi' } }] });
  });

  it('scales out when utilization is above target, limited to double per step, and reports why', async () => {
    usage.millicoresPerPod = 150; // 150% of the 100m request, against a 50% target: 6 wanted
    await client.create(HPAS, 'default', {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'load', namespace: 'default' },
      spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'load' }, minReplicas: 1, maxReplicas: 5, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }] },
    } as KubeObject);
    // 2 -> 4 (the no-behavior limit: double, at least 4), then -> 5 (maxReplicas).
    await eventually(async () => (await replicas()) === 4 || (await replicas()) === 5, 'the deployment scaled out', 30_000);
    await eventually(async () => (await replicas()) === 5, 'the deployment at maxReplicas', 30_000);
    const status = await eventually(async () => {
      const h = await hpa();
      return h.status?.currentReplicas === 5 && h.status.conditions?.some((c) => c.type === 'ScalingLimited' && c.status === 'True') ? h.status : undefined;
    }, 'the HPA status to report 5 replicas and the limit', 30_000);
    expect(status.conditions).toEqual(expect.arrayContaining([
      expect.objectContaining({ type: 'ScalingActive', status: 'True', reason: 'ValidMetricFound' }),
      expect.objectContaining({ type: 'ScalingLimited', status: 'True', reason: 'TooManyReplicas' }),
    ]));
    expect(status.currentMetrics).toEqual([{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 150, averageValue: '150m' } } }]);
    // Events are written in the background: both rescales show up.
    await eventually(async () => {
      const messages = await rescaleMessages();
      return messages.includes('New size: 4; reason: cpu resource utilization (percentage of request) above target') && messages.includes('New size: 5; reason: cpu resource utilization (percentage of request) above target');
    }, 'SuccessfulRescale events for 4 and 5');
  });

  it('scales in when utilization drops, down to minReplicas', async () => {
    usage.millicoresPerPod = 5;
    await eventually(async () => (await replicas()) === 1, 'the deployment scaled in to minReplicas', 30_000);
    await eventually(async () => (await rescaleMessages()).includes('New size: 1; reason: All metrics below target'), 'the SuccessfulRescale event for 1');
  });

  it('says so when metrics are missing, without touching the scale', async () => {
    tracking = false;
    clearInterval(tracker);
    usage.pods = [];
    const before = await replicas();
    const h = await eventually(async () => {
      const x = await hpa();
      return x.status?.conditions?.some((c) => c.type === 'ScalingActive' && c.status === 'False' && c.reason === 'FailedGetResourceMetric') ? x : undefined;
    }, 'ScalingActive=False with FailedGetResourceMetric', 30_000);
    expect(h.status?.conditions?.find((c) => c.type === 'ScalingActive')).toMatchObject({ reason: 'FailedGetResourceMetric' });
    expect(await replicas()).toBe(before);
  });
});
