/**
 * What a Service's Endpoints and EndpointSlices should hold, on plain data (upstream's pkg/controller/endpoint and
 * endpointslice): every pod the selector matches that has an IP, ready ones as addresses and the others as
 * notReadyAddresses (or conditions.ready=false), each service port resolved against the pod's named container ports.
 */
import { matchesLabels, selectorFromSpec } from '../api/selectors.js';
import { isPodReady, jsonEqual, sameStored, stableStringify, withoutEmpty, type OwnerReference, type Pod, type Service, type ServicePort } from './objects.js';

export const HEADLESS_LABEL = 'service.kubernetes.io/headless';
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const MANAGED_BY = 'endpointslice-controller.k8s.io';
export const MAX_ENDPOINTS_PER_SLICE = 100;

export interface EndpointAddress {
  ip: string;
  hostname?: string;
  nodeName?: string;
  targetRef?: { kind: string; namespace?: string; name?: string; uid?: string };
}

export interface EndpointPort {
  name?: string;
  port: number;
  protocol?: string;
  appProtocol?: string;
}

export interface EndpointSubset {
  addresses?: EndpointAddress[];
  notReadyAddresses?: EndpointAddress[];
  ports?: EndpointPort[];
}

/** The pods a service selects; a service without a selector has its endpoints managed by someone else. */
export function selectedPods(svc: Service, pods: readonly Pod[]): Pod[] | undefined {
  const selector = svc.spec?.selector;
  if (!selector || Object.keys(selector).length === 0) return undefined;
  const reqs = selectorFromSpec({ matchLabels: selector });
  if (reqs === 'nothing') return [];
  return pods.filter((p) => p.metadata.namespace === svc.metadata.namespace && matchesLabels(reqs, p.metadata.labels));
}

/** upstream's ShouldPodBeInEndpoints: an IP, not finished, and (unless asked for) not terminating. */
export function podBelongsInEndpoints(pod: Pod, includeTerminating: boolean): boolean {
  if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return false;
  if (!podIP(pod)) return false;
  if (!includeTerminating && pod.metadata.deletionTimestamp) return false;
  return true;
}

function podIP(pod: Pod): string | undefined {
  return pod.status?.podIP || pod.status?.podIPs?.find((x) => !x.ip.includes(':'))?.ip || undefined;
}

/**
 * The container port a service port reaches on this pod (upstream's FindPort): a number is used as it is (unset
 * means the service port), a name must match a container port of the same protocol.
 */
export function findPort(pod: Pod, sp: ServicePort): number | undefined {
  const target = sp.targetPort ?? sp.port;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(target)) return Number(target);
  const protocol = sp.protocol ?? 'TCP';
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c.ports ?? []) if (p.name === target && (p.protocol ?? 'TCP') === protocol) return p.containerPort;
  }
  return undefined;
}

function address(svc: Service, pod: Pod): EndpointAddress {
  const a: EndpointAddress = { ip: podIP(pod) ?? '' };
  // A pod's hostname is published only when its subdomain is this (headless) service.
  if (pod.spec?.hostname && pod.spec.subdomain === svc.metadata.name) a.hostname = pod.spec.hostname;
  if (pod.spec?.nodeName) a.nodeName = pod.spec.nodeName;
  a.targetRef = { kind: 'Pod', namespace: pod.metadata.namespace ?? '', name: pod.metadata.name ?? '', uid: pod.metadata.uid ?? '' };
  return a;
}

function endpointPort(sp: ServicePort, port: number): EndpointPort {
  return { ...(sp.name ? { name: sp.name } : {}), port, protocol: sp.protocol ?? 'TCP', ...(sp.appProtocol ? { appProtocol: sp.appProtocol } : {}) };
}

const byIp = (a: EndpointAddress, b: EndpointAddress): number => ipCompare(a.ip, b.ip) || ((a.targetRef?.uid ?? '') < (b.targetRef?.uid ?? '') ? -1 : (a.targetRef?.uid ?? '') > (b.targetRef?.uid ?? '') ? 1 : 0);

function ipCompare(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  if (pa.length === 4 && pb.length === 4) {
    for (let i = 0; i < 4; i++) if (pa[i] !== pb[i]) return (pa[i] ?? 0) - (pb[i] ?? 0);
    return 0;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

const portKey = (p: EndpointPort): string => `${p.name ?? ''}/${p.port}/${p.protocol ?? 'TCP'}`;

/**
 * The subsets of a service's Endpoints (upstream's syncService followed by RepackSubsets): addresses that offer
 * the same set of ports share a subset; ready pods (or all, with publishNotReadyAddresses) in addresses, the rest
 * in notReadyAddresses; everything sorted so that equal input gives equal output.
 */
export function endpointSubsets(svc: Service, pods: readonly Pod[]): EndpointSubset[] {
  const tolerateUnready = svc.spec?.publishNotReadyAddresses === true;
  const ports = svc.spec?.ports ?? [];
  // address key → { address, ready, ports }
  const byAddress = new Map<string, { addr: EndpointAddress; ready: boolean; ports: Map<string, EndpointPort> }>();
  for (const pod of pods) {
    if (!podBelongsInEndpoints(pod, tolerateUnready)) continue;
    const addr = address(svc, pod);
    const ready = tolerateUnready || isPodReady(pod);
    const entry = { addr, ready, ports: new Map<string, EndpointPort>() };
    if (ports.length === 0) {
      // Only headless services list addresses without ports.
      if (svc.spec?.clusterIP !== 'None') continue;
    } else {
      for (const sp of ports) {
        const n = findPort(pod, sp);
        if (n === undefined) continue;
        const ep = endpointPort(sp, n);
        entry.ports.set(portKey(ep), ep);
      }
      if (entry.ports.size === 0) continue;
    }
    byAddress.set(`${addr.ip}/${addr.targetRef?.uid ?? ''}`, entry);
  }
  // Group addresses by the exact set of ports they offer.
  const groups = new Map<string, { ports: EndpointPort[]; ready: EndpointAddress[]; notReady: EndpointAddress[] }>();
  for (const e of byAddress.values()) {
    const portList = [...e.ports.values()].sort((a, b) => (portKey(a) < portKey(b) ? -1 : portKey(a) > portKey(b) ? 1 : 0));
    const key = stableStringify(portList);
    let g = groups.get(key);
    if (!g) {
      g = { ports: portList, ready: [], notReady: [] };
      groups.set(key, g);
    }
    (e.ready ? g.ready : g.notReady).push(e.addr);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, g]) => ({
      ...(g.ready.length ? { addresses: g.ready.sort(byIp) } : {}),
      ...(g.notReady.length ? { notReadyAddresses: g.notReady.sort(byIp) } : {}),
      ...(g.ports.length ? { ports: g.ports } : {}),
    }));
}

/** The labels an Endpoints object carries: the service's, plus the headless marker. */
export function endpointsLabels(svc: Service): Record<string, string> {
  const labels = { ...(svc.metadata.labels ?? {}) };
  if (svc.spec?.clusterIP === 'None') labels[HEADLESS_LABEL] = '';
  else delete labels[HEADLESS_LABEL];
  return labels;
}

// ---------- EndpointSlices ----------

export interface SliceEndpoint {
  addresses: string[];
  conditions: { ready: boolean; serving: boolean; terminating: boolean };
  hostname?: string;
  nodeName?: string;
  targetRef?: EndpointAddress['targetRef'];
}

export interface EndpointSlice {
  apiVersion?: string;
  kind?: string;
  metadata: { name?: string; generateName?: string; namespace?: string; labels?: Record<string, string>; ownerReferences?: OwnerReference[]; resourceVersion?: string; uid?: string; [k: string]: unknown };
  addressType: string;
  endpoints?: SliceEndpoint[];
  ports?: EndpointPort[];
}

export interface SliceChanges {
  create: EndpointSlice[];
  update: EndpointSlice[];
  delete: string[];
}

function sliceEndpoint(svc: Service, pod: Pod): SliceEndpoint {
  const a = address(svc, pod);
  const terminating = !!pod.metadata.deletionTimestamp;
  const serving = svc.spec?.publishNotReadyAddresses === true || isPodReady(pod);
  return {
    addresses: [a.ip],
    // Ready is serving and not terminating (upstream's EndpointSliceTerminatingCondition semantics).
    conditions: { ready: serving && !terminating, serving, terminating },
    ...(a.hostname ? { hostname: a.hostname } : {}),
    ...(a.nodeName ? { nodeName: a.nodeName } : {}),
    ...(a.targetRef ? { targetRef: a.targetRef } : {}),
  };
}

const sortEndpoints = (eps: SliceEndpoint[]): SliceEndpoint[] => eps.sort((a, b) => ipCompare(a.addresses[0] ?? '', b.addresses[0] ?? ''));
const slicePortsKey = (ports: readonly EndpointPort[] | undefined): string => stableStringify(withoutEmpty([...(ports ?? [])].sort((a, b) => (portKey(a) < portKey(b) ? -1 : 1))));

/**
 * The EndpointSlices a service should have, compared with the managed ones it has: endpoints grouped by the ports
 * they offer, at most MAX_ENDPOINTS_PER_SLICE per slice, existing slices reused before new ones are made, and one
 * empty slice kept when nothing is selected.
 */
export function reconcileEndpointSlices(svc: Service, pods: readonly Pod[], existing: readonly EndpointSlice[]): SliceChanges {
  const ports = svc.spec?.ports ?? [];
  const groups = new Map<string, { ports: EndpointPort[]; endpoints: SliceEndpoint[] }>();
  for (const pod of pods) {
    if (!podBelongsInEndpoints(pod, true)) continue;
    const eps: EndpointPort[] = [];
    for (const sp of ports) {
      const n = findPort(pod, sp);
      if (n !== undefined) eps.push(endpointPort(sp, n));
    }
    if (ports.length && eps.length === 0) continue;
    if (!ports.length && svc.spec?.clusterIP !== 'None') continue;
    const key = slicePortsKey(eps);
    let g = groups.get(key);
    if (!g) {
      g = { ports: eps, endpoints: [] };
      groups.set(key, g);
    }
    g.endpoints.push(sliceEndpoint(svc, pod));
  }
  const labels = { ...endpointsLabels(svc), [SERVICE_NAME_LABEL]: svc.metadata.name ?? '', [MANAGED_BY_LABEL]: MANAGED_BY };
  const owner: OwnerReference = { apiVersion: 'v1', kind: 'Service', name: svc.metadata.name ?? '', uid: svc.metadata.uid ?? '', controller: true, blockOwnerDeletion: true };
  const desired: Array<{ key: string; ports: EndpointPort[]; endpoints: SliceEndpoint[] }> = [];
  for (const [key, g] of groups) {
    const sorted = sortEndpoints(g.endpoints);
    for (let i = 0; i < sorted.length; i += MAX_ENDPOINTS_PER_SLICE) desired.push({ key, ports: g.ports, endpoints: sorted.slice(i, i + MAX_ENDPOINTS_PER_SLICE) });
  }
  if (desired.length === 0) desired.push({ key: slicePortsKey([]), ports: [], endpoints: [] });

  const out: SliceChanges = { create: [], update: [], delete: [] };
  const unused = [...existing];
  for (const want of desired) {
    // Prefer a slice with the same ports; any leftover slice will do otherwise.
    let i = unused.findIndex((s) => slicePortsKey(s.ports) === want.key);
    if (i < 0) i = unused.findIndex(() => true);
    const body = { addressType: 'IPv4', endpoints: want.endpoints, ports: want.ports };
    if (i < 0) {
      out.create.push({ apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { generateName: `${svc.metadata.name}-`, namespace: svc.metadata.namespace ?? '', labels, ownerReferences: [owner] }, ...body });
      continue;
    }
    const [cur] = unused.splice(i, 1);
    if (!cur) continue;
    const same =
      sameStored(sortEndpoints([...(cur.endpoints ?? [])]), want.endpoints) &&
      slicePortsKey(cur.ports) === want.key &&
      jsonEqual({ ...(cur.metadata.labels ?? {}) }, labels) &&
      (cur.metadata.ownerReferences ?? []).some((r) => r.uid === owner.uid);
    if (!same) out.update.push({ ...cur, ...body, metadata: { ...cur.metadata, labels, ownerReferences: [owner] } });
  }
  out.delete = unused.map((s) => s.metadata.name ?? '');
  return out;
}
