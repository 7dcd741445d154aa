// core/v1 ServiceAccount: metadata only, as ValidateServiceAccount.
import { z } from 'zod';
import type { FieldError } from '../errors.js';
import { ObjectMeta, validateObjectMeta } from '../meta.js';
import { ObjectReference } from './endpoints.js';

export const ServiceAccount = z.object({
  apiVersion: z.literal('v1'),
  kind: z.literal('ServiceAccount'),
  metadata: ObjectMeta.prefault({}),
  secrets: z.array(ObjectReference).optional(),
  imagePullSecrets: z.array(z.object({ name: z.string().optional() })).optional(),
  automountServiceAccountToken: z.boolean().optional(),
});
export type ServiceAccount = z.output<typeof ServiceAccount>;

export function validateServiceAccount(sa: ServiceAccount): FieldError[] {
  return validateObjectMeta(sa.metadata, { namespaced: true });
}
