import { isNotFound, type KubeClient, type ResourceRef } from '../client/index.js';
import type { Requirement } from '../api/selectors.js';
import type { Obj, OwnerReference } from './objects.js';
import { claimPods, withOwnerRef, withoutOwnerRef } from './replicaset.js';

export interface ClaimOptions<T extends Obj> {
  /** More metadata an adopted object gets with the owner's reference (the Job's tracking finalizer). */
  adoptMetadata?(obj: T): Record<string, unknown>;
}

/**
 * upstream's ControllerRefManager (ClaimPods, ClaimReplicaSets) on the API: the owner adopts the matching orphans
 * among the candidates and releases what it owns that stopped matching (claimPods decides). Each patch carries the
 * object's uid as a precondition, so an object replaced under the same name is left alone; one deleted meanwhile is
 * skipped. Returns what the owner owns afterwards: the adopted objects as the API server returned them.
 */
export async function claimObjects<T extends Obj>(
  client: KubeClient,
  resource: ResourceRef,
  owner: Obj,
  ownerRef: OwnerReference,
  selector: Requirement[] | 'nothing',
  candidates: readonly T[],
  opts: ClaimOptions<T> = {},
): Promise<T[]> {
  const ownerUid = owner.metadata.uid ?? '';
  const claim = claimPods(ownerUid, !!owner.metadata.deletionTimestamp, selector, candidates);
  const owned = [...claim.owned];
  const patch = (obj: T, metadata: Record<string, unknown>): Promise<T | undefined> =>
    client.patch<T>(resource, obj.metadata.namespace, obj.metadata.name ?? '', { metadata: { uid: obj.metadata.uid, ...metadata } }).catch((err: unknown) => {
      if (isNotFound(err)) return undefined;
      throw err;
    });
  for (const obj of claim.adopt) {
    const adopted = await patch(obj, { ownerReferences: withOwnerRef(obj.metadata.ownerReferences, ownerRef), ...opts.adoptMetadata?.(obj) });
    if (adopted) owned.push(adopted);
  }
  for (const obj of claim.release) await patch(obj, { ownerReferences: withoutOwnerRef(obj.metadata.ownerReferences, ownerUid) });
  return owned;
}
