/**
 * From the metrics' proposal to the replica count the HPA writes (upstream's normalizeDesiredReplicas and
 * normalizeDesiredReplicasWithBehaviors): stabilization over recent recommendations, min/max, and the scale rate
 * limits, with the conditions that explain the outcome. The history it reads and keeps is per HPA and in memory, as
 * upstream's is; time comes in as a number.
 */

export interface ScalingPolicy {
  type: 'Pods' | 'Percent';
  value: number;
  periodSeconds: number;
}

export interface ScalingRules {
  stabilizationWindowSeconds?: number;
  selectPolicy?: 'Max' | 'Min' | 'Disabled';
  policies?: ScalingPolicy[];
}

export interface Behavior {
  scaleUp?: ScalingRules;
  scaleDown?: ScalingRules;
}

export interface ConditionUpdate {
  type: 'AbleToScale' | 'ScalingLimited';
  status: 'True' | 'False';
  reason: string;
  message: string;
}

interface Recommendation {
  replicas: number;
  atMs: number;
}

interface ScaleEvent {
  change: number;
  atMs: number;
}

/** Per-HPA memory of recommendations and scale events (lost on restart, as upstream's). */
export class ScaleHistory {
  readonly recommendations: Recommendation[] = [];
  readonly scaleUps: ScaleEvent[] = [];
  readonly scaleDowns: ScaleEvent[] = [];

  /** The first sight of an HPA counts the current size as a recommendation, so that it does not scale down at once. */
  initialize(currentReplicas: number, nowMs: number): void {
    if (this.recommendations.length === 0) this.recommendations.push({ replicas: currentReplicas, atMs: nowMs });
  }

  /** Remembers a rescale for the rate limits of behavior policies. */
  recordScale(behavior: Behavior | undefined, from: number, to: number, nowMs: number): void {
    if (!behavior) return;
    const [events, rules] = to > from ? [this.scaleUps, behavior.scaleUp] : [this.scaleDowns, behavior.scaleDown];
    const longest = Math.max(0, ...(rules?.policies ?? []).map((p) => p.periodSeconds));
    const stale = events.findIndex((e) => e.atMs < nowMs - longest * 1000);
    const event = { change: Math.abs(to - from), atMs: nowMs };
    if (stale >= 0) events[stale] = event;
    else events.push(event);
  }
}

/** Upstream's fixed limit without behavior: at most double, and at least 4, per rescale. */
const scaleUpLimit = (current: number): number => Math.max(2 * current, 4);

export interface NormalizeInput {
  currentReplicas: number;
  desiredReplicas: number;
  minReplicas: number;
  maxReplicas: number;
  behavior: Behavior | undefined;
  nowMs: number;
  /** --horizontal-pod-autoscaler-downscale-stabilization (5 min). */
  downscaleStabilizationMs: number;
}

export interface NormalizeResult {
  replicas: number;
  conditions: ConditionUpdate[];
}

function replaceOrAppend(list: Recommendation[], staleBeforeMs: number, rec: Recommendation): void {
  const stale = list.findIndex((r) => r.atMs < staleBeforeMs);
  if (stale >= 0) list[stale] = rec;
  else list.push(rec);
}

export function normalizeDesiredReplicas(history: ScaleHistory, input: NormalizeInput): NormalizeResult {
  return input.behavior ? withBehavior(history, input, input.behavior) : withoutBehavior(history, input);
}

function withoutBehavior(history: ScaleHistory, input: NormalizeInput): NormalizeResult {
  const { nowMs, desiredReplicas, currentReplicas, minReplicas, maxReplicas } = input;
  const cutoff = nowMs - input.downscaleStabilizationMs;
  let stabilized = desiredReplicas;
  for (const r of history.recommendations) if (r.atMs >= cutoff && r.replicas > stabilized) stabilized = r.replicas;
  replaceOrAppend(history.recommendations, cutoff, { replicas: desiredReplicas, atMs: nowMs });
  const conditions: ConditionUpdate[] = [
    stabilized !== desiredReplicas
      ? { type: 'AbleToScale', status: 'True', reason: 'ScaleDownStabilized', message: 'recent recommendations were higher than current one, applying the highest recent recommendation' }
      : { type: 'AbleToScale', status: 'True', reason: 'ReadyForNewScale', message: 'recommended size matches current size' },
  ];
  const upLimit = scaleUpLimit(currentReplicas);
  const [maximum, maxReason, maxMessage] =
    maxReplicas > upLimit
      ? [upLimit, 'ScaleUpLimit', 'the desired replica count is increasing faster than the maximum scale rate']
      : [maxReplicas, 'TooManyReplicas', 'the desired replica count is more than the maximum replica count'];
  let replicas = stabilized;
  let limited = { reason: 'DesiredWithinRange', message: 'the desired count is within the acceptable range' };
  if (stabilized < minReplicas) {
    replicas = minReplicas;
    limited = { reason: 'TooFewReplicas', message: 'the desired replica count is less than the minimum replica count' };
  } else if (stabilized > maximum) {
    replicas = maximum;
    limited = { reason: maxReason, message: maxMessage };
  }
  conditions.push({ type: 'ScalingLimited', status: replicas === stabilized ? 'False' : 'True', ...limited });
  return { replicas, conditions };
}

function changeInPeriod(events: readonly ScaleEvent[], periodSeconds: number, nowMs: number): number {
  const cutoff = nowMs - periodSeconds * 1000;
  return events.filter((e) => e.atMs > cutoff).reduce((sum, e) => sum + e.change, 0);
}

/** The most replicas the scale-up policies allow now: the largest allowance (Max, default) or the smallest (Min). */
function upLimitWithRules(current: number, events: readonly ScaleEvent[], rules: ScalingRules, nowMs: number): number {
  if (rules.selectPolicy === 'Disabled') return current;
  const min = rules.selectPolicy === 'Min';
  let result = min ? Number.MAX_SAFE_INTEGER : Number.MIN_SAFE_INTEGER;
  for (const p of rules.policies ?? []) {
    const start = current - changeInPeriod(events, p.periodSeconds, nowMs);
    const proposed = p.type === 'Pods' ? start + p.value : Math.ceil(start * (1 + p.value / 100));
    result = min ? Math.min(result, proposed) : Math.max(result, proposed);
  }
  return result;
}

/** The fewest replicas the scale-down policies allow now: the largest change (Max, default) or the smallest (Min). */
function downLimitWithRules(current: number, events: readonly ScaleEvent[], rules: ScalingRules, nowMs: number): number {
  if (rules.selectPolicy === 'Disabled') return current;
  const min = rules.selectPolicy === 'Min';
  let result = min ? Number.MIN_SAFE_INTEGER : Number.MAX_SAFE_INTEGER;
  for (const p of rules.policies ?? []) {
    const start = current + changeInPeriod(events, p.periodSeconds, nowMs);
    const proposed = p.type === 'Pods' ? start - p.value : Math.trunc(start * (1 - p.value / 100));
    result = min ? Math.max(result, proposed) : Math.min(result, proposed);
  }
  return result;
}

function withBehavior(history: ScaleHistory, input: NormalizeInput, behavior: Behavior): NormalizeResult {
  const { nowMs, desiredReplicas, currentReplicas, minReplicas, maxReplicas } = input;
  const up = behavior.scaleUp ?? {};
  const down = { ...behavior.scaleDown, stabilizationWindowSeconds: behavior.scaleDown?.stabilizationWindowSeconds ?? input.downscaleStabilizationMs / 1000 };
  const upWindow = up.stabilizationWindowSeconds ?? 0;
  const downWindow = down.stabilizationWindowSeconds;
  const scalingUp = desiredReplicas >= currentReplicas;
  const windowSeconds = scalingUp ? upWindow : downWindow;
  const cutoff = nowMs - windowSeconds * 1000;
  let stabilized = desiredReplicas;
  for (const r of history.recommendations) {
    if (r.atMs > cutoff) stabilized = scalingUp ? Math.min(stabilized, r.replicas) : Math.max(stabilized, r.replicas);
  }
  replaceOrAppend(history.recommendations, nowMs - Math.max(upWindow, downWindow) * 1000, { replicas: desiredReplicas, atMs: nowMs });
  const conditions: ConditionUpdate[] = [];
  if (stabilized !== desiredReplicas) {
    conditions.push(
      scalingUp
        ? { type: 'AbleToScale', status: 'True', reason: 'ScaleUpStabilized', message: 'recent recommendations were lower than current one, applying the lowest recent recommendation' }
        : { type: 'AbleToScale', status: 'True', reason: 'ScaleDownStabilized', message: 'recent recommendations were higher than current one, applying the highest recent recommendation' },
    );
  } else conditions.push({ type: 'AbleToScale', status: 'True', reason: 'ReadyForNewScale', message: 'recommended size matches current size' });

  let replicas = stabilized;
  let limited = { reason: 'DesiredWithinRange', message: 'the desired count is within the acceptable range' };
  if (stabilized > currentReplicas) {
    const limit = Math.max(upLimitWithRules(currentReplicas, history.scaleUps, up, nowMs), currentReplicas);
    const [maximum, reason, message] =
      maxReplicas > limit
        ? [limit, 'ScaleUpLimit', 'the desired replica count is increasing faster than the maximum scale rate']
        : [maxReplicas, 'TooManyReplicas', 'the desired replica count is more than the maximum replica count'];
    if (stabilized > maximum) {
      replicas = maximum;
      limited = { reason, message };
    }
  } else if (stabilized < currentReplicas) {
    const limit = Math.min(downLimitWithRules(currentReplicas, history.scaleDowns, down, nowMs), currentReplicas);
    const [minimum, reason, message] =
      minReplicas < limit
        ? [limit, 'ScaleDownLimit', 'the desired replica count is decreasing faster than the maximum scale rate']
        : [minReplicas, 'TooFewReplicas', 'the desired replica count is less than the minimum replica count'];
    if (stabilized < minimum) {
      replicas = minimum;
      limited = { reason, message };
    }
  }
  conditions.push({ type: 'ScalingLimited', status: replicas === stabilized ? 'False' : 'True', ...limited });
  return { replicas, conditions };
}
