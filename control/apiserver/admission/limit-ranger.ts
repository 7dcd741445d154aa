import { canonicalQuantity } from '../../api/index.js';
import { compareQuantities, cpuMillis, memoryBytes } from '../../api/quantity.js';
import { podResourceTotals, type ResourceList } from '../../api/quota/index.js';
import { findResource, type ResourceDef } from '../resources.js';
import type { Admission, RequestContext } from '../rest.js';
import type { KubeObject, ObjectStorage } from '../storage/object-storage.js';
import { ObjectCache } from '../storage/object-cache.js';
import { admissionForbidden, isPod } from './forbidden.js';

/**
 * LimitRanger (upstream's plugin/pkg/admission/limitranger): a new pod's containers get the default requests and
 * limits of every LimitRange in the namespace they leave unset (noted in the kubernetes.io/limit-ranger
 * annotation), then each container, the pod as a whole and each claim must keep to the ranges' min, max and
 * maxLimitRequestRatio, or the request is refused with 403 Forbidden.
 */

const ANNOTATION = 'kubernetes.io/limit-ranger';

type Quantities = Record<string, string | number>;
export interface LimitRangeItem {
  type?: string;
  min?: Quantities;
  max?: Quantities;
  default?: Quantities;
  defaultRequest?: Quantities;
  maxLimitRequestRatio?: Quantities;
}
export interface LimitRangeLike {
  spec?: { limits?: LimitRangeItem[] };
}
interface Container {
  name?: string;
  resources?: { requests?: Quantities; limits?: Quantities };
  restartPolicy?: string;
}
interface PodSpec {
  containers?: Container[];
  initContainers?: Container[];
}

const text = (q: string | number): string => canonicalQuantity(String(q));

/** defaultContainerResourceRequirements: the Container items' default (limits) and defaultRequest (requests). */
function containerDefaults(range: LimitRangeLike): { requests: Quantities; limits: Quantities } {
  const requests: Quantities = {};
  const limits: Quantities = {};
  for (const item of range.spec?.limits ?? []) {
    if (item.type !== 'Container') continue;
    Object.assign(requests, item.defaultRequest ?? {});
    Object.assign(limits, item.default ?? {});
  }
  return { requests, limits };
}

/**
 * PodMutateLimitFunc for one LimitRange: fills unset requests and limits of every container and init container;
 * answers whether anything changed. The annotation lists what was set, as upstream words it.
 */
export function applyLimitRangeDefaults(range: LimitRangeLike, pod: { metadata: KubeObject['metadata']; spec?: unknown }): boolean {
  const defaults = containerDefaults(range);
  const notes: string[] = [];
  const spec = (pod.spec ?? {}) as PodSpec;
  // Containers are changed as copies (see Admission.mutate).
  const merge = (c: Container, label: string): Container => {
    const setRequests: string[] = [];
    const setLimits: string[] = [];
    let limits = c.resources?.limits;
    let requests = c.resources?.requests;
    for (const [k, v] of Object.entries(defaults.limits)) {
      if (limits?.[k] !== undefined) continue;
      limits = { ...limits, [k]: v };
      setLimits.push(k);
    }
    for (const [k, v] of Object.entries(defaults.requests)) {
      if (requests?.[k] !== undefined) continue;
      requests = { ...requests, [k]: v };
      setRequests.push(k);
    }
    if (setRequests.length) notes.push(`${setRequests.sort().join(', ')} request for ${label} ${c.name ?? ''}`);
    if (setLimits.length) notes.push(`${setLimits.sort().join(', ')} limit for ${label} ${c.name ?? ''}`);
    if (setRequests.length === 0 && setLimits.length === 0) return c;
    return { ...c, resources: { ...c.resources, ...(limits !== undefined ? { limits } : {}), ...(requests !== undefined ? { requests } : {}) } };
  };
  const containers = spec.containers?.map((c) => merge(c, 'container'));
  const initContainers = spec.initContainers?.map((c) => merge(c, 'init container'));
  if (notes.length === 0) return false;
  pod.spec = { ...spec, ...(containers ? { containers } : {}), ...(initContainers ? { initContainers } : {}) };
  pod.metadata.annotations = { ...(pod.metadata.annotations ?? {}), [ANNOTATION]: `LimitRanger plugin set: ${notes.join('; ')}` };
  return true;
}

/** A value as upstream compares them here: in millis for cpu-like precision, whole units otherwise. */
const milli = (q: string | number): number => (memoryBytes(q) <= 9_223_372_036_854_775 ? cpuMillis(q) : memoryBytes(q) * 1000);

function minConstraint(type: string, name: string, enforced: string | number, requests: Quantities, limits: Quantities): string | undefined {
  const req = requests[name];
  const lim = limits[name];
  if (req === undefined) return `minimum ${name} usage per ${type} is ${text(enforced)}.  No request is specified`;
  if (compareQuantities(req, enforced) < 0) return `minimum ${name} usage per ${type} is ${text(enforced)}, but request is ${text(req)}`;
  if (lim !== undefined && compareQuantities(lim, enforced) < 0) return `minimum ${name} usage per ${type} is ${text(enforced)}, but limit is ${text(lim)}`;
  return undefined;
}

function maxConstraint(type: string, name: string, enforced: string | number, requests: Quantities, limits: Quantities): string | undefined {
  const req = requests[name];
  const lim = limits[name];
  if (lim === undefined) return `maximum ${name} usage per ${type} is ${text(enforced)}.  No limit is specified`;
  if (compareQuantities(lim, enforced) > 0) return `maximum ${name} usage per ${type} is ${text(enforced)}, but limit is ${text(lim)}`;
  if (req !== undefined && compareQuantities(req, enforced) > 0) return `maximum ${name} usage per ${type} is ${text(enforced)}, but request is ${text(req)}`;
  return undefined;
}

/** maxRequestConstraint: for claims, whose limits are not user input. */
function maxRequestConstraint(type: string, name: string, enforced: string | number, requests: Quantities): string | undefined {
  const req = requests[name];
  if (req === undefined) return `maximum ${name} usage per ${type} is ${text(enforced)}.  No request is specified`;
  if (compareQuantities(req, enforced) > 0) return `maximum ${name} usage per ${type} is ${text(enforced)}, but request is ${text(req)}`;
  return undefined;
}

function ratioConstraint(type: string, name: string, enforced: string | number, requests: Quantities, limits: Quantities): string | undefined {
  const req = requests[name];
  const lim = limits[name];
  if (req === undefined || milli(req) === 0) return `${name} max limit to request ratio per ${type} is ${text(enforced)}, but no request is specified or request is 0`;
  if (lim === undefined || milli(lim) === 0) return `${name} max limit to request ratio per ${type} is ${text(enforced)}, but no limit is specified or limit is 0`;
  const observed = milli(lim) / milli(req);
  if (observed * 1000 > milli(enforced)) return `${name} max limit to request ratio per ${type} is ${text(enforced)}, but provided ratio is ${observed.toFixed(6)}`;
  return undefined;
}

function itemErrors(item: LimitRangeItem, type: string, requests: Quantities, limits: Quantities): string[] {
  const errs: Array<string | undefined> = [];
  for (const [k, v] of Object.entries(item.min ?? {})) errs.push(minConstraint(type, k, v, requests, limits));
  for (const [k, v] of Object.entries(item.max ?? {})) errs.push(maxConstraint(type, k, v, requests, limits));
  for (const [k, v] of Object.entries(item.maxLimitRequestRatio ?? {})) errs.push(ratioConstraint(type, k, v, requests, limits));
  return errs.filter((e): e is string => e !== undefined);
}

/** PodValidateLimitFunc: what in the pod breaks one LimitRange's Container and Pod items. */
export function podLimitRangeErrors(range: LimitRangeLike, pod: { spec?: unknown; metadata?: unknown }): string[] {
  const spec = (pod.spec ?? {}) as PodSpec;
  const errs: string[] = [];
  for (const item of range.spec?.limits ?? []) {
    if (item.type === 'Container') {
      for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) errs.push(...itemErrors(item, 'Container', c.resources?.requests ?? {}, c.resources?.limits ?? {}));
    } else if (item.type === 'Pod') {
      const requests: ResourceList = podResourceTotals(spec, 'requests');
      const limits: ResourceList = podResourceTotals(spec, 'limits');
      errs.push(...itemErrors(item, 'Pod', requests, limits));
    }
  }
  return errs;
}

/** PersistentVolumeClaimValidateLimitFunc: storage requests within the PersistentVolumeClaim items' min and max. */
export function claimLimitRangeErrors(range: LimitRangeLike, claim: { spec?: unknown; metadata?: unknown }, old?: { spec?: unknown; metadata?: unknown }): string[] {
  const requests = ((claim.spec as { resources?: { requests?: Quantities } } | undefined)?.resources?.requests ?? {}) as Quantities;
  const oldRequests = ((old?.spec as { resources?: { requests?: Quantities } } | undefined)?.resources?.requests ?? {}) as Quantities;
  // A request the stored claim already holds was valid when stored.
  const unchanged = (k: string): boolean => requests[k] !== undefined && oldRequests[k] !== undefined && compareQuantities(requests[k] as string | number, oldRequests[k] as string | number) === 0;
  const errs: Array<string | undefined> = [];
  for (const item of range.spec?.limits ?? []) {
    if (item.type !== 'PersistentVolumeClaim') continue;
    for (const [k, v] of Object.entries(item.min ?? {})) if (!unchanged(k)) errs.push(minConstraint('PersistentVolumeClaim', k, v, requests, {}));
    for (const [k, v] of Object.entries(item.max ?? {})) if (!unchanged(k)) errs.push(maxRequestConstraint('PersistentVolumeClaim', k, v, requests));
  }
  return errs.filter((e): e is string => e !== undefined);
}

/** utilerrors.NewAggregate(...).Error(): one message alone, several in brackets. */
export const aggregate = (errs: string[]): string => (errs.length === 1 ? (errs[0] as string) : `[${errs.join(', ')}]`);

export function limitRangerAdmission(storage: ObjectStorage): Admission {
  const lrDef = findResource('', 'v1', 'limitranges') as ResourceDef;
  const isClaim = (def: ResourceDef): boolean => def.group === '' && def.resource === 'persistentvolumeclaims';
  // Read from a watch-fed cache, as upstream's plugin reads its LimitRange lister: a pod's create costs no store read.
  const limitRanges = new ObjectCache(storage, lrDef);
  // One read per request: a pod's create defaults from the namespace's ranges and then is checked against the same.
  const read = new WeakMap<RequestContext, { ns: string; ranges: Promise<LimitRangeLike[]> }>();
  const ranges = (ns: string, ctx: RequestContext): Promise<LimitRangeLike[]> => {
    const earlier = read.get(ctx);
    if (earlier?.ns === ns) return earlier.ranges;
    const r = limitRanges.list(ns).then((items) => items as unknown as LimitRangeLike[]);
    read.set(ctx, { ns, ranges: r });
    return r;
  };
  return {
    async mutate(op, def, obj, _old, ctx) {
      // Containers cannot change after creation, so only new pods are defaulted.
      if (op !== 'create' || !isPod(def)) return false;
      let changed = false;
      for (const range of await ranges(obj.metadata.namespace ?? ctx.namespace ?? '', ctx)) if (applyLimitRangeDefaults(range, obj)) changed = true;
      return changed;
    },
    async admit(op, def, obj, old, ctx) {
      if (op === 'delete' || old?.metadata.deletionTimestamp) return;
      const pod = isPod(def) && op === 'create';
      if (!pod && !isClaim(def)) return;
      for (const range of await ranges(obj.metadata.namespace ?? ctx.namespace ?? '', ctx)) {
        const errs = pod ? podLimitRangeErrors(range, obj) : claimLimitRangeErrors(range, obj, old);
        if (errs.length > 0) throw admissionForbidden(def, obj, aggregate(errs));
      }
    },
  };
}
