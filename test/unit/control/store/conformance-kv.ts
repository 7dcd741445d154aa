import { describe, expect, it } from 'vitest';
import { ErrCompacted, ErrEmptyKey, ErrFutureRev, prefixEnd } from '../../../../control/store/index.js';
import type { HarnessRef } from './conformance.js';
import { currentRevision, get, uniquePrefix } from './helpers.js';

export function kvConformance(h: HarnessRef): void {
  describe('put and range', () => {
    it('creates a key at a new revision with version 1', async () => {
      const { store } = h();
      const p = uniquePrefix();
      const before = await currentRevision(store);
      const res = await store.put(`${p}a`, 'v1');
      expect(res.header.revision).toBe(before + 1);
      expect(res.prevKv).toBeUndefined();
      const got = await store.range({ key: `${p}a` });
      expect(got.header.revision).toBe(before + 1);
      expect(got.count).toBe(1);
      expect(got.more).toBe(false);
      expect(got.kvs).toEqual([
        { key: `${p}a`, value: 'v1', createRevision: before + 1, modRevision: before + 1, version: 1, lease: 0 },
      ]);
    });

    it('overwrites: version goes up, createRevision stays, prevKv returns the old value', async () => {
      const { store } = h();
      const p = uniquePrefix();
      const first = await store.put(`${p}a`, 'v1');
      const second = await store.put(`${p}a`, 'v2', { prevKv: true });
      expect(second.header.revision).toBe(first.header.revision + 1);
      expect(second.prevKv).toMatchObject({ value: 'v1', version: 1, modRevision: first.header.revision });
      const third = await store.put(`${p}a`, 'v3');
      expect(await get(store, `${p}a`)).toEqual({
        key: `${p}a`,
        value: 'v3',
        createRevision: first.header.revision,
        modRevision: third.header.revision,
        version: 3,
        lease: 0,
      });
    });

    it('answers a serializable range (local state) with what was acknowledged to this client', async () => {
      const { store } = h();
      const p = uniquePrefix();
      const put = await store.put(`${p}a`, 'v1');
      const got = await store.range({ key: `${p}a`, serializable: true });
      expect(got.kvs.map((kv) => [kv.value, kv.modRevision])).toEqual([['v1', put.header.revision]]);
      expect((await store.range({ key: `${p}missing`, serializable: true })).count).toBe(0);
    });

    it('answers an empty range, not an error, for a missing key', async () => {
      const { store } = h();
      const res = await store.range({ key: `${uniquePrefix()}missing` });
      expect(res.kvs).toEqual([]);
      expect(res.count).toBe(0);
      expect(res.more).toBe(false);
    });

    it('rejects an empty key', async () => {
      const { store } = h();
      await expect(store.put('', 'x')).rejects.toBeInstanceOf(ErrEmptyKey);
    });

    it('keeps values verbatim, including unicode and empty strings', async () => {
      const { store } = h();
      const p = uniquePrefix();
      const value = '{"name":"wéb","emoji":"🚢","nul":"\\u0000"}';
      await store.put(`${p}json`, value);
      await store.put(`${p}empty`, '');
      expect((await get(store, `${p}json`))?.value).toBe(value);
      expect(await get(store, `${p}empty`)).toMatchObject({ value: '', version: 1 });
    });

    it('ranges a prefix in key order, excluding neighbours', async () => {
      const { store } = h();
      const p = uniquePrefix();
      for (const k of ['c', 'a', 'b/x', 'b', 'aa']) await store.put(`${p}pods/${k}`, k);
      await store.put(`${p}pods`, 'no slash');
      await store.put(`${p}podsx/a`, 'sibling');
      const res = await store.range({ key: `${p}pods/`, prefix: true });
      expect(res.kvs.map((kv) => kv.key)).toEqual(['a', 'aa', 'b', 'b/x', 'c'].map((k) => `${p}pods/${k}`));
      expect(res.count).toBe(5);
    });

    it('ranges [key, rangeEnd) and [key, end of keyspace)', async () => {
      const { store } = h();
      const p = uniquePrefix();
      for (const k of ['a', 'b', 'c', 'd']) await store.put(`${p}${k}`, k);
      const half = await store.range({ key: `${p}b`, rangeEnd: `${p}d` });
      expect(half.kvs.map((kv) => kv.value)).toEqual(['b', 'c']);
      const open = await store.range({ key: `${p}c`, rangeEnd: '\0' });
      expect(open.kvs.slice(0, 2).map((kv) => kv.value)).toEqual(['c', 'd']);
      const empty = await store.range({ key: `${p}d`, rangeEnd: `${p}b` });
      expect(empty.kvs).toEqual([]);
    });

    it('limits: more and count describe the whole range', async () => {
      const { store } = h();
      const p = uniquePrefix();
      for (let i = 0; i < 10; i++) await store.put(`${p}${String(i).padStart(2, '0')}`, `${i}`);
      const page = await store.range({ key: p, prefix: true, limit: 3 });
      expect(page.kvs.map((kv) => kv.value)).toEqual(['0', '1', '2']);
      expect(page.more).toBe(true);
      expect(page.count).toBe(10);
      const exact = await store.range({ key: p, prefix: true, limit: 10 });
      expect(exact.more).toBe(false);
      expect(exact.kvs).toHaveLength(10);
      // Kubernetes pages by continuing from the last key + '\0'.
      const next = await store.range({ key: `${p}02\0`, rangeEnd: prefixEnd(p), limit: 3 });
      expect(next.kvs.map((kv) => kv.value)).toEqual(['3', '4', '5']);
      expect(next.count).toBe(7);
    });

    it('countOnly and keysOnly', async () => {
      const { store } = h();
      const p = uniquePrefix();
      for (const k of ['a', 'b', 'c']) await store.put(`${p}${k}`, `value-${k}`);
      const counted = await store.range({ key: p, prefix: true, countOnly: true });
      expect(counted.count).toBe(3);
      expect(counted.kvs).toEqual([]);
      const keys = await store.range({ key: p, prefix: true, keysOnly: true });
      expect(keys.kvs.map((kv) => [kv.key, kv.value, kv.version])).toEqual([
        [`${p}a`, '', 1],
        [`${p}b`, '', 1],
        [`${p}c`, '', 1],
      ]);
    });

    it('reads the past at a revision, and refuses the future', async () => {
      const { store } = h();
      const p = uniquePrefix();
      const r1 = (await store.put(`${p}a`, '1')).header.revision;
      const r2 = (await store.put(`${p}a`, '2')).header.revision;
      await store.put(`${p}b`, 'b');
      const r4 = (await store.delete(`${p}a`)).header.revision;
      expect((await store.range({ key: p, prefix: true, revision: r1 })).kvs.map((kv) => kv.value)).toEqual(['1']);
      const atR2 = await store.range({ key: p, prefix: true, revision: r2 });
      expect(atR2.kvs.map((kv) => kv.value)).toEqual(['2']);
      expect(atR2.header.revision).toBe(r4);
      expect((await store.range({ key: p, prefix: true, revision: r4 })).kvs.map((kv) => kv.value)).toEqual(['b']);
      expect(await get(store, `${p}a`, r1 - 1)).toBeUndefined();
      await expect(store.range({ key: `${p}a`, revision: r4 + 1000 })).rejects.toBeInstanceOf(ErrFutureRev);
    });
  });

  describe('delete', () => {
    it('deletes one key in one revision, with prevKvs when asked', async () => {
      const { store } = h();
      const p = uniquePrefix();
      const put = await store.put(`${p}a`, 'v');
      const res = await store.delete(`${p}a`, { prevKv: true });
      expect(res.deleted).toBe(1);
      expect(res.header.revision).toBe(put.header.revision + 1);
      const rev = put.header.revision;
      const prevKv = { key: `${p}a`, value: 'v', createRevision: rev, modRevision: rev, version: 1, lease: 0 };
      expect(res.prevKvs).toEqual([prevKv]);
      expect(await get(store, `${p}a`)).toBeUndefined();
    });

    it('deleting nothing answers 0 and takes no revision', async () => {
      const { store } = h();
      const before = await currentRevision(store);
      const res = await store.delete(`${uniquePrefix()}nothing`);
      expect(res.deleted).toBe(0);
      expect(res.prevKvs).toEqual([]);
      expect(res.header.revision).toBe(before);
      expect(await currentRevision(store)).toBe(before);
    });

    it('deletes a prefix in a single revision', async () => {
      const { store } = h();
      const p = uniquePrefix();
      for (const k of ['a', 'b', 'c']) await store.put(`${p}dir/${k}`, k);
      await store.put(`${p}dirt`, 'outside');
      const before = await currentRevision(store);
      const res = await store.delete({ key: `${p}dir/`, prefix: true }, { prevKv: true });
      expect(res.deleted).toBe(3);
      expect(res.prevKvs.map((kv) => kv.value)).toEqual(['a', 'b', 'c']);
      expect(res.header.revision).toBe(before + 1);
      expect((await store.range({ key: p, prefix: true })).kvs.map((kv) => kv.key)).toEqual([`${p}dirt`]);
    });

    it('deletes a [key, rangeEnd) range', async () => {
      const { store } = h();
      const p = uniquePrefix();
      for (const k of ['a', 'b', 'c']) await store.put(`${p}${k}`, k);
      const res = await store.delete({ key: `${p}a`, rangeEnd: `${p}c` });
      expect(res.deleted).toBe(2);
      expect((await store.range({ key: p, prefix: true })).kvs.map((kv) => kv.value)).toEqual(['c']);
    });

    it('re-creating a deleted key starts a new generation', async () => {
      const { store } = h();
      const p = uniquePrefix();
      await store.put(`${p}a`, '1');
      await store.put(`${p}a`, '2');
      await store.delete(`${p}a`);
      const again = await store.put(`${p}a`, '3');
      expect(await get(store, `${p}a`)).toMatchObject({
        version: 1,
        createRevision: again.header.revision,
        modRevision: again.header.revision,
      });
    });
  });

  describe('compaction', () => {
    it('keeps the state at and after the compaction revision and refuses older reads', async () => {
      const { store } = h();
      const p = uniquePrefix();
      const r1 = (await store.put(`${p}a`, '1')).header.revision;
      const r2 = (await store.put(`${p}a`, '2')).header.revision;
      await store.put(`${p}b`, 'b');
      await store.delete(`${p}b`);
      const r5 = (await store.put(`${p}a`, '3')).header.revision;
      const compacted = await store.compact(r2);
      expect(compacted.header.revision).toBe(r5);
      await expect(store.range({ key: `${p}a`, revision: r1 })).rejects.toBeInstanceOf(ErrCompacted);
      await expect(store.range({ key: `${p}a`, revision: r1 })).rejects.toMatchObject({ compactRevision: r2 });
      expect((await get(store, `${p}a`, r2))?.value).toBe('2');
      expect((await get(store, `${p}b`, r2 + 1))?.value).toBe('b');
      expect(await get(store, `${p}b`, r5)).toBeUndefined();
      expect(await get(store, `${p}a`)).toMatchObject({ value: '3', version: 3, createRevision: r1 });
      await expect(store.compact(r2)).rejects.toBeInstanceOf(ErrCompacted);
      await expect(store.compact(r5 + 1000)).rejects.toBeInstanceOf(ErrFutureRev);
      await store.compact(r5);
      expect((await store.range({ key: p, prefix: true })).kvs.map((kv) => kv.value)).toEqual(['3']);
    });

    it('does not advance the revision', async () => {
      const { store } = h();
      const r = (await store.put(`${uniquePrefix()}a`, '1')).header.revision;
      await store.compact(r);
      expect(await currentRevision(store)).toBe(r);
    });
  });
}
