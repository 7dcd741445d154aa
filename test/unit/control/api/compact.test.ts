import { describe, expect, it } from 'vitest';
import { compactSpec, compactSpecAgain } from '../../../../control/api/index.js';

type Spec = Record<string, unknown>;

const decoded: Spec = {
  containers: [
    { name: 'a', image: 'busybox', ports: [], stdin: false, volumeMounts: [{ name: 'v', mountPath: '/v', readOnly: false }] },
    { name: 'b', image: 'busybox', ports: [{ containerPort: 80 }], livenessProbe: { initialDelaySeconds: 0, periodSeconds: 10 } },
  ],
  volumes: [{ name: 'v', emptyDir: {} }],
  tolerations: [],
  hostNetwork: false,
  restartPolicy: 'Always',
};

describe('compactSpecAgain', () => {
  it('gives compactSpec\'s result, taking what the new spec shares with the earlier one from its compaction', () => {
    const compacted = compactSpec(decoded);
    const containers = decoded.containers as Spec[];
    // As a second decode makes it: some members replaced, the rest the same objects as before.
    const now: Spec = {
      ...decoded,
      containers: [{ ...containers[0], volumeMounts: [{ name: 'v', mountPath: '/v', readOnly: false }, { name: 't', mountPath: '/t', readOnly: true }] }, containers[1]],
      tolerations: [{ key: 'k', operator: 'Exists' }],
      hostNetwork: true,
    };
    const again = compactSpecAgain(now, { decoded, compacted });
    expect(again).toEqual(compactSpec(now));
    expect(JSON.stringify(again)).toBe(JSON.stringify(compactSpec(now)));
    const c = compacted as { containers: unknown[]; volumes: unknown };
    const a = again as { containers: unknown[]; volumes: unknown; tolerations: unknown; hostNetwork: unknown };
    expect(a.volumes).toBe(c.volumes);
    expect(a.containers[1]).toBe(c.containers[1]);
    expect(a.containers[0]).not.toBe(c.containers[0]);
    expect(a.tolerations).toEqual([{ key: 'k', operator: 'Exists' }]);
    expect(a.hostNetwork).toBe(true);
  });

  it('leaves out what the new spec emptied, and what both left empty', () => {
    const compacted = compactSpec(decoded);
    const now: Spec = { ...decoded, volumes: [], containers: (decoded.containers as Spec[]).slice(0, 1) };
    const again = compactSpecAgain(now, { decoded, compacted }) as Spec;
    expect(again).toEqual(compactSpec(now));
    expect('volumes' in again || 'tolerations' in again || 'hostNetwork' in again).toBe(false);
  });
});
