/**
 * upstream's garbage collector (pkg/controller/garbagecollector), reduced to its decisions plus a thin controller:
 * an object whose owners are all gone is deleted (background propagation); an owner deleted with
 * propagationPolicy=Orphan keeps an "orphan" finalizer until its dependents no longer point at it; an owner deleted
 * with propagationPolicy=Foreground keeps "foregroundDeletion" until its blocking dependents are gone.
 */
import { hasStatusCode, type Informer, type KubeObject, type ResourceRef } from '../client/index.js';
import { Controller, type ControllerContext, type SyncResult } from './controller.js';
import { clone, type Obj, type OwnerReference } from './objects.js';

export const ORPHAN_FINALIZER = 'orphan';
export const FOREGROUND_FINALIZER = 'foregroundDeletion';

export interface GcResource extends ResourceRef {
  kind: string;
  namespaced: boolean;
}

const g = (group: string, version: string, resource: string, kind: string, namespaced = true): GcResource => ({ group, version, resource, kind, namespaced });

/** The resources whose objects the collector tracks as owners and dependents (upstream finds them by discovery). */
export const GC_RESOURCES: GcResource[] = [
  g('', 'v1', 'pods', 'Pod'),
  g('', 'v1', 'replicationcontrollers', 'ReplicationController'),
  g('', 'v1', 'services', 'Service'),
  g('', 'v1', 'configmaps', 'ConfigMap'),
  g('', 'v1', 'secrets', 'Secret'),
  g('', 'v1', 'serviceaccounts', 'ServiceAccount'),
  g('', 'v1', 'persistentvolumeclaims', 'PersistentVolumeClaim'),
  g('', 'v1', 'nodes', 'Node', false),
  g('apps', 'v1', 'deployments', 'Deployment'),
  g('apps', 'v1', 'replicasets', 'ReplicaSet'),
  g('apps', 'v1', 'statefulsets', 'StatefulSet'),
  g('apps', 'v1', 'daemonsets', 'DaemonSet'),
  g('apps', 'v1', 'controllerrevisions', 'ControllerRevision'),
  g('batch', 'v1', 'jobs', 'Job'),
  g('batch', 'v1', 'cronjobs', 'CronJob'),
  g('discovery.k8s.io', 'v1', 'endpointslices', 'EndpointSlice'),
  g('coordination.k8s.io', 'v1', 'leases', 'Lease'),
  g('policy', 'v1', 'poddisruptionbudgets', 'PodDisruptionBudget'),
];

const groupOf = (apiVersion: string): string => (apiVersion.includes('/') ? (apiVersion.split('/')[0] ?? '') : '');

export function resourceForOwner(ref: Pick<OwnerReference, 'apiVersion' | 'kind'>, resources: readonly GcResource[] = GC_RESOURCES): GcResource | undefined {
  return resources.find((r) => r.kind === ref.kind && r.group === groupOf(ref.apiVersion));
}

// ---------- decisions ----------

/** What became of one owner: still there, gone (or replaced by another object of that name), or deleting its dependents first. */
export type OwnerState = 'solid' | 'dangling' | 'waitingForDependentsDeletion';

export type DependentAction =
  | { action: 'none' }
  /** Delete the dependent itself, propagating as given. */
  | { action: 'delete'; propagationPolicy: 'Background' | 'Foreground' }
  /** Keep it, but drop references to owners that are gone (and unblock owners that wait for their dependents). */
  | { action: 'patchOwners'; ownerReferences: OwnerReference[] };

/**
 * upstream's attemptToDeleteItem decision: with a live owner left, only the dangling references go (and
 * blockOwnerDeletion is dropped toward owners deleting in the foreground, so they are not held up); with every owner
 * gone, the dependent goes; with owners waiting in the foreground, it goes in the foreground too when it has
 * dependents of its own.
 */
export function decideDependent(obj: Obj, owners: ReadonlyMap<string, OwnerState>, hasDependents: boolean): DependentAction {
  const refs = obj.metadata.ownerReferences ?? [];
  if (refs.length === 0 || obj.metadata.deletionTimestamp) return { action: 'none' };
  const state = (r: OwnerReference): OwnerState => owners.get(r.uid) ?? 'solid';
  const solid = refs.filter((r) => state(r) === 'solid');
  const dangling = refs.filter((r) => state(r) === 'dangling');
  const waiting = refs.filter((r) => state(r) === 'waitingForDependentsDeletion');
  if (solid.length > 0) {
    if (dangling.length === 0 && waiting.every((r) => !r.blockOwnerDeletion)) return { action: 'none' };
    const kept = refs.filter((r) => state(r) !== 'dangling').map((r) => (state(r) === 'waitingForDependentsDeletion' && r.blockOwnerDeletion ? { ...r, blockOwnerDeletion: false } : r));
    return { action: 'patchOwners', ownerReferences: kept };
  }
  if (waiting.length > 0 && hasDependents) return { action: 'delete', propagationPolicy: 'Foreground' };
  return { action: 'delete', propagationPolicy: 'Background' };
}

/**
 * An owner deleting in the foreground: its blocking dependents that are not already going are deleted (in the
 * foreground themselves); once none is left, the finalizer comes off.
 */
export function decideForeground(dependents: readonly Obj[], ownerUid: string): { removeFinalizer: boolean; delete: Obj[] } {
  const blocking = dependents.filter((d) => (d.metadata.ownerReferences ?? []).some((r) => r.uid === ownerUid && r.blockOwnerDeletion));
  if (blocking.length === 0) return { removeFinalizer: true, delete: [] };
  return { removeFinalizer: false, delete: blocking.filter((d) => !d.metadata.deletionTimestamp) };
}

/** A dependent's owner references once the orphaned owner is dropped from them. */
export function orphanedReferences(obj: Obj, ownerUid: string): OwnerReference[] {
  return (obj.metadata.ownerReferences ?? []).filter((r) => r.uid !== ownerUid);
}

// ---------- the controller ----------

interface Node {
  res: GcResource;
  obj: Obj;
}

const identity = (res: GcResource, obj: { metadata: { namespace?: string; name?: string; uid?: string } }): string =>
  `${res.group}/${res.resource}|${obj.metadata.namespace ?? ''}|${obj.metadata.name ?? ''}|${obj.metadata.uid ?? ''}`;

/**
 * The collector: informers over every tracked resource keep an owner → dependents graph; keys are
 * "delete|<identity>" (is this object garbage? is its foreground deletion finished?) and "orphan|<identity>".
 */
export class GarbageCollector extends Controller {
  private readonly byUid = new Map<string, Node>();
  private readonly dependents = new Map<string, Set<string>>();
  private readonly informersByRes = new Map<string, Informer<Obj>>();

  constructor(
    ctx: ControllerContext,
    private readonly resources: GcResource[] = GC_RESOURCES,
  ) {
    super('garbagecollector', ctx);
    // A resource the server does not serve never lists; owners missing from the caches are looked up live anyway.
    this.syncTimeoutMs = 30_000;
    for (const res of resources) {
      const inf = this.watch<Obj>(res);
      this.informersByRes.set(`${res.group}/${res.resource}`, inf);
      inf.addHandlers({
        onAdd: (o) => this.observe(res, undefined, o),
        onUpdate: (old, o) => this.observe(res, old, o),
        onDelete: (o) => this.removed(o),
      });
    }
  }

  private link(obj: Obj, add: boolean): void {
    const uid = obj.metadata.uid ?? '';
    for (const r of obj.metadata.ownerReferences ?? []) {
      let set = this.dependents.get(r.uid);
      if (add) {
        if (!set) this.dependents.set(r.uid, (set = new Set()));
        set.add(uid);
      } else if (set) {
        set.delete(uid);
        if (set.size === 0) this.dependents.delete(r.uid);
      }
    }
  }

  private observe(res: GcResource, old: Obj | undefined, obj: Obj): void {
    if (old) this.link(old, false);
    this.byUid.set(obj.metadata.uid ?? '', { res, obj });
    this.link(obj, true);
    const id = identity(res, obj);
    const finalizers = obj.metadata.finalizers ?? [];
    if (obj.metadata.deletionTimestamp && finalizers.includes(ORPHAN_FINALIZER)) this.queue.add(`orphan|${id}`);
    if (obj.metadata.deletionTimestamp && finalizers.includes(FOREGROUND_FINALIZER)) {
      this.queue.add(`delete|${id}`);
      // Its dependents may now have to go, or to stop blocking it.
      for (const dep of this.dependentsOf(obj.metadata.uid ?? '')) this.queue.add(`delete|${identity(dep.res, dep.obj)}`);
    }
    for (const r of obj.metadata.ownerReferences ?? []) {
      const owner = this.byUid.get(r.uid);
      if (!owner || owner.obj.metadata.deletionTimestamp) {
        this.queue.add(`delete|${id}`);
        break;
      }
    }
    // An owner reference removed from a dependent may unblock an owner waiting in the foreground.
    if (old) {
      for (const r of old.metadata.ownerReferences ?? []) {
        const owner = this.byUid.get(r.uid);
        if (owner && owner.obj.metadata.deletionTimestamp && !(obj.metadata.ownerReferences ?? []).some((x) => x.uid === r.uid)) this.queue.add(`delete|${identity(owner.res, owner.obj)}`);
      }
    }
  }

  private removed(obj: Obj): void {
    const uid = obj.metadata.uid ?? '';
    this.link(obj, false);
    this.byUid.delete(uid);
    for (const dep of this.dependentsOf(uid)) this.queue.add(`delete|${identity(dep.res, dep.obj)}`);
    for (const r of obj.metadata.ownerReferences ?? []) {
      const owner = this.byUid.get(r.uid);
      if (owner?.obj.metadata.deletionTimestamp) this.queue.add(`delete|${identity(owner.res, owner.obj)}`);
    }
  }

  private dependentsOf(uid: string): Node[] {
    return [...(this.dependents.get(uid) ?? [])].map((u) => this.byUid.get(u)).filter((n): n is Node => !!n);
  }

  private current(key: string): Node | undefined {
    const [, resId, namespace, name, uid] = key.split('|');
    const inf = this.informersByRes.get(resId ?? '');
    const res = this.resources.find((r) => `${r.group}/${r.resource}` === resId);
    if (!inf || !res) return undefined;
    const obj = inf.get(namespace ? `${namespace}/${name}` : (name ?? ''));
    return obj && obj.metadata.uid === uid ? { res, obj: clone(obj) } : undefined;
  }

  protected async sync(key: string): Promise<SyncResult> {
    const node = this.current(key);
    if (!node) return;
    if (key.startsWith('orphan|')) return this.orphan(node);
    const { res, obj } = node;
    if (obj.metadata.deletionTimestamp) {
      if ((obj.metadata.finalizers ?? []).includes(FOREGROUND_FINALIZER)) return this.foreground(node);
      return;
    }
    const owners = new Map<string, OwnerState>();
    for (const r of obj.metadata.ownerReferences ?? []) owners.set(r.uid, await this.ownerState(obj, r));
    const decision = decideDependent(obj, owners, this.dependentsOf(obj.metadata.uid ?? '').length > 0);
    try {
      if (decision.action === 'delete') {
        this.logger.debug({ object: key, policy: decision.propagationPolicy }, 'deleting object whose owners are gone');
        await this.client.delete(res, obj.metadata.namespace, obj.metadata.name ?? '', { propagationPolicy: decision.propagationPolicy, preconditions: { uid: obj.metadata.uid ?? '' } });
      } else if (decision.action === 'patchOwners') {
        await this.client.patch(res, obj.metadata.namespace, obj.metadata.name ?? '', { metadata: { uid: obj.metadata.uid, ownerReferences: decision.ownerReferences.length ? decision.ownerReferences : null } });
      }
    } catch (err) {
      if (!hasStatusCode(err, 404) && !hasStatusCode(err, 409)) throw err;
    }
  }

  /** The owner's fate, from the cache when it is there, from the API server when it is not (the cache may lag). */
  private async ownerState(dependent: Obj, ref: OwnerReference): Promise<OwnerState> {
    const cached = this.byUid.get(ref.uid);
    const classify = (o: KubeObject): OwnerState =>
      o.metadata.deletionTimestamp && ((o.metadata as Obj['metadata']).finalizers ?? []).includes(FOREGROUND_FINALIZER) ? 'waitingForDependentsDeletion' : 'solid';
    if (cached) return classify(cached.obj);
    const res = resourceForOwner(ref, this.resources);
    // An owner of a kind we cannot look up is assumed to exist: deleting on a guess would lose data.
    if (!res) return 'solid';
    try {
      const live = await this.client.get(res, res.namespaced ? dependent.metadata.namespace : undefined, ref.name);
      return live.metadata.uid === ref.uid ? classify(live) : 'dangling';
    } catch (err) {
      if (hasStatusCode(err, 404)) return 'dangling';
      throw err;
    }
  }

  private async foreground(node: Node): Promise<SyncResult> {
    const uid = node.obj.metadata.uid ?? '';
    const decision = decideForeground(
      this.dependentsOf(uid).map((d) => d.obj),
      uid,
    );
    if (decision.removeFinalizer) return this.removeFinalizer(node, FOREGROUND_FINALIZER);
    for (const dep of decision.delete) {
      const depNode = this.byUid.get(dep.metadata.uid ?? '');
      if (!depNode) continue;
      try {
        await this.client.delete(depNode.res, dep.metadata.namespace, dep.metadata.name ?? '', { propagationPolicy: 'Foreground', preconditions: { uid: dep.metadata.uid ?? '' } });
      } catch (err) {
        if (!hasStatusCode(err, 404) && !hasStatusCode(err, 409)) throw err;
      }
    }
  }

  private async orphan(node: Node): Promise<SyncResult> {
    const uid = node.obj.metadata.uid ?? '';
    for (const dep of this.dependentsOf(uid)) {
      try {
        const refs = orphanedReferences(dep.obj, uid);
        await this.client.patch(dep.res, dep.obj.metadata.namespace, dep.obj.metadata.name ?? '', { metadata: { uid: dep.obj.metadata.uid, ownerReferences: refs.length ? refs : null } });
      } catch (err) {
        if (!hasStatusCode(err, 404) && !hasStatusCode(err, 409)) throw err;
      }
    }
    return this.removeFinalizer(node, ORPHAN_FINALIZER);
  }

  /** Takes a finalizer off the live object; the API server deletes it when it was the last one. */
  private async removeFinalizer(node: Node, finalizer: string): Promise<void> {
    const { res, obj } = node;
    for (let attempt = 0; attempt < 5; attempt++) {
      let live: Obj;
      try {
        live = (await this.client.get(res, obj.metadata.namespace, obj.metadata.name ?? '')) as Obj;
      } catch (err) {
        if (hasStatusCode(err, 404)) return;
        throw err;
      }
      if (live.metadata.uid !== obj.metadata.uid || !(live.metadata.finalizers ?? []).includes(finalizer)) return;
      const finalizers = (live.metadata.finalizers ?? []).filter((f) => f !== finalizer);
      try {
        await this.client.update(res, { ...live, metadata: { ...live.metadata, finalizers } });
        return;
      } catch (err) {
        if (hasStatusCode(err, 404)) return;
        if (!hasStatusCode(err, 409)) throw err;
      }
    }
    throw new Error(`could not remove finalizer ${finalizer} from ${obj.metadata.namespace ?? ''}/${obj.metadata.name}: conflicts`);
  }
}
