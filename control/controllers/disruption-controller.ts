import { matchesLabels, selectorFromSpec } from '../api/selectors.js';
import { isNotFound, type Informer } from '../client/index.js';
import { Controller, type ControllerContext, type SyncResult } from './controller.js';
import { countHealthy, expectedPodCount, failSafeStatus, pdbStatus, pendingDisruptions, type PodDisruptionBudget, type ScaleOf } from './disruption.js';
import { clone, controllerRef, errorMessage, jsonEqual, keyOf, R, splitKey, type Deployment, type Obj, type Pod, type ReplicaSet, sameStatus } from './objects.js';

const KIND = { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget' };
type Scalable = Obj & { spec?: { replicas?: number } };

/** The pods a budget covers: its namespace, its selector (an empty one selects every pod, a missing one none). */
export function podsForBudget(pdb: PodDisruptionBudget, pods: readonly Pod[]): Pod[] {
  let sel: ReturnType<typeof selectorFromSpec>;
  try {
    sel = selectorFromSpec(pdb.spec.selector as Parameters<typeof selectorFromSpec>[0]);
  } catch {
    return [];
  }
  if (sel === 'nothing') return [];
  return pods.filter((p) => p.metadata.namespace === pdb.metadata.namespace && matchesLabels(sel, p.metadata.labels));
}

/**
 * upstream's DisruptionController: keeps every PodDisruptionBudget's status (healthy, desired and expected pods,
 * disruptions allowed, the DisruptionAllowed condition) in step with its pods and their controllers' scale, and
 * forgets evictions (status.disruptedPods) whose pods were not deleted in time.
 */
export class DisruptionController extends Controller {
  private readonly pdbs: Informer<PodDisruptionBudget>;
  private readonly pods: Informer<Pod>;
  private readonly replicaSets: Informer<ReplicaSet>;
  private readonly deployments: Informer<Deployment>;
  private readonly statefulSets: Informer<Scalable>;
  private readonly rcs: Informer<Scalable>;

  constructor(ctx: ControllerContext) {
    super('disruption', ctx);
    this.pdbs = this.watch<PodDisruptionBudget>(R.poddisruptionbudgets);
    this.pods = this.watch<Pod>(R.pods);
    this.replicaSets = this.watch<ReplicaSet>(R.replicasets);
    this.deployments = this.watch<Deployment>(R.deployments);
    this.statefulSets = this.watch<Scalable>(R.statefulsets);
    this.rcs = this.watch<Scalable>(R.replicationcontrollers);
    this.pdbs.addHandlers({ onAdd: (p) => this.queue.add(keyOf(p)), onUpdate: (_o, p) => this.queue.add(keyOf(p)), onDelete: (p) => this.queue.add(keyOf(p)) });
    const forPod = (pod: Pod): void => {
      for (const pdb of this.pdbs.list()) if (podsForBudget(pdb, [pod]).length) this.queue.add(keyOf(pdb));
    };
    this.pods.addHandlers({
      onAdd: forPod,
      onUpdate: (old, pod) => {
        forPod(pod);
        if (!jsonEqual(old.metadata.labels, pod.metadata.labels)) forPod(old);
      },
      onDelete: forPod,
    });
    // A controller's scale is the denominator of percentages: any change wakes the namespace's budgets.
    const forNamespace = (o: Obj): void => {
      for (const pdb of this.pdbs.list()) if (pdb.metadata.namespace === o.metadata.namespace) this.queue.add(keyOf(pdb));
    };
    for (const inf of [this.replicaSets, this.deployments, this.statefulSets, this.rcs] as Array<Informer<Obj>>) {
      inf.addHandlers({ onAdd: forNamespace, onUpdate: (_o, x) => forNamespace(x), onDelete: forNamespace });
    }
  }

  /** upstream's finders: a ReplicationController, a Deployment through its ReplicaSet, a bare ReplicaSet, a StatefulSet. */
  private readonly scaleOf: ScaleOf = (pod) => {
    const ref = controllerRef(pod);
    if (!ref) return undefined;
    const ns = pod.metadata.namespace;
    const same = <T extends Obj>(o: T | undefined, uid: string): T | undefined => (o && o.metadata.uid === uid ? o : undefined);
    switch (ref.kind) {
      case 'ReplicationController': {
        const rc = same(this.rcs.get(`${ns}/${ref.name}`), ref.uid);
        return rc ? { uid: ref.uid, scale: rc.spec?.replicas ?? 1 } : undefined;
      }
      case 'StatefulSet': {
        const s = same(this.statefulSets.get(`${ns}/${ref.name}`), ref.uid);
        return s ? { uid: ref.uid, scale: s.spec?.replicas ?? 1 } : undefined;
      }
      case 'ReplicaSet': {
        const rs = same(this.replicaSets.get(`${ns}/${ref.name}`), ref.uid);
        if (!rs) return undefined;
        const dref = controllerRef(rs);
        if (dref?.kind === 'Deployment') {
          const d = same(this.deployments.get(`${ns}/${dref.name}`), dref.uid);
          return d ? { uid: dref.uid, scale: d.spec.replicas ?? 1 } : undefined;
        }
        return { uid: ref.uid, scale: rs.spec.replicas ?? 1 };
      }
      default:
        return undefined;
    }
  };

  protected async sync(key: string): Promise<SyncResult> {
    const cached = this.pdbs.get(key);
    if (!cached) return;
    const pdb = clone(cached);
    const now = this.now();
    const { namespace } = splitKey(key);
    const pods = podsForBudget(pdb, this.pods.list().filter((p) => p.metadata.namespace === namespace));
    let status;
    let recheckAt: number | undefined;
    try {
      if (pods.length === 0 && (pdb.status?.expectedPods ?? 0) !== 0) this.events.event(pdb, KIND, 'Normal', 'NoPods', 'No matching pods found');
      let expected;
      try {
        expected = expectedPodCount(pdb, pods, this.scaleOf);
      } catch (err) {
        this.events.event(pdb, KIND, 'Warning', 'CalculateExpectedPodCountFailed', `Failed to calculate the number of expected pods: ${errorMessage(err)}`);
        throw err;
      }
      const pending = pendingDisruptions(pdb, pods, now);
      for (const name of pending.expired) {
        const pod = pods.find((p) => p.metadata.name === name);
        if (pod) this.events.event(pod, { apiVersion: 'v1', kind: 'Pod' }, 'Warning', 'NotDeleted', `Pod was expected by PDB ${pdb.metadata.namespace}/${pdb.metadata.name} to be deleted but it wasn't`);
      }
      recheckAt = pending.recheckAt;
      status = pdbStatus(pdb, expected, countHealthy(pods, pending.pending), pending.pending, now);
    } catch (err) {
      status = failSafeStatus(pdb, errorMessage(err), now);
    }
    if (!sameStatus(status, pdb.status ?? {})) {
      try {
        await this.client.update(R.poddisruptionbudgets, { ...pdb, status }, 'status');
      } catch (err) {
        // A conflict (an eviction wrote first) is retried with back-off, as upstream requeues it.
        if (isNotFound(err)) return;
        throw err;
      }
    }
    if (recheckAt !== undefined) return { requeueAfterMs: Math.max(1, recheckAt - now.getTime()) };
  }
}
