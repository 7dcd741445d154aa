// core/v1 ResourceQuota: ValidateResourceQuota (resource names, quantities, scopes and scope selectors) and
// ValidateResourceQuotaUpdate (scopes immutable).
import { z } from 'zod';
import { invalid, required, type FieldError } from '../errors.js';
import { ObjectMeta, validateObjectMeta } from '../meta.js';
import { ResourceList } from '../pod.js';
import { FIELD_IMMUTABLE, validateQuotaResourceName, validateResourceQuantityValue } from './common.js';

export const ScopedResourceSelectorRequirement = z.object({
  scopeName: z.string().default(''),
  operator: z.string().default(''),
  values: z.array(z.string()).optional(),
});

export const ResourceQuotaSpec = z.object({
  hard: ResourceList.optional(),
  scopes: z.array(z.string()).optional(),
  scopeSelector: z.object({ matchExpressions: z.array(ScopedResourceSelectorRequirement).optional() }).optional(),
});
export type ResourceQuotaSpec = z.output<typeof ResourceQuotaSpec>;

export const ResourceQuotaStatus = z.object({ hard: ResourceList.optional(), used: ResourceList.optional() });
export type ResourceQuotaStatus = z.output<typeof ResourceQuotaStatus>;

export const ResourceQuota = z.object({
  apiVersion: z.literal('v1'),
  kind: z.literal('ResourceQuota'),
  metadata: ObjectMeta.prefault({}),
  spec: ResourceQuotaSpec.prefault({}),
  status: ResourceQuotaStatus.prefault({}),
});
export type ResourceQuota = z.output<typeof ResourceQuota>;

const STANDARD_SCOPES = ['Terminating', 'NotTerminating', 'BestEffort', 'NotBestEffort', 'PriorityClass', 'CrossNamespacePodAffinity', 'VolumeAttributesClass'];
const POD_COMPUTE = ['cpu', 'memory', 'limits.cpu', 'limits.memory', 'requests.cpu', 'requests.memory'];
const STANDARD_QUOTA = [
  'cpu', 'memory', 'ephemeral-storage', 'requests.cpu', 'requests.memory', 'requests.ephemeral-storage', 'limits.cpu', 'limits.memory',
  'limits.ephemeral-storage', 'pods', 'services', 'replicationcontrollers', 'resourcequotas', 'secrets', 'configmaps',
  'persistentvolumeclaims', 'requests.storage', 'services.nodeports', 'services.loadbalancers',
];
const CONFLICTS = [
  ['BestEffort', 'NotBestEffort'],
  ['Terminating', 'NotTerminating'],
];

function scopeValidFor(scope: string, resource: string): boolean {
  switch (scope) {
    case 'Terminating':
    case 'NotTerminating':
    case 'NotBestEffort':
    case 'PriorityClass':
    case 'CrossNamespacePodAffinity':
      return resource === 'pods' || POD_COMPUTE.includes(resource);
    case 'BestEffort':
      return resource === 'pods';
    case 'VolumeAttributesClass':
      return ['persistentvolumeclaims', 'requests.storage'].includes(resource);
    default:
      return true;
  }
}

const isStandardQuota = (r: string) => STANDARD_QUOTA.includes(r) || r.startsWith('hugepages-') || r.startsWith('requests.hugepages-');

function validateResourceList(list: Record<string, string> | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries(list ?? {})) {
    const p = `${path}[${k}]`;
    errs.push(...validateQuotaResourceName(k, p));
    errs.push(...validateResourceQuantityValue(k, v, p));
  }
  return errs;
}

export function validateResourceQuotaSpec(spec: ResourceQuotaSpec, path = 'spec'): FieldError[] {
  const errs = validateResourceList(spec.hard, `${path}.hard`);
  const hard = Object.keys(spec.hard ?? {}).sort();
  const scopes = spec.scopes ?? [];
  if (scopes.length > 0) {
    const sp = `${path}.scopes`;
    for (const scope of scopes) {
      if (!STANDARD_SCOPES.includes(scope)) errs.push(invalid(sp, scopes, 'unsupported scope'));
      for (const r of hard) if (isStandardQuota(r) && !scopeValidFor(scope, r)) errs.push(invalid(sp, scopes, 'unsupported scope applied to resource'));
    }
    for (const pair of CONFLICTS) if (pair.every((s) => scopes.includes(s))) errs.push(invalid(sp, scopes, 'conflicting scopes'));
  }
  if (spec.scopeSelector) {
    const mp = `${path}.scopeSelector.matchExpressions`;
    const seen: string[] = [];
    for (const req of spec.scopeSelector.matchExpressions ?? []) {
      if (!STANDARD_SCOPES.includes(req.scopeName)) errs.push(invalid(`${mp}.scopeName`, req.scopeName, 'unsupported scope'));
      for (const r of hard) if (isStandardQuota(r) && !scopeValidFor(req.scopeName, r)) errs.push(invalid(mp, spec.scopeSelector, 'unsupported scope applied to resource'));
      if (['BestEffort', 'NotBestEffort', 'Terminating', 'NotTerminating', 'CrossNamespacePodAffinity'].includes(req.scopeName) && req.operator !== 'Exists')
        errs.push(
          invalid(
            `${mp}.operator`,
            req.operator,
            'must be \'Exists\' when scope is any of ResourceQuotaScopeTerminating, ResourceQuotaScopeNotTerminating, ResourceQuotaScopeBestEffort, ResourceQuotaScopeNotBestEffort or ResourceQuotaScopeCrossNamespacePodAffinity',
          ),
        );
      const values = req.values ?? [];
      if (req.operator === 'In' || req.operator === 'NotIn') {
        if (values.length === 0) errs.push(required(`${mp}.values`, "must be at least one value when `operator` is 'In' or 'NotIn' for scope selector"));
      } else if (req.operator === 'Exists' || req.operator === 'DoesNotExist') {
        if (values.length !== 0) errs.push(invalid(`${mp}.values`, values, "must be no value when `operator` is 'Exist' or 'DoesNotExist' for scope selector"));
      } else errs.push(invalid(`${mp}.operator`, req.operator, 'not a valid selector operator'));
      seen.push(req.scopeName);
    }
    for (const pair of CONFLICTS) if (pair.every((s) => seen.includes(s))) errs.push(invalid(mp, spec.scopes ?? null, 'conflicting scopes'));
  }
  return errs;
}

export function validateResourceQuotaStatus(status: ResourceQuotaStatus | undefined, path = 'status'): FieldError[] {
  return [...validateResourceList(status?.hard, `${path}.hard`), ...validateResourceList(status?.used, `${path}.used`)];
}

export function validateResourceQuota(q: ResourceQuota): FieldError[] {
  return [...validateObjectMeta(q.metadata, { namespaced: true }), ...validateResourceQuotaSpec(q.spec), ...validateResourceQuotaStatus(q.status)];
}

export function validateResourceQuotaUpdate(q: ResourceQuota, old: ResourceQuota): FieldError[] {
  const errs = validateResourceQuota(q);
  const a = new Set(q.spec.scopes ?? []);
  const b = new Set(old.spec.scopes ?? []);
  if (a.size !== b.size || [...a].some((s) => !b.has(s))) errs.push(invalid('spec.scopes', q.spec.scopes ?? null, FIELD_IMMUTABLE));
  return errs;
}
