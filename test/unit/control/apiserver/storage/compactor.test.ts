import { afterEach, describe, expect, it } from 'vitest';
import { COMPACT_REV_KEY, Compactor } from '../../../../../control/apiserver/storage/compactor.js';
import { ErrCompacted, MemoryStore } from '../../../../../control/store/index.js';

describe('Compactor', () => {
  let store: MemoryStore | undefined;
  afterEach(async () => {
    await store?.close();
  });

  it('compacts, each interval, to the revision the previous interval reached', async () => {
    store = new MemoryStore();
    for (let i = 0; i < 5; i++) await store.put('/registry/configmaps/ns/a', `v${i}`);
    const compactor = new Compactor(store);
    await compactor.compactOnce();
    // The first interval only notes where the store is: nothing is compacted yet.
    await expect(store.range({ key: '/registry/configmaps/ns/a', revision: 2 })).resolves.toMatchObject({ kvs: [{ value: 'v0' }] });
    const noted = (await store.range({ key: COMPACT_REV_KEY })).header.revision;
    for (let i = 5; i < 10; i++) await store.put('/registry/configmaps/ns/a', `v${i}`);
    await compactor.compactOnce();
    await expect(store.range({ key: '/registry/configmaps/ns/a', revision: noted - 1 })).rejects.toBeInstanceOf(ErrCompacted);
    // What the previous interval reached is still readable, and so is everything since.
    await expect(store.range({ key: '/registry/configmaps/ns/a', revision: noted })).resolves.toMatchObject({ kvs: [{ value: 'v4' }] });
    await expect(store.range({ key: '/registry/configmaps/ns/a' })).resolves.toMatchObject({ kvs: [{ value: 'v9' }] });
  });

  it('lets one of several API servers on the same store compact per interval', async () => {
    store = new MemoryStore();
    const a = new Compactor(store);
    const b = new Compactor(store);
    await a.compactOnce();
    await b.compactOnce(); // loses the claim: a already took this interval
    await store.put('/registry/x', '1');
    await b.compactOnce(); // wins the next interval, with nothing of its own to compact yet
    await a.compactOnce(); // loses
    expect((await store.range({ key: COMPACT_REV_KEY })).kvs[0]?.version).toBe(2);
  });
});
