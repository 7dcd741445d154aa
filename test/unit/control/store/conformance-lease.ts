import { describe, expect, it } from 'vitest';
import { ErrLeaseExists, ErrLeaseNotFound } from '../../../../control/store/index.js';
import type { HarnessRef } from './conformance.js';
import { WatchCollector, currentRevision, get, poll, uniquePrefix } from './helpers.js';

const TTL = 5;

export function leaseConformance(h: HarnessRef): void {
  describe('leases', () => {
    it('grants, lists, reports time to live and attached keys', async () => {
      const { store } = h();
      const p = uniquePrefix();
      const lease = await store.leaseGrant(TTL);
      expect(lease.id).toBeGreaterThan(0);
      expect(lease.ttl).toBeGreaterThanOrEqual(TTL);
      expect(await store.leases()).toContain(lease.id);
      await store.put(`${p}b`, 'x', { lease: lease.id });
      await store.put(`${p}a`, 'y', { lease: lease.id });
      expect(await get(store, `${p}a`)).toMatchObject({ lease: lease.id });
      const ttl = await store.leaseTimeToLive(lease.id, { keys: true });
      expect(ttl.id).toBe(lease.id);
      expect(ttl.grantedTtl).toBe(lease.ttl);
      expect(ttl.ttl).toBeGreaterThan(0);
      expect(ttl.ttl).toBeLessThanOrEqual(lease.ttl);
      expect(ttl.keys).toEqual([`${p}a`, `${p}b`]);
      expect((await store.leaseTimeToLive(lease.id)).keys).toBeUndefined();
      await store.leaseRevoke(lease.id);
    });

    it('grants a chosen id once', async () => {
      const { store } = h();
      const id = 1_000_000 + Math.floor(Math.random() * 1_000_000_000);
      expect((await store.leaseGrant(TTL, id)).id).toBe(id);
      await expect(store.leaseGrant(TTL, id)).rejects.toBeInstanceOf(ErrLeaseExists);
      await store.leaseRevoke(id);
    });

    it('revoke deletes every attached key in one revision', async () => {
      const { store } = h();
      const p = uniquePrefix();
      const { id } = await store.leaseGrant(TTL);
      await store.put(`${p}a`, '1', { lease: id });
      await store.put(`${p}b`, '2', { lease: id });
      await store.put(`${p}keep`, '3');
      const c = new WatchCollector();
      const w = await store.watch({ key: p, prefix: true }, c.listener);
      const before = await currentRevision(store);
      const res = await store.leaseRevoke(id);
      expect(res.header.revision).toBe(before + 1);
      expect((await store.range({ key: p, prefix: true })).kvs.map((kv) => kv.key)).toEqual([`${p}keep`]);
      await c.untilRevision(before + 1);
      expect(c.eventMessages()).toHaveLength(1);
      expect(c.events().map((e) => [e.type, e.kv.key])).toEqual([
        ['DELETE', `${p}a`],
        ['DELETE', `${p}b`],
      ]);
      expect(await store.leases()).not.toContain(id);
      expect((await store.leaseTimeToLive(id)).ttl).toBe(-1);
      await w.cancel();
    });

    it('a put without the lease detaches the key', async () => {
      const { store } = h();
      const p = uniquePrefix();
      const { id } = await store.leaseGrant(TTL);
      await store.put(`${p}a`, '1', { lease: id });
      await store.put(`${p}a`, '2');
      expect((await store.leaseTimeToLive(id, { keys: true })).keys).toEqual([]);
      await store.leaseRevoke(id);
      expect(await get(store, `${p}a`)).toMatchObject({ value: '2', lease: 0 });
    });

    it('keep-alive answers the TTL; unknown leases fail', async () => {
      const { store } = h();
      const { id, ttl } = await store.leaseGrant(TTL);
      expect(await store.leaseKeepAlive(id)).toBe(ttl);
      await store.leaseRevoke(id);
      await expect(store.leaseKeepAlive(id)).rejects.toBeInstanceOf(ErrLeaseNotFound);
      await expect(store.leaseRevoke(id)).rejects.toBeInstanceOf(ErrLeaseNotFound);
      expect(await store.leaseTimeToLive(id)).toMatchObject({ id, ttl: -1 });
    });

    it('expiry deletes the attached keys in one revision', async (ctx) => {
      const { store, advanceTime } = h();
      if (advanceTime === undefined) return ctx.skip();
      const p = uniquePrefix();
      const { id, ttl } = await store.leaseGrant(TTL);
      await store.put(`${p}a`, '1', { lease: id });
      await store.put(`${p}b`, '2', { lease: id });
      const c = new WatchCollector();
      const w = await store.watch({ key: p, prefix: true }, c.listener);
      await advanceTime(ttl * 1000 - 500);
      expect((await store.range({ key: p, prefix: true })).count).toBe(2);
      await advanceTime(1500);
      await poll(async () => (await store.range({ key: p, prefix: true })).count === 0, 'lease expiry');
      await c.until((x) => x.events().length === 2, 'two DELETE events');
      expect(c.eventMessages()).toHaveLength(1);
      expect(c.events().every((e) => e.type === 'DELETE')).toBe(true);
      expect(await store.leases()).not.toContain(id);
      await expect(store.leaseKeepAlive(id)).rejects.toBeInstanceOf(ErrLeaseNotFound);
      await w.cancel();
    });

    it('keep-alive postpones expiry', async (ctx) => {
      const { store, advanceTime } = h();
      if (advanceTime === undefined) return ctx.skip();
      const p = uniquePrefix();
      const { id, ttl } = await store.leaseGrant(TTL);
      await store.put(`${p}a`, '1', { lease: id });
      for (let i = 0; i < 3; i++) {
        await advanceTime((ttl * 1000) / 2);
        expect((await store.leaseTimeToLive(id)).ttl).toBeLessThan(ttl);
        expect(await store.leaseKeepAlive(id)).toBe(ttl);
      }
      expect(await get(store, `${p}a`)).toBeDefined();
      await advanceTime(ttl * 1000 + 1000);
      await poll(async () => (await get(store, `${p}a`)) === undefined, 'lease expiry');
    });
  });
}
