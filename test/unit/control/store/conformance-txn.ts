import { describe, expect, it } from 'vitest';
import {
  ErrDuplicateKey,
  ErrLeaseNotFound,
  ErrTooManyOps,
  op,
  type Compare,
  type CompareResult,
  type CompareTarget,
  type OpResponse,
} from '../../../../control/store/index.js';
import type { HarnessRef } from './conformance.js';
import { currentRevision, get, uniquePrefix } from './helpers.js';

const RESULTS: CompareResult[] = ['=', '!=', '<', '>'];

function expected<T extends string | number>(actual: T, operand: T, result: CompareResult): boolean {
  return { '=': actual === operand, '!=': actual !== operand, '<': actual < operand, '>': actual > operand }[result];
}

type ResponseOf<T extends OpResponse['type']> = Extract<OpResponse, { type: T }>;

function responseOf<T extends OpResponse['type']>(r: OpResponse | undefined, type: T): ResponseOf<T> {
  if (r?.type !== type) throw new Error(`expected a ${type} response, got ${JSON.stringify(r)}`);
  return r as Extract<OpResponse, { type: T }>;
}

export function txnConformance(h: HarnessRef): void {
  describe('txn', () => {
    it('compare-and-swap on modRevision: the first writer wins, the loser reads the winner', async () => {
      const { store } = h();
      const key = `${uniquePrefix()}cas`;
      const created = await store.put(key, 'v0');
      const rev = created.header.revision;
      const win = await store.txn({
        compare: [op.modRevision(key, '=', rev)],
        success: [op.put(key, 'winner')],
        failure: [op.get(key)],
      });
      expect(win.succeeded).toBe(true);
      expect(win.header.revision).toBe(rev + 1);
      expect(responseOf(win.responses[0], 'put').header.revision).toBe(rev + 1);
      const lose = await store.txn({
        compare: [op.modRevision(key, '=', rev)],
        success: [op.put(key, 'loser')],
        failure: [op.get(key)],
      });
      expect(lose.succeeded).toBe(false);
      expect(lose.header.revision).toBe(rev + 1);
      expect(responseOf(lose.responses[0], 'range').kvs[0]).toMatchObject({ value: 'winner', modRevision: rev + 1 });
    });

    it('create-if-absent with version = 0', async () => {
      const { store } = h();
      const key = `${uniquePrefix()}lock`;
      const create = () => store.txn({ compare: [op.version(key, '=', 0)], success: [op.put(key, 'me')], failure: [] });
      expect((await create()).succeeded).toBe(true);
      expect((await create()).succeeded).toBe(false);
      expect(await get(store, key)).toMatchObject({ value: 'me', version: 1 });
    });

    it('compare-and-delete', async () => {
      const { store } = h();
      const key = `${uniquePrefix()}obj`;
      await store.put(key, 'a');
      const { header } = await store.put(key, 'b');
      const staleCompare = op.modRevision(key, '=', header.revision - 1);
      const stale = await store.txn({ compare: [staleCompare], success: [op.del(key)], failure: [] });
      expect(stale.succeeded).toBe(false);
      expect(await get(store, key)).toBeDefined();
      const fresh = await store.txn({
        compare: [op.modRevision(key, '=', header.revision)],
        success: [op.del(key, { prevKv: true })],
        failure: [],
      });
      expect(fresh.succeeded).toBe(true);
      expect(responseOf(fresh.responses[0], 'delete')).toMatchObject({ deleted: 1, prevKvs: [{ value: 'b' }] });
      expect(await get(store, key)).toBeUndefined();
    });

    it('evaluates every target with every operator', async () => {
      const { store } = h();
      const key = `${uniquePrefix()}k`;
      const lease = (await store.leaseGrant(60)).id;
      await store.put(key, 'm');
      await store.put(key, 'm', { lease });
      const kv = (await get(store, key))!;
      const actual: Record<CompareTarget, string | number> = {
        value: kv.value,
        version: kv.version,
        createRevision: kv.createRevision,
        modRevision: kv.modRevision,
        lease: kv.lease,
      };
      const operands: Record<CompareTarget, Array<string | number>> = {
        value: ['l', 'm', 'n', 'mm', ''],
        version: [1, 2, 3],
        createRevision: [kv.createRevision - 1, kv.createRevision, kv.createRevision + 1],
        modRevision: [kv.modRevision - 1, kv.modRevision, kv.modRevision + 1],
        lease: [0, lease, lease + 1],
      };
      for (const target of Object.keys(operands) as CompareTarget[]) {
        for (const operand of operands[target]) {
          for (const result of RESULTS) {
            const compare = { key, target, result, value: operand } as Compare;
            const res = await store.txn({ compare: [compare], success: [], failure: [] });
            expect(res.succeeded, `${target} ${String(actual[target])} ${result} ${String(operand)}`).toBe(
              expected(actual[target], operand, result),
            );
          }
        }
      }
      await store.leaseRevoke(lease);
    });

    it('compares a missing key as zero, and fails every value comparison on it', async () => {
      const { store } = h();
      const key = `${uniquePrefix()}absent`;
      const check = async (compare: Compare) =>
        (await store.txn({ compare: [compare], success: [], failure: [] })).succeeded;
      expect(await check(op.version(key, '=', 0))).toBe(true);
      expect(await check(op.createRevision(key, '=', 0))).toBe(true);
      expect(await check(op.modRevision(key, '<', 1))).toBe(true);
      expect(await check(op.lease(key, '=', 0))).toBe(true);
      expect(await check(op.value(key, '=', ''))).toBe(false);
      expect(await check(op.value(key, '!=', 'x'))).toBe(false);
    });

    it('compares over a range: every key must match', async () => {
      const { store } = h();
      const p = uniquePrefix();
      await store.put(`${p}a`, 'same');
      await store.put(`${p}b`, 'same');
      const all = { key: p, prefix: true, target: 'value', result: '=', value: 'same' } as const;
      expect((await store.txn({ compare: [all], success: [], failure: [] })).succeeded).toBe(true);
      await store.put(`${p}c`, 'different');
      expect((await store.txn({ compare: [all], success: [], failure: [] })).succeeded).toBe(false);
    });

    it('is one revision, and later ops see earlier ops of the same txn', async () => {
      const { store } = h();
      const p = uniquePrefix();
      await store.put(`${p}gone`, 'x');
      const before = await currentRevision(store);
      const res = await store.txn({
        compare: [],
        success: [op.put(`${p}a`, '1'), op.put(`${p}b`, '2'), op.del(`${p}gone`), op.range({ key: p, prefix: true })],
        failure: [],
      });
      expect(res.succeeded).toBe(true);
      expect(res.header.revision).toBe(before + 1);
      const read = responseOf(res.responses[3], 'range');
      expect(read.kvs.map((kv) => [kv.key, kv.modRevision])).toEqual([
        [`${p}a`, before + 1],
        [`${p}b`, before + 1],
      ]);
      expect((await store.range({ key: p, prefix: true })).kvs.map((kv) => kv.value)).toEqual(['1', '2']);
    });

    it('takes no revision when it writes nothing', async () => {
      const { store } = h();
      const p = uniquePrefix();
      const before = await currentRevision(store);
      const res = await store.txn({ compare: [], success: [op.get(`${p}a`), op.del(`${p}missing`)], failure: [] });
      expect(res.header.revision).toBe(before);
      expect(await currentRevision(store)).toBe(before);
    });

    it('runs nested txns', async () => {
      const { store } = h();
      const p = uniquePrefix();
      await store.put(`${p}flag`, 'on');
      const res = await store.txn({
        compare: [op.version(`${p}flag`, '>', 0)],
        success: [
          op.txn({ compare: [op.value(`${p}flag`, '=', 'on')], success: [op.put(`${p}x`, 'nested-yes')], failure: [] }),
          op.put(`${p}y`, 'outer'),
        ],
        failure: [],
      });
      expect(res.succeeded).toBe(true);
      expect(responseOf(res.responses[0], 'txn').succeeded).toBe(true);
      const values = (await store.range({ key: p, prefix: true })).kvs.map((kv) => kv.value);
      expect(values).toEqual(['on', 'nested-yes', 'outer']);
    });

    it('rejects a txn writing the same key twice, or putting inside its own delete range', async () => {
      const { store } = h();
      const p = uniquePrefix();
      await expect(
        store.txn({ compare: [], success: [op.put(`${p}a`, '1'), op.put(`${p}a`, '2')], failure: [] }),
      ).rejects.toBeInstanceOf(ErrDuplicateKey);
      await expect(
        store.txn({ compare: [], success: [op.del({ key: p, prefix: true }), op.put(`${p}a`, '2')], failure: [] }),
      ).rejects.toBeInstanceOf(ErrDuplicateKey);
      // The same key in both branches is fine: only one runs.
      const ok = await store.txn({ compare: [], success: [op.put(`${p}a`, '1')], failure: [op.put(`${p}a`, '2')] });
      expect(ok.succeeded).toBe(true);
    });

    it('rejects too many ops', async () => {
      const { store } = h();
      const p = uniquePrefix();
      const ops = Array.from({ length: 1000 }, (_, i) => op.put(`${p}${i}`, 'x'));
      const before = await currentRevision(store);
      await expect(store.txn({ compare: [], success: ops, failure: [] })).rejects.toBeInstanceOf(ErrTooManyOps);
      expect(await currentRevision(store)).toBe(before);
    });

    it('fails whole on an unknown lease, changing nothing', async () => {
      const { store } = h();
      const p = uniquePrefix();
      const before = await currentRevision(store);
      await expect(
        store.txn({
          compare: [],
          success: [op.put(`${p}a`, '1'), op.put(`${p}b`, '2', { lease: 987654321 })],
          failure: [],
        }),
      ).rejects.toBeInstanceOf(ErrLeaseNotFound);
      await expect(store.put(`${p}c`, '3', { lease: 987654321 })).rejects.toBeInstanceOf(ErrLeaseNotFound);
      expect(await currentRevision(store)).toBe(before);
      expect((await store.range({ key: p, prefix: true })).count).toBe(0);
    });
  });
}
