/**
 * What a namespace uses, as a ResourceQuota counts it (upstream's pkg/quota/v1/evaluator/core and the generic object
 * count evaluator), on plain data: pods (count, cpu, memory and ephemeral-storage requests and limits, with the
 * Terminating / NotTerminating / BestEffort / NotBestEffort / PriorityClass scopes), services (count, node ports, load
 * balancers), persistent volume claims (count, requests.storage) and count/<resource>[.<group>] of anything else.
 * Quantities are summed exactly (millis for CPU, bytes otherwise) and printed in upstream's canonical forms.
 */
import { cpuMillis, memoryBytes } from '../api/quantity.js';
import { podQOSClass } from '../api/pod-qos.js';
import type { Obj, Pod } from './objects.js';

export interface ResourceQuota extends Obj {
  spec?: { hard?: Record<string, string>; scopes?: string[]; scopeSelector?: { matchExpressions?: ScopeRequirement[] } };
  status?: { hard?: Record<string, string>; used?: Record<string, string> };
}

export interface ScopeRequirement {
  scopeName: string;
  operator: string;
  values?: string[];
}

/** The resource name counting objects of a resource: count/pods, count/deployments.apps. */
export const objectCountName = (group: string, resource: string): string => `count/${group ? `${resource}.${group}` : resource}`;

/** Core resources whose plain name ("pods", "services", ...) is also a quota resource. */
export const LEGACY_COUNTED = ['pods', 'services', 'replicationcontrollers', 'resourcequotas', 'secrets', 'configmaps', 'persistentvolumeclaims'];

const CPU_LIKE = /(^|\.)cpu$/;
const isCpu = (name: string): boolean => CPU_LIKE.test(name);

/** A sum of quantities: an exact integer (millicores for CPU, bytes or units otherwise) and whether binary suffixes were used. */
interface Amount {
  value: number;
  binary: boolean;
}

function amount(name: string, q: string | number): Amount {
  return { value: isCpu(name) ? cpuMillis(q) : memoryBytes(q), binary: typeof q === 'string' && /i$/.test(q.trim()) };
}

const BIN: Array<[string, number]> = [
  ['Ei', 2 ** 60],
  ['Pi', 2 ** 50],
  ['Ti', 2 ** 40],
  ['Gi', 2 ** 30],
  ['Mi', 2 ** 20],
  ['Ki', 2 ** 10],
];
const DEC: Array<[string, number]> = [
  ['E', 1e18],
  ['P', 1e15],
  ['T', 1e12],
  ['G', 1e9],
  ['M', 1e6],
  ['k', 1e3],
];

/** The canonical text of a sum: "1500m" or "2" for CPU; "256Mi", "2G" or "1000" otherwise. */
export function formatAmount(name: string, a: Amount): string {
  if (isCpu(name)) return a.value % 1000 === 0 ? String(a.value / 1000) : `${a.value}m`;
  if (a.value === 0) return '0';
  for (const [suffix, size] of a.binary ? BIN : DEC) if (a.value % size === 0) return `${a.value / size}${suffix}`;
  return String(a.value);
}

type Usage = Map<string, Amount>;

function addTo(u: Usage, name: string, a: Amount): void {
  const prev = u.get(name);
  u.set(name, prev ? { value: prev.value + a.value, binary: prev.binary } : a);
}

const one: Amount = { value: 1, binary: false };

// ---------- pods ----------

interface ContainerLike {
  resources?: { requests?: Record<string, string | number>; limits?: Record<string, string | number> };
  restartPolicy?: string;
}

/** Requests or limits of a pod as quota sees them: the containers' sum, or the largest init container when larger, plus overhead. */
export function podResources(pod: Pod, which: 'requests' | 'limits'): Usage {
  const spec = (pod.spec ?? {}) as { containers?: ContainerLike[]; initContainers?: ContainerLike[]; overhead?: Record<string, string | number> };
  const sum: Usage = new Map();
  for (const c of spec.containers ?? []) for (const [k, v] of Object.entries(c.resources?.[which] ?? {})) addTo(sum, k, amount(k, v));
  for (const c of spec.initContainers ?? []) {
    for (const [k, v] of Object.entries(c.resources?.[which] ?? {})) {
      const a = amount(k, v);
      if (c.restartPolicy === 'Always') addTo(sum, k, a);
      else if (a.value > (sum.get(k)?.value ?? 0)) sum.set(k, a);
    }
  }
  for (const [k, v] of Object.entries(spec.overhead ?? {})) addTo(sum, k, amount(k, v));
  return sum;
}

/** upstream's QuotaV1Pod: pods that finished, or whose deletion grace period is over, no longer count. */
export function podCounts(pod: Pod, now: Date): boolean {
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return false;
  const del = pod.metadata.deletionTimestamp;
  const grace = pod.metadata.deletionGracePeriodSeconds as number | undefined;
  if (del && grace !== undefined) return now.getTime() <= (Date.parse(del) || 0) + grace * 1000;
  return true;
}

function podMatchesScope(pod: Pod, s: ScopeRequirement): boolean {
  const spec = (pod.spec ?? {}) as { activeDeadlineSeconds?: number; priorityClassName?: string; containers?: []; initContainers?: [] };
  switch (s.scopeName) {
    case 'Terminating':
      return spec.activeDeadlineSeconds !== undefined && spec.activeDeadlineSeconds >= 0;
    case 'NotTerminating':
      return spec.activeDeadlineSeconds === undefined;
    case 'BestEffort':
      return podQOSClass(spec as Parameters<typeof podQOSClass>[0]) === 'BestEffort';
    case 'NotBestEffort':
      return podQOSClass(spec as Parameters<typeof podQOSClass>[0]) !== 'BestEffort';
    case 'PriorityClass': {
      const name = spec.priorityClassName ?? '';
      switch (s.operator) {
        case 'In':
          return (s.values ?? []).includes(name);
        case 'NotIn':
          return !(s.values ?? []).includes(name);
        case 'Exists':
          return name !== '';
        case 'DoesNotExist':
          return name === '';
        default:
          return false;
      }
    }
    default:
      return false;
  }
}

/** The quota's scopes as requirements (spec.scopes are Exists requirements, like upstream's getScopeSelectorsFromQuota). */
export function quotaScopes(q: ResourceQuota): ScopeRequirement[] {
  return [...(q.spec?.scopes ?? []).map((s) => ({ scopeName: s, operator: 'Exists' })), ...(q.spec?.scopeSelector?.matchExpressions ?? [])];
}

export function podUsage(pod: Pod): Usage {
  const u: Usage = new Map([
    ['pods', one],
    ['count/pods', one],
  ]);
  for (const [k, a] of podResources(pod, 'requests')) {
    addTo(u, `requests.${k}`, a);
    if (k === 'cpu' || k === 'memory' || k === 'ephemeral-storage') addTo(u, k, a);
  }
  for (const [k, a] of podResources(pod, 'limits')) addTo(u, `limits.${k}`, a);
  return u;
}

// ---------- services, claims, anything ----------

export function serviceUsage(svc: Obj): Usage {
  const spec = (svc.spec ?? {}) as { type?: string; ports?: Array<{ nodePort?: number }> };
  const u: Usage = new Map([
    ['services', one],
    ['count/services', one],
  ]);
  const type = spec.type ?? 'ClusterIP';
  if (type === 'NodePort' || type === 'LoadBalancer') u.set('services.nodeports', { value: (spec.ports ?? []).length, binary: false });
  if (type === 'LoadBalancer') u.set('services.loadbalancers', one);
  return u;
}

export function claimUsage(pvc: Obj): Usage {
  const spec = (pvc.spec ?? {}) as { storageClassName?: string; resources?: { requests?: { storage?: string } } };
  const u: Usage = new Map([
    ['persistentvolumeclaims', one],
    ['count/persistentvolumeclaims', one],
  ]);
  const storage = spec.resources?.requests?.storage;
  if (storage !== undefined) {
    const a = amount('storage', storage);
    u.set('requests.storage', a);
    if (spec.storageClassName) u.set(`${spec.storageClassName}.storageclass.storage.k8s.io/requests.storage`, a);
  }
  if (spec.storageClassName) u.set(`${spec.storageClassName}.storageclass.storage.k8s.io/persistentvolumeclaims`, one);
  return u;
}

/** The objects of one resource in the quota's namespace. */
export interface Listed {
  group: string;
  resource: string;
  items: readonly Obj[];
}

/** Which resources a quota needs listed to compute its hard names: core ones by name, others from count/<resource>.<group>. */
export function resourcesFor(hard: Record<string, string>): Array<{ group: string; resource: string }> {
  const out = new Map<string, { group: string; resource: string }>();
  const need = (group: string, resource: string): void => {
    out.set(`${group}/${resource}`, { group, resource });
  };
  for (const name of Object.keys(hard)) {
    if (name.startsWith('count/')) {
      const rest = name.slice('count/'.length);
      const dot = rest.indexOf('.');
      need(dot < 0 ? '' : rest.slice(dot + 1), dot < 0 ? rest : rest.slice(0, dot));
    } else if (LEGACY_COUNTED.includes(name)) need('', name);
    else if (name.startsWith('services.')) need('', 'services');
    else if (name === 'requests.storage' || name.includes('.storageclass.storage.k8s.io/')) need('', 'persistentvolumeclaims');
    else need('', 'pods');
  }
  return [...out.values()];
}

/**
 * status.used of a quota: for every resource it limits, what the namespace's objects use (zero when nothing does).
 * With scopes, only pods matching every scope are counted, and only pod resources.
 */
export function quotaUsed(q: ResourceQuota, listed: readonly Listed[], now: Date): Record<string, string> {
  const hard = q.spec?.hard ?? {};
  const scopes = quotaScopes(q);
  const total: Usage = new Map();
  for (const l of listed) {
    for (const obj of l.items) {
      let u: Usage;
      if (l.group === '' && l.resource === 'pods') {
        const pod = obj as Pod;
        if (!podCounts(pod, now) || !scopes.every((s) => podMatchesScope(pod, s))) continue;
        u = podUsage(pod);
      } else {
        if (scopes.length) continue;
        if (l.group === '' && l.resource === 'services') u = serviceUsage(obj);
        else if (l.group === '' && l.resource === 'persistentvolumeclaims') u = claimUsage(obj);
        else {
          u = new Map([[objectCountName(l.group, l.resource), one]]);
          if (l.group === '' && LEGACY_COUNTED.includes(l.resource)) u.set(l.resource, one);
        }
      }
      for (const [k, a] of u) addTo(total, k, a);
    }
  }
  const used: Record<string, string> = {};
  for (const name of Object.keys(hard)) used[name] = formatAmount(name, total.get(name) ?? { value: 0, binary: false });
  return used;
}
