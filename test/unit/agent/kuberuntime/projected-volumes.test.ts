import { mkdtemp, readFile, readlink, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { downwardPayload, podTokenProjections, projectedPayload, VolumeError, type ProjectedFile, type VolumeObjects } from '../../../../agent/kuberuntime/volume-payload.js';
import { preparePodVolumes, refreshPodVolumes } from '../../../../agent/kuberuntime/volumes.js';
import type { Pod, Volume } from '../../../../control/api/index.js';
import { c, makePod } from './fixtures.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');
const NODE = { cpu: '4', memory: '8Gi', 'ephemeral-storage': '100Gi' };
const text = (files: ProjectedFile[]): Array<[string, string, string]> => files.map((f) => [f.path, f.content.toString('utf8'), f.mode.toString(8)]);

/** The kube-api-access volume the ServiceAccount admission plugin adds. */
const kubeApiAccess = { name: 'kube-api-access-x7k2p', projected: { defaultMode: 420, sources: [
  { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
  { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
  { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
] } };

function objects(o: { cms?: Record<string, { data?: Record<string, string> }>; secrets?: Record<string, { data?: Record<string, string> }>; tokens?: string[] } = {}): VolumeObjects & { asked: Array<{ audience?: string; expirationSeconds: number }> } {
  const asked: Array<{ audience?: string; expirationSeconds: number }> = [];
  return {
    asked,
    configMap: (_ns, name) => o.cms?.[name],
    secret: (_ns, name) => o.secrets?.[name],
    serviceAccountToken: (_pod, p) => {
      asked.push(p);
      const t = o.tokens?.shift();
      if (!t) throw new Error('failed to fetch token: serviceaccounts "default" not found');
      return t;
    },
    nodeAllocatable: () => NODE,
  };
}

const volOf = (pod: Pod, name: string): Volume => (pod.spec.volumes ?? []).find((v) => v.name === name) as Volume;

describe('projected volumes (upstream projected plugin collectData)', () => {
  it('builds the kube-api-access payload: token, ca.crt and namespace, mode 0644', () => {
    const pod = makePod({ containers: [c('app')], volumes: [kubeApiAccess] }, { namespace: 'team' });
    const objs = objects({ cms: { 'kube-root-ca.crt': { data: { 'ca.crt': 'PEM' } } }, tokens: ['jwt'] });
    expect(text(projectedPayload(volOf(pod, 'kube-api-access-x7k2p'), pod, objs, () => NODE))).toEqual([
      ['token', 'jwt', '644'],
      ['ca.crt', 'PEM', '644'],
      ['namespace', 'team', '644'],
    ]);
    expect(objs.asked).toEqual([{ expirationSeconds: 3607 }]);
    expect(podTokenProjections(pod)).toEqual([{ expirationSeconds: 3607 }]);
  });

  it('applies defaultMode and item modes, optional sources, audience and the default token lifetime', () => {
    const pod = makePod({ containers: [c('app')], volumes: [{ name: 'p', projected: { defaultMode: 0o440, sources: [
      { secret: { name: 's', items: [{ key: 'pw', path: 'creds/pw', mode: 0o400 }] } },
      { configMap: { name: 'cm' } },
      { configMap: { name: 'missing', optional: true } },
      { secret: { name: 's', optional: true, items: [{ key: 'nokey', path: 'x' }] } },
      { serviceAccountToken: { audience: 'vault', path: 'vault-token' } },
    ] } }] });
    const objs = objects({ cms: { cm: { data: { a: 'A' } } }, secrets: { s: { data: { pw: b64('hunter2') } } }, tokens: ['vt'] });
    expect(text(projectedPayload(volOf(pod, 'p'), pod, objs, () => NODE))).toEqual([
      ['creds/pw', 'hunter2', '400'],
      ['a', 'A', '440'],
      ['vault-token', 'vt', '440'],
    ]);
    expect(objs.asked).toEqual([{ audience: 'vault', expirationSeconds: 3600 }]);
  });

  it('lets a later source replace an earlier file at the same path', () => {
    const pod = makePod({ containers: [c('app')], volumes: [{ name: 'p', projected: { sources: [{ configMap: { name: 'a' } }, { configMap: { name: 'b' } }] } }] });
    const objs = objects({ cms: { a: { data: { k: 'from-a', only: 'a' } }, b: { data: { k: 'from-b' } } } });
    expect(text(projectedPayload(volOf(pod, 'p'), pod, objs, () => NODE))).toEqual([
      ['k', 'from-b', '644'],
      ['only', 'a', '644'],
    ]);
  });

  it('reports every failing source together, as upstream aggregates them', () => {
    const pod = makePod({ containers: [c('app')], volumes: [kubeApiAccess] });
    expect(() => projectedPayload(volOf(pod, 'kube-api-access-x7k2p'), pod, objects(), () => NODE)).toThrow(
      'MountVolume.SetUp failed for volume "kube-api-access-x7k2p" : [failed to fetch token: serviceaccounts "default" not found, configmap "kube-root-ca.crt" not found]',
    );
    const short = makePod({ containers: [c('app')], volumes: [{ name: 'p', projected: { sources: [{ serviceAccountToken: { path: 't', expirationSeconds: 599 } }] } }] });
    expect(() => projectedPayload(volOf(short, 'p'), short, objects({ tokens: ['x'] }), () => NODE)).toThrow(/may not specify a duration less than 10 minutes/);
    expect(podTokenProjections(short)).toEqual([]);
  });

  it('refuses API sources for static pods but projects the downward API for them', () => {
    const pod = makePod({ containers: [c('app')], volumes: [kubeApiAccess, { name: 'd', projected: { sources: [{ downwardAPI: { items: [{ path: 'name', fieldRef: { fieldPath: 'metadata.name' } }] } }] } }] });
    expect(() => projectedPayload(volOf(pod, 'kube-api-access-x7k2p'), pod, undefined, () => NODE)).toThrow(VolumeError);
    expect(text(projectedPayload(volOf(pod, 'd'), pod, undefined, () => NODE))).toEqual([['name', 'web', '644']]);
  });

  it('refuses malformed sources with the pod\'s error instead of crashing', () => {
    const pod = makePod({ containers: [c('app')], volumes: [{ name: 'p', projected: { sources: [{ configMap: { name: 7 } }] } }] });
    expect(() => projectedPayload(volOf(pod, 'p'), pod, objects(), () => NODE)).toThrow(/volume "p": invalid projected sources: 0\.configMap\.name/);
  });
});

describe('downwardAPI files (upstream CollectData)', () => {
  const items = [
    { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } },
    { path: 'tier', fieldRef: { fieldPath: "metadata.labels['tier']" } },
    { path: 'cpu_limit', resourceFieldRef: { containerName: 'app', resource: 'limits.cpu', divisor: '1m' } },
    { path: 'mem_request', resourceFieldRef: { containerName: 'app', resource: 'requests.memory', divisor: '1Mi' } },
    { path: 'mem_limit', resourceFieldRef: { containerName: 'app', resource: 'limits.memory', divisor: '1Gi' } },
    { path: 'other_cpu', resourceFieldRef: { containerName: 'side', resource: 'limits.cpu' } },
  ];

  it('formats labels sorted and quoted, divides resources rounding up, and reads the node allocatable for a missing limit', () => {
    const pod = makePod(
      {
        containers: [c('app', { resources: { limits: { cpu: '250m' }, requests: { memory: '100Mi' } } }), c('side')],
        volumes: [{ name: 'info', downwardAPI: { items } }],
      },
      { labels: { tier: 'web', app: 'shop' } },
    );
    expect(text(downwardPayload(volOf(pod, 'info'), pod, () => NODE))).toEqual([
      ['labels', 'app="shop"\ntier="web"', '644'],
      ['tier', 'web', '644'],
      ['cpu_limit', '250', '644'],
      ['mem_request', '100', '644'],
      ['mem_limit', '8', '644'],
      ['other_cpu', '4', '644'],
    ]);
  });

  it('reports a container that does not exist', () => {
    const pod = makePod({ containers: [c('app')], volumes: [{ name: 'info', downwardAPI: { items: [{ path: 'x', resourceFieldRef: { containerName: 'ghost', resource: 'limits.cpu' } }] } }] });
    expect(() => downwardPayload(volOf(pod, 'info'), pod, () => NODE)).toThrow('MountVolume.SetUp failed for volume "info" : container ghost not found');
  });

  it('reports a divisor that is no quantity as the pod\'s mount error', () => {
    const pod = makePod({ containers: [c('app')], volumes: [{ name: 'info', downwardAPI: { items: [{ path: 'x', resourceFieldRef: { containerName: 'app', resource: 'limits.memory', divisor: 'lots' } }] } }] });
    expect(() => downwardPayload(volOf(pod, 'info'), pod, () => NODE)).toThrow(VolumeError);
    expect(() => downwardPayload(volOf(pod, 'info'), pod, () => NODE)).toThrow(/^MountVolume\.SetUp failed for volume "info" : x: /);
  });
});

describe('object-backed volumes on disk', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'skiff-projected-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes a projected volume through ..data and rewrites it when the ConfigMap or the token changes', async () => {
    const pod = makePod({ containers: [c('app')], volumes: [kubeApiAccess] });
    const cms = { 'kube-root-ca.crt': { data: { 'ca.crt': 'PEM-1' } } };
    const tokens = ['jwt-1', 'jwt-1', 'jwt-1', 'jwt-2'];
    const objs = objects({ cms, tokens });
    const mounts = await preparePodVolumes(dir, pod, objs);
    const vol = (mounts.volumes.get('kube-api-access-x7k2p') as { hostPath: string }).hostPath;
    expect(vol).toBe(join(dir, 'pods', 'uid-1', 'volumes', 'kubernetes.io~projected', 'kube-api-access-x7k2p'));
    expect(await readlink(join(vol, 'token'))).toBe('..data/token');
    expect(await readFile(join(vol, 'token'), 'utf8')).toBe('jwt-1');
    expect(await readFile(join(vol, 'namespace'), 'utf8')).toBe('default');
    expect((await stat(join(vol, 'ca.crt'))).mode & 0o777).toBe(0o644);
    expect(await refreshPodVolumes(dir, pod, objs)).toEqual([]);
    cms['kube-root-ca.crt'] = { data: { 'ca.crt': 'PEM-2' } };
    expect(await refreshPodVolumes(dir, pod, objs)).toEqual(['kube-api-access-x7k2p']);
    expect(await readFile(join(vol, 'ca.crt'), 'utf8')).toBe('PEM-2');
    expect(await refreshPodVolumes(dir, pod, objs)).toEqual(['kube-api-access-x7k2p']);
    expect(await readFile(join(vol, 'token'), 'utf8')).toBe('jwt-2');
    // A token that cannot be fetched leaves the files as they were.
    expect(await refreshPodVolumes(dir, pod, objs)).toEqual([]);
    expect(await readFile(join(vol, 'token'), 'utf8')).toBe('jwt-2');
  });

  it('rewrites a downwardAPI volume when the pod\'s labels change', async () => {
    const spec = { containers: [c('app')], volumes: [{ name: 'info', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] } }] };
    const pod = makePod(spec, { labels: { a: '1' } });
    const mounts = await preparePodVolumes(dir, pod, objects());
    const vol = (mounts.volumes.get('info') as { hostPath: string }).hostPath;
    expect(vol).toContain('kubernetes.io~downward-api');
    expect(await readFile(join(vol, 'labels'), 'utf8')).toBe('a="1"');
    expect(await refreshPodVolumes(dir, makePod(spec, { labels: { a: '1', b: '2' } }), objects())).toEqual(['info']);
    expect(await readFile(join(vol, 'labels'), 'utf8')).toBe('a="1"\nb="2"');
  });

  it('gives an fsGroup the volume files and directories, group-readable (mode 0400 becomes 0440), and keeps them so', async () => {
    const spec = {
      securityContext: { fsGroup: 2345 },
      containers: [c('app')],
      volumes: [{ name: 'info', downwardAPI: { defaultMode: 0o400, items: [{ path: 'meta/labels', fieldRef: { fieldPath: 'metadata.labels' } }] } }],
    };
    const pod = makePod(spec, { labels: { a: '1' } });
    const vol = ((await preparePodVolumes(dir, pod, objects())).volumes.get('info') as { hostPath: string }).hostPath;
    const file = await stat(join(vol, 'meta', 'labels'));
    expect([file.gid, file.mode & 0o7777]).toEqual([2345, 0o440]);
    for (const d of [vol, join(vol, '..data'), join(vol, '..data', 'meta')]) {
      const st = await stat(d);
      expect([d, st.gid, st.mode & 0o2770]).toEqual([d, 2345, 0o2750]);
    }
    // Unchanged content with the mode it now has is not rewritten; without an fsGroup the mode stays as asked.
    expect(await refreshPodVolumes(dir, pod, objects())).toEqual([]);
    const plain = makePod({ ...spec, securityContext: {} }, { labels: { a: '1' }, uid: 'uid-2' });
    const plainVol = ((await preparePodVolumes(dir, plain, objects())).volumes.get('info') as { hostPath: string }).hostPath;
    expect((await stat(join(plainVol, 'meta', 'labels'))).mode & 0o7777).toBe(0o400);
  });
});
