import { describe, expect, it } from 'vitest';
import type { KubeClient, KubeObject } from '../../../../control/client/index.js';
import { EventRecorder } from '../../../../control/controllers/events.js';
import type { Obj } from '../../../../control/controllers/objects.js';

/** Lets the recorder's background writes (promise chains over the fake client) run until `done` holds. */
async function eventually(done: () => true | undefined, what: string): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (done()) return;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error(`timed out waiting for ${what}`);
}

type Call = { verb: 'create' | 'patch'; name: string; body: Record<string, unknown> };

/** A client that records event writes; names in `gone` answer 404 to a patch, as an expired Event would. */
function fakeClient(gone: Set<string>): { client: KubeClient; calls: Call[] } {
  const calls: Call[] = [];
  const client = {
    create: async (_r: unknown, _ns: string, body: KubeObject) => {
      calls.push({ verb: 'create', name: body.metadata.name ?? '', body });
      return body;
    },
    patch: async (_r: unknown, _ns: string, name: string, body: Record<string, unknown>) => {
      calls.push({ verb: 'patch', name, body });
      if (gone.has(name)) throw new Error('404');
      return {} as KubeObject;
    },
  } as unknown as KubeClient;
  return { client, calls };
}

const rs: Obj = { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'web', namespace: 'default', uid: 'u1', resourceVersion: '7' } };
const ref = { apiVersion: 'apps/v1', kind: 'ReplicaSet' };

describe('controllers EventRecorder', () => {
  it('creates an event once and bumps its count on repeats, in order', async () => {
    const { client, calls } = fakeClient(new Set());
    const rec = new EventRecorder(client, 'replicaset-controller', () => new Date(1_000_000));
    rec.event(rs, ref, 'Warning', 'FailedCreate', 'quota exceeded');
    rec.event(rs, ref, 'Warning', 'FailedCreate', 'quota exceeded');
    rec.event(rs, ref, 'Warning', 'FailedCreate', 'quota exceeded');
    await eventually(() => calls.length === 3 || undefined, 'three writes');
    expect(calls.map((c) => c.verb)).toEqual(['create', 'patch', 'patch']);
    expect(calls[1]).toMatchObject({ name: calls[0]!.name, body: { count: 2 } });
    expect(calls[2]).toMatchObject({ name: calls[0]!.name, body: { count: 3 } });
    expect(calls[0]!.body).toMatchObject({ reason: 'FailedCreate', count: 1, involvedObject: { kind: 'ReplicaSet', name: 'web', uid: 'u1' }, source: { component: 'replicaset-controller' } });
  });

  it('records a fresh event when the one to bump is gone, and drops events over the per-object budget', async () => {
    const gone = new Set<string>();
    const { client, calls } = fakeClient(gone);
    const rec = new EventRecorder(client, 'replicaset-controller', () => new Date(1_000_000));
    rec.event(rs, ref, 'Warning', 'FailedCreate', 'quota exceeded');
    await eventually(() => calls.length === 1 || undefined, 'create');
    gone.add(calls[0]!.name);
    rec.event(rs, ref, 'Warning', 'FailedCreate', 'quota exceeded');
    await eventually(() => calls.length === 3 || undefined, 'patch, then a fresh create');
    expect(calls.map((c) => c.verb)).toEqual(['create', 'patch', 'create']);
    expect(calls[2]!.name).not.toBe(calls[0]!.name);
    // 25 events per object at once: the 2 above and 23 more get through, the rest are dropped.
    for (let i = 0; i < 30; i++) rec.event(rs, ref, 'Normal', 'SuccessfulCreate', 'Created pod: web-a');
    await eventually(() => calls.length === 3 + 23 || undefined, 'the budget used up');
    await new Promise((r) => setImmediate(r));
    expect(calls).toHaveLength(26);
  });
});
