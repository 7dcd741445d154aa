import { describe, expect, it } from 'vitest';
import { nonResourceAttributes, resourceAttributes } from '../../../../../control/apiserver/authz/attributes.js';
import { aggregateErrors, appliesToUser, effectiveClusterRoleRules, RbacAuthorizer, ruleAllows, type PolicyRule } from '../../../../../control/apiserver/authz/rbac.js';
import { bob, clusterRole, clusterRoleBinding, groupSubject, role, roleBinding, saSubject, staticLister, userSubject } from './helpers.js';

const can = (rule: PolicyRule, a: { verb: string; group?: string; resource: string; subresource?: string; name?: string }) => ruleAllows(resourceAttributes(bob, a), rule);

describe('RBAC rule matching', () => {
  it('matches verbs and API groups exactly or by "*"', () => {
    const r: PolicyRule = { verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] };
    expect(can(r, { verb: 'get', resource: 'pods' })).toBe(true);
    expect(can(r, { verb: 'delete', resource: 'pods' })).toBe(false);
    expect(can(r, { verb: 'get', group: 'apps', resource: 'pods' })).toBe(false);
    expect(can({ verbs: ['*'], apiGroups: ['*'], resources: ['pods'] }, { verb: 'deletecollection', group: 'apps', resource: 'pods' })).toBe(true);
    expect(can({ verbs: ['get'], resources: ['pods'] }, { verb: 'get', resource: 'pods' })).toBe(false);
  });

  it('matches resources, subresources and the */subresource form, but not pods/* (as upstream)', () => {
    const pods: PolicyRule = { verbs: ['get'], apiGroups: [''], resources: ['pods'] };
    expect(can(pods, { verb: 'get', resource: 'pods', subresource: 'log' })).toBe(false);
    expect(can({ ...pods, resources: ['pods/log'] }, { verb: 'get', resource: 'pods', subresource: 'log' })).toBe(true);
    expect(can({ ...pods, resources: ['pods/log'] }, { verb: 'get', resource: 'pods' })).toBe(false);
    expect(can({ ...pods, resources: ['*'] }, { verb: 'get', resource: 'pods', subresource: 'exec' })).toBe(true);
    expect(can({ verbs: ['get'], apiGroups: ['*'], resources: ['*/scale'] }, { verb: 'get', group: 'apps', resource: 'deployments', subresource: 'scale' })).toBe(true);
    expect(can({ verbs: ['get'], apiGroups: ['*'], resources: ['*/scale'] }, { verb: 'get', group: 'apps', resource: 'deployments' })).toBe(false);
    expect(can({ verbs: ['get'], apiGroups: ['*'], resources: ['*/scale'] }, { verb: 'get', resource: 'pods', subresource: 'status' })).toBe(false);
    expect(can({ ...pods, resources: ['pods/*'] }, { verb: 'get', resource: 'pods', subresource: 'log' })).toBe(false);
    expect(can({ ...pods, resources: ['*/*'] }, { verb: 'get', resource: 'pods', subresource: 'log' })).toBe(false);
  });

  it('limits rules with resourceNames to those names (and so never matches list or create)', () => {
    const r: PolicyRule = { verbs: ['get', 'list', 'create'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['settings'] };
    expect(can(r, { verb: 'get', resource: 'configmaps', name: 'settings' })).toBe(true);
    expect(can(r, { verb: 'get', resource: 'configmaps', name: 'other' })).toBe(false);
    expect(can(r, { verb: 'list', resource: 'configmaps' })).toBe(false);
    expect(can(r, { verb: 'create', resource: 'configmaps' })).toBe(false);
  });

  it('matches non-resource URLs exactly, by "*", and by a trailing * prefix', () => {
    const r: PolicyRule = { verbs: ['get'], nonResourceURLs: ['/healthz', '/apis/*', '/logs*'] };
    const get = (path: string, verb = 'get') => ruleAllows(nonResourceAttributes(bob, verb, path), r);
    expect(get('/healthz')).toBe(true);
    expect(get('/healthz/etcd')).toBe(false);
    expect(get('/apis/apps/v1')).toBe(true);
    expect(get('/apis')).toBe(false);
    expect(get('/logsfoo/x')).toBe(true);
    expect(get('/healthz', 'post')).toBe(false);
    expect(ruleAllows(nonResourceAttributes(bob, 'get', '/anything'), { verbs: ['*'], nonResourceURLs: ['*'] })).toBe(true);
    // Resource rules never match non-resource requests and vice versa.
    expect(ruleAllows(nonResourceAttributes(bob, 'get', '/api'), { verbs: ['*'], apiGroups: ['*'], resources: ['*'] })).toBe(false);
    expect(can({ verbs: ['*'], nonResourceURLs: ['*'] }, { verb: 'get', resource: 'pods' })).toBe(false);
  });
});

describe('RBAC subjects', () => {
  const sa = { name: 'system:serviceaccount:team:builder', groups: ['system:serviceaccounts', 'system:serviceaccounts:team', 'system:authenticated'] };
  it('matches users by name, groups by membership', () => {
    expect(appliesToUser(bob, userSubject('bob'), '')).toBe(true);
    expect(appliesToUser(bob, userSubject('Bob'), '')).toBe(false);
    expect(appliesToUser(bob, groupSubject('system:authenticated'), '')).toBe(true);
    expect(appliesToUser(sa, groupSubject('system:serviceaccounts:team'), '')).toBe(true);
    expect(appliesToUser(bob, { kind: 'Other', name: 'bob' }, '')).toBe(false);
  });
  it('matches service accounts by username, defaulting the namespace to the binding\'s', () => {
    expect(appliesToUser(sa, saSubject('builder', 'team'), '')).toBe(true);
    expect(appliesToUser(sa, saSubject('builder'), 'team')).toBe(true);
    expect(appliesToUser(sa, saSubject('builder'), 'other')).toBe(false);
    expect(appliesToUser(sa, saSubject('builder'), '')).toBe(false);
    expect(appliesToUser({ name: 'builder', groups: [] }, saSubject('builder', 'team'), '')).toBe(false);
  });
});

describe('ClusterRole aggregation', () => {
  const view = clusterRole('my-view', [], { labels: { 'agg/edit': 'true' }, aggregationRule: { clusterRoleSelectors: [{ matchLabels: { 'agg/view': 'true' } }] } });
  const edit = clusterRole('my-edit', [{ verbs: ['ignored'], apiGroups: [''], resources: ['x'] }], { aggregationRule: { clusterRoleSelectors: [{ matchLabels: { 'agg/edit': 'true' } }] } });
  const readPods = clusterRole('read-pods', [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }], { labels: { 'agg/view': 'true' } });
  const writePods = clusterRole('write-pods', [{ verbs: ['create'], apiGroups: [''], resources: ['pods'] }], { labels: { 'agg/edit': 'true' } });
  const dup = clusterRole('a-dup', [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }], { labels: { 'agg/view': 'true' } });
  const all = [view, edit, readPods, writePods, dup];

  it('unions the rules of matching roles in name order, nested, without duplicates, ignoring the role\'s own rules', () => {
    expect(effectiveClusterRoleRules(view, all)).toEqual([{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }]);
    expect(effectiveClusterRoleRules(edit, all)).toEqual([
      { verbs: ['get'], apiGroups: [''], resources: ['pods'] },
      { verbs: ['create'], apiGroups: [''], resources: ['pods'] },
    ]);
    expect(effectiveClusterRoleRules(readPods, all)).toEqual(readPods.rules);
  });

  it('supports matchExpressions and survives cycles', () => {
    const a = clusterRole('a', [{ verbs: ['get'], apiGroups: [''], resources: ['a'] }], { labels: { to: 'b' }, aggregationRule: { clusterRoleSelectors: [{ matchExpressions: [{ key: 'to', operator: 'In', values: ['a'] }] }] } });
    const b = clusterRole('b', [{ verbs: ['get'], apiGroups: [''], resources: ['b'] }], { labels: { to: 'a' }, aggregationRule: { clusterRoleSelectors: [{ matchLabels: { to: 'b' } }] } });
    expect(effectiveClusterRoleRules(a, [a, b])).toEqual([{ verbs: ['get'], apiGroups: [''], resources: ['a'] }]);
    const bad = clusterRole('bad', [], { aggregationRule: { clusterRoleSelectors: [{ matchExpressions: [{ key: 'x', operator: 'Bogus' }] }] } });
    expect(effectiveClusterRoleRules(bad, [bad, a])).toEqual([]);
  });

  it('is applied when a binding names an aggregated role', async () => {
    const rbac = new RbacAuthorizer(staticLister([...all, roleBinding('team', 'bob-edit', { kind: 'ClusterRole', name: 'my-edit' }, [userSubject('bob')])]));
    expect((await rbac.authorize(resourceAttributes(bob, { verb: 'create', resource: 'pods', namespace: 'team' }))).allowed).toBe(true);
    expect((await rbac.authorize(resourceAttributes(bob, { verb: 'get', resource: 'x', namespace: 'team' }))).allowed).toBe(false);
  });
});

describe('RbacAuthorizer', () => {
  const objects = [
    role('team', 'pod-reader', [{ verbs: ['get', 'list', 'watch'], apiGroups: [''], resources: ['pods'] }]),
    roleBinding('team', 'bob-reads', { kind: 'Role', name: 'pod-reader' }, [userSubject('alice'), userSubject('bob')]),
    clusterRole('node-reader', [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['nodes'] }, { verbs: ['get'], nonResourceURLs: ['/metrics'] }]),
    clusterRoleBinding('ops-read-nodes', 'node-reader', [groupSubject('ops')]),
    clusterRole('secret-reader', [{ verbs: ['get'], apiGroups: [''], resources: ['secrets'] }]),
    roleBinding('team', 'bob-secrets', { kind: 'ClusterRole', name: 'secret-reader' }, [userSubject('bob')]),
    roleBinding('other', 'builder-secrets', { kind: 'ClusterRole', name: 'secret-reader' }, [saSubject('builder')]),
  ];
  const rbac = new RbacAuthorizer(staticLister(objects));

  it('allows through a RoleBinding in the request\'s namespace only, naming the grant', async () => {
    expect(await rbac.authorize(resourceAttributes(bob, { verb: 'list', resource: 'pods', namespace: 'team' }))).toEqual({ allowed: true, reason: 'RBAC: allowed by RoleBinding "bob-reads/team" of Role "pod-reader" to User "bob"' });
    expect(await rbac.authorize(resourceAttributes(bob, { verb: 'list', resource: 'pods', namespace: 'default' }))).toEqual({ allowed: false, reason: '' });
    expect((await rbac.authorize(resourceAttributes(bob, { verb: 'list', resource: 'pods' }))).allowed).toBe(false);
  });

  it('scopes a ClusterRole bound by a RoleBinding to that namespace', async () => {
    expect((await rbac.authorize(resourceAttributes(bob, { verb: 'get', resource: 'secrets', namespace: 'team', name: 's' }))).allowed).toBe(true);
    expect((await rbac.authorize(resourceAttributes(bob, { verb: 'get', resource: 'secrets', namespace: 'other', name: 's' }))).allowed).toBe(false);
    const builder = { name: 'system:serviceaccount:other:builder', groups: ['system:serviceaccounts', 'system:serviceaccounts:other'] };
    expect(await rbac.authorize(resourceAttributes(builder, { verb: 'get', resource: 'secrets', namespace: 'other', name: 's' }))).toEqual({
      allowed: true,
      reason: 'RBAC: allowed by RoleBinding "builder-secrets/other" of ClusterRole "secret-reader" to ServiceAccount "builder/other"',
    });
  });

  it('allows through ClusterRoleBindings everywhere, for resources and paths', async () => {
    const ops = { name: 'carol', groups: ['ops', 'system:authenticated'] };
    expect(await rbac.authorize(resourceAttributes(ops, { verb: 'list', resource: 'nodes' }))).toEqual({ allowed: true, reason: 'RBAC: allowed by ClusterRoleBinding "ops-read-nodes" of ClusterRole "node-reader" to Group "ops"' });
    expect((await rbac.authorize(resourceAttributes(ops, { verb: 'get', resource: 'nodes', namespace: 'team' }))).allowed).toBe(true);
    expect((await rbac.authorize(nonResourceAttributes(ops, 'get', '/metrics'))).allowed).toBe(true);
    expect((await rbac.authorize(nonResourceAttributes(bob, 'get', '/metrics'))).allowed).toBe(false);
  });

  it('reports bindings to missing roles as the reason of a refusal', async () => {
    const broken = new RbacAuthorizer(
      staticLister([
        roleBinding('team', 'a', { kind: 'Role', name: 'gone' }, [userSubject('bob')]),
        roleBinding('team', 'b', { kind: 'ClusterRole', name: 'gone-too' }, [userSubject('bob')]),
        roleBinding('team', 'c', { kind: 'ClusterRole', name: 'gone-too' }, [userSubject('alice')]),
      ]),
    );
    expect(await broken.authorize(resourceAttributes(bob, { verb: 'get', resource: 'pods', namespace: 'team' }))).toEqual({
      allowed: false,
      reason: 'RBAC: [role.rbac.authorization.k8s.io "gone" not found, clusterrole.rbac.authorization.k8s.io "gone-too" not found]',
    });
    expect(aggregateErrors(['x', 'x'])).toBe('x');
  });

  it('lists the rules that apply to a user in a namespace', async () => {
    const { rules, errors } = await rbac.rulesFor(bob, 'team');
    expect(errors).toEqual([]);
    expect(rules).toEqual([
      { verbs: ['get', 'list', 'watch'], apiGroups: [''], resources: ['pods'] },
      { verbs: ['get'], apiGroups: [''], resources: ['secrets'] },
    ]);
    expect((await rbac.rulesFor(bob, '')).rules).toEqual([]);
  });
});
