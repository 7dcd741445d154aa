import { claimObjects } from './controller-ref-manager.js';
import { selectorFromSpec } from '../api/selectors.js';
import { hasStatusCode, type Informer } from '../client/index.js';
import { Controller, type ControllerContext, type SyncResult } from './controller.js';
import {
  buildNewReplicaSet,
  condition,
  deploymentComplete,
  equalIgnoreHash,
  findNewReplicaSet,
  findOldReplicaSets,
  hasProgressDeadline,
  isScalingEvent,
  NEW_RS_CREATED,
  FOUND_NEW_RS,
  newReplicaSetAnnotations,
  newRSNewReplicas,
  pausedCondition,
  PROGRESSING,
  replicasAnnotations,
  replicaSetsToCleanUp,
  REVISION,
  rolloutRecreate,
  rolloutRolling,
  rolloutStatus,
  calculateStatus,
  scaleDeployment,
  selectsReplicaSet,
  setCondition,
  type DeploymentStatus,
  type ScaleStep,
} from './deployment.js';
import { clone, controllerRef, jsonEqual, keyOf, ownerRefFor, R, rfc3339, splitKey, type Deployment, type OwnerReference, type Pod, type ReplicaSet } from './objects.js';

const DEPLOYMENT = { apiVersion: 'apps/v1', kind: 'Deployment' };

/**
 * upstream's DeploymentController: owns ReplicaSets, one per template, and rolls from the old ones to the new one
 * with the deployment's strategy; keeps revisions, cleans up history and reports progress.
 */
export class DeploymentController extends Controller {
  private readonly deployments: Informer<Deployment>;
  private readonly replicaSets: Informer<ReplicaSet>;
  private readonly pods: Informer<Pod>;

  constructor(ctx: ControllerContext) {
    super('deployment', ctx);
    this.deployments = this.watch<Deployment>(R.deployments);
    this.replicaSets = this.watch<ReplicaSet>(R.replicasets);
    this.pods = this.watch<Pod>(R.pods);
    this.deployments.addHandlers({
      onAdd: (d) => this.queue.add(keyOf(d)),
      onUpdate: (_o, d) => this.queue.add(keyOf(d)),
      onDelete: (d) => this.queue.add(keyOf(d)),
    });
    this.replicaSets.addHandlers({
      onAdd: (rs) => this.rsChanged(rs),
      onUpdate: (old, rs) => {
        if (controllerRef(old)?.uid !== controllerRef(rs)?.uid) this.rsChanged(old);
        this.rsChanged(rs);
      },
      onDelete: (rs) => this.rsChanged(rs),
    });
    // Recreate waits for the old pods to be gone: their deletion is news.
    this.pods.addHandlers({
      onDelete: (p) => {
        const rsRef = controllerRef(p);
        if (rsRef?.kind !== 'ReplicaSet') return;
        const rs = this.replicaSets.get(`${p.metadata.namespace}/${rsRef.name}`);
        const d = rs && this.resolve(rs.metadata.namespace, controllerRef(rs));
        if (d && d.spec.strategy?.type === 'Recreate') this.queue.add(keyOf(d));
      },
    });
  }

  private resolve(namespace: string | undefined, ref: OwnerReference | undefined): Deployment | undefined {
    if (!ref || ref.kind !== 'Deployment') return undefined;
    const d = this.deployments.get(`${namespace}/${ref.name}`);
    return d && d.metadata.uid === ref.uid ? d : undefined;
  }

  private rsChanged(rs: ReplicaSet): void {
    const ref = controllerRef(rs);
    if (ref) {
      const d = this.resolve(rs.metadata.namespace, ref);
      if (d) this.queue.add(keyOf(d));
      return;
    }
    for (const d of this.deployments.list()) if (d.metadata.namespace === rs.metadata.namespace && selectsReplicaSet(d, rs)) this.queue.add(keyOf(d));
  }

  protected async sync(key: string): Promise<SyncResult> {
    const cached = this.deployments.get(key);
    if (!cached) return;
    const d = clone(cached);
    const { namespace } = splitKey(key);
    const now = this.now();
    const selector = selectorFromSpec(d.spec.selector);
    if (selector === 'nothing' || selector.length === 0) {
      // An empty selector would select every pod: upstream refuses to act and only observes the generation.
      this.events.event(d, DEPLOYMENT, 'Warning', 'SelectingAll', 'This deployment is selecting all pods. A non-empty selector is required.');
      if (d.status?.observedGeneration !== d.metadata.generation) await this.writeStatus(d, { ...(d.status ?? {}), observedGeneration: d.metadata.generation ?? 0 });
      return;
    }
    const rsList = await this.claimReplicaSets(d, namespace);
    if (d.metadata.deletionTimestamp) {
      const newRS = findNewReplicaSet(d, rsList);
      await this.writeStatus(d, calculateStatus(d, rsList, newRS, now));
      return;
    }
    const paused = pausedCondition(d, now);
    if (paused) {
      const status = clone(d.status ?? {});
      setCondition(status, paused);
      await this.writeStatus(d, status);
      return;
    }
    if (d.spec.paused || isScalingEvent(d, rsList)) return this.scaleOnly(d, rsList, now);
    if (d.spec.strategy?.type === 'Recreate') return this.recreate(d, rsList, namespace, now);
    return this.rolling(d, rsList, now);
  }

  /** Adopts matching orphan ReplicaSets and releases owned ones that stopped matching; returns the owned ones. */
  private async claimReplicaSets(d: Deployment, namespace: string | undefined): Promise<ReplicaSet[]> {
    const selector = selectorFromSpec(d.spec.selector);
    const candidates = this.replicaSets.list().filter((rs) => rs.metadata.namespace === namespace);
    const owned = await claimObjects(this.client, R.replicasets, d, ownerRefFor(d, 'apps/v1', 'Deployment'), selector, candidates);
    // What follows changes them in place.
    return owned.map((rs) => clone(rs));
  }

  /**
   * upstream's getAllReplicaSetsAndSyncRevision: the new ReplicaSet (created when asked and missing) with its
   * revision and annotations brought up to date, the old ones, and the deployment's revision annotation.
   */
  private async newAndOld(d: Deployment, rsList: ReplicaSet[], create: boolean, now: Date): Promise<{ newRS: ReplicaSet | undefined; oldRSs: ReplicaSet[]; all: ReplicaSet[] }> {
    let newRS = findNewReplicaSet(d, rsList);
    const oldRSs = findOldReplicaSets(rsList, newRS);
    const namespace = d.metadata.namespace;
    if (newRS) {
      const annotations = newReplicaSetAnnotations(d, newRS, oldRSs);
      const minReady = d.spec.minReadySeconds ?? 0;
      if (annotations || (newRS.spec.minReadySeconds ?? 0) !== minReady) {
        newRS = await this.client.update<ReplicaSet>(R.replicasets, { ...newRS, metadata: { ...newRS.metadata, annotations: annotations ?? newRS.metadata.annotations ?? {} }, spec: { ...newRS.spec, minReadySeconds: minReady } });
      }
      if (hasProgressDeadline(d) && !condition(d.status, PROGRESSING)) {
        d.status = clone(d.status ?? {});
        setCondition(d.status, { type: PROGRESSING, status: 'True', reason: FOUND_NEW_RS, message: `Found new replica set "${newRS.metadata.name}"`, lastUpdateTime: rfc3339(now), lastTransitionTime: rfc3339(now) });
      }
    } else if (create) {
      const draft = buildNewReplicaSet(d, oldRSs, 0);
      const initial = newRSNewReplicas(d, [draft, ...oldRSs], draft);
      draft.spec.replicas = initial;
      try {
        newRS = await this.client.create<ReplicaSet>(R.replicasets, namespace, draft);
        if (initial > 0) this.events.event(d, DEPLOYMENT, 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${newRS.metadata.name} from 0 to ${initial}`);
      } catch (err) {
        if (!hasStatusCode(err, 409)) throw err;
        // The name is taken: ours with the same template (a stale cache) is fine; anything else is a hash collision.
        const existing = await this.client.get<ReplicaSet>(R.replicasets, namespace, draft.metadata.name ?? '');
        if (controllerRef(existing)?.uid === d.metadata.uid && equalIgnoreHash(existing.spec.template, d.spec.template)) {
          newRS = existing;
        } else {
          await this.writeStatus(d, { ...(d.status ?? {}), collisionCount: (d.status?.collisionCount ?? 0) + 1 });
          throw new Error(`hash collision for the new replica set of deployment ${keyOf(d)}; retrying with collisionCount ${(d.status?.collisionCount ?? 0) + 1}`);
        }
      }
      if (hasProgressDeadline(d)) {
        d.status = clone(d.status ?? {});
        setCondition(d.status, { type: PROGRESSING, status: 'True', reason: NEW_RS_CREATED, message: `Created new replica set "${newRS.metadata.name}"`, lastUpdateTime: rfc3339(now), lastTransitionTime: rfc3339(now) });
      }
    }
    if (newRS) {
      const revision = newRS.metadata.annotations?.[REVISION];
      if (revision !== undefined && d.metadata.annotations?.[REVISION] !== revision) {
        const patched = await this.client.patch<Deployment>(R.deployments, namespace, d.metadata.name ?? '', { metadata: { annotations: { [REVISION]: revision } } });
        d.metadata.resourceVersion = patched.metadata.resourceVersion;
        d.metadata.annotations = patched.metadata.annotations;
      }
    }
    return { newRS, oldRSs, all: newRS ? [newRS, ...oldRSs] : oldRSs };
  }

  /** Applies scale steps, with the desired/max replicas bookkeeping; returns the list with the updated objects. */
  private async applyScale(d: Deployment, all: ReplicaSet[], steps: ScaleStep[]): Promise<ReplicaSet[]> {
    const out = [...all];
    for (const step of steps) {
      const i = out.findIndex((rs) => rs.metadata.name === step.name);
      const rs = out[i];
      if (!rs) continue;
      const updated = await this.client.update<ReplicaSet>(R.replicasets, {
        ...rs,
        metadata: { ...rs.metadata, annotations: { ...(rs.metadata.annotations ?? {}), ...replicasAnnotations(d) } },
        spec: { ...rs.spec, replicas: step.replicas },
      });
      out[i] = updated;
      const from = rs.spec.replicas ?? 0;
      if (from !== step.replicas) this.events.event(d, DEPLOYMENT, 'Normal', 'ScalingReplicaSet', `Scaled ${step.replicas > from ? 'up' : 'down'} replica set ${step.name} from ${from} to ${step.replicas}`);
    }
    return out;
  }

  private async writeStatus(d: Deployment, status: DeploymentStatus): Promise<void> {
    if (jsonEqual(status, d.status ?? {})) return;
    try {
      const updated = await this.client.update<Deployment>(R.deployments, { ...d, status }, 'status');
      d.metadata.resourceVersion = updated.metadata.resourceVersion;
      d.status = updated.status;
    } catch (err) {
      if (!hasStatusCode(err, 404)) throw err;
    }
  }

  private async finish(d: Deployment, all: ReplicaSet[], newRS: ReplicaSet | undefined, oldRSs: ReplicaSet[], now: Date): Promise<SyncResult> {
    const { status, requeueAfterMs } = rolloutStatus(d, all, newRS, now);
    if (deploymentComplete(d, status)) await this.cleanup(d, oldRSs);
    await this.writeStatus(d, status);
    return requeueAfterMs !== undefined ? { requeueAfterMs } : undefined;
  }

  private async cleanup(d: Deployment, oldRSs: ReplicaSet[]): Promise<void> {
    for (const name of replicaSetsToCleanUp(d, oldRSs)) {
      try {
        await this.client.delete(R.replicasets, d.metadata.namespace, name);
      } catch (err) {
        if (!hasStatusCode(err, 404)) throw err;
      }
    }
  }

  private async rolling(d: Deployment, rsList: ReplicaSet[], now: Date): Promise<SyncResult> {
    const { newRS, oldRSs, all } = await this.newAndOld(d, rsList, true, now);
    const steps = rolloutRolling(d, newRS, oldRSs);
    const updated = await this.applyScale(d, all, steps);
    const nextNew = newRS && updated.find((rs) => rs.metadata.uid === newRS.metadata.uid);
    return this.finish(d, updated, nextNew, updated.filter((rs) => rs !== nextNew), now);
  }

  private async recreate(d: Deployment, rsList: ReplicaSet[], namespace: string | undefined, now: Date): Promise<SyncResult> {
    let { newRS, oldRSs, all } = await this.newAndOld(d, rsList, false, now);
    const pods = this.pods.list().filter((p) => p.metadata.namespace === namespace);
    const plan = rolloutRecreate(d, newRS, oldRSs, pods);
    if (plan.step === 'scaleDownOld') all = await this.applyScale(d, all, plan.scale);
    else if (plan.step === 'createNew') ({ newRS, oldRSs, all } = await this.newAndOld(d, rsList, true, now));
    else if (plan.step === 'scaleUpNew') all = await this.applyScale(d, all, plan.scale);
    const nextNew = newRS && all.find((rs) => rs.metadata.uid === newRS.metadata.uid);
    return this.finish(d, all, nextNew, all.filter((rs) => rs !== nextNew), now);
  }

  /** Paused deployments and scaling events: resize what exists, no rollout (upstream's sync()). */
  private async scaleOnly(d: Deployment, rsList: ReplicaSet[], now: Date): Promise<SyncResult> {
    const { newRS, oldRSs, all } = await this.newAndOld(d, rsList, false, now);
    const updated = await this.applyScale(d, all, scaleDeployment(d, newRS, oldRSs));
    const nextNew = newRS && updated.find((rs) => rs.metadata.uid === newRS.metadata.uid);
    const olds = updated.filter((rs) => rs !== nextNew);
    if (d.spec.paused) await this.cleanup(d, olds);
    const status = calculateStatus(d, updated, nextNew, now);
    await this.writeStatus(d, status);
  }
}
