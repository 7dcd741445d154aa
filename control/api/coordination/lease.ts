// coordination.k8s.io/v1 Lease with upstream's ValidateLease (pkg/apis/coordination/validation).
import { z } from 'zod';
import { child, forbidden, invalid, notSupported, type FieldError } from '../errors.js';
import { validateObjectMeta } from '../meta.js';
import { isQualifiedName } from '../names.js';
import { int, type KindDef, NamespacedMeta, parseKind, type ParseOptions, type ParseResult } from '../apps/common.js';

export const LEASE_STRATEGIES = ['OldestEmulationVersion'];

export const LeaseSpec = z.object({
  holderIdentity: z.string().optional(),
  leaseDurationSeconds: int().optional(),
  acquireTime: z.string().optional(),
  renewTime: z.string().optional(),
  leaseTransitions: int().optional(),
  strategy: z.string().optional(),
  preferredHolder: z.string().optional(),
});
export type LeaseSpec = z.output<typeof LeaseSpec>;

export const Lease = z.object({
  apiVersion: z.literal('coordination.k8s.io/v1'),
  kind: z.literal('Lease'),
  metadata: NamespacedMeta.prefault({}),
  spec: LeaseSpec.prefault({}),
});
export type Lease = z.output<typeof Lease>;

export function validateLeaseSpec(spec: LeaseSpec, path = 'spec'): FieldError[] {
  const errs: FieldError[] = [];
  if (spec.leaseDurationSeconds !== undefined && spec.leaseDurationSeconds <= 0)
    errs.push(invalid(child(path, 'leaseDurationSeconds'), spec.leaseDurationSeconds, 'must be greater than 0'));
  if (spec.leaseTransitions !== undefined && spec.leaseTransitions < 0)
    errs.push(invalid(child(path, 'leaseTransitions'), spec.leaseTransitions, 'must be greater than or equal to 0'));
  if (spec.strategy !== undefined && spec.strategy !== '') {
    const sp = child(path, 'strategy');
    if (!spec.strategy.includes('/')) {
      if (!LEASE_STRATEGIES.includes(spec.strategy)) errs.push(notSupported(sp, spec.strategy, LEASE_STRATEGIES));
    } else errs.push(...isQualifiedName(spec.strategy).map((m) => invalid(sp, spec.strategy, m)));
  }
  if (spec.preferredHolder && !spec.strategy) errs.push(forbidden(child(path, 'preferredHolder'), 'may only be specified if `strategy` is defined'));
  return errs;
}

export function validateLease(lease: Lease): FieldError[] {
  return [...validateObjectMeta(lease.metadata, { namespaced: true }), ...validateLeaseSpec(lease.spec)];
}

export const leaseKind: KindDef<typeof Lease> = {
  apiVersion: 'coordination.k8s.io/v1',
  kind: 'Lease',
  schema: Lease,
  namespaced: true,
  validate: validateLease,
  validateUpdate: (l) => validateLease(l),
};

export const parseLease = (input: unknown, opts?: ParseOptions): ParseResult<Lease> => parseKind(leaseKind, input, opts);
