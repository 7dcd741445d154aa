import { describe, expect, it } from 'vitest';
import { ManualClock, MemoryStore } from '../../../../control/store/index.js';

describe('MemoryStore at scale', () => {
  it('holds 100k keys and serves 5,000-object prefix ranges quickly', async () => {
    const store = new MemoryStore({ clock: new ManualClock() });
    const started = performance.now();
    // Twenty namespaces of 5,000 pods, inserted interleaved so every put lands mid-keyspace.
    for (let i = 0; i < 5000; i++) {
      for (let ns = 0; ns < 20; ns++) {
        store.apply({ type: 'put', key: `/registry/pods/ns${ns}/pod-${i}`, value: `{"i":${i}}` });
      }
    }
    const loaded = performance.now();
    const t0 = performance.now();
    for (let r = 0; r < 20; r++) {
      const res = await store.range({ key: `/registry/pods/ns${r}/`, prefix: true });
      expect(res.count).toBe(5000);
    }
    const perRange = (performance.now() - t0) / 20;
    const page = await store.range({ key: '/registry/pods/', prefix: true, limit: 500 });
    expect(page).toMatchObject({ count: 100_000, more: true });
    const snapshotted = performance.now();
    const copy = MemoryStore.fromSnapshot(store.snapshot(), { clock: new ManualClock() });
    expect(copy.revision).toBe(100_001);
    const snapshotMs = performance.now() - snapshotted;
    // Loose bounds: these catch an accidental O(n) per put or per key, not normal machine noise.
    expect(loaded - started).toBeLessThan(10_000);
    expect(perRange).toBeLessThan(200);
    expect(snapshotMs).toBeLessThan(10_000);
  });
});
