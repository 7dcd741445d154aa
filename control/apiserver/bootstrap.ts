import { networkInterfaces } from 'node:os';
import { ApiError } from './http/status.js';
import { findResource, type ResourceDef } from './resources.js';
import type { Rest } from './rest.js';

/** The namespaces every cluster has, created at start as upstream's system namespaces controller does. */
export const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

export async function ensureSystemNamespaces(rest: Rest, now: () => Date = () => new Date()): Promise<void> {
  const def = findResource('', 'v1', 'namespaces') as ResourceDef;
  for (const name of SYSTEM_NAMESPACES) {
    try {
      await rest.create(def, { strict: false, dryRun: false, now: now() }, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 409)) throw err;
    }
  }
}

function hostIPv4(): string | undefined {
  for (const addrs of Object.values(networkInterfaces())) for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return undefined;
}

/**
 * The `kubernetes` Service in default (ClusterIP = first address of the service range) and its Endpoints pointing at
 * this API server, as upstream's bootstrap controller keeps them.
 */
export async function ensureKubernetesService(rest: Rest, opts: { clusterIP: string; advertiseAddress: string; port: number }, now: () => Date = () => new Date()): Promise<void> {
  const svc = findResource('', 'v1', 'services') as ResourceDef;
  const ep = findResource('', 'v1', 'endpoints') as ResourceDef;
  const ctx = { namespace: 'default', strict: false, dryRun: false, now: now() };
  const create = async (def: ResourceDef, body: Record<string, unknown>): Promise<void> => {
    // Already there from an earlier start: admission would refuse the same ClusterIP twice, so do not even try.
    if (await rest.storage.tryGet(def, 'default', 'kubernetes')) return;
    try {
      await rest.create(def, ctx, body);
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 409)) throw err;
    }
  };
  await create(svc, {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'kubernetes', labels: { component: 'apiserver', provider: 'kubernetes' } },
    spec: { type: 'ClusterIP', clusterIP: opts.clusterIP, sessionAffinity: 'None', ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: opts.port }] },
  });
  // Endpoints may not point at loopback (upstream's validation): a loopback advertise address is replaced by the host's.
  const ip = opts.advertiseAddress.startsWith('127.') ? hostIPv4() : opts.advertiseAddress;
  if (!ip) return;
  await create(ep, {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: 'kubernetes', labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } },
    subsets: [{ addresses: [{ ip }], ports: [{ name: 'https', port: opts.port, protocol: 'TCP' }] }],
  });
  // Its EndpointSlice, as upstream's endpoints adapter writes it beside the Endpoints (kube-proxy reads slices).
  await create(findResource('discovery.k8s.io', 'v1', 'endpointslices') as ResourceDef, {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'kubernetes', labels: { 'kubernetes.io/service-name': 'kubernetes' } },
    addressType: 'IPv4',
    endpoints: [{ addresses: [ip], conditions: { ready: true } }],
    ports: [{ name: 'https', port: opts.port, protocol: 'TCP' }],
  });
}
