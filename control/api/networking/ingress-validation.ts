// Upstream's Ingress validation (pkg/apis/networking/validation, Kubernetes 1.32): ValidateIngressCreate,
// ValidateIngressUpdate (with its allowances for invalid values already stored) and ValidateIngressStatusUpdate.
import { child, index, invalid, notSupported, required, type FieldError } from '../errors.js';
import { nameIsDNSSubdomain, validateObjectMeta } from '../meta.js';
import { isDNS1123Subdomain, isValidPortName, isValidPortNum } from '../names.js';
import { isValidPathSegmentName } from '../apps/common.js';
import { validateIP } from '../core/common.js';
import { nameIsDNS1035Label } from '../core/service.js';
import { ANNOTATION_INGRESS_CLASS, PATH_TYPES, type HTTPIngressPath, type HTTPIngressRuleValue, type Ingress, type IngressBackend, type IngressLoadBalancerStatus, type IngressRule, type IngressSpec, type TypedLocalObjectReference } from './ingress.js';
import { hostNameErrors, isIP } from './names.js';

/** What an update may keep that a create may not: invalid values an older API server let through. */
export interface IngressValidationOptions {
  allowInvalidSecretName: boolean;
  allowInvalidWildcardHostRule: boolean;
}

const STRICT: IngressValidationOptions = { allowInvalidSecretName: false, allowInvalidWildcardHostRule: false };

const INVALID_PATH_SEQUENCES = ['//', '/./', '/../', '%2f', '%2F'];
const INVALID_PATH_SUFFIXES = ['/..', '/.'];

function validateTypedLocalObjectReference(ref: TypedLocalObjectReference, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (ref.apiGroup !== undefined) for (const m of isDNS1123Subdomain(ref.apiGroup)) errs.push(invalid(child(path, 'apiGroup'), ref.apiGroup, m));
  for (const f of ['kind', 'name'] as const) {
    if (ref[f] === '') errs.push(required(child(path, f)));
    else for (const m of isValidPathSegmentName(ref[f])) errs.push(invalid(child(path, f), ref[f], m));
  }
  return errs;
}

/** A backend is exactly one of a resource and a service; a service names a port by number or by name, not both. */
export function validateIngressBackend(backend: IngressBackend, path: string): FieldError[] {
  const { service, resource } = backend;
  if (service && resource) return [invalid(path, '', 'cannot set both resource and service backends')];
  if (resource) return validateTypedLocalObjectReference(resource, child(path, 'resource'));
  if (!service) return [invalid(path, '', 'resource or service backend is required')];
  const errs: FieldError[] = [];
  const namePath = child(path, 'service', 'name');
  if (service.name === '') errs.push(required(namePath));
  else for (const m of nameIsDNS1035Label(service.name, false)) errs.push(invalid(namePath, service.name, m));
  const portName = service.port?.name ?? '';
  const portNumber = service.port?.number ?? 0;
  if (portName !== '' && portNumber !== 0) errs.push(invalid(path, '', 'cannot set both port name & port number'));
  else if (portName !== '') for (const m of isValidPortName(portName)) errs.push(invalid(child(path, 'service', 'port', 'name'), portName, m));
  else if (portNumber !== 0) for (const m of isValidPortNum(portNumber)) errs.push(invalid(child(path, 'service', 'port', 'number'), portNumber, m));
  else errs.push(required(path, 'port name or number is required'));
  return errs;
}

function validateHTTPIngressPath(p: HTTPIngressPath, path: string): FieldError[] {
  if (p.pathType === undefined) return [required(child(path, 'pathType'), 'pathType must be specified')];
  const errs: FieldError[] = [];
  const value = p.path ?? '';
  const pathPath = child(path, 'path');
  switch (p.pathType) {
    case 'Exact':
    case 'Prefix':
      if (!value.startsWith('/')) errs.push(invalid(pathPath, value, 'must be an absolute path'));
      for (const seq of INVALID_PATH_SEQUENCES) if (value.includes(seq)) errs.push(invalid(pathPath, value, `must not contain '${seq}'`));
      for (const suffix of INVALID_PATH_SUFFIXES) if (value.endsWith(suffix)) errs.push(invalid(pathPath, value, `cannot end with '${suffix}'`));
      break;
    case 'ImplementationSpecific':
      if (value !== '' && !value.startsWith('/')) errs.push(invalid(pathPath, value, 'must be an absolute path'));
      break;
    default:
      errs.push(notSupported(child(path, 'pathType'), p.pathType, PATH_TYPES));
  }
  errs.push(...validateIngressBackend(p.backend, child(path, 'backend')));
  return errs;
}

function validateIngressRuleValue(http: HTTPIngressRuleValue | undefined, path: string): FieldError[] {
  if (!http) return [];
  const paths = http.paths ?? [];
  const errs: FieldError[] = [];
  if (paths.length === 0) errs.push(required(child(path, 'http', 'paths')));
  paths.forEach((p, i) => errs.push(...validateHTTPIngressPath(p, index(child(path, 'http', 'paths'), i))));
  return errs;
}

function validateIngressRules(rules: IngressRule[], path: string, opts: IngressValidationOptions): FieldError[] {
  const errs: FieldError[] = [];
  rules.forEach((rule, i) => {
    const p = index(path, i);
    const host = rule.host ?? '';
    let wildcard = false;
    if (host !== '') {
      if (isIP(host)) errs.push(invalid(child(p, 'host'), host, 'must be a DNS name, not an IP address'));
      wildcard = host.includes('*');
      for (const m of hostNameErrors(host)) errs.push(invalid(child(p, 'host'), host, m));
    }
    if (!wildcard || !opts.allowInvalidWildcardHostRule) errs.push(...validateIngressRuleValue(rule.http, p));
  });
  return errs;
}

const secretNameErrors = (name: string | undefined): string[] => (name ? nameIsDNSSubdomain(name, false) : []);

function validateIngressTLS(spec: IngressSpec, path: string, opts: IngressValidationOptions): FieldError[] {
  const errs: FieldError[] = [];
  (spec.tls ?? []).forEach((tls, i) => {
    const p = index(path, i);
    (tls.hosts ?? []).forEach((host, j) => {
      for (const m of hostNameErrors(host)) errs.push(invalid(index(child(p, 'hosts'), j), host, m));
    });
    if (!opts.allowInvalidSecretName) for (const m of secretNameErrors(tls.secretName)) errs.push(invalid(child(p, 'secretName'), tls.secretName, m));
  });
  return errs;
}

/** ValidateIngressSpec: a default backend or rules, valid rules, TLS hosts and secret names, a valid class name. */
export function validateIngressSpec(spec: IngressSpec, path = 'spec', opts: IngressValidationOptions = STRICT): FieldError[] {
  const errs: FieldError[] = [];
  const rules = spec.rules ?? [];
  if (rules.length === 0 && !spec.defaultBackend) {
    const shown = spec.rules === undefined ? '[]networking.IngressRule(nil)' : '[]networking.IngressRule{}';
    errs.push({ ...invalid(path, spec.rules ?? null, 'either `defaultBackend` or `rules` must be specified'), goValue: shown });
  }
  if (spec.defaultBackend) errs.push(...validateIngressBackend(spec.defaultBackend, child(path, 'defaultBackend')));
  if (rules.length > 0) errs.push(...validateIngressRules(rules, child(path, 'rules'), opts));
  if ((spec.tls ?? []).length > 0) errs.push(...validateIngressTLS(spec, child(path, 'tls'), opts));
  if (spec.ingressClassName !== undefined)
    for (const m of nameIsDNSSubdomain(spec.ingressClassName, false)) errs.push(invalid(child(path, 'ingressClassName'), spec.ingressClassName, m));
  return errs;
}

function validateIngressWith(ing: Ingress, opts: IngressValidationOptions): FieldError[] {
  return [...validateObjectMeta(ing.metadata, { namespaced: true }), ...validateIngressSpec(ing.spec, 'spec', opts)];
}

/** ValidateIngressCreate: the object, and the deprecated class annotation agreeing with ingressClassName. */
export function validateIngress(ing: Ingress): FieldError[] {
  const errs = validateIngressWith(ing, STRICT);
  const annotation = ing.metadata.annotations?.[ANNOTATION_INGRESS_CLASS];
  if (annotation !== undefined && ing.spec.ingressClassName !== undefined && annotation !== ing.spec.ingressClassName)
    errs.push(invalid(child('annotations', ANNOTATION_INGRESS_CLASS), annotation, 'must match `ingressClassName` when both are specified'));
  return errs;
}

function allowInvalidWildcardHostRule(old: Ingress): boolean {
  return (old.spec.rules ?? []).some((r) => (r.host ?? '').includes('*') && validateIngressRuleValue(r.http, '').length > 0);
}

/** ValidateIngressLoadBalancerStatus: IPs (an address the old status had stays allowed) and DNS host names. */
export function validateIngressLoadBalancerStatus(status: IngressLoadBalancerStatus, old: IngressLoadBalancerStatus | undefined, path: string): FieldError[] {
  const existing = new Set((old?.ingress ?? []).map((i) => i.ip ?? '').filter((ip) => ip !== ''));
  const errs: FieldError[] = [];
  (status.ingress ?? []).forEach((ing, i) => {
    const p = index(child(path, 'ingress'), i);
    if (ing.ip && !existing.has(ing.ip)) errs.push(...validateIP(ing.ip, child(p, 'ip')));
    if (ing.hostname) {
      for (const m of isDNS1123Subdomain(ing.hostname)) errs.push(invalid(child(p, 'hostname'), ing.hostname, m));
      if (isIP(ing.hostname)) errs.push(invalid(child(p, 'hostname'), ing.hostname, 'must be a DNS name, not an IP address'));
    }
  });
  return errs;
}

/**
 * ValidateIngressUpdate and ValidateIngressStatusUpdate in one: the REST layer keeps the stored status on a main
 * update and the stored spec on a status update, so checking both covers each.
 */
export function validateIngressUpdate(ing: Ingress, old: Ingress): FieldError[] {
  const opts: IngressValidationOptions = {
    allowInvalidSecretName: (old.spec.tls ?? []).some((t) => secretNameErrors(t.secretName).length > 0),
    allowInvalidWildcardHostRule: allowInvalidWildcardHostRule(old),
  };
  const errs = validateIngressWith(ing, opts);
  errs.push(...validateIngressLoadBalancerStatus(ing.status.loadBalancer, old.status.loadBalancer, child('status', 'loadBalancer')));
  return errs;
}

/** The warnings upstream's strategy returns on create. */
export function ingressCreateWarnings(ing: Ingress): string[] {
  return ing.metadata.annotations?.[ANNOTATION_INGRESS_CLASS] !== undefined
    ? [`annotation "${ANNOTATION_INGRESS_CLASS}" is deprecated, please use 'spec.ingressClassName' instead`]
    : [];
}
