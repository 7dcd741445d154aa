// core/v1 LimitRange: SetDefaults_LimitRangeItem (container default/defaultRequest from max/min) and ValidateLimitRange.
import { z } from 'zod';
import { duplicate, forbidden, invalid, required, type FieldError } from '../errors.js';
import { ObjectMeta, validateObjectMeta } from '../meta.js';
import { isQualifiedName } from '../names.js';
import { ResourceList } from '../pod.js';
import { compareQuantities, parseQuantity } from '../quantity.js';
import { canonicalQuantity, validateContainerResourceName, validateQuantitySyntax, validateResourceName } from './common.js';

export const LimitRangeItem = z
  .object({
    type: z.string().default(''),
    max: ResourceList.optional(),
    min: ResourceList.optional(),
    default: ResourceList.optional(),
    defaultRequest: ResourceList.optional(),
    maxLimitRequestRatio: ResourceList.optional(),
  })
  .transform((item) => {
    if (item.type !== 'Container') return item;
    // A default limit falls back to max, a default request to the default limit, then to min.
    const def = { ...(item.max ?? {}), ...(item.default ?? {}) };
    const defReq = { ...(item.min ?? {}), ...def, ...(item.defaultRequest ?? {}) };
    return {
      ...item,
      ...(Object.keys(def).length > 0 ? { default: def } : {}),
      ...(Object.keys(defReq).length > 0 ? { defaultRequest: defReq } : {}),
    };
  });
export type LimitRangeItem = z.output<typeof LimitRangeItem>;

export const LimitRange = z.object({
  apiVersion: z.literal('v1'),
  kind: z.literal('LimitRange'),
  metadata: ObjectMeta.prefault({}),
  spec: z.object({ limits: z.array(LimitRangeItem).default([]) }).prefault({}),
});
export type LimitRange = z.output<typeof LimitRange>;

const LIMIT_TYPES = ['Pod', 'Container', 'PersistentVolumeClaim'];
const OVERCOMMIT_FORBIDDEN = (r: string) => r.startsWith('hugepages-') || (r.includes('/') && !r.includes('kubernetes.io/'));

function validateTypeName(t: string, path: string): FieldError[] {
  const msgs = isQualifiedName(t);
  if (msgs.length > 0) return msgs.map((m) => invalid(path, t, m));
  if (!t.includes('/') && !LIMIT_TYPES.includes(t)) return [invalid(path, t, 'must be a standard limit type or fully qualified')];
  return [];
}

/** ValidateLimitRange. */
export function validateLimitRange(lr: LimitRange): FieldError[] {
  const errs = validateObjectMeta(lr.metadata, { namespaced: true });
  const types = new Set<string>();
  lr.spec.limits.forEach((limit, i) => {
    const p = `spec.limits[${i}]`;
    errs.push(...validateTypeName(limit.type, `${p}.type`));
    if (types.has(limit.type)) errs.push(duplicate(`${p}.type`, limit.type));
    types.add(limit.type);
    const nameFn = limit.type === 'Pod' || limit.type === 'Container' ? validateContainerResourceName : validateResourceName;
    const keys = new Set<string>();
    const collect = (which: 'max' | 'min' | 'default' | 'defaultRequest' | 'maxLimitRequestRatio') => {
      for (const [k, q] of Object.entries(limit[which] ?? {})) {
        errs.push(...nameFn(k, `${p}.${which}[${k}]`));
        errs.push(...validateQuantitySyntax(q, `${p}.${which}[${k}]`));
        keys.add(k);
      }
    };
    collect('max');
    collect('min');
    if (limit.type === 'Pod') {
      if (Object.keys(limit.default ?? {}).length > 0) errs.push(forbidden(`${p}.default`, "may not be specified when `type` is 'Pod'"));
      if (Object.keys(limit.defaultRequest ?? {}).length > 0) errs.push(forbidden(`${p}.defaultRequest`, "may not be specified when `type` is 'Pod'"));
    } else {
      collect('default');
      collect('defaultRequest');
    }
    if (limit.type === 'PersistentVolumeClaim' && limit.min?.storage === undefined && limit.max?.storage === undefined)
      errs.push(required(`${p}.limits`, 'either minimum or maximum storage value is required, but neither was provided'));
    collect('maxLimitRequestRatio');
    const ok = (q: string | undefined): q is string => q !== undefined && validateQuantitySyntax(q, '').length === 0;
    for (const k of keys) {
      const min = limit.min?.[k];
      const max = limit.max?.[k];
      const def = limit.type === 'Pod' ? undefined : limit.default?.[k];
      const defReq = limit.type === 'Pod' ? undefined : limit.defaultRequest?.[k];
      const ratio = limit.maxLimitRequestRatio?.[k];
      const cmp = (a: string, b: string) => compareQuantities(a, b);
      // Upstream quotes quantities in their canonical form (Quantity.String()).
      const c = (q: string) => canonicalQuantity(q);
      if (ok(min) && ok(max) && cmp(min, max) > 0) errs.push(invalid(`${p}.min[${k}]`, c(min), `min value ${c(min)} is greater than max value ${c(max)}`));
      if (ok(defReq) && ok(min) && cmp(min, defReq) > 0)
        errs.push(invalid(`${p}.defaultRequest[${k}]`, c(defReq), `min value ${c(min)} is greater than default request value ${c(defReq)}`));
      if (ok(defReq) && ok(max) && cmp(defReq, max) > 0)
        errs.push(invalid(`${p}.defaultRequest[${k}]`, c(defReq), `default request value ${c(defReq)} is greater than max value ${c(max)}`));
      if (ok(defReq) && ok(def) && cmp(defReq, def) > 0)
        errs.push(invalid(`${p}.defaultRequest[${k}]`, c(defReq), `default request value ${c(defReq)} is greater than default limit value ${c(def)}`));
      if (ok(def) && ok(min) && cmp(min, def) > 0) errs.push(invalid(`${p}.default[${k}]`, c(min), `min value ${c(min)} is greater than default value ${c(def)}`));
      if (ok(def) && ok(max) && cmp(def, max) > 0) errs.push(invalid(`${p}.default[${k}]`, c(max), `default value ${c(def)} is greater than max value ${c(max)}`));
      if (ok(ratio) && cmp(ratio, '1') < 0) errs.push(invalid(`${p}.maxLimitRequestRatio[${k}]`, c(ratio), `ratio ${c(ratio)} is less than 1`));
      if (ok(ratio) && ok(min) && ok(max)) {
        const limitRatio = parseQuantity(max) / parseQuantity(min);
        if (parseQuantity(ratio) > limitRatio)
          errs.push(invalid(`${p}.maxLimitRequestRatio[${k}]`, c(ratio), `ratio ${c(ratio)} is greater than max/min = ${limitRatio.toFixed(6)}`));
      }
      if (OVERCOMMIT_FORBIDDEN(k) && ok(def) && ok(defReq) && cmp(def, defReq) !== 0)
        errs.push(invalid(`${p}.defaultRequest[${k}]`, c(defReq), `default value ${c(def)} must equal to defaultRequest value ${c(defReq)} in ${k}`));
    }
  });
  return errs;
}
