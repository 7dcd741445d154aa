import { describe, expect, it } from 'vitest';
import {
  initialProbeState,
  nextProbeAt,
  observeContainer,
  probeDue,
  recordOutcome,
  recordProbeError,
  type ContainerView,
  type ProbeState,
} from '../../../../agent/prober/state.js';
import type { ProbeKind, ProbeOutcome } from '../../../../agent/prober/types.js';
import { probe } from './fakes.js';

const T0 = 1_000_000;
const running = (id = 'c1', startedAt = T0, started = true): ContainerView => ({ containerId: id, running: true, startedAt, started });

function feed(s: ProbeState, outcomes: ProbeOutcome[], p = probe()): ProbeState {
  let t = T0;
  for (const o of outcomes) s = recordOutcome(s, p, o, (t += 10_000));
  return s;
}

describe('initial results', () => {
  it.each<[ProbeKind, string]>([
    ['readiness', 'failure'],
    ['liveness', 'success'],
    ['startup', 'unknown'],
  ])('%s starts as %s', (kind, result) => {
    expect(initialProbeState(kind).result).toBe(result);
    expect(observeContainer(initialProbeState(kind), running(), T0).result).toBe(result);
  });
});

describe('thresholds', () => {
  it('readiness needs successThreshold consecutive successes, failureThreshold consecutive failures', () => {
    const p = probe({ successThreshold: 2, failureThreshold: 3 });
    let s = observeContainer(initialProbeState('readiness'), running(), T0);
    s = feed(s, ['success'], p);
    expect(s.result).toBe('failure');
    s = feed(s, ['success'], p);
    expect(s.result).toBe('success');
    s = feed(s, ['failure', 'failure', 'success', 'failure', 'failure'], p);
    expect(s.result).toBe('success');
    s = feed(s, ['failure'], p);
    expect(s.result).toBe('failure');
    s = feed(s, ['success', 'failure', 'success'], p);
    expect(s.result).toBe('failure');
  });

  it('liveness flips to failure after failureThreshold and goes on hold', () => {
    const p = probe({ failureThreshold: 2 });
    let s = observeContainer(initialProbeState('liveness'), running(), T0);
    s = feed(s, ['failure'], p);
    expect(s.result).toBe('success');
    s = feed(s, ['failure'], p);
    expect(s).toMatchObject({ result: 'failure', onHold: true });
    expect(nextProbeAt(s, p)).toBeUndefined();
  });

  it('startup succeeds once and stops probing; fails into on-hold', () => {
    const p = probe({ failureThreshold: 2 });
    let s = observeContainer(initialProbeState('startup'), running('c1', T0, false), T0);
    expect(probeDue(s, p, T0)).toBe(true);
    s = feed(s, ['failure', 'success'], p);
    expect(s).toMatchObject({ result: 'success', started: true });
    expect(nextProbeAt(s, p)).toBeUndefined();

    let f = observeContainer(initialProbeState('startup'), running('c2', T0, false), T0);
    f = feed(f, ['failure', 'failure'], p);
    expect(f).toMatchObject({ result: 'failure', onHold: true });
  });
});

describe('timing', () => {
  it('waits initialDelaySeconds from startedAt, then periodSeconds from the last attempt', () => {
    const p = probe({ initialDelaySeconds: 5, periodSeconds: 10 });
    let s = observeContainer(initialProbeState('readiness'), running('c1', T0), T0 + 1000);
    expect(nextProbeAt(s, p)).toBe(T0 + 5000);
    expect(probeDue(s, p, T0 + 4999)).toBe(false);
    expect(probeDue(s, p, T0 + 5000)).toBe(true);
    s = recordOutcome(s, p, 'success', T0 + 5000);
    expect(nextProbeAt(s, p)).toBe(T0 + 15_000);
    s = recordProbeError(s, T0 + 15_000);
    expect(s.result).toBe('success');
    expect(nextProbeAt(s, p)).toBe(T0 + 25_000);
  });

  it('measures the delay from first sight when the runtime gives no startedAt', () => {
    const p = probe({ initialDelaySeconds: 3 });
    const s = observeContainer(initialProbeState('liveness'), { containerId: 'c1', running: true, started: true }, T0 + 7000);
    expect(nextProbeAt(s, p)).toBe(T0 + 10_000);
    // A later observation does not move the start.
    expect(nextProbeAt(observeContainer(s, { containerId: 'c1', running: true, started: true }, T0 + 9000), p)).toBe(T0 + 10_000);
  });

  it('does not probe without a container', () => {
    const s = observeContainer(initialProbeState('readiness'), { running: false, started: false }, T0);
    expect(nextProbeAt(s, probe())).toBeUndefined();
  });
});

describe('startup gating', () => {
  it('holds liveness and readiness at their initial results until the gate opens', () => {
    const p = probe();
    for (const kind of ['liveness', 'readiness'] as const) {
      const gated = observeContainer(initialProbeState(kind), running('c1', T0, false), T0);
      expect(nextProbeAt(gated, p)).toBeUndefined();
      expect(gated.result).toBe(kind === 'liveness' ? 'success' : 'failure');
      const open = observeContainer(gated, running('c1', T0, true), T0 + 30_000);
      expect(nextProbeAt(open, p)).toBe(T0);
    }
  });
});

describe('container lifecycle', () => {
  it('readiness and startup report failure while the container is not running; liveness stays success', () => {
    const stopped: ContainerView = { containerId: 'c1', running: false, started: false };
    let r = feed(observeContainer(initialProbeState('readiness'), running(), T0), ['success']);
    expect(r.result).toBe('success');
    r = observeContainer(r, stopped, T0 + 1);
    expect(r.result).toBe('failure');
    expect(nextProbeAt(r, probe())).toBeUndefined();
    expect(observeContainer(initialProbeState('startup'), stopped, T0).result).toBe('failure');
    expect(observeContainer(initialProbeState('liveness'), stopped, T0).result).toBe('success');
  });

  it('a new container ID starts the worker over', () => {
    const p = probe({ failureThreshold: 3 });
    let s = observeContainer(initialProbeState('readiness'), running('c1'), T0);
    s = feed(s, ['success', 'failure', 'failure'], p);
    expect(s).toMatchObject({ result: 'success', run: 2 });
    s = observeContainer(s, running('c2', T0 + 60_000), T0 + 60_000);
    expect(s).toMatchObject({ containerId: 'c2', result: 'failure', run: 0, lastOutcome: undefined, lastProbeAt: undefined });
    expect(nextProbeAt(s, p)).toBe(T0 + 60_000);
    // The old run does not carry over: one failure is not the third.
    s = feed(s, ['success', 'failure'], p);
    expect(s.result).toBe('success');
  });

  it('liveness stays failed on hold, even after the container stops, until the ID changes', () => {
    const p = probe({ failureThreshold: 1 });
    let s = feed(observeContainer(initialProbeState('liveness'), running('c1'), T0), ['failure'], p);
    expect(s).toMatchObject({ result: 'failure', onHold: true });
    s = observeContainer(s, running('c1'), T0 + 1);
    s = observeContainer(s, { containerId: 'c1', running: false, started: false }, T0 + 2);
    expect(s).toMatchObject({ result: 'failure', onHold: true });
    s = observeContainer(s, running('c2', T0 + 5000), T0 + 5000);
    expect(s).toMatchObject({ result: 'success', onHold: false });
    expect(probeDue(s, p, T0 + 5000)).toBe(true);
  });

  it('a created container that starts running gets fresh initial results, not the not-running failure', () => {
    const created: ContainerView = { containerId: 'c1', running: false, started: false };
    let s = observeContainer(initialProbeState('startup'), created, T0);
    expect(s.result).toBe('failure');
    s = observeContainer(s, running('c1', T0 + 100, false), T0 + 100);
    expect(s.result).toBe('unknown');
    expect(nextProbeAt(s, probe({ initialDelaySeconds: 1 }))).toBe(T0 + 1100);
  });

  it('a container restarted in place under the same ID starts counting again', () => {
    const p = probe({ successThreshold: 2, initialDelaySeconds: 2 });
    let s = feed(observeContainer(initialProbeState('readiness'), running('c1'), T0), ['success', 'success'], p);
    expect(s.result).toBe('success');
    s = observeContainer(s, { containerId: 'c1', running: false, started: false }, T0 + 50_000);
    s = observeContainer(s, running('c1', T0 + 60_000), T0 + 60_000);
    expect(s).toMatchObject({ result: 'failure', run: 0, lastProbeAt: undefined, runningSince: T0 + 60_000 });
    expect(nextProbeAt(s, p)).toBe(T0 + 62_000);
  });
});
