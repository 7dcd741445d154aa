import { describe, expect, it } from 'vitest';
import {
  authorizeRequest,
  bootstrapPolicyObjects,
  createAuthorizer,
  ensureBootstrapPolicy,
  forbiddenError,
  forbiddenStatus,
  handleAccessReview,
  handleSelfSubjectAccessReview,
  impersonate,
  isAccessReview,
  nonResourceAttributes,
  resourceAttributes,
  storageGetter,
  storageLister,
} from '../../../../../control/apiserver/authz/index.js';
import { effectiveClusterRoleRules, ruleAllows } from '../../../../../control/apiserver/authz/rbac.js';
import { parseRequestInfo, type ResourceRequest } from '../../../../../control/apiserver/http/request-info.js';
import { findResource, type ResourceDef } from '../../../../../control/apiserver/resources.js';
import { ObjectStorage, type KubeObject } from '../../../../../control/apiserver/storage/object-storage.js';
import { MemoryStore } from '../../../../../control/store/index.js';
import { bob, RBAC, role, roleBinding, staticLister, userSubject } from './helpers.js';

const admin = { name: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] };
const jane = { name: 'jane', groups: ['system:authenticated'] };
const n1 = { name: 'system:node:n1', groups: ['system:nodes', 'system:authenticated'] };

function authorizer(extra: KubeObject[] = []) {
  const lister = staticLister([
    ...bootstrapPolicyObjects(),
    role('team', 'pod-reader', [{ verbs: ['get', 'list', 'watch'], apiGroups: [''], resources: ['pods'] }]),
    roleBinding('team', 'jane-reads', { kind: 'Role', name: 'pod-reader' }, [userSubject('jane')]),
    ...extra,
  ]);
  return { lister, authz: createAuthorizer({ lister }) };
}

describe('the Node,RBAC union', () => {
  it('allows system:masters everything, before any other authorizer', async () => {
    const { authz } = authorizer();
    expect(await authz.authorize(resourceAttributes(admin, { verb: 'delete', resource: 'nodes', name: 'x' }))).toEqual({ allowed: true, reason: '' });
    expect((await authz.authorize(nonResourceAttributes(admin, 'post', '/anything'))).allowed).toBe(true);
  });

  it('lets the default policy give every user discovery, self reviews and public info, and anonymous only public info', async () => {
    const { authz } = authorizer();
    expect(await authz.authorize(nonResourceAttributes(bob, 'get', '/apis/apps/v1'))).toEqual({ allowed: true, reason: 'RBAC: allowed by ClusterRoleBinding "system:discovery" of ClusterRole "system:discovery" to Group "system:authenticated"' });
    expect((await authz.authorize(resourceAttributes(bob, { verb: 'create', group: 'authorization.k8s.io', resource: 'selfsubjectaccessreviews' }))).allowed).toBe(true);
    const anon = { name: 'system:anonymous', groups: ['system:unauthenticated'] };
    expect((await authz.authorize(nonResourceAttributes(anon, 'get', '/healthz'))).allowed).toBe(true);
    expect((await authz.authorize(nonResourceAttributes(anon, 'get', '/api'))).allowed).toBe(false);
    expect((await authz.authorize(resourceAttributes(anon, { verb: 'list', resource: 'pods', namespace: 'team' }))).allowed).toBe(false);
  });

  it('asks the node authorizer first, and its denials stop RBAC', async () => {
    const { authz } = authorizer([
      { apiVersion: `${RBAC}/v1`, kind: 'ClusterRoleBinding', metadata: { name: 'nodes-admin' }, roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'cluster-admin' }, subjects: [{ kind: 'Group', name: 'system:nodes' }] },
    ]);
    expect(await authz.authorize(resourceAttributes(n1, { verb: 'get', resource: 'nodes', name: 'n1' }))).toEqual({ allowed: true, reason: '' });
    // Reads the node authorizer declines fall through to RBAC.
    expect((await authz.authorize(resourceAttributes(n1, { verb: 'get', resource: 'nodes', name: 'n2' }))).allowed).toBe(true);
    expect(await authz.authorize(resourceAttributes(n1, { verb: 'update', resource: 'nodes', name: 'n2' }))).toEqual({ allowed: false, denied: true, reason: 'node "n1" is not allowed to modify node "n2"' });
  });

  it('joins the reasons of every authorizer that declined', async () => {
    const { authz } = authorizer();
    expect(await authz.authorize(resourceAttributes(n1, { verb: 'list', resource: 'nodes' }))).toEqual({ allowed: false, reason: "node 'n1' cannot read all nodes, only its own Node object" });
    expect(await authz.authorize(resourceAttributes(jane, { verb: 'list', resource: 'pods', namespace: 'default' }))).toEqual({ allowed: false, reason: '' });
  });
});

describe('the default policy', () => {
  const objects = bootstrapPolicyObjects();
  const byName = (kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name) as KubeObject;

  it('labels and annotates every object as upstream', () => {
    for (const o of objects) {
      expect(o.metadata.labels?.['kubernetes.io/bootstrapping']).toBe('rbac-defaults');
      expect(o.metadata.annotations?.['rbac.authorization.kubernetes.io/autoupdate']).toBe('true');
    }
    expect(byName('ClusterRoleBinding', 'cluster-admin').subjects).toEqual([{ kind: 'Group', apiGroup: RBAC, name: 'system:masters' }]);
    expect(byName('ClusterRoleBinding', 'system:public-info-viewer').subjects).toEqual([
      { kind: 'Group', apiGroup: RBAC, name: 'system:authenticated' },
      { kind: 'Group', apiGroup: RBAC, name: 'system:unauthenticated' },
    ]);
    expect(byName('ClusterRoleBinding', 'system:node').subjects).toBeUndefined();
    for (const b of objects.filter((o) => o.kind === 'ClusterRoleBinding')) {
      expect(byName('ClusterRole', (b.roleRef as { name: string }).name)).toBeDefined();
    }
  });

  it('aggregates admin ⊇ edit ⊇ view through the aggregate-to labels, with the rules filled in', () => {
    const rules = (name: string) => byName('ClusterRole', name).rules as Array<{ verbs: string[] }>;
    expect(byName('ClusterRole', 'view').aggregationRule).toEqual({ clusterRoleSelectors: [{ matchLabels: { 'rbac.authorization.k8s.io/aggregate-to-view': 'true' } }] });
    expect(byName('ClusterRole', 'edit').metadata.labels?.['rbac.authorization.k8s.io/aggregate-to-admin']).toBe('true');
    expect(rules('view')).toEqual(byName('ClusterRole', 'system:aggregate-to-view').rules);
    for (const r of rules('view')) expect(rules('edit')).toContainEqual(r);
    for (const r of rules('edit')) expect(rules('admin')).toContainEqual(r);
    const can = (roleName: string, verb: string, group: string, resource: string) => rules(roleName).some((r) => ruleAllows(resourceAttributes(bob, { verb, group, resource, namespace: 'x' }), r as never));
    expect(can('view', 'list', 'apps', 'deployments')).toBe(true);
    expect(can('view', 'get', '', 'secrets')).toBe(false);
    expect(can('edit', 'get', '', 'secrets')).toBe(true);
    expect(can('edit', 'create', RBAC, 'rolebindings')).toBe(false);
    expect(can('admin', 'create', RBAC, 'rolebindings')).toBe(true);
    expect(effectiveClusterRoleRules(byName('ClusterRole', 'admin'), objects)).toEqual(rules('admin'));
  });

  it('is created in storage where missing, keeping what an admin changed', async () => {
    const store = new MemoryStore();
    const storage = new ObjectStorage(store);
    const def = findResource(RBAC, 'v1', 'clusterroles') as ResourceDef;
    await storage.create(def, { apiVersion: `${RBAC}/v1`, kind: 'ClusterRole', metadata: { name: 'view', labels: { custom: 'yes' } }, rules: [] });
    await ensureBootstrapPolicy(storage);
    await ensureBootstrapPolicy(storage);
    const roles = (await storage.list(def, undefined)).items;
    expect(roles.length).toBe(objects.filter((o) => o.kind === 'ClusterRole').length);
    expect(roles.find((r) => r.metadata.name === 'view')?.metadata.labels).toEqual({ custom: 'yes' });
    expect(roles.find((r) => r.metadata.name === 'system:basic-user')?.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    await store.close();
  });
});

describe('the 403 Status', () => {
  it('words resource, named, subresource, cluster-scoped and path refusals as upstream', () => {
    expect(forbiddenError(resourceAttributes(bob, { verb: 'list', resource: 'pods', namespace: 'default' })).message).toBe('pods is forbidden: User "bob" cannot list resource "pods" in API group "" in the namespace "default"');
    expect(forbiddenStatus(resourceAttributes(bob, { verb: 'get', group: 'apps', resource: 'deployments', subresource: 'scale', namespace: 'team', name: 'web' }), 'why not')).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'deployments.apps "web" is forbidden: User "bob" cannot get resource "deployments/scale" in API group "apps" in the namespace "team": why not',
      reason: 'Forbidden',
      details: { name: 'web', group: 'apps', kind: 'deployments' },
      code: 403,
    });
    expect(forbiddenError(resourceAttributes(bob, { verb: 'list', resource: 'nodes' })).message).toBe('nodes is forbidden: User "bob" cannot list resource "nodes" in API group "" at the cluster scope');
    const path = forbiddenStatus(nonResourceAttributes(bob, 'get', '/metrics'));
    expect(path).toMatchObject({ message: 'forbidden: User "bob" cannot get path "/metrics"', details: {}, code: 403 });
  });
});

describe('impersonation', () => {
  it('returns the requester without impersonation headers', async () => {
    const { authz } = authorizer();
    expect(await impersonate(authz, bob, {})).toBe(bob);
  });

  it('lets a permitted user act as another, in system:authenticated', async () => {
    const { authz } = authorizer();
    expect(await impersonate(authz, admin, { 'impersonate-user': ['jane'] })).toEqual({ name: 'jane', groups: ['system:authenticated'] });
    expect(await impersonate(authz, admin, { 'impersonate-user': ['jane'], 'impersonate-group': ['devs', 'ops'], 'impersonate-uid': ['u1'], 'impersonate-extra-scopes': ['a'] })).toEqual({
      name: 'jane',
      uid: 'u1',
      groups: ['devs', 'ops', 'system:authenticated'],
      extra: { scopes: ['a'] },
    });
    expect(await impersonate(authz, admin, { 'impersonate-user': ['system:serviceaccount:team:builder'] })).toEqual({
      name: 'system:serviceaccount:team:builder',
      groups: ['system:serviceaccounts', 'system:serviceaccounts:team', 'system:authenticated'],
    });
    expect(await impersonate(authz, admin, { 'impersonate-user': ['system:anonymous'] })).toEqual({ name: 'system:anonymous', groups: ['system:unauthenticated'] });
  });

  it('takes Impersonate-Extra-<key> as the user\'s extra: keys lowercased, then unescaped, values gathered by key', async () => {
    const { authz } = authorizer();
    const user = await impersonate(authz, admin, {
      'impersonate-user': ['jane'],
      'impersonate-extra-scopes': ['view', 'edit'],
      'impersonate-extra-example.com%2fteam': ['a'],
      'impersonate-extra-%zz': ['kept as sent'],
      'impersonate-extra-__proto__': ['just a key'],
    });
    expect(Object.entries(user.extra ?? {})).toEqual([
      ['scopes', ['view', 'edit']],
      ['example.com/team', ['a']],
      ['%zz', ['kept as sent']],
      ['__proto__', ['just a key']],
    ]);
  });

  it('refuses users without the impersonate verb, naming what they tried', async () => {
    const { authz } = authorizer();
    await expect(impersonate(authz, jane, { 'impersonate-user': ['bob'] })).rejects.toMatchObject({
      code: 403,
      message: 'users "bob" is forbidden: User "jane" cannot impersonate resource "users" in API group "" at the cluster scope',
    });
    await expect(impersonate(authz, jane, { 'impersonate-user': ['system:serviceaccount:team:builder'] })).rejects.toMatchObject({
      message: 'serviceaccounts "builder" is forbidden: User "jane" cannot impersonate resource "serviceaccounts" in API group "" in the namespace "team"',
    });
    await expect(impersonate(authz, admin, { 'impersonate-group': ['x'] })).rejects.toMatchObject({ code: 500 });
  });

  it('lets a user allowed to impersonate one user do just that', async () => {
    const { authz } = authorizer([
      role('team', 'x', []),
      { apiVersion: `${RBAC}/v1`, kind: 'ClusterRole', metadata: { name: 'as-jane' }, rules: [{ verbs: ['impersonate'], apiGroups: [''], resources: ['users'], resourceNames: ['jane'] }] },
      { apiVersion: `${RBAC}/v1`, kind: 'ClusterRoleBinding', metadata: { name: 'bob-as-jane' }, roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'as-jane' }, subjects: [userSubject('bob')] },
    ]);
    expect((await impersonate(authz, bob, { 'impersonate-user': ['jane'] })).name).toBe('jane');
    await expect(impersonate(authz, bob, { 'impersonate-user': ['carol'] })).rejects.toMatchObject({ code: 403 });
    await expect(impersonate(authz, bob, { 'impersonate-user': ['jane'], 'impersonate-group': ['system:masters'] })).rejects.toMatchObject({
      message: 'groups "system:masters" is forbidden: User "bob" cannot impersonate resource "groups" in API group "" at the cluster scope',
    });
  });
});

describe('access reviews', () => {
  const info = (path: string): ResourceRequest => parseRequestInfo('POST', path, new URLSearchParams()) as ResourceRequest;

  it('recognises the review endpoints', () => {
    expect(isAccessReview(info('/apis/authorization.k8s.io/v1/selfsubjectaccessreviews'))).toBe(true);
    expect(isAccessReview(info('/apis/authorization.k8s.io/v1/namespaces/team/localsubjectaccessreviews'))).toBe(true);
    expect(isAccessReview(info('/apis/authorization.k8s.io/v1/selfsubjectrulesreviews'))).toBe(true);
    expect(isAccessReview(info('/api/v1/namespaces/team/pods'))).toBe(false);
  });

  it('answers a SelfSubjectAccessReview as kubectl auth can-i sends it', async () => {
    const { authz } = authorizer();
    const body = { kind: 'SelfSubjectAccessReview', apiVersion: 'authorization.k8s.io/v1', metadata: { creationTimestamp: null }, spec: { resourceAttributes: { namespace: 'team', verb: 'list', resource: 'pods' } }, status: { allowed: false } };
    expect(await handleSelfSubjectAccessReview(authz, jane, body)).toEqual({
      kind: 'SelfSubjectAccessReview',
      apiVersion: 'authorization.k8s.io/v1',
      metadata: { creationTimestamp: null },
      spec: body.spec,
      status: { allowed: true, reason: 'RBAC: allowed by RoleBinding "jane-reads/team" of Role "pod-reader" to User "jane"' },
    });
    expect((await handleSelfSubjectAccessReview(authz, jane, { spec: { resourceAttributes: { namespace: 'default', verb: 'list', resource: 'pods' } } })).status).toEqual({ allowed: false });
    expect((await handleSelfSubjectAccessReview(authz, jane, { spec: { nonResourceAttributes: { verb: 'get', path: '/api' } } })).status).toMatchObject({ allowed: true });
    expect((await handleSelfSubjectAccessReview(authz, n1, { spec: { resourceAttributes: { verb: 'update', resource: 'nodes', name: 'n2' } } })).status).toEqual({
      allowed: false,
      denied: true,
      reason: 'node "n1" is not allowed to modify node "n2"',
    });
  });

  it('validates the spec as upstream', async () => {
    const { authz } = authorizer();
    await expect(handleSelfSubjectAccessReview(authz, jane, { spec: {} })).rejects.toMatchObject({
      code: 422,
      message: 'SelfSubjectAccessReview.authorization.k8s.io "" is invalid: spec.resourceAttributes: Required value: exactly one of nonResourceAttributes or resourceAttributes must be specified',
    });
    await expect(handleSelfSubjectAccessReview(authz, jane, { spec: { resourceAttributes: {}, nonResourceAttributes: {} } })).rejects.toMatchObject({ code: 422 });
    await expect(handleSelfSubjectAccessReview(authz, jane, 'x')).rejects.toMatchObject({ code: 400 });
    await expect(handleSelfSubjectAccessReview(authz, jane, { kind: 'Pod' })).rejects.toMatchObject({ code: 400 });
  });

  it('answers SubjectAccessReviews about another user, and LocalSubjectAccessReviews in their namespace', async () => {
    const { authz } = authorizer();
    const sar = await handleAccessReview(authz, admin, info('/apis/authorization.k8s.io/v1/subjectaccessreviews'), { spec: { user: 'jane', groups: ['system:authenticated'], resourceAttributes: { namespace: 'team', verb: 'get', resource: 'pods' } } });
    expect(sar).toMatchObject({ kind: 'SubjectAccessReview', status: { allowed: true } });
    await expect(handleAccessReview(authz, admin, info('/apis/authorization.k8s.io/v1/subjectaccessreviews'), { spec: { resourceAttributes: { verb: 'get', resource: 'pods' } } })).rejects.toMatchObject({ code: 422 });
    const lsar = await handleAccessReview(authz, admin, info('/apis/authorization.k8s.io/v1/namespaces/team/localsubjectaccessreviews'), { spec: { user: 'jane', resourceAttributes: { namespace: 'team', verb: 'delete', resource: 'pods' } } });
    expect(lsar).toMatchObject({ kind: 'LocalSubjectAccessReview', status: { allowed: false } });
    await expect(handleAccessReview(authz, admin, info('/apis/authorization.k8s.io/v1/namespaces/team/localsubjectaccessreviews'), { spec: { user: 'jane', resourceAttributes: { namespace: 'other', verb: 'get', resource: 'pods' } } })).rejects.toMatchObject({
      code: 400,
      message: 'spec.resourceAttributes.namespace must match namespace: team',
    });
  });

  it('lists a user\'s rules in a SelfSubjectRulesReview, and says a node\'s are incomplete', async () => {
    const { authz } = authorizer();
    const r = await handleAccessReview(authz, jane, info('/apis/authorization.k8s.io/v1/selfsubjectrulesreviews'), { spec: { namespace: 'team' } });
    const status = r.status as { resourceRules: unknown[]; nonResourceRules: unknown[]; incomplete: boolean };
    expect(status.incomplete).toBe(false);
    expect(status.resourceRules).toContainEqual({ verbs: ['get', 'list', 'watch'], apiGroups: [''], resources: ['pods'] });
    expect(status.nonResourceRules).toContainEqual({ verbs: ['get'], nonResourceURLs: ['/healthz', '/livez', '/readyz', '/version', '/version/'] });
    const node = await handleAccessReview(authz, n1, info('/apis/authorization.k8s.io/v1/selfsubjectrulesreviews'), { spec: { namespace: 'team' } });
    expect(node.status).toMatchObject({ incomplete: true, evaluationError: 'node authorizer does not support user rule resolution' });
  });
});

describe('storage adapters and the request hook', () => {
  it('sees RBAC objects written after a first read', async () => {
    const store = new MemoryStore();
    const storage = new ObjectStorage(store);
    await ensureBootstrapPolicy(storage);
    const authz = createAuthorizer({ lister: storageLister(storage), getter: storageGetter(storage) });
    const attrs = resourceAttributes(jane, { verb: 'list', resource: 'pods', namespace: 'team' });
    expect((await authz.authorize(attrs)).allowed).toBe(false);
    await storage.create(findResource(RBAC, 'v1', 'roles') as ResourceDef, role('team', 'pod-reader', [{ verbs: ['list'], apiGroups: [''], resources: ['pods'] }]));
    await storage.create(findResource(RBAC, 'v1', 'rolebindings') as ResourceDef, roleBinding('team', 'jane', { kind: 'Role', name: 'pod-reader' }, [userSubject('jane')]));
    expect((await authz.authorize(attrs)).allowed).toBe(true);
    const getter = storageGetter(storage);
    expect(await getter.get('', 'pods', 'team', 'nope')).toBeUndefined();
    expect(await getter.get('', 'bogus', 'team', 'nope')).toBeUndefined();
    expect(await getter.list?.(RBAC, 'roles')).toHaveLength(1);
    await store.close();
  });

  it('authorizes a request after impersonation, as anonymous when nobody vouched for it', async () => {
    const { authz } = authorizer();
    const req = (method: string, url: string, headers: Record<string, string[]> = {}) => {
      const u = new URL(url, 'https://x');
      return [{ method, url: u, headers }, parseRequestInfo(method, u.pathname, u.searchParams)] as const;
    };
    expect(await authorizeRequest(authz, jane, ...req('GET', '/api/v1/namespaces/team/pods'))).toBe(jane);
    await expect(authorizeRequest(authz, jane, ...req('GET', '/api/v1/namespaces/default/pods'))).rejects.toMatchObject({ code: 403 });
    expect(await authorizeRequest(authz, undefined, ...req('GET', '/healthz'))).toMatchObject({ name: 'system:anonymous' });
    await expect(authorizeRequest(authz, undefined, ...req('GET', '/api'))).rejects.toMatchObject({ message: 'forbidden: User "system:anonymous" cannot get path "/api"' });
    expect(await authorizeRequest(authz, admin, ...req('GET', '/api/v1/namespaces/team/pods', { 'impersonate-user': ['jane'] }))).toEqual({ name: 'jane', groups: ['system:authenticated'] });
    await expect(authorizeRequest(authz, admin, ...req('GET', '/api/v1/namespaces/default/pods', { 'impersonate-user': ['jane'] }))).rejects.toMatchObject({
      message: 'pods is forbidden: User "jane" cannot list resource "pods" in API group "" in the namespace "default"',
    });
  });
});
