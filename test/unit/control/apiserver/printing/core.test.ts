// Core-group printers (nodes, namespaces, services, endpoints, config, events, storage, quotas) against the cells
// upstream's pkg/printers/internalversion prints for the same objects.
import { describe, expect, it } from 'vitest';
import {
  configMapPrinter,
  endpointsPrinter,
  namespacePrinter,
  nodePrinter,
  persistentVolumeClaimPrinter,
  persistentVolumePrinter,
  replicationControllerPrinter,
  resourceQuotaPrinter,
  secretPrinter,
  serviceAccountPrinter,
  servicePrinter,
} from '../../../../../control/apiserver/printing/printers/core.js';
import { eventPrinter } from '../../../../../control/apiserver/printing/printers/events.js';
import { podTemplatePrinter } from '../../../../../control/apiserver/printing/printers/pods.js';
import type { KindPrinter } from '../../../../../control/apiserver/printing/table.js';
import { ago, DAY, HOUR, MIN, NOW, obj } from './fixtures.js';

function columns(p: KindPrinter): Array<[string, string, number]> {
  return p.columns.map((c) => [c.name, c.type, c.priority]);
}

describe('nodes', () => {
  const node = (name: string, rest: Record<string, unknown>, labels?: Record<string, string>) => obj('Node', 'v1', { name, creationTimestamp: undefined, ...(labels ? { labels } : {}) }, rest);
  const ready = (s: string) => ({ status: { conditions: [{ type: 'Ready', status: s }] } });

  it('columns', () => {
    expect(columns(nodePrinter)).toEqual([
      ['Name', 'string', 0],
      ['Status', 'string', 0],
      ['Roles', 'string', 0],
      ['Age', 'string', 0],
      ['Version', 'string', 0],
      ['Internal-IP', 'string', 1],
      ['External-IP', 'string', 1],
      ['OS-Image', 'string', 1],
      ['Kernel-Version', 'string', 1],
      ['Container-Runtime', 'string', 1],
    ]);
  });

  it.each([
    ['foo1', ready('True'), 'Ready'],
    ['foo2', { spec: { unschedulable: true }, ...ready('True') }, 'Ready,SchedulingDisabled'],
    ['foo3', { status: { conditions: [{ type: 'Ready', status: 'True' }, { type: 'Ready', status: 'True' }] } }, 'Ready'],
    ['foo4', ready('False'), 'NotReady'],
    ['foo4u', ready('Unknown'), 'NotReady'],
    ['foo5', { spec: { unschedulable: true }, ...ready('False') }, 'NotReady,SchedulingDisabled'],
    ['foo6', { status: { conditions: [{ type: 'InvalidValue', status: 'True' }] } }, 'Unknown'],
    ['foo7', { status: { conditions: [{}] } }, 'Unknown'],
    ['foo8', { spec: { unschedulable: true }, status: { conditions: [{ type: 'InvalidValue', status: 'True' }] } }, 'Unknown,SchedulingDisabled'],
    ['foo9', { spec: { unschedulable: true }, status: { conditions: [{}] } }, 'Unknown,SchedulingDisabled'],
  ])('status of %s', (name, rest, status) => {
    expect(nodePrinter.cells(node(name, rest), NOW).slice(0, 5)).toEqual([name, status, '<none>', '<unknown>', '']);
  });

  it('roles from node-role.kubernetes.io/* and kubernetes.io/role labels, sorted and de-duplicated', () => {
    const labels = { 'node-role.kubernetes.io/master': '', 'node-role.kubernetes.io/control-plane': '', 'node-role.kubernetes.io/proxy': '', 'kubernetes.io/role': 'node' };
    expect(nodePrinter.cells(node('foo10', {}, labels), NOW)[2]).toBe('control-plane,master,node,proxy');
    expect(nodePrinter.cells(node('foo11', {}, { 'kubernetes.io/role': 'node' }), NOW)[2]).toBe('node');
    expect(nodePrinter.cells(node('foo12', {}, { 'node-role.kubernetes.io/': '', 'kubernetes.io/role': '' }), NOW)[2]).toBe('<none>');
  });

  it('wide: first internal and external address, node info or <unknown>', () => {
    const n = node('foo3', {
      status: {
        addresses: [
          { type: 'ExternalIP', address: '2.2.2.2' },
          { type: 'InternalIP', address: '3.3.3.3' },
          { type: 'ExternalIP', address: '4.4.4.4' },
        ],
        nodeInfo: { osImage: 'fake-os-image' },
      },
    });
    expect(nodePrinter.cells(n, NOW)).toEqual(['foo3', 'Unknown', '<none>', '<unknown>', '', '3.3.3.3', '2.2.2.2', 'fake-os-image', '<unknown>', '<unknown>']);
    const full = node('worker-1', {
      status: {
        conditions: [{ type: 'MemoryPressure', status: 'False' }, { type: 'Ready', status: 'True' }],
        addresses: [{ type: 'InternalIP', address: '172.18.0.2' }, { type: 'Hostname', address: 'worker-1' }],
        nodeInfo: { kubeletVersion: 'v1.32.0', osImage: 'Debian GNU/Linux 12 (bookworm)', kernelVersion: '6.8.0-45-generic', containerRuntimeVersion: 'containerd://1.7.24' },
      },
    });
    expect(nodePrinter.cells(full, NOW)).toEqual(['worker-1', 'Ready', '<none>', '<unknown>', 'v1.32.0', '172.18.0.2', '<none>', 'Debian GNU/Linux 12 (bookworm)', '6.8.0-45-generic', 'containerd://1.7.24']);
  });
});

describe('namespaces, config maps, secrets, service accounts', () => {
  it('namespace status', () => {
    expect(columns(namespacePrinter)).toEqual([
      ['Name', 'string', 0],
      ['Status', 'string', 0],
      ['Age', 'string', 0],
    ]);
    expect(namespacePrinter.cells(obj('Namespace', 'v1', { name: 'namespace1', creationTimestamp: ago(-1.9) }, { status: { phase: 'FooStatus' } }), NOW)).toEqual(['namespace1', 'FooStatus', '0s']);
    expect(namespacePrinter.cells(obj('Namespace', 'v1', { name: 'kube-system', creationTimestamp: ago(40 * DAY) }, { status: { phase: 'Active' } }), NOW)).toEqual(['kube-system', 'Active', '40d']);
    expect(namespacePrinter.cells(obj('Namespace', 'v1', { name: 'gone', deletionTimestamp: ago(1) }, { status: { phase: 'Terminating' } }), NOW)[1]).toBe('Terminating');
  });

  it('config map data counts data and binaryData', () => {
    expect(columns(configMapPrinter)).toEqual([
      ['Name', 'string', 0],
      ['Data', 'string', 0],
      ['Age', 'string', 0],
    ]);
    expect(configMapPrinter.cells(obj('ConfigMap', 'v1', { name: 'configmap1', creationTimestamp: ago(-1.9) }), NOW)).toEqual(['configmap1', 0, '0s']);
    expect(configMapPrinter.cells(obj('ConfigMap', 'v1', { name: 'configmap2' }, { data: { foo: 'bar' } }), NOW)).toEqual(['configmap2', 1, '5m']);
    expect(configMapPrinter.cells(obj('ConfigMap', 'v1', { name: 'configmap3' }, { data: { foo: 'bar' }, binaryData: { bin: 'YmluYXJ5' } }), NOW)).toEqual(['configmap3', 2, '5m']);
  });

  it('secret type and data count', () => {
    expect(columns(secretPrinter)).toEqual([
      ['Name', 'string', 0],
      ['Type', 'string', 0],
      ['Data', 'string', 0],
      ['Age', 'string', 0],
    ]);
    expect(secretPrinter.cells(obj('Secret', 'v1', { name: 'secret1', creationTimestamp: ago(-1.9) }, { type: 'kubernetes.io/service-account-token', data: { token: 'c2VjcmV0' } }), NOW)).toEqual(['secret1', 'kubernetes.io/service-account-token', 1, '0s']);
    expect(secretPrinter.cells(obj('Secret', 'v1', { name: 'secret1', creationTimestamp: ago(-1.9) }, { type: 'kubernetes.io/service-account-token' }), NOW)).toEqual(['secret1', 'kubernetes.io/service-account-token', 0, '0s']);
    expect(secretPrinter.cells(obj('Secret', 'v1', { name: 'tls' }, { type: 'kubernetes.io/tls', data: { 'tls.crt': 'x', 'tls.key': 'y' } }), NOW)).toEqual(['tls', 'kubernetes.io/tls', 2, '5m']);
  });

  it('service account secrets count', () => {
    expect(columns(serviceAccountPrinter)).toEqual([
      ['Name', 'string', 0],
      ['Secrets', 'string', 0],
      ['Age', 'string', 0],
    ]);
    expect(serviceAccountPrinter.cells(obj('ServiceAccount', 'v1', { name: 'sa1', creationTimestamp: ago(-1.9) }, { secrets: [] }), NOW)).toEqual(['sa1', 0, '0s']);
    expect(serviceAccountPrinter.cells(obj('ServiceAccount', 'v1', { name: 'sa1', creationTimestamp: ago(-1.9) }, { secrets: [{ name: 'Secret1' }, { name: 'Secret2' }] }), NOW)).toEqual(['sa1', 2, '0s']);
    expect(serviceAccountPrinter.cells(obj('ServiceAccount', 'v1', { name: 'default' }), NOW)).toEqual(['default', 0, '5m']);
  });
});

describe('services', () => {
  const svc = (name: string, spec: Record<string, unknown>, status: Record<string, unknown> = {}) => obj('Service', 'v1', { name, creationTimestamp: undefined }, { spec, status });

  it('columns', () => {
    expect(columns(servicePrinter)).toEqual([
      ['Name', 'string', 0],
      ['Type', 'string', 0],
      ['Cluster-IP', 'string', 0],
      ['External-IP', 'string', 0],
      ['Port(s)', 'string', 0],
      ['Age', 'string', 0],
      ['Selector', 'string', 1],
    ]);
  });

  it.each<[string, Record<string, unknown>, Record<string, unknown>, unknown[]]>([
    ['cluster IP with selector', { type: 'ClusterIP', ports: [{ protocol: 'tcp', port: 2233 }], clusterIP: '10.9.8.7', clusterIPs: ['10.9.8.7'], selector: { foo: 'bar' } }, {}, ['test1', 'ClusterIP', '10.9.8.7', '<none>', '2233/tcp', '<unknown>', 'foo=bar']],
    ['node port', { type: 'NodePort', ports: [{ protocol: 'tcp', port: 8888, nodePort: 9999 }], clusterIPs: ['10.9.8.7'] }, {}, ['test1', 'NodePort', '10.9.8.7', '<none>', '8888:9999/tcp', '<unknown>', '<none>']],
    ['load balancer pending', { type: 'LoadBalancer', ports: [{ protocol: 'tcp', port: 8888 }], clusterIPs: ['10.9.8.7'] }, {}, ['test1', 'LoadBalancer', '10.9.8.7', '<pending>', '8888/tcp', '<unknown>', '<none>']],
    ['load balancer with external IP only', { type: 'LoadBalancer', ports: [{ protocol: 'tcp', port: 8888 }], clusterIPs: ['10.9.8.7'], externalIPs: ['80.11.12.10'] }, {}, ['test1', 'LoadBalancer', '10.9.8.7', '80.11.12.10', '8888/tcp', '<unknown>', '<none>']],
    [
      'load balancer ingress plus external IP',
      { type: 'LoadBalancer', ports: [{ protocol: 'tcp', port: 8888 }], clusterIPs: ['10.9.8.7'], externalIPs: ['80.11.12.10'] },
      { loadBalancer: { ingress: [{ ip: '3.4.5.6', hostname: 'test.cluster.com' }] } },
      ['test1', 'LoadBalancer', '10.9.8.7', '3.4.5.6,80.11.12.10', '8888/tcp', '<unknown>', '<none>'],
    ],
    [
      'load balancer ingresses, sorted, plus external IPs',
      { type: 'LoadBalancer', ports: [{ protocol: 'tcp', port: 8888 }], clusterIPs: ['10.9.8.7'], externalIPs: ['80.11.12.10', '80.11.12.11'] },
      { loadBalancer: { ingress: [{ ip: '3.4.5.6', hostname: 'test.cluster.com' }, { ip: '2.3.4.5', hostname: 'test.cluster.local' }] } },
      ['test1', 'LoadBalancer', '10.9.8.7', '2.3.4.5,3.4.5.6,80.11.12.10,80.11.12.11', '8888/tcp', '<unknown>', '<none>'],
    ],
    [
      // The server prints the wide form, so the load balancer list is not cut at 16 characters.
      'long load balancer list, as the server prints it',
      { type: 'LoadBalancer', ports: [{ protocol: 'TCP', port: 80 }, { protocol: 'UDP', port: 8090 }, { protocol: 'TCP', port: 8000 }], clusterIPs: ['1.5.6.7'], selector: { foo: 'bar' } },
      { loadBalancer: { ingress: [{ ip: '2.3.4.5' }, { ip: '3.4.5.6' }, { ip: '5.6.7.8', hostname: 'host5678' }] } },
      ['test1', 'LoadBalancer', '1.5.6.7', '2.3.4.5,3.4.5.6,5.6.7.8', '80/TCP,8090/UDP,8000/TCP', '<unknown>', 'foo=bar'],
    ],
    ['load balancer hostname', { type: 'LoadBalancer', ports: [{ protocol: 'TCP', port: 443 }], clusterIPs: ['10.0.0.9'] }, { loadBalancer: { ingress: [{ hostname: 'lb.example.com' }] } }, ['test1', 'LoadBalancer', '10.0.0.9', 'lb.example.com', '443/TCP', '<unknown>', '<none>']],
    ['external name', { type: 'ExternalName', externalName: 'my.database.example.com' }, {}, ['test1', 'ExternalName', '<none>', 'my.database.example.com', '<none>', '<unknown>', '<none>']],
    ['headless', { type: 'ClusterIP', clusterIP: 'None', clusterIPs: ['None'], ports: [{ name: 'web', protocol: 'TCP', port: 80, targetPort: 8080 }], selector: { app: 'web' } }, {}, ['test1', 'ClusterIP', 'None', '<none>', '80/TCP', '<unknown>', 'app=web']],
    ['multi-port with sorted selector', { type: 'ClusterIP', clusterIPs: ['10.96.0.10'], ports: [{ name: 'dns', protocol: 'UDP', port: 53 }, { name: 'dns-tcp', protocol: 'TCP', port: 53 }, { name: 'metrics', protocol: 'TCP', port: 9153 }], selector: { 'k8s-app': 'kube-dns', a: 'b' } }, {}, ['test1', 'ClusterIP', '10.96.0.10', '<none>', '53/UDP,53/TCP,9153/TCP', '<unknown>', 'a=b,k8s-app=kube-dns']],
  ])('%s', (_n, spec, status, expected) => {
    expect(servicePrinter.cells(svc('test1', spec, status), NOW)).toEqual(expected);
  });
});

describe('endpoints', () => {
  const ep = (subsets: unknown) => obj('Endpoints', 'v1', { name: 'web', creationTimestamp: ago(2 * HOUR) }, subsets === undefined ? {} : { subsets });

  it('columns', () => {
    expect(columns(endpointsPrinter)).toEqual([
      ['Name', 'string', 0],
      ['Endpoints', 'string', 0],
      ['Age', 'string', 0],
    ]);
  });

  it.each<[string, unknown, string]>([
    ['no subsets', undefined, '<none>'],
    ['empty subsets', [], '<none>'],
    ['one address one port', [{ addresses: [{ ip: '127.0.0.1' }], ports: [{ port: 8080 }] }], '127.0.0.1:8080'],
    ['headless without ports', [{ addresses: [{ ip: '10.1.1.1' }, { ip: '10.1.1.2' }] }], '10.1.1.1,10.1.1.2'],
    ['two ports', [{ addresses: [{ ip: '10.1.1.1' }], ports: [{ port: 80, name: 'http' }, { port: 443, name: 'https' }] }], '10.1.1.1:80,10.1.1.1:443'],
    ['ipv6', [{ addresses: [{ ip: 'fd00::1' }], ports: [{ port: 80 }] }], '[fd00::1]:80'],
    [
      'more than three',
      [{ addresses: [{ ip: '1.1.1.1' }, { ip: '2.2.2.2' }, { ip: '3.3.3.3' }, { ip: '4.4.4.4' }, { ip: '5.5.5.5' }], ports: [{ port: 80 }] }],
      '1.1.1.1:80,2.2.2.2:80,3.3.3.3:80 + 2 more...',
    ],
    [
      'count across ports and subsets',
      [
        { addresses: [{ ip: '1.1.1.1' }, { ip: '2.2.2.2' }], ports: [{ port: 80 }, { port: 443 }] },
        { addresses: [{ ip: '3.3.3.3' }], ports: [{ port: 80 }] },
      ],
      '1.1.1.1:80,2.2.2.2:80,1.1.1.1:443 + 2 more...',
    ],
    ['not-ready addresses are not listed', [{ notReadyAddresses: [{ ip: '1.1.1.1' }], ports: [{ port: 80 }] }], ''],
  ])('%s', (_n, subsets, expected) => {
    expect(endpointsPrinter.cells(ep(subsets), NOW)).toEqual(['web', expected, '120m']);
  });
});

describe('replication controllers and pod templates', () => {
  it('replication controller, wide', () => {
    expect(columns(replicationControllerPrinter)).toEqual([
      ['Name', 'string', 0],
      ['Desired', 'integer', 0],
      ['Current', 'integer', 0],
      ['Ready', 'integer', 0],
      ['Age', 'string', 0],
      ['Containers', 'string', 1],
      ['Images', 'string', 1],
      ['Selector', 'string', 1],
    ]);
    const rc = obj('ReplicationController', 'v1', { name: 'rc1', creationTimestamp: ago(90) }, {
      spec: { replicas: 3, selector: { app: 'web', tier: 'fe' }, template: { metadata: { labels: { app: 'web', tier: 'fe' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.27' }, { name: 'log', image: 'busybox' }] } } },
      status: { replicas: 3, readyReplicas: 2, availableReplicas: 2 },
    });
    expect(replicationControllerPrinter.cells(rc, NOW)).toEqual(['rc1', 3, 3, 2, '90s', 'nginx,log', 'nginx:1.27,busybox', 'app=web,tier=fe']);
  });

  it('pod template', () => {
    expect(columns(podTemplatePrinter)).toEqual([
      ['Name', 'string', 0],
      ['Containers', 'string', 0],
      ['Images', 'string', 0],
      ['Pod Labels', 'string', 0],
    ]);
    expect(podTemplatePrinter.cells(obj('PodTemplate', 'v1', { name: 'pod-template-1' }, { template: { metadata: { name: 'pod-template-1' }, spec: { containers: [] } } }), NOW)).toEqual(['pod-template-1', '', '', '<none>']);
    expect(
      podTemplatePrinter.cells(
        obj('PodTemplate', 'v1', { name: 'pod-template-2' }, { template: { metadata: { labels: { foo: 'bar' } }, spec: { containers: [{ name: 'fake-container1', image: 'fake-image1' }, { name: 'fake-container2', image: 'fake-image2' }] } } }),
        NOW,
      ),
    ).toEqual(['pod-template-2', 'fake-container1,fake-container2', 'fake-image1,fake-image2', 'foo=bar']);
  });
});

describe('resource quotas', () => {
  it('splits requests and limits, sorted by resource name', () => {
    expect(columns(resourceQuotaPrinter)).toEqual([
      ['Name', 'string', 0],
      ['Request', 'string', 0],
      ['Limit', 'string', 0],
      ['Age', 'string', 0],
    ]);
    const q = obj('ResourceQuota', 'v1', { name: 'compute', creationTimestamp: ago(30) }, {
      spec: { hard: { pods: '4', 'requests.cpu': '1', 'requests.memory': '1Gi', 'limits.cpu': '2', 'limits.memory': '2Gi' } },
      status: {
        hard: { pods: '4', 'requests.cpu': '1', 'requests.memory': '1Gi', 'limits.cpu': '2', 'limits.memory': '2Gi' },
        used: { pods: '1', 'requests.cpu': '500m', 'requests.memory': '0', 'limits.cpu': '1' },
      },
    });
    expect(resourceQuotaPrinter.cells(q, NOW)).toEqual(['compute', 'pods: 1/4, requests.cpu: 500m/1, requests.memory: 0/1Gi', 'limits.cpu: 1/2, limits.memory: 0/2Gi', '30s']);
    // A quota the controller has not counted yet has no status.
    expect(resourceQuotaPrinter.cells(obj('ResourceQuota', 'v1', { name: 'new' }, { spec: { hard: { pods: '4' } } }), NOW)).toEqual(['new', '', '', '5m']);
  });
});

describe('persistent volumes and claims', () => {
  it('persistent volume', () => {
    expect(columns(persistentVolumePrinter)).toEqual([
      ['Name', 'string', 0],
      ['Capacity', 'string', 0],
      ['Access Modes', 'string', 0],
      ['Reclaim Policy', 'string', 0],
      ['Status', 'string', 0],
      ['Claim', 'string', 0],
      ['StorageClass', 'string', 0],
      ['VolumeAttributesClass', 'string', 0],
      ['Reason', 'string', 0],
      ['Age', 'string', 0],
      ['VolumeMode', 'string', 1],
    ]);
    const pv = obj('PersistentVolume', 'v1', { name: 'pv0001', creationTimestamp: ago(DAY) }, {
      spec: { capacity: { storage: '5Gi' }, accessModes: ['ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOnce'], persistentVolumeReclaimPolicy: 'Recycle', storageClassName: 'slow', volumeMode: 'Filesystem', claimRef: { namespace: 'default', name: 'myclaim' }, hostPath: { path: '/tmp' } },
      status: { phase: 'Bound' },
    });
    expect(persistentVolumePrinter.cells(pv, NOW)).toEqual(['pv0001', '5Gi', 'RWO,RWX', 'Recycle', 'Bound', 'default/myclaim', 'slow', '<unset>', '', '24h', 'Filesystem']);
    const releasing = obj('PersistentVolume', 'v1', { name: 'pv2', deletionTimestamp: ago(1), annotations: { 'volume.beta.kubernetes.io/storage-class': 'beta' } }, {
      spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOncePod', 'ReadOnlyMany'], persistentVolumeReclaimPolicy: 'Delete', storageClassName: 'ignored', volumeMode: 'Block', volumeAttributesClassName: 'gold' },
      status: { phase: 'Failed', reason: 'VolumeFailedRecycle' },
    });
    expect(persistentVolumePrinter.cells(releasing, NOW)).toEqual(['pv2', '1Gi', 'ROX,RWOP', 'Delete', 'Terminating', '', 'beta', 'gold', 'VolumeFailedRecycle', '5m', 'Block']);
  });

  it('persistent volume claim', () => {
    expect(columns(persistentVolumeClaimPrinter)).toEqual([
      ['Name', 'string', 0],
      ['Status', 'string', 0],
      ['Volume', 'string', 0],
      ['Capacity', 'string', 0],
      ['Access Modes', 'string', 0],
      ['StorageClass', 'string', 0],
      ['VolumeAttributesClass', 'string', 0],
      ['Age', 'string', 0],
      ['VolumeMode', 'string', 1],
    ]);
    const bound = obj('PersistentVolumeClaim', 'v1', { name: 'myclaim' }, {
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '8Gi' } }, storageClassName: 'standard', volumeName: 'pvc-1234', volumeMode: 'Filesystem' },
      status: { phase: 'Bound', accessModes: ['ReadWriteOnce'], capacity: { storage: '10Gi' } },
    });
    expect(persistentVolumeClaimPrinter.cells(bound, NOW)).toEqual(['myclaim', 'Bound', 'pvc-1234', '10Gi', 'RWO', 'standard', '<unset>', '5m', 'Filesystem']);
    const pending = obj('PersistentVolumeClaim', 'v1', { name: 'waiting' }, {
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '8Gi' } }, storageClassName: 'standard', volumeMode: 'Filesystem' },
      status: { phase: 'Pending' },
    });
    expect(persistentVolumeClaimPrinter.cells(pending, NOW)).toEqual(['waiting', 'Pending', '', '', '', 'standard', '<unset>', '5m', 'Filesystem']);
  });
});

describe('events', () => {
  it('columns, in the 1.32 order', () => {
    expect(eventPrinter.columns.map((c) => [c.name, c.type, c.format, c.priority])).toEqual([
      ['Last Seen', 'string', '', 0],
      ['Type', 'string', '', 0],
      ['Reason', 'string', '', 0],
      ['Object', 'string', '', 0],
      ['Subobject', 'string', '', 1],
      ['Source', 'string', '', 1],
      ['Message', 'string', '', 0],
      ['First Seen', 'string', '', 1],
      ['Count', 'string', '', 1],
      ['Name', 'string', 'name', 1],
    ]);
  });

  const ev = (name: string, rest: Record<string, unknown>) => obj('Event', 'v1', { name, namespace: 'default' }, rest);
  const involved = { kind: 'Deployment', name: 'Deployment Name', fieldPath: 'spec.containers{foo}' };

  it.each<[string, Record<string, unknown>, unknown[]]>([
    [
      'event1',
      { source: { component: 'kubelet' }, involvedObject: { kind: 'Pod', name: 'Pod Name', fieldPath: 'spec.containers{foo}' }, reason: 'Event Reason', message: 'Message Data', firstTimestamp: ago(3 * DAY), lastTimestamp: ago(2 * DAY), count: 6, type: 'Normal' },
      ['2d', 'Normal', 'Event Reason', 'pod/Pod Name', 'spec.containers{foo}', 'kubelet', 'Message Data', '3d', 6, 'event1'],
    ],
    [
      'event2',
      { source: { component: 'kubelet', host: 'Node1' }, involvedObject: involved, reason: 'Event Reason', message: 'Message Data', firstTimestamp: ago(3 * DAY), lastTimestamp: ago(2 * DAY), count: 6, type: 'Warning' },
      ['2d', 'Warning', 'Event Reason', 'deployment/Deployment Name', 'spec.containers{foo}', 'kubelet, Node1', 'Message Data', '3d', 6, 'event2'],
    ],
    [
      'event3',
      { source: { component: 'kubelet', host: 'Node1' }, involvedObject: involved, reason: 'Event Reason', message: 'Message Data', eventTime: ago(3 * DAY), lastTimestamp: ago(3 * DAY), count: 1, type: 'Warning' },
      ['3d', 'Warning', 'Event Reason', 'deployment/Deployment Name', 'spec.containers{foo}', 'kubelet, Node1', 'Message Data', '3d', 1, 'event3'],
    ],
    [
      'event4',
      { source: { component: 'kubelet', host: 'Node1' }, involvedObject: involved, reason: 'Event Reason', message: 'Message Data', eventTime: ago(3 * DAY), firstTimestamp: ago(3 * DAY), count: 1, type: 'Warning' },
      ['3d', 'Warning', 'Event Reason', 'deployment/Deployment Name', 'spec.containers{foo}', 'kubelet, Node1', 'Message Data', '3d', 1, 'event4'],
    ],
    [
      'event5',
      { source: { component: 'kubelet', host: 'Node1' }, involvedObject: involved, reason: 'Event Reason', message: 'Message Data', eventTime: ago(3 * DAY), count: 1, type: 'Warning' },
      ['3d', 'Warning', 'Event Reason', 'deployment/Deployment Name', 'spec.containers{foo}', 'kubelet, Node1', 'Message Data', '3d', 1, 'event5'],
    ],
    [
      'event6',
      { source: { component: 'kubelet', host: 'Node1' }, involvedObject: involved, series: { count: 2, lastObservedTime: ago(2 * DAY) }, reason: 'Event Reason', message: 'Message Data', eventTime: ago(3 * DAY), type: 'Warning' },
      ['2d', 'Warning', 'Event Reason', 'deployment/Deployment Name', 'spec.containers{foo}', 'kubelet, Node1', 'Message Data', '3d', 2, 'event6'],
    ],
    [
      'event7',
      { source: { component: 'kubelet', host: 'Node1' }, involvedObject: involved, reason: 'Event Reason', message: 'Message Data', eventTime: ago(3 * DAY), type: 'Warning' },
      ['3d', 'Warning', 'Event Reason', 'deployment/Deployment Name', 'spec.containers{foo}', 'kubelet, Node1', 'Message Data', '3d', 1, 'event7'],
    ],
    [
      'event8',
      { reportingComponent: 'kubelet', reportingInstance: 'test', involvedObject: involved, reason: 'Event Reason', message: 'Message Data', firstTimestamp: ago(3 * DAY), lastTimestamp: ago(2 * DAY), count: 6, type: 'Warning' },
      ['2d', 'Warning', 'Event Reason', 'deployment/Deployment Name', 'spec.containers{foo}', 'kubelet, test', 'Message Data', '3d', 6, 'event8'],
    ],
    [
      'event9',
      { involvedObject: { kind: 'Node' }, reason: 'Starting', message: '  Starting kubelet.\n', firstTimestamp: ago(40), lastTimestamp: ago(40), count: 1, type: 'Normal', source: {} },
      ['40s', 'Normal', 'Starting', 'node', '', '', 'Starting kubelet.', '40s', 1, 'event9'],
    ],
  ])('upstream case %s', (name, rest, expected) => {
    expect(eventPrinter.cells(ev(name, rest), NOW)).toEqual(expected);
  });

  it('reads events.k8s.io/v1 field names', () => {
    const e = obj('Event', 'events.k8s.io/v1', { name: 'web-1.17f', namespace: 'default' }, {
      eventTime: ago(90),
      reportingController: 'default-scheduler',
      reportingInstance: 'default-scheduler-cp-1',
      action: 'Binding',
      reason: 'Scheduled',
      regarding: { kind: 'Pod', namespace: 'default', name: 'web-1' },
      note: 'Successfully assigned default/web-1 to worker-1',
      type: 'Normal',
    });
    expect(eventPrinter.cells(e, NOW)).toEqual(['90s', 'Normal', 'Scheduled', 'pod/web-1', '', 'default-scheduler, default-scheduler-cp-1', 'Successfully assigned default/web-1 to worker-1', '90s', 1, 'web-1.17f']);
    const deprecated = obj('Event', 'events.k8s.io/v1', { name: 'x' }, { regarding: { kind: 'Pod', name: 'p' }, note: 'n', type: 'Warning', reason: 'BackOff', deprecatedFirstTimestamp: ago(10 * MIN), deprecatedLastTimestamp: ago(30), deprecatedCount: 12, deprecatedSource: { component: 'kubelet', host: 'worker-1' } });
    expect(eventPrinter.cells(deprecated, NOW)).toEqual(['30s', 'Warning', 'BackOff', 'pod/p', '', 'kubelet, worker-1', 'n', '10m', 12, 'x']);
  });
});
