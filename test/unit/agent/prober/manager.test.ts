import { afterEach, describe, expect, it } from 'vitest';
import { ProbeManager, proberResultLabel, type ProbedContainer } from '../../../../agent/prober/manager.js';
import type { ProbeKind, ProbeResult, ProbeSpec } from '../../../../agent/prober/types.js';
import { FakeClock, FakeExecutor, probe } from './fakes.js';

interface Change {
  pod: string;
  container: string;
  kind: ProbeKind;
  result: ProbeResult;
}

function setup() {
  const clock = new FakeClock();
  const exec = new FakeExecutor(clock);
  const counted: Array<[ProbeKind, ProbeResult]> = [];
  const mgr = new ProbeManager({ executor: exec, clock, jitterMs: () => 0, onProbe: (k, r) => counted.push([k, r]) });
  const changes: Change[] = [];
  mgr.onChange((pod, container, kind, result) => changes.push({ pod, container, kind, result }));
  managers.push(mgr);
  return { clock, exec, mgr, changes, counted };
}

const managers: ProbeManager[] = [];
afterEach(() => {
  for (const m of managers.splice(0)) m.stop();
});

function app(
  clock: FakeClock,
  probes: { livenessProbe?: ProbeSpec; readinessProbe?: ProbeSpec; startupProbe?: ProbeSpec },
  over: Partial<ProbedContainer> = {},
): ProbedContainer {
  return { name: 'app', containerId: 'c1', running: true, startedAt: clock.now(), spec: { ...probes }, ...over };
}

describe('ProbeManager', () => {
  it('marks readiness after the first success and reports the change once', async () => {
    const { clock, exec, mgr, changes, counted } = setup();
    mgr.syncPod('p1', '10.0.0.5', [app(clock, { readinessProbe: probe({ periodSeconds: 5 }) })]);
    expect(mgr.result('p1', 'app', 'readiness')).toBe('failure');
    await clock.advance(0);
    expect(mgr.result('p1', 'app', 'readiness')).toBe('success');
    await clock.advance(20_000);
    expect(exec.calls.map((c) => c.at - exec.calls[0]!.at)).toEqual([0, 5000, 10_000, 15_000, 20_000]);
    expect(changes).toEqual([{ pod: 'p1', container: 'app', kind: 'readiness', result: 'success' }]);
    expect(counted.length).toBe(5);
    expect(counted.every(([k, r]) => k === 'readiness' && r === 'success')).toBe(true);
  });

  it('honours initialDelaySeconds and failureThreshold', async () => {
    const { clock, exec, mgr, changes } = setup();
    const start = clock.now();
    exec.answer = 'failure';
    mgr.syncPod('p1', '10.0.0.5', [
      app(clock, { livenessProbe: probe({ initialDelaySeconds: 15, periodSeconds: 10, failureThreshold: 3 }) }),
    ]);
    await clock.advance(14_999);
    expect(exec.calls).toHaveLength(0);
    await clock.advance(1);
    expect(exec.calls[0]!.at).toBe(start + 15_000);
    await clock.advance(10_000);
    expect(mgr.result('p1', 'app', 'liveness')).toBe('success');
    await clock.advance(10_000);
    expect(mgr.result('p1', 'app', 'liveness')).toBe('failure');
    expect(changes).toEqual([{ pod: 'p1', container: 'app', kind: 'liveness', result: 'failure' }]);
    // On hold: no more probing of the doomed container, even when it is synced again.
    mgr.syncPod('p1', '10.0.0.5', [app(clock, { livenessProbe: probe({ initialDelaySeconds: 15, failureThreshold: 3 }) }, { startedAt: start })]);
    await clock.advance(60_000);
    expect(exec.calls).toHaveLength(3);
    expect(mgr.result('p1', 'app', 'liveness')).toBe('failure');
  });

  it('resets a worker when the container is replaced', async () => {
    const { clock, exec, mgr, changes } = setup();
    const live = probe({ failureThreshold: 1 });
    exec.answer = 'failure';
    mgr.syncPod('p1', '10.0.0.5', [app(clock, { livenessProbe: live })]);
    await clock.advance(0);
    expect(mgr.result('p1', 'app', 'liveness')).toBe('failure');
    // The agent kills the container: it is seen stopped (still on hold), then a new one starts.
    mgr.syncPod('p1', '10.0.0.5', [app(clock, { livenessProbe: live }, { running: false })]);
    expect(mgr.result('p1', 'app', 'liveness')).toBe('failure');
    exec.answer = 'success';
    await clock.advance(1000);
    mgr.syncPod('p1', '10.0.0.5', [app(clock, { livenessProbe: live }, { containerId: 'c2' })]);
    expect(mgr.result('p1', 'app', 'liveness')).toBe('success');
    await clock.advance(0);
    expect(exec.calls.map((c) => c.target)).toEqual(['c1 true', 'c2 true']);
    expect(changes.map((c) => c.result)).toEqual(['failure', 'success']);
  });

  it('gates liveness and readiness behind the startup probe, then probes readiness at once', async () => {
    const { clock, exec, mgr, changes } = setup();
    const spec = {
      startupProbe: probe({ exec: { command: ['startup'] }, periodSeconds: 2, failureThreshold: 30 }),
      livenessProbe: probe({ exec: { command: ['live'] }, periodSeconds: 10 }),
      readinessProbe: probe({ exec: { command: ['ready'] }, periodSeconds: 10 }),
    };
    exec.answer = 'failure';
    mgr.syncPod('p1', '10.0.0.5', [app(clock, spec)]);
    expect(mgr.result('p1', 'app', 'startup')).toBe('unknown');
    await clock.advance(5000);
    expect(exec.calls.map((c) => c.target)).toEqual(['c1 startup', 'c1 startup', 'c1 startup']);
    expect(mgr.result('p1', 'app', 'readiness')).toBe('failure');
    expect(mgr.result('p1', 'app', 'liveness')).toBe('success');
    exec.answer = 'success';
    await clock.advance(1000);
    expect(mgr.result('p1', 'app', 'startup')).toBe('success');
    expect(exec.calls.map((c) => c.target).slice(3)).toEqual(['c1 startup', 'c1 live', 'c1 ready']);
    expect(mgr.result('p1', 'app', 'readiness')).toBe('success');
    await clock.advance(30_000);
    // Startup is never probed again for this container.
    expect(exec.calls.filter((c) => c.target === 'c1 startup')).toHaveLength(4);
    expect(changes.map((c) => `${c.kind}:${c.result}`)).toEqual(['startup:success', 'readiness:success']);
  });

  it('reports readiness failure as soon as the container stops, and waits for a new start', async () => {
    const { clock, exec, mgr, changes } = setup();
    const ready = probe();
    mgr.syncPod('p1', '10.0.0.5', [app(clock, { readinessProbe: ready })]);
    await clock.advance(0);
    expect(mgr.result('p1', 'app', 'readiness')).toBe('success');
    mgr.syncPod('p1', '10.0.0.5', [app(clock, { readinessProbe: ready }, { running: false })]);
    expect(mgr.result('p1', 'app', 'readiness')).toBe('failure');
    await clock.advance(60_000);
    expect(exec.calls).toHaveLength(1);
    expect(changes.map((c) => c.result)).toEqual(['success', 'failure']);
  });

  it('never overlaps attempts of one worker when an exec hangs past the period', async () => {
    const { clock, exec, mgr } = setup();
    exec.answer = 'hang';
    mgr.syncPod('p1', '10.0.0.5', [app(clock, { readinessProbe: probe({ periodSeconds: 1, timeoutSeconds: 1 }) })]);
    await clock.advance(10_000);
    expect(exec.calls).toHaveLength(1);
    expect(exec.inFlight()).toBe(1);
    // Syncs while the attempt is in flight do not start another.
    mgr.syncPod('p1', '10.0.0.5', [app(clock, { readinessProbe: probe({ periodSeconds: 1, timeoutSeconds: 1 }) }, { startedAt: clock.now() - 10_000 })]);
    await clock.advance(5000);
    expect(exec.calls).toHaveLength(1);
    exec.answer = 'success';
    exec.release('success');
    await clock.advance(0);
    // Overdue: the next attempt runs right away, then once a period.
    expect(exec.calls).toHaveLength(2);
    expect(mgr.result('p1', 'app', 'readiness')).toBe('success');
    await clock.advance(3000);
    expect(exec.calls).toHaveLength(5);
  });

  it('drops the outcome of an attempt whose container was replaced meanwhile', async () => {
    const { clock, exec, mgr, changes } = setup();
    exec.answer = 'hang';
    const live = probe({ failureThreshold: 1 });
    mgr.syncPod('p1', '10.0.0.5', [app(clock, { livenessProbe: live })]);
    await clock.advance(0);
    mgr.syncPod('p1', '10.0.0.5', [app(clock, { livenessProbe: live }, { containerId: 'c2' })]);
    exec.answer = 'success';
    exec.release('failure');
    await clock.advance(0);
    expect(mgr.result('p1', 'app', 'liveness')).toBe('success');
    expect(changes).toEqual([]);
    expect(exec.calls.map((c) => c.target)).toEqual(['c1 true', 'c2 true']);
  });

  it('throws away attempts that could not run, counting them as unknown', async () => {
    const { clock, exec, mgr, counted } = setup();
    exec.answer = 'error';
    mgr.syncPod('p1', '10.0.0.5', [app(clock, { livenessProbe: probe({ failureThreshold: 1 }) })]);
    await clock.advance(25_000);
    expect(exec.calls).toHaveLength(3);
    expect(mgr.result('p1', 'app', 'liveness')).toBe('success');
    expect(counted.map(([, r]) => proberResultLabel(r))).toEqual(['unknown', 'unknown', 'unknown']);
  });

  it('resolves named ports and defaults the host to the pod IP', async () => {
    const { clock, exec, mgr } = setup();
    mgr.syncPod('p1', '10.0.0.5', [
      {
        ...app(clock, {
          readinessProbe: probe({ exec: null, httpGet: { path: 'healthz', port: 'http' } }),
          livenessProbe: probe({ exec: null, tcpSocket: { port: 'admin', host: '127.0.0.1' } }),
        }),
        spec: {
          ports: [{ name: 'http', containerPort: 8080 }, { name: 'admin', containerPort: 9000 }],
          readinessProbe: probe({ exec: null, httpGet: { path: 'healthz', port: 'http' } }),
          livenessProbe: probe({ exec: null, tcpSocket: { port: 'admin', host: '127.0.0.1' } }),
        },
      },
    ]);
    await clock.advance(0);
    expect(exec.calls.map((c) => `${c.kind} ${c.target}`).sort()).toEqual([
      'httpGet http://10.0.0.5:8080/healthz',
      'tcp 127.0.0.1:9000',
    ]);
  });

  it('starts, resets and stops workers from the level it is given', async () => {
    const { clock, exec, mgr, changes } = setup();
    mgr.syncPod('p1', '10.0.0.5', [app(clock, { readinessProbe: probe() })]);
    await clock.advance(0);
    expect(mgr.hasProbe('p1', 'app', 'readiness')).toBe(true);
    // A changed probe resets its worker.
    mgr.syncPod('p1', '10.0.0.5', [app(clock, { readinessProbe: probe({ periodSeconds: 3 }) })]);
    expect(mgr.result('p1', 'app', 'readiness')).toBe('failure');
    await clock.advance(0);
    expect(mgr.result('p1', 'app', 'readiness')).toBe('success');
    // A probe dropped from the spec stops its worker; an unprobed kind gates nothing.
    mgr.syncPod('p1', '10.0.0.5', [app(clock, {})]);
    expect(mgr.hasProbe('p1', 'app', 'readiness')).toBe(false);
    expect(mgr.result('p1', 'app', 'readiness')).toBe('success');
    const before = exec.calls.length;
    await clock.advance(60_000);
    expect(exec.calls).toHaveLength(before);
    expect(clock.pending()).toBe(0);

    mgr.syncPod('p2', '10.0.0.6', [app(clock, { livenessProbe: probe() })]);
    mgr.removePod('p2');
    expect(mgr.hasProbe('p2', 'app', 'liveness')).toBe(false);
    mgr.syncPod('p3', '10.0.0.7', [app(clock, { livenessProbe: probe() })]);
    mgr.stop();
    expect(clock.pending()).toBe(0);
    mgr.syncPod('p4', '10.0.0.8', [app(clock, { livenessProbe: probe() })]);
    expect(clock.pending()).toBe(0);
    expect(changes.map((c) => c.result)).toEqual(['success', 'success']);
  });

  it('applies the injected first-probe jitter once per worker', async () => {
    const clock = new FakeClock();
    const exec = new FakeExecutor(clock);
    const mgr = new ProbeManager({ executor: exec, clock, jitterMs: (period) => period / 2 });
    managers.push(mgr);
    const start = clock.now();
    mgr.syncPod('p1', '10.0.0.5', [app(clock, { readinessProbe: probe({ periodSeconds: 10 }) })]);
    await clock.advance(2000);
    mgr.syncPod('p1', '10.0.0.5', [app(clock, { readinessProbe: probe({ periodSeconds: 10 }) }, { startedAt: start })]);
    await clock.advance(20_000);
    expect(exec.calls.map((c) => c.at - start)).toEqual([5000, 15_000]);
  });

  it('answers for the container asked about, not its predecessor', async () => {
    const { clock, exec, mgr } = setup();
    exec.answer = 'failure';
    const spec = { livenessProbe: probe({ failureThreshold: 1 }), readinessProbe: probe() };
    mgr.syncPod('p1', '10.0.0.5', [app(clock, spec)]);
    await clock.advance(0);
    expect(mgr.result('p1', 'app', 'liveness', 'c1')).toBe('failure');
    // The sync has started c2 but not yet told the prober: c2 must not inherit c1's verdicts.
    expect(mgr.result('p1', 'app', 'liveness', 'c2')).toBe('success');
    expect(mgr.result('p1', 'app', 'readiness', 'c2')).toBe('failure');
    expect(mgr.result('p1', 'app', 'liveness')).toBe('failure');
  });

  it('does not reset a worker for the same probe written in another key order', async () => {
    const { clock, mgr } = setup();
    mgr.syncPod('p1', '10.0.0.5', [app(clock, { readinessProbe: probe() })]);
    await clock.advance(0);
    const p = probe();
    const reordered = Object.fromEntries(Object.entries(p).reverse()) as unknown as typeof p;
    mgr.syncPod('p1', '10.0.0.5', [app(clock, { readinessProbe: reordered })]);
    expect(mgr.result('p1', 'app', 'readiness')).toBe('success');
  });
});
