// storage.k8s.io/v1 StorageClass (cluster-scoped): the schema as k8s.io/api/storage/v1 types.go spells it (the class's
// fields sit at the top level, there is no spec) with SetDefaults_StorageClass: an unset reclaimPolicy is Delete and an
// unset volumeBindingMode is Immediate. Skiff stores and serves classes; it provisions nothing.
import { z } from 'zod';
import { ObjectMeta } from '../meta.js';
import { StringMap } from '../apps/common.js';

/** The annotation that marks the class new claims without one get ("true"). */
export const ANNOTATION_IS_DEFAULT_STORAGE_CLASS = 'storageclass.kubernetes.io/is-default-class';
/** The beta spelling of the same annotation, still honoured upstream. */
export const ANNOTATION_BETA_IS_DEFAULT_STORAGE_CLASS = 'storageclass.beta.kubernetes.io/is-default-class';

export const RECLAIM_POLICIES = ['Delete', 'Retain'] as const;
export const VOLUME_BINDING_MODES = ['Immediate', 'WaitForFirstConsumer'] as const;

/** core/v1 TopologySelectorLabelRequirement: a label key and the values it may have. */
export const TopologySelectorLabelRequirement = z.object({
  key: z.string().default(''),
  values: z.array(z.string()).optional(),
});
export type TopologySelectorLabelRequirement = z.output<typeof TopologySelectorLabelRequirement>;

/** core/v1 TopologySelectorTerm: requirements that must all hold. */
export const TopologySelectorTerm = z.object({
  matchLabelExpressions: z.array(TopologySelectorLabelRequirement).optional(),
});
export type TopologySelectorTerm = z.output<typeof TopologySelectorTerm>;

export const StorageClass = z.object({
  apiVersion: z.literal('storage.k8s.io/v1'),
  kind: z.literal('StorageClass'),
  metadata: ObjectMeta.prefault({}),
  provisioner: z.string().default(''),
  parameters: StringMap.optional(),
  // A pointer upstream: only an absent value is defaulted, "" stays (and is accepted).
  reclaimPolicy: z.string().default('Delete'),
  mountOptions: z.array(z.string()).optional(),
  allowVolumeExpansion: z.boolean().optional(),
  volumeBindingMode: z.string().default('Immediate'),
  allowedTopologies: z.array(TopologySelectorTerm).optional(),
});
export type StorageClass = z.output<typeof StorageClass>;

/** storageutil.IsDefaultAnnotation: the GA or the beta default-class annotation set to "true". */
export const isDefaultStorageClass = (sc: { metadata?: { annotations?: Record<string, string> } }): boolean => {
  const a = sc.metadata?.annotations;
  return a?.[ANNOTATION_IS_DEFAULT_STORAGE_CLASS] === 'true' || a?.[ANNOTATION_BETA_IS_DEFAULT_STORAGE_CLASS] === 'true';
};
