// The prober takes structural types so it does not depend on control/api; this checks the real schemas still fit.
import { describe, expect, it } from 'vitest';
import { Container, Probe } from '../../../../control/api/pod.js';
import { ProbeManager } from '../../../../agent/prober/manager.js';
import type { ProbeSpec, ProbedContainerSpec } from '../../../../agent/prober/types.js';
import { FakeClock, FakeExecutor } from './fakes.js';

describe('control/api compatibility', () => {
  it('accepts a defaulted Probe and Container as they come out of the API schemas', async () => {
    const probe: ProbeSpec = Probe.parse({ httpGet: { port: 'web' } });
    expect(probe).toMatchObject({ periodSeconds: 10, timeoutSeconds: 1, failureThreshold: 3, successThreshold: 1 });
    const container = Container.parse({
      name: 'app',
      image: 'nginx',
      ports: [{ name: 'web', containerPort: 8080 }],
      readinessProbe: { httpGet: { port: 'web' } },
    });
    const spec: ProbedContainerSpec = container;

    const clock = new FakeClock();
    const exec = new FakeExecutor(clock);
    const mgr = new ProbeManager({ executor: exec, clock, jitterMs: () => 0 });
    mgr.syncPod('p1', '10.1.0.2', [{ name: 'app', containerId: 'c1', running: true, startedAt: clock.now(), spec }]);
    await clock.advance(0);
    expect(exec.calls.map((c) => c.target)).toEqual(['http://10.1.0.2:8080/']);
    mgr.stop();
  });
});
