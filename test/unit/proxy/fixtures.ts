import type { Endpoints, Service } from '../../../control/api/core/index.js';

/** Small builders for Services and Endpoints as the informers deliver them. */

export interface SvcOpts {
  ns?: string;
  type?: string;
  clusterIP?: string;
  ports?: Array<{ name?: string; port: number; protocol?: string; nodePort?: number; targetPort?: number }>;
  affinity?: number;
  externalTrafficPolicy?: string;
  internalTrafficPolicy?: string;
  externalIPs?: string[];
  lbIPs?: string[];
  sourceRanges?: string[];
}

export function svc(name: string, o: SvcOpts = {}): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: o.ns ?? 'default', resourceVersion: '1' },
    spec: {
      type: o.type ?? 'ClusterIP',
      clusterIP: o.clusterIP ?? '10.96.0.10',
      ports: (o.ports ?? [{ port: 80 }]).map((p) => ({ protocol: 'TCP', targetPort: p.port, ...p })),
      sessionAffinity: o.affinity ? 'ClientIP' : 'None',
      ...(o.affinity ? { sessionAffinityConfig: { clientIP: { timeoutSeconds: o.affinity } } } : {}),
      ...(o.externalTrafficPolicy ? { externalTrafficPolicy: o.externalTrafficPolicy } : {}),
      ...(o.internalTrafficPolicy ? { internalTrafficPolicy: o.internalTrafficPolicy } : {}),
      ...(o.externalIPs ? { externalIPs: o.externalIPs } : {}),
      ...(o.sourceRanges ? { loadBalancerSourceRanges: o.sourceRanges } : {}),
    },
    status: { loadBalancer: o.lbIPs ? { ingress: o.lbIPs.map((ip) => ({ ip })) } : {} },
  } as Service;
}

export function eps(name: string, ips: Array<string | { ip: string; nodeName?: string }>, ports: Array<{ name?: string; port: number; protocol?: string }> = [{ port: 8080 }], ns = 'default'): Endpoints {
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name, namespace: ns, resourceVersion: '1' },
    subsets: ips.length
      ? [{ addresses: ips.map((a) => (typeof a === 'string' ? { ip: a } : a)), ports: ports.map((p) => ({ protocol: 'TCP', ...p })) }]
      : [],
  } as Endpoints;
}
