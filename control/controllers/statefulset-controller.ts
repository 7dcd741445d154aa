import { claimObjects } from './controller-ref-manager.js';
import { selectorFromSpec } from '../api/selectors.js';
import { hasStatusCode, isNotFound, type Informer } from '../client/index.js';
import { Controller, type ControllerContext, type SyncResult } from './controller.js';
import { clone, isPodReady, jsonEqual, keyOf, ownerRefFor, R, splitKey, type Obj, type Pod, sameStatus } from './objects.js';
import { watchOwnedPods } from './owned-pods.js';
import { ownedRevisions, revisionTemplate, syncUpdateRevision, truncateHistory, type ControllerRevision } from './revisions.js';
import { claimOwnerRefs, claimsFor, newStatefulSetPod, ordinalOf, planStatefulSet, podRevision, type StatefulSet } from './statefulset.js';

const KIND = { apiVersion: 'apps/v1', kind: 'StatefulSet' };
const isConflict = (err: unknown): boolean => hasStatusCode(err, 409);
const selectorOf = (s: StatefulSet) => selectorFromSpec(s.spec.selector as Parameters<typeof selectorFromSpec>[0]);

/**
 * upstream's StatefulSetController: pods with stable names, hostnames and claims, created, deleted and updated in
 * ordinal order as the pod management policy and update strategy say, with the template history in ControllerRevisions.
 */
export class StatefulSetController extends Controller {
  private readonly sets: Informer<StatefulSet>;
  private readonly pods: Informer<Pod>;
  private readonly revisions: Informer<ControllerRevision>;

  constructor(ctx: ControllerContext) {
    super('statefulset', ctx);
    this.sets = this.watch<StatefulSet>(R.statefulsets);
    this.pods = this.watch<Pod>(R.pods);
    this.revisions = this.watch<ControllerRevision>(R.controllerrevisions);
    this.sets.addHandlers({
      onAdd: (s) => this.queue.add(keyOf(s)),
      onUpdate: (_o, s) => this.queue.add(keyOf(s)),
      onDelete: (s) => this.queue.add(keyOf(s)),
    });
    watchOwnedPods({ pods: this.pods, owners: this.sets, kind: 'StatefulSet', enqueue: (k) => this.queue.add(k), selector: selectorOf });
  }

  protected async sync(key: string): Promise<SyncResult> {
    const cached = this.sets.get(key);
    if (!cached) return;
    const set = clone(cached);
    const { namespace } = splitKey(key);
    const now = this.now();
    const deleting = !!set.metadata.deletionTimestamp;
    const ref = ownerRefFor(set, KIND.apiVersion, KIND.kind);
    const owned = await claimObjects(this.client, R.pods, set, ref, selectorOf(set), this.pods.list().filter((p) => p.metadata.namespace === namespace));
    if (deleting) return;

    const revs = ownedRevisions(set.metadata.uid ?? '', this.revisions.list().filter((r) => r.metadata.namespace === namespace));
    const rev = await syncUpdateRevision(this.client, set, revs, KIND);
    if (rev.collision) {
      await this.client.update(R.statefulsets, { ...set, status: { ...(set.status ?? { replicas: 0, availableReplicas: 0 }), collisionCount: (set.status?.collisionCount ?? 0) + 1 } }, 'status');
      throw new Error(`hash collision on the ControllerRevision of stateful set ${key}`);
    }
    const update = rev.update;
    const updateName = update.metadata.name ?? '';
    const currentRev = revs.find((r) => r.metadata.name === set.status?.currentRevision) ?? update;
    const currentName = currentRev.metadata.name ?? updateName;
    const plan = planStatefulSet({ set, pods: owned, currentRevision: currentName, updateRevision: updateName, now });

    // Claims follow the retention policy before any pod goes, so a scaled-down pod takes its claims with it.
    await this.updateClaimOwners(set, owned);

    let failure: unknown;
    for (const action of plan.actions) {
      try {
        if (action.type === 'create') {
          const revision = action.revision === 'current' ? currentRev : update;
          const pod = newStatefulSetPod(set, revisionTemplate(revision), revision.metadata.name ?? '', action.ordinal);
          pod.metadata.ownerReferences = [ref];
          await this.createClaims(set, action.ordinal, pod);
          await this.client.create(R.pods, namespace, pod);
          this.events.event(set, KIND, 'Normal', 'SuccessfulCreate', `create Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} successful`);
        } else {
          if (action.reason === 'failed') this.events.event(set, KIND, 'Warning', 'RecreatingFailedPod', `StatefulSet ${namespace}/${set.metadata.name} is recreating failed Pod ${action.pod}`);
          await this.client.delete(R.pods, namespace, action.pod);
          this.events.event(set, KIND, 'Normal', 'SuccessfulDelete', `delete Pod ${action.pod} in StatefulSet ${set.metadata.name} successful`);
        }
      } catch (err) {
        if (isNotFound(err) && action.type === 'delete') continue;
        // A create that meets a pod of the same name not yet in the cache is resolved by the next sync.
        if (isConflict(err) && action.type === 'create') continue;
        const verb = action.type === 'create' ? 'Create' : 'Delete';
        const pod = action.type === 'create' ? `${set.metadata.name}-${action.ordinal}` : action.pod;
        this.events.event(set, KIND, 'Warning', `Failed${verb}`, `${verb.toLowerCase()} Pod ${pod} in StatefulSet ${set.metadata.name} failed error: ${err instanceof Error ? err.message : String(err)}`);
        failure ??= err;
      }
    }

    const live = new Set<string>([updateName, currentName, ...owned.map((p) => podRevision(p) ?? '')]);
    await truncateHistory(this.client, revs, live, set.spec.revisionHistoryLimit ?? 10);

    if (!sameStatus(plan.status, set.status ?? {})) {
      try {
        await this.client.update(R.statefulsets, { ...set, status: plan.status }, 'status');
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    if (failure !== undefined) throw failure;
    const minReady = set.spec.minReadySeconds ?? 0;
    if (minReady > 0 && owned.some((p) => isPodReady(p)) && (plan.status.readyReplicas ?? 0) > plan.status.availableReplicas) return { requeueAfterMs: minReady * 1000 };
  }

  /** Each live pod's claims get the owner references persistentVolumeClaimRetentionPolicy asks for. */
  private async updateClaimOwners(set: StatefulSet, pods: readonly Pod[]): Promise<void> {
    if (!(set.spec.volumeClaimTemplates ?? []).length) return;
    for (const pod of pods) {
      const ord = ordinalOf(set.metadata.name ?? '', pod);
      if (ord === undefined || pod.metadata.deletionTimestamp) continue;
      for (const want of claimsFor(set, ord)) {
        let claim: Obj;
        try {
          claim = await this.client.get<Obj>(R.persistentvolumeclaims, want.metadata.namespace, want.metadata.name ?? '');
        } catch (err) {
          if (isNotFound(err)) continue;
          throw err;
        }
        const refs = claimOwnerRefs(claim.metadata.ownerReferences, set, pod);
        if (jsonEqual(refs, claim.metadata.ownerReferences ?? [])) continue;
        await this.client.patch(R.persistentvolumeclaims, claim.metadata.namespace, claim.metadata.name ?? '', { metadata: { resourceVersion: claim.metadata.resourceVersion, ownerReferences: refs } });
      }
    }
  }

  /** The pod's claims, created when missing (owned by the set when persistentVolumeClaimRetentionPolicy.whenDeleted is Delete). */
  private async createClaims(set: StatefulSet, ordinal: number, pod: Pod): Promise<void> {
    for (const claim of claimsFor(set, ordinal)) {
      try {
        await this.client.get(R.persistentvolumeclaims, claim.metadata.namespace, claim.metadata.name ?? '');
        continue;
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      const refs = claimOwnerRefs(undefined, set, pod);
      if (refs.length) claim.metadata.ownerReferences = refs;
      try {
        await this.client.create<Obj>(R.persistentvolumeclaims, claim.metadata.namespace, claim);
        this.events.event(set, KIND, 'Normal', 'SuccessfulCreate', `create Claim ${claim.metadata.name} Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} success`);
      } catch (err) {
        if (!isConflict(err)) throw err;
      }
    }
  }
}
