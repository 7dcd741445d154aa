import { describe, expect, it } from 'vitest';
import { decodeSnapshotData, encodeSnapshotDataInSlices, SNAPSHOT_DATA_FORMAT } from '../../../../../control/store/member/codec.js';
import { MemoryStore } from '../../../../../control/store/index.js';

describe('snapshot data encoded in slices', () => {
  it('gives the bytes of JSON.stringify of the whole snapshot data, for any slice length, and decodes back to the state', async () => {
    const store = new MemoryStore();
    for (let i = 0; i < 1234; i++) await store.put(`/registry/pods/ns/p-${i % 400}`, JSON.stringify({ n: i, text: 'quote " and \\ backslash, é, \u2028' }));
    await store.delete(`/registry/pods/ns/p-7`);
    const lease = await store.leaseGrant(60);
    await store.put('/leased', 'v', { lease: lease.id });
    const state = store.snapshot();
    const whole = new TextEncoder().encode(JSON.stringify({ format: SNAPSHOT_DATA_FORMAT, applied: 1300, mvcc: state }));
    // Slice lengths in characters of JSON: one entry per slice, a few, many, the whole history in one.
    for (const size of [1, 200, 5_000, 10_000_000]) {
      const sliced = await encodeSnapshotDataInSlices(1300, state, size);
      expect(Buffer.compare(Buffer.from(sliced), Buffer.from(whole))).toBe(0);
    }
    const decoded = decodeSnapshotData(await encodeSnapshotDataInSlices(1300, state, 2_000));
    expect(decoded.applied).toBe(1300);
    expect(decoded.mvcc).toEqual(state);
    await store.close();
  });

  it('lets the event loop run between slices', async () => {
    const store = new MemoryStore();
    for (let i = 0; i < 50; i++) await store.put(`/k/${i}`, 'v');
    let done = false;
    let ranBeforeDone: boolean | undefined;
    setImmediate(() => (ranBeforeDone = !done));
    await encodeSnapshotDataInSlices(1, store.snapshot(), 20);
    done = true;
    expect(ranBeforeDone).toBe(true);
    await store.close();
  });
});
