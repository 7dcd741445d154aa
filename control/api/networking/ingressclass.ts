// networking.k8s.io/v1 IngressClass (cluster-scoped): the schema with SetDefaults_IngressClass (a parameters
// reference without a scope is cluster-scoped) and upstream's ValidateIngressClass / ValidateIngressClassUpdate.
import { z } from 'zod';
import { child, forbidden, invalid, notSupported, required, tooLong, type FieldError } from '../errors.js';
import { nameIsDNSLabel, ObjectMeta, validateObjectMeta } from '../meta.js';
import { isDNS1123Subdomain } from '../names.js';
import { isValidPathSegmentName, validateImmutableField } from '../apps/common.js';
import { validateDomainPrefixedPath } from '../names.js';

/** The annotation that marks the class new Ingresses without one get ("true"). */
export const ANNOTATION_IS_DEFAULT_INGRESS_CLASS = 'ingressclass.kubernetes.io/is-default-class';
export const MAX_LEN_INGRESS_CLASS_CONTROLLER = 250;
export const PARAMETERS_SCOPES = ['Cluster', 'Namespace'] as const;

export const IngressClassParametersReference = z.object({
  apiGroup: z.string().optional(),
  kind: z.string().default(''),
  name: z.string().default(''),
  scope: z.string().default('Cluster'),
  namespace: z.string().optional(),
});
export type IngressClassParametersReference = z.output<typeof IngressClassParametersReference>;

export const IngressClassSpec = z.object({
  controller: z.string().optional(),
  parameters: IngressClassParametersReference.optional(),
});
export type IngressClassSpec = z.output<typeof IngressClassSpec>;

export const IngressClass = z.object({
  apiVersion: z.literal('networking.k8s.io/v1'),
  kind: z.literal('IngressClass'),
  metadata: ObjectMeta.prefault({}),
  spec: IngressClassSpec.prefault({}),
});
export type IngressClass = z.output<typeof IngressClass>;

/** Whether the class carries the default-class annotation set to "true". */
export const isDefaultIngressClass = (ic: { metadata?: { annotations?: Record<string, string> } }): boolean =>
  ic.metadata?.annotations?.[ANNOTATION_IS_DEFAULT_INGRESS_CLASS] === 'true';

function validateParametersReference(params: IngressClassParametersReference | undefined, path: string): FieldError[] {
  if (!params) return [];
  const errs: FieldError[] = [];
  if (params.apiGroup !== undefined) for (const m of isDNS1123Subdomain(params.apiGroup)) errs.push(invalid(child(path, 'apiGroup'), params.apiGroup, m));
  for (const f of ['kind', 'name'] as const) {
    if (params[f] === '') errs.push(required(child(path, f)));
    else for (const m of isValidPathSegmentName(params[f])) errs.push(invalid(child(path, f), params[f], m));
  }
  const scope = params.scope;
  if (!(PARAMETERS_SCOPES as readonly string[]).includes(scope)) {
    errs.push(notSupported(child(path, 'scope'), scope, PARAMETERS_SCOPES));
    return errs;
  }
  if (scope === 'Namespace') {
    if (params.namespace === undefined) errs.push(required(child(path, 'namespace'), "`parameters.scope` is set to 'Namespace'"));
    else for (const m of nameIsDNSLabel(params.namespace, false)) errs.push(invalid(child(path, 'namespace'), params.namespace, m));
  }
  if (scope === 'Cluster' && params.namespace !== undefined) errs.push(forbidden(child(path, 'namespace'), "`parameters.scope` is set to 'Cluster'"));
  return errs;
}

/** validateIngressClassSpec: a controller (a domain-prefixed path of at most 250 bytes) and a valid parameters reference. */
export function validateIngressClassSpec(spec: IngressClassSpec, path = 'spec'): FieldError[] {
  const errs: FieldError[] = [];
  const controller = spec.controller ?? '';
  const cp = child(path, 'controller');
  if (controller === '') errs.push(required(cp));
  else {
    if (Buffer.byteLength(controller) > MAX_LEN_INGRESS_CLASS_CONTROLLER) errs.push(tooLong(cp, MAX_LEN_INGRESS_CLASS_CONTROLLER));
    errs.push(...validateDomainPrefixedPath(controller, cp));
  }
  errs.push(...validateParametersReference(spec.parameters, child(path, 'parameters')));
  return errs;
}

export function validateIngressClass(ic: IngressClass): FieldError[] {
  return [...validateObjectMeta(ic.metadata, { namespaced: false }), ...validateIngressClassSpec(ic.spec)];
}

/** ValidateIngressClassUpdate: the controller may not change; the rest is validated as on create. */
export function validateIngressClassUpdate(ic: IngressClass, old: IngressClass): FieldError[] {
  return [...validateImmutableField(ic.spec.controller ?? '', old.spec.controller ?? '', 'spec.controller'), ...validateIngressClass(ic)];
}
