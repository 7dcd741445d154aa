import { describe, expect, it } from 'vitest';
import { nonResourceAttributes, resourceAttributes } from '../../../../../control/apiserver/authz/attributes.js';
import { NodeAuthorizer, nodeIdentity, nodeRestrictionAdmission, nodeRestrictionMessage, podReferences, type ObjectGetter } from '../../../../../control/apiserver/authz/node.js';
import { ApiError } from '../../../../../control/apiserver/http/status.js';
import { findResource, type ResourceDef } from '../../../../../control/apiserver/resources.js';
import type { KubeObject } from '../../../../../control/apiserver/storage/object-storage.js';

const n1 = { name: 'system:node:n1', groups: ['system:nodes', 'system:authenticated'] };

function pod(name: string, nodeName: string | undefined, spec: Record<string, unknown> = {}, annotations?: Record<string, string>): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', ...(annotations ? { annotations } : {}) }, spec: { ...(nodeName ? { nodeName } : {}), containers: [{ name: 'c', image: 'i' }], ...spec } };
}

const objects: KubeObject[] = [
  pod('mine', 'n1', {
    serviceAccountName: 'runner',
    imagePullSecrets: [{ name: 'pull' }],
    volumes: [{ name: 'v', secret: { secretName: 'vol-secret' } }, { name: 'c', configMap: { name: 'vol-cm' } }, { name: 'p', persistentVolumeClaim: { claimName: 'data' } }, { name: 'pr', projected: { sources: [{ configMap: { name: 'proj-cm' } }] } }],
    containers: [{ name: 'c', image: 'i', env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'env-secret', key: 'k' } } }], envFrom: [{ configMapRef: { name: 'envfrom-cm' } }] }],
  }),
  pod('mirror', 'n1', {}, { 'kubernetes.io/config.mirror': 'abc' }),
  pod('theirs', 'n2', { volumes: [{ name: 'v', secret: { secretName: 'their-secret' } }] }),
  pod('pending', undefined),
  { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data', namespace: 'default' }, spec: { volumeName: 'pv-1' } },
];

const getter: ObjectGetter = {
  async get(group, resource, namespace, name) {
    const kind = { pods: 'Pod', persistentvolumeclaims: 'PersistentVolumeClaim' }[resource];
    return objects.find((o) => group === '' && o.kind === kind && o.metadata.namespace === namespace && o.metadata.name === name);
  },
  async list(_group, resource) {
    return resource === 'pods' ? objects.filter((o) => o.kind === 'Pod') : [];
  },
};

const node = new NodeAuthorizer(getter);
const ask = (a: Parameters<typeof resourceAttributes>[1], user = n1) => node.authorize(resourceAttributes(user, a));

describe('node identity', () => {
  it('is system:node:<name> in group system:nodes', () => {
    expect(nodeIdentity(n1)).toEqual({ isNode: true, nodeName: 'n1' });
    expect(nodeIdentity({ name: 'system:node:n1', groups: [] })).toEqual({ isNode: false, nodeName: '' });
    expect(nodeIdentity({ name: 'kubelet', groups: ['system:nodes'] })).toEqual({ isNode: false, nodeName: '' });
    expect(nodeIdentity(undefined).isNode).toBe(false);
  });

  it('has no opinion on other users, and refuses a nameless node', async () => {
    expect(await ask({ verb: 'get', resource: 'nodes', name: 'n1' }, { name: 'bob', groups: [] })).toEqual({ allowed: false, reason: '' });
    expect(await ask({ verb: 'get', resource: 'nodes', name: 'n1' }, { name: 'system:node:', groups: ['system:nodes'] })).toEqual({ allowed: false, reason: 'unknown node for user "system:node:"' });
  });
});

describe('the Node authorizer', () => {
  it('lets a node read and write its own Node only', async () => {
    expect((await ask({ verb: 'get', resource: 'nodes', name: 'n1' })).allowed).toBe(true);
    expect((await ask({ verb: 'watch', resource: 'nodes', name: 'n1' })).allowed).toBe(true);
    expect(await ask({ verb: 'get', resource: 'nodes', name: 'n2' })).toEqual({ allowed: false, reason: "node 'n1' cannot read 'n2', only its own Node object" });
    expect(await ask({ verb: 'list', resource: 'nodes' })).toEqual({ allowed: false, reason: "node 'n1' cannot read all nodes, only its own Node object" });
    expect((await ask({ verb: 'create', resource: 'nodes' })).allowed).toBe(true);
    expect((await ask({ verb: 'patch', resource: 'nodes', subresource: 'status', name: 'n1' })).allowed).toBe(true);
    expect(await ask({ verb: 'update', resource: 'nodes', subresource: 'status', name: 'n2' })).toEqual({ allowed: false, denied: true, reason: 'node "n1" is not allowed to modify node "n2"' });
    expect(await ask({ verb: 'patch', resource: 'nodes', name: 'n2' })).toMatchObject({ allowed: false, denied: true });
    expect((await ask({ verb: 'delete', resource: 'nodes', name: 'n1' })).allowed).toBe(false);
  });

  it('lets a node use its own Lease in kube-node-lease', async () => {
    expect((await ask({ verb: 'create', group: 'coordination.k8s.io', resource: 'leases', namespace: 'kube-node-lease' })).allowed).toBe(true);
    expect((await ask({ verb: 'update', group: 'coordination.k8s.io', resource: 'leases', namespace: 'kube-node-lease', name: 'n1' })).allowed).toBe(true);
    expect(await ask({ verb: 'update', group: 'coordination.k8s.io', resource: 'leases', namespace: 'kube-node-lease', name: 'n2' })).toEqual({ allowed: false, denied: true, reason: 'can only access node lease with the same name as the requesting node' });
    expect(await ask({ verb: 'get', group: 'coordination.k8s.io', resource: 'leases', namespace: 'default', name: 'n1' })).toEqual({ allowed: false, reason: 'can only access leases in the "kube-node-lease" system namespace' });
    expect(await ask({ verb: 'list', group: 'coordination.k8s.io', resource: 'leases', namespace: 'kube-node-lease' })).toEqual({ allowed: false, reason: 'can only get, create, update, patch, or delete a node lease' });
  });

  it('lets a node read the pods bound to it, and list them only by spec.nodeName', async () => {
    expect((await ask({ verb: 'get', resource: 'pods', namespace: 'default', name: 'mine' })).allowed).toBe(true);
    expect(await ask({ verb: 'get', resource: 'pods', namespace: 'default', name: 'theirs' })).toEqual({ allowed: false, reason: "no relationship found between node 'n1' and this object" });
    expect((await ask({ verb: 'get', resource: 'pods', namespace: 'default', name: 'missing' })).allowed).toBe(false);
    expect((await ask({ verb: 'watch', resource: 'pods', fieldSelector: [{ field: 'spec.nodeName', operator: 'Equals', value: 'n1' }] })).allowed).toBe(true);
    expect(await ask({ verb: 'list', resource: 'pods', fieldSelector: [{ field: 'spec.nodeName', operator: 'Equals', value: 'n2' }] })).toEqual({ allowed: false, reason: 'can only list/watch pods with spec.nodeName field selector' });
    expect((await ask({ verb: 'list', resource: 'pods', namespace: 'default', name: 'mine' })).allowed).toBe(true);
  });

  it('lets a node write status of, evict and delete only its own pods, and update only its mirror pods', async () => {
    expect((await ask({ verb: 'patch', resource: 'pods', subresource: 'status', namespace: 'default', name: 'mine' })).allowed).toBe(true);
    expect(await ask({ verb: 'update', resource: 'pods', subresource: 'status', namespace: 'default', name: 'theirs' })).toEqual({
      allowed: false,
      denied: true,
      reason: 'node "n1" can only update pod status for pods with spec.nodeName set to itself',
    });
    expect(await ask({ verb: 'update', resource: 'pods', subresource: 'status', namespace: 'default', name: 'pending' })).toMatchObject({ denied: true });
    expect((await ask({ verb: 'delete', resource: 'pods', namespace: 'default', name: 'mine' })).allowed).toBe(true);
    expect(await ask({ verb: 'delete', resource: 'pods', namespace: 'default', name: 'theirs' })).toEqual({ allowed: false, denied: true, reason: 'node "n1" can only delete pods with spec.nodeName set to itself' });
    expect((await ask({ verb: 'create', resource: 'pods', subresource: 'eviction', namespace: 'default', name: 'mine' })).allowed).toBe(true);
    expect((await ask({ verb: 'create', resource: 'pods', subresource: 'eviction', namespace: 'default', name: 'theirs' })).denied).toBe(true);
    expect((await ask({ verb: 'create', resource: 'pods', namespace: 'default' })).allowed).toBe(true);
    expect((await ask({ verb: 'update', resource: 'pods', namespace: 'default', name: 'mirror' })).allowed).toBe(true);
    expect(await ask({ verb: 'update', resource: 'pods', namespace: 'default', name: 'mine' })).toEqual({ allowed: false, denied: true, reason: 'node "n1" can only update mirror pods' });
    expect((await ask({ verb: 'deletecollection', resource: 'pods', namespace: 'default' })).allowed).toBe(false);
    expect((await ask({ verb: 'get', resource: 'pods', subresource: 'log', namespace: 'default', name: 'mine' })).allowed).toBe(false);
  });

  it('lets a node read the secrets, config maps, claims and volumes its pods use, and nothing else of theirs', async () => {
    for (const name of ['pull', 'vol-secret', 'env-secret']) expect((await ask({ verb: 'get', resource: 'secrets', namespace: 'default', name })).allowed).toBe(true);
    for (const name of ['vol-cm', 'proj-cm', 'envfrom-cm']) expect((await ask({ verb: 'watch', resource: 'configmaps', namespace: 'default', name })).allowed).toBe(true);
    expect((await ask({ verb: 'get', resource: 'secrets', namespace: 'default', name: 'their-secret' })).allowed).toBe(false);
    expect((await ask({ verb: 'get', resource: 'secrets', namespace: 'other', name: 'pull' })).allowed).toBe(false);
    expect(await ask({ verb: 'list', resource: 'secrets', namespace: 'default' })).toEqual({ allowed: false, reason: 'No Object name found' });
    expect(await ask({ verb: 'update', resource: 'secrets', namespace: 'default', name: 'pull' })).toEqual({ allowed: false, reason: 'can only read resources of this type' });
    expect((await ask({ verb: 'get', resource: 'persistentvolumeclaims', namespace: 'default', name: 'data' })).allowed).toBe(true);
    expect((await ask({ verb: 'get', resource: 'persistentvolumes', name: 'pv-1' })).allowed).toBe(true);
    expect((await ask({ verb: 'get', resource: 'persistentvolumes', name: 'pv-2' })).allowed).toBe(false);
    expect((await ask({ verb: 'create', resource: 'serviceaccounts', subresource: 'token', namespace: 'default', name: 'runner' })).allowed).toBe(true);
    expect((await ask({ verb: 'create', resource: 'serviceaccounts', subresource: 'token', namespace: 'default', name: 'admin' })).allowed).toBe(false);
  });

  it('allows the static node rules for everything else', async () => {
    expect((await ask({ verb: 'create', resource: 'events', namespace: 'default' })).allowed).toBe(true);
    expect((await ask({ verb: 'list', resource: 'services' })).allowed).toBe(true);
    expect((await ask({ verb: 'delete', resource: 'services', namespace: 'default', name: 'x' })).allowed).toBe(false);
    expect((await node.authorize(nonResourceAttributes(n1, 'get', '/api'))).allowed).toBe(false);
  });

  it('refuses relationship reads without a getter', async () => {
    const blind = new NodeAuthorizer(undefined);
    expect((await blind.authorize(resourceAttributes(n1, { verb: 'get', resource: 'pods', namespace: 'default', name: 'mine' }))).allowed).toBe(false);
    expect((await blind.authorize(resourceAttributes(n1, { verb: 'get', resource: 'nodes', name: 'n1' }))).allowed).toBe(true);
  });
});

describe('NodeRestriction', () => {
  const pods = findResource('', 'v1', 'pods') as ResourceDef;
  const nodes = findResource('', 'v1', 'nodes') as ResourceDef;
  const leases = findResource('coordination.k8s.io', 'v1', 'leases') as ResourceDef;
  const mirror = (spec: Record<string, unknown> = {}, nodeName = 'n1') => pod('static', nodeName, spec, { 'kubernetes.io/config.mirror': 'h' });

  it('lets a node create only mirror pods bound to itself that use no other objects', () => {
    expect(nodeRestrictionMessage(n1, 'create', pods, mirror(), undefined)).toBeUndefined();
    expect(nodeRestrictionMessage(n1, 'create', pods, pod('p', 'n1'), undefined)).toBe('pod does not have "kubernetes.io/config.mirror" annotation, node "n1" can only create mirror pods');
    expect(nodeRestrictionMessage(n1, 'create', pods, mirror({}, 'n2'), undefined)).toBe('node "n1" can only create pods with spec.nodeName set to itself');
    expect(nodeRestrictionMessage(n1, 'create', pods, mirror({ volumes: [{ name: 'v', secret: { secretName: 's' } }] }), undefined)).toBe('node "n1" can not create pods that reference secrets');
    expect(nodeRestrictionMessage(n1, 'create', pods, mirror({ volumes: [{ name: 'v', configMap: { name: 's' } }] }), undefined)).toBe('node "n1" can not create pods that reference configmaps');
    expect(nodeRestrictionMessage(n1, 'create', pods, mirror({ serviceAccountName: 'x' }), undefined)).toBe('node "n1" can not create pods that use service accounts');
    expect(nodeRestrictionMessage({ name: 'bob', groups: [] }, 'create', pods, pod('p', 'n2'), undefined)).toBeUndefined();
  });

  it('keeps a node to its own pods, Node and Lease', () => {
    expect(nodeRestrictionMessage(n1, 'update', pods, pod('p', 'n1'), pod('p', 'n1'))).toBeUndefined();
    expect(nodeRestrictionMessage(n1, 'update', pods, pod('p', 'n2'), pod('p', 'n1'))).toMatch(/can only update pod status/);
    expect(nodeRestrictionMessage(n1, 'delete', pods, pod('p', 'n2'), pod('p', 'n2'))).toBe('node "n1" can only delete pods with spec.nodeName set to itself');
    expect(nodeRestrictionMessage(n1, 'create', nodes, { metadata: { name: 'n1' } }, undefined)).toBeUndefined();
    expect(nodeRestrictionMessage(n1, 'update', nodes, { metadata: { name: 'n2' } }, undefined)).toBe('node "n1" is not allowed to modify node "n2"');
    expect(nodeRestrictionMessage(n1, 'create', leases, { metadata: { name: 'n1', namespace: 'kube-node-lease' } }, undefined)).toBeUndefined();
    expect(nodeRestrictionMessage(n1, 'create', leases, { metadata: { name: 'n2', namespace: 'kube-node-lease' } }, undefined)).toBe('can only access node lease with the same name as the requesting node');
  });

  it('refuses in admission with a 403 worded as upstream', async () => {
    const admission = nodeRestrictionAdmission();
    const ctx = { strict: false, dryRun: false, now: new Date(), user: n1 };
    await expect(admission.admit('create', pods, pod('p', 'n1'), undefined, ctx)).rejects.toMatchObject({
      code: 403,
      reason: 'Forbidden',
      message: 'pods "p" is forbidden: pod does not have "kubernetes.io/config.mirror" annotation, node "n1" can only create mirror pods',
      details: { name: 'p', kind: 'pods' },
    });
    await expect(admission.admit('create', pods, pod('p', 'n1'), undefined, { ...ctx, user: undefined } as never)).resolves.toBeUndefined();
    await expect(nodeRestrictionAdmission(() => n1).admit('create', nodes, { metadata: { name: 'n3' } }, undefined, { strict: false, dryRun: false, now: new Date() })).rejects.toBeInstanceOf(ApiError);
  });

  it('collects what a pod references', () => {
    const refs = podReferences(objects[0] as KubeObject);
    expect([...refs.secrets].sort()).toEqual(['env-secret', 'pull', 'vol-secret']);
    expect([...refs.configmaps].sort()).toEqual(['envfrom-cm', 'proj-cm', 'vol-cm']);
    expect([...refs.persistentvolumeclaims]).toEqual(['data']);
    expect([...refs.serviceaccounts]).toEqual(['runner']);
  });
});
