import type { ResourceDef } from '../resources.js';
import type { KubeObject } from '../storage/object-storage.js';

/**
 * Server-side printing: the meta.k8s.io/v1 Table that `kubectl get` asks for, with upstream's columns per kind.
 * Printers for specific kinds register here; every other kind prints NAME and AGE, as upstream's default.
 */
export interface ColumnDefinition {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  format: string;
  description: string;
  priority: number;
}

export interface KindPrinter {
  columns: ColumnDefinition[];
  cells(obj: KubeObject, now: Date): unknown[];
}

const printers = new Map<string, KindPrinter>();

export function registerPrinter(group: string, kind: string, printer: KindPrinter): void {
  printers.set(`${group}/${kind}`, printer);
}

export const nameColumn: ColumnDefinition = {
  name: 'Name',
  type: 'string',
  format: 'name',
  description:
    'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names',
  priority: 0,
};
export const ageColumn: ColumnDefinition = {
  name: 'Age',
  type: 'string',
  format: '',
  description:
    'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata',
  priority: 0,
};

/** Ages the way kubectl shows them (upstream's duration.HumanDuration): 5s, 3m12s, 2d4h, 3y. */
export function humanDuration(ms: number): string {
  // Go's int(d.Seconds()) truncates toward zero; up to a second in the future is tolerated as clock skew ("0s").
  const s = Math.trunc(ms / 1000);
  if (s < -1) return '<invalid>';
  if (s < 0) return '0s';
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  if (h < 192) return h % 24 === 0 ? `${Math.floor(h / 24)}d` : `${Math.floor(h / 24)}d${h % 24}h`;
  if (h < 24 * 365 * 2) return `${Math.floor(h / 24)}d`;
  if (h < 24 * 365 * 8) {
    const y = Math.floor(h / 24 / 365);
    const d = Math.floor(h / 24) % 365;
    return d === 0 ? `${y}y` : `${y}y${d}d`;
  }
  return `${Math.floor(h / 24 / 365)}y`;
}

export function age(obj: KubeObject, now: Date): string {
  const ts = obj.metadata.creationTimestamp;
  if (!ts) return '<unknown>';
  return humanDuration(now.getTime() - new Date(ts).getTime());
}

const defaultPrinter: KindPrinter = {
  columns: [nameColumn, ageColumn],
  cells: (obj, now) => [obj.metadata.name ?? '', age(obj, now)],
};

export function printerFor(def: ResourceDef): KindPrinter {
  return printers.get(`${def.group}/${def.kind}`) ?? defaultPrinter;
}

export type IncludeObject = 'None' | 'Metadata' | 'Object';

function rowObject(def: ResourceDef, obj: KubeObject, include: IncludeObject): Record<string, unknown> | undefined {
  if (include === 'None') return undefined;
  if (include === 'Object') return obj;
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata };
}

export function toTable(
  def: ResourceDef,
  objects: KubeObject[],
  opts: { now: Date; include: IncludeObject; resourceVersion?: string; continue?: string; noHeaders?: boolean },
): Record<string, unknown> {
  const printer = printerFor(def);
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { ...(opts.resourceVersion ? { resourceVersion: opts.resourceVersion } : {}), ...(opts.continue ? { continue: opts.continue } : {}) },
    ...(opts.noHeaders ? {} : { columnDefinitions: printer.columns }),
    rows: objects.map((o) => {
      const object = rowObject(def, o, opts.include);
      return { cells: printer.cells(o, opts.now), ...(object ? { object } : {}) };
    }),
  };
}
