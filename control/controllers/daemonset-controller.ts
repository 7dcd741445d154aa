import { claimObjects } from './controller-ref-manager.js';
import { selectorFromSpec } from '../api/selectors.js';
import { isNotFound, type Informer } from '../client/index.js';
import { Controller, type ControllerContext, type SyncResult } from './controller.js';
import { planDaemonSet, TEMPLATE_GENERATION_ANNOTATION, daemonPodTemplate, type DaemonSet } from './daemonset.js';
import { Expectations } from './expectations.js';
import { clone, jsonEqual, keyOf, ownerRefFor, R, splitKey, type Node, type Pod, sameStatus } from './objects.js';
import { watchOwnedPods } from './owned-pods.js';
import { slowStartBatch } from './replicaset.js';
import { CONTROLLER_REVISION_HASH, ownedRevisions, syncUpdateRevision, truncateHistory, type ControllerRevision } from './revisions.js';

const KIND = { apiVersion: 'apps/v1', kind: 'DaemonSet' };
const selectorOf = (ds: DaemonSet) => selectorFromSpec(ds.spec.selector as Parameters<typeof selectorFromSpec>[0]);

/**
 * upstream's DaemonSetsController: a daemon pod on every eligible node, bound through the scheduler by a node-name
 * affinity, rolled to new templates as the update strategy says, with the template history in ControllerRevisions.
 */
export class DaemonSetController extends Controller {
  readonly expectations: Expectations;
  private readonly sets: Informer<DaemonSet>;
  private readonly pods: Informer<Pod>;
  private readonly nodes: Informer<Node>;
  private readonly revisions: Informer<ControllerRevision>;

  constructor(ctx: ControllerContext) {
    super('daemonset', ctx);
    this.expectations = new Expectations(() => this.now().getTime());
    this.sets = this.watch<DaemonSet>(R.daemonsets);
    this.pods = this.watch<Pod>(R.pods);
    this.nodes = this.watch<Node>(R.nodes);
    this.revisions = this.watch<ControllerRevision>(R.controllerrevisions);
    const all = (): void => {
      for (const ds of this.sets.list()) this.queue.add(keyOf(ds));
    };
    this.sets.addHandlers({
      onAdd: (ds) => this.queue.add(keyOf(ds)),
      onUpdate: (_o, ds) => this.queue.add(keyOf(ds)),
      onDelete: (ds) => {
        this.expectations.delete(keyOf(ds));
        this.queue.add(keyOf(ds));
      },
    });
    // A node that appears, changes labels or taints, or goes away changes where daemon pods belong.
    this.nodes.addHandlers({
      onAdd: all,
      onUpdate: (old, n) => {
        if (!jsonEqual(old.metadata.labels, n.metadata.labels) || !jsonEqual(old.spec?.taints, n.spec?.taints)) all();
      },
      onDelete: all,
    });
    watchOwnedPods({ pods: this.pods, owners: this.sets, kind: 'DaemonSet', enqueue: (k) => this.queue.add(k), selector: selectorOf, expectations: this.expectations });
  }

  protected async sync(key: string): Promise<SyncResult> {
    const cached = this.sets.get(key);
    if (!cached) {
      this.expectations.delete(key);
      return;
    }
    const ds = clone(cached);
    const { namespace } = splitKey(key);
    const now = this.now();
    const selector = selectorOf(ds);
    if (selector !== 'nothing' && selector.length === 0) {
      this.events.event(ds, KIND, 'Warning', 'SelectingAll', 'This daemon set is selecting all pods. A non-empty selector is required.');
      return;
    }
    const deleting = !!ds.metadata.deletionTimestamp;
    const ref = ownerRefFor(ds, KIND.apiVersion, KIND.kind);
    const owned = await claimObjects(this.client, R.pods, ds, ref, selector, this.pods.list().filter((p) => p.metadata.namespace === namespace));
    if (deleting) return;

    const revs = ownedRevisions(ds.metadata.uid ?? '', this.revisions.list().filter((r) => r.metadata.namespace === namespace));
    const rev = await syncUpdateRevision(this.client, ds, revs, KIND);
    if (rev.collision) {
      await this.client.update(R.daemonsets, { ...ds, status: { ...(ds.status ?? {}), collisionCount: (ds.status?.collisionCount ?? 0) + 1 } }, 'status');
      throw new Error(`hash collision on the ControllerRevision of daemon set ${key}`);
    }
    const hash = rev.update.metadata.labels?.[CONTROLLER_REVISION_HASH] ?? '';
    const genText = ds.metadata.annotations?.[TEMPLATE_GENERATION_ANNOTATION];
    const templateGeneration = genText !== undefined && /^\d+$/.test(genText) ? Number(genText) : ds.metadata.generation;
    const plan = planDaemonSet({ ds, nodes: this.nodes.list(), pods: owned, hash, now, ...(templateGeneration !== undefined ? { templateGeneration } : {}) });

    let failure: unknown;
    if (this.expectations.satisfied(key)) {
      for (const f of plan.failed) this.events.event(ds, KIND, 'Warning', 'FailedDaemonPod', `Found failed daemon pod ${namespace}/${f.pod} on node ${f.node}, will try to kill it`);
      this.expectations.expectCreations(key, plan.create.length);
      const queue = [...plan.create];
      const r = await slowStartBatch(queue.length, 1, async () => {
        const node = queue.shift() as string;
        const template = daemonPodTemplate(ds, hash, templateGeneration, node);
        const body: Pod = {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { ...clone(template.metadata ?? {}), generateName: `${ds.metadata.name}-`, namespace, ownerReferences: [ref] },
          spec: template.spec ?? {},
        };
        delete body.metadata.name;
        const pod = await this.client.create(R.pods, namespace, body);
        this.events.event(ds, KIND, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`);
      });
      if (r.error !== undefined) {
        this.expectations.lowerCreations(key, plan.create.length - r.done);
        this.events.event(ds, KIND, 'Warning', 'FailedCreate', `Error creating: ${r.error instanceof Error ? r.error.message : String(r.error)}`);
        failure = r.error;
      }
      for (const name of plan.delete) {
        try {
          await this.client.delete(R.pods, namespace, name);
          this.events.event(ds, KIND, 'Normal', 'SuccessfulDelete', `Deleted pod: ${name}`);
        } catch (err) {
          if (isNotFound(err)) continue;
          this.events.event(ds, KIND, 'Warning', 'FailedDelete', `Error deleting: ${err instanceof Error ? err.message : String(err)}`);
          failure ??= err;
        }
      }
    }

    const live = new Set<string>([rev.update.metadata.name ?? '']);
    const hashes = new Set(owned.map((p) => p.metadata.labels?.[CONTROLLER_REVISION_HASH]));
    for (const r of revs) if (hashes.has(r.metadata.labels?.[CONTROLLER_REVISION_HASH])) live.add(r.metadata.name ?? '');
    await truncateHistory(this.client, revs, live, ds.spec.revisionHistoryLimit ?? 10);

    const status = { ...plan.status };
    if (!sameStatus(status, ds.status ?? {})) {
      try {
        await this.client.update(R.daemonsets, { ...ds, status }, 'status');
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    if (failure !== undefined) throw failure;
    const minReady = ds.spec.minReadySeconds ?? 0;
    if (minReady > 0 && status.numberReady > (status.numberAvailable ?? 0)) return { requeueAfterMs: minReady * 1000 };
  }
}
