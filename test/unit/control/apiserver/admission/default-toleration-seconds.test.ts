import { describe, expect, it } from 'vitest';
import { defaultTolerationSeconds } from '../../../../../control/apiserver/admission/default-toleration-seconds.js';
import { findResource, type ResourceDef } from '../../../../../control/apiserver/resources.js';
import type { KubeObject } from '../../../../../control/apiserver/storage/object-storage.js';

const pods = findResource('', 'v1', 'pods') as ResourceDef;
const ctx = { strict: false, dryRun: false, now: new Date() };
const pod = (tolerations?: unknown[]): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'x' }], ...(tolerations ? { tolerations } : {}) } });
const tolerationsOf = (o: KubeObject) => (o.spec as { tolerations?: unknown[] }).tolerations;

describe('DefaultTolerationSeconds admission', () => {
  const plugin = defaultTolerationSeconds();
  const table: Array<{ name: string; given?: unknown[]; want: unknown[] | undefined }> = [
    {
      name: 'adds both 300 s tolerations',
      want: [
        { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
        { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      ],
    },
    {
      name: 'keeps a user toleration for one and adds the other',
      given: [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 6000 }],
      want: [
        { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 6000 },
        { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      ],
    },
    { name: 'a toleration of everything covers both', given: [{ operator: 'Exists' }], want: [{ operator: 'Exists' }] },
    { name: 'a NoSchedule toleration does not count', given: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoSchedule' }], want: undefined },
  ];
  for (const c of table) {
    it(c.name, async () => {
      const obj = pod(c.given);
      await plugin.mutate!('create', pods, obj, undefined, ctx);
      if (c.want) expect(tolerationsOf(obj)).toEqual(c.want);
      else expect(tolerationsOf(obj)).toHaveLength(3);
    });
  }

  it('leaves updates and other kinds alone', async () => {
    const obj = pod();
    expect(await plugin.mutate!('update', pods, obj, pod(), ctx)).toBe(false);
    expect(tolerationsOf(obj)).toBeUndefined();
    const svc = { apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: {} } as KubeObject;
    expect(await plugin.mutate!('create', findResource('', 'v1', 'services') as ResourceDef, svc, undefined, ctx)).toBe(false);
    expect(svc.spec).toEqual({});
  });
});
