import { describe, expect, it } from 'vitest';
import { clusterHooks } from '../../../../agent/cluster/hooks.js';
import type { Pod, PodStatus } from '../../../../control/api/index.js';
import type { KubeClient, KubeObject } from '../../../../control/client/index.js';
import { silentLogger } from '../../../../lib/log.js';

/** The conditions other clients set on a pod (readiness gates'): read for Ready, kept when the agent writes status. */

const pod = { metadata: { name: 'web', namespace: 'default', uid: 'u1', annotations: { 'kubernetes.io/config.source': 'api' } }, spec: { containers: [] } } as unknown as Pod;
const obj = (rv: string, status: unknown): KubeObject => ({ metadata: { name: 'web', namespace: 'default', uid: 'u1', resourceVersion: rv }, status }) as KubeObject;
const c = (type: string, status: string) => ({ type, status });

describe('clusterHooks and conditions other clients own', () => {
  it('reads the conditions the watch has now, even before it has seen the agent\'s own last write', async () => {
    let inWatch: KubeObject | undefined = obj('5', { conditions: [c('Ready', 'False'), c('example.com/lb', 'True')] });
    const client = { patch: async () => obj('10', {}) } as unknown as KubeClient;
    const hooks = clusterHooks(client, silentLogger(), () => undefined, () => inWatch);
    await hooks.reportStatus(pod, { phase: 'Running', conditions: [] });
    expect(hooks.statusInApi?.(pod)).toBeUndefined();
    expect(hooks.conditionsInApi?.(pod)?.map((x) => x.type)).toEqual(['Ready', 'example.com/lb']);
    inWatch = undefined;
    expect(hooks.conditionsInApi?.(pod)).toBeUndefined();
  });

  it('writes the agent\'s own conditions with the others\' as the watch shows them at the time of the write', async () => {
    const patches: unknown[] = [];
    const client = {
      patch: async (_r: unknown, _ns: unknown, _n: unknown, body: unknown) => {
        patches.push(body);
        return obj('11', {});
      },
    } as unknown as KubeClient;
    const inWatch = obj('9', { conditions: [c('Ready', 'False'), c('example.com/lb', 'True')] });
    const hooks = clusterHooks(client, silentLogger(), () => undefined, () => inWatch);
    // Computed when the gate was still False: the write carries the newer True, not the stale copy.
    const status: PodStatus = { phase: 'Running', conditions: [c('Ready', 'True'), c('example.com/lb', 'False')] };
    await hooks.reportStatus(pod, status);
    expect(patches).toEqual([{ status: { phase: 'Running', conditions: [c('Ready', 'True'), c('example.com/lb', 'True')] } }]);
  });
});
