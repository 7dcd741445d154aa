// Workload printers (apps/v1, batch/v1, autoscaling) against upstream's cells for the same objects.
import { describe, expect, it } from 'vitest';
import { controllerRevisionPrinter, daemonSetPrinter, deploymentPrinter, replicaSetPrinter, statefulSetPrinter } from '../../../../../control/apiserver/printing/printers/apps.js';
import { horizontalPodAutoscalerPrinter } from '../../../../../control/apiserver/printing/printers/autoscaling.js';
import { cronJobPrinter, jobPrinter } from '../../../../../control/apiserver/printing/printers/batch.js';
import type { KindPrinter } from '../../../../../control/apiserver/printing/table.js';
import { ago, DAY, HOUR, MIN, NOW, obj } from './fixtures.js';

function columns(p: KindPrinter): Array<[string, string, number]> {
  return p.columns.map((c) => [c.name, c.type, c.priority]);
}

const twoContainers = { spec: { containers: [{ name: 'fake-container1', image: 'fake-image1' }, { name: 'fake-container2', image: 'fake-image2' }] } };

describe('deployments', () => {
  it('columns', () => {
    expect(columns(deploymentPrinter)).toEqual([
      ['Name', 'string', 0],
      ['Ready', 'string', 0],
      ['Up-to-date', 'string', 0],
      ['Available', 'string', 0],
      ['Age', 'string', 0],
      ['Containers', 'string', 1],
      ['Images', 'string', 1],
      ['Selector', 'string', 1],
    ]);
  });

  it('ready/desired, updated, available and the wide columns', () => {
    const d = obj('Deployment', 'apps/v1', { name: 'test1', creationTimestamp: ago(-1.9) }, {
      spec: { replicas: 5, template: twoContainers, selector: { matchLabels: { foo: 'bar' } } },
      status: { replicas: 10, updatedReplicas: 2, availableReplicas: 1, unavailableReplicas: 4 },
    });
    expect(deploymentPrinter.cells(d, NOW)).toEqual(['test1', '0/5', 2, 1, '0s', 'fake-container1,fake-container2', 'fake-image1,fake-image2', 'foo=bar']);
  });

  it('a selector with expressions prints in LabelSelectorAsSelector order', () => {
    const d = obj('Deployment', 'apps/v1', { name: 'web' }, {
      spec: {
        replicas: 3,
        template: { spec: { containers: [{ name: 'nginx', image: 'nginx' }] } },
        selector: { matchLabels: { tier: 'fe', app: 'web' }, matchExpressions: [{ key: 'env', operator: 'In', values: ['prod', 'canary'] }, { key: 'legacy', operator: 'DoesNotExist' }, { key: 'zone', operator: 'NotIn', values: ['b', 'a'] }, { key: 'gpu', operator: 'Exists' }] },
      },
      status: { replicas: 3, readyReplicas: 3, updatedReplicas: 3, availableReplicas: 3 },
    });
    expect(deploymentPrinter.cells(d, NOW)).toEqual(['web', '3/3', 3, 3, '5m', 'nginx', 'nginx', 'app=web,env in (canary,prod),gpu,!legacy,tier=fe,zone notin (a,b)']);
  });

  it('an empty selector prints empty (not <none>) for deployments', () => {
    const d = obj('Deployment', 'apps/v1', { name: 'x' }, { spec: { replicas: 0, selector: {}, template: { spec: { containers: [] } } }, status: {} });
    expect(deploymentPrinter.cells(d, NOW)).toEqual(['x', '0/0', 0, 0, '5m', '', '', '']);
  });
});

describe('replica sets, daemon sets, stateful sets', () => {
  it('replica set', () => {
    expect(columns(replicaSetPrinter)).toEqual([
      ['Name', 'string', 0],
      ['Desired', 'integer', 0],
      ['Current', 'integer', 0],
      ['Ready', 'integer', 0],
      ['Age', 'string', 0],
      ['Containers', 'string', 1],
      ['Images', 'string', 1],
      ['Selector', 'string', 1],
    ]);
    const rs = obj('ReplicaSet', 'apps/v1', { name: 'web-7d4b9c8f5d', creationTimestamp: ago(3 * HOUR + 20 * MIN) }, {
      spec: { replicas: 3, selector: { matchLabels: { app: 'web', 'pod-template-hash': '7d4b9c8f5d' } }, template: { spec: { containers: [{ name: 'nginx', image: 'nginx:1.27' }] } } },
      status: { replicas: 3, readyReplicas: 2, availableReplicas: 2, fullyLabeledReplicas: 3 },
    });
    expect(replicaSetPrinter.cells(rs, NOW)).toEqual(['web-7d4b9c8f5d', 3, 3, 2, '3h20m', 'nginx', 'nginx:1.27', 'app=web,pod-template-hash=7d4b9c8f5d']);
    const scaledDown = obj('ReplicaSet', 'apps/v1', { name: 'old' }, { spec: { replicas: 0, selector: { matchLabels: { app: 'web' } }, template: { spec: { containers: [] } } }, status: { replicas: 0 } });
    expect(replicaSetPrinter.cells(scaledDown, NOW).slice(0, 4)).toEqual(['old', 0, 0, 0]);
  });

  it('daemon set', () => {
    expect(columns(daemonSetPrinter)).toEqual([
      ['Name', 'string', 0],
      ['Desired', 'integer', 0],
      ['Current', 'integer', 0],
      ['Ready', 'integer', 0],
      ['Up-to-date', 'integer', 0],
      ['Available', 'integer', 0],
      ['Node Selector', 'string', 0],
      ['Age', 'string', 0],
      ['Containers', 'string', 1],
      ['Images', 'string', 1],
      ['Selector', 'string', 1],
    ]);
    const ds = obj('DaemonSet', 'apps/v1', { name: 'test1', creationTimestamp: ago(-1.9) }, {
      spec: { template: twoContainers, selector: { matchLabels: { foo: 'bar' } } },
      status: { currentNumberScheduled: 2, desiredNumberScheduled: 3, numberReady: 1, updatedNumberScheduled: 2, numberAvailable: 0 },
    });
    expect(daemonSetPrinter.cells(ds, NOW)).toEqual(['test1', 3, 2, 1, 2, 0, '<none>', '0s', 'fake-container1,fake-container2', 'fake-image1,fake-image2', 'foo=bar']);
    const withNodeSelector = obj('DaemonSet', 'apps/v1', { name: 'kube-proxy', creationTimestamp: ago(12 * DAY) }, {
      spec: { template: { spec: { nodeSelector: { 'kubernetes.io/os': 'linux' }, containers: [{ name: 'kube-proxy', image: 'registry.k8s.io/kube-proxy:v1.32.0' }] } }, selector: { matchLabels: { 'k8s-app': 'kube-proxy' } } },
      status: { currentNumberScheduled: 1, desiredNumberScheduled: 1, numberReady: 1, updatedNumberScheduled: 1, numberAvailable: 1 },
    });
    expect(daemonSetPrinter.cells(withNodeSelector, NOW).slice(0, 8)).toEqual(['kube-proxy', 1, 1, 1, 1, 1, 'kubernetes.io/os=linux', '12d']);
  });

  it('stateful set', () => {
    expect(columns(statefulSetPrinter)).toEqual([
      ['Name', 'string', 0],
      ['Ready', 'string', 0],
      ['Age', 'string', 0],
      ['Containers', 'string', 1],
      ['Images', 'string', 1],
    ]);
    const sts = obj('StatefulSet', 'apps/v1', { name: 'db', creationTimestamp: ago(7 * MIN + 5) }, {
      spec: { replicas: 3, serviceName: 'db', selector: { matchLabels: { app: 'db' } }, template: { spec: { containers: [{ name: 'postgres', image: 'postgres:17' }] } } },
      status: { replicas: 2, readyReplicas: 1, currentReplicas: 2 },
    });
    expect(statefulSetPrinter.cells(sts, NOW)).toEqual(['db', '1/3', '7m5s', 'postgres', 'postgres:17']);
  });

  it('controller revision', () => {
    expect(columns(controllerRevisionPrinter)).toEqual([
      ['Name', 'string', 0],
      ['Controller', 'string', 0],
      ['Revision', 'string', 0],
      ['Age', 'string', 0],
    ]);
    const owned = (refs: unknown[] | undefined, revision: number) => obj('ControllerRevision', 'apps/v1', { name: `test${revision}`, creationTimestamp: ago(-1.9), ...(refs ? { ownerReferences: refs as never } : {}) }, { revision, data: {} });
    expect(controllerRevisionPrinter.cells(owned([{ controller: true, apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'foo', uid: 'u' }], 1), NOW)).toEqual(['test1', 'daemonset.apps/foo', 1, '0s']);
    expect(controllerRevisionPrinter.cells(owned([{ controller: false, apiVersion: 'v1', kind: 'ABC', name: 'foo', uid: 'u' }], 2), NOW)).toEqual(['test2', '<none>', 2, '0s']);
    expect(controllerRevisionPrinter.cells(owned([], 3), NOW)).toEqual(['test3', '<none>', 3, '0s']);
    expect(controllerRevisionPrinter.cells(owned(undefined, 4), NOW)).toEqual(['test4', '<none>', 4, '0s']);
    expect(controllerRevisionPrinter.cells(owned([{ controller: true, apiVersion: 'v1', kind: 'Pod', name: 'p', uid: 'u' }], 5), NOW)).toEqual(['test5', 'pod/p', 5, '0s']);
  });
});

describe('jobs', () => {
  it('columns, with STATUS as in 1.32', () => {
    expect(columns(jobPrinter)).toEqual([
      ['Name', 'string', 0],
      ['Status', 'string', 0],
      ['Completions', 'string', 0],
      ['Duration', 'string', 0],
      ['Age', 'string', 0],
      ['Containers', 'string', 1],
      ['Images', 'string', 1],
      ['Selector', 'string', 1],
    ]);
  });

  const job = (name: string, spec: Record<string, unknown>, status: Record<string, unknown>, meta: Record<string, unknown> = {}) => obj('Job', 'batch/v1', { name, creationTimestamp: ago(10 * 365 * DAY + 3 * DAY), ...meta }, { spec, status });
  const cond = (type: string, s = 'True') => ({ type, status: s });

  it.each<[string, Record<string, unknown>, Record<string, unknown>, Record<string, unknown>, unknown[]]>([
    [
      'completions set, wide',
      { completions: 2, parallelism: 1, template: { spec: { containers: [{ name: 'fake-job-container1', image: 'fake-job-image1' }, { name: 'fake-job-container2', image: 'fake-job-image2' }] } }, selector: { matchLabels: { 'job-label': 'job-label-value' } } },
      { succeeded: 1 },
      { creationTimestamp: ago(-1.9) },
      ['job1', 'Running', '1/2', '', '0s', 'fake-job-container1,fake-job-container2', 'fake-job-image1,fake-job-image2', 'job-label=job-label-value'],
    ],
    ['ten years old, no completions', {}, { succeeded: 0 }, {}, ['job2', 'Running', '0/1', '', '10y', '', '', '<none>']],
    ['finished in 30m', {}, { succeeded: 0, startTime: ago(-MIN), completionTime: ago(-31 * MIN) }, {}, ['job3', 'Running', '0/1', '30m', '10y', '', '', '<none>']],
    ['running for 20m', {}, { succeeded: 0, startTime: ago(20 * MIN) }, {}, ['job4', 'Running', '0/1', '20m', '10y', '', '', '<none>']],
    ['work queue with parallelism', { parallelism: 3 }, { succeeded: 1, active: 2, startTime: ago(2 * MIN) }, {}, ['job5', 'Running', '1/1 of 3', '2m', '10y', '', '', '<none>']],
    ['complete', { completions: 1, parallelism: 1 }, { succeeded: 1, startTime: ago(95), completionTime: ago(80), conditions: [cond('SuccessCriteriaMet'), cond('Complete')] }, {}, ['job6', 'Complete', '1/1', '15s', '10y', '', '', '<none>']],
    ['failed', { completions: 1, backoffLimit: 0 }, { failed: 1, startTime: ago(95), conditions: [cond('FailureTarget'), cond('Failed')] }, {}, ['job7', 'Failed', '0/1', '95s', '10y', '', '', '<none>']],
    ['failure target only', { completions: 1 }, { failed: 1, startTime: ago(95), conditions: [cond('FailureTarget')] }, {}, ['job8', 'FailureTarget', '0/1', '95s', '10y', '', '', '<none>']],
    ['suspended', { completions: 1, suspend: true }, { conditions: [cond('Suspended')] }, {}, ['job9', 'Suspended', '0/1', '', '10y', '', '', '<none>']],
    ['resumed (Suspended=False)', { completions: 1 }, { startTime: ago(5), conditions: [cond('Suspended', 'False')] }, {}, ['job10', 'Running', '0/1', '5s', '10y', '', '', '<none>']],
    ['terminating', { completions: 1 }, { startTime: ago(5) }, { deletionTimestamp: ago(1) }, ['job11', 'Terminating', '0/1', '5s', '10y', '', '', '<none>']],
  ])('%s', (_n, spec, status, meta, expected) => {
    expect(jobPrinter.cells(job(expected[0] as string, spec, status, meta), NOW)).toEqual(expected);
  });
});

describe('cron jobs', () => {
  it('columns', () => {
    expect(columns(cronJobPrinter)).toEqual([
      ['Name', 'string', 0],
      ['Schedule', 'string', 0],
      ['Timezone', 'string', 0],
      ['Suspend', 'boolean', 0],
      ['Active', 'integer', 0],
      ['Last Schedule', 'string', 0],
      ['Age', 'string', 0],
      ['Containers', 'string', 1],
      ['Images', 'string', 1],
      ['Selector', 'string', 1],
    ]);
  });

  it('never scheduled, then scheduled with active jobs', () => {
    const jobTemplate = { spec: { template: { spec: { containers: [{ name: 'hello', image: 'busybox:1.28' }] } } } };
    const fresh = obj('CronJob', 'batch/v1', { name: 'hello', creationTimestamp: ago(30) }, { spec: { schedule: '*/1 * * * *', suspend: false, jobTemplate } });
    expect(cronJobPrinter.cells(fresh, NOW)).toEqual(['hello', '*/1 * * * *', '<none>', 'False', 0, '<none>', '30s', 'hello', 'busybox:1.28', '<none>']);
    const busy = obj('CronJob', 'batch/v1', { name: 'hello', creationTimestamp: ago(10 * MIN) }, {
      spec: { schedule: '0 * * * *', timeZone: 'Etc/UTC', suspend: true, jobTemplate: { spec: { ...jobTemplate.spec, selector: { matchLabels: { a: 'b' } } } } },
      status: { active: [{ name: 'hello-1' }, { name: 'hello-2' }], lastScheduleTime: ago(45) },
    });
    expect(cronJobPrinter.cells(busy, NOW)).toEqual(['hello', '0 * * * *', 'Etc/UTC', 'True', 2, '45s', '10m', 'hello', 'busybox:1.28', 'a=b']);
  });
});

describe('horizontal pod autoscalers', () => {
  it('columns', () => {
    expect(columns(horizontalPodAutoscalerPrinter)).toEqual([
      ['Name', 'string', 0],
      ['Reference', 'string', 0],
      ['Targets', 'string', 0],
      ['MinPods', 'string', 0],
      ['MaxPods', 'string', 0],
      ['Replicas', 'string', 0],
      ['Age', 'string', 0],
    ]);
  });

  const hpa = (metrics: unknown[] | undefined, currentMetrics?: unknown[]) =>
    obj('HorizontalPodAutoscaler', 'autoscaling/v2', { name: 'some-hpa', creationTimestamp: undefined }, {
      spec: { scaleTargetRef: { kind: 'ReplicationController', name: 'some-rc' }, minReplicas: 2, maxReplicas: 10, ...(metrics ? { metrics } : {}) },
      status: { currentReplicas: 4, desiredReplicas: 5, ...(currentMetrics ? { currentMetrics } : {}) },
    });
  const ext = (target: Record<string, unknown>) => ({ type: 'External', external: { metric: { name: 'some-external-metric', selector: { matchLabels: { label: 'value' } } }, target } });
  const extStatus = (current: Record<string, unknown>) => ({ type: 'External', external: { metric: { name: 'some-external-metric' }, current } });
  const pods = (v: string) => ({ type: 'Pods', pods: { metric: { name: 'some-pods-metric' }, target: { type: 'AverageValue', averageValue: v } } });
  const podsStatus = (v: string) => ({ type: 'Pods', pods: { metric: { name: 'some-pods-metric' }, current: { averageValue: v } } });
  const object = (target: Record<string, unknown>) => ({ type: 'Object', object: { describedObject: { kind: 'Service', name: 'some-service' }, metric: { name: 'some-service-metric' }, target } });
  const objectStatus = (current: Record<string, unknown>) => ({ type: 'Object', object: { describedObject: { kind: 'Service', name: 'some-service' }, metric: { name: 'some-service-metric' }, current } });
  const resource = (target: Record<string, unknown>) => ({ type: 'Resource', resource: { name: 'cpu', target } });
  const resourceStatus = (current: Record<string, unknown>) => ({ type: 'Resource', resource: { name: 'cpu', current } });
  const container = (target: Record<string, unknown>) => ({ type: 'ContainerResource', containerResource: { name: 'cpu', container: 'application', target } });
  const containerStatus = (current: Record<string, unknown>) => ({ type: 'ContainerResource', containerResource: { name: 'cpu', container: 'application', current } });

  it.each<[string, unknown[], unknown[] | undefined, string]>([
    ['external average value, no current', [ext({ type: 'AverageValue', averageValue: '100m' })], undefined, '<unknown>/100m (avg)'],
    ['external average value', [ext({ type: 'AverageValue', averageValue: '100m' })], [extStatus({ averageValue: '50m' })], '50m/100m (avg)'],
    ['external value, no current', [ext({ type: 'Value', value: '100m' })], undefined, '<unknown>/100m'],
    ['external value', [ext({ type: 'Value', value: '100m' })], [extStatus({ value: '50m' })], '50m/100m'],
    ['pods, no current', [pods('100m')], undefined, '<unknown>/100m'],
    ['pods', [pods('100m')], [podsStatus('50m')], '50m/100m'],
    ['object value, no current', [object({ type: 'Value', value: '100m' })], undefined, '<unknown>/100m'],
    ['object value', [object({ type: 'Value', value: '100m' })], [objectStatus({ value: '50m' })], '50m/100m'],
    ['object average value', [object({ type: 'AverageValue', averageValue: '100m' })], [objectStatus({ averageValue: '50m' })], '50m/100m (avg)'],
    ['resource average value, no current', [resource({ type: 'AverageValue', averageValue: '100m' })], undefined, 'cpu: <unknown>/100m'],
    ['resource average value', [resource({ type: 'AverageValue', averageValue: '100m' })], [resourceStatus({ averageValue: '50m' })], 'cpu: 50m/100m'],
    ['resource utilization, no current', [resource({ type: 'Utilization', averageUtilization: 80 })], undefined, 'cpu: <unknown>/80%'],
    ['resource utilization', [resource({ type: 'Utilization', averageUtilization: 80 })], [resourceStatus({ averageUtilization: 50, averageValue: '40m' })], 'cpu: 50%/80%'],
    ['container resource average value, no current', [container({ type: 'AverageValue', averageValue: '100m' })], undefined, 'cpu: <unknown>/100m'],
    ['container resource average value', [container({ type: 'AverageValue', averageValue: '100m' })], [containerStatus({ averageValue: '50m' })], 'cpu: 50m/100m'],
    ['container resource utilization, no current', [container({ type: 'Utilization', averageUtilization: 80 })], undefined, 'cpu: <unknown>/80%'],
    ['container resource utilization', [container({ type: 'Utilization', averageUtilization: 80 })], [containerStatus({ averageUtilization: 50, averageValue: '40m' })], 'cpu: 50%/80%'],
    [
      'more than two metrics',
      [pods('100m'), resource({ type: 'Utilization', averageUtilization: 80 }), { type: 'Pods', pods: { metric: { name: 'other-pods-metric' }, target: { type: 'AverageValue', averageValue: '400m' } } }],
      [podsStatus('50m'), resourceStatus({ averageUtilization: 50, averageValue: '40m' })],
      '50m/100m, cpu: 50%/80% + 1 more...',
    ],
  ])('%s', (_n, metrics, current, targets) => {
    expect(horizontalPodAutoscalerPrinter.cells(hpa(metrics, current), NOW)).toEqual(['some-hpa', 'ReplicationController/some-rc', targets, '2', 10, 4, '<unknown>']);
  });

  it('an HPA written without metrics has the default 80% cpu target, as v2 defaulting gives it', () => {
    const h = obj('HorizontalPodAutoscaler', 'autoscaling/v2', { name: 'web' }, { spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, maxReplicas: 10 }, status: { currentReplicas: 0, desiredReplicas: 0 } });
    expect(horizontalPodAutoscalerPrinter.cells(h, NOW)).toEqual(['web', 'Deployment/web', 'cpu: <unknown>/80%', '1', 10, 0, '5m']);
  });

  it('reads autoscaling/v1 objects through the v1 conversion', () => {
    const h = obj('HorizontalPodAutoscaler', 'autoscaling/v1', { name: 'php-apache', creationTimestamp: ago(18 * MIN) }, {
      spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'php-apache' }, minReplicas: 1, maxReplicas: 10, targetCPUUtilizationPercentage: 50 },
      status: { currentReplicas: 7, desiredReplicas: 7, currentCPUUtilizationPercentage: 68 },
    });
    expect(horizontalPodAutoscalerPrinter.cells(h, NOW)).toEqual(['php-apache', 'Deployment/php-apache', 'cpu: 68%/50%', '1', 10, 7, '18m']);
  });
});
