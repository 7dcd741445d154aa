import { describe, expect, it } from 'vitest';
import { ApiEventSink } from '../../../../agent/cluster/event-sink.js';
import { MemoryEventRecorder } from '../../../../agent/events.js';
import { ApiStatusError, type KubeClient, type KubeObject } from '../../../../control/client/index.js';
import type { Pod } from '../../../../control/api/index.js';
import { silentLogger } from '../../../../lib/log.js';

/** Records the writes; `failPatch` / `failCreate` make the next ones fail as the API server would. */
class FakeClient {
  calls: Array<{ op: 'create' | 'patch'; namespace: string | undefined; name: string; body: Record<string, unknown> }> = [];
  failPatch = 0;
  failCreate = 0;
  async create(_ref: unknown, namespace: string | undefined, body: KubeObject): Promise<KubeObject> {
    await Promise.resolve();
    if (this.failCreate > 0) {
      this.failCreate--;
      throw new Error('connection refused');
    }
    this.calls.push({ op: 'create', namespace, name: body.metadata?.name ?? '', body: body as Record<string, unknown> });
    return body;
  }
  async patch(_ref: unknown, namespace: string | undefined, name: string, body: Record<string, unknown>): Promise<KubeObject> {
    await Promise.resolve();
    if (this.failPatch > 0) {
      this.failPatch--;
      throw new ApiStatusError(404, 'NotFound', `events "${name}" not found`);
    }
    this.calls.push({ op: 'patch', namespace, name, body });
    return { metadata: { name } };
  }
}

const pod = { metadata: { name: 'web', namespace: 'shop', uid: 'uid-1' }, spec: { containers: [] } } as unknown as Pod;

function setup(): { client: FakeClient; recorder: MemoryEventRecorder; sink: ApiEventSink; tick: (s: number) => void } {
  let now = Date.parse('2026-11-30T10:00:00.250Z');
  const client = new FakeClient();
  const recorder = new MemoryEventRecorder('node-a', silentLogger(), () => new Date(now));
  const sink = new ApiEventSink(client as unknown as KubeClient, 'node-a', silentLogger());
  recorder.onEvent((e) => sink.post(e));
  return { client, recorder, sink, tick: (s) => (now += s * 1000) };
}

describe('ApiEventSink (the agent posts its events to the API server)', () => {
  it('creates a core/v1 Event in the pod namespace, named <pod>.<hex>, from the kubelet on this node', async () => {
    const { client, recorder, sink } = setup();
    recorder.event(pod, 'Normal', 'Pulled', 'Container image "skiff/web:1.0" already present on machine', 'spec.containers{web}');
    await sink.flush();
    expect(client.calls).toHaveLength(1);
    const [call] = client.calls;
    expect(call?.op).toBe('create');
    expect(call?.namespace).toBe('shop');
    expect(call?.name).toMatch(/^web\.[0-9a-f]+$/);
    expect(call?.body).toMatchObject({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: call?.name, namespace: 'shop' },
      involvedObject: { apiVersion: 'v1', kind: 'Pod', namespace: 'shop', name: 'web', uid: 'uid-1', fieldPath: 'spec.containers{web}' },
      reason: 'Pulled',
      message: 'Container image "skiff/web:1.0" already present on machine',
      type: 'Normal',
      source: { component: 'kubelet', host: 'node-a' },
      reportingComponent: 'kubelet',
      reportingInstance: 'node-a',
      firstTimestamp: '2026-11-30T10:00:00Z',
      lastTimestamp: '2026-11-30T10:00:00Z',
      count: 1,
    });
  });

  it('turns a repeat into a patch of the same Event: count and lastTimestamp', async () => {
    const { client, recorder, sink, tick } = setup();
    recorder.event(pod, 'Warning', 'BackOff', 'Back-off restarting failed container web', 'spec.containers{web}');
    tick(10);
    recorder.event(pod, 'Warning', 'BackOff', 'Back-off restarting failed container web', 'spec.containers{web}');
    tick(20);
    recorder.event(pod, 'Warning', 'BackOff', 'Back-off restarting failed container web', 'spec.containers{web}');
    await sink.flush();
    const name = client.calls[0]?.name;
    expect(client.calls.map((c) => [c.op, c.name])).toEqual([
      ['create', name],
      ['patch', name],
      ['patch', name],
    ]);
    expect(client.calls[1]?.body).toEqual({ count: 2, lastTimestamp: '2026-11-30T10:00:10Z' });
    expect(client.calls[2]?.body).toEqual({ count: 3, lastTimestamp: '2026-11-30T10:00:30Z' });
  });

  it('keeps different reasons, messages and containers apart', async () => {
    const { client, recorder, sink } = setup();
    recorder.event(pod, 'Normal', 'Created', 'Created container: web', 'spec.containers{web}');
    recorder.event(pod, 'Normal', 'Started', 'Started container web', 'spec.containers{web}');
    recorder.event(pod, 'Normal', 'Started', 'Started container side', 'spec.containers{side}');
    await sink.flush();
    expect(client.calls.map((c) => c.op)).toEqual(['create', 'create', 'create']);
    expect(new Set(client.calls.map((c) => c.name)).size).toBe(3);
  });

  it('writes a fresh Event when the one to patch expired, and drops a write that fails without throwing', async () => {
    const { client, recorder, sink } = setup();
    recorder.event(pod, 'Warning', 'Unhealthy', 'Liveness probe failed', 'spec.containers{web}');
    await sink.flush();
    client.failPatch = 1;
    recorder.event(pod, 'Warning', 'Unhealthy', 'Liveness probe failed', 'spec.containers{web}');
    await sink.flush();
    expect(client.calls.map((c) => c.op)).toEqual(['create', 'create']);
    expect(client.calls[1]?.body).toMatchObject({ count: 2 });
    expect(client.calls[1]?.name).not.toBe(client.calls[0]?.name);

    client.failCreate = 1;
    recorder.event(pod, 'Normal', 'Killing', 'Stopping container web', 'spec.containers{web}');
    await sink.flush();
    expect(client.calls).toHaveLength(2);
    // The next event goes through.
    recorder.event(pod, 'Normal', 'Killing', 'Stopping container web', 'spec.containers{web}');
    await sink.flush();
    expect(client.calls.at(-1)).toMatchObject({ op: 'create', body: { reason: 'Killing', count: 2 } });
  });
});
