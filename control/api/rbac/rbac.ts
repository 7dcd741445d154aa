// rbac.authorization.k8s.io/v1 Role, ClusterRole, RoleBinding, ClusterRoleBinding with upstream's SetDefaults_* and
// validation (pkg/apis/rbac/validation): names are path segments, rules need verbs and resources (or non-resource
// URLs on cluster roles), bindings reference a role in this group and their roleRef cannot change.
import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import { child, index, invalid, notSupported, required, type FieldError } from '../errors.js';
import { ObjectMeta, validateObjectMeta } from '../meta.js';
import { isDNS1123Subdomain } from '../names.js';
import {
  type KindDef,
  LabelSelector,
  NamespacedMeta,
  parseKind,
  type ParseOptions,
  type ParseResult,
  pathSegmentName,
  selectorMatches,
  validateLabelSelector,
} from '../apps/common.js';

export const RBAC_GROUP = 'rbac.authorization.k8s.io';
const API_VERSION = 'rbac.authorization.k8s.io/v1';

export const PolicyRule = z.object({
  verbs: z.array(z.string()).default([]),
  apiGroups: z.array(z.string()).optional(),
  resources: z.array(z.string()).optional(),
  resourceNames: z.array(z.string()).optional(),
  nonResourceURLs: z.array(z.string()).optional(),
});
export type PolicyRule = z.output<typeof PolicyRule>;

/** SetDefaults_Subject: users and groups belong to the RBAC API group, service accounts to the core group (""). */
export const Subject = z
  .object({ kind: z.string().default(''), apiGroup: z.string().optional(), name: z.string().default(''), namespace: z.string().optional() })
  .transform((s) => (!s.apiGroup && (s.kind === 'User' || s.kind === 'Group') ? { ...s, apiGroup: RBAC_GROUP } : s));
export type Subject = z.output<typeof Subject>;

export const RoleRef = z.object({
  apiGroup: z.string().optional().transform((v) => v || RBAC_GROUP),
  kind: z.string().default(''),
  name: z.string().default(''),
});
export type RoleRef = z.output<typeof RoleRef>;

export const Role = z.object({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal('Role'),
  metadata: NamespacedMeta.prefault({}),
  rules: z.array(PolicyRule).default([]),
});
export type Role = z.output<typeof Role>;

export const AggregationRule = z.object({ clusterRoleSelectors: z.array(LabelSelector).optional() });

export const ClusterRole = z.object({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal('ClusterRole'),
  metadata: ObjectMeta.prefault({}),
  rules: z.array(PolicyRule).default([]),
  aggregationRule: AggregationRule.optional(),
});
export type ClusterRole = z.output<typeof ClusterRole>;

export const RoleBinding = z.object({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal('RoleBinding'),
  metadata: NamespacedMeta.prefault({}),
  subjects: z.array(Subject).optional(),
  roleRef: RoleRef.prefault({}),
});
export type RoleBinding = z.output<typeof RoleBinding>;

export const ClusterRoleBinding = z.object({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal('ClusterRoleBinding'),
  metadata: ObjectMeta.prefault({}),
  subjects: z.array(Subject).optional(),
  roleRef: RoleRef.prefault({}),
});
export type ClusterRoleBinding = z.output<typeof ClusterRoleBinding>;

// ---------------- validation ----------------

/** ValidatePolicyRule; exported for other types that embed rules. */
export function validatePolicyRule(rule: PolicyRule, namespaced: boolean, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (rule.verbs.length === 0) errs.push(required(child(path, 'verbs'), 'verbs must contain at least one value'));
  const urls = rule.nonResourceURLs ?? [];
  if (urls.length > 0) {
    if (namespaced) errs.push(invalid(child(path, 'nonResourceURLs'), urls, 'namespaced rules cannot apply to non-resource URLs'));
    if ((rule.apiGroups ?? []).length > 0 || (rule.resources ?? []).length > 0 || (rule.resourceNames ?? []).length > 0)
      errs.push(invalid(child(path, 'nonResourceURLs'), urls, 'rules cannot apply to both regular resources and non-resource URLs'));
    return errs;
  }
  if ((rule.apiGroups ?? []).length === 0) errs.push(required(child(path, 'apiGroups'), 'resource rules must supply at least one api group'));
  if ((rule.resources ?? []).length === 0) errs.push(required(child(path, 'resources'), 'resource rules must supply at least one resource'));
  return errs;
}

const rbacMeta = (namespaced: boolean) => ({ namespaced, nameFn: pathSegmentName });

export function validateRole(role: Role): FieldError[] {
  const errs = validateObjectMeta(role.metadata, rbacMeta(true));
  role.rules.forEach((r, i) => errs.push(...validatePolicyRule(r, true, index('rules', i))));
  return errs;
}

export function validateClusterRole(role: ClusterRole): FieldError[] {
  const errs = validateObjectMeta(role.metadata, rbacMeta(false));
  role.rules.forEach((r, i) => errs.push(...validatePolicyRule(r, false, index('rules', i))));
  if (role.aggregationRule) {
    const p = 'aggregationRule.clusterRoleSelectors';
    const sels = role.aggregationRule.clusterRoleSelectors ?? [];
    if (sels.length === 0) errs.push(required(p, 'at least one clusterRoleSelector required if aggregationRule is non-nil'));
    sels.forEach((s, i) => {
      errs.push(...validateLabelSelector(s, index(p, i)));
      if (selectorMatches(s, {}) === undefined) errs.push(invalid(index(p, i), s, 'invalid label selector.'));
    });
  }
  return errs;
}

function validateSubject(s: Subject, namespaced: boolean, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (s.name === '') errs.push(required(child(path, 'name')));
  switch (s.kind) {
    case 'ServiceAccount':
      if (s.name !== '') errs.push(...isDNS1123Subdomain(s.name).map((m) => invalid(child(path, 'name'), s.name, m)));
      if (s.apiGroup) errs.push(notSupported(child(path, 'apiGroup'), s.apiGroup, ['']));
      if (!namespaced && !s.namespace) errs.push(required(child(path, 'namespace')));
      break;
    case 'User':
    case 'Group':
      if (s.apiGroup !== RBAC_GROUP) errs.push(notSupported(child(path, 'apiGroup'), s.apiGroup ?? '', [RBAC_GROUP]));
      break;
    default:
      errs.push(notSupported(child(path, 'kind'), s.kind, ['ServiceAccount', 'User', 'Group']));
  }
  return errs;
}

function validateBinding(meta: ObjectMeta, roleRef: RoleRef, subjects: Subject[] | undefined, namespaced: boolean): FieldError[] {
  const errs = validateObjectMeta(meta, rbacMeta(namespaced));
  if (roleRef.apiGroup !== RBAC_GROUP) errs.push(notSupported('roleRef.apiGroup', roleRef.apiGroup, [RBAC_GROUP]));
  const kinds = namespaced ? ['Role', 'ClusterRole'] : ['ClusterRole'];
  if (!kinds.includes(roleRef.kind)) errs.push(notSupported('roleRef.kind', roleRef.kind, kinds));
  if (roleRef.name === '') errs.push(required('roleRef.name'));
  else errs.push(...pathSegmentName(roleRef.name, false).map((m) => invalid('roleRef.name', roleRef.name, m)));
  (subjects ?? []).forEach((s, i) => errs.push(...validateSubject(s, namespaced, index('subjects', i))));
  return errs;
}

function roleRefUnchanged(ref: RoleRef, old: RoleRef): FieldError[] {
  return isDeepStrictEqual({ ...ref }, { ...old }) ? [] : [invalid('roleRef', ref, 'cannot change roleRef')];
}

export const validateRoleBinding = (rb: RoleBinding): FieldError[] => validateBinding(rb.metadata, rb.roleRef, rb.subjects, true);
export const validateRoleBindingUpdate = (rb: RoleBinding, old: RoleBinding): FieldError[] => [
  ...validateRoleBinding(rb),
  ...roleRefUnchanged(rb.roleRef, old.roleRef),
];
export const validateClusterRoleBinding = (rb: ClusterRoleBinding): FieldError[] => validateBinding(rb.metadata, rb.roleRef, rb.subjects, false);
export const validateClusterRoleBindingUpdate = (rb: ClusterRoleBinding, old: ClusterRoleBinding): FieldError[] => [
  ...validateClusterRoleBinding(rb),
  ...roleRefUnchanged(rb.roleRef, old.roleRef),
];

export const roleKind: KindDef<typeof Role> = {
  apiVersion: API_VERSION,
  kind: 'Role',
  schema: Role,
  namespaced: true,
  validate: validateRole,
  validateUpdate: (r) => validateRole(r),
};
export const clusterRoleKind: KindDef<typeof ClusterRole> = {
  apiVersion: API_VERSION,
  kind: 'ClusterRole',
  schema: ClusterRole,
  namespaced: false,
  validate: validateClusterRole,
  validateUpdate: (r) => validateClusterRole(r),
};
export const roleBindingKind: KindDef<typeof RoleBinding> = {
  apiVersion: API_VERSION,
  kind: 'RoleBinding',
  schema: RoleBinding,
  namespaced: true,
  validate: validateRoleBinding,
  validateUpdate: validateRoleBindingUpdate,
};
export const clusterRoleBindingKind: KindDef<typeof ClusterRoleBinding> = {
  apiVersion: API_VERSION,
  kind: 'ClusterRoleBinding',
  schema: ClusterRoleBinding,
  namespaced: false,
  validate: validateClusterRoleBinding,
  validateUpdate: validateClusterRoleBindingUpdate,
};

export const parseRole = (input: unknown, opts?: ParseOptions): ParseResult<Role> => parseKind(roleKind, input, opts);
export const parseClusterRole = (input: unknown, opts?: ParseOptions): ParseResult<ClusterRole> => parseKind(clusterRoleKind, input, opts);
export const parseRoleBinding = (input: unknown, opts?: ParseOptions): ParseResult<RoleBinding> => parseKind(roleBindingKind, input, opts);
export const parseClusterRoleBinding = (input: unknown, opts?: ParseOptions): ParseResult<ClusterRoleBinding> =>
  parseKind(clusterRoleBindingKind, input, opts);
