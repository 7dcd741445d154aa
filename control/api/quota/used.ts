// What a namespace uses against one ResourceQuota (upstream's quota.CalculateUsage with each evaluator's UsageStats):
// the resource quota controller lists what resourcesToList names and writes quotaUsed as status.used. The amounts
// come from the same evaluators the ResourceQuota admission plugin charges with.
import { add, mask, type ResourceList } from './resource-list.js';
import { LEGACY_COUNT_NAMES, persistentVolumeClaimEvaluator, podEvaluator, quotaEvaluatorFor, serviceEvaluator, type QuotaObject, type ScopeSelector } from './usage.js';

export interface GroupResource {
  group: string;
  resource: string;
}

/** The objects of one resource in the quota's namespace. */
export interface ListedObjects extends GroupResource {
  items: readonly QuotaObject[];
}

/** The resource a quota resource name counts, if any evaluator tracks it. */
function countedResource(name: string): GroupResource | undefined {
  if (name.startsWith('count/')) {
    const rest = name.slice('count/'.length);
    const dot = rest.indexOf('.');
    return dot < 0 ? { group: '', resource: rest } : { group: rest.slice(dot + 1), resource: rest.slice(0, dot) };
  }
  if (LEGACY_COUNT_NAMES.includes(name)) return { group: '', resource: name };
  for (const [resource, evaluator] of [
    ['pods', podEvaluator],
    ['services', serviceEvaluator],
    ['persistentvolumeclaims', persistentVolumeClaimEvaluator],
  ] as const) {
    if (evaluator.matchingResources([name]).length > 0) return { group: '', resource };
  }
  return undefined;
}

/** The resources whose objects make up the usage of a quota with these hard limits. */
export function resourcesToList(hard: ResourceList): GroupResource[] {
  const out = new Map<string, GroupResource>();
  for (const name of Object.keys(hard)) {
    const gr = countedResource(name);
    if (gr) out.set(`${gr.group}/${gr.resource}`, gr);
  }
  return [...out.values()];
}

/**
 * status.used of a quota: every hard resource an evaluator tracks is the sum of what the listed objects that fall
 * under all the quota's scopes count for (zero when none do); a hard resource nothing tracks keeps its previous value.
 */
export function quotaUsed(hard: ResourceList, scopes: readonly ScopeSelector[], previous: ResourceList | undefined, listed: readonly ListedObjects[], now: Date): ResourceList {
  const hardNames = Object.keys(hard);
  let used: ResourceList = {};
  for (const { group, resource, items } of listed) {
    const evaluator = quotaEvaluatorFor(group, resource);
    const tracked = evaluator.matchingResources(hardNames);
    if (tracked.length === 0) continue;
    let stats: ResourceList = Object.fromEntries(tracked.map((n) => [n, '0']));
    for (const item of items) if (scopes.every((s) => evaluator.matchesScope(s, item, now))) stats = add(stats, evaluator.usage(item, now));
    used = add(used, mask(stats, tracked));
  }
  return mask({ ...previous, ...used }, hardNames);
}
