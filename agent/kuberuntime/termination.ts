/**
 * How a container is stopped (upstream kuberuntime killContainer): which grace period applies, the preStop hook run
 * inside it, and what is left for SIGTERM afterwards. The decisions are pure; the one sequencing function takes its
 * clock, hook and stop call as arguments so tests drive time by hand.
 */
import type { Container, Pod } from '../../control/api/index.js';
import type { Clock } from '../prober/clock.js';

/**
 * Upstream's minimumGracePeriodInSeconds: every stop gets at least this long between SIGTERM and SIGKILL, also when a
 * preStop hook used up the whole grace period.
 */
export const MIN_GRACE_SECONDS = 2;

/** Why a container is being stopped, as far as the grace period cares. */
export type KillCause = 'livenessProbe' | 'startupProbe' | 'other';

/**
 * The grace period for stopping a container (upstream setTerminationGracePeriod): the deletion's, else the failing
 * probe's own terminationGracePeriodSeconds, else the pod's.
 */
export function killGraceSeconds(pod: Pod, container: Container | undefined, cause: KillCause): number {
  const deletion = pod.metadata.deletionGracePeriodSeconds;
  if (deletion !== undefined && deletion !== null) return deletion;
  const podGrace = pod.spec.terminationGracePeriodSeconds;
  if (podGrace === undefined || podGrace === null) return MIN_GRACE_SECONDS;
  const probe = cause === 'livenessProbe' ? container?.livenessProbe : cause === 'startupProbe' ? container?.startupProbe : undefined;
  return probe?.terminationGracePeriodSeconds ?? podGrace;
}

/** Whether a preStop hook runs: only for a running container that has one and a grace period to run it in. */
export function shouldRunPreStop(container: Container | undefined, running: boolean, graceSeconds: number): boolean {
  return running && graceSeconds > 0 && container?.lifecycle?.preStop !== undefined;
}

/**
 * The grace left for SIGTERM once the preStop hook took `preStopMs` (whole seconds, truncated as upstream's
 * int64(Duration.Seconds())), never below the minimum.
 */
export function graceAfterPreStop(graceSeconds: number, preStopMs: number | undefined): number {
  const used = preStopMs === undefined ? 0 : Math.trunc(preStopMs / 1000);
  return Math.max(MIN_GRACE_SECONDS, graceSeconds - used);
}

export interface StopPlan {
  graceSeconds: number;
  /** Runs the preStop hook; aborted when the grace period runs out first. Must not reject. */
  preStop?: (signal: AbortSignal) => Promise<void>;
  /** Sends the stop signal, SIGKILL after the given seconds. */
  stop(graceSeconds: number): Promise<void>;
  clock: Clock;
}

export interface StopReport {
  /** How long the preStop hook ran (until the grace period cut it off at most); undefined when none ran. */
  preStopMs?: number;
  /** Whether the grace period ran out before the hook returned. */
  preStopCutOff: boolean;
  /** The grace period the stop call got. */
  stopGraceSeconds: number;
}

/**
 * preStop first, bounded by the grace period (the countdown starts before the hook), then the stop signal with what
 * is left of the grace period.
 */
export async function stopWithPreStop(plan: StopPlan): Promise<StopReport> {
  let preStopMs: number | undefined;
  let preStopCutOff = false;
  if (plan.preStop && plan.graceSeconds > 0) {
    const { clock } = plan;
    const started = clock.now();
    const abort = new AbortController();
    let timer: unknown;
    const expired = new Promise<'expired'>((resolve) => {
      timer = clock.setTimeout(() => resolve('expired'), plan.graceSeconds * 1000);
    });
    const done = plan.preStop(abort.signal).then(() => 'done' as const);
    const first = await Promise.race([done, expired]);
    clock.clearTimeout(timer);
    if (first === 'expired') {
      preStopCutOff = true;
      abort.abort();
    }
    preStopMs = clock.now() - started;
  }
  const stopGraceSeconds = graceAfterPreStop(plan.graceSeconds, preStopMs);
  await plan.stop(stopGraceSeconds);
  return { ...(preStopMs !== undefined ? { preStopMs } : {}), preStopCutOff, stopGraceSeconds };
}
