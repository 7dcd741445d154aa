import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEtcdStore } from '../../../control/store/etcd/index.js';
import { WatchCollector, uniquePrefix } from '../../unit/control/store/helpers.js';
import { makeTestCerts, type TestCerts } from '../store/tls-certs.js';
import { ProcCluster, buildEntry } from './harness.js';

/**
 * Client TLS on `skiff store`'s client URLs with etcd's flags (--cert-file, --key-file, --trusted-ca-file,
 * --client-cert-auth, https:// in --listen-client-urls), used by Debian's etcdctl (--cacert/--cert/--key) and by
 * the etcd backend's TLS options, as against etcd. One member demands client certificates, one does not.
 */
const run = promisify(execFile);
const ETCDCTL = '/usr/bin/etcdctl';

let certs: TestCerts;
let mutual: ProcCluster;
let serverOnly: ProcCluster;

beforeAll(async () => {
  await buildEntry();
  certs = await makeTestCerts();
  mutual = await ProcCluster.create(['mtls']);
  serverOnly = await ProcCluster.create(['tls']);
  mutual.members[0]!.clientTls = { caFile: certs.caFile, certFile: certs.certFile, keyFile: certs.keyFile, clientCertAuth: true };
  serverOnly.members[0]!.clientTls = { caFile: certs.caFile, certFile: certs.certFile, keyFile: certs.keyFile, clientCertAuth: false };
  for (const c of [mutual, serverOnly]) {
    c.members[0]!.start();
    await c.leader(c.members, 60_000);
  }
}, 300_000);

afterAll(async () => {
  await mutual?.close();
  await serverOnly?.close();
  await certs?.remove();
});

async function etcdctl(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(ETCDCTL, ['--dial-timeout=3s', '--command-timeout=10s', ...args], { env: { ...process.env, ETCDCTL_API: '3' }, timeout: 30_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('skiff store: client TLS', () => {
  it('serves etcdctl over https with a client certificate, and refuses it without one or over plain http', async () => {
    const m = mutual.members[0]!;
    const tlsArgs = [`--endpoints=https://${m.endpoint}`, `--cacert=${certs.caFile}`, `--cert=${certs.clientCertFile}`, `--key=${certs.clientKeyFile}`];
    expect((await etcdctl([...tlsArgs, 'put', '/tls/a', 'secret'])).stdout).toBe('OK\n');
    expect((await etcdctl([...tlsArgs, 'get', '/tls/a', '--print-value-only'])).stdout).toBe('secret\n');
    // The member list advertises the https:// client URL.
    expect((await etcdctl([...tlsArgs, 'member', 'list'])).stdout).toContain(`https://${m.endpoint}`);

    const noCert = await etcdctl([`--endpoints=https://${m.endpoint}`, `--cacert=${certs.caFile}`, 'get', '/tls/a']);
    expect(noCert.code).not.toBe(0);
    expect(noCert.stdout).toBe('');
    const plain = await etcdctl([`--endpoints=http://${m.endpoint}`, 'get', '/tls/a']);
    expect(plain.code).not.toBe(0);
    expect(plain.stdout).toBe('');
    // A server certificate not signed by the CA the client trusts: refused by the client.
    const untrusted = await etcdctl([`--endpoints=https://${m.endpoint}`, `--cert=${certs.clientCertFile}`, `--key=${certs.clientKeyFile}`, 'get', '/tls/a']);
    expect(untrusted.code).not.toBe(0);
  }, 120_000);

  it('without --client-cert-auth, any client that trusts the CA is served', async () => {
    const m = serverOnly.members[0]!;
    expect((await etcdctl([`--endpoints=https://${m.endpoint}`, `--cacert=${certs.caFile}`, 'put', '/tls/b', 'open'])).stdout).toBe('OK\n');
    expect((await etcdctl([`--endpoints=https://${m.endpoint}`, `--cacert=${certs.caFile}`, 'get', '/tls/b', '--print-value-only'])).stdout).toBe('open\n');
  }, 60_000);

  it('serves the etcd backend with its TLS options, and refuses it without a client certificate', async () => {
    const m = mutual.members[0]!;
    const store = createEtcdStore({
      endpoints: [m.clientUrl],
      tls: { caFile: certs.caFile, certFile: certs.clientCertFile, keyFile: certs.clientKeyFile },
    });
    try {
      const p = uniquePrefix();
      const c = new WatchCollector();
      const w = await store.watch({ key: p, prefix: true }, c.listener);
      const put = await store.put(`${p}a`, 'secret');
      await c.untilRevision(put.header.revision);
      expect((await store.range({ key: `${p}a` })).kvs[0]?.value).toBe('secret');
      const lease = await store.leaseGrant(30);
      expect(await store.leaseKeepAlive(lease.id)).toBe(30);
      await store.leaseRevoke(lease.id);
      await w.cancel();
    } finally {
      await store.close();
    }
    const anonymous = createEtcdStore({ endpoints: [m.clientUrl], tls: { caFile: certs.caFile }, requestTimeoutMs: 3_000 });
    try {
      await expect(anonymous.range({ key: 'a' })).rejects.toThrow();
    } finally {
      await anonymous.close();
    }
  }, 120_000);
});
