import { describe, expect, it } from 'vitest';
import { nodeConditions } from '../../../../agent/cluster/node-conditions.js';

const T0 = '2026-01-01T00:00:00Z';
const T1 = '2026-01-01T00:00:10Z';
const T2 = '2026-01-01T00:00:20Z';

const ready = (cs: ReturnType<typeof nodeConditions>) => cs.find((c) => c.type === 'Ready');

describe('node conditions (the kubelet node status setters)', () => {
  it('reports Ready while the runtime answers, with the pressure conditions False', () => {
    const cs = nodeConditions({ runtimeUp: true, now: T0 });
    expect(cs.map((c) => `${c.type}=${c.status}`)).toEqual(['MemoryPressure=False', 'DiskPressure=False', 'PIDPressure=False', 'Ready=True']);
    expect(ready(cs)).toEqual({ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: T0, lastTransitionTime: T0 });
  });

  it('reports NotReady with "container runtime is down" while the runtime does not answer', () => {
    expect(ready(nodeConditions({ runtimeUp: false, now: T0 }))).toMatchObject({ status: 'False', reason: 'KubeletNotReady', message: 'container runtime is down' });
  });

  it('moves a transition time only when the status changes; the heartbeat always', () => {
    const first = nodeConditions({ runtimeUp: true, now: T0 });
    const same = nodeConditions({ runtimeUp: true, now: T1, previous: first });
    expect(same.every((c) => c.lastTransitionTime === T0 && c.lastHeartbeatTime === T1)).toBe(true);
    const down = nodeConditions({ runtimeUp: false, now: T2, previous: same });
    expect(ready(down)).toMatchObject({ status: 'False', lastTransitionTime: T2, lastHeartbeatTime: T2 });
    // The pressure conditions did not change.
    expect(down.filter((c) => c.type !== 'Ready').every((c) => c.lastTransitionTime === T0)).toBe(true);
  });

  it('carries transition times over from the Node a previous agent posted', () => {
    const previous = [{ type: 'Ready', status: 'True', lastTransitionTime: T0 }];
    expect(ready(nodeConditions({ runtimeUp: true, now: T2, previous }))?.lastTransitionTime).toBe(T0);
    // A condition the Node did not have yet starts now.
    expect(nodeConditions({ runtimeUp: true, now: T2, previous }).find((c) => c.type === 'DiskPressure')?.lastTransitionTime).toBe(T2);
  });
});
