import { hasStatusCode, type Informer, type KubeObject, type ResourceRef } from '../client/index.js';
import { Controller, type ControllerContext, type SyncResult } from './controller.js';
import { clone, errorMessage, rfc3339, R, sameStored, type Condition, type Namespace } from './objects.js';

/** The finalizer the namespace controller owns in spec.finalizers. */
export const NAMESPACE_FINALIZER = 'kubernetes';

const r = (group: string, version: string, resource: string): ResourceRef => ({ group, version, resource });

/** Every namespaced resource Skiff serves that can be deleted (upstream finds them through discovery). */
export const NAMESPACED_RESOURCES: ResourceRef[] = [
  r('apps', 'v1', 'deployments'),
  r('apps', 'v1', 'daemonsets'),
  r('apps', 'v1', 'statefulsets'),
  r('apps', 'v1', 'replicasets'),
  r('', 'v1', 'replicationcontrollers'),
  r('batch', 'v1', 'cronjobs'),
  r('batch', 'v1', 'jobs'),
  r('autoscaling', 'v2', 'horizontalpodautoscalers'),
  r('policy', 'v1', 'poddisruptionbudgets'),
  r('', 'v1', 'pods'),
  r('', 'v1', 'podtemplates'),
  r('', 'v1', 'services'),
  r('', 'v1', 'endpoints'),
  r('discovery.k8s.io', 'v1', 'endpointslices'),
  r('', 'v1', 'configmaps'),
  r('', 'v1', 'secrets'),
  r('', 'v1', 'serviceaccounts'),
  r('', 'v1', 'persistentvolumeclaims'),
  r('', 'v1', 'limitranges'),
  r('', 'v1', 'resourcequotas'),
  r('', 'v1', 'events'),
  r('apps', 'v1', 'controllerrevisions'),
  r('coordination.k8s.io', 'v1', 'leases'),
  r('rbac.authorization.k8s.io', 'v1', 'rolebindings'),
  r('rbac.authorization.k8s.io', 'v1', 'roles'),
];

export interface ContentReport {
  /** Resources with objects left, and how many ("pods.": 2), as upstream's NamespaceContentRemaining message counts them. */
  remaining: Map<string, number>;
  failures: string[];
}

/** The status conditions upstream's namespace deleter reports while it empties a namespace. */
export function namespaceConditions(current: readonly Condition[] | undefined, report: ContentReport, now: Date): Condition[] {
  const remaining = [...report.remaining.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
  const want: Condition[] = [
    { type: 'NamespaceDeletionDiscoveryFailure', status: 'False', reason: 'ResourcesDiscovered', message: 'All resources successfully discovered' },
    { type: 'NamespaceDeletionGroupVersionParsingFailure', status: 'False', reason: 'ParsedGroupVersions', message: 'All legacy kube types successfully parsed' },
    report.failures.length
      ? { type: 'NamespaceDeletionContentFailure', status: 'True', reason: 'ContentDeletionFailed', message: `Failed to delete all resource types, ${report.failures.length} remaining: ${report.failures.join(', ')}` }
      : { type: 'NamespaceDeletionContentFailure', status: 'False', reason: 'ContentDeleted', message: 'All content successfully deleted, may be waiting on finalization' },
    remaining.length
      ? { type: 'NamespaceContentRemaining', status: 'True', reason: 'SomeResourcesRemain', message: `Some resources are remaining: ${remaining.map(([res, n]) => `${res} has ${n} resource instances`).join(', ')}` }
      : { type: 'NamespaceContentRemaining', status: 'False', reason: 'ContentRemoved', message: 'All content successfully removed' },
  ];
  return want.map((c) => {
    const old = current?.find((x) => x.type === c.type);
    return { ...c, lastTransitionTime: old && old.status === c.status ? (old.lastTransitionTime ?? rfc3339(now)) : rfc3339(now) };
  });
}

/**
 * upstream's NamespaceController: a namespace being deleted is emptied — every object of every namespaced resource
 * deleted, and waited for — and then its "kubernetes" finalizer is removed through /finalize, which lets the API
 * server delete it.
 */
export class NamespaceController extends Controller {
  private readonly namespaces: Informer<Namespace>;

  constructor(
    ctx: ControllerContext,
    private readonly resources: ResourceRef[] = NAMESPACED_RESOURCES,
    private readonly recheckMs = 250,
  ) {
    super('namespace', ctx);
    this.namespaces = this.watch<Namespace>(R.namespaces);
    this.namespaces.addHandlers({
      onAdd: (ns) => {
        if (ns.metadata.deletionTimestamp) this.queue.add(ns.metadata.name ?? '');
      },
      onUpdate: (_o, ns) => {
        if (ns.metadata.deletionTimestamp) this.queue.add(ns.metadata.name ?? '');
      },
    });
  }

  protected async sync(name: string): Promise<SyncResult> {
    const cached = this.namespaces.get(name);
    if (!cached || !cached.metadata.deletionTimestamp) return;
    const ns = clone(cached);
    const finalizers = ns.spec?.finalizers ?? [];
    if (!finalizers.includes(NAMESPACE_FINALIZER)) return;
    const report = await this.deleteContent(name);
    const conditions = namespaceConditions(ns.status?.conditions, report, this.now());
    if (!sameStored(conditions.map(({ lastTransitionTime: _t, ...c }) => c), (ns.status?.conditions ?? []).map(({ lastTransitionTime: _t, ...c }) => c))) {
      try {
        const updated = await this.client.update<Namespace>(R.namespaces, { ...ns, status: { ...(ns.status ?? {}), phase: 'Terminating', conditions } }, 'status');
        ns.metadata.resourceVersion = updated.metadata.resourceVersion;
      } catch (err) {
        if (hasStatusCode(err, 404)) return;
        if (!hasStatusCode(err, 409)) throw err;
      }
    }
    if (report.failures.length) throw new Error(`namespace ${name}: ${report.failures.join('; ')}`);
    if (report.remaining.size > 0) return { requeueAfterMs: this.recheckMs };
    try {
      await this.client.update(R.namespaces, { ...ns, metadata: { ...ns.metadata, resourceVersion: undefined }, spec: { ...(ns.spec ?? {}), finalizers: finalizers.filter((f) => f !== NAMESPACE_FINALIZER) } }, 'finalize');
    } catch (err) {
      if (!hasStatusCode(err, 404)) throw err;
    }
  }

  /** Deletes what is left in the namespace; reports what still exists (terminating pods, finalizers) and what failed. */
  private async deleteContent(namespace: string): Promise<ContentReport> {
    const report: ContentReport = { remaining: new Map(), failures: [] };
    for (const ref of this.resources) {
      let items: KubeObject[];
      try {
        items = (await this.client.list(ref, { namespace })).items;
      } catch (err) {
        // A resource this server does not serve has nothing to delete.
        if (hasStatusCode(err, 404) || hasStatusCode(err, 405)) continue;
        report.failures.push(`${ref.resource}: ${errorMessage(err)}`);
        continue;
      }
      if (items.length === 0) continue;
      report.remaining.set(`${ref.resource}.${ref.group}`, items.length);
      for (const item of items) {
        if (item.metadata.deletionTimestamp) continue;
        try {
          await this.client.delete(ref, namespace, item.metadata.name ?? '', { propagationPolicy: 'Background' });
        } catch (err) {
          if (hasStatusCode(err, 404) || hasStatusCode(err, 409)) continue;
          report.failures.push(`${ref.resource} ${item.metadata.name}: ${errorMessage(err)}`);
        }
      }
    }
    return report;
  }
}
