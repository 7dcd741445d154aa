import type { Service } from '../control/api/core/index.js';
import type { ServiceEndpoints } from './endpoints.js';

/**
 * What the proxy knows of Services and Endpoints, reduced to plain data: one ServicePortInfo per service port,
 * the ready endpoints of each, keyed by the service port name ("namespace/name:port", or "namespace/name" when
 * the port has no name), as upstream's ServicePortName.String().
 */

export type Protocol = 'TCP' | 'UDP' | 'SCTP';

export interface ServicePortInfo {
  /** "namespace/name" of the Service. */
  service: string;
  /** "namespace/name:port" (or "namespace/name" for an unnamed port). */
  name: string;
  portName: string;
  protocol: Protocol;
  clusterIP: string;
  port: number;
  /** 0 when the port has none. */
  nodePort: number;
  externalIPs: string[];
  loadBalancerIPs: string[];
  /** spec.loadBalancerSourceRanges (IPv4 CIDRs), for LoadBalancer services with ingress IPs: a KUBE-FW chain. */
  loadBalancerSourceRanges: string[];
  /** ClientIP affinity timeout; 0 means no session affinity. */
  affinitySeconds: number;
  externalPolicyLocal: boolean;
  internalPolicyLocal: boolean;
  /** NodePort, LoadBalancer, or external IPs. */
  externallyAccessible: boolean;
}

export interface EndpointInfo {
  ip: string;
  port: number;
  /** "ip:port". */
  endpoint: string;
  /** On this node (its nodeName is ours). */
  local: boolean;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
}

export type ServicePortMap = Map<string, ServicePortInfo>;
export type EndpointsMap = Map<string, EndpointInfo[]>;

/** Loose shapes, so that objects straight from the informer (plain JSON) are accepted as well as parsed ones. */
type ServiceLike = Pick<Service, 'metadata'> & { spec?: Partial<Service['spec']>; status?: Partial<Service['status']> };

export function namespacedName(obj: { metadata: { namespace?: string; name?: string } }): string {
  return `${obj.metadata.namespace ?? 'default'}/${obj.metadata.name ?? ''}`;
}

export function servicePortName(service: string, portName: string): string {
  return portName ? `${service}:${portName}` : service;
}

const DEFAULT_AFFINITY_SECONDS = 10800;

function protocolOf(p: string | undefined): Protocol {
  const v = (p ?? 'TCP').toUpperCase();
  return v === 'UDP' ? 'UDP' : v === 'SCTP' ? 'SCTP' : 'TCP';
}

function isIPv4(ip: string | undefined): ip is string {
  return !!ip && /^(\d{1,3}\.){3}\d{1,3}$/.test(ip);
}

/** The service ports the proxy programs: none for headless (clusterIP None) and ExternalName services. */
export function servicePorts(svc: ServiceLike): ServicePortInfo[] {
  const spec = svc.spec ?? {};
  const clusterIP = spec.clusterIP;
  if (spec.type === 'ExternalName' || !isIPv4(clusterIP)) return [];
  const service = namespacedName(svc);
  const affinity = spec.sessionAffinity === 'ClientIP' ? (spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_AFFINITY_SECONDS) : 0;
  const lbIPs = (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip).filter(isIPv4);
  const externalIPs = (spec.externalIPs ?? []).filter(isIPv4);
  // Upstream trims spaces and skips what does not parse; a bare address means /32.
  const sourceRanges = (spec.loadBalancerSourceRanges ?? [])
    .map((c) => c.trim())
    .map((c) => (isIPv4(c) ? `${c}/32` : c))
    .filter((c) => /^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$/.test(c));
  const type = spec.type ?? 'ClusterIP';
  const externallyAccessible = type === 'NodePort' || type === 'LoadBalancer' || externalIPs.length > 0;
  return (spec.ports ?? []).map((p) => ({
    service,
    name: servicePortName(service, p.name ?? ''),
    portName: p.name ?? '',
    protocol: protocolOf(p.protocol),
    clusterIP,
    port: p.port ?? 0,
    nodePort: type === 'NodePort' || type === 'LoadBalancer' ? (p.nodePort ?? 0) : 0,
    externalIPs,
    loadBalancerIPs: type === 'LoadBalancer' ? lbIPs : [],
    loadBalancerSourceRanges: type === 'LoadBalancer' ? sourceRanges : [],
    affinitySeconds: affinity,
    externalPolicyLocal: externallyAccessible && spec.externalTrafficPolicy === 'Local',
    internalPolicyLocal: spec.internalTrafficPolicy === 'Local',
    externallyAccessible,
  }));
}

/**
 * The endpoints per service port name that may take traffic: ready ones, and serving-but-terminating ones (kept so
 * that usableEndpoints can fall back to them, as upstream's CategorizeEndpoints). Addresses are de-duplicated and
 * sorted so the output is stable.
 */
export function endpointsByPort(ep: ServiceEndpoints, nodeName: string): Map<string, EndpointInfo[]> {
  const service = `${ep.namespace}/${ep.name}`;
  const out = new Map<string, Map<string, EndpointInfo>>();
  for (const group of ep.groups) {
    for (const port of group.ports) {
      const key = servicePortName(service, port.name);
      let m = out.get(key);
      if (!m) out.set(key, (m = new Map()));
      for (const a of group.addresses) {
        if (!isIPv4(a.ip) || !(a.ready || (a.serving && a.terminating))) continue;
        const endpoint = `${a.ip}:${port.port}`;
        const prev = m.get(endpoint);
        // The same address twice (in two slices): the readier copy wins.
        if (prev && (prev.ready || !a.ready)) continue;
        m.set(endpoint, { ip: a.ip, port: port.port, endpoint, local: !!nodeName && a.nodeName === nodeName, ready: a.ready, serving: a.serving, terminating: a.terminating });
      }
    }
  }
  return new Map([...out].map(([k, m]) => [k, [...m.values()].sort(compareEndpoints)]));
}

/**
 * Upstream's endpoint categorisation for one set (all of a service's endpoints, or the local ones): the ready ones,
 * or when there are none, the serving-and-terminating ones, so connections drain instead of being refused.
 */
export function usableEndpoints(list: readonly EndpointInfo[]): EndpointInfo[] {
  const ready = list.filter((e) => e.ready);
  return ready.length > 0 ? ready : list.filter((e) => e.serving && e.terminating);
}

function ipKey(ip: string): number {
  return ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
}

export function compareEndpoints(a: EndpointInfo, b: EndpointInfo): number {
  return ipKey(a.ip) - ipKey(b.ip) || a.port - b.port;
}

export function buildServicePortMap(services: Iterable<ServiceLike>): ServicePortMap {
  const m: ServicePortMap = new Map();
  for (const s of services) for (const p of servicePorts(s)) m.set(p.name, p);
  return m;
}

export function buildEndpointsMap(endpoints: Iterable<ServiceEndpoints>, nodeName: string): EndpointsMap {
  const m: EndpointsMap = new Map();
  for (const e of endpoints) for (const [k, v] of endpointsByPort(e, nodeName)) if (v.length) m.set(k, v);
  return m;
}
