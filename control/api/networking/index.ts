// networking.k8s.io/v1: Ingress and IngressClass.
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
export { ingressClassKind, ingressKind, parseIngress, parseIngressClass } from './kinds.js';
