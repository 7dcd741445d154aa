import { describe, expect, it } from 'vitest';
import { bootstrapPolicyObjects, createAuthorizer } from '../../../../../control/apiserver/authz/index.js';
import { breakdownRule, compactRuleString, covers, rbacEscalationAdmission } from '../../../../../control/apiserver/authz/escalation.js';
import type { PolicyRule } from '../../../../../control/apiserver/authz/rbac.js';
import { findResource, type ResourceDef } from '../../../../../control/apiserver/resources.js';
import type { KubeObject } from '../../../../../control/apiserver/storage/object-storage.js';
import { clusterRole, clusterRoleBinding, RBAC, role, roleBinding, staticLister, userSubject } from './helpers.js';

describe('rule coverage', () => {
  it('breaks rules down to one verb, group, resource and name', () => {
    expect(breakdownRule({ verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'], resourceNames: ['a'] })).toEqual([
      { verbs: ['get'], apiGroups: [''], resources: ['pods'], resourceNames: ['a'] },
      { verbs: ['list'], apiGroups: [''], resources: ['pods'], resourceNames: ['a'] },
    ]);
    expect(breakdownRule({ verbs: ['get'], nonResourceURLs: ['/a', '/b'] })).toEqual([
      { verbs: ['get'], nonResourceURLs: ['/a'] },
      { verbs: ['get'], nonResourceURLs: ['/b'] },
    ]);
  });

  it('covers by wildcards, */subresource, names and URL prefixes as upstream', () => {
    const owner: PolicyRule[] = [
      { verbs: ['*'], apiGroups: ['apps'], resources: ['deployments', '*/scale'] },
      { verbs: ['get'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['a', 'b'] },
      { verbs: ['get'], nonResourceURLs: ['/apis/*'] },
    ];
    expect(covers(owner, [{ verbs: ['create', 'delete'], apiGroups: ['apps'], resources: ['deployments', 'deployments/scale'] }]).covered).toBe(true);
    expect(covers(owner, [{ verbs: ['get'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['a'] }]).covered).toBe(true);
    expect(covers(owner, [{ verbs: ['get'], apiGroups: [''], resources: ['configmaps'] }]).covered).toBe(false);
    expect(covers(owner, [{ verbs: ['get'], nonResourceURLs: ['/apis/apps'] }]).covered).toBe(true);
    const { covered, missing } = covers(owner, [{ verbs: ['get'], apiGroups: ['apps'], resources: ['deployments', 'deployments/status'] }]);
    expect(covered).toBe(false);
    expect(missing.map(compactRuleString)).toEqual(['{APIGroups:["apps"], Resources:["deployments/status"], Verbs:["get"]}']);
  });
});

describe('escalation prevention', () => {
  const jane = { name: 'jane', groups: ['system:authenticated'] };
  const objects: KubeObject[] = [
    ...bootstrapPolicyObjects(),
    roleBinding('team', 'jane-admin', { kind: 'ClusterRole', name: 'admin' }, [userSubject('jane')]),
    clusterRole('binder', [{ verbs: ['bind'], apiGroups: [RBAC], resources: ['clusterroles'], resourceNames: ['cluster-admin'] }]),
    clusterRoleBinding('carol-binds', 'binder', [userSubject('carol')]),
    role('team', 'local', [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }]),
  ];
  const lister = staticLister(objects);
  const authz = createAuthorizer({ lister });
  const admission = rbacEscalationAdmission({ lister, authorize: (a) => authz.authorize(a) });
  const def = (resource: string) => findResource(RBAC, 'v1', resource) as ResourceDef;
  const ctx = (user?: { name: string; groups: string[] }) => ({ strict: false, dryRun: false, now: new Date(), ...(user ? { user } : {}) });

  it('lets users bind roles whose rules they hold, in their namespace', async () => {
    await expect(admission.admit('create', def('rolebindings'), roleBinding('team', 'x', { kind: 'ClusterRole', name: 'edit' }, [userSubject('bob')]), undefined, ctx(jane))).resolves.toBeUndefined();
    await expect(admission.admit('create', def('rolebindings'), roleBinding('team', 'x', { kind: 'Role', name: 'local' }, [userSubject('bob')]), undefined, ctx(jane))).resolves.toBeUndefined();
    await expect(admission.admit('create', def('rolebindings'), roleBinding('other', 'x', { kind: 'ClusterRole', name: 'edit' }, [userSubject('bob')]), undefined, ctx(jane))).rejects.toMatchObject({ code: 403 });
  });

  it('refuses binding more, unless the user may bind that role', async () => {
    await expect(admission.admit('create', def('rolebindings'), roleBinding('team', 'x', { kind: 'ClusterRole', name: 'cluster-admin' }, [userSubject('bob')]), undefined, ctx(jane))).rejects.toMatchObject({
      code: 403,
      message: 'rolebindings.rbac.authorization.k8s.io "x" is forbidden: user "jane" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:["*"], Resources:["*"], Verbs:["*"]}\n{NonResourceURLs:["*"], Verbs:["*"]}',
    });
    const carol = { name: 'carol', groups: ['system:authenticated'] };
    await expect(admission.admit('create', def('clusterrolebindings'), clusterRoleBinding('x', 'cluster-admin', [userSubject('carol')]), undefined, ctx(carol))).resolves.toBeUndefined();
    await expect(admission.admit('create', def('rolebindings'), roleBinding('team', 'x', { kind: 'ClusterRole', name: 'missing' }, []), undefined, ctx(jane))).rejects.toMatchObject({ code: 400 });
  });

  it('refuses roles with rules the user lacks, and aggregation rules without full authority', async () => {
    await expect(admission.admit('create', def('roles'), role('team', 'r', [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }]), undefined, ctx(jane))).resolves.toBeUndefined();
    await expect(admission.admit('update', def('roles'), role('team', 'r', [{ verbs: ['get'], apiGroups: [''], resources: ['nodes'] }]), undefined, ctx(jane))).rejects.toMatchObject({ code: 403 });
    const agg = clusterRole('agg', [], { aggregationRule: { clusterRoleSelectors: [{ matchLabels: { x: 'y' } }] } });
    await expect(admission.admit('create', def('clusterroles'), agg, undefined, ctx({ name: 'carol', groups: [] }))).rejects.toMatchObject({
      message: 'clusterroles.rbac.authorization.k8s.io "agg" is forbidden: must have cluster-admin privileges to use the aggregationRule',
    });
  });

  it('exempts system:masters, the server itself, deletes and other groups', async () => {
    const everything = clusterRole('all', [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }]);
    await expect(admission.admit('create', def('clusterroles'), everything, undefined, ctx({ name: 'root', groups: ['system:masters'] }))).resolves.toBeUndefined();
    await expect(admission.admit('create', def('clusterroles'), everything, undefined, ctx())).resolves.toBeUndefined();
    await expect(admission.admit('delete', def('clusterroles'), everything, everything, ctx(jane))).resolves.toBeUndefined();
    await expect(admission.admit('create', findResource('', 'v1', 'pods') as ResourceDef, { metadata: { name: 'p' } }, undefined, ctx(jane))).resolves.toBeUndefined();
  });
});
