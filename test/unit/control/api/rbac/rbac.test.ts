// rbac.authorization.k8s.io/v1: rule validation, subject and roleRef defaults, roleRef immutability.
import { describe, expect, it } from 'vitest';
import {
  clusterRoleBindingKind,
  parseClusterRole,
  parseClusterRoleBinding,
  parseKindUpdate,
  parseRole,
  parseRoleBinding,
  roleBindingKind,
} from '../../../../../control/api/index.js';
import { lines, must } from '../apps/helpers.js';

const role = (rules: unknown[], extra: Record<string, unknown> = {}): any => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'Role',
  metadata: { name: 'pod-reader', namespace: 'default' },
  rules,
  ...extra,
});
const clusterRole = (rules: unknown[], extra: Record<string, unknown> = {}): any => ({ ...role(rules, extra), kind: 'ClusterRole', metadata: { name: 'viewer' } });

const binding = (edit: (b: any) => void = () => {}): any => {
  const b: any = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: 'read-pods', namespace: 'default' },
    subjects: [
      { kind: 'User', name: 'jane' },
      { kind: 'ServiceAccount', name: 'builder' },
    ],
    roleRef: { kind: 'Role', name: 'pod-reader' },
  };
  edit(b);
  return b;
};

describe('Role and ClusterRole', () => {
  it('accepts resource rules and (cluster roles only) non-resource URLs', () => {
    expect(lines(parseRole(role([{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }])))).toEqual([]);
    expect(lines(parseClusterRole(clusterRole([{ nonResourceURLs: ['/healthz'], verbs: ['get'] }])))).toEqual([]);
  });

  const cases: Array<[string, any, string[]]> = [
    ['verbs required', role([{ apiGroups: [''], resources: ['pods'] }]), ['rules[0].verbs: Required value: verbs must contain at least one value']],
    [
      'resource rules need groups and resources',
      role([{ verbs: ['get'] }]),
      ['rules[0].apiGroups: Required value: resource rules must supply at least one api group', 'rules[0].resources: Required value: resource rules must supply at least one resource'],
    ],
    ['namespaced roles have no URLs', role([{ nonResourceURLs: ['/metrics'], verbs: ['get'] }]), ['rules[0].nonResourceURLs: Invalid value: ["/metrics"]: namespaced rules cannot apply to non-resource URLs']],
    [
      'not both kinds of rule',
      clusterRole([{ nonResourceURLs: ['/metrics'], resources: ['pods'], verbs: ['get'] }]),
      ['rules[0].nonResourceURLs: Invalid value: ["/metrics"]: rules cannot apply to both regular resources and non-resource URLs'],
    ],
    ['names are path segments', { ...role([]), metadata: { name: 'a/b', namespace: 'default' } }, ["metadata.name: Invalid value: \"a/b\": may not contain '/'"]],
    [
      'aggregation needs selectors',
      clusterRole([], { aggregationRule: {} }),
      ['aggregationRule.clusterRoleSelectors: Required value: at least one clusterRoleSelector required if aggregationRule is non-nil'],
    ],
  ];
  it.each(cases)('%s', (_rule, obj, want) => {
    const r = obj.kind === 'Role' ? parseRole(obj) : parseClusterRole(obj);
    expect(lines(r)).toEqual(want);
  });

  it('allows RBAC names that are not DNS names', () => {
    expect(lines(parseClusterRole({ ...clusterRole([]), metadata: { name: 'system:controller:Foo' } }))).toEqual([]);
  });
});

describe('RoleBinding and ClusterRoleBinding', () => {
  it('defaults roleRef.apiGroup and the user/group subject apiGroup, not the service account one', () => {
    const b = must(parseRoleBinding(binding()));
    expect(b.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pod-reader' });
    expect(b.subjects).toEqual([
      { kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'jane' },
      { kind: 'ServiceAccount', name: 'builder' },
    ]);
  });

  const cases: Array<[string, (b: any) => void, string[]]> = [
    ['roleRef kind', (b) => (b.roleRef.kind = 'Group'), ['roleRef.kind: Unsupported value: "Group": supported values: "Role", "ClusterRole"']],
    ['roleRef group', (b) => (b.roleRef.apiGroup = 'apps'), ['roleRef.apiGroup: Unsupported value: "apps": supported values: "rbac.authorization.k8s.io"']],
    ['roleRef name', (b) => (b.roleRef.name = ''), ['roleRef.name: Required value']],
    ['subject kind', (b) => (b.subjects = [{ kind: 'Robot', name: 'r2' }]), ['subjects[0].kind: Unsupported value: "Robot": supported values: "ServiceAccount", "User", "Group"']],
    [
      'service accounts are in the core group',
      (b) => (b.subjects = [{ kind: 'ServiceAccount', apiGroup: 'rbac.authorization.k8s.io', name: 'x' }]),
      ['subjects[0].apiGroup: Unsupported value: "rbac.authorization.k8s.io": supported values: ""'],
    ],
    ['subject name', (b) => (b.subjects = [{ kind: 'Group' }]), ['subjects[0].name: Required value']],
  ];
  it.each(cases)('%s', (_rule, edit, want) => {
    expect(lines(parseRoleBinding(binding(edit)))).toEqual(want);
  });

  it('ClusterRoleBindings bind ClusterRoles to namespaced service accounts', () => {
    const crb = binding((b) => {
      b.kind = 'ClusterRoleBinding';
      b.metadata = { name: 'read-pods' };
    });
    expect(lines(parseClusterRoleBinding(crb))).toEqual([
      'roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"',
      'subjects[1].namespace: Required value',
    ]);
  });

  it('roleRef cannot change', () => {
    const old = must(parseRoleBinding(binding()));
    expect(lines(parseKindUpdate(roleBindingKind, binding((b) => (b.subjects = [])), old))).toEqual([]);
    expect(lines(parseKindUpdate(roleBindingKind, binding((b) => (b.roleRef = { kind: 'ClusterRole', name: 'admin' })), old))).toEqual([
      'roleRef: Invalid value: {"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"admin"}: cannot change roleRef',
    ]);
    const crbOld = must(parseClusterRoleBinding(binding((b) => ((b.kind = 'ClusterRoleBinding'), (b.metadata = { name: 'x' }), (b.roleRef = { kind: 'ClusterRole', name: 'view' }), (b.subjects = [])))));
    const crbNew = binding((b) => ((b.kind = 'ClusterRoleBinding'), (b.metadata = { name: 'x' }), (b.roleRef = { kind: 'ClusterRole', name: 'edit' }), (b.subjects = [])));
    expect(lines(parseKindUpdate(clusterRoleBindingKind, crbNew, crbOld))).toEqual([
      'roleRef: Invalid value: {"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"edit"}: cannot change roleRef',
    ]);
  });
});
