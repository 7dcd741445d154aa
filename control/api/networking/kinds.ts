// The networking.k8s.io/v1 kinds as the API server serves them: schema, create and update validation, and decoding.
import { type KindDef, parseKind, type ParseOptions, type ParseResult } from '../apps/common.js';
import { Ingress } from './ingress.js';
import { validateIngress, validateIngressUpdate } from './ingress-validation.js';
import { IngressClass, validateIngressClass, validateIngressClassUpdate } from './ingressclass.js';
import { NetworkPolicy } from './networkpolicy.js';
import { validateNetworkPolicy, validateNetworkPolicyUpdate } from './networkpolicy-validation.js';

export const ingressKind: KindDef<typeof Ingress> = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress',
  schema: Ingress,
  namespaced: true,
  validate: validateIngress,
  validateUpdate: validateIngressUpdate,
};

export const ingressClassKind: KindDef<typeof IngressClass> = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'IngressClass',
  schema: IngressClass,
  namespaced: false,
  validate: validateIngressClass,
  validateUpdate: validateIngressClassUpdate,
};

export const networkPolicyKind: KindDef<typeof NetworkPolicy> = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  schema: NetworkPolicy,
  namespaced: true,
  validate: validateNetworkPolicy,
  validateUpdate: validateNetworkPolicyUpdate,
};

export const parseIngress = (input: unknown, opts?: ParseOptions): ParseResult<Ingress> => parseKind(ingressKind, input, opts);
export const parseIngressClass = (input: unknown, opts?: ParseOptions): ParseResult<IngressClass> => parseKind(ingressClassKind, input, opts);
export const parseNetworkPolicy = (input: unknown, opts?: ParseOptions): ParseResult<NetworkPolicy> => parseKind(networkPolicyKind, input, opts);
