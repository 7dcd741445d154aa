// DefaultStorageClass admission through the REST layer: the default class given to new claims that ask for none,
// never over an explicit (even empty) class or the beta annotation, never on update, the newest of several defaults.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../../../lib/log.js';
import { defaultStorageClassAdmission } from '../../../../../control/apiserver/admission/default-storage-class.js';
import { chainAdmission, namespaceLifecycle } from '../../../../../control/apiserver/admission/namespace-lifecycle.js';
import { ensureSystemNamespaces } from '../../../../../control/apiserver/bootstrap.js';
import { ApiError } from '../../../../../control/apiserver/http/status.js';
import { findResource, type ResourceDef } from '../../../../../control/apiserver/resources.js';
import type { RequestContext } from '../../../../../control/apiserver/rest.js';
import { ApiServer } from '../../../../../control/apiserver/server.js';
import { ObjectStorage } from '../../../../../control/apiserver/storage/object-storage.js';
import { MemoryStore } from '../../../../../control/store/index.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const claims = findResource('', 'v1', 'persistentvolumeclaims') as ResourceDef;
const classes = findResource('storage.k8s.io', 'v1', 'storageclasses') as ResourceDef;

describe('DefaultStorageClass admission', () => {
  let store: MemoryStore;
  let server: ApiServer;
  const ctx = (namespace: string | undefined): RequestContext => ({ namespace, strict: false, dryRun: false, now: new Date(), warnings: [] });
  const claim = (name: string, spec: Json = {}, meta: Json = {}): Json => ({
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name, ...meta },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, ...spec },
  });
  const storageClass = (name: string, isDefault: boolean): Json => ({
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name, ...(isDefault ? { annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } } : {}) },
    provisioner: `example.com/${name}`,
  });
  const createClaim = (body: Json): Promise<Json> => server.rest.create(claims, ctx('default'), body) as Promise<Json>;
  const createClass = (body: Json, now = new Date()): Promise<Json> => server.rest.create(classes, { ...ctx(undefined), now }, body) as Promise<Json>;

  beforeEach(async () => {
    store = new MemoryStore();
    const storage = new ObjectStorage(store);
    server = new ApiServer({ store, logger: silentLogger(), admission: chainAdmission([namespaceLifecycle(storage), defaultStorageClassAdmission(storage)]) });
    await ensureSystemNamespaces(server.rest);
  });
  afterEach(async () => {
    await server.close();
    await store.close();
  });

  it('leaves the class unset when no class is the default', async () => {
    await createClass(storageClass('plain', false));
    expect((await createClaim(claim('a'))).spec.storageClassName).toBeUndefined();
  });

  it('sets the default class on create, but not over a named class, an empty one or the beta annotation', async () => {
    await createClass(storageClass('standard', true));
    await createClass(storageClass('other', false));
    expect((await createClaim(claim('a'))).spec.storageClassName).toBe('standard');
    expect((await createClaim(claim('b', { storageClassName: 'other' }))).spec.storageClassName).toBe('other');
    expect((await createClaim(claim('c', { storageClassName: '' }))).spec.storageClassName ?? '').toBe('');
    const annotated = await createClaim(claim('d', {}, { annotations: { 'volume.beta.kubernetes.io/storage-class': 'other' } }));
    expect(annotated.spec.storageClassName).toBeUndefined();
  });

  it('does not default on update', async () => {
    const created = await createClaim(claim('a'));
    await createClass(storageClass('standard', true));
    const updated = (await server.rest.update(claims, ctx('default'), 'a', { ...created, metadata: { ...created.metadata, labels: { x: 'y' } } })) as Json;
    expect(updated.spec.storageClassName).toBeUndefined();
  });

  it('takes the newest default class when several are marked, the lowest name between equals (upstream since 1.26)', async () => {
    await createClass(storageClass('old', true), new Date('2026-01-01T00:00:00Z'));
    await createClass(storageClass('newer-b', true), new Date('2026-02-01T00:00:00Z'));
    await createClass(storageClass('newer-a', true), new Date('2026-02-01T00:00:00Z'));
    await createClass(storageClass('newest-plain', false), new Date('2026-03-01T00:00:00Z'));
    expect((await createClaim(claim('x'))).spec.storageClassName).toBe('newer-a');
  });

  it('refuses an invalid class with 422 and upstream messages', async () => {
    const err = await createClass({ ...storageClass('bad', false), provisioner: '', reclaimPolicy: 'Recycle' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as ApiError).code).toBe(422);
    expect((err as ApiError).message).toBe('StorageClass.storage.k8s.io "bad" is invalid: [provisioner: Required value, reclaimPolicy: Unsupported value: "Recycle": supported values: "Delete", "Retain"]');
  });
});
