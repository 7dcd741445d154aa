import { describe, expect, it } from 'vitest';
import { selectorFromSpec } from '../../../../control/api/selectors.js';
import { ApiStatusError, type KubeClient, type ResourceRef } from '../../../../control/client/index.js';
import { claimObjects } from '../../../../control/controllers/controller-ref-manager.js';
import { ownerRefFor, R, type Pod } from '../../../../control/controllers/objects.js';

const owner = { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'web', namespace: 'ns', uid: 'rs-1' } };
const ref = ownerRefFor(owner, 'apps/v1', 'ReplicaSet');
const pod = (name: string, labels: Record<string, string>, ownerReferences?: Pod['metadata']['ownerReferences']): Pod => ({
  metadata: { name, namespace: 'ns', uid: `uid-${name}`, labels, ...(ownerReferences ? { ownerReferences } : {}) },
});
const selector = selectorFromSpec({ matchLabels: { app: 'web' } });

/** A client that records patches and answers them with the patched object, or with the given error. */
function recordingClient(fail: Record<string, Error> = {}) {
  const patches: Array<{ resource: string; namespace: string | undefined; name: string; body: unknown }> = [];
  const client = {
    async patch(resource: ResourceRef, namespace: string | undefined, name: string, body: { metadata: Record<string, unknown> }) {
      patches.push({ resource: resource.resource, namespace, name, body });
      const err = fail[name];
      if (err) throw err;
      return { metadata: { name, namespace, ...body.metadata } };
    },
  } as unknown as KubeClient;
  return { client, patches };
}

describe('claimObjects (upstream ControllerRefManager)', () => {
  it('adopts matching orphans and releases owned objects that stopped matching, with the uid as precondition', async () => {
    const { client, patches } = recordingClient();
    const candidates = [pod('owned', { app: 'web' }, [ref]), pod('orphan', { app: 'web' }), pod('gone-astray', { app: 'db' }, [ref]), pod('other', { app: 'web' }, [{ ...ref, uid: 'rs-2' }])];
    const owned = await claimObjects(client, R.pods, owner, ref, selector, candidates, { adoptMetadata: () => ({ finalizers: ['f'] }) });
    expect(owned.map((p) => p.metadata.name)).toEqual(['owned', 'orphan']);
    expect(owned[1]?.metadata.ownerReferences).toEqual([ref]);
    expect(patches).toEqual([
      { resource: 'pods', namespace: 'ns', name: 'orphan', body: { metadata: { uid: 'uid-orphan', ownerReferences: [ref], finalizers: ['f'] } } },
      { resource: 'pods', namespace: 'ns', name: 'gone-astray', body: { metadata: { uid: 'uid-gone-astray', ownerReferences: [] } } },
    ]);
  });

  it('adopts nothing while the owner is being deleted', async () => {
    const { client, patches } = recordingClient();
    const deleting = { ...owner, metadata: { ...owner.metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } };
    expect(await claimObjects(client, R.pods, deleting, ref, selector, [pod('orphan', { app: 'web' })])).toEqual([]);
    expect(patches).toEqual([]);
  });

  it('skips an object deleted meanwhile and passes on any other error', async () => {
    const gone = recordingClient({ orphan: new ApiStatusError(404, 'NotFound', 'pods "orphan" not found') });
    expect(await claimObjects(gone.client, R.pods, owner, ref, selector, [pod('orphan', { app: 'web' })])).toEqual([]);
    const conflict = recordingClient({ orphan: new ApiStatusError(409, 'Conflict', 'uid precondition failed') });
    await expect(claimObjects(conflict.client, R.pods, owner, ref, selector, [pod('orphan', { app: 'web' })])).rejects.toThrow('uid precondition failed');
  });
});
