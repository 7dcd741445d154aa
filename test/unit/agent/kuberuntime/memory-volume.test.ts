import { describe, expect, it } from 'vitest';
import type { Pod, Volume } from '../../../../control/api/index.js';
import { memoryVolumeSize, mountPoints } from '../../../../agent/kuberuntime/memory-volume.js';

const Mi = 1024 * 1024;
const pod = (limits: (string | undefined)[], initLimits: (string | undefined)[] = []): Pod =>
  ({
    metadata: { name: 'p' },
    spec: {
      containers: limits.map((m, i) => ({ name: `c${i}`, image: 'x', resources: m ? { limits: { memory: m } } : {} })),
      initContainers: initLimits.map((m, i) => ({ name: `i${i}`, image: 'x', resources: m ? { limits: { memory: m } } : {} })),
    },
  }) as unknown as Pod;
const vol = (sizeLimit?: string): Volume => ({ name: 'mem', emptyDir: { medium: 'Memory', ...(sizeLimit ? { sizeLimit } : {}) } }) as Volume;

describe('memory-backed emptyDir size', () => {
  it("is the node's allocatable memory, lowered to the pod's limit, and to sizeLimit when lower still", () => {
    expect(memoryVolumeSize(vol(), pod([undefined]), 4096 * Mi)).toBe(4096 * Mi);
    expect(memoryVolumeSize(vol(), pod(['64Mi', '32Mi']), 4096 * Mi)).toBe(96 * Mi);
    // As upstream's PodLimits: containers without a limit add nothing; a larger init container's limit wins.
    expect(memoryVolumeSize(vol(), pod(['64Mi', undefined]), 4096 * Mi)).toBe(64 * Mi);
    expect(memoryVolumeSize(vol(), pod(['64Mi'], ['128Mi']), 4096 * Mi)).toBe(128 * Mi);
    expect(memoryVolumeSize(vol('8Mi'), pod(['64Mi']), 4096 * Mi)).toBe(8 * Mi);
    expect(memoryVolumeSize(vol('1Gi'), pod(['64Mi']), 4096 * Mi)).toBe(64 * Mi);
    expect(memoryVolumeSize(vol('1Gi'), pod([undefined]), undefined)).toBe(1024 * Mi);
    expect(memoryVolumeSize(vol(), pod([undefined]), undefined)).toBeUndefined();
  });
});

describe('mountinfo', () => {
  it('reads the mount points, undoing the kernel\'s octal escapes', () => {
    const text = ['22 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw', '98 22 0:50 / /var/lib/skiff/pods/u/volumes/kubernetes.io~empty-dir/my\\040vol rw - tmpfs tmpfs rw,size=8192k', ''].join('\n');
    expect(mountPoints(text)).toEqual(['/', '/var/lib/skiff/pods/u/volumes/kubernetes.io~empty-dir/my vol']);
  });
});
