// End to end through toTable: the Table the server sends, laid out the way kubectl's table printer does, must read
// exactly like `kubectl get` (and `-o wide`) against Kubernetes 1.32. Also: the registry covers every kind Skiff
// serves, every printer yields one cell per column, and watch tables drop the headers after the first event.
import { beforeAll, describe, expect, it } from 'vitest';
import { registerAllPrinters, PRINTERS } from '../../../../../control/apiserver/printing/printers/index.js';
import { printerFor, toTable, humanDuration } from '../../../../../control/apiserver/printing/table.js';
import { RESOURCES, findResource, type ResourceDef } from '../../../../../control/apiserver/resources.js';
import type { KubeObject } from '../../../../../control/apiserver/storage/object-storage.js';
import { ago, DAY, HOUR, MIN, NOW, kubectlGet, obj } from './fixtures.js';

beforeAll(() => registerAllPrinters());

function def(group: string, version: string, resource: string): ResourceDef {
  const d = findResource(group, version, resource);
  if (!d) throw new Error(`no resource ${group}/${version}/${resource}`);
  return d;
}

function get(group: string, version: string, resource: string, objects: KubeObject[], wide = false): string {
  return kubectlGet(toTable(def(group, version, resource), objects, { now: NOW, include: 'Metadata' }), { wide });
}

const node1 = { nodeName: 'worker-1' };
const pods = [
  obj('Pod', 'v1', { name: 'web-7d4b9c8f5d-abcde', namespace: 'default', creationTimestamp: ago(5 * MIN) }, {
    spec: { ...node1, containers: [{ name: 'nginx', image: 'nginx:1.27' }] },
    status: { phase: 'Running', podIP: '10.244.1.5', podIPs: [{ ip: '10.244.1.5' }], conditions: [{ type: 'Ready', status: 'True' }], containerStatuses: [{ name: 'nginx', ready: true, started: true, restartCount: 0, state: { running: { startedAt: ago(290) } } }] },
  }),
  obj('Pod', 'v1', { name: 'crash-5f6', namespace: 'default', creationTimestamp: ago(10 * MIN) }, {
    spec: { nodeName: 'worker-2', containers: [{ name: 'app', image: 'busybox' }] },
    status: {
      phase: 'Running',
      podIPs: [{ ip: '10.244.2.9' }],
      containerStatuses: [{ name: 'app', ready: false, started: false, restartCount: 4, state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 1m20s restarting failed container' } }, lastState: { terminated: { exitCode: 1, reason: 'Error', finishedAt: ago(25) } } }],
    },
  }),
  obj('Pod', 'v1', { name: 'init-demo', namespace: 'default', creationTimestamp: ago(12) }, {
    spec: { ...node1, initContainers: [{ name: 'setup', image: 'busybox' }], containers: [{ name: 'app', image: 'busybox' }] },
    status: { phase: 'Pending', initContainerStatuses: [{ name: 'setup', ready: false, restartCount: 0, state: { running: { startedAt: ago(5) } } }], containerStatuses: [{ name: 'app', ready: false, restartCount: 0, state: { waiting: { reason: 'PodInitializing' } } }] },
  }),
];

describe('kubectl get output', () => {
  it('kubectl get pods', () => {
    expect(get('', 'v1', 'pods', pods)).toBe(
      [
        'NAME                   READY   STATUS             RESTARTS      AGE',
        'web-7d4b9c8f5d-abcde   1/1     Running            0             5m',
        'crash-5f6              0/1     CrashLoopBackOff   4 (25s ago)   10m',
        'init-demo              0/1     Init:0/1           0             12s',
        '',
      ].join('\n'),
    );
  });

  it('kubectl get pods -o wide', () => {
    expect(get('', 'v1', 'pods', pods, true)).toBe(
      [
        'NAME                   READY   STATUS             RESTARTS      AGE   IP           NODE       NOMINATED NODE   READINESS GATES',
        'web-7d4b9c8f5d-abcde   1/1     Running            0             5m    10.244.1.5   worker-1   <none>           <none>',
        'crash-5f6              0/1     CrashLoopBackOff   4 (25s ago)   10m   10.244.2.9   worker-2   <none>           <none>',
        'init-demo              0/1     Init:0/1           0             12s   <none>       worker-1   <none>           <none>',
        '',
      ].join('\n'),
    );
  });

  const nodes = [
    obj('Node', 'v1', { name: 'cp-1', creationTimestamp: ago(12 * DAY), labels: { 'node-role.kubernetes.io/control-plane': '', 'kubernetes.io/hostname': 'cp-1' } }, {
      spec: {},
      status: {
        conditions: [{ type: 'MemoryPressure', status: 'False' }, { type: 'Ready', status: 'True' }],
        addresses: [{ type: 'InternalIP', address: '172.18.0.2' }, { type: 'Hostname', address: 'cp-1' }],
        nodeInfo: { kubeletVersion: 'v1.32.0', osImage: 'Debian GNU/Linux 12 (bookworm)', kernelVersion: '6.8.0-45-generic', containerRuntimeVersion: 'containerd://1.7.24' },
      },
    }),
    obj('Node', 'v1', { name: 'worker-1', creationTimestamp: ago(12 * DAY + HOUR) }, {
      spec: { unschedulable: true },
      status: {
        conditions: [{ type: 'Ready', status: 'True' }],
        addresses: [{ type: 'InternalIP', address: '172.18.0.3' }, { type: 'ExternalIP', address: '203.0.113.7' }],
        nodeInfo: { kubeletVersion: 'v1.32.0', osImage: 'Debian GNU/Linux 12 (bookworm)', kernelVersion: '6.8.0-45-generic', containerRuntimeVersion: 'containerd://1.7.24' },
      },
    }),
  ];

  it('kubectl get nodes', () => {
    expect(get('', 'v1', 'nodes', nodes)).toBe(
      [
        'NAME       STATUS                     ROLES           AGE   VERSION',
        'cp-1       Ready                      control-plane   12d   v1.32.0',
        'worker-1   Ready,SchedulingDisabled   <none>          12d   v1.32.0',
        '',
      ].join('\n'),
    );
  });

  it('kubectl get nodes -o wide', () => {
    expect(get('', 'v1', 'nodes', nodes, true)).toBe(
      [
        'NAME       STATUS                     ROLES           AGE   VERSION   INTERNAL-IP   EXTERNAL-IP   OS-IMAGE                         KERNEL-VERSION     CONTAINER-RUNTIME',
        'cp-1       Ready                      control-plane   12d   v1.32.0   172.18.0.2    <none>        Debian GNU/Linux 12 (bookworm)   6.8.0-45-generic   containerd://1.7.24',
        'worker-1   Ready,SchedulingDisabled   <none>          12d   v1.32.0   172.18.0.3    203.0.113.7   Debian GNU/Linux 12 (bookworm)   6.8.0-45-generic   containerd://1.7.24',
        '',
      ].join('\n'),
    );
  });

  it('kubectl get services', () => {
    const svcs = [
      obj('Service', 'v1', { name: 'kubernetes', namespace: 'default', creationTimestamp: ago(12 * DAY) }, { spec: { type: 'ClusterIP', clusterIP: '10.96.0.1', clusterIPs: ['10.96.0.1'], ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }] }, status: { loadBalancer: {} } }),
      obj('Service', 'v1', { name: 'web', namespace: 'default', creationTimestamp: ago(3 * HOUR + 20 * MIN) }, {
        spec: { type: 'LoadBalancer', clusterIP: '10.96.12.34', clusterIPs: ['10.96.12.34'], selector: { app: 'web' }, ports: [{ name: 'http', port: 80, nodePort: 31234, protocol: 'TCP' }, { name: 'https', port: 443, nodePort: 30443, protocol: 'TCP' }] },
        status: { loadBalancer: {} },
      }),
    ];
    expect(get('', 'v1', 'services', svcs)).toBe(
      [
        'NAME         TYPE           CLUSTER-IP    EXTERNAL-IP   PORT(S)                      AGE',
        'kubernetes   ClusterIP      10.96.0.1     <none>        443/TCP                      12d',
        'web          LoadBalancer   10.96.12.34   <pending>     80:31234/TCP,443:30443/TCP   3h20m',
        '',
      ].join('\n'),
    );
    expect(get('', 'v1', 'services', svcs, true)).toBe(
      [
        'NAME         TYPE           CLUSTER-IP    EXTERNAL-IP   PORT(S)                      AGE     SELECTOR',
        'kubernetes   ClusterIP      10.96.0.1     <none>        443/TCP                      12d     <none>',
        'web          LoadBalancer   10.96.12.34   <pending>     80:31234/TCP,443:30443/TCP   3h20m   app=web',
        '',
      ].join('\n'),
    );
  });

  it('kubectl get events (core/v1 and events.k8s.io/v1 print alike)', () => {
    const events = [
      obj('Event', 'v1', { name: 'web-1.181a', namespace: 'default', creationTimestamp: ago(2 * MIN) }, {
        involvedObject: { kind: 'Pod', namespace: 'default', name: 'web-1', apiVersion: 'v1' },
        reason: 'Scheduled',
        message: 'Successfully assigned default/web-1 to worker-1',
        source: { component: 'default-scheduler' },
        firstTimestamp: ago(2 * MIN),
        lastTimestamp: ago(2 * MIN),
        count: 1,
        type: 'Normal',
      }),
      obj('Event', 'v1', { name: 'crash-5f6.181b', namespace: 'default', creationTimestamp: ago(9 * MIN) }, {
        involvedObject: { kind: 'Pod', namespace: 'default', name: 'crash-5f6', fieldPath: 'spec.containers{app}' },
        reason: 'BackOff',
        message: 'Back-off restarting failed container app in pod crash-5f6_default(0d2c)',
        source: { component: 'kubelet', host: 'worker-2' },
        firstTimestamp: ago(9 * MIN),
        lastTimestamp: ago(30),
        count: 31,
        type: 'Warning',
      }),
    ];
    const expected = [
      'LAST SEEN   TYPE      REASON      OBJECT          MESSAGE',
      '2m          Normal    Scheduled   pod/web-1       Successfully assigned default/web-1 to worker-1',
      '30s         Warning   BackOff     pod/crash-5f6   Back-off restarting failed container app in pod crash-5f6_default(0d2c)',
      '',
    ].join('\n');
    expect(get('', 'v1', 'events', events)).toBe(expected);
    expect(get('events.k8s.io', 'v1', 'events', events)).toBe(expected);
    expect(get('', 'v1', 'events', events, true)).toBe(
      [
        'LAST SEEN   TYPE      REASON      OBJECT          SUBOBJECT              SOURCE              MESSAGE                                                                   FIRST SEEN   COUNT   NAME',
        '2m          Normal    Scheduled   pod/web-1                              default-scheduler   Successfully assigned default/web-1 to worker-1                           2m           1       web-1.181a',
        '30s         Warning   BackOff     pod/crash-5f6   spec.containers{app}   kubelet, worker-2   Back-off restarting failed container app in pod crash-5f6_default(0d2c)   9m           31      crash-5f6.181b',
        '',
      ].join('\n'),
    );
  });

  it('kubectl get deployments -o wide', () => {
    const d = obj('Deployment', 'apps/v1', { name: 'web', namespace: 'default', creationTimestamp: ago(5 * MIN) }, {
      spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.27' }] } } },
      status: { replicas: 3, readyReplicas: 3, updatedReplicas: 3, availableReplicas: 3 },
    });
    expect(get('apps', 'v1', 'deployments', [d], true)).toBe(
      ['NAME   READY   UP-TO-DATE   AVAILABLE   AGE   CONTAINERS   IMAGES       SELECTOR', 'web    3/3     3            3           5m    nginx        nginx:1.27   app=web', ''].join('\n'),
    );
  });

  it('kubectl get jobs', () => {
    const j = obj('Job', 'batch/v1', { name: 'pi', namespace: 'default', creationTimestamp: ago(2 * MIN) }, {
      spec: { completions: 1, parallelism: 1, backoffLimit: 4, template: { spec: { containers: [{ name: 'pi', image: 'perl:5.34.0' }], restartPolicy: 'Never' } } },
      status: { succeeded: 1, startTime: ago(110), completionTime: ago(95), conditions: [{ type: 'SuccessCriteriaMet', status: 'True' }, { type: 'Complete', status: 'True' }] },
    });
    expect(get('batch', 'v1', 'jobs', [j])).toBe(['NAME   STATUS     COMPLETIONS   DURATION   AGE', 'pi     Complete   1/1           15s        2m', ''].join('\n'));
  });

  it('kubectl get priorityclasses prints booleans as Go does', () => {
    const pc = obj('PriorityClass', 'scheduling.k8s.io/v1', { name: 'system-node-critical', creationTimestamp: ago(12 * DAY) }, { value: 2000001000, preemptionPolicy: 'PreemptLowerPriority', description: 'Used for system critical pods that must not be moved from their current node.' });
    expect(get('scheduling.k8s.io', 'v1', 'priorityclasses', [pc])).toBe(
      ['NAME                   VALUE        GLOBAL-DEFAULT   AGE   PREEMPTIONPOLICY', 'system-node-critical   2000001000   false            12d   PreemptLowerPriority', ''].join('\n'),
    );
  });

  it('kubectl get roles shows CREATED AT, as upstream has no role printer', () => {
    const r = obj('Role', 'rbac.authorization.k8s.io/v1', { name: 'pod-reader', namespace: 'default', creationTimestamp: '2026-11-30T11:00:00Z' }, { rules: [] });
    expect(get('rbac.authorization.k8s.io', 'v1', 'roles', [r])).toBe(['NAME         CREATED AT', 'pod-reader   2026-11-30T11:00:00Z', ''].join('\n'));
  });
});

describe('printer registry', () => {
  it('covers every listable kind Skiff serves', () => {
    const registered = new Set(PRINTERS.map(([g, k]) => `${g}/${k}`));
    const missing = RESOURCES.filter((r) => r.verbs.includes('list') && !registered.has(`${r.group}/${r.kind}`)).map((r) => `${r.group}/${r.kind}`);
    expect(missing).toEqual([]);
  });

  it('every printer yields one cell per column, even for a bare object', () => {
    for (const [group, kind, printer] of PRINTERS) {
      const bare: KubeObject = { kind, metadata: { name: 'x', creationTimestamp: ago(1) } };
      const cells = printer.cells(bare, NOW);
      expect(cells.length, `${group}/${kind}`).toBe(printer.columns.length);
      expect(printer.columns[0]?.name, `${group}/${kind}`).toMatch(/^(Name|Last Seen)$/);
    }
  });

  it('serves the same printer for both HPA versions', () => {
    expect(printerFor(def('autoscaling', 'v1', 'horizontalpodautoscalers'))).toBe(printerFor(def('autoscaling', 'v2', 'horizontalpodautoscalers')));
  });
});

describe('tables for watch events', () => {
  it('carries column definitions only on the first event', () => {
    const podsDef = def('', 'v1', 'pods');
    const first = toTable(podsDef, [pods[0] as KubeObject], { now: NOW, include: 'Object' });
    const next = toTable(podsDef, [pods[1] as KubeObject], { now: NOW, include: 'Object', noHeaders: true });
    expect((first.columnDefinitions as unknown[]).length).toBe(9);
    expect(next).not.toHaveProperty('columnDefinitions');
    const rows = next.rows as Array<{ cells: unknown[]; object: KubeObject }>;
    expect(rows[0]?.cells.slice(0, 5)).toEqual(['crash-5f6', '0/1', 'CrashLoopBackOff', '4 (25s ago)', '10m']);
    expect(rows[0]?.object.metadata.name).toBe('crash-5f6');
    // kubectl --watch prints the follow-up rows with the first event's columns.
    const columns = first.columnDefinitions;
    expect(kubectlGet({ ...next, columnDefinitions: columns }).split('\n')[1]).toBe('crash-5f6   0/1     CrashLoopBackOff   4 (25s ago)   10m');
  });

  it('metadata-only rows carry PartialObjectMetadata', () => {
    const t = toTable(def('', 'v1', 'pods'), [pods[0] as KubeObject], { now: NOW, include: 'Metadata' });
    const row = (t.rows as Array<{ object: Record<string, unknown> }>)[0];
    expect(row?.object.kind).toBe('PartialObjectMetadata');
  });
});

describe('humanDuration (apimachinery duration.HumanDuration)', () => {
  const s = 1000;
  it.each<[number, string]>([
    [-2.1 * s, '<invalid>'],
    [-1.9 * s, '0s'],
    [-0.5 * s, '0s'],
    [0, '0s'],
    [999, '0s'],
    [1 * s, '1s'],
    [70 * s, '70s'],
    [119 * s, '119s'],
    [120 * s, '2m'],
    [190 * s, '3m10s'],
    [599 * s, '9m59s'],
    [600 * s, '10m'],
    [70 * MIN * s, '70m'],
    [179 * MIN * s, '179m'],
    [3 * HOUR * s, '3h'],
    [(3 * HOUR + 20 * MIN) * s, '3h20m'],
    [(7 * HOUR + 59 * MIN) * s, '7h59m'],
    [8 * HOUR * s, '8h'],
    [47 * HOUR * s, '47h'],
    [49 * HOUR * s, '2d1h'],
    [(8 * 24 - 1) * HOUR * s, '7d23h'],
    [(8 * 24 + 2) * HOUR * s, '8d'],
    [367 * DAY * s, '367d'],
    [(365 * 2 * 24 + 25) * HOUR * s, '2y1d'],
    [(365 * 8 * 24 + 2) * HOUR * s, '8y'],
  ])('%d ms → %s', (ms, expected) => {
    expect(humanDuration(ms)).toBe(expected);
  });
});
