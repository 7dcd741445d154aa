/**
 * ControllerRevisions as DaemonSets and StatefulSets keep them (upstream's pkg/controller/history): each distinct pod
 * template is stored once, as a patch that replaces spec.template, named <owner>-<hash>, numbered in order; the
 * newest matching one is the update revision and old ones beyond revisionHistoryLimit are dropped when no pod uses them.
 */
import { ApiStatusError, type KubeClient } from '../client/index.js';
import { computeHash } from './deployment.js';
import { clone, controllerRef, jsonEqual, R, type Obj, type PodTemplate } from './objects.js';

/** Label on revisions (and pods) naming the revision's hash, as upstream's apps.ControllerRevisionHashLabelKey. */
export const CONTROLLER_REVISION_HASH = 'controller-revision-hash';

export interface ControllerRevision extends Obj {
  data?: { spec?: { template?: Record<string, unknown> } } & Record<string, unknown>;
  revision?: number;
}

/** The data of a revision: a strategic merge patch that replaces the owner's template (upstream's getPatch). */
export function revisionData(template: PodTemplate | undefined): ControllerRevision['data'] {
  return { spec: { template: { ...clone(template ?? {}), $patch: 'replace' } } };
}

/** The template a revision holds. */
export function revisionTemplate(rev: ControllerRevision): PodTemplate {
  const t = clone(rev.data?.spec?.template ?? {}) as Record<string, unknown>;
  delete t.$patch;
  return t as PodTemplate;
}

/** history.ControllerRevisionName: the owner's name (cut to leave room) and the hash. */
export function revisionName(owner: string, hash: string): string {
  return `${owner.length > 223 ? owner.slice(0, 223) : owner}-${hash}`;
}

export const templateHash = (template: PodTemplate | undefined, collisionCount?: number): string => computeHash(template, collisionCount);

/** Revisions in order: by revision number, then by name. */
export function sortRevisions(revs: readonly ControllerRevision[]): ControllerRevision[] {
  return [...revs].sort((a, b) => (a.revision ?? 0) - (b.revision ?? 0) || ((a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1));
}

export const ownedRevisions = (ownerUid: string, revs: readonly ControllerRevision[]): ControllerRevision[] => revs.filter((r) => controllerRef(r)?.uid === ownerUid);

export interface RevisionPlan {
  /** The revision the owner's template is at: an existing one (perhaps renumbered) or one to create. */
  update: ControllerRevision;
  /** True when `update` does not exist yet. */
  create: boolean;
  /** An existing equal revision that must be renumbered to become the newest (rolling back to an old template). */
  renumber: boolean;
}

/**
 * Which revision the owner's current template is (upstream's getStatefulSetRevisions / constructHistory): an existing
 * revision with equal data is reused, renumbered to the newest if it is not; otherwise a new one is to be created.
 */
export function planUpdateRevision(
  owner: Obj & { spec: { template?: PodTemplate } },
  revs: readonly ControllerRevision[],
  opts: { apiVersion: string; kind: string; collisionCount?: number },
): RevisionPlan {
  const sorted = sortRevisions(revs);
  const data = revisionData(owner.spec.template);
  const max = sorted.length ? (sorted[sorted.length - 1]?.revision ?? 0) : 0;
  const equal = sorted.filter((r) => jsonEqual(r.data, data));
  const newest = equal[equal.length - 1];
  if (newest) {
    const isLast = sorted[sorted.length - 1] === newest;
    return { update: isLast ? newest : { ...clone(newest), revision: max + 1 }, create: false, renumber: !isLast };
  }
  const hash = templateHash(owner.spec.template, opts.collisionCount);
  const update: ControllerRevision = {
    apiVersion: 'apps/v1',
    kind: 'ControllerRevision',
    metadata: {
      name: revisionName(owner.metadata.name ?? '', hash),
      namespace: owner.metadata.namespace,
      labels: { ...(owner.spec.template?.metadata?.labels ?? {}), [CONTROLLER_REVISION_HASH]: hash },
      // The owner's annotations travel with the revision (kubernetes.io/change-cause is rollout history's CHANGE-CAUSE).
      ...(owner.metadata.annotations ? { annotations: { ...owner.metadata.annotations } } : {}),
      ownerReferences: [{ apiVersion: opts.apiVersion, kind: opts.kind, name: owner.metadata.name ?? '', uid: owner.metadata.uid ?? '', controller: true, blockOwnerDeletion: true }],
    },
    data,
    revision: max + 1,
  };
  return { update, create: true, renumber: false };
}

/** Revisions to delete: the oldest that no pod and neither current nor update revision uses, beyond `limit`. */
export function revisionsToTruncate(revs: readonly ControllerRevision[], live: ReadonlySet<string>, limit: number): ControllerRevision[] {
  const dead = sortRevisions(revs).filter((r) => !live.has(r.metadata.name ?? ''));
  return dead.slice(0, Math.max(0, dead.length - Math.max(0, limit)));
}

// ---------- I/O: keeping the history in the API server ----------


export type RevisionSync = { update: ControllerRevision; collision?: false } | { collision: true };

/**
 * Makes sure the revision of the owner's current template exists and is the newest: reuses or renumbers an equal one,
 * or creates it. A different revision already holding the name is a hash collision: the caller bumps
 * status.collisionCount and tries again.
 */
export async function syncUpdateRevision(
  client: KubeClient,
  owner: Obj & { spec: { template?: PodTemplate }; status?: { collisionCount?: number } },
  revs: readonly ControllerRevision[],
  opts: { apiVersion: string; kind: string },
): Promise<RevisionSync> {
  const plan = planUpdateRevision(owner, revs, { ...opts, ...(owner.status?.collisionCount !== undefined ? { collisionCount: owner.status.collisionCount } : {}) });
  if (plan.renumber) return { update: await client.update<ControllerRevision>(R.controllerrevisions, plan.update) };
  if (!plan.create) return { update: plan.update };
  try {
    return { update: await client.create<ControllerRevision>(R.controllerrevisions, owner.metadata.namespace, plan.update) };
  } catch (err) {
    if (!(err instanceof ApiStatusError && err.code === 409)) throw err;
    const existing = await client.get<ControllerRevision>(R.controllerrevisions, owner.metadata.namespace, plan.update.metadata.name ?? '');
    if (controllerRef(existing)?.uid === owner.metadata.uid && jsonEqual(existing.data, plan.update.data)) return { update: existing };
    return { collision: true };
  }
}

/** Deletes history beyond the owner's revisionHistoryLimit (default 10), sparing revisions still in use. */
export async function truncateHistory(client: KubeClient, revs: readonly ControllerRevision[], live: ReadonlySet<string>, limit = 10): Promise<void> {
  for (const r of revisionsToTruncate(revs, live, limit)) {
    try {
      await client.delete(R.controllerrevisions, r.metadata.namespace, r.metadata.name ?? '');
    } catch (err) {
      if (!(err instanceof ApiStatusError && err.code === 404)) throw err;
    }
  }
}
