import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrInvalidRequest } from '../../../control/store/index.js';
import { EtcdStore, createEtcdStore, progressOrderingOf } from '../../../control/store/etcd/index.js';
import { runStoreConformance } from '../../unit/control/store/conformance.js';
import { WatchCollector, currentRevision, settle, uniquePrefix } from '../../unit/control/store/helpers.js';
import { etcdBackendSpecifics } from './etcd-backend-specifics.js';
import { startEtcd, type EtcdProcess } from './etcd-process.js';
import { makeTestCerts } from './tls-certs.js';

let etcd: EtcdProcess | undefined;

function endpoints(): string[] {
  if (etcd === undefined) throw new Error('etcd did not start');
  return etcd.endpoints;
}

beforeAll(async () => {
  etcd = await startEtcd();
});

afterAll(async () => {
  await etcd?.stop();
});

// One etcd for the whole file; each test gets its own client and keys under its own prefix. Lease expiry runs on
// etcd's clock, so advanceTime really waits (the suite's leases live 5 s; etcd checks expiry every 500 ms).
runStoreConformance('etcd backend', async () => {
  const store = createEtcdStore({ endpoints: endpoints() });
  return {
    store,
    cleanup: () => store.close(),
    advanceTime: (ms: number) => new Promise((resolve) => setTimeout(resolve, ms)),
  };
});

etcdBackendSpecifics('Debian etcd 3.4', endpoints);

describe('EtcdStore specifics', () => {
  const withStore = async (fn: (store: EtcdStore) => Promise<void>): Promise<void> => {
    const store = createEtcdStore({ endpoints: endpoints() });
    try {
      await fn(store);
    } finally {
      await store.close();
    }
  };

  it('talks to Debian etcd 3.4 and knows its progress answers need verifying', async () => {
    await withStore(async (store) => {
      const version = await store.serverVersion();
      expect(version).toMatch(/^3\.\d+\.\d+/);
      expect(progressOrderingOf('3.4.23')).toBe('verify');
      expect(progressOrderingOf('3.4.24')).toBe('trust');
      expect(progressOrderingOf('3.5.7')).toBe('verify');
      expect(progressOrderingOf('3.5.8')).toBe('trust');
      expect(progressOrderingOf('3.6.0')).toBe('trust');
    });
  });

  describe('lease ids', () => {
    it('refuses, with a clear error, a lease id from etcd that does not fit a JS number', async () => {
      await withStore(async (store) => {
        // Another etcd client's lease: etcd picks ids across the whole int64 range.
        const foreign = '9007199254740993'; // 2^53 + 1: Number() would silently round it to 2^53
        await store.client.leaseClient.leaseGrant({ TTL: 30, ID: foreign });
        const key = `${uniquePrefix()}foreign`;
        try {
          await store.client.kv.put({ key: Buffer.from(key), value: Buffer.from('x'), lease: foreign });
          const read = store.range({ key });
          await expect(read).rejects.toBeInstanceOf(ErrInvalidRequest);
          await expect(read).rejects.toThrow(/9007199254740993 is not a positive safe integer/);
          await expect(store.leases()).rejects.toThrow(/9007199254740993/);
        } finally {
          await store.client.leaseClient.leaseRevoke({ ID: foreign });
        }
      });
    });
  });

  it('connects over TLS with a client certificate (https endpoints, CA and cert/key files)', async () => {
    const certs = await makeTestCerts();
    let secure: EtcdProcess | undefined;
    try {
      secure = await startEtcd({
        tls: { certFile: certs.certFile, keyFile: certs.keyFile, caFile: certs.caFile, clientCertAuth: true },
      });
      expect(secure.endpoints[0]).toMatch(/^https:/);
      const store = createEtcdStore({
        endpoints: secure.endpoints,
        tls: { caFile: certs.caFile, certFile: certs.clientCertFile, keyFile: certs.clientKeyFile },
      });
      try {
        const p = uniquePrefix();
        const c = new WatchCollector();
        const w = await store.watch({ key: p, prefix: true }, c.listener);
        const put = await store.put(`${p}a`, 'secret');
        await c.untilRevision(put.header.revision);
        expect((await store.range({ key: `${p}a` })).kvs[0]?.value).toBe('secret');
        await w.cancel();
      } finally {
        await store.close();
      }
      // Without a client certificate etcd refuses the connection.
      const anonymous = createEtcdStore({
        endpoints: secure.endpoints,
        tls: { caFile: certs.caFile },
        requestTimeoutMs: 3_000,
      });
      try {
        await expect(anonymous.range({ key: 'a' })).rejects.toThrow();
      } finally {
        await anonymous.close();
      }
    } finally {
      await secure?.stop();
      await certs.remove();
    }
  });

  describe('watch', () => {
    it('sends periodic progress notifications when asked (progressNotify)', async () => {
      // A second etcd with a short progress interval: etcd's default is 10 minutes.
      const fast = await startEtcd({ progressNotifyInterval: '300ms' });
      const store = createEtcdStore({ endpoints: fast.endpoints });
      try {
        const c = new WatchCollector();
        const w = await store.watch({ key: uniquePrefix(), prefix: true, progressNotify: true }, c.listener);
        const rev = await currentRevision(store);
        await c.until((x) => x.messages.filter((m) => m.type === 'progress').length >= 2, 'two progress messages');
        for (const m of c.messages) expect(m).toMatchObject({ type: 'progress' });
        expect(c.messages[0]?.type === 'progress' && c.messages[0].revision).toBeGreaterThanOrEqual(rev);
        await w.cancel();
      } finally {
        await store.close();
        await fast.stop();
      }
    });

    it('resumes across an etcd restart without losing or repeating a revision', async () => {
      const own = await startEtcd();
      const lines: string[] = [];
      const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
      const store = createEtcdStore({ endpoints: own.endpoints, logger });
      try {
        const p = uniquePrefix();
        const c = new WatchCollector();
        const w = await store.watch({ key: p, prefix: true }, c.listener);
        const first = (await store.put(`${p}a`, '1')).header.revision;
        await c.untilRevision(first);
        await own.kill();
        await own.start();
        // Written while the watch is reconnecting (or before): must still arrive, once.
        let last = 0;
        for (let i = 2; i <= 6; i++) {
          for (;;) {
            try {
              last = (await store.put(`${p}a`, `${i}`)).header.revision;
              break;
            } catch {
              await settle(200); // the client reconnects (etcd3's circuit breaker opens for 5 s after failures)
            }
          }
        }
        await c.untilRevision(last, 30_000);
        await settle(200);
        expect(c.events().map((e) => e.kv.value)).toEqual(['1', '2', '3', '4', '5', '6']);
        expect(c.events().map((e) => e.kv.version)).toEqual([1, 2, 3, 4, 5, 6]);
        expect(c.messages.every((m) => m.type === 'events')).toBe(true);
        // The watch really lost its stream and came back.
        expect(lines.some((l) => l.includes('etcd watch stream broke; resuming'))).toBe(true);
        await w.cancel();
      } finally {
        await store.close();
        await own.stop();
      }
    });
  });
});
