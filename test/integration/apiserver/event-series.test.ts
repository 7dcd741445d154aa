import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiServer } from '../../../control/apiserver/server.js';
import { KubeClient, type KubeObject } from '../../../control/client/index.js';
import { EventSeriesRecorder, SERIES_FINISH_MS, type SeriesEvent } from '../../../control/client/event-series.js';
import { MemoryStore } from '../../../control/store/index.js';
import { silentLogger } from '../../../lib/log.js';

const EVENTS_V1 = { group: 'events.k8s.io', version: 'v1', resource: 'events' };
const CORE_EVENTS = { group: '', version: 'v1', resource: 'events' };

describe('EventSeriesRecorder against the API server (client-go events series)', () => {
  let store: MemoryStore;
  let server: ApiServer;
  let client: KubeClient;
  let now: number;
  let recorder: EventSeriesRecorder;

  beforeEach(async () => {
    store = new MemoryStore();
    server = new ApiServer({ store, logger: silentLogger() });
    const port = await server.listen(0);
    client = new KubeClient({ server: `http://127.0.0.1:${port}` });
    now = Date.parse('2026-12-02T10:00:00.123Z');
    recorder = new EventSeriesRecorder({ client, reportingController: 'default-scheduler', reportingInstance: 'default-scheduler-host1', logger: silentLogger(), now: () => new Date(now) });
  });

  afterEach(async () => {
    recorder.stop();
    client.close();
    await server.close();
    await store.close();
  });

  const failed = (note: string, resourceVersion = '7'): SeriesEvent => ({
    regarding: { kind: 'Pod', apiVersion: 'v1', namespace: 'default', name: 'web', uid: 'u-1', resourceVersion },
    type: 'Warning',
    reason: 'FailedScheduling',
    action: 'Scheduling',
    note,
  });
  const list = async (): Promise<KubeObject[]> => (await client.list(EVENTS_V1, { namespace: 'default' })).items;

  it('creates the first occurrence, turns the first repeat into a series, and keeps later repeats in memory', async () => {
    await recorder.record(failed('0/1 nodes are available: 1 Insufficient cpu.'));
    let [ev] = await list();
    expect(ev).toMatchObject({
      apiVersion: 'events.k8s.io/v1',
      eventTime: '2026-12-02T10:00:00.123000Z',
      reportingController: 'default-scheduler',
      reportingInstance: 'default-scheduler-host1',
      action: 'Scheduling',
      reason: 'FailedScheduling',
      type: 'Warning',
      note: '0/1 nodes are available: 1 Insufficient cpu.',
      regarding: { kind: 'Pod', name: 'web', namespace: 'default', uid: 'u-1', resourceVersion: '7' },
    });
    expect(ev!.series).toBeUndefined();
    expect(ev!.metadata.name).toMatch(/^web\.[0-9a-f]+$/);

    // The note is not part of what makes two events the same.
    now += 60_000;
    await recorder.record(failed('0/2 nodes are available: 2 Insufficient cpu.'));
    [ev] = await list();
    expect(await list()).toHaveLength(1);
    expect(ev!.series).toEqual({ count: 2, lastObservedTime: '2026-12-02T10:01:00.123000Z' });
    const rv = ev!.metadata.resourceVersion;

    now += 60_000;
    await recorder.record(failed('x'));
    now += 60_000;
    await recorder.record(failed('x'));
    [ev] = await list();
    expect(ev!.metadata.resourceVersion).toBe(rv);

    await recorder.refreshSeries();
    [ev] = await list();
    expect(ev!.series).toEqual({ count: 4, lastObservedTime: '2026-12-02T10:03:00.123000Z' });

    // Read through core/v1, as kubectl describe and kubectl get events do.
    const [core] = (await client.list(CORE_EVENTS, { namespace: 'default' })).items;
    expect(core).toMatchObject({ involvedObject: { name: 'web' }, message: '0/1 nodes are available: 1 Insufficient cpu.', reportingComponent: 'default-scheduler', series: { count: 4 } });
  });

  it('finishes a series idle for 6 minutes with its final count, and the next occurrence starts a new event', async () => {
    await recorder.record(failed('a'));
    now += 1000;
    await recorder.record(failed('a'));
    now += 1000;
    await recorder.record(failed('a'));
    expect(recorder.size).toBe(1);
    now += SERIES_FINISH_MS - 1000;
    await recorder.finishSeries();
    expect(recorder.size).toBe(1);
    now += 2000;
    await recorder.finishSeries();
    expect(recorder.size).toBe(0);
    expect((await list()).map((e) => (e.series as { count: number }).count)).toEqual([3]);
    await recorder.record(failed('a'));
    const events = await list();
    expect(events).toHaveLength(2);
    expect(events.filter((e) => e.series === undefined)).toHaveLength(1);
  });

  it('forgets singletons after 6 minutes without writing them again', async () => {
    await recorder.record(failed('a'));
    const rv = (await list())[0]!.metadata.resourceVersion;
    now += SERIES_FINISH_MS + 1;
    await recorder.finishSeries();
    expect(recorder.size).toBe(0);
    expect((await list())[0]!.metadata.resourceVersion).toBe(rv);
  });

  it('tells apart the same pod at another resourceVersion, as upstream references do', async () => {
    await recorder.record(failed('a', '7'));
    await recorder.record(failed('a', '8'));
    expect(await list()).toHaveLength(2);
  });

  it('creates a series again when its event was deleted (expired) meanwhile', async () => {
    await recorder.record(failed('a'));
    const [ev] = await list();
    await client.delete(EVENTS_V1, 'default', ev!.metadata.name!);
    await recorder.record(failed('a'));
    const events = await list();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ metadata: { name: ev!.metadata.name }, series: { count: 2 }, note: 'a' });
  });

  it('cuts a note over 1 KiB as upstream scheduler does, so that the server accepts it', async () => {
    await recorder.record(failed('é'.repeat(700)));
    const [ev] = await list();
    const note = ev!.note as string;
    expect(note.endsWith(' ...')).toBe(true);
    expect(Buffer.byteLength(note)).toBeLessThanOrEqual(1024);
    expect(note).not.toContain('\uFFFD');
  });
});
