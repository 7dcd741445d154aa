import { claimObjects } from './controller-ref-manager.js';
import { selectorFromSpec, type Requirement } from '../api/selectors.js';
import { isNotFound, type Informer, type ResourceRef } from '../client/index.js';
import { Controller, type ControllerContext, type SyncResult } from './controller.js';
import { Expectations } from './expectations.js';
import { clone, controllerRef, isPodReady, jsonEqual, keyOf, ownerRefFor, R, splitKey, type Obj, type OwnerReference, type Pod, type PodTemplate, type ReplicaSetStatus } from './objects.js';
import { claimPods, reconcileReplicaSet, replicaSetStatus, slowStartBatch } from './replicaset.js';

/** What differs between a ReplicaSet and a ReplicationController: the API coordinates and the selector's shape. */
interface ReplicaKind {
  ref: ResourceRef;
  apiVersion: string;
  kind: 'ReplicaSet' | 'ReplicationController';
  selector(obj: Replicated): Requirement[] | 'nothing';
}

export interface Replicated extends Obj {
  spec: { replicas?: number; minReadySeconds?: number; selector?: unknown; template?: PodTemplate };
  status?: ReplicaSetStatus;
}

const KINDS: Record<'ReplicaSet' | 'ReplicationController', ReplicaKind> = {
  ReplicaSet: {
    ref: R.replicasets,
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    selector: (o) => selectorFromSpec(o.spec.selector as Parameters<typeof selectorFromSpec>[0]),
  },
  ReplicationController: {
    ref: R.replicationcontrollers,
    apiVersion: 'v1',
    kind: 'ReplicationController',
    // An RC's selector is a plain map, defaulted from the template's labels; an empty one selects nothing.
    selector: (o) => {
      const m = (o.spec.selector as Record<string, string> | undefined) ?? o.spec.template?.metadata?.labels;
      return m && Object.keys(m).length ? selectorFromSpec({ matchLabels: m }) : 'nothing';
    },
  },
};

/**
 * upstream's ReplicaSetController (which also runs ReplicationControllers): keeps spec.replicas active pods owned by
 * each object, adopting matching orphans and releasing owned pods that stopped matching.
 */
export class ReplicaSetController extends Controller {
  readonly expectations: Expectations;
  private readonly kind: ReplicaKind;
  private readonly owners: Informer<Replicated>;
  private readonly pods: Informer<Pod>;

  constructor(ctx: ControllerContext, kind: 'ReplicaSet' | 'ReplicationController' = 'ReplicaSet') {
    super(kind === 'ReplicaSet' ? 'replicaset' : 'replicationmanager', ctx);
    this.kind = KINDS[kind];
    this.expectations = new Expectations(() => this.now().getTime());
    this.owners = this.watch<Replicated>(this.kind.ref);
    this.pods = this.watch<Pod>(R.pods);
    this.owners.addHandlers({
      onAdd: (o) => this.queue.add(keyOf(o)),
      onUpdate: (_old, o) => this.queue.add(keyOf(o)),
      onDelete: (o) => {
        this.expectations.delete(keyOf(o));
        this.queue.add(keyOf(o));
      },
    });
    this.pods.addHandlers({
      onAdd: (p) => this.podAdded(p),
      onUpdate: (old, p) => this.podUpdated(old, p),
      onDelete: (p) => this.podDeleted(p),
    });
  }

  /** The owner a controller reference points at, if it is one of ours and still the same object. */
  private resolve(namespace: string | undefined, ref: OwnerReference | undefined): Replicated | undefined {
    if (!ref || ref.kind !== this.kind.kind || ref.apiVersion.split('/')[0] !== this.kind.apiVersion.split('/')[0]) return undefined;
    const owner = this.owners.get(`${namespace}/${ref.name}`);
    return owner && owner.metadata.uid === ref.uid ? owner : undefined;
  }

  /** Orphans wake every owner whose selector matches them: one of those may adopt. */
  private enqueueMatching(pod: Pod): void {
    for (const o of this.owners.list()) {
      if (o.metadata.namespace !== pod.metadata.namespace) continue;
      const sel = this.kind.selector(o);
      if (sel !== 'nothing' && claimPods(o.metadata.uid ?? '', false, sel, [pod]).adopt.length) this.queue.add(keyOf(o));
    }
  }

  private podAdded(pod: Pod): void {
    if (pod.metadata.deletionTimestamp) return this.podDeleted(pod);
    const ref = controllerRef(pod);
    if (ref) {
      const owner = this.resolve(pod.metadata.namespace, ref);
      if (!owner) return;
      this.expectations.creationObserved(keyOf(owner));
      this.queue.add(keyOf(owner));
      return;
    }
    this.enqueueMatching(pod);
  }

  private podUpdated(old: Pod, pod: Pod): void {
    if (old.metadata.resourceVersion === pod.metadata.resourceVersion) return;
    if (pod.metadata.deletionTimestamp && !old.metadata.deletionTimestamp) {
      // A graceful deletion: the pod is going, count it as gone now (and tell its old owner if the labels changed).
      this.podDeleted(pod);
      if (!jsonEqual(old.metadata.labels, pod.metadata.labels)) this.podDeleted(old);
      return;
    }
    const oldRef = controllerRef(old);
    const ref = controllerRef(pod);
    if (oldRef && oldRef.uid !== ref?.uid) {
      const prev = this.resolve(old.metadata.namespace, oldRef);
      if (prev) this.queue.add(keyOf(prev));
    }
    if (ref) {
      const owner = this.resolve(pod.metadata.namespace, ref);
      if (!owner) return;
      this.queue.add(keyOf(owner));
      // A pod that just became ready turns available minReadySeconds later: look again then.
      const minReady = owner.spec.minReadySeconds ?? 0;
      if (minReady > 0 && !isPodReady(old) && isPodReady(pod)) this.queue.addAfter(keyOf(owner), minReady * 1000 + 1);
      return;
    }
    if (!jsonEqual(old.metadata.labels, pod.metadata.labels) || oldRef) this.enqueueMatching(pod);
  }

  private podDeleted(pod: Pod): void {
    const owner = this.resolve(pod.metadata.namespace, controllerRef(pod));
    if (!owner) return;
    this.expectations.deletionObserved(keyOf(owner), keyOf(pod));
    this.queue.add(keyOf(owner));
  }

  protected async sync(key: string): Promise<SyncResult> {
    const cached = this.owners.get(key);
    if (!cached) {
      this.expectations.delete(key);
      return;
    }
    const owner = clone(cached);
    const { namespace } = splitKey(key);
    const now = this.now();
    const selector = this.kind.selector(owner);
    const deleting = !!owner.metadata.deletionTimestamp;
    const candidates = this.pods.list().filter((p) => p.metadata.namespace === namespace);
    const ref = ownerRefFor(owner, this.kind.apiVersion, this.kind.kind);
    const owned = await claimObjects(this.client, R.pods, owner, ref, selector, candidates);

    const input = {
      replicas: owner.spec.replicas ?? 1,
      minReadySeconds: owner.spec.minReadySeconds ?? 0,
      templateLabels: owner.spec.template?.metadata?.labels ?? {},
      ...(owner.metadata.generation !== undefined ? { generation: owner.metadata.generation } : {}),
      ...(owner.status?.conditions ? { conditions: owner.status.conditions } : {}),
    };
    let failure: { reason: string; message: string } | undefined;
    let manageError: unknown;
    if (this.expectations.satisfied(key) && !deleting) {
      const decision = reconcileReplicaSet(input, owned, now);
      if (decision.create > 0) {
        this.expectations.expectCreations(key, decision.create);
        const template = owner.spec.template ?? {};
        const body: Pod = {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: {
            generateName: `${owner.metadata.name}-`,
            namespace,
            ...(template.metadata?.labels ? { labels: { ...template.metadata.labels } } : {}),
            ...(template.metadata?.annotations ? { annotations: { ...template.metadata.annotations } } : {}),
            ...(Array.isArray(template.metadata?.finalizers) ? { finalizers: template.metadata.finalizers as string[] } : {}),
            ownerReferences: [ref],
          },
          spec: clone(template.spec ?? {}),
        };
        const r = await slowStartBatch(decision.create, 1, async () => {
          const pod = await this.client.create(R.pods, namespace, body);
          this.events.event(owner, this.kind, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`);
        });
        if (r.error !== undefined) {
          this.events.event(owner, this.kind, 'Warning', 'FailedCreate', `Error creating: ${r.error instanceof Error ? r.error.message : String(r.error)}`);
          this.expectations.lowerCreations(key, decision.create - r.done);
          failure = { reason: 'FailedCreate', message: r.error instanceof Error ? r.error.message : String(r.error) };
          manageError = r.error;
        }
      } else if (decision.delete.length > 0) {
        this.expectations.expectDeletions(key, decision.delete.map((n) => `${namespace}/${n}`));
        const results = await Promise.allSettled(decision.delete.map((n) => this.client.delete(R.pods, namespace, n)));
        results.forEach((res, i) => {
          if (res.status === 'fulfilled') {
            this.events.event(owner, this.kind, 'Normal', 'SuccessfulDelete', `Deleted pod: ${decision.delete[i]}`);
            return;
          }
          // Already gone counts as deleted; anything else will not be observed.
          this.expectations.deletionObserved(key, `${namespace}/${decision.delete[i]}`);
          if (isNotFound(res.reason)) return;
          failure = { reason: 'FailedDelete', message: res.reason instanceof Error ? res.reason.message : String(res.reason) };
          manageError = res.reason;
        });
      }
    }

    const status = replicaSetStatus(input, owned, now, failure);
    if (!jsonEqual(status, owner.status ?? {})) {
      try {
        await this.client.update(this.kind.ref, { ...owner, status }, 'status');
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    if (manageError !== undefined) throw manageError;
    // Pods ready but not yet available become so minReadySeconds later.
    const minReady = input.minReadySeconds;
    if (minReady > 0 && (status.readyReplicas ?? 0) > (status.availableReplicas ?? 0)) return { requeueAfterMs: minReady * 1000 };
  }
}
