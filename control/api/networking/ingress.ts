// networking.k8s.io/v1 Ingress: the schema (field names and optionality as k8s.io/api/networking/v1 types.go). Upstream
// registers no defaulting function for Ingress, so the only defaults are the Go zero values that JSON always carries:
// a backend's service name and a status with an empty loadBalancer.
import { z } from 'zod';
import { int, NamespacedMeta } from '../apps/common.js';

/** The pathTypes a HTTPIngressPath may have (required in v1, no default). */
export const PATH_TYPES = ['Exact', 'ImplementationSpecific', 'Prefix'] as const;

/** The annotation controllers read before spec.ingressClassName existed; deprecated but still honoured. */
export const ANNOTATION_INGRESS_CLASS = 'kubernetes.io/ingress.class';

export const ServiceBackendPort = z.object({
  name: z.string().optional(),
  number: int().optional(),
});
export type ServiceBackendPort = z.output<typeof ServiceBackendPort>;

export const IngressServiceBackend = z.object({
  name: z.string().default(''),
  port: ServiceBackendPort.optional(),
});
export type IngressServiceBackend = z.output<typeof IngressServiceBackend>;

/** core/v1 TypedLocalObjectReference, as an Ingress backend's resource. */
export const TypedLocalObjectReference = z.object({
  apiGroup: z.string().optional(),
  kind: z.string().default(''),
  name: z.string().default(''),
});
export type TypedLocalObjectReference = z.output<typeof TypedLocalObjectReference>;

export const IngressBackend = z.object({
  service: IngressServiceBackend.optional(),
  resource: TypedLocalObjectReference.optional(),
});
export type IngressBackend = z.output<typeof IngressBackend>;

export const HTTPIngressPath = z.object({
  path: z.string().optional(),
  pathType: z.string().optional(),
  backend: IngressBackend.prefault({}),
});
export type HTTPIngressPath = z.output<typeof HTTPIngressPath>;

export const HTTPIngressRuleValue = z.object({
  paths: z.array(HTTPIngressPath).optional(),
});
export type HTTPIngressRuleValue = z.output<typeof HTTPIngressRuleValue>;

/** An IngressRule: the embedded IngressRuleValue's `http` sits next to `host` in JSON. */
export const IngressRule = z.object({
  host: z.string().optional(),
  http: HTTPIngressRuleValue.optional(),
});
export type IngressRule = z.output<typeof IngressRule>;

export const IngressTLS = z.object({
  hosts: z.array(z.string()).optional(),
  secretName: z.string().optional(),
});
export type IngressTLS = z.output<typeof IngressTLS>;

export const IngressSpec = z.object({
  ingressClassName: z.string().optional(),
  defaultBackend: IngressBackend.optional(),
  tls: z.array(IngressTLS).optional(),
  rules: z.array(IngressRule).optional(),
});
export type IngressSpec = z.output<typeof IngressSpec>;

export const IngressPortStatus = z.object({
  port: int().default(0),
  protocol: z.string().default(''),
  error: z.string().optional(),
});

export const IngressLoadBalancerIngress = z.object({
  ip: z.string().optional(),
  hostname: z.string().optional(),
  ports: z.array(IngressPortStatus).optional(),
});

export const IngressLoadBalancerStatus = z.object({
  ingress: z.array(IngressLoadBalancerIngress).optional(),
});
export type IngressLoadBalancerStatus = z.output<typeof IngressLoadBalancerStatus>;

export const IngressStatus = z.object({
  // A struct upstream, so always serialised: status: {loadBalancer: {}}.
  loadBalancer: IngressLoadBalancerStatus.prefault({}),
});
export type IngressStatus = z.output<typeof IngressStatus>;

export const Ingress = z.object({
  apiVersion: z.literal('networking.k8s.io/v1'),
  kind: z.literal('Ingress'),
  metadata: NamespacedMeta.prefault({}),
  spec: IngressSpec.prefault({}),
  status: IngressStatus.prefault({}),
});
export type Ingress = z.output<typeof Ingress>;
