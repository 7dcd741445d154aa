import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { FieldError } from '../api/index.js';
import { jsonEqual } from '../api/core/common.js';
import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector, SelectorError, type FieldRequirement, type Requirement } from '../api/selectors.js';
import type { UserInfo } from './authn.js';
import { ApiError, badRequest, conflict, invalid, notFound } from './http/status.js';
import { strategyFor, type Strategy } from './registry/index.js';
import { apiVersionOf, findResource, type ResourceDef } from './resources.js';
import { carryKnownJson, parseResourceVersion, typedJson, type EncodedListResult, type KubeObject, type ListResult, type ObjectStorage, type WatchEvent } from './storage/object-storage.js';
import { WatchCache } from './storage/watch-cache.js';
import { rfc3339 } from '../api/time.js';
import { generateNameSuffix } from './name-suffix.js';

/**
 * The generic REST semantics shared by every resource (upstream's generic registry Store): names, uid, timestamps,
 * generation, optimistic concurrency, status subresources, graceful deletion and finalizers. Kind-specific defaulting
 * and validation come from the kind's Strategy.
 */

export interface RequestContext {
  namespace?: string;
  /** Who the request acts as (after impersonation), for admission plugins that care (NodeRestriction, RBAC). */
  user?: UserInfo;
  /** fieldValidation=Strict. */
  strict: boolean;
  dryRun: boolean;
  now: Date;
  /** Warnings for the client (unknown fields under fieldValidation=Warn), sent as `Warning: 299` headers. */
  warnings?: string[];
}

export interface Admission {
  /**
   * Mutating admission (upstream's MutationInterface). On create it runs on the decoded, defaulted object (the
   * defaults plugins build on, such as requests copied from limits, are in place) and answers true when it changed
   * something, so the object is defaulted again; validation follows (for pods, as upstream orders it, only then: the
   * object plugins see is shaped by the schema but its values are not yet validated; other kinds are validated
   * before and after). On update it runs on the body as sent, before decoding, so plugins must not assume its shape.
   * Changes to the spec are copy-on-write: a plugin replaces `obj.spec`, and any object or list inside it that it
   * changes, with a changed copy, and never writes into one it was given. A pod's second decode finds what changed by
   * comparing against the spec as it was, which it keeps by reference instead of copying it whole on every create.
   */
  mutate?(op: 'create' | 'update', def: ResourceDef, obj: KubeObject, old: KubeObject | undefined, ctx: RequestContext): Promise<boolean>;
  /** Validating admission: runs after mutation, defaulting and validation, before the write; throws ApiError to refuse. */
  admit(op: 'create' | 'update' | 'delete', def: ResourceDef, obj: KubeObject, old: KubeObject | undefined, ctx: RequestContext): Promise<void>;
  /** Undoes what admit reserved (an allocated IP) when the write that followed it failed. */
  rollback?(op: 'create' | 'update', def: ResourceDef, obj: KubeObject, old: KubeObject | undefined): Promise<void>;
}

export { rfc3339 };

function withoutMetaAndStatus(o: KubeObject): Record<string, unknown> {
  const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = o;
  return rest;
}

export interface Selection {
  labels: Requirement[];
  fields: FieldRequirement[];
}

export function parseSelection(def: ResourceDef, query: URLSearchParams): Selection {
  try {
    const fields = parseFieldSelector(query.get('fieldSelector') ?? '');
    const strategy = strategyFor(def);
    const sample = strategy.fields?.({ metadata: {} }) ?? {};
    for (const f of fields) {
      if (f.field !== 'metadata.name' && f.field !== 'metadata.namespace' && !(f.field in sample)) {
        throw badRequest(`field label not supported: ${f.field}`);
      }
    }
    return { labels: parseLabelSelector(query.get('labelSelector') ?? ''), fields };
  } catch (err) {
    if (err instanceof SelectorError) throw badRequest(`unable to parse requirement: ${err.message.replace(/^unable to parse requirement: /, '')}`);
    throw err;
  }
}

export function selects(def: ResourceDef, sel: Selection, obj: KubeObject): boolean {
  if (!matchesLabels(sel.labels, obj.metadata.labels)) return false;
  if (sel.fields.length === 0) return true;
  const fields = { 'metadata.name': obj.metadata.name ?? '', 'metadata.namespace': obj.metadata.namespace ?? '', ...(strategyFor(def).fields?.(obj) ?? {}) };
  return matchesFields(sel.fields, fields);
}

export class Rest {
  readonly watchCache: WatchCache;
  private readonly typedWatchObjects = new WeakMap<WatchEvent, SharedWatchObject>();

  constructor(
    readonly storage: ObjectStorage,
    private readonly admission: Admission | undefined,
  ) {
    this.watchCache = new WatchCache(storage);
  }

  private typed(def: ResourceDef, obj: KubeObject): KubeObject {
    // A written object's known JSON is of its typed form already (typedJson), empty members cleaned.
    return carryKnownJson(obj, { apiVersion: apiVersionOf(def), kind: def.kind, ...obj, metadata: withoutEmptyMeta(obj.metadata) } as KubeObject);
  }

  /**
   * typed() for an object every watcher of a resource is handed (the watch cache's copy of an event): made once and
   * shared, so the server can serialize it once for all of them. Nobody may change it.
   */
  private typedShared(def: ResourceDef, e: WatchEvent): SharedWatchObject {
    let shared = this.typedWatchObjects.get(e);
    if (!shared) {
      shared = new SharedWatchObject(def, e, (o) => this.typed(def, o));
      this.typedWatchObjects.set(e, shared);
    }
    return shared;
  }

  /** Checks the body's kind/apiVersion and namespace against the URL, as upstream does before anything else. */
  private checkBody(def: ResourceDef, body: unknown, ctx: RequestContext): KubeObject {
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw badRequest('the body of the request must be a JSON or YAML object');
    const obj = body as KubeObject;
    if (obj.metadata === undefined) obj.metadata = {};
    if (typeof obj.metadata !== 'object' || obj.metadata === null || Array.isArray(obj.metadata)) throw badRequest('metadata must be an object');
    const expected = apiVersionOf(def);
    if (obj.apiVersion !== undefined && obj.apiVersion !== expected) {
      // Another version of the same group's kind would need conversion; anything else is the wrong endpoint.
      throw badRequest(`the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${expected})`);
    }
    if (obj.kind !== undefined && obj.kind !== def.kind) {
      throw badRequest(`the kind in the data (${String(obj.kind)}) does not match the expected kind (${def.kind})`);
    }
    if (def.namespaced) {
      const ns = obj.metadata.namespace;
      if (ns !== undefined && ns !== '' && ctx.namespace !== undefined && ns !== ctx.namespace) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      obj.metadata.namespace = ctx.namespace ?? ns;
    } else if (obj.metadata.namespace === '') {
      delete obj.metadata.namespace;
    }
    return obj;
  }

  async get(def: ResourceDef, ctx: RequestContext, name: string): Promise<KubeObject> {
    return this.typed(def, await this.storage.get(def, ctx.namespace, name));
  }

  /** Objects read from the store member's local state, which may be behind (see current()). */
  private readonly possiblyStale = new WeakSet<KubeObject>();

  /**
   * The stored object a write starts from. Unless `fresh`, this store member's local state, without the consistent
   * read's ReadIndex round (upstream's GuaranteedUpdate likewise starts from its watch cache): the write's
   * compare-and-swap on its resourceVersion makes a stale start a conflict, never a lost write. A caller reads again
   * with `fresh` before it answers anything the local state alone decided: NotFound, a resourceVersion that differs
   * from the request's, or a write that changes nothing (replace() throws StaleRead for that one).
   */
  async current(def: ResourceDef, ctx: RequestContext, name: string, fresh: boolean): Promise<KubeObject> {
    if (!fresh && !ctx.dryRun) {
      const local = await this.storage.tryGet(def, ctx.namespace, name, { serializable: true });
      if (local) {
        const obj = this.typed(def, local);
        this.possiblyStale.add(obj);
        return obj;
      }
    }
    return this.get(def, ctx, name);
  }

  /** Whether `obj` came from current() without `fresh`. */
  isPossiblyStale(obj: KubeObject): boolean {
    return this.possiblyStale.has(obj);
  }

  async list(def: ResourceDef, ctx: RequestContext, sel: Selection, opts: { limit?: number; continue?: string }): Promise<ListResult> {
    const res = await this.storage.list(def, ctx.namespace, { ...opts, filter: (o) => selects(def, sel, o) });
    return res;
  }

  /** list() with each item as the JSON a client is sent (see ObjectStorage.listEncoded). */
  async listEncoded(def: ResourceDef, ctx: RequestContext, sel: Selection, opts: { limit?: number; continue?: string }): Promise<EncodedListResult> {
    const selective = sel.labels.length > 0 || sel.fields.length > 0;
    return this.storage.listEncoded(def, ctx.namespace, { ...opts, ...(selective ? { filter: (o: KubeObject) => selects(def, sel, o) } : {}) });
  }

  async create(def: ResourceDef, ctx: RequestContext, body: unknown): Promise<KubeObject> {
    const strategy = strategyFor(def);
    const obj = this.checkBody(def, body, ctx);
    const meta = obj.metadata;
    if (meta.resourceVersion) {
      throw invalid(def.kind, def.group, meta.name ?? '', [{ type: 'FieldValueInvalid', field: 'metadata.resourceVersion', value: meta.resourceVersion, detail: 'must be empty' }]);
    }
    if (!meta.name && meta.generateName) meta.name = `${meta.generateName}${generateNameSuffix()}`;
    meta.uid = randomUUID();
    meta.creationTimestamp = rfc3339(ctx.now);
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    delete meta.selfLink;
    if (strategy.generation) meta.generation = 1;
    else delete meta.generation;
    let final: KubeObject;
    if (strategy.decodeCreate) {
      // Upstream's order: decode, mutating admission, then validation, once.
      const decoded = strategy.decodeCreate(obj, ctx);
      if (!decoded.ok) throw refusal(def, meta.name ?? '', decoded.errors);
      final = this.typed(def, decoded.obj);
      let validate = decoded.validate;
      if (await this.admission?.mutate?.('create', def, final, undefined, ctx)) {
        // What the mutating plugins added (volumes, tolerations) is defaulted like the rest. The body's unknown
        // fields were found (and warned about) the first time.
        const again = decoded.redecode ? decoded.redecode(final) : strategy.decodeCreate(final, { ...ctx, strict: false, decodedBefore: true });
        if (!again.ok) throw refusal(def, meta.name ?? '', again.errors);
        final = this.typed(def, again.obj);
        validate = again.validate;
      }
      const errors = validate();
      if (errors.length > 0) throw refusal(def, meta.name ?? '', errors);
      ctx.warnings?.push(...decoded.warnings);
    } else {
      const prepared = strategy.prepareCreate(obj, ctx);
      if (!prepared.ok) throw refusal(def, meta.name ?? '', prepared.errors);
      final = this.typed(def, prepared.obj);
      if (await this.admission?.mutate?.('create', def, final, undefined, ctx)) {
        // What the mutating plugins added (defaults, volumes) is defaulted and validated like the rest. The body's
        // unknown fields were found (and warned about) the first time; this decode's own findings would be dropped.
        const again = strategy.prepareCreate(final, { ...ctx, strict: false, decodedBefore: true });
        if (!again.ok) throw refusal(def, meta.name ?? '', again.errors);
        final = this.typed(def, again.obj);
      }
      ctx.warnings?.push(...prepared.warnings);
    }
    await this.admission?.admit('create', def, final, undefined, ctx);
    if (ctx.dryRun) {
      const exists = await this.storage.tryGet(def, ctx.namespace, final.metadata.name ?? '');
      if (exists) throw new ApiError(409, 'AlreadyExists', `${def.group ? `${def.resource}.${def.group}` : def.resource} "${final.metadata.name}" already exists`);
      return final;
    }
    try {
      return this.typed(def, await this.storage.create(def, final));
    } catch (err) {
      await this.admission?.rollback?.('create', def, final, undefined);
      throw err;
    }
  }

  /**
   * Replaces an object (PUT), or its status (subresource "status"). A resourceVersion in the body is a
   * precondition: a stale one is a 409 Conflict.
   */
  async update(def: ResourceDef, ctx: RequestContext, name: string, body: unknown, subresource?: string): Promise<KubeObject> {
    const obj = this.checkBody(def, body, ctx);
    if (obj.metadata.name && obj.metadata.name !== name) {
      throw badRequest(`the name of the object (${obj.metadata.name}) does not match the name on the URL (${name})`);
    }
    obj.metadata.name = name;
    const expected = parseResourceVersion(obj.metadata.resourceVersion);
    let fresh = false;
    for (let attempt = 0; ; attempt++) {
      const current = await this.current(def, ctx, name, fresh);
      const currentRv = Number(current.metadata.resourceVersion);
      if (expected !== undefined && expected !== currentRv) {
        if (this.isPossiblyStale(current)) {
          fresh = true;
          continue;
        }
        throw conflict(def.group, def.resource, name, 'the object has been modified; please apply your changes to the latest version and try again');
      }
      try {
        // replace() sets the top level and metadata of the object it is given; a retry starts from the body as sent.
        return await this.replace(def, ctx, current, { ...obj, metadata: { ...obj.metadata } }, subresource);
      } catch (err) {
        if (err instanceof StaleRead) {
          fresh = true;
          continue;
        }
        // A body without a resourceVersion is an unconditional update: someone writing in between (a controller
        // setting status) is no conflict for it, so read again and retry, as upstream's GuaranteedUpdate does.
        if (expected === undefined && err instanceof ApiError && err.code === 409 && err.reason === 'Conflict' && attempt < 10) {
          fresh = true;
          continue;
        }
        throw err;
      }
    }
  }

  /** Writes `next` over `current` (read at its resourceVersion): the common tail of update and patch. */
  async replace(def: ResourceDef, ctx: RequestContext, current: KubeObject, next: KubeObject, subresource?: string): Promise<KubeObject> {
    const strategy: Strategy = strategyFor(def);
    const name = current.metadata.name ?? '';
    let obj: KubeObject = next;
    if (subresource === 'status' || subresource === 'approval') {
      // Status writes change status only (and labels/annotations are left as they are); a CSR's approval is its
      // status conditions.
      obj = { ...current, status: next.status };
    } else if (subresource === 'ephemeralcontainers') {
      // As upstream's ephemeral containers strategy: the stored pod with the body's ephemeral containers, nothing else.
      const { ephemeralContainers: _, ...spec } = (current.spec as Record<string, unknown> | undefined) ?? {};
      const added = (next.spec as { ephemeralContainers?: unknown } | null | undefined)?.ephemeralContainers;
      obj = { ...current, spec: added === undefined || added === null ? spec : { ...spec, ephemeralContainers: added } };
    } else if (subresource === 'finalize') {
      obj = { ...current, spec: { ...((current.spec as Record<string, unknown> | undefined) ?? {}), finalizers: (next.spec as { finalizers?: string[] } | undefined)?.finalizers ?? [] } };
    } else if (strategy.statusSubresource && current.status !== undefined) {
      obj = { ...next, status: current.status };
    }
    // Fields the server owns survive any write.
    obj.metadata = {
      ...obj.metadata,
      name,
      namespace: current.metadata.namespace,
      uid: current.metadata.uid,
      creationTimestamp: current.metadata.creationTimestamp,
      ...(current.metadata.deletionTimestamp ? { deletionTimestamp: current.metadata.deletionTimestamp, deletionGracePeriodSeconds: current.metadata.deletionGracePeriodSeconds } : {}),
    };
    if (!current.metadata.deletionTimestamp) {
      delete obj.metadata.deletionTimestamp;
      delete obj.metadata.deletionGracePeriodSeconds;
    }
    if (obj.metadata.namespace === undefined) delete obj.metadata.namespace;
    // Mutating admission of an update runs before validation, as upstream's does (it keeps what was set at creation,
    // such as a pod's priority, that a replaced body may lack).
    if (subresource === undefined) await this.admission?.mutate?.('update', def, obj, current, ctx);
    const prepared = subresource === 'finalize' ? ({ ok: true, obj, warnings: [] } as const) : strategy.prepareUpdate(obj, current, subresource === 'ephemeralcontainers' ? { ...ctx, subresource } : ctx);
    if (!prepared.ok) throw refusal(def, name, prepared.errors);
    const final = this.typed(def, prepared.obj);
    ctx.warnings?.push(...prepared.warnings);
    // Generation follows the spec as stored (after defaulting), so re-applying an unchanged manifest changes nothing.
    if (strategy.generation) {
      const gen = current.metadata.generation ?? 1;
      final.metadata.generation = isDeepStrictEqual(withoutMetaAndStatus(final), withoutMetaAndStatus(current)) ? gen : gen + 1;
    }
    await this.admission?.admit('update', def, final, current, ctx);
    // A finalizer-blocked deletion completes when the last finalizer is removed.
    if (final.metadata.deletionTimestamp && (final.metadata.finalizers ?? []).length === 0 && !this.gracefulPending(def, final)) {
      if (ctx.dryRun) return final;
      return this.typed(def, await this.storage.delete(def, ctx.namespace, name, Number(current.metadata.resourceVersion)));
    }
    if (ctx.dryRun) return final;
    // As upstream's GuaranteedUpdate: a write that changes nothing is not written, and the resourceVersion stays;
    // unless the object it was compared with may be behind the store, which the caller reads again.
    if (sameObject(final, this.typed(def, current))) {
      if (this.isPossiblyStale(current)) throw new StaleRead();
      return this.typed(def, current);
    }
    try {
      return this.typed(def, await this.storage.update(def, final, Number(current.metadata.resourceVersion)));
    } catch (err) {
      await this.admission?.rollback?.('update', def, final, current);
      throw err;
    }
  }

  /**
   * A pod bound to a node with a grace period left waits for its kubelet to confirm; a namespace waits for its
   * spec.finalizers (the namespace controller) to be cleared.
   */
  private gracefulPending(def: ResourceDef, obj: KubeObject): boolean {
    if (def.group === '' && def.kind === 'Namespace') return ((obj.spec as { finalizers?: string[] } | undefined)?.finalizers ?? []).length > 0;
    return def.group === '' && def.kind === 'Pod' && (obj.metadata.deletionGracePeriodSeconds ?? 0) > 0 && !!(obj.spec as { nodeName?: string } | undefined)?.nodeName;
  }

  /**
   * Deletes as upstream does: objects with finalizers, and pods bound to a node with a grace period, get a
   * deletionTimestamp and stay until their finalizers are gone or their kubelet confirms; everything else goes now.
   */
  async delete(
    def: ResourceDef,
    ctx: RequestContext,
    name: string,
    opts: { gracePeriodSeconds?: number; preconditions?: { uid?: string; resourceVersion?: string }; propagationPolicy?: string },
  ): Promise<{ obj: KubeObject; finished: boolean }> {
    for (let attempt = 0; ; attempt++) {
      const current = await this.storage.get(def, ctx.namespace, name);
      const pre = opts.preconditions ?? {};
      if (pre.uid && pre.uid !== current.metadata.uid) {
        throw conflict(def.group, def.resource, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${current.metadata.uid}`);
      }
      if (pre.resourceVersion && pre.resourceVersion !== current.metadata.resourceVersion) {
        throw conflict(def.group, def.resource, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${current.metadata.resourceVersion}`);
      }
      await this.admission?.admit('delete', def, current, current, ctx);
      const finalizers = [...(current.metadata.finalizers ?? [])];
      if (opts.propagationPolicy === 'Orphan' && !finalizers.includes('orphan')) finalizers.push('orphan');
      if (opts.propagationPolicy === 'Foreground' && !finalizers.includes('foregroundDeletion')) finalizers.push('foregroundDeletion');
      const isPod = def.group === '' && def.kind === 'Pod';
      // A namespace with spec.finalizers waits, Terminating, for the namespace controller to empty it.
      const nsFinalizers = def.group === '' && def.kind === 'Namespace' ? ((current.spec as { finalizers?: string[] } | undefined)?.finalizers ?? []) : [];
      if (nsFinalizers.length > 0) {
        const terminating: KubeObject = {
          ...current,
          metadata: { ...current.metadata, deletionTimestamp: current.metadata.deletionTimestamp ?? rfc3339(ctx.now), deletionGracePeriodSeconds: 0, ...(finalizers.length ? { finalizers } : {}) },
          status: { ...((current.status as Record<string, unknown> | undefined) ?? {}), phase: 'Terminating' },
        };
        if (ctx.dryRun) return { obj: this.typed(def, terminating), finished: false };
        try {
          return { obj: this.typed(def, await this.storage.update(def, terminating, Number(current.metadata.resourceVersion))), finished: false };
        } catch (err) {
          if (err instanceof ApiError && err.code === 409 && attempt < 5) continue;
          throw err;
        }
      }
      const spec = (current.spec ?? {}) as { nodeName?: string; terminationGracePeriodSeconds?: number };
      const existing = current.metadata.deletionTimestamp;
      const prevGrace = current.metadata.deletionGracePeriodSeconds;
      // Already being deleted gracefully (upstream's BeforeDelete): only a shorter grace period changes anything, and
      // the deadline moves relative to when the deletion was asked for. Otherwise the object is answered as it is
      // (202), without a write, and DeleteOptions cannot change its finalizers any more.
      if (isPod && existing && prevGrace !== undefined && prevGrace > 0) {
        if (opts.gracePeriodSeconds === undefined || opts.gracePeriodSeconds >= prevGrace) return { obj: this.typed(def, current), finished: false };
        const shorter = opts.gracePeriodSeconds;
        const deadline = new Date(Date.parse(existing) - prevGrace * 1000 + shorter * 1000);
        const remaining = current.metadata.finalizers ?? [];
        if (shorter === 0 && remaining.length === 0) {
          if (ctx.dryRun) return { obj: this.typed(def, current), finished: true };
          try {
            return { obj: this.typed(def, await this.storage.delete(def, ctx.namespace, name, Number(current.metadata.resourceVersion))), finished: true };
          } catch (err) {
            if (err instanceof ApiError && err.code === 409 && attempt < 5) continue;
            throw err;
          }
        }
        const shortened: KubeObject = { ...current, metadata: { ...current.metadata, deletionTimestamp: rfc3339(deadline), deletionGracePeriodSeconds: shorter } };
        if (ctx.dryRun) return { obj: this.typed(def, shortened), finished: false };
        try {
          return { obj: this.typed(def, await this.storage.update(def, shortened, Number(current.metadata.resourceVersion))), finished: false };
        } catch (err) {
          if (err instanceof ApiError && err.code === 409 && attempt < 5) continue;
          throw err;
        }
      }
      const grace = opts.gracePeriodSeconds ?? (isPod ? (spec.terminationGracePeriodSeconds ?? 30) : 0);
      const graceful = isPod && !!spec.nodeName && grace > 0;
      if (finalizers.length === 0 && !graceful) {
        if (ctx.dryRun) return { obj: this.typed(def, current), finished: true };
        try {
          const deleted = await this.storage.delete(def, ctx.namespace, name, Number(current.metadata.resourceVersion));
          return { obj: this.typed(def, deleted), finished: true };
        } catch (err) {
          if (err instanceof ApiError && err.code === 409 && attempt < 5) continue;
          throw err;
        }
      }
      // Already terminating: a shorter grace period may still shorten it, nothing else changes.
      const newGrace = graceful ? Math.min(grace, prevGrace ?? grace) : 0;
      const deadline = new Date(ctx.now.getTime() + newGrace * 1000);
      const updated: KubeObject = {
        ...current,
        metadata: {
          ...current.metadata,
          finalizers: finalizers.length ? finalizers : undefined,
          deletionTimestamp: existing && prevGrace !== undefined && prevGrace <= newGrace ? existing : rfc3339(deadline),
          deletionGracePeriodSeconds: newGrace,
        },
      };
      if (!updated.metadata.finalizers) delete updated.metadata.finalizers;
      if (ctx.dryRun) return { obj: this.typed(def, updated), finished: false };
      // A repeated delete that changes nothing is not written (the resourceVersion stays).
      if (sameObject(this.typed(def, updated), this.typed(def, current))) return { obj: this.typed(def, current), finished: false };
      try {
        const stored = await this.storage.update(def, updated, Number(current.metadata.resourceVersion));
        return { obj: this.typed(def, stored), finished: false };
      } catch (err) {
        if (err instanceof ApiError && err.code === 409 && attempt < 5) continue;
        throw err;
      }
    }
  }

  /** A pod's binding: sets spec.nodeName once (upstream's BindingREST); a second binding is a Conflict. */
  async bind(ctx: RequestContext, podName: string, target: { kind?: string; name?: string }): Promise<void> {
    const def = findResource('', 'v1', 'pods') as ResourceDef;
    const current = await this.storage.get(def, ctx.namespace, podName);
    const spec = (current.spec ?? {}) as { nodeName?: string };
    if (current.metadata.deletionTimestamp) throw conflict('', 'pods', podName, 'pod is being deleted, cannot be assigned to a host');
    if (spec.nodeName) throw conflict('', 'pods', podName, `pod ${podName} is already assigned to node "${spec.nodeName}"`);
    if (!target.name) throw badRequest('binding target name is required');
    const status = (current.status ?? {}) as { conditions?: Array<Record<string, unknown>> };
    const conditions = (status.conditions ?? []).filter((c) => c.type !== 'PodScheduled');
    conditions.push({ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: rfc3339(ctx.now) });
    const next: KubeObject = { ...current, spec: { ...spec, nodeName: target.name }, status: { ...status, conditions } };
    if (ctx.dryRun) return;
    await this.storage.update(def, next, Number(current.metadata.resourceVersion));
  }

  async watch(def: ResourceDef, ctx: RequestContext, sel: Selection, fromRevision: number | undefined, onEvent: (e: WatchEvent) => void, onError: (e: ApiError) => void): Promise<() => void> {
    const selective = sel.labels.length > 0 || sel.fields.length > 0;
    let start = fromRevision;
    if (start === undefined || start === 0) {
      // No resourceVersion: the current state as ADDED events, then changes (upstream's "Get State and Start at Most Recent").
      const listed = await this.storage.list(def, ctx.namespace, { filter: (o) => selects(def, sel, o) });
      for (const item of listed.items) onEvent({ type: 'ADDED', object: this.typed(def, item) });
      start = Number(listed.resourceVersion);
    }
    return this.watchCache.watch(
      def,
      ctx.namespace,
      start,
      (e) => {
        if (e.type === 'BOOKMARK' || e.type === 'ERROR') return onEvent(e);
        // Without a selector neither value is read: the object is sent as the store holds it, and only whether
        // there was an object before matters.
        const now = !selective || selects(def, sel, e.object as KubeObject);
        const before = 'previous' in e && (!selective || selects(def, sel, e.previous as KubeObject));
        const shared = this.typedShared(def, e);
        const send = (type: 'ADDED' | 'MODIFIED' | 'DELETED'): void => onEvent(shared.event(type));
        // An object entering or leaving the selection is an ADDED or a DELETED for this watcher.
        if (e.type === 'ADDED') {
          if (now) send('ADDED');
        } else if (e.type === 'MODIFIED') {
          if (now && before) send('MODIFIED');
          else if (now) send('ADDED');
          else if (before) send('DELETED');
        } else if (e.type === 'DELETED') {
          if (before) send('DELETED');
        }
      },
      onError,
    );
  }

  notFound(def: ResourceDef, name: string): ApiError {
    return notFound(def.group, def.resource, name);
  }
}

/**
 * One store event's object as every watcher of the resource is sent it: typed once (apiVersion and kind first) and
 * serialized once, from the stored bytes when it was read from the store, so it is parsed only if some watcher's
 * selector reads it. Nobody may change it.
 */
class SharedWatchObject {
  private typedObject: KubeObject | undefined;
  private text: string | undefined;
  private readonly events = new Map<string, WatchEvent>();

  constructor(
    private readonly def: ResourceDef,
    private readonly source: WatchEvent,
    private readonly typed: (o: KubeObject) => KubeObject,
  ) {}

  get object(): KubeObject {
    return (this.typedObject ??= this.typed(this.source.object as KubeObject));
  }

  readonly json = (): string => (this.text ??= (this.source.stored && typedJson(this.def, this.source.stored)) ?? JSON.stringify(this.object));

  /** The event a watcher is handed, the same for all that see it as `type`. */
  event(type: 'ADDED' | 'MODIFIED' | 'DELETED'): WatchEvent {
    let e = this.events.get(type);
    if (!e) {
      const shared = this;
      e = { type, get object() { return shared.object; }, json: this.json };
      this.events.set(type, e);
    }
    return e;
  }
}

/**
 * A body the strategy refused: unknown fields under fieldValidation=Strict are a 400 from the decoder, as upstream's
 * strict decoding error (ahead of any validation error); anything else is a 422 Invalid.
 */
function refusal(def: ResourceDef, name: string, errors: FieldError[]): ApiError {
  const unknown = errors.filter((e) => e.unknownField);
  if (unknown.length > 0) {
    const list = unknown.map((e) => e.detail ?? `unknown field "${e.field}"`).join(', ');
    return badRequest(`${def.kind} in version "${def.version}" cannot be handled as a ${def.kind}: strict decoding error: ${list}`);
  }
  return invalid(def.kind, def.group, name, errors);
}

/** Upstream omits empty labels, annotations, finalizers and ownerReferences (omitempty): removing the last label leaves none. */
function withoutEmptyMeta(meta: KubeObject['metadata']): KubeObject['metadata'] {
  const m = meta as Record<string, unknown>;
  const empty = (['labels', 'annotations', 'finalizers', 'ownerReferences'] as const).filter((k) => {
    const v = m[k];
    return v !== undefined && v !== null && typeof v === 'object' && (Array.isArray(v) ? v.length === 0 : Object.keys(v).length === 0);
  });
  if (empty.length === 0) return meta;
  const out = { ...m };
  for (const k of empty) delete out[k];
  return out as KubeObject['metadata'];
}

/**
 * The same object apart from its resourceVersion, compared as the JSON it is stored as (members set to undefined
 * are absent), without serializing either.
 */
function sameObject(a: KubeObject, b: KubeObject): boolean {
  const norm = (o: KubeObject): KubeObject => {
    const { resourceVersion: _rv, ...metadata } = o.metadata;
    return { ...o, metadata };
  };
  return jsonEqual(norm(a), norm(b));
}

/**
 * replace() was given an object from the store member's local state and found nothing to write: the caller reads the
 * object consistently and tries again, since "nothing changed" may only mean "the local state is behind".
 */
export class StaleRead extends Error {
  constructor() {
    super('the object read may be stale: read it again');
    this.name = 'StaleRead';
  }
}
