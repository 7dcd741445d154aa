import { ErrCompacted, ErrFutureRev, op, type KeyValue, type Store, type Watch } from '../../store/index.js';
import { alreadyExists, ApiError, badRequest, conflict, gone, notFound } from '../http/status.js';
import { apiVersionOf, storagePrefix, type ResourceDef } from '../resources.js';

/** An API object as JSON, with at least its metadata. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name?: string;
    generateName?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    creationTimestamp?: string;
    deletionTimestamp?: string;
    deletionGracePeriodSeconds?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    finalizers?: string[];
    ownerReferences?: Array<{ apiVersion: string; kind: string; name: string; uid: string; controller?: boolean; blockOwnerDeletion?: boolean }>;
    [k: string]: unknown;
  };
  [k: string]: unknown;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchEvent {
  type: WatchEventType;
  object: KubeObject | Record<string, unknown>;
  /**
   * For MODIFIED/DELETED: the object before the change, so selectors can turn transitions into ADDED/DELETED. May be
   * computed on first read (withLazyPrevious): test for it with `'previous' in event` when its value is not needed.
   */
  previous?: KubeObject;
  /**
   * For a PUT read from the store: the object as stored, whose `object` is then parsed only when first read. A watcher
   * without a selector never needs it parsed: what it is sent can be made from these bytes (typedJson).
   */
  stored?: StoredObject;
  /** The object's JSON as watchers are sent it (typed), made once for all of them; absent: serialize `object`. */
  json?: () => string;
}

/** An object as the store holds it: its JSON without resourceVersion, which is the revision of its last write. */
export interface StoredObject {
  value: string;
  revision: number;
  namespace: string | undefined;
}

export interface EncodedListResult {
  /** Each item's JSON, as sent. */
  items: string[];
  resourceVersion: string;
  continue?: string;
}

export interface ListResult {
  items: KubeObject[];
  resourceVersion: string;
  continue?: string;
  remainingItemCount?: number;
}

export interface ListOptions {
  limit?: number;
  continue?: string;
  /** Keep only objects this predicate accepts (label and field selectors). */
  filter?: (o: KubeObject) => boolean;
}

interface ContinueToken {
  rv: number;
  start: string;
}

function encodeContinue(t: ContinueToken): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', ...t })).toString('base64url');
}

function decodeContinue(s: string): ContinueToken {
  try {
    const t = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as { rv?: unknown; start?: unknown };
    if (typeof t.rv === 'number' && Number.isSafeInteger(t.rv) && t.rv >= 0 && typeof t.start === 'string') return { rv: t.rv, start: t.start };
  } catch {
    // fall through
  }
  throw badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
}

const storedHeads = new WeakMap<ResourceDef, string>();

/**
 * How the registry starts every object it writes: apiVersion, kind and the opening of the metadata. Made once per
 * resource: every write's answer and every watch event looks for it.
 */
function storedHead(r: ResourceDef): string {
  let head = storedHeads.get(r);
  if (head === undefined) {
    head = `{"apiVersion":${JSON.stringify(apiVersionOf(r))},"kind":${JSON.stringify(r.kind)},"metadata":{`;
    storedHeads.set(r, head);
  }
  return head;
}

/** Whether `value` is stored in the version `r` serves (as the registry writes it), so reading it as `r` converts nothing. */
export function storedAs(r: ResourceDef, value: string): boolean {
  return value.startsWith(storedHead(r));
}

/**
 * A stored object that starts with `head` (storedHead) as sent to clients: the store's revision goes in as
 * metadata.resourceVersion.
 */
function encodedWithRevision(head: string, value: string, revision: number): string {
  const rest = value.slice(head.length);
  return `${head}"resourceVersion":"${revision}"${rest.startsWith('}') ? '' : ','}${rest}`;
}

/**
 * Metadata members a client is never sent empty (upstream's omitempty), which an object may have been stored with;
 * such an object is sent as parsed and cleaned instead (Rest's typed()).
 */
const EMPTY_META: ReadonlyArray<readonly [empty: string, members: readonly string[]]> = [
  ['{}', ['"labels":', '"annotations":']],
  ['[]', ['"finalizers":', '"ownerReferences":']],
];

/**
 * Whether `value` holds one of EMPTY_META, read at each `{}` and `[]` in it (a pod has a few) rather than searched for
 * each member: four scans of every object sent took 2.5% of the main thread under the bench's creates.
 */
export function hasEmptyMeta(value: string): boolean {
  for (const [empty, members] of EMPTY_META) {
    for (let i = value.indexOf(empty); i >= 0; i = value.indexOf(empty, i + 2)) {
      for (const m of members) if (value.endsWith(m, i)) return true;
    }
  }
  return false;
}

/**
 * The JSON a watcher is sent for a stored object (apiVersion and kind first, then the object with its
 * resourceVersion) made from the stored bytes, or undefined when they are not as the registry writes them or may
 * hold an empty member that parsing would clean.
 */
export function typedJson(r: ResourceDef, stored: StoredObject): string | undefined {
  const head = storedHead(r);
  if (!stored.value.startsWith(head) || hasEmptyMeta(stored.value)) return undefined;
  return encodedWithRevision(head, stored.value, stored.revision);
}

/**
 * Gives a watch event its `previous`, computed when first read and then kept. Watchers without a selector only ask
 * whether there was an object before (`'previous' in event`), so most updates never need their old value parsed.
 */
export function withLazyPrevious(event: WatchEvent, compute: () => KubeObject): WatchEvent {
  let previous: KubeObject | undefined;
  Object.defineProperty(event, 'previous', { enumerable: true, configurable: true, get: () => (previous ??= compute()) });
  return event;
}

/**
 * The JSON a client is sent for an object a write of this module returned (typedJson of the bytes it stored), so the
 * answer to a create or an update is not serialized a second time. Kept only for the object as returned: a copy or a
 * changed object has none, and is serialized. Whoever holds such an object must not change it.
 */
const writtenJson = new WeakMap<object, string>();

/** The JSON a client is sent for `obj`, when a write made it from the stored bytes (see writtenJson). */
export function knownJson(obj: object): string | undefined {
  return writtenJson.get(obj);
}

/** Gives `to`, a typed copy of `from` that serializes the same, `from`'s known JSON. */
export function carryKnownJson<T extends object>(from: object, to: T): T {
  const json = writtenJson.get(from);
  if (json !== undefined) writtenJson.set(to, json);
  return to;
}

/** The object a write returns: `obj` at its new revision, with the JSON of what was stored when it can be had. */
function written(r: ResourceDef, obj: KubeObject, value: string, revision: number): KubeObject {
  const out = { ...obj, metadata: { ...obj.metadata, resourceVersion: String(revision) } };
  const json = typedJson(r, { value, revision, namespace: obj.metadata.namespace });
  if (json !== undefined) writtenJson.set(out, json);
  return out;
}

/**
 * A PUT's event, its object parsed when first read: the watch cache holds a window of recent events, and parsed
 * objects in it outlived the young generation, so every write cost the garbage collector a copy of a whole object
 * graph that watchers without a selector never read.
 */
function storedEvent(type: 'ADDED' | 'MODIFIED', kv: KeyValue, namespace: string | undefined): WatchEvent {
  let object: KubeObject | undefined;
  const event = { type, stored: { value: kv.value, revision: kv.modRevision, namespace } } as WatchEvent;
  Object.defineProperty(event, 'object', { enumerable: true, configurable: true, get: () => (object ??= decode(kv)) });
  return event;
}

function decode(kv: KeyValue): KubeObject {
  const obj = JSON.parse(kv.value) as KubeObject;
  obj.metadata.resourceVersion = String(kv.modRevision);
  return obj;
}

/** What is written to the store: the object without its resourceVersion, which the store's revision supplies. */
function encode(obj: KubeObject): string {
  const { resourceVersion: _rv, ...metadata } = obj.metadata;
  return JSON.stringify({ ...obj, metadata });
}

export function parseResourceVersion(rv: string | undefined, what = 'resourceVersion'): number | undefined {
  if (rv === undefined || rv === '') return undefined;
  if (!/^\d+$/.test(rv)) throw badRequest(`invalid ${what}: "${rv}"`);
  return Number(rv);
}

export interface ReadOptions {
  /** From the store member's local state, without the consistent read's round: possibly stale (RangeRequest.serializable). */
  readonly serializable?: boolean;
}

/**
 * API objects on the key-value store, laid out as upstream's /registry/<resource>/<namespace>/<name>. The store's
 * revisions are the resourceVersions; compare-and-swap gives optimistic concurrency.
 */
export class ObjectStorage {
  /** One lease shared by all writes within a minute, as upstream's lease manager reuses leases for event TTLs. */
  private lease: { id: number; until: number; ttl: number } | undefined;

  constructor(
    readonly store: Store,
    /** Seconds objects of a resource live after their last write (events: --event-ttl); absent: forever. */
    private readonly ttlFor: (r: ResourceDef) => number | undefined = () => undefined,
    private readonly now: () => number = Date.now,
  ) {}

  private async leaseFor(r: ResourceDef): Promise<number | undefined> {
    const ttl = this.ttlFor(r);
    if (!ttl) return undefined;
    const now = this.now();
    if (this.lease && this.lease.ttl === ttl && now < this.lease.until) return this.lease.id;
    const reuseMs = 60_000;
    const granted = await this.store.leaseGrant(ttl + reuseMs / 1000);
    this.lease = { id: granted.id, until: now + reuseMs, ttl };
    return granted.id;
  }

  key(r: ResourceDef, namespace: string | undefined, name: string): string {
    return r.namespaced ? `${storagePrefix(r)}${namespace}/${name}` : `${storagePrefix(r)}${name}`;
  }

  prefix(r: ResourceDef, namespace: string | undefined): string {
    return r.namespaced && namespace ? `${storagePrefix(r)}${namespace}/` : storagePrefix(r);
  }

  async get(r: ResourceDef, namespace: string | undefined, name: string, opts: ReadOptions = {}): Promise<KubeObject> {
    const res = await this.store.range({ key: this.key(r, namespace, name), ...(opts.serializable ? { serializable: true } : {}) });
    const kv = res.kvs[0];
    if (!kv) throw notFound(r.group, r.resource, name);
    return decode(kv);
  }

  async tryGet(r: ResourceDef, namespace: string | undefined, name: string, opts: ReadOptions = {}): Promise<KubeObject | undefined> {
    const res = await this.store.range({ key: this.key(r, namespace, name), ...(opts.serializable ? { serializable: true } : {}) });
    return res.kvs[0] ? decode(res.kvs[0]) : undefined;
  }

  async list(r: ResourceDef, namespace: string | undefined, opts: ListOptions = {}): Promise<ListResult> {
    const filter = opts.filter;
    return this.scan(r, namespace, opts, (kv) => {
      const obj = decode(kv);
      return filter && !filter(obj) ? undefined : obj;
    });
  }

  /**
   * A list whose items are the JSON a client is sent (apiVersion and kind first, then the object with its
   * resourceVersion), made from the bytes the store holds: an object the filter need not see is never parsed, and
   * none is serialized again.
   */
  async listEncoded(r: ResourceDef, namespace: string | undefined, opts: ListOptions = {}): Promise<EncodedListResult> {
    const filter = opts.filter;
    const head = storedHead(r);
    return this.scan(r, namespace, opts, (kv) => {
      const asStored = kv.value.startsWith(head);
      if (!filter && asStored) return encodedWithRevision(head, kv.value, kv.modRevision);
      // Stored in another version (see fromStored): the object as `r` reads it.
      const obj = asStored ? decode(kv) : this.fromStored(r, decode(kv));
      if (filter && !filter(obj)) return undefined;
      if (asStored) return encodedWithRevision(head, kv.value, kv.modRevision);
      const { apiVersion: _a, kind: _k, ...rest } = obj;
      return JSON.stringify({ apiVersion: apiVersionOf(r), kind: r.kind, ...rest });
    });
  }

  /**
   * An object as `r` reads it when stored in another version (a kind served in several versions, see
   * ConvertingStorage); here, as stored.
   */
  protected fromStored(_r: ResourceDef, obj: KubeObject): KubeObject {
    return obj;
  }

  /** Reads a resource's objects in key order at one revision, keeping what `take` makes of each (undefined: skip). */
  private async scan<T>(r: ResourceDef, namespace: string | undefined, opts: ListOptions, take: (kv: KeyValue) => T | undefined): Promise<{ items: T[]; resourceVersion: string; continue?: string }> {
    const prefix = this.prefix(r, namespace);
    const end = `${prefix.slice(0, -1)}${String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1)}`;
    let revision: number | undefined;
    let start = prefix;
    if (opts.continue) {
      const t = decodeContinue(opts.continue);
      if (!t.start.startsWith(prefix)) throw badRequest('continue key is not valid for this request');
      revision = t.rv;
      start = t.start;
    }
    const limit = opts.limit && opts.limit > 0 ? opts.limit : undefined;
    const items: T[] = [];
    let more = false;
    let lastKey = '';
    try {
      // Read in pages at one revision until `limit` objects pass the filter: a consistent snapshot across pages.
      for (;;) {
        const page = await this.store.range({ key: start, rangeEnd: end, ...(revision !== undefined ? { revision } : {}), ...(limit ? { limit: Math.max(limit, 100) } : {}) });
        revision ??= page.header.revision;
        for (const kv of page.kvs) {
          lastKey = kv.key;
          const item = take(kv);
          if (item === undefined) continue;
          items.push(item);
          if (limit && items.length >= limit) break;
        }
        if (limit && items.length >= limit) {
          const rest = await this.store.range({ key: `${lastKey}\0`, rangeEnd: end, revision, countOnly: true });
          more = rest.count > 0;
          break;
        }
        if (!page.more) break;
        start = `${lastKey}\0`;
      }
    } catch (err) {
      if (err instanceof ErrCompacted) {
        throw new ApiError(410, 'Expired', 'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.');
      }
      // Only a continue token names a revision here: one from the future was not issued by this server.
      if (err instanceof ErrFutureRev) throw badRequest('continue key is not valid: its resourceVersion is newer than the current one');
      throw err;
    }
    const rv = String(revision ?? 0);
    return { items, resourceVersion: rv, ...(more ? { continue: encodeContinue({ rv: revision ?? 0, start: `${lastKey}\0` }) } : {}) };
  }

  /** Creates; AlreadyExists when the key is taken. */
  async create(r: ResourceDef, obj: KubeObject): Promise<KubeObject> {
    const key = this.key(r, obj.metadata.namespace, obj.metadata.name ?? '');
    const lease = await this.leaseFor(r);
    const value = encode(obj);
    const res = await this.store.txn({ compare: [op.createRevision(key, '=', 0)], success: [op.put(key, value, lease ? { lease } : {})], failure: [] });
    if (!res.succeeded) throw alreadyExists(r.group, r.resource, obj.metadata.name ?? '');
    return written(r, obj, value, res.header.revision);
  }

  /**
   * Replaces the object if it still is at `expectedRevision` (the caller read it there); a Conflict otherwise, so
   * concurrent writers never lose each other's changes.
   */
  async update(r: ResourceDef, obj: KubeObject, expectedRevision: number): Promise<KubeObject> {
    const name = obj.metadata.name ?? '';
    const key = this.key(r, obj.metadata.namespace, name);
    const lease = await this.leaseFor(r);
    const value = encode(obj);
    const res = await this.store.txn({ compare: [op.modRevision(key, '=', expectedRevision)], success: [op.put(key, value, lease ? { lease } : {})], failure: [op.get(key)] });
    if (!res.succeeded) {
      const current = res.responses[0];
      const exists = current && 'kvs' in current && current.kvs.length > 0;
      if (!exists) throw notFound(r.group, r.resource, name);
      throw conflict(r.group, r.resource, name, 'the object has been modified; please apply your changes to the latest version and try again');
    }
    return written(r, obj, value, res.header.revision);
  }

  /** Deletes the object if it is still at `expectedRevision`. */
  async delete(r: ResourceDef, namespace: string | undefined, name: string, expectedRevision: number): Promise<KubeObject> {
    const key = this.key(r, namespace, name);
    const res = await this.store.txn({ compare: [op.modRevision(key, '=', expectedRevision)], success: [op.del(key, { prevKv: true })], failure: [op.get(key)] });
    if (!res.succeeded) {
      const current = res.responses[0];
      const exists = current && 'kvs' in current && current.kvs.length > 0;
      if (!exists) throw notFound(r.group, r.resource, name);
      throw conflict(r.group, r.resource, name, 'the object has been modified; please apply your changes to the latest version and try again');
    }
    const del = res.responses[0];
    const prev = del && 'prevKvs' in del ? del.prevKvs?.[0] : undefined;
    const obj = prev ? decode(prev) : ({ metadata: { name, namespace } } as KubeObject);
    obj.metadata.resourceVersion = String(res.header.revision);
    return obj;
  }

  /**
   * Watches a resource (optionally one namespace) from just after `fromRevision`. 410 Gone when that revision was
   * compacted away, as upstream's "too old resource version".
   */
  async watch(r: ResourceDef, namespace: string | undefined, fromRevision: number, onEvent: (e: WatchEvent) => void, onError: (e: ApiError) => void): Promise<Watch> {
    const prefix = this.prefix(r, namespace);
    // A namespaced resource's keys are <prefix><namespace>/<name>.
    const resourcePrefix = storagePrefix(r);
    const namespaceOf = (key: string): string | undefined => (r.namespaced ? key.slice(resourcePrefix.length, key.indexOf('/', resourcePrefix.length)) : undefined);
    return this.store.watch({ key: prefix, prefix: true, startRevision: fromRevision + 1, prevKv: true, progressNotify: true }, (msg) => {
      if (msg.type === 'events') {
        for (const e of msg.events) {
          if (e.type === 'PUT') {
            const event = storedEvent(e.kv.createRevision === e.kv.modRevision ? 'ADDED' : 'MODIFIED', e.kv, namespaceOf(e.kv.key));
            const prevKv = e.prevKv;
            onEvent(prevKv ? withLazyPrevious(event, () => decode(prevKv)) : event);
          } else {
            const previous = e.prevKv ? decode(e.prevKv) : undefined;
            if (!previous) continue;
            const object = { ...previous, metadata: { ...previous.metadata, resourceVersion: String(e.kv.modRevision) } };
            onEvent({ type: 'DELETED', object, previous });
          }
        }
      } else if (msg.type === 'progress') {
        onEvent({ type: 'BOOKMARK', object: { metadata: { resourceVersion: String(msg.revision) } } });
      } else if (msg.type === 'error') {
        const err = msg.error;
        if (err instanceof ErrCompacted) onError(gone(`too old resource version: ${fromRevision} (${err.compactRevision})`));
        else onError(new ApiError(500, 'InternalError', err.message));
      }
    });
  }

  async currentRevision(): Promise<number> {
    const res = await this.store.range({ key: '/registry/', countOnly: true });
    return res.header.revision;
  }
}
