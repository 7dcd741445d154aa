import type { Service } from '../../control/api/core/index.js';
import type { EndpointAddress, ServiceEndpoints } from '../endpoints.js';
import { EndpointsEventHandlers } from '../endpoints-events.js';

/**
 * What the cluster DNS knows: Services and their endpoints, kept current by the same informer events the proxier
 * gets (so an answer reflects the cache the moment an event arrives), plus a reverse index for PTR queries.
 * Plain data; the answering logic (answer.ts) reads it.
 */

export interface DnsServicePort {
  name: string;
  port: number;
  protocol: string;
}

export interface DnsService {
  namespace: string;
  name: string;
  type: string;
  /** "None" for headless services; undefined for ExternalName. */
  clusterIP?: string;
  externalName?: string;
  ports: DnsServicePort[];
}

type ServiceLike = Pick<Service, 'metadata'> & { spec?: Partial<Service['spec']> };

export function dnsService(svc: ServiceLike): DnsService {
  const spec = svc.spec ?? {};
  return {
    namespace: svc.metadata.namespace ?? 'default',
    name: svc.metadata.name ?? '',
    type: spec.type ?? 'ClusterIP',
    ...(spec.clusterIP ? { clusterIP: spec.clusterIP } : {}),
    ...(spec.externalName ? { externalName: spec.externalName } : {}),
    ports: (spec.ports ?? []).map((p) => ({ name: p.name ?? '', port: p.port ?? 0, protocol: (p.protocol ?? 'TCP').toUpperCase() })),
  };
}

export function isHeadless(svc: DnsService): boolean {
  return svc.type !== 'ExternalName' && (svc.clusterIP === undefined || svc.clusterIP === 'None');
}

/** The label of an endpoint under its service: its hostname, else its IP with dashes (CoreDNS's endpointHostname). */
export function endpointLabel(a: Pick<EndpointAddress, 'ip' | 'hostname'>): string {
  return (a.hostname || a.ip.replace(/[.:]/g, '-')).toLowerCase();
}

export class ClusterDnsView extends EndpointsEventHandlers {
  private readonly services = new Map<string, DnsService>();
  private readonly endpoints = new Map<string, ServiceEndpoints>();
  /** IP → the names pointing at it; rebuilt lazily after a change. */
  private reverse: Map<string, string[]> | undefined;
  servicesSynced = false;
  endpointsSynced = false;

  constructor(private readonly domain: string) {
    super();
  }

  // ---- the informer side (the same handler names as the proxiers, so connectInformers feeds it too) ----------

  onServiceAdd(svc: Service): void {
    this.setService(svc);
  }
  onServiceUpdate(_old: Service | undefined, svc: Service): void {
    this.setService(svc);
  }
  onServiceDelete(svc: Service): void {
    this.services.delete(`${svc.metadata.namespace ?? 'default'}/${svc.metadata.name ?? ''}`);
    this.reverse = undefined;
  }
  onServicesSynced(): void {
    this.servicesSynced = true;
  }
  onEndpointsSynced(): void {
    this.endpointsSynced = true;
  }
  start(): void {}
  async stop(): Promise<void> {}

  setService(svc: ServiceLike): void {
    const s = dnsService(svc);
    this.services.set(`${s.namespace}/${s.name}`, s);
    this.reverse = undefined;
  }

  protected setEndpoints(key: string, ep: ServiceEndpoints | undefined): void {
    if (ep) this.endpoints.set(key, ep);
    else this.endpoints.delete(key);
    this.reverse = undefined;
  }

  // ---- the answering side ----------------------------------------------------------------------------------

  service(namespace: string, name: string): DnsService | undefined {
    return this.services.get(`${namespace}/${name}`);
  }

  hasNamespace(namespace: string): boolean {
    for (const s of this.services.values()) if (s.namespace === namespace) return true;
    return false;
  }

  /** The ready endpoint addresses of a service, each address once, in a stable order. */
  readyAddresses(namespace: string, name: string): EndpointAddress[] {
    const seen = new Map<string, EndpointAddress>();
    for (const g of this.endpoints.get(`${namespace}/${name}`)?.groups ?? []) for (const a of g.addresses) if (a.ready && !seen.has(a.ip)) seen.set(a.ip, a);
    return [...seen.values()];
  }

  /** Ready addresses with a given port (by name and protocol), for SRV records of headless services. */
  readyAddressesWithPort(namespace: string, name: string, portName: string, protocol: string): Array<{ address: EndpointAddress; port: number }> {
    const out: Array<{ address: EndpointAddress; port: number }> = [];
    const seen = new Set<string>();
    for (const g of this.endpoints.get(`${namespace}/${name}`)?.groups ?? []) {
      const p = g.ports.find((x) => x.name === portName && x.protocol === protocol);
      if (!p) continue;
      for (const a of g.addresses) {
        const k = `${a.ip}:${p.port}`;
        if (!a.ready || seen.has(k)) continue;
        seen.add(k);
        out.push({ address: a, port: p.port });
      }
    }
    return out;
  }

  /** Fully qualified names (with the trailing dot) for PTR answers about an IP: services first, then endpoints. */
  namesForIP(ip: string): string[] {
    if (!this.reverse) this.reverse = this.buildReverse();
    return this.reverse.get(ip) ?? [];
  }

  private buildReverse(): Map<string, string[]> {
    const m = new Map<string, string[]>();
    const add = (ip: string, name: string): void => {
      const l = m.get(ip);
      if (!l) m.set(ip, [name]);
      else if (!l.includes(name)) l.push(name);
    };
    const sortedServices = [...this.services.values()].sort((a, b) => (`${a.namespace}/${a.name}` < `${b.namespace}/${b.name}` ? -1 : 1));
    for (const s of sortedServices) if (s.clusterIP && s.clusterIP !== 'None') add(s.clusterIP, `${s.name}.${s.namespace}.svc.${this.domain}.`);
    for (const s of sortedServices) {
      for (const a of this.readyAddresses(s.namespace, s.name)) add(a.ip, `${endpointLabel(a)}.${s.name}.${s.namespace}.svc.${this.domain}.`);
    }
    return m;
  }
}
