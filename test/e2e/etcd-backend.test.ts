import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEtcd, type EtcdProcess } from '../integration/store/etcd-process.js';
import { ControlPlane } from './control-harness.js';

/** The same API server on Debian's etcd 3.4 instead of the embedded store (`--etcd-servers`). */
describe('skiff control on a real etcd', () => {
  let etcd: EtcdProcess | undefined;
  const cp = new ControlPlane();
  beforeAll(async () => {
    etcd = await startEtcd();
    await cp.start(['--etcd-servers', etcd.endpoints.join(',')]);
  });
  afterAll(async () => {
    await cp.stop();
    await etcd?.stop();
  });

  it('stores what kubectl creates in etcd, under /registry, and serves it back', () => {
    cp.k(['create', 'namespace', 'on-etcd']);
    cp.k(['create', 'configmap', 'cfg', '-n', 'on-etcd', '--from-literal=a=b']);
    expect(cp.k(['get', 'configmap', 'cfg', '-n', 'on-etcd', '-o', 'jsonpath={.data.a}'])).toBe('b');
    expect(cp.logs()).toMatch(/using etcd/);
    const keys = spawnSync('etcdctl', ['--endpoints', etcd!.endpoints.join(','), 'get', '/registry/configmaps/on-etcd/', '--prefix', '--keys-only'], { encoding: 'utf8', env: { ...process.env, ETCDCTL_API: '3' } });
    // The namespace's kube-root-ca.crt (published by the controller manager) may be there too.
    expect(keys.stdout.trim().split('\n').filter((k) => k && !k.endsWith('/kube-root-ca.crt'))).toEqual(['/registry/configmaps/on-etcd/cfg']);
  });

  it('reports etcd in kubectl get componentstatuses, from its /health endpoint', () => {
    const cs = cp.kubectl(['get', 'componentstatuses']);
    expect(cs.code).toBe(0);
    expect(cs.stderr).toBe('Warning: v1 ComponentStatus is deprecated in v1.19+\n');
    const rows = cs.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/));
    expect(rows[0]).toEqual(['NAME', 'STATUS', 'MESSAGE', 'ERROR']);
    expect(rows.slice(1)).toEqual([
      ['scheduler', 'Healthy', 'ok'],
      ['controller-manager', 'Healthy', 'ok'],
      ...etcd!.endpoints.map((_, i) => [`etcd-${i}`, 'Healthy', 'ok']),
    ]);
  });

  it('keeps the data when the control plane restarts, since etcd holds it', async () => {
    const uid = cp.k(['get', 'configmap', 'cfg', '-n', 'on-etcd', '-o', 'jsonpath={.metadata.uid}']);
    await cp.kill('SIGKILL');
    // The spelling this time, --storage etcd with the servers: the object is found only if etcd is read.
    await cp.start(['--storage', 'etcd', '--etcd-servers', etcd!.endpoints.join(',')]);
    expect(cp.k(['get', 'configmap', 'cfg', '-n', 'on-etcd', '-o', 'jsonpath={.metadata.uid}'])).toBe(uid);
  });
});
