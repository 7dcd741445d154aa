import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestCerts, type TestCerts } from '../store/tls-certs.js';
import { Member, ProcCluster, buildEntry, freePort, poll } from './harness.js';

/**
 * Peer TLS: three `skiff store` processes whose peer URLs are https:// (--peer-cert-file, --peer-key-file,
 * --peer-trusted-ca-file, peers presenting certificates the CA signed) replicate and fail over; a fourth member
 * added with etcdctl joins over TLS too (it fetches the member list from a peer URL).
 */
const run = promisify(execFile);

let certs: TestCerts;
let cluster: ProcCluster;

async function etcdctl(endpoint: string, args: readonly string[]): Promise<string> {
  const r = await run('/usr/bin/etcdctl', [`--endpoints=${endpoint}`, '--dial-timeout=5s', '--command-timeout=20s', ...args], {
    env: { ...process.env, ETCDCTL_API: '3' },
    timeout: 60_000,
  });
  return r.stdout;
}

beforeAll(async () => {
  await buildEntry();
  certs = await makeTestCerts();
  cluster = await ProcCluster.create(['p1', 'p2', 'p3'], 'https');
  for (const m of cluster.members) {
    m.peerTls = { caFile: certs.caFile, certFile: certs.certFile, keyFile: certs.keyFile };
    m.start();
  }
  await cluster.leader(cluster.members, 60_000);
}, 300_000);

afterAll(async () => {
  await cluster?.close();
  await certs?.remove();
});

describe('skiff store: peer TLS', () => {
  it('replicates over https peer URLs, and a member added with etcdctl joins over TLS', async () => {
    const [p1] = cluster.members;
    expect(await etcdctl(p1!.endpoint, ['put', '/peer-tls/a', '1'])).toBe('OK\n');
    for (const m of cluster.members) {
      await poll(async () => ((await etcdctl(m.endpoint, ['get', '/peer-tls/a', '--print-value-only', '--consistency=s'])) === '1\n' ? true : undefined), `${m.name} to replicate`);
    }
    const list = await etcdctl(p1!.endpoint, ['member', 'list']);
    for (const m of cluster.members) expect(list).toContain(`, started, ${m.name}, ${m.peerUrl},`);

    const peerPort = await freePort();
    const peerUrl = `https://127.0.0.1:${peerPort}`;
    const added = await etcdctl(p1!.endpoint, ['member', 'add', 'p4', `--peer-urls=${peerUrl}`]);
    const initialCluster = /^ETCD_INITIAL_CLUSTER="(.*)"$/m.exec(added)![1]!;
    const p4 = new Member('p4', peerPort, await freePort(), join(cluster.root, 'p4'), initialCluster, cluster.pids);
    p4.peerTls = { caFile: certs.caFile, certFile: certs.certFile, keyFile: certs.keyFile };
    cluster.members.push(p4);
    p4.start(['--initial-cluster-state', 'existing']);
    await poll(async () => ((await etcdctl(p4.endpoint, ['get', '/peer-tls/a', '--print-value-only', '--consistency=s'])) === '1\n' ? true : undefined), 'p4 to catch up', 60_000, 200);
    await poll(async () => ((await etcdctl(p1!.endpoint, ['member', 'list'])).includes(`, started, p4, ${peerUrl},`) ? true : undefined), 'p4 to start', 30_000, 200);

    // Fail over: the leader killed, the other three elect one and keep serving.
    const lead = await cluster.leader(cluster.members, 30_000);
    await lead.kill();
    const rest = cluster.members.filter((m) => m !== lead);
    const next = await cluster.leader(rest, 30_000);
    expect(await etcdctl(next.endpoint, ['put', '/peer-tls/b', '2'])).toBe('OK\n');
    for (const m of rest) {
      await poll(async () => ((await etcdctl(m.endpoint, ['get', '/peer-tls/b', '--print-value-only', '--consistency=s'])) === '2\n' ? true : undefined), `${m.name} to replicate after failover`);
    }
  }, 240_000);

  it('refuses a peer without a certificate the CA signed', async () => {
    const { request } = await import('node:https');
    const p1 = cluster.members.find((m) => m.proc?.exitCode === null)!;
    const status = await new Promise<number | string>((resolve) => {
      const req = request(new URL('/members', p1.peerUrl), { ca: [], rejectUnauthorized: false, timeout: 5000 }, (res) => resolve(res.statusCode ?? 0));
      req.on('error', (err) => resolve(err.message));
      req.end();
    });
    expect(status).not.toBe(200);
  }, 30_000);
});
