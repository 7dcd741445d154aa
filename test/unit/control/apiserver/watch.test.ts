import { afterEach, describe, expect, it, vi } from 'vitest';
import { startTestApiServer, type TestApiServer } from '../../../helpers/api-server.js';

interface Event {
  type: string;
  object: { metadata: { name?: string; resourceVersion?: string }; code?: number };
}

/** Reads newline-delimited watch events from a streaming response until `count` arrived. */
async function collect(url: string, count: number): Promise<Event[]> {
  const ac = new AbortController();
  const res = await fetch(url, { signal: ac.signal });
  const reader = res.body!.getReader();
  const events: Event[] = [];
  let buf = '';
  while (events.length < count) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += Buffer.from(value).toString('utf8');
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      events.push(JSON.parse(buf.slice(0, nl)) as Event);
      buf = buf.slice(nl + 1);
    }
  }
  ac.abort();
  return events;
}

describe('watch', () => {
  let api: TestApiServer | undefined;
  afterEach(async () => {
    await api?.close();
    api = undefined;
  });
  const start = async (): Promise<string> => (api = await startTestApiServer()).base;

  const cm = (name: string, data: Record<string, string> = {}) => JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data });

  it('streams ADDED, MODIFIED and DELETED in order to many watchers from one resourceVersion', async () => {
    const base = await start();
    const created = (await (await fetch(`${base}/api/v1/namespaces/default/configmaps`, { method: 'POST', body: cm('a'), headers: { 'Content-Type': 'application/json' } })).json()) as { metadata: { resourceVersion: string } };
    const rv = created.metadata.resourceVersion;
    const watchers = Array.from({ length: 20 }, () => collect(`${base}/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${rv}`, 3));
    await new Promise((r) => setTimeout(r, 100));
    await fetch(`${base}/api/v1/namespaces/default/configmaps/a`, { method: 'PUT', body: cm('a', { k: 'v' }), headers: { 'Content-Type': 'application/json' } });
    await fetch(`${base}/api/v1/namespaces/default/configmaps`, { method: 'POST', body: cm('b'), headers: { 'Content-Type': 'application/json' } });
    await fetch(`${base}/api/v1/namespaces/default/configmaps/a`, { method: 'DELETE' });
    for (const events of await Promise.all(watchers)) {
      expect(events.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(['MODIFIED a', 'ADDED b', 'DELETED a']);
      const rvs = events.map((e) => Number(e.object.metadata.resourceVersion));
      expect([...rvs].sort((x, y) => x - y)).toEqual(rvs);
      expect(rvs[0]).toBeGreaterThan(Number(rv));
    }
  });

  it('replays events after an older resourceVersion, and answers 410 Gone for a compacted one', async () => {
    const base = await start();
    const first = (await (await fetch(`${base}/api/v1/namespaces/default/configmaps`, { method: 'POST', body: cm('x'), headers: { 'Content-Type': 'application/json' } })).json()) as { metadata: { resourceVersion: string } };
    for (let i = 0; i < 3; i++) await fetch(`${base}/api/v1/namespaces/default/configmaps`, { method: 'POST', body: cm(`y${i}`), headers: { 'Content-Type': 'application/json' } });
    const replay = await collect(`${base}/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${first.metadata.resourceVersion}`, 3);
    expect(replay.map((e) => e.object.metadata.name)).toEqual(['y0', 'y1', 'y2']);
    const current = Number(replay[2]?.object.metadata.resourceVersion);
    await api!.store.compact(current);
    const expired = await collect(`${base}/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=1`, 1);
    expect(expired[0]?.type).toBe('ERROR');
    expect(expired[0]?.object.code).toBe(410);
  });

  it('watches only the namespace asked for, and starts with ADDED events for everything when no resourceVersion is given', async () => {
    const base = await start();
    await fetch(`${base}/api/v1/namespaces`, { method: 'POST', body: JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'other' } }), headers: { 'Content-Type': 'application/json' } });
    await fetch(`${base}/api/v1/namespaces/default/configmaps`, { method: 'POST', body: cm('here'), headers: { 'Content-Type': 'application/json' } });
    const w = collect(`${base}/api/v1/namespaces/default/configmaps?watch=true`, 2);
    await new Promise((r) => setTimeout(r, 100));
    await fetch(`${base}/api/v1/namespaces/other/configmaps`, { method: 'POST', body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'there' } }), headers: { 'Content-Type': 'application/json' } });
    await fetch(`${base}/api/v1/namespaces/default/configmaps`, { method: 'POST', body: cm('later'), headers: { 'Content-Type': 'application/json' } });
    expect((await w).map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(['ADDED here', 'ADDED later']);
  });

  it('turns an object entering or leaving a label selection into ADDED and DELETED, and tells updates apart from creations without one', async () => {
    const base = await start();
    const labelled = (name: string, labels: Record<string, string>, data: Record<string, string> = {}) => JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default', labels }, data });
    const created = (await (await fetch(`${base}/api/v1/namespaces/default/configmaps`, { method: 'POST', body: labelled('s', { tier: 'back' }), headers: { 'Content-Type': 'application/json' } })).json()) as { metadata: { resourceVersion: string } };
    const rv = created.metadata.resourceVersion;
    const selected = collect(`${base}/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${rv}&labelSelector=tier%3Dfront`, 3);
    const all = collect(`${base}/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${rv}`, 4);
    await new Promise((r) => setTimeout(r, 100));
    const put = (body: string) => fetch(`${base}/api/v1/namespaces/default/configmaps/s`, { method: 'PUT', body, headers: { 'Content-Type': 'application/json' } });
    await put(labelled('s', { tier: 'front' }));
    await put(labelled('s', { tier: 'front' }, { k: 'v' }));
    await put(labelled('s', { tier: 'back' }, { k: 'v' }));
    await fetch(`${base}/api/v1/namespaces/default/configmaps/s`, { method: 'DELETE' });
    expect((await selected).map((e) => e.type)).toEqual(['ADDED', 'MODIFIED', 'DELETED']);
    expect((await all).map((e) => e.type)).toEqual(['MODIFIED', 'MODIFIED', 'MODIFIED', 'DELETED']);
  });

  it('sends a watcher without a selector each object as GET reads it, without parsing what the store holds', async () => {
    const base = await start();
    const rv = ((await (await fetch(`${base}/api/v1/namespaces/default/configmaps`, { method: 'POST', body: cm('first'), headers: { 'Content-Type': 'application/json' } })).json()) as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
    const all = collect(`${base}/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${rv}`, 2);
    await new Promise((r) => setTimeout(r, 100));
    const parse = vi.spyOn(JSON, 'parse');
    try {
      await fetch(`${base}/api/v1/namespaces/default/configmaps`, { method: 'POST', body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'plain', namespace: 'default', labels: { a: 'b' } }, data: { k: 'v' } }), headers: { 'Content-Type': 'application/json' } });
      // Written past the registry, as an older writer might have: an empty member a client is never sent.
      const key = '/registry/configmaps/default/legacy';
      await api!.store.put(key, JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'legacy', namespace: 'default', uid: 'u-1', labels: {}, creationTimestamp: '2026-01-01T00:00:00Z' }, data: { x: 'y' } }));
      const events = await all;
      const stored = (await api!.store.range({ key: '/registry/configmaps/default/plain' })).kvs[0]!.value;
      expect(parse.mock.calls.filter(([text]) => text === stored)).toHaveLength(0);
      for (const e of events) {
        const got = (await (await fetch(`${base}/api/v1/namespaces/default/configmaps/${e.object.metadata.name}`)).json()) as Event;
        expect(e.type).toBe('ADDED');
        expect(e.object).toEqual(got);
      }
      expect(events[1]!.object.metadata).not.toHaveProperty('labels');
    } finally {
      parse.mockRestore();
    }
  });
});
