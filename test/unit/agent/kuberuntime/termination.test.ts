import { describe, expect, it } from 'vitest';
import { graceAfterPreStop, killGraceSeconds, MIN_GRACE_SECONDS, shouldRunPreStop, stopWithPreStop } from '../../../../agent/kuberuntime/termination.js';
import { FakeClock, flush } from '../prober/fakes.js';
import { c, makePod } from './fixtures.js';

const probe = { exec: { command: ['true'] }, terminationGracePeriodSeconds: 5 };

describe('killGraceSeconds (upstream setTerminationGracePeriod)', () => {
  const pod = makePod({ terminationGracePeriodSeconds: 40, containers: [c('app', { livenessProbe: probe, startupProbe: { ...probe, terminationGracePeriodSeconds: 7 } })] });
  const app = pod.spec.containers[0];

  it("uses the pod's grace period for an ordinary stop", () => {
    expect(killGraceSeconds(pod, app, 'other')).toBe(40);
  });

  it("uses the failing probe's own grace period, and only that probe's", () => {
    expect(killGraceSeconds(pod, app, 'livenessProbe')).toBe(5);
    expect(killGraceSeconds(pod, app, 'startupProbe')).toBe(7);
  });

  it("uses the deletion's grace period before anything else, 0 included", () => {
    const deleting = makePod({ terminationGracePeriodSeconds: 40, containers: [c('app', { livenessProbe: probe })] }, { deletionGracePeriodSeconds: 0 });
    expect(killGraceSeconds(deleting, deleting.spec.containers[0], 'livenessProbe')).toBe(0);
  });

  it('defaults to 30 s through the API when the pod sets none', () => {
    const plain = makePod({ containers: [c('app')] });
    expect(killGraceSeconds(plain, plain.spec.containers[0], 'other')).toBe(30);
  });
});

describe('shouldRunPreStop', () => {
  const hooked = makePod({ containers: [c('app', { lifecycle: { preStop: { sleep: { seconds: 1 } } } })] }).spec.containers[0];
  const plain = makePod({ containers: [c('app')] }).spec.containers[0];

  it('runs for a running container with a hook and a grace period', () => {
    expect(shouldRunPreStop(hooked, true, 30)).toBe(true);
  });

  it('does not run without a hook, for a container that is not running, or with no grace period at all', () => {
    expect(shouldRunPreStop(plain, true, 30)).toBe(false);
    expect(shouldRunPreStop(hooked, false, 30)).toBe(false);
    expect(shouldRunPreStop(hooked, true, 0)).toBe(false);
  });
});

describe('graceAfterPreStop', () => {
  it('takes the whole seconds the hook used off the grace period', () => {
    expect(graceAfterPreStop(30, 4_999)).toBe(26);
    expect(graceAfterPreStop(30, undefined)).toBe(30);
  });

  it('never leaves less than the 2 s minimum, even when the hook used it all', () => {
    expect(graceAfterPreStop(10, 10_000)).toBe(MIN_GRACE_SECONDS);
    expect(graceAfterPreStop(0, undefined)).toBe(MIN_GRACE_SECONDS);
  });
});

describe('stopWithPreStop', () => {
  it('runs the hook first, then stops with the grace period left over', async () => {
    const clock = new FakeClock();
    const order: string[] = [];
    let finishHook: () => void = () => undefined;
    const report = stopWithPreStop({
      graceSeconds: 30,
      clock,
      preStop: () => {
        order.push('preStop');
        return new Promise<void>((resolve) => (finishHook = resolve));
      },
      stop: async (seconds) => {
        order.push(`stop ${seconds}`);
      },
    });
    await clock.advance(12_500);
    expect(order).toEqual(['preStop']);
    finishHook();
    expect(await report).toEqual({ preStopMs: 12_500, preStopCutOff: false, stopGraceSeconds: 18 });
    expect(order).toEqual(['preStop', 'stop 18']);
    expect(clock.pending()).toBe(0);
  });

  it('cuts the hook off when the grace period runs out, aborts it and stops with the 2 s minimum', async () => {
    const clock = new FakeClock();
    let aborted = false;
    const stops: number[] = [];
    const report = stopWithPreStop({
      graceSeconds: 5,
      clock,
      preStop: (signal) =>
        new Promise<void>((resolve) =>
          signal.addEventListener('abort', () => {
            aborted = true;
            resolve();
          }),
        ),
      stop: async (seconds) => {
        stops.push(seconds);
      },
    });
    await clock.advance(4_999);
    expect(stops).toEqual([]);
    await clock.advance(1);
    expect(await report).toEqual({ preStopMs: 5_000, preStopCutOff: true, stopGraceSeconds: MIN_GRACE_SECONDS });
    expect(aborted).toBe(true);
    expect(stops).toEqual([MIN_GRACE_SECONDS]);
  });

  it('runs no hook when the grace period is zero, and stops at once', async () => {
    const clock = new FakeClock();
    let ran = false;
    const stops: number[] = [];
    const report = await stopWithPreStop({
      graceSeconds: 0,
      clock,
      preStop: async () => {
        ran = true;
      },
      stop: async (seconds) => {
        stops.push(seconds);
      },
    });
    await flush();
    expect(ran).toBe(false);
    expect(report).toEqual({ preStopCutOff: false, stopGraceSeconds: MIN_GRACE_SECONDS });
    expect(stops).toEqual([MIN_GRACE_SECONDS]);
  });
});
