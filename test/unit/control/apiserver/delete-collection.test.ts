import { afterEach, describe, expect, it } from 'vitest';
import { startTestApiServer, type TestApiServer } from '../../../helpers/api-server.js';

interface Listed {
  kind: string;
  apiVersion: string;
  metadata: { resourceVersion?: string };
  items: { kind: string; apiVersion: string; metadata: { name: string; deletionTimestamp?: string; deletionGracePeriodSeconds?: number } }[];
}

describe('DELETE of a collection (deletecollection)', () => {
  let api: TestApiServer | undefined;
  afterEach(async () => {
    await api?.close();
    api = undefined;
  });
  const post = async (url: string, body: unknown): Promise<void> => {
    const res = await fetch(url, { method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });
    expect(res.status, await res.text()).toBe(201);
  };

  it('deletes what the selector picks and answers the list of what it deleted, as it was', async () => {
    api = await startTestApiServer();
    const url = `${api.base}/api/v1/namespaces/default/configmaps`;
    for (const [name, tier] of [['a', 'web'], ['b', 'web'], ['c', 'db']] as const) await post(url, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels: { tier } } });
    const res = await fetch(`${url}?labelSelector=tier%3Dweb`, { method: 'DELETE' });
    expect(res.status).toBe(200);
    const answer = (await res.json()) as Listed;
    expect(answer.kind).toBe('ConfigMapList');
    expect(answer.apiVersion).toBe('v1');
    expect(answer.items.map((i) => [i.kind, i.apiVersion, i.metadata.name])).toEqual([
      ['ConfigMap', 'v1', 'a'],
      ['ConfigMap', 'v1', 'b'],
    ]);
    const left = (await (await fetch(url)).json()) as Listed;
    expect(left.items.map((i) => i.metadata.name)).toEqual(['c']);
  });

  it('applies the DeleteOptions of the body to every item', async () => {
    api = await startTestApiServer();
    const url = `${api.base}/api/v1/namespaces/default/pods`;
    for (const name of ['p1', 'p2']) await post(url, { apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'busybox' }] } });
    const res = await fetch(url, { method: 'DELETE', body: JSON.stringify({ kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 7 }), headers: { 'Content-Type': 'application/json' } });
    expect(res.status).toBe(200);
    // A pod bound to a node is deleted gracefully: it stays, marked, with the grace period asked for.
    const left = (await (await fetch(url)).json()) as Listed;
    expect(left.items.map((i) => [i.metadata.name, i.metadata.deletionGracePeriodSeconds])).toEqual([
      ['p1', 7],
      ['p2', 7],
    ]);
    const bad = await fetch(url, { method: 'DELETE', body: JSON.stringify({ propagationPolicy: 'Sometimes' }), headers: { 'Content-Type': 'application/json' } });
    expect(bad.status).toBe(400);
  });

  it('stops at the first item it may not delete, keeping the deletes before it, as upstream', async () => {
    api = await startTestApiServer({ namespaceLifecycle: true });
    const url = `${api.base}/api/v1/namespaces`;
    await post(url, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'aaa' } });
    await post(url, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'zzz' } });
    const res = await fetch(url, { method: 'DELETE' });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { kind: string; reason: string }).reason).toBe('Forbidden');
    const after = (await (await fetch(url)).json()) as Listed;
    const terminating = (name: string): boolean => after.items.find((i) => i.metadata.name === name)?.metadata.deletionTimestamp !== undefined;
    // Items go in name order: "aaa" before the immortal "default", "zzz" after it.
    expect(terminating('aaa')).toBe(true);
    expect(terminating('default')).toBe(false);
    expect(terminating('zzz')).toBe(false);
  });
});
