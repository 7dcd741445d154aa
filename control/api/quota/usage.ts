// What an object counts for against a ResourceQuota, as upstream's quota evaluators measure it
// (pkg/quota/v1/evaluator/core and k8s.io/apiserver/pkg/quota/v1/generic). Pure: the ResourceQuota admission plugin
// charges these amounts when objects are created, and the resource quota controller sums them to recompute
// status.used.
import { podQOSClass } from '../pod-qos.js';
import { add, max, type ResourceList } from './resource-list.js';

/** The parts of an object the evaluators read; anything else is ignored. */
export interface QuotaObject {
  metadata?: { name?: string; namespace?: string; deletionTimestamp?: string; deletionGracePeriodSeconds?: number };
  spec?: unknown;
  status?: unknown;
}

export interface ScopeSelector {
  scopeName: string;
  operator?: string;
  values?: string[];
}

export interface QuotaEvaluator {
  /** The quota group/resource this evaluator measures ("pods", "deployments.apps"). */
  readonly groupResource: string;
  /** Whether this operation can change usage (upstream's Handles): object counts on create, pods on create. */
  handles(op: 'create' | 'update'): boolean;
  /** The subset of a quota's resource names this evaluator charges. */
  matchingResources(names: readonly string[]): string[];
  /** Whether the object falls under one scope of a quota. */
  matchesScope(scope: ScopeSelector, obj: QuotaObject, now: Date): boolean;
  /** What the object counts for. */
  usage(obj: QuotaObject, now: Date): ResourceList;
  /** Why the object may not be charged to a quota tracking `required` (upstream's Constraints), or undefined. */
  constraints(required: readonly string[], obj: QuotaObject): string | undefined;
}

/** count/<resource>[.<group>]: the object count resource name for any kind. */
export const objectCountName = (group: string, resource: string): string => `count/${group ? `${resource}.${group}` : resource}`;

/** The short count names core kinds other than pods, services and claims had before count/<resource> existed. */
export const LEGACY_COUNT_NAMES: readonly string[] = ['configmaps', 'resourcequotas', 'replicationcontrollers', 'secrets'];

const one = (): string => '1';

/** Only pods fall under scopes: a quota with any scope never covers other kinds (upstream's MatchesNoScopeFunc). */
const matchesNoScope = (): boolean => false;

function objectCountEvaluator(group: string, resource: string): QuotaEvaluator {
  const names = [objectCountName(group, resource), ...(group === '' && LEGACY_COUNT_NAMES.includes(resource) ? [resource] : [])];
  return {
    groupResource: group ? `${resource}.${group}` : resource,
    handles: (op) => op === 'create',
    matchingResources: (input) => input.filter((n) => names.includes(n)),
    matchesScope: matchesNoScope,
    usage: () => Object.fromEntries(names.map((n) => [n, one()])),
    constraints: () => undefined,
  };
}

// ---------------- pods ----------------

interface Resources {
  requests?: Record<string, string | number>;
  limits?: Record<string, string | number>;
}
interface PodContainer {
  name?: string;
  resources?: Resources;
  restartPolicy?: string;
}
interface PodSpecForQuota {
  containers?: PodContainer[];
  initContainers?: PodContainer[];
  overhead?: Record<string, string | number>;
  activeDeadlineSeconds?: number;
  priorityClassName?: string;
  affinity?: { podAffinity?: AffinityTerms; podAntiAffinity?: AffinityTerms };
}
interface AffinityTerms {
  requiredDuringSchedulingIgnoredDuringExecution?: Array<{ namespaces?: string[]; namespaceSelector?: unknown }>;
  preferredDuringSchedulingIgnoredDuringExecution?: Array<{ podAffinityTerm?: { namespaces?: string[]; namespaceSelector?: unknown } }>;
}

const POD_RESOURCES = ['count/pods', 'cpu', 'memory', 'ephemeral-storage', 'requests.cpu', 'requests.memory', 'requests.ephemeral-storage', 'limits.cpu', 'limits.memory', 'limits.ephemeral-storage', 'pods'];
const POD_RESOURCE_PREFIXES = ['hugepages-', 'requests.hugepages-'];
/** Quota on these makes every container state them (upstream keeps this for backward compatibility only). */
const VALIDATION_SET = ['cpu', 'memory', 'requests.cpu', 'requests.memory', 'limits.cpu', 'limits.memory'];

const NATIVE = (name: string): boolean => !name.includes('/') || name.includes('kubernetes.io/');
const isExtendedResource = (name: string): boolean => !NATIVE(name) && !name.startsWith('requests.');

const stringList = (r: Record<string, string | number> | undefined): ResourceList => Object.fromEntries(Object.entries(r ?? {}).map(([k, v]) => [k, String(v)]));

/** podComputeUsageHelper: the quota names requests and limits map to. */
function computeUsage(requests: ResourceList, limits: ResourceList): ResourceList {
  const out: ResourceList = { pods: '1' };
  for (const r of ['cpu', 'memory', 'ephemeral-storage']) {
    if (requests[r] !== undefined) {
      out[r] = requests[r] as string;
      out[`requests.${r}`] = requests[r] as string;
    }
    if (limits[r] !== undefined) out[`limits.${r}`] = limits[r] as string;
  }
  for (const [r, q] of Object.entries(requests)) {
    if (r.startsWith('hugepages-')) {
      out[r] = q;
      out[`requests.${r}`] = q;
    }
    if (isExtendedResource(r)) out[`requests.${r}`] = q;
  }
  return out;
}

/** The pod's effective requests or limits (PodRequests / PodLimits): containers and sidecars summed, the largest init step, plus overhead. */
export function podResourceTotals(spec: PodSpecForQuota, which: 'requests' | 'limits'): ResourceList {
  let total: ResourceList = {};
  for (const c of spec.containers ?? []) total = add(total, stringList(c.resources?.[which]));
  let sidecars: ResourceList = {};
  let init: ResourceList = {};
  for (const c of spec.initContainers ?? []) {
    const own = stringList(c.resources?.[which]);
    if (c.restartPolicy === 'Always') {
      total = add(total, own);
      sidecars = add(sidecars, own);
      init = max(init, sidecars);
    } else {
      init = max(init, add(own, sidecars));
    }
  }
  total = max(total, init);
  if (spec.overhead && Object.keys(spec.overhead).length > 0) {
    // Overhead counts only for the resources the pod already names (upstream adds it to every non-zero entry).
    const overhead = stringList(spec.overhead);
    total = add(total, which === 'limits' ? Object.fromEntries(Object.entries(overhead).filter(([k]) => k in total)) : overhead);
  }
  return total;
}

/** QuotaV1Pod: pods that finished, or whose graceful deletion ran out, no longer count for compute resources. */
export function podCountsForQuota(pod: QuotaObject, now: Date): boolean {
  const phase = (pod.status as { phase?: string } | undefined)?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return false;
  // Only a deletion with a grace period runs out; without one the pod counts until it is gone.
  const deletion = pod.metadata?.deletionTimestamp;
  const grace = pod.metadata?.deletionGracePeriodSeconds;
  if (deletion && grace !== undefined && now.getTime() > Date.parse(deletion) + grace * 1000) return false;
  return true;
}

function crossNamespaceAffinity(spec: PodSpecForQuota): boolean {
  const cross = (t: { namespaces?: string[]; namespaceSelector?: unknown } | undefined): boolean => !!t && ((t.namespaces ?? []).length > 0 || t.namespaceSelector !== undefined);
  for (const terms of [spec.affinity?.podAffinity, spec.affinity?.podAntiAffinity]) {
    if (!terms) continue;
    if ((terms.requiredDuringSchedulingIgnoredDuringExecution ?? []).some(cross)) return true;
    if ((terms.preferredDuringSchedulingIgnoredDuringExecution ?? []).some((w) => cross(w.podAffinityTerm))) return true;
  }
  return false;
}

function podMatchesScope(scope: ScopeSelector, pod: QuotaObject): boolean {
  const spec = (pod.spec ?? {}) as PodSpecForQuota;
  switch (scope.scopeName) {
    case 'Terminating':
      return spec.activeDeadlineSeconds !== undefined && spec.activeDeadlineSeconds >= 0;
    case 'NotTerminating':
      return !(spec.activeDeadlineSeconds !== undefined && spec.activeDeadlineSeconds >= 0);
    case 'BestEffort':
      return podQOSClass(spec) === 'BestEffort';
    case 'NotBestEffort':
      return podQOSClass(spec) !== 'BestEffort';
    case 'PriorityClass': {
      const name = spec.priorityClassName ?? '';
      switch (scope.operator ?? 'Exists') {
        case 'Exists':
          return name !== '';
        case 'DoesNotExist':
          return name === '';
        case 'In':
          return name !== '' && (scope.values ?? []).includes(name);
        case 'NotIn':
          return name === '' || !(scope.values ?? []).includes(name);
        default:
          return false;
      }
    }
    case 'CrossNamespacePodAffinity':
      return crossNamespaceAffinity(spec);
    default:
      return false;
  }
}

export const podEvaluator: QuotaEvaluator = {
  groupResource: 'pods',
  handles: (op) => op === 'create',
  matchingResources: (input) => input.filter((n) => POD_RESOURCES.includes(n) || POD_RESOURCE_PREFIXES.some((p) => n.startsWith(p)) || (n.startsWith('requests.') && isExtendedResource(n.slice('requests.'.length)))),
  matchesScope: (scope, obj) => podMatchesScope(scope, obj),
  usage(pod, now) {
    const result: ResourceList = { 'count/pods': '1' };
    if (!podCountsForQuota(pod, now)) return result;
    const spec = (pod.spec ?? {}) as PodSpecForQuota;
    return add(result, computeUsage(podResourceTotals(spec, 'requests'), podResourceTotals(spec, 'limits')));
  },
  constraints(required, pod) {
    const requiredSet = required.filter((r) => VALIDATION_SET.includes(r));
    if (requiredSet.length === 0) return undefined;
    const spec = (pod.spec ?? {}) as PodSpecForQuota;
    const missing = new Map<string, Set<string>>();
    for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) {
      const have = computeUsage(stringList(c.resources?.requests), stringList(c.resources?.limits));
      for (const r of requiredSet) {
        if (r in have) continue;
        const names = missing.get(r) ?? new Set<string>();
        names.add(c.name ?? '');
        missing.set(r, names);
      }
    }
    if (missing.size === 0) return undefined;
    const parts = [...missing.keys()].sort().map((r) => `${r} for: ${[...(missing.get(r) as Set<string>)].sort().join(',')}`);
    return `must specify ${parts.join('; ')}`;
  },
};

// ---------------- services ----------------

const SERVICE_RESOURCES = ['count/services', 'services', 'services.nodeports', 'services.loadbalancers'];

export const serviceEvaluator: QuotaEvaluator = {
  groupResource: 'services',
  // A type change can add node ports or a load balancer, so updates are charged too.
  handles: (op) => op === 'create' || op === 'update',
  matchingResources: (input) => input.filter((n) => SERVICE_RESOURCES.includes(n)),
  matchesScope: matchesNoScope,
  usage(svc) {
    const spec = (svc.spec ?? {}) as { type?: string; ports?: Array<{ nodePort?: number }>; allocateLoadBalancerNodePorts?: boolean };
    const ports = (spec.ports ?? []).length;
    const out: ResourceList = { 'count/services': '1', services: '1', 'services.loadbalancers': '0', 'services.nodeports': '0' };
    if (spec.type === 'NodePort') out['services.nodeports'] = String(ports);
    if (spec.type === 'LoadBalancer') {
      // Without allocated node ports, only the ports that still carry one count.
      const nodePorts = spec.allocateLoadBalancerNodePorts === false ? (spec.ports ?? []).filter((p) => (p.nodePort ?? 0) > 0).length : ports;
      out['services.nodeports'] = String(nodePorts);
      out['services.loadbalancers'] = '1';
    }
    return out;
  },
  constraints: () => undefined,
};

// ---------------- persistent volume claims ----------------

const STORAGE_CLASS_SUFFIX = '.storageclass.storage.k8s.io/';

export const persistentVolumeClaimEvaluator: QuotaEvaluator = {
  groupResource: 'persistentvolumeclaims',
  // A resize changes requests.storage.
  handles: (op) => op === 'create' || op === 'update',
  matchingResources: (input) =>
    input.filter(
      (n) =>
        ['count/persistentvolumeclaims', 'persistentvolumeclaims', 'requests.storage'].includes(n) ||
        (n.includes(STORAGE_CLASS_SUFFIX) && (n.endsWith('/requests.storage') || n.endsWith('/persistentvolumeclaims'))),
    ),
  matchesScope: matchesNoScope,
  usage(pvc) {
    const spec = (pvc.spec ?? {}) as { storageClassName?: string; resources?: Resources };
    const out: ResourceList = { 'count/persistentvolumeclaims': '1', persistentvolumeclaims: '1' };
    const storage = spec.resources?.requests?.storage;
    const sc = spec.storageClassName ?? '';
    if (sc) out[`${sc}${STORAGE_CLASS_SUFFIX}persistentvolumeclaims`] = '1';
    if (storage !== undefined) {
      out['requests.storage'] = String(storage);
      if (sc) out[`${sc}${STORAGE_CLASS_SUFFIX}requests.storage`] = String(storage);
    }
    return out;
  },
  constraints: () => undefined,
};

/** The evaluator for a group/resource: pods, services and claims have their own, every other kind is counted. */
export function quotaEvaluatorFor(group: string, resource: string): QuotaEvaluator {
  if (group === '') {
    if (resource === 'pods') return podEvaluator;
    if (resource === 'services') return serviceEvaluator;
    if (resource === 'persistentvolumeclaims') return persistentVolumeClaimEvaluator;
  }
  return objectCountEvaluator(group, resource);
}

/** Whether a quota (its status.hard names and scopes) covers the object: some resource it tracks, and every scope. */
export function quotaMatches(evaluator: QuotaEvaluator, hardNames: readonly string[], scopes: readonly ScopeSelector[], obj: QuotaObject, now: Date): boolean {
  if (evaluator.matchingResources(hardNames).length === 0) return false;
  return scopes.every((s) => evaluator.matchesScope(s, obj, now));
}

/** A quota's scopes: spec.scopes (as Exists) and spec.scopeSelector's expressions. */
export function quotaScopes(spec: { scopes?: string[]; scopeSelector?: { matchExpressions?: ScopeSelector[] } } | undefined): ScopeSelector[] {
  return [...(spec?.scopes ?? []).map((scopeName) => ({ scopeName, operator: 'Exists' })), ...(spec?.scopeSelector?.matchExpressions ?? [])];
}
