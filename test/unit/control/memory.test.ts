import { describe, expect, it } from 'vitest';
import { CONTROL_HEAP_GROWING_PERCENT, controlProcessEnv, tuneControlPlaneHeap } from '../../../control/memory.js';

describe('tuneControlPlaneHeap', () => {
  it('sets the heap growth unless node was started with the flag; SKIFF_HEAP_GROWING_PERCENT chooses it, 0 leaves V8 its default', () => {
    expect(tuneControlPlaneHeap(['--heap-growing-percent=80'], {})).toBeUndefined();
    expect(tuneControlPlaneHeap(['--heap_growing_percent=80'], {})).toBeUndefined();
    expect(tuneControlPlaneHeap(['--enable-source-maps'], {})).toBe(CONTROL_HEAP_GROWING_PERCENT);
    expect(tuneControlPlaneHeap([], { SKIFF_HEAP_GROWING_PERCENT: '30' })).toBe(30);
    expect(tuneControlPlaneHeap([], { SKIFF_HEAP_GROWING_PERCENT: '0' })).toBeUndefined();
    expect(tuneControlPlaneHeap([], { SKIFF_HEAP_GROWING_PERCENT: 'lots' })).toBe(CONTROL_HEAP_GROWING_PERCENT);
  });

  it('the control process environment fixes the mmap threshold, keeping a user\'s own', () => {
    expect(controlProcessEnv({ PATH: '/bin' })).toEqual({ PATH: '/bin', MALLOC_MMAP_THRESHOLD_: '131072' });
    expect(controlProcessEnv({ MALLOC_MMAP_THRESHOLD_: '65536' })).toEqual({ MALLOC_MMAP_THRESHOLD_: '65536' });
  });
});
