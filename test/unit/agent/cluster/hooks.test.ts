import { describe, expect, it } from 'vitest';
import { clusterHooks } from '../../../../agent/cluster/hooks.js';
import type { MirrorPods } from '../../../../agent/cluster/mirror-pods.js';
import type { Pod, PodStatus } from '../../../../control/api/index.js';
import type { KubeClient, KubeObject } from '../../../../control/client/index.js';
import { silentLogger } from '../../../../lib/log.js';

const pod = (source: string, uid = 'u1'): Pod =>
  ({ metadata: { name: 'web', namespace: 'default', uid, annotations: { 'kubernetes.io/config.source': source, 'kubernetes.io/config.hash': 'h1' } }, spec: { containers: [] } }) as unknown as Pod;
const READY: PodStatus = { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] };
const obj = (uid: string, rv: string, status: unknown): KubeObject => ({ metadata: { name: 'web', namespace: 'default', uid, resourceVersion: rv }, status }) as KubeObject;

/** A client whose status patches answer with the given resource version. */
const client = (rv: string): KubeClient => ({ patch: async () => obj('u1', rv, READY) }) as unknown as KubeClient;

describe('clusterHooks.statusInApi (the pod status the agent compares with its own)', () => {
  it('gives an API pod’s status once the watch has seen the agent’s own last write', async () => {
    let inWatch: KubeObject | undefined = obj('u1', '9', { phase: 'Pending' });
    const hooks = clusterHooks(client('10'), silentLogger(), () => undefined, () => inWatch);
    expect(await hooks.reportStatus(pod('api'), READY)).toBe(true);
    // Older than the write: the watch lags, its copy says nothing about others' changes.
    expect(hooks.statusInApi?.(pod('api'))).toBeUndefined();
    inWatch = obj('u1', '10', READY);
    expect(hooks.statusInApi?.(pod('api'))).toEqual(READY);
    const marked = { phase: 'Running', conditions: [{ type: 'Ready', status: 'False' }] };
    inWatch = obj('u1', '12', marked);
    expect(hooks.statusInApi?.(pod('api'))).toEqual(marked);
    // Another pod of the same name (recreated), or a status the agent cannot read: nothing to compare.
    inWatch = obj('u2', '13', READY);
    expect(hooks.statusInApi?.(pod('api'))).toBeUndefined();
    inWatch = obj('u1', '14', { conditions: 'nonsense' });
    expect(hooks.statusInApi?.(pod('api'))).toBeUndefined();
    // Once the pod is gone, a new write is awaited afresh.
    hooks.podGone?.('u1');
    inWatch = obj('u1', '3', READY);
    expect(hooks.statusInApi?.(pod('api'))).toEqual(READY);
  });

  it('gives a static pod’s mirror status, the mirror having a UID of its own', async () => {
    let mirror: KubeObject | undefined;
    const mirrors = { mirrorOf: () => mirror, reportStatus: async () => (mirror ? obj('mirror-uid', '20', READY) : undefined) } as unknown as MirrorPods;
    const hooks = clusterHooks(client('0'), silentLogger(), () => mirrors, () => undefined);
    // No mirror yet: nowhere to write, nothing to compare.
    expect(await hooks.reportStatus(pod('file'), READY)).toBe(false);
    expect(hooks.statusInApi?.(pod('file'))).toBeUndefined();
    mirror = obj('mirror-uid', '19', {});
    expect(await hooks.reportStatus(pod('file'), READY)).toBe(true);
    expect(hooks.statusInApi?.(pod('file'))).toBeUndefined();
    mirror = obj('mirror-uid', '21', { phase: 'Running', conditions: [{ type: 'Ready', status: 'False' }] });
    expect(hooks.statusInApi?.(pod('file'))?.conditions?.[0]?.status).toBe('False');
  });
});
