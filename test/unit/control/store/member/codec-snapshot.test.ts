import { describe, expect, it } from 'vitest';
import { decodeSnapshotData, encodeSnapshotDataInSlices, SNAPSHOT_DATA_FORMAT, SNAPSHOT_DATA_FORMAT_JSON } from '../../../../../control/store/member/codec.js';
import { MemoryStore } from '../../../../../control/store/index.js';

async function sampleState(): Promise<{ store: MemoryStore; state: ReturnType<MemoryStore['snapshot']> }> {
  const store = new MemoryStore();
  for (let i = 0; i < 1234; i++) await store.put(`/registry/pods/ns/p-${i % 400}`, JSON.stringify({ n: i, text: 'quote " and \\ backslash, é, \u2028, 𝄞' }));
  await store.delete(`/registry/pods/ns/p-7`);
  const lease = await store.leaseGrant(60);
  await store.put('/leased', 'v', { lease: lease.id });
  await store.put('/big', 'x'.repeat(3 * 1024 * 1024));
  return { store, state: store.snapshot() };
}

describe('snapshot data', () => {
  it('encodes to the same bytes for any slice length, and decodes back to the state', async () => {
    const { store, state } = await sampleState();
    const whole = await encodeSnapshotDataInSlices(1300, state, Number.MAX_SAFE_INTEGER);
    // Slice lengths in bytes: one entry per slice, a few, many.
    for (const size of [1, 200, 5_000]) {
      const sliced = await encodeSnapshotDataInSlices(1300, state, size);
      expect(Buffer.compare(Buffer.from(sliced), Buffer.from(whole))).toBe(0);
    }
    const decoded = decodeSnapshotData(whole);
    expect(decoded.format).toBe(SNAPSHOT_DATA_FORMAT);
    expect(decoded.applied).toBe(1300);
    expect(decoded.mvcc).toEqual(state);
    // A store restored from it is the same store.
    const restored = new MemoryStore();
    restored.restore(decoded.mvcc);
    expect(restored.snapshot()).toEqual(state);
    await restored.close();
    await store.close();
  });

  it('still reads the JSON snapshots of earlier releases', async () => {
    const { store, state } = await sampleState();
    const json = new TextEncoder().encode(JSON.stringify({ format: SNAPSHOT_DATA_FORMAT_JSON, applied: 1300, mvcc: state }));
    const fromJson = decodeSnapshotData(json);
    expect(fromJson.applied).toBe(1300);
    expect(fromJson.mvcc).toEqual(state);
    await store.close();
  });

  it('refuses data that ends early, runs on, or is neither format', async () => {
    const { store, state } = await sampleState();
    const bytes = await encodeSnapshotDataInSlices(5, state);
    for (const cut of [10, 20, bytes.length - 1]) expect(() => decodeSnapshotData(bytes.subarray(0, cut))).toThrow(/truncated|header/);
    const longer = new Uint8Array(bytes.length + 1);
    longer.set(bytes);
    expect(() => decodeSnapshotData(longer)).toThrow(/after the last entry/);
    expect(() => decodeSnapshotData(new TextEncoder().encode('{"format":"other"}'))).toThrow(/neither format/);
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
