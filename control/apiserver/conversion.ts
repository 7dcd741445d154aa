import { compactObject, HorizontalPodAutoscaler, hpaV1ToV2, hpaV2ToV1 } from '../api/index.js';
import type { Watch } from '../store/index.js';
import type { ApiError } from './http/status.js';
import type { ResourceDef } from './resources.js';
import { ObjectStorage, storedAs, withLazyPrevious, type KubeObject, type ListOptions, type ListResult, type ReadOptions, type WatchEvent } from './storage/object-storage.js';

/**
 * Kinds served in more than one version are stored in one of them (upstream's storage version) and converted on the
 * way in and out: autoscaling/v1 HorizontalPodAutoscalers are stored as autoscaling/v2 (targetCPUUtilizationPercentage
 * as a CPU Utilization metric, currentCPUUtilizationPercentage from the current CPU metric), so both versions read
 * and write the same objects.
 */
export interface StorageConversion {
  toStorage(obj: KubeObject): KubeObject;
  fromStorage(obj: KubeObject): KubeObject;
}

/** v1 as written by Skiff before conversion existed is still read. */
const storedAsV1 = (obj: KubeObject): boolean => obj.apiVersion === 'autoscaling/v1';

function asStoredV2(v2: Record<string, unknown>): KubeObject {
  const parsed = HorizontalPodAutoscaler.safeParse(v2);
  return (parsed.success ? compactObject(parsed.data as unknown as Record<string, unknown>) : v2) as unknown as KubeObject;
}

const HPA_V1: StorageConversion = {
  toStorage: (obj) => asStoredV2(hpaV1ToV2(obj)),
  fromStorage: (obj) => (storedAsV1(obj) ? obj : (hpaV2ToV1(obj) as unknown as KubeObject)),
};

const HPA_V2: StorageConversion = {
  toStorage: (obj) => obj,
  fromStorage: (obj) => (storedAsV1(obj) ? asStoredV2(hpaV1ToV2(obj)) : obj),
};

/**
 * Events: core/v1 and events.k8s.io/v1 serve the same objects, stored as core/v1 (upstream's storage version). The
 * two differ in member names only: upstream's conversion renames these (events.k8s.io/v1 name, core/v1 name) and
 * copies the rest as it is (reason, type, action, eventTime, series, related, reportingInstance, metadata).
 */
const EVENT_RENAMES: ReadonlyArray<readonly [string, string]> = [
  ['regarding', 'involvedObject'],
  ['note', 'message'],
  ['deprecatedSource', 'source'],
  ['deprecatedFirstTimestamp', 'firstTimestamp'],
  ['deprecatedLastTimestamp', 'lastTimestamp'],
  ['deprecatedCount', 'count'],
  ['reportingController', 'reportingComponent'],
];

/** `obj` in another version: apiVersion set, members renamed (from → to), their order kept. */
function renamed(obj: KubeObject, apiVersion: string, renames: ReadonlyMap<string, string>): KubeObject {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) out[k === 'apiVersion' ? k : (renames.get(k) ?? k)] = k === 'apiVersion' ? apiVersion : v;
  return out as KubeObject;
}

const TO_CORE_EVENT = new Map(EVENT_RENAMES);
const TO_EVENTS_V1 = new Map(EVENT_RENAMES.map(([v1, core]) => [core, v1] as const));
/** Written through events.k8s.io/v1 by Skiff before conversion existed: stored in that version, still read. */
const storedAsEventsV1 = (obj: KubeObject): boolean => obj.apiVersion === 'events.k8s.io/v1';
const toCoreEvent = (obj: KubeObject): KubeObject => renamed(obj, 'v1', TO_CORE_EVENT);
const toEventsV1 = (obj: KubeObject): KubeObject => renamed(obj, 'events.k8s.io/v1', TO_EVENTS_V1);

const CORE_EVENT: StorageConversion = {
  toStorage: (obj) => obj,
  fromStorage: (obj) => (storedAsEventsV1(obj) ? toCoreEvent(obj) : obj),
};

const EVENTS_V1_EVENT: StorageConversion = {
  toStorage: (obj) => toCoreEvent(obj),
  fromStorage: (obj) => (storedAsEventsV1(obj) ? obj : toEventsV1(obj)),
};

export function storageConversion(def: ResourceDef): StorageConversion | undefined {
  if (def.resource === 'events' && def.kind === 'Event') {
    if (def.group === '') return CORE_EVENT;
    if (def.group === 'events.k8s.io') return EVENTS_V1_EVENT;
  }
  if (def.group !== 'autoscaling' || def.resource !== 'horizontalpodautoscalers') return undefined;
  return def.version === 'v1' ? HPA_V1 : HPA_V2;
}

/** ObjectStorage that converts the kinds above between the version a request names and the stored one. */
export class ConvertingStorage extends ObjectStorage {
  protected override fromStored(r: ResourceDef, obj: KubeObject): KubeObject {
    const c = storageConversion(r);
    return c ? c.fromStorage(obj) : obj;
  }

  override async get(r: ResourceDef, namespace: string | undefined, name: string, opts: ReadOptions = {}): Promise<KubeObject> {
    return this.fromStored(r, await super.get(r, namespace, name, opts));
  }

  override async tryGet(r: ResourceDef, namespace: string | undefined, name: string, opts: ReadOptions = {}): Promise<KubeObject | undefined> {
    const obj = await super.tryGet(r, namespace, name, opts);
    return obj && this.fromStored(r, obj);
  }

  override async list(r: ResourceDef, namespace: string | undefined, opts: ListOptions = {}): Promise<ListResult> {
    const c = storageConversion(r);
    if (!c) return super.list(r, namespace, opts);
    const filter = opts.filter;
    const res = await super.list(r, namespace, { ...opts, ...(filter ? { filter: (o: KubeObject) => filter(c.fromStorage(o)) } : {}) });
    return { ...res, items: res.items.map((o) => c.fromStorage(o)) };
  }

  override async create(r: ResourceDef, obj: KubeObject): Promise<KubeObject> {
    const c = storageConversion(r);
    if (!c) return super.create(r, obj);
    return c.fromStorage(await super.create(r, c.toStorage(obj)));
  }

  override async update(r: ResourceDef, obj: KubeObject, expectedRevision: number): Promise<KubeObject> {
    const c = storageConversion(r);
    if (!c) return super.update(r, obj, expectedRevision);
    return c.fromStorage(await super.update(r, c.toStorage(obj), expectedRevision));
  }

  override async delete(r: ResourceDef, namespace: string | undefined, name: string, expectedRevision: number): Promise<KubeObject> {
    return this.fromStored(r, await super.delete(r, namespace, name, expectedRevision));
  }

  override async watch(r: ResourceDef, namespace: string | undefined, fromRevision: number, onEvent: (e: WatchEvent) => void, onError: (e: ApiError) => void): Promise<Watch> {
    const c = storageConversion(r);
    if (!c) return super.watch(r, namespace, fromRevision, onEvent, onError);
    return super.watch(
      r,
      namespace,
      fromRevision,
      (e) => {
        if (e.type === 'BOOKMARK' || e.type === 'ERROR') return onEvent(e);
        // Stored in the version watched: nothing to convert, and the object need not be parsed (WatchEvent.stored).
        if (e.stored && storedAs(r, e.stored.value)) return onEvent(e);
        const converted: WatchEvent = { type: e.type, object: c.fromStorage(e.object as KubeObject) };
        onEvent('previous' in e ? withLazyPrevious(converted, () => c.fromStorage(e.previous as KubeObject)) : converted);
      },
      onError,
    );
  }
}
