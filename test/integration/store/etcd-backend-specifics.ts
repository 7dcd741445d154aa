import { describe, expect, it } from 'vitest';
import {
  ErrCompacted,
  ErrDuplicateKey,
  ErrEmptyKey,
  ErrFutureRev,
  ErrInvalidRequest,
  ErrLeaseExists,
  ErrLeaseNotFound,
  ErrLeaseTtlTooLarge,
  ErrStoreClosed,
  ErrTooManyOps,
  op,
} from '../../../control/store/index.js';
import { EtcdStore, createEtcdStore } from '../../../control/store/etcd/index.js';
import { WatchCollector, currentRevision, uniquePrefix } from '../../unit/control/store/helpers.js';

/**
 * What the etcd backend must get right beyond the Store conformance suite (lease ids, error details, UTF-8 keys,
 * progress requests), written against any etcd API endpoint: Debian's etcd 3.4 (etcd-store.test.ts) and Skiff's
 * own members (store-cluster/etcd-backend.test.ts) must answer these alike.
 */
export function etcdBackendSpecifics(name: string, endpoints: () => string[]): void {
  const withStore = async (fn: (store: EtcdStore) => Promise<void>): Promise<void> => {
    const store = createEtcdStore({ endpoints: endpoints() });
    try {
      await fn(store);
    } finally {
      await store.close();
    }
  };

  describe(`etcd backend specifics: ${name}`, () => {
    describe('lease ids', () => {
      it('grants ids it picks itself, above 2^32 and exact as JS numbers', async () => {
        await withStore(async (store) => {
          const ids = [];
          for (let i = 0; i < 5; i++) ids.push((await store.leaseGrant(10)).id);
          for (const id of ids) {
            expect(Number.isSafeInteger(id)).toBe(true);
            expect(id).toBeGreaterThan(0);
            // The id round-trips through etcd's int64 unchanged.
            const ttl = await store.leaseTimeToLive(id);
            expect(ttl.id).toBe(id);
            expect(ttl.ttl).toBeGreaterThan(0);
          }
          expect(new Set(ids).size).toBe(5);
          // Random over the safe integers: practically all are beyond 32 bits.
          expect(ids.some((id) => id > 2 ** 32)).toBe(true);
          const listed = await store.leases();
          for (const id of ids) expect(listed).toContain(id);
          for (const id of ids) await store.leaseRevoke(id);
        });
      });

      it('keeps the largest safe integer exact on keys and in listings', async () => {
        await withStore(async (store) => {
          const id = Number.MAX_SAFE_INTEGER;
          await store.leaseGrant(10, id).catch(async (error: unknown) => {
            // left over from an earlier run of this test against the same etcd
            if (!(error instanceof ErrLeaseExists)) throw error;
          });
          try {
            const key = `${uniquePrefix()}max`;
            await store.put(key, 'v', { lease: id });
            expect((await store.range({ key })).kvs[0]?.lease).toBe(id);
            expect(await store.leases()).toContain(id);
            expect((await store.leaseTimeToLive(id, { keys: true })).keys).toEqual([key]);
            expect(await store.leaseKeepAlive(id)).toBe(10);
          } finally {
            await store.leaseRevoke(id);
          }
        });
      });

      it('refuses lease ids that are not positive safe integers, without asking etcd', async () => {
        await withStore(async (store) => {
          await expect(store.leaseGrant(10, 2 ** 53)).rejects.toBeInstanceOf(ErrInvalidRequest);
          await expect(store.leaseGrant(10, -5)).rejects.toBeInstanceOf(ErrInvalidRequest);
          await expect(store.leaseGrant(10, 1.5)).rejects.toBeInstanceOf(ErrInvalidRequest);
          const unsafe = store.put(`${uniquePrefix()}a`, 'v', { lease: 2 ** 60 });
          await expect(unsafe).rejects.toBeInstanceOf(ErrInvalidRequest);
        });
      });

    });

    describe('error mapping', () => {
      it('maps etcd errors onto the typed errors, with the details etcd leaves out', async () => {
        await withStore(async (store) => {
          const p = uniquePrefix();
          await expect(store.put('', 'x')).rejects.toBeInstanceOf(ErrEmptyKey);
          await expect(store.range({ key: '' })).rejects.toBeInstanceOf(ErrEmptyKey);

          const r1 = (await store.put(`${p}a`, '1')).header.revision;
          const r2 = (await store.put(`${p}a`, '2')).header.revision;
          await store.compact(r2);
          const compacted = await store.range({ key: `${p}a`, revision: r1 }).catch((e: unknown) => e);
          expect(compacted).toBeInstanceOf(ErrCompacted);
          expect(compacted).toMatchObject({ compactRevision: r2 });
          expect((compacted as Error).message).toContain(`compact revision ${r2}`);
          await expect(store.compact(r1)).rejects.toMatchObject({ compactRevision: r2 });
          await expect(store.compact(r2)).rejects.toMatchObject({ compactRevision: r2 });
          const oldRead = op.range({ key: `${p}a`, revision: r1 });
          await expect(store.txn({ compare: [], success: [oldRead], failure: [] })).rejects.toMatchObject({
            compactRevision: r2,
          });

          const now = await currentRevision(store);
          const future = await store.range({ key: `${p}a`, revision: now + 50 }).catch((e: unknown) => e);
          expect(future).toBeInstanceOf(ErrFutureRev);
          expect(future).toMatchObject({ requested: now + 50 });
          expect((future as ErrFutureRev).current).toBeGreaterThanOrEqual(now);
          const futureRead = op.range({ key: `${p}a`, revision: now + 60 });
          const futureTxn = store.txn({ compare: [], success: [futureRead], failure: [] });
          await expect(futureTxn).rejects.toBeInstanceOf(ErrFutureRev);
          await expect(futureTxn).rejects.toMatchObject({ requested: now + 60 });

          await expect(store.leaseGrant(10_000_000_000)).rejects.toBeInstanceOf(ErrLeaseTtlTooLarge);
          const missing = 424242424242;
          await expect(store.leaseRevoke(missing)).rejects.toMatchObject({ leaseId: missing });
          await expect(store.leaseKeepAlive(missing)).rejects.toBeInstanceOf(ErrLeaseNotFound);
          await expect(store.put(`${p}b`, 'x', { lease: missing })).rejects.toMatchObject({ leaseId: missing });
          const txnMissing = store.txn({
            compare: [],
            success: [op.put(`${p}c`, '1'), op.put(`${p}d`, '2', { lease: missing })],
            failure: [],
          });
          await expect(txnMissing).rejects.toBeInstanceOf(ErrLeaseNotFound);
          await expect(txnMissing).rejects.toMatchObject({ leaseId: missing });

          const { id } = await store.leaseGrant(10);
          await expect(store.leaseGrant(10, id)).rejects.toMatchObject({ leaseId: id });
          await store.leaseRevoke(id);

          const twice = [op.put(`${p}x`, '1'), op.put(`${p}y`, '1'), op.put(`${p}x`, '2')];
          const dup = await store.txn({ compare: [], success: twice, failure: [] }).catch((e: unknown) => e);
          expect(dup).toBeInstanceOf(ErrDuplicateKey);
          expect(dup).toMatchObject({ key: `${p}x` });

          const many = Array.from({ length: 129 }, (_, i) => op.put(`${p}many/${i}`, 'x'));
          await expect(store.txn({ compare: [], success: many, failure: [] })).rejects.toMatchObject({ limit: 128 });
          await expect(store.txn({ compare: [], success: many.slice(0, 128), failure: [] })).resolves.toMatchObject({
            succeeded: true,
          });
          await expect(store.txn({ compare: [], success: many, failure: [] })).rejects.toBeInstanceOf(ErrTooManyOps);
        });
      });

      it('refuses every call after close, and ends open watches with ErrStoreClosed', async () => {
        const store = createEtcdStore({ endpoints: endpoints() });
        const c = new WatchCollector();
        await store.watch({ key: uniquePrefix(), prefix: true }, c.listener);
        await store.close();
        expect(c.messages).toHaveLength(1);
        expect(c.messages[0]).toMatchObject({ type: 'error' });
        expect(c.messages[0]?.type === 'error' && c.messages[0].error).toBeInstanceOf(ErrStoreClosed);
        await expect(store.range({ key: 'a' })).rejects.toBeInstanceOf(ErrStoreClosed);
        await expect(store.put('a', 'b')).rejects.toBeInstanceOf(ErrStoreClosed);
        await expect(store.watch({ key: 'a' }, () => {})).rejects.toBeInstanceOf(ErrStoreClosed);
        await expect(store.leases()).rejects.toBeInstanceOf(ErrStoreClosed);
      });
    });

    describe('keys and values as UTF-8', () => {
      it('ranges a non-ASCII prefix on its UTF-8 bytes', async () => {
        await withStore(async (store) => {
          const p = `${uniquePrefix()}é/`;
          await store.put(`${p}ü`, '1');
          await store.put(`${p}z`, '2');
          await store.put(`${p}🚢`, '3');
          await store.put(`${uniquePrefix()}é0`, 'outside');
          const res = await store.range({ key: p, prefix: true });
          // etcd orders by bytes: 'z' (0x7a) < 'ü' (0xc3 0xbc) < '🚢' (0xf0 ...).
          expect(res.kvs.map((kv) => kv.value)).toEqual(['2', '1', '3']);
          const c = new WatchCollector();
          const w = await store.watch({ key: p, prefix: true }, c.listener);
          const rev = (await store.put(`${p}ü`, '4')).header.revision;
          await c.untilRevision(rev);
          expect(c.events().map((e) => e.kv.key)).toEqual([`${p}ü`]);
          await w.cancel();
        });
      });
    });

    describe('watch', () => {
      it('answers progress requests after the events they cover, under writes', async () => {
        await withStore(async (store) => {
          const p = uniquePrefix();
          const c = new WatchCollector();
          const w = await store.watch({ key: p, prefix: true }, c.listener);
          let writing = true;
          const writer = (async () => {
            for (let i = 0; writing; i++) await store.put(`${p}k${i % 5}`, `${i}`);
          })();
          const checkProgress = async (): Promise<number> => {
            const seen = c.messages.length;
            w.requestProgress();
            await c.until((x) => x.messages.slice(seen).some((m) => m.type === 'progress'), 'progress');
            const progress = c.messages.slice(seen).find((m) => m.type === 'progress')!;
            // Every write this watch covers up to the progress revision has been delivered before it.
            const delivered = new Set(c.eventMessages().map((m) => m.revision));
            const truth = await store.range({ key: p, prefix: true, revision: progress.revision });
            for (const kv of truth.kvs) expect(delivered.has(kv.modRevision)).toBe(true);
            return progress.revision;
          };
          try {
            for (let round = 0; round < 10; round++) {
              const before = await currentRevision(store);
              // With several endpoints the watch may sit on a member that has not applied `before` yet (etcd
              // answers with the watching member's own revision), so ask again until it has, as the API
              // server's consistent reads from the watch cache do; the invariant above holds for every answer.
              const deadline = Date.now() + 20_000;
              let revision = await checkProgress();
              while (revision < before && Date.now() < deadline) revision = await checkProgress();
              expect(revision).toBeGreaterThanOrEqual(before);
            }
          } finally {
            writing = false;
            await writer.catch(() => undefined);
            await w.cancel();
          }
        });
      });

      it('replays more than 4 MiB of history, and answers progress only after the replay', async () => {
        await withStore(async (store) => {
          const p = uniquePrefix();
          const big = 'x'.repeat(10_000);
          let start = 0;
          for (let i = 0; i < 30; i++) {
            const puts = Array.from({ length: 20 }, (_, k) => op.put(`${p}${k}`, `${i}${big}`));
            const res = await store.txn({ compare: [], success: puts, failure: [] });
            if (start === 0) start = res.header.revision;
          }
          const end = await currentRevision(store);
          const c = new WatchCollector();
          const w = await store.watch({ key: p, prefix: true, startRevision: start }, c.listener);
          // etcd 3.4.23 answers this at once with the current revision, before sending the replay; the store waits.
          w.requestProgress();
          await c.until((x) => x.messages.some((m) => m.type === 'progress'), 'progress', 30_000);
          const at = c.messages.findIndex((m) => m.type === 'progress');
          expect(c.messages.slice(0, at).map((m) => (m.type === 'events' ? m.revision : m.type))).toEqual(
            Array.from({ length: end - start + 1 }, (_, i) => start + i),
          );
          expect(c.eventMessages().every((m) => m.events.length === 20)).toBe(true);
          await w.cancel();
        });
      });

      it('answers a progress request on a quiet watch that started in the past', async () => {
        await withStore(async (store) => {
          const p = uniquePrefix();
          const start = (await store.put(`${p}a`, '1')).header.revision;
          await store.put(`${uniquePrefix()}elsewhere`, 'x');
          const c = new WatchCollector();
          const w = await store.watch({ key: `${p}b`, startRevision: start }, c.listener);
          const rev = await currentRevision(store);
          w.requestProgress();
          await c.until((x) => x.messages.some((m) => m.type === 'progress'), 'progress', 10_000);
          expect(c.messages).toEqual([{ type: 'progress', revision: expect.any(Number) }]);
          expect(c.messages[0]?.type === 'progress' && c.messages[0].revision).toBeGreaterThanOrEqual(rev);
          await w.cancel();
        });
      });
    });
  });
}
