import { describe, expect, it } from 'vitest';
import { ReferencedObjects } from '../../../../agent/cluster/objects.js';
import type { KubeClient, KubeObject, ListOptions, ResourceRef, WatchEvent } from '../../../../control/client/index.js';
import { c, makePod } from '../kuberuntime/fixtures.js';
import { createLogger } from '../../../../lib/log.js';

/** A client whose list answers from a map and whose watches can be fed events. */
class FakeClient {
  objects = new Map<string, KubeObject>();
  lists: string[] = [];
  watchers = new Map<string, (e: WatchEvent) => void>();
  async list(ref: ResourceRef, opts: ListOptions): Promise<{ metadata: { resourceVersion: string }; items: KubeObject[] }> {
    const name = (opts.fieldSelector ?? '').replace('metadata.name=', '');
    const key = `${ref.resource}/${opts.namespace}/${name}`;
    this.lists.push(key);
    const obj = this.objects.get(key);
    return { metadata: { resourceVersion: '1' }, items: obj ? [obj] : [] };
  }
  async watch(ref: ResourceRef, opts: ListOptions, onEvent: (e: WatchEvent) => void): Promise<() => void> {
    const key = `${ref.resource}/${opts.namespace}/${(opts.fieldSelector ?? '').replace('metadata.name=', '')}`;
    this.watchers.set(key, onEvent);
    return () => this.watchers.delete(key);
  }
}

const cm = (name: string, data: Record<string, string>, rv = '2'): KubeObject => ({ metadata: { name, namespace: 'default', resourceVersion: rv }, data });

describe('ReferencedObjects (per-object watches, as the kubelet watch-based managers)', () => {
  it('watches what pods reference, tells which pods to resync on change, and stops with the last pod', async () => {
    const client = new FakeClient();
    client.objects.set('configmaps/default/cm', cm('cm', { a: '1' }));
    const changes: string[][] = [];
    const refs = new ReferencedObjects({ client: client as unknown as KubeClient, logger: createLogger('test'), onChange: (uids) => changes.push(uids), syncTimeoutMs: 1000 });
    const p1 = makePod({ containers: [c('app', { envFrom: [{ configMapRef: { name: 'cm' } }, { secretRef: { name: 's' } }] })] }, { uid: 'p1' });
    const p2 = makePod({ containers: [c('app')], volumes: [{ name: 'v', configMap: { name: 'cm' } }] }, { uid: 'p2' });
    await refs.registerPod(p1);
    await refs.registerPod(p2);
    expect(client.lists.sort()).toEqual(['configmaps/default/cm', 'secrets/default/s']);
    expect(refs.watchCount).toBe(2);
    expect(refs.get('configmaps', 'default', 'cm')?.data).toEqual({ a: '1' });
    expect(refs.get('secrets', 'default', 's')).toBeUndefined();

    changes.length = 0;
    await new Promise((r) => setTimeout(r, 10));
    client.watchers.get('configmaps/default/cm')?.({ type: 'MODIFIED', object: cm('cm', { a: '2' }, '3') });
    expect(changes).toEqual([['p1', 'p2']]);
    expect(refs.get('configmaps', 'default', 'cm')?.data).toEqual({ a: '2' });

    refs.unregisterPod('p1');
    expect(refs.watchCount).toBe(1);
    refs.unregisterPod('p2');
    expect(refs.watchCount).toBe(0);
    refs.stop();
  });
});
