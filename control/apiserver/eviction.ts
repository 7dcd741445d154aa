import { matchesLabels, selectorFromSpec, type LabelSelectorSpec } from '../api/selectors.js';
import { ApiError, badRequest } from './http/status.js';
import { findResource, type ResourceDef } from './resources.js';
import { rfc3339, type RequestContext, type Rest } from './rest.js';
import type { KubeObject } from './storage/object-storage.js';

/** upstream's MaxDisruptedPodSize: more evictions than this not yet seen by the disruption controller are refused. */
export const MAX_DISRUPTED_POD_SIZE = 2000;
export const VIOLATES_BUDGET = "Cannot evict pod as it would violate the pod's disruption budget.";
/** policyv1.DisruptionBudgetCause. */
const DISRUPTION_BUDGET_CAUSE = 'DisruptionBudget';
const RETRIES = 20;

interface Pdb extends KubeObject {
  spec?: { selector?: LabelSelectorSpec; unhealthyPodEvictionPolicy?: string };
  status?: {
    observedGeneration?: number;
    disruptionsAllowed?: number;
    currentHealthy?: number;
    desiredHealthy?: number;
    disruptedPods?: Record<string, string>;
    conditions?: Array<Record<string, unknown>>;
    [k: string]: unknown;
  };
}

interface DeleteOptions {
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  propagationPolicy?: string;
}

const def = (group: string, resource: string): ResourceDef => findResource(group, 'v1', resource) as ResourceDef;
const podReady = (pod: KubeObject): boolean => ((pod.status as { conditions?: Array<{ type?: string; status?: string }> } | undefined)?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
const phaseOf = (pod: KubeObject): string | undefined => (pod.status as { phase?: string } | undefined)?.phase;

function tooManyRequests(pdb: string, cause: string, retryAfterSeconds: number): ApiError {
  return new ApiError(429, 'TooManyRequests', VIOLATES_BUDGET, { causes: [{ reason: DISRUPTION_BUDGET_CAUSE, message: cause }], ...(retryAfterSeconds ? { retryAfterSeconds } : {}) });
}

/** The budgets whose selector picks the pod (a missing or empty selector picks nothing here, as upstream). */
function budgetsFor(pod: KubeObject, pdbs: readonly Pdb[]): Pdb[] {
  return pdbs.filter((pdb) => {
    try {
      const sel = selectorFromSpec(pdb.spec?.selector);
      return sel !== 'nothing' && sel.length > 0 && matchesLabels(sel, pod.metadata.labels);
    } catch {
      return false;
    }
  });
}

/**
 * The pods/eviction subresource (upstream's EvictionREST): a pod that is pending, finished or already terminating is
 * deleted at once; otherwise its PodDisruptionBudget (at most one) must allow a disruption, which this eviction
 * uses up (status.disruptionsAllowed goes down and the pod is listed in status.disruptedPods) before the pod is
 * deleted; a budget that allows none answers 429 TooManyRequests.
 */
export async function evictPod(rest: Rest, ctx: RequestContext, name: string, body: unknown): Promise<KubeObject> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw badRequest('not a Eviction object');
  const eviction = body as { metadata?: { name?: string }; deleteOptions?: DeleteOptions | null };
  if ((eviction.metadata?.name ?? '') !== name) throw badRequest('name in URL does not match name in Eviction object');
  const options: DeleteOptions = eviction.deleteOptions ?? {};
  const pods = def('', 'pods');
  const success: KubeObject = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 } as KubeObject;
  const remove = async (extra: DeleteOptions = {}): Promise<KubeObject> => {
    await rest.delete(pods, ctx, name, { ...options, ...extra, ...(options.preconditions || extra.preconditions ? { preconditions: { ...(options.preconditions ?? {}), ...(extra.preconditions ?? {}) } } : {}) });
    return success;
  };

  const pod = await rest.get(pods, ctx, name);
  const phase = phaseOf(pod);
  // Already disrupted (or never running): no budget to consult.
  if (phase === 'Succeeded' || phase === 'Failed' || phase === 'Pending' || pod.metadata.deletionTimestamp) {
    const enforce = !(phase === 'Succeeded' || phase === 'Failed' || pod.metadata.deletionTimestamp) && !options.preconditions?.resourceVersion;
    return remove(enforce ? { preconditions: { resourceVersion: pod.metadata.resourceVersion ?? '' } } : {});
  }

  const pdbDef = def('policy', 'poddisruptionbudgets');
  const budgets = budgetsFor(pod, (await rest.list(pdbDef, ctx, { labels: [], fields: [] }, {})).items as Pdb[]);
  if (budgets.length > 1) throw new ApiError(500, '', 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.');
  const budget = budgets[0];
  if (!budget) return remove();

  const status = budget.status ?? {};
  const policy = budget.spec?.unhealthyPodEvictionPolicy ?? 'IfHealthyBudget';
  // A pod that is not ready does not count as healthy: taking it uses up nothing, if the budget is met (or always).
  if (!podReady(pod) && (policy === 'AlwaysAllow' || ((status.currentHealthy ?? 0) >= (status.desiredHealthy ?? 0) && (status.desiredHealthy ?? 0) > 0))) {
    try {
      return await remove(options.preconditions?.resourceVersion ? {} : { preconditions: { resourceVersion: pod.metadata.resourceVersion ?? '' } });
    } catch (err) {
      if (err instanceof ApiError && err.code === 409 && !options.preconditions?.resourceVersion) throw tooManyRequests(budget.metadata.name ?? '', `The disruption budget ${budget.metadata.name} is still being processed by the server.`, 10);
      throw err;
    }
  }

  for (let attempt = 0; ; attempt++) {
    const current = (attempt === 0 ? budget : await rest.get(pdbDef, ctx, budget.metadata.name ?? '')) as Pdb;
    const st = current.status ?? {};
    const pdbName = current.metadata.name ?? '';
    if ((st.observedGeneration ?? 0) < (current.metadata.generation ?? 0)) throw tooManyRequests(pdbName, `The disruption budget ${pdbName} is still being processed by the server.`, 10);
    const allowed = st.disruptionsAllowed ?? 0;
    if (allowed < 0) throw new ApiError(403, 'Forbidden', `poddisruptionbudgets.policy "${pdbName}" is forbidden: pdb disruptions allowed is negative`, { name: pdbName, group: 'policy', kind: 'poddisruptionbudgets' });
    if (Object.keys(st.disruptedPods ?? {}).length > MAX_DISRUPTED_POD_SIZE) {
      throw new ApiError(403, 'Forbidden', `poddisruptionbudgets.policy "${pdbName}" is forbidden: DisruptedPods map too big - too many evictions not confirmed by PDB controller`, { name: pdbName, group: 'policy', kind: 'poddisruptionbudgets' });
    }
    if (allowed === 0) throw tooManyRequests(pdbName, `The disruption budget ${pdbName} needs ${st.desiredHealthy ?? 0} healthy pods and has ${st.currentHealthy ?? 0} currently`, 0);
    if (ctx.dryRun) break;
    const next: Pdb = { ...current, status: { ...st, disruptionsAllowed: allowed - 1, disruptedPods: { ...(st.disruptedPods ?? {}), [name]: rfc3339(ctx.now) } } };
    if (allowed - 1 === 0) {
      // pdbhelper.UpdateDisruptionAllowedCondition: no more disruptions allowed.
      const conditions = [...(st.conditions ?? [])];
      const i = conditions.findIndex((c) => c.type === 'DisruptionAllowed');
      const old = i >= 0 ? conditions[i] : undefined;
      const cond = { type: 'DisruptionAllowed', status: 'False', reason: 'InsufficientPods', message: '', observedGeneration: st.observedGeneration ?? 0, lastTransitionTime: old?.status === 'False' && old.lastTransitionTime ? old.lastTransitionTime : rfc3339(ctx.now) };
      if (i >= 0) conditions[i] = cond;
      else conditions.push(cond);
      (next.status as Record<string, unknown>).conditions = conditions;
    }
    try {
      await rest.replace(pdbDef, ctx, current, next, 'status');
      break;
    } catch (err) {
      if (err instanceof ApiError && err.code === 409 && attempt < RETRIES) continue;
      if (err instanceof ApiError && err.code === 409) throw new ApiError(504, 'Timeout', `couldn't update PodDisruptionBudget "${pdbName}" due to conflicts`, { retryAfterSeconds: 10 });
      throw err;
    }
  }
  return remove();
}
