import { afterEach, describe, expect, it } from 'vitest';
import { startTestApiServer, type TestApiServer } from '../../../helpers/api-server.js';

type Obj = Record<string, unknown> & { apiVersion?: string; metadata: { name: string; resourceVersion?: string } };

/** Kinds served in two versions read the same stored objects in either, converted (control/apiserver/conversion.ts). */
describe('objects served in two versions', () => {
  let api: TestApiServer | undefined;
  afterEach(async () => {
    await api?.close();
    api = undefined;
  });

  type Call = (method: string, path: string, body?: unknown) => Promise<{ status: number; body: Obj & { items?: Obj[] } }>;

  async function start(): Promise<{ call: Call; base: string }> {
    api = await startTestApiServer();
    const base = api.base;
    const call: Call = async (method, path, body) => {
      const res = await fetch(`${base}${path}`, { method, ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } } : {}) });
      return { status: res.status, body: (await res.json()) as Obj & { items?: Obj[] } };
    };
    return { call, base };
  }

  /** The first event of a watch. */
  async function firstEvent(url: string): Promise<{ type: string; object: Obj }> {
    const ac = new AbortController();
    const reader = (await fetch(url, { signal: ac.signal })).body!.getReader();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error('watch ended');
      buf += Buffer.from(value).toString('utf8');
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        ac.abort();
        return JSON.parse(buf.slice(0, nl)) as { type: string; object: Obj };
      }
    }
  }

  const CORE = '/api/v1/namespaces/default/events';
  const EVENTS = '/apis/events.k8s.io/v1/namespaces/default/events';
  const regarding = { kind: 'Pod', namespace: 'default', name: 'web-1', uid: 'u-1' };

  it('reads an event written through events.k8s.io/v1 through core/v1 with core/v1 names, in GET, LIST and a field selector', async () => {
    const { call } = await start();
    const created = await call('POST', EVENTS, {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name: 'web-1.1', namespace: 'default' },
      eventTime: '2026-12-01T10:00:00.000000Z',
      reportingController: 'default-scheduler',
      reportingInstance: 'default-scheduler-node-a',
      action: 'Scheduling',
      reason: 'FailedScheduling',
      regarding,
      note: '0/3 nodes are available',
      type: 'Warning',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ apiVersion: 'events.k8s.io/v1', regarding, note: '0/3 nodes are available', reportingController: 'default-scheduler' });
    const core = await call('GET', `${CORE}/web-1.1`);
    expect(core.body).toMatchObject({ apiVersion: 'v1', kind: 'Event', involvedObject: regarding, message: '0/3 nodes are available', reportingComponent: 'default-scheduler', reportingInstance: 'default-scheduler-node-a', reason: 'FailedScheduling', action: 'Scheduling', type: 'Warning' });
    for (const gone of ['regarding', 'note', 'reportingController']) expect(core.body).not.toHaveProperty(gone);
    const listed = await call('GET', `${CORE}?fieldSelector=involvedObject.name%3Dweb-1`);
    expect(listed.body.items).toEqual([core.body]);
    // A series update through events.k8s.io/v1 reads back the same way.
    const series = { count: 2, lastObservedTime: '2026-12-01T10:05:00.000000Z' };
    const updated = await call('PUT', `${EVENTS}/web-1.1`, { ...created.body, series });
    expect(updated.status).toBe(200);
    expect((await call('GET', `${CORE}/web-1.1`)).body).toMatchObject({ series, message: '0/3 nodes are available' });
  });

  it('reads a core/v1 event through events.k8s.io/v1 with its names, and a watch from either version sends its own form', async () => {
    const { call, base } = await start();
    const rv = (await call('GET', CORE)).body.metadata.resourceVersion as string;
    const watchCore = firstEvent(`${base}${CORE}?watch=true&resourceVersion=${rv}`);
    const watchEvents = firstEvent(`${base}${EVENTS}?watch=true&resourceVersion=${rv}`);
    await new Promise((r) => setTimeout(r, 100));
    const created = await call('POST', CORE, {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: 'web-1.2', namespace: 'default' },
      involvedObject: regarding,
      reason: 'Started',
      message: 'Started container web',
      source: { component: 'kubelet', host: 'node-a' },
      firstTimestamp: '2026-12-01T10:00:00Z',
      lastTimestamp: '2026-12-01T10:01:00Z',
      count: 3,
      type: 'Normal',
    });
    expect(created.status).toBe(201);
    const v1 = await call('GET', `${EVENTS}/web-1.2`);
    expect(v1.body).toMatchObject({
      apiVersion: 'events.k8s.io/v1',
      regarding,
      note: 'Started container web',
      deprecatedSource: { component: 'kubelet', host: 'node-a' },
      deprecatedFirstTimestamp: '2026-12-01T10:00:00Z',
      deprecatedLastTimestamp: '2026-12-01T10:01:00Z',
      deprecatedCount: 3,
    });
    for (const gone of ['involvedObject', 'message', 'source', 'count']) expect(v1.body).not.toHaveProperty(gone);
    expect((await call('GET', `${EVENTS}?fieldSelector=regarding.name%3Dweb-1`)).body.items).toEqual([v1.body]);
    expect((await call('GET', EVENTS)).body.items?.map((i) => i.apiVersion)).toEqual(['events.k8s.io/v1']);
    expect(await watchEvents).toEqual({ type: 'ADDED', object: v1.body });
    expect(await watchCore).toEqual({ type: 'ADDED', object: (await call('GET', `${CORE}/web-1.2`)).body });
  });

  it('lists HorizontalPodAutoscalers through autoscaling/v1 as v1 objects (they are stored as v2)', async () => {
    const { call } = await start();
    const path = '/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers';
    const created = await call('POST', path, { apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: { name: 'web' }, spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, maxReplicas: 3, targetCPUUtilizationPercentage: 60 } });
    expect(created.status).toBe(201);
    const listed = await call('GET', path);
    expect(listed.body.items).toEqual([(await call('GET', `${path}/web`)).body]);
    expect(listed.body.items?.[0]).toMatchObject({ apiVersion: 'autoscaling/v1', spec: { targetCPUUtilizationPercentage: 60 } });
    const v2 = await call('GET', '/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers');
    expect(v2.body.items?.[0]).toMatchObject({ apiVersion: 'autoscaling/v2', spec: { metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } } }] } });
  });
});
