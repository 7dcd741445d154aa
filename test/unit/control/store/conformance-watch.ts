import { describe, expect, it } from 'vitest';
import { ErrCompacted, op } from '../../../../control/store/index.js';
import type { HarnessRef } from './conformance.js';
import { WatchCollector, currentRevision, settle, uniquePrefix } from './helpers.js';

export function watchConformance(h: HarnessRef): void {
  describe('watch', () => {
    it('from now: reports later puts and deletes only', async () => {
      const { store } = h();
      const p = uniquePrefix();
      await store.put(`${p}a`, 'before');
      const c = new WatchCollector();
      const w = await store.watch({ key: `${p}a` }, c.listener);
      const put = await store.put(`${p}a`, 'after');
      const del = await store.delete(`${p}a`);
      await c.untilRevision(del.header.revision);
      expect(c.eventMessages().map((m) => m.revision)).toEqual([put.header.revision, del.header.revision]);
      expect(c.events()).toEqual([
        {
          type: 'PUT',
          revision: put.header.revision,
          kv: {
            key: `${p}a`,
            value: 'after',
            createRevision: put.header.revision - 1,
            modRevision: put.header.revision,
            version: 2,
            lease: 0,
          },
        },
        {
          type: 'DELETE',
          revision: del.header.revision,
          kv: { key: `${p}a`, value: '', createRevision: 0, modRevision: del.header.revision, version: 0, lease: 0 },
        },
      ]);
      await w.cancel();
    });

    it('from a past revision: replays history, then continues live', async () => {
      const { store } = h();
      const p = uniquePrefix();
      const r1 = (await store.put(`${p}a`, '1')).header.revision;
      await store.put(`${p}b`, '2');
      await store.put(`${p}a`, '3');
      const c = new WatchCollector();
      const w = await store.watch({ key: p, prefix: true, startRevision: r1 + 1 }, c.listener);
      const live = (await store.put(`${p}c`, '4')).header.revision;
      await c.untilRevision(live);
      expect(c.events().map((e) => e.kv.value)).toEqual(['2', '3', '4']);
      expect(c.events().map((e) => e.revision)).toEqual([r1 + 1, r1 + 2, live]);
      await w.cancel();
    });

    it('from a future revision: reports nothing before it', async () => {
      const { store } = h();
      const p = uniquePrefix();
      const start = (await currentRevision(store)) + 3;
      const c = new WatchCollector();
      const w = await store.watch({ key: p, prefix: true, startRevision: start }, c.listener);
      for (let i = 1; i <= 4; i++) await store.put(`${p}a`, `${i}`);
      await c.untilRevision(start + 1);
      expect(c.events().map((e) => [e.revision, e.kv.value])).toEqual([
        [start, '3'],
        [start + 1, '4'],
      ]);
      await w.cancel();
    });

    it('prefix watch ignores keys outside the prefix', async () => {
      const { store } = h();
      const p = uniquePrefix();
      const c = new WatchCollector();
      const w = await store.watch({ key: `${p}pods/`, prefix: true }, c.listener);
      await store.put(`${p}pods`, 'no');
      await store.put(`${p}podsx`, 'no');
      await store.put(`${p}pods/a`, 'yes');
      const last = (await store.put(`${p}pods/b/c`, 'yes')).header.revision;
      await c.untilRevision(last);
      expect(c.events().map((e) => e.kv.key)).toEqual([`${p}pods/a`, `${p}pods/b/c`]);
      await w.cancel();
    });

    it('range watch [key, rangeEnd)', async () => {
      const { store } = h();
      const p = uniquePrefix();
      const c = new WatchCollector();
      const w = await store.watch({ key: `${p}b`, rangeEnd: `${p}d` }, c.listener);
      for (const k of ['a', 'b', 'c', 'd']) await store.put(`${p}${k}`, k);
      const last = (await store.put(`${p}c`, 'c2')).header.revision;
      await c.untilRevision(last);
      expect(c.events().map((e) => e.kv.value)).toEqual(['b', 'c', 'c2']);
      await w.cancel();
    });

    it('prevKv carries the value each event replaced', async () => {
      const { store } = h();
      const p = uniquePrefix();
      await store.put(`${p}a`, 'old');
      const c = new WatchCollector();
      const w = await store.watch({ key: `${p}a`, prevKv: true }, c.listener);
      await store.put(`${p}a`, 'new');
      const del = await store.delete(`${p}a`);
      const recreated = await store.put(`${p}a`, 'again');
      await c.untilRevision(recreated.header.revision);
      const [put, gone, again] = c.events();
      expect(put?.prevKv).toMatchObject({ value: 'old', version: 1 });
      expect(gone?.type).toBe('DELETE');
      expect(gone?.prevKv).toMatchObject({ value: 'new', version: 2 });
      expect(gone?.kv.modRevision).toBe(del.header.revision);
      expect(again?.prevKv).toBeUndefined();
      await w.cancel();
    });

    it('batches a revision: a txn and a prefix delete each arrive as one message', async () => {
      const { store } = h();
      const p = uniquePrefix();
      const c = new WatchCollector();
      const w = await store.watch({ key: p, prefix: true }, c.listener);
      const puts = [op.put(`${p}b`, '1'), op.put(`${p}a`, '2'), op.put(`${p}c`, '3')];
      const txn = await store.txn({ compare: [], success: puts, failure: [] });
      const del = await store.delete({ key: p, prefix: true });
      await c.untilRevision(del.header.revision);
      const messages = c.eventMessages();
      expect(messages.map((m) => m.revision)).toEqual([txn.header.revision, del.header.revision]);
      // Within a revision, events come in the order the txn made the changes.
      expect(messages[0]!.events.map((e) => e.kv.key)).toEqual([`${p}b`, `${p}a`, `${p}c`]);
      expect(messages[1]!.events.map((e) => [e.type, e.kv.key])).toEqual([
        ['DELETE', `${p}a`],
        ['DELETE', `${p}b`],
        ['DELETE', `${p}c`],
      ]);
      await w.cancel();
    });

    it('delivers every revision exactly once, in order, under concurrent writes', async () => {
      const { store } = h();
      const p = uniquePrefix();
      const early = new WatchCollector();
      const w1 = await store.watch({ key: p, prefix: true }, early.listener);
      const start = (await currentRevision(store)) + 1;
      const writers = Array.from({ length: 8 }, (_, wi) =>
        (async () => {
          for (let i = 0; i < 25; i++) await store.put(`${p}w${wi}`, `${i}`);
        })(),
      );
      // A second watcher joins mid-stream from the first revision: its replay and live tail must meet seamlessly.
      await store.put(`${p}mid`, 'x');
      const late = new WatchCollector();
      const w2 = await store.watch({ key: p, prefix: true, startRevision: start }, late.listener);
      await Promise.all(writers);
      const end = await currentRevision(store);
      await early.untilRevision(end);
      await late.untilRevision(end);
      await settle();
      for (const c of [early, late]) {
        const revisions = c.eventMessages().map((m) => m.revision);
        expect(revisions).toEqual(Array.from({ length: end - start + 1 }, (_, i) => start + i));
        expect(c.events()).toHaveLength(201);
        // Per key, versions climb by one: nothing lost, nothing repeated.
        for (let wi = 0; wi < 8; wi++) {
          const versions = c.events().filter((e) => e.kv.key === `${p}w${wi}`).map((e) => e.kv.version);
          expect(versions).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
        }
      }
      await w1.cancel();
      await w2.cancel();
    });

    it('cancel stops delivery', async () => {
      const { store } = h();
      const p = uniquePrefix();
      const c = new WatchCollector();
      const w = await store.watch({ key: p, prefix: true }, c.listener);
      const first = (await store.put(`${p}a`, '1')).header.revision;
      await c.untilRevision(first);
      await w.cancel();
      await store.put(`${p}a`, '2');
      await settle(100);
      expect(c.events().map((e) => e.kv.value)).toEqual(['1']);
    });

    it('noPut / noDelete filters', async () => {
      const { store } = h();
      const p = uniquePrefix();
      const deletes = new WatchCollector();
      const puts = new WatchCollector();
      const w1 = await store.watch({ key: p, prefix: true, noPut: true }, deletes.listener);
      const w2 = await store.watch({ key: p, prefix: true, noDelete: true }, puts.listener);
      await store.put(`${p}a`, '1');
      const del = (await store.delete(`${p}a`)).header.revision;
      const last = (await store.put(`${p}b`, '2')).header.revision;
      await deletes.untilRevision(del);
      await puts.untilRevision(last);
      await settle();
      expect(deletes.events().map((e) => e.type)).toEqual(['DELETE']);
      expect(puts.events().map((e) => e.type)).toEqual(['PUT', 'PUT']);
      await w1.cancel();
      await w2.cancel();
    });

    it('ends with ErrCompacted when the start revision was compacted away', async () => {
      const { store } = h();
      const p = uniquePrefix();
      const r1 = (await store.put(`${p}a`, '1')).header.revision;
      const r2 = (await store.put(`${p}a`, '2')).header.revision;
      const r3 = (await store.put(`${p}a`, '3')).header.revision;
      await store.compact(r2);
      const c = new WatchCollector();
      const w = await store.watch({ key: p, prefix: true, startRevision: r1 }, c.listener);
      await c.until((x) => x.messages.some((m) => m.type === 'error'), 'compacted error');
      const error = c.messages.find((m) => m.type === 'error');
      expect(error?.type === 'error' && error.error).toBeInstanceOf(ErrCompacted);
      expect(error?.type === 'error' && error.error).toMatchObject({ compactRevision: r2 });
      expect(c.events()).toEqual([]);
      await w.cancel();
      // At the compaction revision itself, history is still there.
      const ok = new WatchCollector();
      const w2 = await store.watch({ key: p, prefix: true, startRevision: r2 + 1 }, ok.listener);
      await ok.untilRevision(r3);
      expect(ok.events().map((e) => e.kv.value)).toEqual(['3']);
      await w2.cancel();
    });

    it('answers a progress request with the current revision', async () => {
      const { store } = h();
      const p = uniquePrefix();
      const c = new WatchCollector();
      const w = await store.watch({ key: p, prefix: true }, c.listener);
      await store.put(`${uniquePrefix()}elsewhere`, 'x');
      const rev = await currentRevision(store);
      w.requestProgress();
      await c.until((x) => x.messages.some((m) => m.type === 'progress'), 'progress');
      const progress = c.messages.find((m) => m.type === 'progress');
      expect(progress?.revision).toBeGreaterThanOrEqual(rev);
      expect(c.events()).toEqual([]);
      await w.cancel();
    });
  });
}
