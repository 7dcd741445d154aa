import { humanDuration, type ColumnDefinition } from '../table.js';
import type { KubeObject } from '../../storage/object-storage.js';
import { canonicalQuantity } from './quantity.js';

/**
 * Shared pieces of the per-kind printers: column builders, the well-known column descriptions, and the small
 * formatting helpers upstream's pkg/printers/internalversion uses (label/selector formatting, container layout,
 * timestamps). Objects arrive as plain JSON (the served version), so every field is read defensively.
 */

export type Obj = Record<string, unknown>;

export function col(name: string, type: ColumnDefinition['type'], description: string, priority = 0, format = ''): ColumnDefinition {
  return { name, type, format, description, priority };
}

/** metav1.ObjectMeta{}.SwaggerDoc()["name"] and ["creationTimestamp"]. */
export const NAME_DOC =
  'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names';
export const CREATION_DOC =
  'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata';

export const nameCol = (): ColumnDefinition => col('Name', 'string', NAME_DOC, 0, 'name');
export const ageCol = (): ColumnDefinition => col('Age', 'string', CREATION_DOC);
export const containersCol = (priority = 1): ColumnDefinition => col('Containers', 'string', 'Names of each container in the template.', priority);
export const imagesCol = (priority = 1): ColumnDefinition => col('Images', 'string', 'Images referenced by each container in the template.', priority);

// ---- defensive accessors ----

export function rec(v: unknown): Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {};
}

export function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

export function recs(v: unknown): Obj[] {
  return arr(v).map(rec);
}

export function str(v: unknown): string {
  return typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v);
}

/** A string field, or undefined when absent (Go's *string nil). */
export function optStr(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

export function int(v: unknown, dflt = 0): number {
  if (typeof v === 'number' && Number.isFinite(v)) return Math.trunc(v);
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Math.trunc(Number(v));
  return dflt;
}

/** An integer field, or undefined when absent (Go's *int32 nil). */
export function optInt(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? Math.trunc(v) : undefined;
}

export function spec(o: KubeObject): Obj {
  return rec(o.spec);
}

export function status(o: KubeObject): Obj {
  return rec(o.status);
}

export function nameOf(o: KubeObject): string {
  return o.metadata.name ?? '';
}

export function countKeys(v: unknown): number {
  return Object.keys(rec(v)).length;
}

// ---- time ----

function parseTime(ts: unknown): number | undefined {
  if (typeof ts !== 'string' || ts === '') return undefined;
  const t = Date.parse(ts);
  return Number.isNaN(t) ? undefined : t;
}

/** translateTimestampSince: "<unknown>" for a zero/absent time, else HumanDuration(now - t). */
export function since(ts: unknown, now: Date): string {
  const t = parseTime(ts);
  if (t === undefined) return '<unknown>';
  return humanDuration(now.getTime() - t);
}

export function hasTime(ts: unknown): boolean {
  return parseTime(ts) !== undefined;
}

export function timeMs(ts: unknown): number | undefined {
  return parseTime(ts);
}

export function ageOf(o: KubeObject, now: Date): string {
  return since(o.metadata.creationTimestamp, now);
}

// ---- labels and selectors ----

/** labels.FormatLabels: sorted k=v pairs joined by ",", "<none>" when empty. */
export function formatLabels(m: unknown): string {
  const s = labelSetString(m);
  return s === '' ? '<none>' : s;
}

function labelSetString(m: unknown): string {
  const r = rec(m);
  return Object.keys(r)
    .sort()
    .map((k) => `${k}=${str(r[k])}`)
    .join(',');
}

/**
 * The string form of metav1.LabelSelectorAsSelector(sel).String(): requirements sorted by key; matchLabels as k=v,
 * In/NotIn as "k in (a,b)" with sorted values, Exists as "k", DoesNotExist as "!k". Nil or empty selects "" here.
 * Returns undefined for a selector that does not convert (upstream's error case).
 */
export function labelSelectorString(sel: unknown): string | undefined {
  if (sel === null || sel === undefined) return '';
  const s = rec(sel);
  const reqs: Array<{ key: string; text: string }> = [];
  const ml = rec(s.matchLabels);
  for (const k of Object.keys(ml)) reqs.push({ key: k, text: `${k}=${str(ml[k])}` });
  for (const e of recs(s.matchExpressions)) {
    const key = str(e.key);
    const values = arr(e.values).map(str);
    const sorted = [...values].sort();
    switch (e.operator) {
      case 'In':
        if (values.length === 0) return undefined;
        reqs.push({ key, text: `${key} in (${sorted.join(',')})` });
        break;
      case 'NotIn':
        if (values.length === 0) return undefined;
        reqs.push({ key, text: `${key} notin (${sorted.join(',')})` });
        break;
      case 'Exists':
        if (values.length > 0) return undefined;
        reqs.push({ key, text: key });
        break;
      case 'DoesNotExist':
        if (values.length > 0) return undefined;
        reqs.push({ key, text: `!${key}` });
        break;
      default:
        return undefined;
    }
  }
  // Selector.Add sorts requirements by key (a stable sort here; upstream's ties are between identical keys only).
  reqs.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return reqs.map((r) => r.text).join(',');
}

/** metav1.FormatLabelSelector: "<none>" for an empty selector, "<error>" for one that does not convert. */
export function formatLabelSelector(sel: unknown): string {
  const s = labelSelectorString(sel);
  if (s === undefined) return '<error>';
  return s === '' ? '<none>' : s;
}

// ---- containers ----

/** layoutContainerCells: container names and images, each joined with ",". */
export function layoutContainerCells(containers: unknown): [string, string] {
  const cs = recs(containers);
  return [cs.map((c) => str(c.name)).join(','), cs.map((c) => str(c.image)).join(',')];
}

export function templateContainers(template: unknown): unknown {
  return rec(rec(template).spec).containers;
}

// ---- misc ----

/** IntOrString.String(). */
export function intOrString(v: unknown): string {
  if (typeof v === 'number') return String(Math.trunc(v));
  return str(v);
}

/**
 * resource.Quantity.String() of a stored quantity: its canonical form ("1024Mi" prints "1Gi"); an absent quantity is
 * the zero Quantity, "0". Text that is not a quantity (upstream would have refused it) prints as stored.
 */
export function quantity(v: unknown): string {
  if (typeof v === 'number') return canonicalQuantity(v) ?? String(v);
  if (typeof v === 'string' && v !== '') return canonicalQuantity(v) ?? v;
  return '0';
}

/** (*resource.Quantity).String(): a nil pointer prints "<nil>". */
export function quantityPtr(v: unknown): string {
  if (v === undefined || v === null) return '<nil>';
  return quantity(v);
}

export function printBoolPtr(v: unknown): string {
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  return '<unset>';
}

/** net.JoinHostPort. */
export function joinHostPort(host: string, port: number | string): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** listWithMoreString. */
export function listWithMore(list: string[], more: boolean, count: number, max: number): string {
  const ret = list.join(',');
  if (more) return `${ret} + ${count - max} more...`;
  return ret === '' ? '<unset>' : ret;
}

/** The controller owner reference, as metav1.GetControllerOf finds it. */
export function controllerOf(o: KubeObject): { apiVersion: string; kind: string; name: string } | undefined {
  return (o.metadata.ownerReferences ?? []).find((r) => r.controller === true);
}
