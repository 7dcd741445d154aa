import { isNotFound, type Informer, type ResourceRef } from '../client/index.js';
import { Controller, type ControllerContext, type SyncResult } from './controller.js';
import { quotaScopes, quotaUsed, resourcesToList, type ListedObjects } from '../api/quota/index.js';
import { clone, jsonEqual, keyOf, R, splitKey, type Obj, type ResourceQuota, sameStatus } from './objects.js';

export const DEFAULT_RESOURCE_QUOTA_SYNC_PERIOD_MS = 5 * 60 * 1000;

/**
 * upstream's ResourceQuotaController: recalculates status.used (and copies spec.hard to status.hard) of every quota,
 * when the quota changes, when pods, services or claims in its namespace come and go, and in a full pass every
 * --resource-quota-sync-period. Other resources are listed from the API server when a quota counts them.
 */
export class ResourceQuotaController extends Controller {
  private readonly quotas: Informer<ResourceQuota>;
  private readonly watched = new Map<string, Informer<Obj>>();
  private timer: NodeJS.Timeout | undefined;

  constructor(ctx: ControllerContext) {
    super('resourcequota', ctx);
    this.quotas = this.watch<ResourceQuota>(R.resourcequotas);
    this.quotas.addHandlers({ onAdd: (q) => this.queue.add(keyOf(q)), onUpdate: (_o, q) => this.queue.add(keyOf(q)) });
    const forNamespace = (o: Obj): void => {
      for (const q of this.quotas.list()) if (q.metadata.namespace === o.metadata.namespace) this.queue.add(keyOf(q));
    };
    for (const ref of [R.pods, R.services, R.persistentvolumeclaims]) {
      const inf = this.watch<Obj>(ref);
      this.watched.set(`${ref.group}/${ref.resource}`, inf);
      inf.addHandlers({
        onAdd: forNamespace,
        // Only what changes usage: phase (a finished pod stops counting), deletion, spec.
        onUpdate: (old, o) => {
          // Most namespaces have no quota: nothing to compare for them.
          if (!this.quotas.list().some((q) => q.metadata.namespace === o.metadata.namespace)) return;
          if (!jsonEqual(old.spec, o.spec) || (old.status as { phase?: string } | undefined)?.phase !== (o.status as { phase?: string } | undefined)?.phase || old.metadata.deletionTimestamp !== o.metadata.deletionTimestamp) forNamespace(o);
        },
        onDelete: forNamespace,
      });
    }
  }

  override async start(): Promise<void> {
    await super.start();
    this.timer ??= setInterval(() => {
      for (const q of this.quotas.list()) this.queue.add(keyOf(q));
    }, this.ctx.config?.resourceQuotaSyncPeriodMs ?? DEFAULT_RESOURCE_QUOTA_SYNC_PERIOD_MS);
  }

  override async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await super.stop();
  }

  protected async sync(key: string): Promise<SyncResult> {
    const cached = this.quotas.get(key);
    if (!cached) return;
    const quota = clone(cached);
    const { namespace } = splitKey(key);
    const hard = quota.spec?.hard ?? {};
    const listed: ListedObjects[] = [];
    for (const r of resourcesToList(hard)) {
      const inf = this.watched.get(`${r.group}/${r.resource}`);
      if (inf) {
        listed.push({ ...r, items: inf.list().filter((o) => o.metadata.namespace === namespace) });
        continue;
      }
      // Versions: the core group and the usual API groups serve v1.
      const ref: ResourceRef = { group: r.group, version: 'v1', resource: r.resource };
      try {
        listed.push({ ...r, items: (await this.client.list<Obj>(ref, { ...(namespace ? { namespace } : {}) })).items });
      } catch (err) {
        if (!isNotFound(err)) throw err;
        listed.push({ ...r, items: [] });
      }
    }
    const status = { hard: { ...hard }, used: quotaUsed(hard, quotaScopes(quota.spec), quota.status?.used, listed, this.now()) };
    if (sameStatus(status, quota.status ?? {})) return;
    try {
      await this.client.update(R.resourcequotas, { ...quota, status }, 'status');
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
