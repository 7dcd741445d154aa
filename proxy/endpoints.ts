import type { Endpoints } from '../control/api/core/index.js';
import type { EndpointSlice } from '../control/api/discovery/endpointslice.js';

/**
 * The endpoints of one Service as the proxy and the cluster DNS see them, whichever object they came from: a v1
 * Endpoints (the fallback, --endpoints-source=endpoints) or the discovery.k8s.io/v1 EndpointSlices labelled
 * kubernetes.io/service-name (the default, as upstream's kube-proxy). Conditions follow upstream's endpointslice
 * cache: ready and serving default to true when unset, terminating to false.
 */

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

export interface EndpointAddress {
  ip: string;
  hostname?: string;
  nodeName?: string;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
}

export interface EndpointPortSpec {
  name: string;
  port: number;
  protocol: string;
}

/** Addresses that share the same ports (an Endpoints subset, or one slice). */
export interface EndpointGroup {
  addresses: EndpointAddress[];
  ports: EndpointPortSpec[];
}

export interface ServiceEndpoints {
  namespace: string;
  name: string;
  groups: EndpointGroup[];
}

/** Loose shapes, so that objects straight from the informer (plain JSON) are accepted as well as parsed ones. */
export type EndpointsLike = Pick<Endpoints, 'metadata' | 'subsets'>;
export type EndpointSliceLike = Pick<EndpointSlice, 'metadata' | 'addressType' | 'endpoints' | 'ports'>;

function ports(list: Array<{ name?: string; port?: number; protocol?: string }> | undefined): EndpointPortSpec[] {
  return (list ?? []).filter((p) => !!p.port).map((p) => ({ name: p.name ?? '', port: p.port as number, protocol: (p.protocol ?? 'TCP').toUpperCase() }));
}

/** A v1 Endpoints: addresses are ready (and serving); notReadyAddresses are neither, and are left out. */
export function endpointsFromV1(ep: EndpointsLike): ServiceEndpoints {
  return {
    namespace: ep.metadata.namespace ?? 'default',
    name: ep.metadata.name ?? '',
    groups: (ep.subsets ?? []).map((s) => ({
      ports: ports(s.ports),
      addresses: (s.addresses ?? []).map((a) => ({
        ip: a.ip,
        ...(a.hostname ? { hostname: a.hostname } : {}),
        ...(a.nodeName ? { nodeName: a.nodeName } : {}),
        ready: true,
        serving: true,
        terminating: false,
      })),
    })),
  };
}

/** The service ("namespace/name") a slice belongs to, or undefined when it has no service-name label. */
export function sliceServiceKey(slice: EndpointSliceLike): string | undefined {
  const svc = slice.metadata.labels?.[SERVICE_NAME_LABEL];
  return svc ? `${slice.metadata.namespace ?? 'default'}/${svc}` : undefined;
}

/** Merges the slices of one service (IPv4 ones: the proxy is IPv4-only), in name order so the result is stable. */
export function endpointsFromSlices(namespace: string, name: string, slices: Iterable<EndpointSliceLike>): ServiceEndpoints {
  const sorted = [...slices].sort((a, b) => ((a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1));
  const groups: EndpointGroup[] = [];
  for (const s of sorted) {
    if (s.addressType !== 'IPv4') continue;
    const addresses: EndpointAddress[] = [];
    for (const e of s.endpoints ?? []) {
      const ready = e.conditions?.ready ?? true;
      const serving = e.conditions?.serving ?? ready;
      const terminating = e.conditions?.terminating ?? false;
      // Upstream uses the first address of an endpoint.
      const ip = e.addresses?.[0];
      if (!ip) continue;
      addresses.push({ ip, ...(e.hostname ? { hostname: e.hostname } : {}), ...(e.nodeName ? { nodeName: e.nodeName } : {}), ready, serving, terminating });
    }
    groups.push({ addresses, ports: ports(s.ports ?? []) });
  }
  return { namespace, name, groups };
}

/**
 * Keeps every EndpointSlice by service, so that a change to one slice gives the merged endpoints of its service.
 * Slices without the service-name label are ignored, as upstream.
 */
export class EndpointSliceTracker {
  private readonly byService = new Map<string, Map<string, EndpointSliceLike>>();

  /** Records a slice (added or updated); returns the service key and its merged endpoints. */
  set(slice: EndpointSliceLike): { key: string; endpoints: ServiceEndpoints } | undefined {
    const key = sliceServiceKey(slice);
    if (!key) return undefined;
    let m = this.byService.get(key);
    if (!m) this.byService.set(key, (m = new Map()));
    m.set(slice.metadata.name ?? '', slice);
    return { key, endpoints: this.merged(key) };
  }

  /** Forgets a slice; the endpoints are undefined when it was the service's last one. */
  delete(slice: EndpointSliceLike): { key: string; endpoints: ServiceEndpoints | undefined } | undefined {
    const key = sliceServiceKey(slice);
    if (!key) return undefined;
    const m = this.byService.get(key);
    m?.delete(slice.metadata.name ?? '');
    if (m && m.size === 0) this.byService.delete(key);
    return { key, endpoints: m && m.size > 0 ? this.merged(key) : undefined };
  }

  private merged(key: string): ServiceEndpoints {
    const i = key.indexOf('/');
    return endpointsFromSlices(key.slice(0, i), key.slice(i + 1), this.byService.get(key)?.values() ?? []);
  }
}
