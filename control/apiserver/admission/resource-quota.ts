import {
  add,
  isZero,
  lessThanOrEqual,
  mask,
  negatives,
  prettyPrint,
  quotaEvaluatorFor,
  quotaMatches,
  quotaScopes,
  subtractNonNegative,
  type ResourceList,
  type ScopeSelector,
} from '../../api/quota/index.js';
import { ApiError, conflict } from '../http/status.js';
import { findResource, type ResourceDef } from '../resources.js';
import type { Admission } from '../rest.js';
import type { KubeObject, ObjectStorage } from '../storage/object-storage.js';
import { ObjectCache } from '../storage/object-cache.js';
import { admissionForbidden } from './forbidden.js';

/**
 * ResourceQuota admission (upstream's k8s.io/apiserver/pkg/admission/plugin/resourcequota), the last plugin of the
 * chain: what a new object (or the growth of an updated one) counts for is added to the status.used of every quota
 * in its namespace that tracks it; a quota it would take past status.hard refuses the request with 403
 * `exceeded quota: ...`. The new usage is written to the quotas with compare-and-swap on their resourceVersion
 * before the object itself is stored, so two requests can never both take the last unit: the loser re-reads the
 * quotas and is judged again. Quotas whose status the resource quota controller has not filled yet are not
 * enforced (no status.hard) or refuse until it has (`status unknown for quota`).
 */

interface QuotaObject extends KubeObject {
  spec?: { hard?: ResourceList; scopes?: string[]; scopeSelector?: { matchExpressions?: ScopeSelector[] } };
  status?: { hard?: ResourceList; used?: ResourceList };
}

/** How often a request re-reads the quotas when another write changed one first. */
const MAX_ATTEMPTS = 8;

export interface ResourceQuotaAdmissionOptions {
  now?: () => Date;
}

export function resourceQuotaAdmission(storage: ObjectStorage, opts: ResourceQuotaAdmissionOptions = {}): Admission {
  const rqDef = findResource('', 'v1', 'resourcequotas') as ResourceDef;
  const quotaCache = new ObjectCache(storage, rqDef);
  const now = opts.now ?? (() => new Date());
  // One evaluation at a time per namespace in this process (upstream batches them per namespace the same way);
  // compare-and-swap covers anyone else writing the quotas.
  const locks = new Map<string, Promise<void>>();
  const exclusive = async <T>(ns: string, fn: () => Promise<T>): Promise<T> => {
    const previous = locks.get(ns) ?? Promise.resolve();
    let done!: () => void;
    const mine = new Promise<void>((r) => (done = r));
    const tail = previous.then(() => mine);
    locks.set(ns, tail);
    await previous;
    try {
      return await fn();
    } finally {
      done();
      if (locks.get(ns) === tail) locks.delete(ns);
    }
  };

  return {
    async admit(op, def, obj, old, ctx) {
      if (op === 'delete' || !def.namespaced) return;
      const evaluator = quotaEvaluatorFor(def.group, def.resource);
      if (!evaluator.handles(op)) return;
      const ns = obj.metadata.namespace ?? ctx.namespace ?? '';
      const at = now();
      // A namespace without quotas has nothing to charge: its requests neither queue for the namespace's turn nor
      // read the quotas one after another (each read a store round trip; 50 clients creating pods in one namespace
      // waited in line for them). Whether it has any is read from a watch-fed cache, as upstream's plugin reads its
      // quota lister; charging reads the quotas from the store, under the namespace's turn.
      if ((await quotaCache.list(ns)).length === 0) return;
      await exclusive(ns, async () => {
        // Quotas already charged by an earlier attempt of this request are not charged twice.
        const charged = new Set<string>();
        for (let attempt = 0; ; attempt++) {
          const quotas = (await storage.list(rqDef, ns)).items as QuotaObject[];
          if (quotas.length === 0) return;
          const interesting: QuotaObject[] = [];
          for (const q of quotas) {
            if (charged.has(q.metadata.name ?? '')) continue;
            const hard = q.status?.hard ?? {};
            const hardNames = Object.keys(hard);
            if (!quotaMatches(evaluator, hardNames, quotaScopes(q.spec), obj, at)) continue;
            const restricted = evaluator.matchingResources(hardNames);
            const why = evaluator.constraints(restricted, obj);
            if (why) throw admissionForbidden(def, obj, `failed quota: ${q.metadata.name}: ${why}`);
            const unknown = restricted.filter((r) => q.status?.used?.[r] === undefined);
            if (unknown.length > 0) throw admissionForbidden(def, obj, `status unknown for quota: ${q.metadata.name}, resources: ${[...restricted].sort().join(',')}`);
            interesting.push(q);
          }
          let delta = evaluator.usage(obj, at);
          const negative = negatives(delta);
          if (negative.length > 0) throw admissionForbidden(def, obj, `quota usage is negative for resource(s): ${negative.sort().join(',')}`);
          // An update is charged for what it adds beyond the stored object.
          if (op === 'update' && old?.metadata.resourceVersion) delta = subtractNonNegative(delta, evaluator.usage(old, at));
          if (isZero(delta) || interesting.length === 0) return;
          const changed: QuotaObject[] = [];
          for (const q of interesting) {
            const hard = q.status?.hard ?? {};
            const used = q.status?.used ?? {};
            const requested = mask(delta, Object.keys(hard));
            const newUsage = add(used, requested);
            const { allowed, exceeded } = lessThanOrEqual(mask(newUsage, Object.keys(requested)), hard);
            if (!allowed) {
              throw admissionForbidden(
                def,
                obj,
                `exceeded quota: ${q.metadata.name}, requested: ${prettyPrint(mask(requested, exceeded))}, used: ${prettyPrint(mask(used, exceeded))}, limited: ${prettyPrint(mask(hard, exceeded))}`,
              );
            }
            changed.push({ ...q, status: { ...q.status, used: newUsage } });
          }
          if (ctx.dryRun) return;
          try {
            for (const q of changed) {
              await storage.update(rqDef, q, Number(q.metadata.resourceVersion));
              charged.add(q.metadata.name ?? '');
            }
            return;
          } catch (err) {
            // A quota changed since it was read (another API server, the controller): judge the request again.
            if (err instanceof ApiError && err.code === 409) {
              if (attempt + 1 < MAX_ATTEMPTS) continue;
              throw conflict('', 'resourcequotas', changed[0]?.metadata.name ?? '', 'the object has been modified; please apply your changes to the latest version and try again');
            }
            throw err;
          }
        }
      });
    },
  };
}
