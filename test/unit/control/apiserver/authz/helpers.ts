import type { UserInfo } from '../../../../../control/apiserver/authn.js';
import type { RbacKind, RbacLister } from '../../../../../control/apiserver/authz/rbac.js';
import type { KubeObject } from '../../../../../control/apiserver/storage/object-storage.js';

export const RBAC = 'rbac.authorization.k8s.io';

export function staticLister(objects: KubeObject[]): RbacLister & { objects: KubeObject[] } {
  return { objects, list: async (kind: RbacKind) => objects.filter((o) => o.kind === kind) };
}

export function role(namespace: string, name: string, rules: unknown[]): KubeObject {
  return { apiVersion: `${RBAC}/v1`, kind: 'Role', metadata: { name, namespace }, rules };
}

export function clusterRole(name: string, rules: unknown[], extra: { labels?: Record<string, string>; aggregationRule?: unknown } = {}): KubeObject {
  return { apiVersion: `${RBAC}/v1`, kind: 'ClusterRole', metadata: { name, ...(extra.labels ? { labels: extra.labels } : {}) }, rules, ...(extra.aggregationRule ? { aggregationRule: extra.aggregationRule } : {}) };
}

export function roleBinding(namespace: string, name: string, ref: { kind: 'Role' | 'ClusterRole'; name: string }, subjects: unknown[]): KubeObject {
  return { apiVersion: `${RBAC}/v1`, kind: 'RoleBinding', metadata: { name, namespace }, roleRef: { apiGroup: RBAC, ...ref }, subjects };
}

export function clusterRoleBinding(name: string, roleName: string, subjects: unknown[]): KubeObject {
  return { apiVersion: `${RBAC}/v1`, kind: 'ClusterRoleBinding', metadata: { name }, roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: roleName }, subjects };
}

export const userSubject = (name: string) => ({ kind: 'User', apiGroup: RBAC, name });
export const groupSubject = (name: string) => ({ kind: 'Group', apiGroup: RBAC, name });
export const saSubject = (name: string, namespace?: string) => ({ kind: 'ServiceAccount', name, ...(namespace ? { namespace } : {}) });

export const bob: UserInfo = { name: 'bob', groups: ['system:authenticated'] };
