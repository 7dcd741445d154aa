import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PodResources } from '../../../../agent/cluster/pod-resources.js';
import type { PodTokenRequest, RequestToken } from '../../../../agent/cluster/token-manager.js';
import { KubeClient } from '../../../../control/client/index.js';
import type { Logger } from '../../../../lib/log.js';
import { c, makePod } from '../kuberuntime/fixtures.js';

const silent = { info() {}, warn() {}, error() {}, debug() {}, child: () => silent } as unknown as Logger;

describe('pod resources: service account tokens for projected volumes', () => {
  let dir: string;
  let resources: PodResources;
  const calls: Array<{ namespace: string; sa: string; spec: PodTokenRequest }> = [];
  let failWith: string | undefined;
  const request: RequestToken = async (namespace, sa, spec) => {
    calls.push({ namespace, sa, spec });
    if (failWith) throw new Error(failWith);
    return { token: `token-${calls.length}`, expiresAtMs: Date.now() + spec.expirationSeconds * 1000, expirationSeconds: spec.expirationSeconds };
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'skiff-tokens-'));
    calls.length = 0;
    failWith = undefined;
    // Nothing here talks to the server: the pods reference no ConfigMap or Secret and the tokens come from the fake.
    resources = new PodResources({ client: new KubeClient({ server: 'http://127.0.0.1:1' }), logger: silent, rootDir: dir, resync: () => {}, events: () => ({}) as never, syncTimeoutMs: 0, requestToken: request });
  });
  afterEach(async () => {
    resources.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const pod = (sources: unknown[]) =>
    makePod({ serviceAccountName: 'builder', containers: [c('app')], volumes: [{ name: 'p', projected: { sources } }] }, { namespace: 'ci', annotations: { 'kubernetes.io/config.source': 'api' } });

  it('requests each projection\'s token bound to the pod, once, and hands it to the volume', async () => {
    const p = pod([{ serviceAccountToken: { path: 'token', expirationSeconds: 3607 } }, { serviceAccountToken: { path: 'vault', audience: 'vault' } }]);
    await resources.preparePod(p);
    await resources.preparePod(p);
    expect(calls.map((x) => [x.namespace, x.sa, x.spec])).toEqual([
      ['ci', 'builder', { expirationSeconds: 3607, boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: 'web', uid: 'uid-1' } }],
      ['ci', 'builder', { audiences: ['vault'], expirationSeconds: 3600, boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: 'web', uid: 'uid-1' } }],
    ]);
    const objs = resources.volumeObjects(p);
    expect(objs?.serviceAccountToken?.(p, { expirationSeconds: 3607 })).toBe('token-1');
    expect(objs?.serviceAccountToken?.(p, { audience: 'vault', expirationSeconds: 3600 })).toBe('token-2');
    expect(resources.tokens.size).toBe(2);
    resources.podGone('uid-1');
    expect(resources.tokens.size).toBe(0);
    expect(() => objs?.serviceAccountToken?.(p, { expirationSeconds: 3607 })).toThrow('failed to fetch token: not requested yet');
  });

  it('reports a token that cannot be fetched as the mount error', async () => {
    failWith = 'serviceaccounts "builder" not found';
    const p = pod([{ serviceAccountToken: { path: 'token' } }]);
    await resources.preparePod(p);
    expect(() => resources.volumeObjects(p)?.serviceAccountToken?.(p, { expirationSeconds: 3600 })).toThrow('failed to fetch token: serviceaccounts "builder" not found');
  });
});
