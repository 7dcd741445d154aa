// Every core/v1 Service, Endpoints, ConfigMap, Secret, ServiceAccount, Node, Event, ReplicationController,
// ResourceQuota, LimitRange and PersistentVolumeClaim in the shared kubernetes/examples checkout must decode,
// default and validate, exactly as the API server's strategies do it.
import { describe, expect, it } from 'vitest';
import { formatFieldError } from '../../../../../control/api/index.js';
import { strategyFor } from '../../../../../control/apiserver/registry/index.js';
import { findResource } from '../../../../../control/apiserver/resources.js';
import type { KubeObject } from '../../../../../control/apiserver/storage/object-storage.js';
import { exampleDocuments } from '../../../../helpers/examples-corpus.js';

const KINDS: Record<string, string> = {
  Service: 'services',
  Endpoints: 'endpoints',
  ConfigMap: 'configmaps',
  Secret: 'secrets',
  ServiceAccount: 'serviceaccounts',
  Node: 'nodes',
  Event: 'events',
  ReplicationController: 'replicationcontrollers',
  ResourceQuota: 'resourcequotas',
  LimitRange: 'limitranges',
  PersistentVolumeClaim: 'persistentvolumeclaims',
};

interface Doc {
  where: string;
  kind: string;
  doc: Record<string, any>;
}

function documents(): Doc[] {
  const out: Doc[] = [];
  for (const { where, doc } of exampleDocuments()) {
    const v: any = doc;
    if (v && typeof v === 'object' && v.apiVersion === 'v1' && typeof v.kind === 'string' && v.kind in KINDS) out.push({ where, kind: v.kind, doc: v });
  }
  return out;
}

const docs = documents();

/** Create through the kind's strategy as the REST layer does: namespace from the request, name as given. */
function create(d: Doc, strict = false) {
  const def = findResource('', 'v1', KINDS[d.kind] as string);
  if (!def) throw new Error(`no resource for ${d.kind}`);
  const obj = structuredClone(d.doc) as KubeObject;
  obj.metadata = { ...(obj.metadata ?? {}) };
  if (def.namespaced) obj.metadata.namespace ??= 'default';
  return strategyFor(def).prepareCreate(obj, { strict });
}

// Manifests upstream's API server refuses as well, with the lines it prints.
const KNOWN_INVALID: Record<string, string[]> = {
  // No selector and no template labels to default it from.
  '_archived/sysdig-cloud/sysdig-rc.yaml#0': ['spec.selector: Required value'],
};

describe('kubernetes/examples core/v1 manifests', () => {
  it('finds manifests of these kinds', () => {
    expect(docs.filter((d) => d.kind === 'Service').length).toBeGreaterThan(40);
    expect(docs.filter((d) => d.kind === 'ReplicationController').length).toBeGreaterThan(20);
    expect(docs.filter((d) => d.kind === 'Secret').length).toBeGreaterThan(5);
  });

  it.each(docs.map((d) => [d.where, d] as const))('%s is accepted', (where, d) => {
    const r = create(d);
    expect(r.ok ? [] : r.errors.map(formatFieldError)).toEqual(KNOWN_INVALID[where] ?? []);
    if (r.ok) expect(r.warnings).toEqual([]);
  });

  it('is also accepted with strict field validation', () => {
    const failures = docs.filter((d) => !(d.where in KNOWN_INVALID)).flatMap((d) => {
      const r = create(d, true);
      return r.ok ? [] : r.errors.map((e) => `${d.where}: ${formatFieldError(e)}`);
    });
    expect(failures).toEqual([]);
  });

  it('reads Services back with upstream defaults filled in', () => {
    for (const d of docs.filter((x) => x.kind === 'Service' && !(x.where in KNOWN_INVALID))) {
      const r = create(d);
      if (!r.ok) continue;
      const spec = r.obj.spec as any;
      expect(spec.sessionAffinity, d.where).toBe(spec.sessionAffinity === 'ClientIP' ? 'ClientIP' : 'None');
      expect(spec.type, d.where).toMatch(/^(ClusterIP|NodePort|LoadBalancer|ExternalName)$/);
      for (const [i, p] of (spec.ports ?? []).entries()) {
        const given = d.doc.spec.ports[i];
        expect(p.protocol, d.where).toBe(given.protocol ?? 'TCP');
        expect(p.targetPort, d.where).toEqual(given.targetPort ?? given.port);
      }
      if (spec.type !== 'ExternalName') {
        expect(spec.internalTrafficPolicy, d.where).toBe('Cluster');
        expect(spec.ipFamilyPolicy, d.where).toMatch(/^(SingleStack|RequireDualStack)$/);
        expect(spec.ipFamilies?.[0], d.where).toBe('IPv4');
      }
      if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') expect(spec.externalTrafficPolicy, d.where).toBe('Cluster');
      expect(r.obj.status, d.where).toEqual({ loadBalancer: {} });
    }
  });

  it('reads ReplicationControllers back with replicas, selector and labels defaulted', () => {
    for (const d of docs.filter((x) => x.kind === 'ReplicationController' && !(x.where in KNOWN_INVALID))) {
      const r = create(d);
      if (!r.ok) continue;
      const spec = r.obj.spec as any;
      const templateLabels = d.doc.spec.template.metadata.labels;
      expect(spec.replicas, d.where).toBe(d.doc.spec.replicas ?? 1);
      expect(spec.selector, d.where).toEqual(d.doc.spec.selector ?? templateLabels);
      expect(r.obj.metadata.labels, d.where).toEqual(d.doc.metadata.labels ?? templateLabels);
      expect(spec.template.spec.restartPolicy, d.where).toBe('Always');
      expect(spec.template.spec.enableServiceLinks, d.where).toBeUndefined();
      expect(r.obj.status, d.where).toEqual({ replicas: 0 });
    }
  });

  it('reads Secrets back with type defaulted and stringData merged', () => {
    for (const d of docs.filter((x) => x.kind === 'Secret' && !(x.where in KNOWN_INVALID))) {
      const r = create(d);
      if (!r.ok) continue;
      expect(r.obj.type, d.where).toBe(d.doc.type ?? 'Opaque');
      expect(r.obj.stringData, d.where).toBeUndefined();
      for (const [k, v] of Object.entries<string>(d.doc.stringData ?? {}))
        expect(Buffer.from((r.obj.data as Record<string, string>)[k] as string, 'base64').toString(), d.where).toBe(v);
    }
  });
});
