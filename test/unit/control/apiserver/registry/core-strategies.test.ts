// The core/v1 strategies behind the generic REST layer: defaults stored, status owned by the server on create and
// kept on main-resource updates, update rules refused with upstream's messages, field selectors.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseSelection, Rest, selects } from '../../../../../control/apiserver/rest.js';
import { strategyFor } from '../../../../../control/apiserver/registry/index.js';
import type { KubeObject } from '../../../../../control/apiserver/storage/object-storage.js';
import type { MemoryStore } from '../../../../../control/store/index.js';
import { ctx, def, freshRest, rejection } from './fixture.js';

let store: MemoryStore;
let rest: Rest;
beforeEach(() => {
  ({ store, rest } = freshRest());
});
afterEach(async () => {
  await store.close();
});

describe('Service strategy', () => {
  const svcs = def('services');

  it('stores defaults and a fresh status; the client status is dropped', async () => {
    const created = await rest.create(svcs, ctx('default'), {
      metadata: { name: 'web' },
      spec: { selector: { app: 'web' }, ports: [{ port: 80 }] },
      status: { loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } },
    });
    expect(created.spec).toEqual({
      selector: { app: 'web' },
      ports: [{ protocol: 'TCP', port: 80, targetPort: 80 }],
      type: 'ClusterIP',
      sessionAffinity: 'None',
      internalTrafficPolicy: 'Cluster',
      ipFamilyPolicy: 'SingleStack',
      ipFamilies: ['IPv4'],
    });
    expect(created.status).toEqual({ loadBalancer: {} });
    const read = await rest.get(svcs, ctx('default'), 'web');
    expect((read.spec as any).ports[0].targetPort).toBe(80);
  });

  it('refuses a changed clusterIP, keeps an omitted one, and keeps status on spec updates', async () => {
    await rest.create(svcs, ctx('default'), { metadata: { name: 'dns' }, spec: { clusterIP: '10.96.0.10', ports: [{ port: 53, protocol: 'UDP' }] } });
    const msg = await rejection(
      rest.update(svcs, ctx('default'), 'dns', { metadata: { name: 'dns' }, spec: { clusterIP: '10.96.0.11', clusterIPs: ['10.96.0.11'], ports: [{ port: 53, protocol: 'UDP' }] } }),
    );
    expect(msg).toBe('Service "dns" is invalid: spec.clusterIPs[0]: Invalid value: ["10.96.0.11"]: may not change once set');
    const updated = await rest.update(svcs, ctx('default'), 'dns', { metadata: { name: 'dns' }, spec: { ports: [{ port: 5353, protocol: 'UDP' }] } });
    expect((updated.spec as any).clusterIP).toBe('10.96.0.10');
    expect((updated.spec as any).clusterIPs).toEqual(['10.96.0.10']);
  });

  it('keeps the load balancer status on main-resource updates; /status writes it', async () => {
    const spec = { type: 'LoadBalancer', clusterIP: '10.96.0.20', ports: [{ port: 80, nodePort: 30080 }] };
    const created = await rest.create(svcs, ctx('default'), { metadata: { name: 'lb' }, spec });
    expect((created.spec as any).allocateLoadBalancerNodePorts).toBe(true);
    const ingress = [{ ip: '203.0.113.7', ipMode: 'VIP' }];
    await rest.update(svcs, ctx('default'), 'lb', { ...created, status: { loadBalancer: { ingress } } }, 'status');
    // kubectl apply: no clusterIP, no nodePort, a status the server must ignore.
    const applied = await rest.update(svcs, ctx('default'), 'lb', {
      metadata: { name: 'lb' },
      spec: { type: 'LoadBalancer', ports: [{ port: 80 }] },
      status: { loadBalancer: {} },
    });
    expect(applied.status).toEqual({ loadBalancer: { ingress } });
    expect((applied.spec as any).ports).toEqual([{ protocol: 'TCP', port: 80, targetPort: 80, nodePort: 30080 }]);
    expect((applied.spec as any).clusterIPs).toEqual(['10.96.0.20']);
    // Turning it into a ClusterIP service clears the load balancer status and the node ports it no longer needs.
    const plain = await rest.update(svcs, ctx('default'), 'lb', { ...applied, spec: { ...(applied.spec as object), type: 'ClusterIP' } });
    expect(plain.status).toEqual({ loadBalancer: {} });
    expect((plain.spec as any).ports).toEqual([{ protocol: 'TCP', port: 80, targetPort: 80 }]);
    expect((plain.spec as any).externalTrafficPolicy).toBeUndefined();
    expect((plain.spec as any).allocateLoadBalancerNodePorts).toBeUndefined();
  });

  it('offers spec.type and spec.clusterIP field selectors', () => {
    const sel = parseSelection(svcs, new URLSearchParams({ fieldSelector: 'spec.type=ClusterIP,spec.clusterIP!=None' }));
    expect(selects(svcs, sel, { metadata: { name: 'a' }, spec: { type: 'ClusterIP', clusterIP: '10.0.0.1' } })).toBe(true);
    expect(selects(svcs, sel, { metadata: { name: 'a' }, spec: { type: 'ClusterIP', clusterIP: 'None' } })).toBe(false);
  });
});

describe('ConfigMap and Secret strategies', () => {
  it('refuses changes to an immutable ConfigMap', async () => {
    const cms = def('configmaps');
    await rest.create(cms, ctx('default'), { metadata: { name: 'c' }, immutable: true, data: { a: '1' } });
    expect(await rejection(rest.update(cms, ctx('default'), 'c', { metadata: { name: 'c' }, immutable: true, data: { a: '2' } }))).toBe(
      'ConfigMap "c" is invalid: data: Forbidden: field is immutable when `immutable` is set',
    );
  });

  it('stores Secrets with stringData merged and type defaulted; selects by type', async () => {
    const secrets = def('secrets');
    const s = await rest.create(secrets, ctx('default'), { metadata: { name: 's' }, stringData: { password: 'hunter2' } });
    expect(s).toMatchObject({ type: 'Opaque', data: { password: Buffer.from('hunter2').toString('base64') } });
    expect(s).not.toHaveProperty('stringData');
    expect(await rejection(rest.update(secrets, ctx('default'), 's', { metadata: { name: 's' }, type: 'kubernetes.io/tls', data: {} }))).toBe(
      'Secret "s" is invalid: [type: Invalid value: "kubernetes.io/tls": field is immutable, data[tls.crt]: Required value, data[tls.key]: Required value]',
    );
    const sel = parseSelection(secrets, new URLSearchParams({ fieldSelector: 'type=Opaque' }));
    expect(selects(secrets, sel, s)).toBe(true);
  });
});

describe('Node strategy', () => {
  const nodes = def('nodes');

  it('keeps the status a kubelet registers with, and podCIDR once set', async () => {
    const n = await rest.create(nodes, ctx(), { metadata: { name: 'node-1' }, spec: { podCIDR: '10.244.1.0/24' }, status: { capacity: { cpu: '4', pods: '110' } } });
    expect(n.spec).toEqual({ podCIDR: '10.244.1.0/24', podCIDRs: ['10.244.1.0/24'] });
    expect(n.status).toEqual({ capacity: { cpu: '4', pods: '110' }, allocatable: { cpu: '4', pods: '110' } });
    expect(await rejection(rest.update(nodes, ctx(), 'node-1', { metadata: { name: 'node-1' }, spec: { podCIDR: '10.244.9.0/24' } }))).toBe(
      'Node "node-1" is invalid: spec.podCIDRs: Forbidden: node updates may not change podCIDR except from "" to valid',
    );
    const cordoned = await rest.update(nodes, ctx(), 'node-1', { metadata: { name: 'node-1' }, spec: { podCIDR: '10.244.1.0/24', unschedulable: true } });
    expect(cordoned.status).toEqual(n.status);
    const sel = parseSelection(nodes, new URLSearchParams({ fieldSelector: 'spec.unschedulable=true' }));
    expect(selects(nodes, sel, cordoned)).toBe(true);
    expect(selects(nodes, sel, n)).toBe(false);
  });
});

describe('ReplicationController strategy', () => {
  const rcs = def('replicationcontrollers');
  const body = (replicas?: number) => ({
    metadata: { name: 'web' },
    spec: { ...(replicas === undefined ? {} : { replicas }), template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.25' }] } } },
  });

  it('defaults, starts with an empty status and generation 1, bumps generation on spec changes', async () => {
    const created = await rest.create(rcs, ctx('default'), { ...body(), status: { replicas: 7 } });
    expect(created.metadata.generation).toBe(1);
    expect(created.metadata.labels).toEqual({ app: 'web' });
    expect(created.spec).toMatchObject({ replicas: 1, selector: { app: 'web' } });
    expect(created.status).toEqual({ replicas: 0 });
    await rest.update(rcs, ctx('default'), 'web', { ...created, status: { replicas: 1, readyReplicas: 1 } }, 'status');
    // Re-applying the manifest as written (defaults left out) is no spec change.
    const same = await rest.update(rcs, ctx('default'), 'web', body());
    expect(same.metadata.generation).toBe(1);
    const scaled = await rest.update(rcs, ctx('default'), 'web', body(3));
    expect(scaled.metadata.generation).toBe(2);
    expect(scaled.status).toEqual({ replicas: 1, readyReplicas: 1 });
    const sel = parseSelection(rcs, new URLSearchParams({ fieldSelector: 'status.replicas=1' }));
    expect(selects(rcs, sel, scaled)).toBe(true);
  });

  it('refuses a template whose labels the selector does not match', async () => {
    const b = body();
    (b.spec as any).selector = { app: 'db' };
    expect(await rejection(rest.create(rcs, ctx('default'), b))).toBe(
      'ReplicationController "web" is invalid: spec.template.metadata.labels: Invalid value: {"app":"web"}: `selector` does not match template `labels`',
    );
  });
});

describe('Event strategies', () => {
  it('accepts core/v1 events and selects them by involvedObject, reason, type and source', async () => {
    const events = def('events');
    const e = await rest.create(events, ctx('default'), {
      metadata: { name: 'web.1' },
      involvedObject: { kind: 'Pod', namespace: 'default', name: 'web', uid: 'u1' },
      reason: 'Pulled',
      type: 'Normal',
      source: { component: 'kubelet', host: 'node-1' },
      count: 1,
    });
    const sel = parseSelection(events, new URLSearchParams({ fieldSelector: 'involvedObject.name=web,involvedObject.kind=Pod,reason=Pulled,type=Normal,source=kubelet' }));
    expect(selects(events, sel, e)).toBe(true);
    expect(() => parseSelection(events, new URLSearchParams({ fieldSelector: 'regarding.name=web' }))).toThrow('field label not supported: regarding.name');
    expect(await rejection(rest.create(events, ctx('default'), { metadata: { name: 'x' }, involvedObject: { kind: 'Pod', namespace: 'other', name: 'a' } }))).toBe(
      'Event "x" is invalid: involvedObject.namespace: Invalid value: "other": does not match event.namespace',
    );
  });

  it('applies the strict rules to events.k8s.io/v1 and selects by regarding.*', async () => {
    const events = def('events', 'events.k8s.io');
    const body = {
      metadata: { name: 'web.2' },
      eventTime: '2026-01-01T00:00:00.000000Z',
      regarding: { kind: 'Pod', namespace: 'default', name: 'web' },
      reason: 'Started',
      action: 'Start',
      reportingController: 'skiff.dev/agent',
      reportingInstance: 'node-1',
      type: 'Normal',
    };
    const e = await rest.create(events, ctx('default'), body);
    const sel = parseSelection(events, new URLSearchParams({ fieldSelector: 'regarding.name=web,reportingController=skiff.dev/agent' }));
    expect(selects(events, sel, e)).toBe(true);
    expect(await rejection(rest.create(events, ctx('default'), { ...body, metadata: { name: 'web.3' }, type: 'Info' }))).toBe(
      'Event.events.k8s.io "web.3" is invalid: type: Invalid value: "": has invalid value: Info',
    );
  });
});

describe('status-owning kinds', () => {
  it('PVCs start Pending, quotas start empty, and both keep status on spec updates', async () => {
    const pvcs = def('persistentvolumeclaims');
    const p = await rest.create(pvcs, ctx('default'), { metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } }, status: { phase: 'Bound' } });
    expect(p.status).toEqual({ phase: 'Pending' });
    expect((p.spec as any).volumeMode).toBe('Filesystem');
    expect(selects(pvcs, parseSelection(pvcs, new URLSearchParams({ fieldSelector: 'name=data' })), p)).toBe(true);
    const quotas = def('resourcequotas');
    const q = await rest.create(quotas, ctx('default'), { metadata: { name: 'q' }, spec: { hard: { pods: '10' } }, status: { used: { pods: '3' } } });
    expect(q.status).toEqual({});
    await rest.update(quotas, ctx('default'), 'q', { ...q, status: { hard: { pods: '10' }, used: { pods: '2' } } }, 'status');
    const q2 = await rest.update(quotas, ctx('default'), 'q', { metadata: { name: 'q' }, spec: { hard: { pods: '20' } } });
    expect(q2.status).toEqual({ hard: { pods: '10' }, used: { pods: '2' } });
  });

  it('flags each strategy as upstream registers it', () => {
    const flags = (r: string, g = '') => {
      const s = strategyFor(def(r, g));
      return [s.statusSubresource, s.generation];
    };
    expect(flags('services')).toEqual([true, false]);
    expect(flags('nodes')).toEqual([true, false]);
    expect(flags('replicationcontrollers')).toEqual([true, true]);
    expect(flags('persistentvolumeclaims')).toEqual([true, false]);
    expect(flags('resourcequotas')).toEqual([true, false]);
    expect(flags('configmaps')).toEqual([false, false]);
    expect(flags('secrets')).toEqual([false, false]);
    expect(flags('endpoints')).toEqual([false, false]);
    expect(flags('limitranges')).toEqual([false, false]);
    expect(flags('serviceaccounts')).toEqual([false, false]);
  });

  it('warns about unknown fields, or refuses them when strict', () => {
    const s = strategyFor(def('configmaps'));
    const obj = (): KubeObject => ({ metadata: { name: 'c', namespace: 'default' }, data: { a: '1' }, datta: { b: '2' } });
    const lax = s.prepareCreate(obj(), { strict: false });
    expect(lax.ok && lax.warnings).toEqual(['unknown field "datta"']);
    expect(lax.ok && lax.obj).not.toHaveProperty('datta');
    const strict = s.prepareCreate(obj(), { strict: true });
    expect(strict.ok ? [] : strict.errors.map((e) => e.detail)).toEqual(['unknown field "datta"']);
  });
});
