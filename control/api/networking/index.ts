// networking.k8s.io/v1: Ingress, IngressClass and NetworkPolicy.
export {
  ANNOTATION_INGRESS_CLASS,
  HTTPIngressPath,
  HTTPIngressRuleValue,
  Ingress,
  IngressBackend,
  IngressRule,
  IngressServiceBackend,
  IngressSpec,
  IngressStatus,
  IngressTLS,
  PATH_TYPES,
  ServiceBackendPort,
} from './ingress.js';
export {
  ingressCreateWarnings,
  validateIngress,
  validateIngressBackend,
  validateIngressLoadBalancerStatus,
  validateIngressSpec,
  validateIngressUpdate,
  type IngressValidationOptions,
} from './ingress-validation.js';
export {
  ANNOTATION_IS_DEFAULT_INGRESS_CLASS,
  IngressClass,
  IngressClassParametersReference,
  IngressClassSpec,
  isDefaultIngressClass,
  MAX_LEN_INGRESS_CLASS_CONTROLLER,
  validateIngressClass,
  validateIngressClassSpec,
  validateIngressClassUpdate,
} from './ingressclass.js';
export {
  IPBlock,
  NETWORK_POLICY_PROTOCOLS,
  NetworkPolicy,
  NetworkPolicyEgressRule,
  NetworkPolicyIngressRule,
  NetworkPolicyPeer,
  NetworkPolicyPort,
  NetworkPolicySpec,
  NETWORK_POLICY_TYPES,
} from './networkpolicy.js';
export {
  validateIPBlock,
  validateNetworkPolicy,
  validateNetworkPolicyPeer,
  validateNetworkPolicyPort,
  validateNetworkPolicySpec,
  validateNetworkPolicyUpdate,
} from './networkpolicy-validation.js';
export { ingressClassKind, ingressKind, networkPolicyKind, parseIngress, parseIngressClass, parseNetworkPolicy } from './kinds.js';
