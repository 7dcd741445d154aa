// core/v1 Service: schema with SetDefaults_Service, the registry's clusterIP/ipFamily bookkeeping
// (normalizeClusterIPs, patchAllocatedValues, initIPFamilyFields, dropTypeDependentFields) and
// ValidateService / ValidateServiceUpdate. ClusterIPs and NodePorts are not allocated here.
import { z } from 'zod';
import { child, duplicate, forbidden, index, invalid, notSupported, required, type FieldError } from '../errors.js';
import { ListMeta, ObjectMeta, validateLabels, validateObjectMeta } from '../meta.js';
import { isQualifiedName, isValidPortName, isValidPortNum, maxLenError, regexError } from '../names.js';
import { IntOrString } from '../pod.js';
import { dns1123Label, dns1123Subdomain } from '../validation-util.js';
import { ipFamilyOf, jsonEqual, validateCIDR, validateIP, validateNonSpecialIP } from './common.js';

const int = () => z.number().int();
const loose = () => z.looseObject({});

export const DEFAULT_CLIENT_IP_AFFINITY_SECONDS = 10800;
export const MAX_CLIENT_IP_AFFINITY_SECONDS = 86400;

export const ServicePort = z.object({
  name: z.string().optional(),
  protocol: z.string().optional().transform((v) => v || 'TCP'),
  appProtocol: z.string().optional(),
  port: int().default(0),
  targetPort: IntOrString.optional(),
  nodePort: int().optional(),
});
export type ServicePort = z.output<typeof ServicePort>;

export const SessionAffinityConfig = z.object({
  clientIP: z.object({ timeoutSeconds: int().optional() }).optional(),
});

export const ServiceSpec = z.object({
  ports: z.array(ServicePort).optional(),
  selector: z.record(z.string(), z.string()).optional(),
  clusterIP: z.string().optional(),
  clusterIPs: z.array(z.string()).optional(),
  type: z.string().optional().transform((v) => v || 'ClusterIP'),
  externalIPs: z.array(z.string()).optional(),
  sessionAffinity: z.string().optional().transform((v) => v || 'None'),
  loadBalancerIP: z.string().optional(),
  loadBalancerSourceRanges: z.array(z.string()).optional(),
  externalName: z.string().optional(),
  externalTrafficPolicy: z.string().optional(),
  healthCheckNodePort: int().optional(),
  publishNotReadyAddresses: z.boolean().optional(),
  sessionAffinityConfig: SessionAffinityConfig.optional(),
  ipFamilies: z.array(z.string()).optional(),
  ipFamilyPolicy: z.string().optional(),
  allocateLoadBalancerNodePorts: z.boolean().optional(),
  loadBalancerClass: z.string().optional(),
  internalTrafficPolicy: z.string().optional(),
  trafficDistribution: z.string().optional(),
});
export type ServiceSpec = z.output<typeof ServiceSpec>;

export const LoadBalancerIngress = z.object({
  ip: z.string().optional(),
  hostname: z.string().optional(),
  ipMode: z.string().optional(),
  ports: z.array(z.object({ port: int().default(0), protocol: z.string().default('TCP'), error: z.string().optional() })).optional(),
});
export const ServiceStatus = z.object({
  loadBalancer: z.object({ ingress: z.array(LoadBalancerIngress).optional() }).prefault({}),
  conditions: z.array(loose()).optional(),
});
export type ServiceStatus = z.output<typeof ServiceStatus>;

const ServiceObject = z.object({
  apiVersion: z.literal('v1'),
  kind: z.literal('Service'),
  metadata: ObjectMeta.prefault({}),
  spec: ServiceSpec.prefault({}),
  // A struct upstream, so always serialised: status: {loadBalancer: {}}.
  status: ServiceStatus.prefault({}),
});

/** ExternallyAccessible: NodePort and LoadBalancer services, and ClusterIP services with external IPs. */
export function externallyAccessible(spec: ServiceSpec): boolean {
  return spec.type === 'LoadBalancer' || spec.type === 'NodePort' || (spec.type === 'ClusterIP' && (spec.externalIPs ?? []).length > 0);
}

/** SetDefaults_Service. */
export function applyServiceDefaults<T extends z.output<typeof ServiceObject>>(svc: T): T {
  const spec: ServiceSpec = { ...svc.spec };
  if (spec.sessionAffinity === 'None') spec.sessionAffinityConfig = undefined;
  if (spec.sessionAffinity === 'ClientIP' && spec.sessionAffinityConfig?.clientIP?.timeoutSeconds === undefined)
    spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: DEFAULT_CLIENT_IP_AFFINITY_SECONDS } };
  if (spec.ports)
    spec.ports = spec.ports.map((p) => (p.targetPort === undefined || p.targetPort === 0 || p.targetPort === '' ? { ...p, targetPort: p.port } : p));
  if (externallyAccessible(spec) && !spec.externalTrafficPolicy) spec.externalTrafficPolicy = 'Cluster';
  if (spec.internalTrafficPolicy === undefined && ['NodePort', 'LoadBalancer', 'ClusterIP'].includes(spec.type)) spec.internalTrafficPolicy = 'Cluster';
  if (spec.type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts === undefined) spec.allocateLoadBalancerNodePorts = true;
  let status = svc.status;
  if (spec.type === 'LoadBalancer' && status.loadBalancer.ingress)
    status = {
      ...status,
      loadBalancer: { ...status.loadBalancer, ingress: status.loadBalancer.ingress.map((i) => (i.ip && !i.ipMode ? { ...i, ipMode: 'VIP' } : i)) },
    };
  return { ...svc, spec, status };
}

export const Service = ServiceObject.transform((s) => applyServiceDefaults(s));
export type Service = z.output<typeof Service>;

export const ServiceList = z.object({
  apiVersion: z.literal('v1'),
  kind: z.literal('ServiceList'),
  metadata: ListMeta.prefault({}),
  items: z.array(Service).default([]),
});

// ---------------- registry bookkeeping ----------------

export const needsClusterIP = (s: ServiceSpec): boolean => ['ClusterIP', 'NodePort', 'LoadBalancer'].includes(s.type);
const needsNodePort = (s: ServiceSpec): boolean => s.type === 'NodePort' || s.type === 'LoadBalancer';
const needsHCNodePort = (s: ServiceSpec): boolean => s.type === 'LoadBalancer' && s.externalTrafficPolicy === 'Local';
export const isHeadlessService = (s: ServiceSpec): boolean => (s.clusterIPs ?? []).length === 1 && s.clusterIPs?.[0] === 'None';

export interface ServiceIPOptions {
  /** The cluster's primary service IP family; Skiff's service network is IPv4 unless configured otherwise. */
  defaultFamily?: 'IPv4' | 'IPv6';
}

/** normalizeClusterIPs: keeps spec.clusterIP and spec.clusterIPs in step for clients that only set one. */
export function normalizeClusterIPs(spec: ServiceSpec, old?: ServiceSpec): void {
  const ips = spec.clusterIPs ?? [];
  if (!old) {
    if (spec.clusterIP && ips.length === 0) spec.clusterIPs = [spec.clusterIP];
    return;
  }
  const oldIPs = old.clusterIPs ?? [];
  if (oldIPs.length > 0 && ips.length === 0 && (old.clusterIP ?? '') === (spec.clusterIP ?? '')) spec.clusterIPs = oldIPs;
  if ((old.clusterIP ?? '') !== (spec.clusterIP ?? '')) {
    const same = jsonEqual(old.clusterIPs ?? [], spec.clusterIPs ?? []);
    if (old.clusterIP && !spec.clusterIP) {
      if (same) spec.clusterIPs = undefined;
    } else if (same) {
      spec.clusterIPs = spec.clusterIP ? [spec.clusterIP] : undefined;
    }
  }
}

/** patchAllocatedValues: an update that omits allocated values (kubectl apply, replace) keeps the stored ones. */
export function patchAllocatedValues(spec: ServiceSpec, old: ServiceSpec): void {
  if (needsClusterIP(old) && needsClusterIP(spec)) {
    if (!spec.clusterIP && old.clusterIP) spec.clusterIP = old.clusterIP;
    if ((spec.clusterIPs ?? []).length === 0 && (old.clusterIPs ?? []).length > 0) spec.clusterIPs = old.clusterIPs;
  }
  if (needsNodePort(old) && needsNodePort(spec)) {
    const used = (s: ServiceSpec) => new Set((s.ports ?? []).map((p) => p.nodePort ?? 0).filter((n) => n !== 0));
    const oldUsed = used(old);
    const newUsed = used(spec);
    const taken = new Set([...oldUsed].filter((n) => newUsed.has(n)));
    const byName = new Map((old.ports ?? []).map((p) => [p.name ?? '', p.nodePort ?? 0]));
    spec.ports = (spec.ports ?? []).map((p) => {
      if (p.nodePort) return p;
      const was = byName.get(p.name ?? '') ?? 0;
      return was !== 0 && !taken.has(was) ? { ...p, nodePort: was } : p;
    });
  }
  if (needsHCNodePort(old) && needsHCNodePort(spec) && !spec.healthCheckNodePort && old.healthCheckNodePort)
    spec.healthCheckNodePort = old.healthCheckNodePort;
}

/** dropTypeDependentFields: switching type wipes what only applied to the old type, unless the client changed it. */
export function dropTypeDependentFields(spec: ServiceSpec, old: ServiceSpec, status: ServiceStatus): ServiceStatus {
  if (needsClusterIP(old) && !needsClusterIP(spec)) {
    if ((old.clusterIP ?? '') === (spec.clusterIP ?? '') && jsonEqual(old.clusterIPs ?? [], spec.clusterIPs ?? [])) {
      spec.clusterIP = undefined;
      spec.clusterIPs = undefined;
    }
    if (jsonEqual(old.ipFamilies ?? [], spec.ipFamilies ?? [])) spec.ipFamilies = undefined;
    if (old.ipFamilyPolicy === spec.ipFamilyPolicy) spec.ipFamilyPolicy = undefined;
  }
  if (needsNodePort(old) && !needsNodePort(spec)) {
    const ports = (s: ServiceSpec) => (s.ports ?? []).map((p) => p.nodePort ?? 0);
    if (jsonEqual(ports(old), ports(spec))) spec.ports = spec.ports?.map(({ nodePort: _n, ...p }) => p);
  }
  if (needsHCNodePort(old) && !needsHCNodePort(spec) && old.healthCheckNodePort === spec.healthCheckNodePort) spec.healthCheckNodePort = undefined;
  if (spec.type !== 'LoadBalancer') spec.allocateLoadBalancerNodePorts = undefined;
  if (externallyAccessible(old) && !externallyAccessible(spec) && old.externalTrafficPolicy === spec.externalTrafficPolicy)
    spec.externalTrafficPolicy = undefined;
  if (spec.type !== 'LoadBalancer') return { ...status, loadBalancer: {} };
  return status;
}

/**
 * initIPFamilyFields: ipFamilyPolicy defaults to SingleStack and ipFamilies to the family of the given cluster IPs
 * (else the cluster's default family). A headless service without a selector is the exception: it defaults to
 * RequireDualStack with both families, as upstream does even on single-stack clusters.
 */
export function initIPFamilyFields(spec: ServiceSpec, old: ServiceSpec | undefined, opts: ServiceIPOptions = {}): void {
  if (!needsClusterIP(spec)) return;
  const primary = opts.defaultFamily ?? 'IPv4';
  if (old && needsClusterIP(old)) {
    // A client that leaves these out (an older manifest re-applied) keeps what was set before.
    if (spec.ipFamilyPolicy === undefined && (spec.ipFamilies ?? []).length === 0) {
      spec.ipFamilyPolicy = old.ipFamilyPolicy;
      spec.ipFamilies = old.ipFamilies;
    }
  }
  const families = [...(spec.ipFamilies ?? [])];
  const ips = spec.clusterIPs ?? [];
  for (let i = 0; i < ips.length; i++) {
    const ip = ips[i] as string;
    if (ip === 'None') break;
    const fam = ipFamilyOf(ip);
    if (fam === 0) break;
    const f = fam === 4 ? 'IPv4' : 'IPv6';
    // Upstream validates before inferring, so IPs of one family never yield a duplicate family.
    if (i >= families.length) {
      if (families.includes(f)) break;
      families.push(f);
    }
  }
  const other = (f: string) => (f === 'IPv4' ? 'IPv6' : 'IPv4');
  if (spec.type === 'ClusterIP' && ips[0] === 'None' && Object.keys(spec.selector ?? {}).length === 0) {
    if (families.length === 0) families.push(primary);
    if (spec.ipFamilyPolicy === undefined) spec.ipFamilyPolicy = 'RequireDualStack';
    if (spec.ipFamilyPolicy !== 'SingleStack' && families.length === 1) families.push(other(families[0] as string));
    spec.ipFamilies = families;
    return;
  }
  if (spec.ipFamilyPolicy === undefined) spec.ipFamilyPolicy = 'SingleStack';
  if (families.length === 0) families.push(primary);
  spec.ipFamilies = families;
}

/** Everything the Service REST storage does to a Service before validating a create. */
export function prepareServiceForCreate(svc: Service, opts: ServiceIPOptions = {}): Service {
  const spec = { ...svc.spec };
  normalizeClusterIPs(spec);
  initIPFamilyFields(spec, undefined, opts);
  // A new service's status is the server's to fill (load balancer ingress comes later).
  return { ...svc, spec, status: { loadBalancer: {} } };
}

/** The update half: keep allocated values, sync clusterIP(s), default families, wipe type-dependent fields. */
export function prepareServiceForUpdate(svc: Service, old: Service, opts: ServiceIPOptions = {}): Service {
  const spec = { ...svc.spec };
  patchAllocatedValues(spec, old.spec);
  normalizeClusterIPs(spec, old.spec);
  initIPFamilyFields(spec, old.spec, opts);
  const status = dropTypeDependentFields(spec, old.spec, svc.status);
  return { ...svc, spec, status };
}

// ---------------- validation ----------------

const SESSION_AFFINITY = ['ClientIP', 'None'];
const SERVICE_TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];
const INTERNAL_TRAFFIC = ['Cluster', 'Local'];
const EXTERNAL_TRAFFIC = ['Cluster', 'Local'];
const IP_FAMILIES = ['IPv4', 'IPv6'];
const IP_FAMILY_POLICIES = ['PreferDualStack', 'RequireDualStack', 'SingleStack'];

function validatePortNumOrName(port: IntOrString, path: string): FieldError[] {
  if (typeof port === 'number') return isValidPortNum(port).map((m) => invalid(path, port, m));
  return isValidPortName(port).map((m) => invalid(path, port, m));
}

function validateServicePort(sp: ServicePort, requireName: boolean, names: Set<string>, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (requireName && !sp.name) errs.push(required(child(path, 'name')));
  else if (sp.name) {
    errs.push(...dns1123Label(sp.name, child(path, 'name')));
    if (names.has(sp.name)) errs.push(duplicate(child(path, 'name'), sp.name));
    else names.add(sp.name);
  }
  errs.push(...isValidPortNum(sp.port).map((m) => invalid(child(path, 'port'), sp.port, m)));
  if (!sp.protocol) errs.push(required(child(path, 'protocol')));
  else if (!PROTOCOLS.includes(sp.protocol)) errs.push(notSupported(child(path, 'protocol'), sp.protocol, PROTOCOLS));
  errs.push(...validatePortNumOrName(sp.targetPort ?? 0, child(path, 'targetPort')));
  if (sp.appProtocol !== undefined) errs.push(...isQualifiedName(sp.appProtocol).map((m) => invalid(child(path, 'appProtocol'), sp.appProtocol, m)));
  return errs;
}

function validateClientIPAffinityConfig(spec: ServiceSpec, path: string): FieldError[] {
  const cfg = spec.sessionAffinityConfig;
  const when = 'when session affinity type is ClientIP';
  if (!cfg) return [required(path, when)];
  if (!cfg.clientIP) return [required(child(path, 'clientIP'), when)];
  const t = cfg.clientIP.timeoutSeconds;
  if (t === undefined) return [required(child(path, 'clientIP', 'timeoutSeconds'), when)];
  if (t <= 0 || t > MAX_CLIENT_IP_AFFINITY_SECONDS)
    return [invalid(child(path, 'clientIP', 'timeoutSeconds'), t, `must be greater than 0 and less than ${MAX_CLIENT_IP_AFFINITY_SECONDS}`)];
  return [];
}

/** ValidateServiceClusterIPsRelatedFields. */
function validateClusterIPsRelatedFields(spec: ServiceSpec): FieldError[] {
  if (spec.type === 'ExternalName') return [];
  const errs: FieldError[] = [];
  const ips = spec.clusterIPs ?? [];
  const families = spec.ipFamilies ?? [];
  if (spec.clusterIP) {
    if (ips.length === 0) errs.push(required('spec.clusterIPs'));
    else if (ips[0] !== spec.clusterIP) errs.push(invalid('spec.clusterIPs', ips, 'first value must match `clusterIP`'));
  } else if (ips.length !== 0) {
    errs.push(invalid('spec.clusterIPs', ips, 'must be empty when `clusterIP` is not specified'));
  }
  const seen = new Set<string>();
  families.forEach((f, i) => {
    if (!IP_FAMILIES.includes(f)) errs.push(notSupported(index('spec.ipFamilies', i), f, IP_FAMILIES));
    if (seen.has(f)) errs.push(duplicate(index('spec.ipFamilies', i), f));
    seen.add(f);
  });
  if (spec.ipFamilyPolicy !== undefined && !IP_FAMILY_POLICIES.includes(spec.ipFamilyPolicy))
    errs.push(notSupported('spec.ipFamilyPolicy', spec.ipFamilyPolicy, IP_FAMILY_POLICIES));
  let hasInvalid = false;
  ips.forEach((ip, i) => {
    if (i === 0 && ip === 'None') {
      if (ips.length > 1) {
        hasInvalid = true;
        errs.push(invalid('spec.clusterIPs', ips, "'None' must be the first and only value"));
      }
      return;
    }
    const bad = validateIP(ip, index('spec.clusterIPs', i));
    if (bad.length > 0) hasInvalid = true;
    errs.push(...bad);
  });
  if (ips.length > 2) errs.push(invalid('spec.clusterIPs', ips, 'may only hold up to 2 values'));
  if (hasInvalid) return errs;
  if (ips.length > 1) {
    const fams = ips.map(ipFamilyOf);
    if (ips.length !== 2 || fams[0] === fams[1]) errs.push(invalid('spec.clusterIPs', ips, 'may specify no more than one IP for each IP family'));
  }
  if (!isHeadlessService(spec)) {
    ips.forEach((ip, i) => {
      if (i >= families.length) return;
      if (families[i] === 'IPv4' && ipFamilyOf(ip) === 6)
        errs.push(invalid(index('spec.clusterIPs', i), ip, `expected an IPv4 value as indicated by \`ipFamilies[${i}]\``));
      if (families[i] === 'IPv6' && ipFamilyOf(ip) !== 6)
        errs.push(invalid(index('spec.clusterIPs', i), ip, `expected an IPv6 value as indicated by \`ipFamilies[${i}]\``));
    });
  }
  return errs;
}

const TOPOLOGY_HINTS = 'service.kubernetes.io/topology-aware-hints';
const TOPOLOGY_MODE = 'service.kubernetes.io/topology-mode';
const LB_SOURCE_RANGES = 'service.beta.kubernetes.io/load-balancer-source-ranges';

/** ValidateService (create). */
export function validateService(svc: Service): FieldError[] {
  const errs = validateObjectMeta(svc.metadata, { namespaced: true, nameFn: nameIsDNS1035Label });
  const ann = svc.metadata.annotations ?? {};
  if (ann[TOPOLOGY_MODE] !== undefined && ann[TOPOLOGY_HINTS] !== undefined && ann[TOPOLOGY_MODE] !== ann[TOPOLOGY_HINTS])
    errs.push(invalid(`metadata.annotations[${TOPOLOGY_MODE}]`, ann[TOPOLOGY_MODE], `must match annotations[${TOPOLOGY_HINTS}] when both are specified`));
  const spec = svc.spec;
  const ports = spec.ports ?? [];
  const headless = isHeadlessService(spec);
  if (ports.length === 0 && !headless && spec.type !== 'ExternalName') errs.push(required('spec.ports'));
  if (spec.type === 'LoadBalancer' && headless) errs.push(invalid('spec.clusterIPs[0]', 'None', "may not be set to 'None' for LoadBalancer services"));
  if (spec.type === 'NodePort' && headless) errs.push(invalid('spec.clusterIPs[0]', 'None', "may not be set to 'None' for NodePort services"));
  if (spec.type === 'ExternalName') {
    if ((spec.clusterIPs ?? []).length > 0) errs.push(forbidden('spec.clusterIPs', 'may not be set for ExternalName services'));
    if ((spec.ipFamilies ?? []).length > 0) errs.push(forbidden('spec.ipFamilies', 'may not be set for ExternalName services'));
    if (spec.ipFamilyPolicy !== undefined) errs.push(forbidden('spec.ipFamilyPolicy', 'may not be set for ExternalName services'));
    const cname = (spec.externalName ?? '').replace(/\.$/, '');
    if (cname.length > 0) errs.push(...dns1123Subdomain(cname, 'spec.externalName'));
    else errs.push(required('spec.externalName'));
  }
  const names = new Set<string>();
  ports.forEach((p, i) => errs.push(...validateServicePort(p, ports.length > 1, names, index('spec.ports', i))));
  if (spec.selector !== undefined) errs.push(...validateLabels(spec.selector, 'spec.selector'));

  if (!spec.sessionAffinity) errs.push(required('spec.sessionAffinity'));
  else if (!SESSION_AFFINITY.includes(spec.sessionAffinity)) errs.push(notSupported('spec.sessionAffinity', spec.sessionAffinity, SESSION_AFFINITY));
  if (spec.sessionAffinity === 'ClientIP') errs.push(...validateClientIPAffinityConfig(spec, 'spec.sessionAffinityConfig'));
  else if (spec.sessionAffinity === 'None' && spec.sessionAffinityConfig !== undefined)
    errs.push(forbidden('spec.sessionAffinityConfig', 'must not be set when session affinity is None'));

  errs.push(...validateClusterIPsRelatedFields(spec));
  (spec.externalIPs ?? []).forEach((ip, i) => {
    const p = index('spec.externalIPs', i);
    const bad = validateIP(ip, p);
    errs.push(...(bad.length > 0 ? bad : validateNonSpecialIP(ip, p)));
  });
  if (!spec.type) errs.push(required('spec.type'));
  else if (!SERVICE_TYPES.includes(spec.type)) errs.push(notSupported('spec.type', spec.type, SERVICE_TYPES));
  if (spec.type === 'ClusterIP')
    ports.forEach((p, i) => {
      if (p.nodePort) errs.push(forbidden(child(index('spec.ports', i), 'nodePort'), "may not be used when `type` is 'ClusterIP'"));
    });
  const nodePorts = new Set<string>();
  ports.forEach((p, i) => {
    if (!p.nodePort) return;
    const k = `${p.protocol}/${p.nodePort}`;
    if (nodePorts.has(k)) errs.push(duplicate(child(index('spec.ports', i), 'nodePort'), p.nodePort));
    nodePorts.add(k);
  });
  const portKeys = new Set<string>();
  ports.forEach((p, i) => {
    const k = `${p.protocol}/${p.port}`;
    // Upstream prints the (protocol, port) key as a Go struct value.
    if (portKeys.has(k)) errs.push(duplicate(index('spec.ports', i), { port: p.port, protocol: p.protocol }));
    portKeys.add(k);
  });
  const ranges = spec.loadBalancerSourceRanges ?? [];
  if (ranges.length > 0) {
    // Upstream's path really is capitalised here.
    if (spec.type !== 'LoadBalancer') errs.push(forbidden('spec.LoadBalancerSourceRanges', "may only be used when `type` is 'LoadBalancer'"));
    ranges.forEach((r, i) => errs.push(...validateCIDR(r.trim(), index('spec.LoadBalancerSourceRanges', i))));
  } else if (ann[LB_SOURCE_RANGES] !== undefined) {
    const p = `metadata.annotations[${LB_SOURCE_RANGES}]`;
    if (spec.type !== 'LoadBalancer') errs.push(forbidden(p, "may only be used when `type` is 'LoadBalancer'"));
    const val = ann[LB_SOURCE_RANGES].trim();
    if (val !== '') for (const r of val.split(',')) errs.push(...validateCIDR(r.trim(), p));
  }
  if (spec.allocateLoadBalancerNodePorts !== undefined && spec.type !== 'LoadBalancer')
    errs.push(forbidden('spec.allocateLoadBalancerNodePorts', "may only be used when `type` is 'LoadBalancer'"));
  // Upstream's path omits "spec." here.
  if (spec.type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts === undefined) errs.push(required('allocateLoadBalancerNodePorts'));
  errs.push(...validateLoadBalancerClass(svc, undefined));
  errs.push(...validateExternalTraffic(spec));
  if (spec.internalTrafficPolicy === undefined) {
    if (['NodePort', 'LoadBalancer', 'ClusterIP'].includes(spec.type)) errs.push(required('spec.internalTrafficPolicy'));
  } else if (!INTERNAL_TRAFFIC.includes(spec.internalTrafficPolicy)) {
    errs.push(notSupported('spec.internalTrafficPolicy', spec.internalTrafficPolicy, INTERNAL_TRAFFIC));
  }
  if (spec.trafficDistribution !== undefined && !['PreferClose', 'PreferSameZone', 'PreferSameNode'].includes(spec.trafficDistribution))
    errs.push(notSupported('spec.trafficDistribution', spec.trafficDistribution, ['PreferClose', 'PreferSameNode', 'PreferSameZone']));
  return errs;
}

const dns1035LabelFmt = '[a-z]([-a-z0-9]*[a-z0-9])?';

/** NameIsDNS1035Label: Service names must start with a letter. */
export function nameIsDNS1035Label(name: string, prefix: boolean): string[] {
  const v = prefix ? name.replace(/-$/, '') : name;
  const errs: string[] = [];
  if (v.length > 63) errs.push(maxLenError(63));
  if (!new RegExp(`^${dns1035LabelFmt}$`).test(v))
    errs.push(
      regexError(
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character",
        dns1035LabelFmt,
        'my-name',
        'abc-123',
      ),
    );
  return errs;
}

function validateExternalTraffic(spec: ServiceSpec): FieldError[] {
  const errs: FieldError[] = [];
  if (!externallyAccessible(spec)) {
    if (spec.externalTrafficPolicy)
      errs.push(invalid('spec.externalTrafficPolicy', spec.externalTrafficPolicy, 'may only be set for externally-accessible services'));
  } else if (!spec.externalTrafficPolicy) {
    errs.push(required('spec.externalTrafficPolicy'));
  } else if (!EXTERNAL_TRAFFIC.includes(spec.externalTrafficPolicy)) {
    errs.push(notSupported('spec.externalTrafficPolicy', spec.externalTrafficPolicy, EXTERNAL_TRAFFIC));
  }
  if (!needsHCNodePort(spec)) {
    if (spec.healthCheckNodePort)
      errs.push(
        invalid('spec.healthCheckNodePort', spec.healthCheckNodePort, "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"),
      );
  } else if (!spec.healthCheckNodePort) {
    // Allocation fills it in; a value the client gives must still be a port.
  } else {
    errs.push(...isValidPortNum(spec.healthCheckNodePort).map((m) => invalid('spec.healthCheckNodePort', spec.healthCheckNodePort, m)));
  }
  return errs;
}

function validateLoadBalancerClass(svc: Service, old: Service | undefined): FieldError[] {
  const errs: FieldError[] = [];
  const cls = svc.spec.loadBalancerClass;
  if (old && old.spec.type === 'LoadBalancer' && svc.spec.type === 'LoadBalancer' && old.spec.loadBalancerClass !== cls)
    errs.push(invalid('spec.loadBalancerClass', cls ?? null, 'may not change once set'));
  if (svc.spec.type === 'LoadBalancer') {
    if (cls !== undefined) errs.push(...isQualifiedName(cls).map((m) => invalid('spec.loadBalancerClass', cls, m)));
  } else if (cls !== undefined) {
    errs.push(forbidden('spec.loadBalancerClass', "may only be used when `type` is 'LoadBalancer'"));
  }
  return errs;
}

function validateUpgradeDowngradeClusterIPs(old: ServiceSpec, spec: ServiceSpec): FieldError[] {
  if (spec.type === 'ExternalName' || old.type === 'ExternalName') return [];
  if (isHeadlessService(old) && isHeadlessService(spec)) return [];
  const errs: FieldError[] = [];
  const oldIPs = old.clusterIPs ?? [];
  const ips = spec.clusterIPs ?? [];
  if (oldIPs.length === ips.length) {
    oldIPs.forEach((ip, i) => {
      if (ip !== ips[i]) errs.push(invalid(index('spec.clusterIPs', i), ips, 'may not change once set'));
    });
  } else if (oldIPs.length > ips.length) {
    if (ips.length === 0) errs.push(invalid('spec.clusterIPs[0]', ips, 'primary clusterIP can not be unset'));
    if (oldIPs.length > 0 && ips.length > 0 && ips[0] !== oldIPs[0]) errs.push(invalid('spec.clusterIPs[0]', ips, 'may not change once set'));
    if (ips.length === 1 && spec.ipFamilyPolicy !== 'SingleStack')
      errs.push(invalid('spec.ipFamilyPolicy', spec.ipFamilyPolicy ?? null, "must be set to 'SingleStack' when releasing the secondary clusterIP"));
  } else if (oldIPs.length > 0 && ips[0] !== oldIPs[0]) {
    errs.push(invalid('spec.clusterIPs[0]', ips, 'may not change once set'));
  }
  return errs;
}

function validateUpgradeDowngradeIPFamilies(old: ServiceSpec, spec: ServiceSpec): FieldError[] {
  if (spec.type === 'ExternalName' || old.type === 'ExternalName') return [];
  if (isHeadlessService(old) !== isHeadlessService(spec) || isHeadlessService(spec)) return [];
  const errs: FieldError[] = [];
  const oldF = old.ipFamilies ?? [];
  const f = spec.ipFamilies ?? [];
  if (oldF.length === f.length) {
    oldF.forEach((x, i) => {
      if (x !== f[i]) errs.push(invalid('spec.ipFamilies[0]', f, 'may not change once set'));
    });
  } else if (oldF.length > f.length) {
    if ((spec.clusterIPs ?? []).length === 0) errs.push(invalid('spec.ipFamilies[0]', f, 'primary ipFamily can not be unset'));
    if (f.length > 0 && f[0] !== oldF[0]) errs.push(invalid('spec.ipFamilies[0]', spec.clusterIPs ?? [], 'may not change once set'));
    if (f.length === 1 && spec.ipFamilyPolicy !== 'SingleStack')
      errs.push(invalid('spec.ipFamilyPolicy', spec.ipFamilyPolicy ?? null, "must be set to 'SingleStack' when releasing the secondary ipFamily"));
  } else if (oldF.length > 0 && f.length > 0 && f[0] !== oldF[0]) {
    errs.push(invalid('spec.ipFamilies[0]', spec.clusterIPs ?? [], 'may not change once set'));
  }
  return errs;
}

/** ValidateServiceUpdate: clusterIPs and ipFamilies may only gain or release a secondary, never change. */
export function validateServiceUpdate(svc: Service, old: Service): FieldError[] {
  const errs = validateUpgradeDowngradeClusterIPs(old.spec, svc.spec);
  errs.push(...validateUpgradeDowngradeIPFamilies(old.spec, svc.spec));
  if (old.spec.type === 'LoadBalancer' && svc.spec.type === 'LoadBalancer' && old.spec.loadBalancerClass !== svc.spec.loadBalancerClass)
    errs.push(invalid('spec.loadBalancerClass', svc.spec.loadBalancerClass ?? null, 'may not change once set'));
  if (needsHCNodePort(old.spec) && needsHCNodePort(svc.spec) && old.spec.healthCheckNodePort !== svc.spec.healthCheckNodePort)
    errs.push(forbidden('spec.healthCheckNodePort', 'field is immutable'));
  errs.push(...validateService(svc));
  return errs;
}

/**
 * The cluster-independent part of initIPFamilyFields' checks: SingleStack cannot carry two IPs or two families.
 * Whether a family is configured on the cluster is for the allocator to say.
 */
export function validateServiceIPFamilyPolicy(svc: Service): FieldError[] {
  const spec = svc.spec;
  if (!needsClusterIP(spec) || spec.ipFamilyPolicy !== 'SingleStack') return [];
  const errs: FieldError[] = [];
  if ((spec.clusterIPs ?? []).length === 2)
    errs.push(invalid('spec.ipFamilyPolicy', 'SingleStack', "must be 'RequireDualStack' or 'PreferDualStack' when multiple cluster IPs are specified"));
  if ((spec.ipFamilies ?? []).length === 2)
    errs.push(invalid('spec.ipFamilyPolicy', 'SingleStack', "must be 'RequireDualStack' or 'PreferDualStack' when multiple IP families are specified"));
  return errs;
}

/** ValidateServiceStatusUpdate: the load balancer status. */
export function validateServiceStatus(svc: Service): FieldError[] {
  const errs: FieldError[] = [];
  const ingress = svc.status.loadBalancer.ingress ?? [];
  if (svc.spec.type !== 'LoadBalancer' && ingress.length > 0) return [forbidden('status.loadBalancer.ingress', "may only be used when `spec.type` is 'LoadBalancer'")];
  ingress.forEach((ing, i) => {
    const p = index('status.loadBalancer.ingress', i);
    if (ing.ip) errs.push(...validateIP(ing.ip, child(p, 'ip')));
    if (ing.ipMode === undefined) {
      if (ing.ip) errs.push(required(child(p, 'ipMode'), 'must be specified when `ip` is set'));
    } else if (!ing.ip) errs.push(forbidden(child(p, 'ipMode'), 'may not be specified when `ip` is not set'));
    else if (!['Proxy', 'VIP'].includes(ing.ipMode)) errs.push(notSupported(child(p, 'ipMode'), ing.ipMode, ['Proxy', 'VIP']));
    if (ing.hostname) {
      errs.push(...dns1123Subdomain(ing.hostname, child(p, 'hostname')));
      if (ipFamilyOf(ing.hostname) !== 0) errs.push(invalid(child(p, 'hostname'), ing.hostname, 'must be a DNS name, not an IP address'));
    }
  });
  return errs;
}
