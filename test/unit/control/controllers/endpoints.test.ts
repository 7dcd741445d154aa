import { describe, expect, it } from 'vitest';
import { endpointSubsets, findPort, reconcileEndpointSlices, selectedPods } from '../../../../control/controllers/endpoints.js';
import type { Pod, Service } from '../../../../control/controllers/objects.js';

function pod(name: string, ip: string | undefined, o: { ready?: boolean; labels?: Record<string, string>; ports?: Array<{ name: string; containerPort: number; protocol?: string }>; phase?: string; deleting?: boolean; hostname?: string } = {}): Pod {
  return {
    metadata: { name, namespace: 'default', uid: `uid-${name}`, labels: o.labels ?? { app: 'web' }, ...(o.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) },
    spec: { nodeName: 'n1', ...(o.hostname ? { hostname: o.hostname, subdomain: 'web' } : {}), containers: [{ name: 'c', ports: o.ports ?? [{ name: 'http', containerPort: 8080 }] }] },
    status: { phase: o.phase ?? 'Running', ...(ip ? { podIP: ip } : {}), conditions: [{ type: 'Ready', status: (o.ready ?? true) ? 'True' : 'False' }] },
  };
}

const svc = (ports: Service['spec'] extends infer S ? (S extends { ports?: infer P } ? P : never) : never, extra: Partial<NonNullable<Service['spec']>> = {}): Service => ({
  metadata: { name: 'web', namespace: 'default', uid: 'svc-uid', labels: { team: 'a' } },
  spec: { selector: { app: 'web' }, ports, clusterIP: '10.96.0.10', ...extra },
});

const ref = (name: string) => ({ kind: 'Pod', namespace: 'default', name, uid: `uid-${name}` });

describe('endpoint subsets', () => {
  it('lists ready pods as addresses and not-ready ones as notReadyAddresses, with a named targetPort resolved', () => {
    const s = svc([{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }]);
    const pods = [pod('b', '10.1.0.3'), pod('a', '10.1.0.10'), pod('slow', '10.1.0.2', { ready: false }), pod('noip', undefined), pod('done', '10.1.0.9', { phase: 'Succeeded' }), pod('leaving', '10.1.0.8', { deleting: true })];
    expect(endpointSubsets(s, pods)).toEqual([
      {
        addresses: [
          { ip: '10.1.0.3', nodeName: 'n1', targetRef: ref('b') },
          { ip: '10.1.0.10', nodeName: 'n1', targetRef: ref('a') },
        ],
        notReadyAddresses: [{ ip: '10.1.0.2', nodeName: 'n1', targetRef: ref('slow') }],
        ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      },
    ]);
  });

  it('groups pods by the ports they offer: a pod without the named port gets its own subset', () => {
    const s = svc([
      { name: 'http', port: 80, targetPort: 'http' },
      { name: 'metrics', port: 9000, targetPort: 9100 },
    ]);
    const pods = [pod('a', '10.1.0.1'), pod('b', '10.1.0.2', { ports: [{ name: 'web', containerPort: 8080 }] })];
    expect(endpointSubsets(s, pods)).toEqual([
      { addresses: [{ ip: '10.1.0.1', nodeName: 'n1', targetRef: ref('a') }], ports: [{ name: 'http', port: 8080, protocol: 'TCP' }, { name: 'metrics', port: 9100, protocol: 'TCP' }] },
      { addresses: [{ ip: '10.1.0.2', nodeName: 'n1', targetRef: ref('b') }], ports: [{ name: 'metrics', port: 9100, protocol: 'TCP' }] },
    ]);
  });

  it('publishNotReadyAddresses makes every pod an address', () => {
    const s = svc([{ port: 80 }], { publishNotReadyAddresses: true });
    const subsets = endpointSubsets(s, [pod('slow', '10.1.0.2', { ready: false })]);
    expect(subsets).toEqual([{ addresses: [{ ip: '10.1.0.2', nodeName: 'n1', targetRef: ref('slow') }], ports: [{ port: 80, protocol: 'TCP' }] }]);
  });

  it('headless services publish hostnames and may have no ports', () => {
    const s = svc([], { clusterIP: 'None' });
    expect(endpointSubsets(s, [pod('a', '10.1.0.1', { hostname: 'a' })])).toEqual([{ addresses: [{ ip: '10.1.0.1', hostname: 'a', nodeName: 'n1', targetRef: ref('a') }] }]);
  });

  it('a named port matches only the same protocol; a service without selector is not ours', () => {
    expect(findPort(pod('a', '1.1.1.1'), { port: 53, targetPort: 'http', protocol: 'UDP' })).toBeUndefined();
    expect(findPort(pod('a', '1.1.1.1'), { port: 80 })).toBe(80);
    expect(selectedPods({ metadata: { name: 'x' }, spec: { ports: [{ port: 80 }] } }, [pod('a', '1.1.1.1')])).toBeUndefined();
  });
});

describe('endpoint slices', () => {
  const s = svc([{ name: 'http', port: 80, targetPort: 'http' }]);
  it('creates a slice owned by the service with ready, serving and terminating conditions', () => {
    const changes = reconcileEndpointSlices(s, [pod('a', '10.1.0.1'), pod('b', '10.1.0.2', { ready: false }), pod('c', '10.1.0.3', { deleting: true })], []);
    expect(changes.update).toEqual([]);
    expect(changes.delete).toEqual([]);
    expect(changes.create).toHaveLength(1);
    const slice = changes.create[0]!;
    expect(slice.metadata).toMatchObject({
      generateName: 'web-',
      labels: { team: 'a', 'kubernetes.io/service-name': 'web', 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: 'svc-uid', controller: true, blockOwnerDeletion: true }],
    });
    expect(slice.addressType).toBe('IPv4');
    expect(slice.ports).toEqual([{ name: 'http', port: 8080, protocol: 'TCP' }]);
    expect(slice.endpoints?.map((e) => [e.addresses[0], e.conditions])).toEqual([
      ['10.1.0.1', { ready: true, serving: true, terminating: false }],
      ['10.1.0.2', { ready: false, serving: false, terminating: false }],
      ['10.1.0.3', { ready: false, serving: true, terminating: true }],
    ]);
  });

  it('leaves an up-to-date slice alone, updates a changed one and deletes extras', () => {
    const first = reconcileEndpointSlices(s, [pod('a', '10.1.0.1')], []).create[0]!;
    const stored = { ...first, metadata: { ...first.metadata, name: 'web-abcde' }, ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] };
    expect(reconcileEndpointSlices(s, [pod('a', '10.1.0.1')], [stored])).toEqual({ create: [], update: [], delete: [] });
    const changed = reconcileEndpointSlices(s, [pod('a', '10.1.0.1'), pod('b', '10.1.0.2')], [stored, { ...stored, metadata: { ...stored.metadata, name: 'web-extra' } }]);
    expect(changed.update.map((u) => u.metadata.name)).toEqual(['web-abcde']);
    expect(changed.delete).toEqual(['web-extra']);
  });

  it('splits more than 100 endpoints over several slices, and keeps one empty slice with no pods', () => {
    const many = Array.from({ length: 150 }, (_, i) => pod(`p${i}`, `10.2.${Math.floor(i / 200)}.${(i % 200) + 1}`));
    expect(reconcileEndpointSlices(s, many, []).create.map((x) => x.endpoints?.length)).toEqual([100, 50]);
    expect(reconcileEndpointSlices(s, [], []).create.map((x) => x.endpoints?.length)).toEqual([0]);
  });
});
