import type { Container, Pod, ResourceList } from '../../control/api/index.js';
import { cpuMillis, memoryBytes } from '../../control/api/index.js';

/**
 * The downward API's values, as upstream's fieldpath and resource helpers compute them: shared by environment
 * variables (env.ts) and downwardAPI files (plain and projected volumes).
 */

export class DownwardAPIError extends Error {}

/** Upstream's FormatMap: `key="value"` lines sorted by key (the value quoted like Go's %q). */
export function formatMap(m: Record<string, string> | undefined): string {
  return Object.keys(m ?? {})
    .sort()
    .map((k) => `${k}=${JSON.stringify((m as Record<string, string>)[k])}`)
    .join('\n');
}

/**
 * ExtractFieldPathAsString: the pod metadata a fieldRef names, which is all a downwardAPI file may name and what an
 * environment variable's fieldRef falls back to after the fields only env has (env.ts).
 */
export function podFieldPathValue(pod: Pod, fieldPath: string): string {
  const sub = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(fieldPath);
  if (sub) {
    const map = sub[1] === 'labels' ? pod.metadata.labels : pod.metadata.annotations;
    return map?.[sub[2] as string] ?? '';
  }
  switch (fieldPath) {
    case 'metadata.labels':
      return formatMap(pod.metadata.labels);
    case 'metadata.annotations':
      return formatMap(pod.metadata.annotations);
    case 'metadata.name':
      return pod.metadata.name ?? '';
    case 'metadata.namespace':
      return pod.metadata.namespace;
    case 'metadata.uid':
      return pod.metadata.uid ?? '';
    default:
      throw new DownwardAPIError(`unsupported fieldPath: ${fieldPath}`);
  }
}

const MERGED_LIMITS = ['cpu', 'memory', 'ephemeral-storage'];

const isZero = (q: string | number | undefined): boolean => {
  if (q === undefined) return true;
  try {
    return memoryBytes(q) === 0 && cpuMillis(q) === 0;
  } catch {
    return false;
  }
};

/**
 * MergeContainerResourceLimits: a container without a cpu, memory or ephemeral-storage limit (or a zero one) is
 * limited by what the node can give, so `limits.*` reads the node's allocatable then. Requests are left alone.
 */
export function limitsWithNodeAllocatable(container: Container, allocatable: ResourceList): ResourceList {
  const limits: ResourceList = { ...(container.resources?.limits ?? {}) };
  for (const name of MERGED_LIMITS) {
    if (isZero(limits[name]) && allocatable[name] !== undefined) limits[name] = allocatable[name] as string;
  }
  return limits;
}

/**
 * ExtractContainerResourceValue: the container's request or limit of a resource divided by the divisor (default 1)
 * and rounded up; cpu counts in millicores against the divisor's millicores, the rest in whole units.
 */
export function containerResourceValue(container: Container, resource: string, divisor: string | number | undefined, allocatable: ResourceList): string {
  const dot = resource.indexOf('.');
  const kind = resource.slice(0, dot);
  const name = resource.slice(dot + 1);
  const supported = ['cpu', 'memory', 'ephemeral-storage'].includes(name) || name.startsWith('hugepages-');
  if ((kind !== 'limits' && kind !== 'requests') || !supported) throw new DownwardAPIError(`unsupported container resource : ${resource}`);
  const bag = kind === 'limits' ? limitsWithNodeAllocatable(container, allocatable) : (container.resources?.requests ?? {});
  const q = bag[name];
  const div = divisor === undefined || isZero(divisor) ? 1 : divisor;
  if (name === 'cpu') return String(Math.ceil((q !== undefined ? cpuMillis(q) : 0) / cpuMillis(div)));
  return String(Math.ceil((q !== undefined ? memoryBytes(q) : 0) / memoryBytes(div)));
}

/** The container a volume's resourceFieldRef names (init containers included), as findContainerInPod. */
export function findContainer(pod: Pod, name: string): Container {
  const c = [...pod.spec.containers, ...pod.spec.initContainers].find((x) => x.name === name);
  if (!c) throw new DownwardAPIError(`container ${name} not found`);
  return c;
}
