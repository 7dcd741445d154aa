// DefaultIngressClass admission through the REST layer: the default class given to new Ingresses that name none,
// never on update, nothing without a default, the newest when several classes claim to be the default.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../../../lib/log.js';
import { defaultIngressClassAdmission } from '../../../../../control/apiserver/admission/default-ingress-class.js';
import { chainAdmission, namespaceLifecycle } from '../../../../../control/apiserver/admission/namespace-lifecycle.js';
import { ensureSystemNamespaces } from '../../../../../control/apiserver/bootstrap.js';
import { ApiError } from '../../../../../control/apiserver/http/status.js';
import { findResource, type ResourceDef } from '../../../../../control/apiserver/resources.js';
import type { RequestContext } from '../../../../../control/apiserver/rest.js';
import { ApiServer } from '../../../../../control/apiserver/server.js';
import { ObjectStorage } from '../../../../../control/apiserver/storage/object-storage.js';
import { MemoryStore } from '../../../../../control/store/index.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const ingresses = findResource('networking.k8s.io', 'v1', 'ingresses') as ResourceDef;
const ingressclasses = findResource('networking.k8s.io', 'v1', 'ingressclasses') as ResourceDef;

describe('DefaultIngressClass admission', () => {
  let store: MemoryStore;
  let server: ApiServer;
  const ctx = (namespace: string | undefined, warnings: string[] = []): RequestContext => ({ namespace, strict: false, dryRun: false, now: new Date(), warnings });
  const ingress = (name: string, extra: Json = {}, meta: Json = {}): Json => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, ...meta },
    spec: { defaultBackend: { service: { name: 'web', port: { number: 80 } } }, ...extra },
  });
  const ingressClass = (name: string, isDefault: boolean): Json => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'IngressClass',
    metadata: { name, ...(isDefault ? { annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } } : {}) },
    spec: { controller: `example.com/${name}` },
  });
  const createIngress = (body: Json, warnings: string[] = []): Promise<Json> => server.rest.create(ingresses, ctx('default', warnings), body) as Promise<Json>;
  const createClass = (body: Json, now = new Date()): Promise<Json> => server.rest.create(ingressclasses, { ...ctx(undefined), now }, body) as Promise<Json>;

  beforeEach(async () => {
    store = new MemoryStore();
    const storage = new ObjectStorage(store);
    server = new ApiServer({ store, logger: silentLogger(), admission: chainAdmission([namespaceLifecycle(storage), defaultIngressClassAdmission(storage)]) });
    await ensureSystemNamespaces(server.rest);
  });
  afterEach(async () => {
    await server.close();
    await store.close();
  });

  it('leaves the class unset when no class is the default', async () => {
    await createClass(ingressClass('plain', false));
    expect((await createIngress(ingress('a'))).spec.ingressClassName).toBeUndefined();
  });

  it('sets the default class on create, but not over a class named by the field or the annotation', async () => {
    await createClass(ingressClass('nginx', true));
    await createClass(ingressClass('other', false));
    expect((await createIngress(ingress('a'))).spec.ingressClassName).toBe('nginx');
    expect((await createIngress(ingress('b', { ingressClassName: 'other' }))).spec.ingressClassName).toBe('other');
    const warnings: string[] = [];
    const annotated = await createIngress(ingress('c', {}, { annotations: { 'kubernetes.io/ingress.class': 'other' } }), warnings);
    expect(annotated.spec.ingressClassName).toBeUndefined();
    expect(warnings).toEqual([`annotation "kubernetes.io/ingress.class" is deprecated, please use 'spec.ingressClassName' instead`]);
  });

  it('does not default on update', async () => {
    const created = await createIngress(ingress('a'));
    await createClass(ingressClass('nginx', true));
    const updated = (await server.rest.update(ingresses, ctx('default'), 'a', { ...created, spec: { ...created.spec, tls: [{ secretName: 'cert' }] } })) as Json;
    expect(updated.spec.ingressClassName).toBeUndefined();
    expect(updated.metadata.generation).toBe(2);
  });

  it('takes the newest default class when several are marked, the lowest name between equals (upstream since 1.25)', async () => {
    await createClass(ingressClass('old', true), new Date('2026-01-01T00:00:00Z'));
    await createClass(ingressClass('newer-b', true), new Date('2026-02-01T00:00:00Z'));
    await createClass(ingressClass('newer-a', true), new Date('2026-02-01T00:00:00Z'));
    await createClass(ingressClass('newest-plain', false), new Date('2026-03-01T00:00:00Z'));
    expect((await createIngress(ingress('x'))).spec.ingressClassName).toBe('newer-a');
  });

  it('refuses invalid objects with 422 before admission', async () => {
    const err = await createIngress(ingress('bad', { defaultBackend: undefined })).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as ApiError).code).toBe(422);
    expect((err as ApiError).message).toBe('Ingress.networking.k8s.io "bad" is invalid: spec: Invalid value: []networking.IngressRule(nil): either `defaultBackend` or `rules` must be specified');
  });
});
