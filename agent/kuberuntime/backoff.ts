/**
 * Exponential back-off per key, as the kubelet uses for CrashLoopBackOff and ImagePullBackOff: the first restart is
 * immediate, then each restart waits `initialMs`, doubling up to `maxMs`. A container that ran for `resetAfterMs`
 * before failing starts again from the initial delay. Pure data plus the time you pass in.
 */
export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  resetAfterMs: number;
}

export const DEFAULT_CRASHLOOP_BACKOFF: BackoffPolicy = { initialMs: 10_000, maxMs: 300_000, resetAfterMs: 600_000 };

interface Entry {
  delayMs: number;
  lastUpdate: number;
}

export class Backoff {
  private readonly entries = new Map<string, Entry>();
  constructor(readonly policy: BackoffPolicy) {}

  /** Milliseconds left before `key` may be retried, counting from `since` (e.g. the container's finish time). */
  remaining(key: string, since: number, now: number): number {
    const e = this.entries.get(key);
    if (!e) return 0;
    return Math.max(0, since + e.delayMs - now);
  }

  /** The delay the next failure of `key` will wait, for messages ("back-off 20s restarting failed container"). */
  delay(key: string): number {
    return this.entries.get(key)?.delayMs ?? 0;
  }

  /** Records a retry: sets the delay the following failure must wait. `ranForMs` resets a long-running container. */
  next(key: string, now: number, ranForMs = 0): void {
    const e = this.entries.get(key);
    if (!e || ranForMs >= this.policy.resetAfterMs) {
      this.entries.set(key, { delayMs: this.policy.initialMs, lastUpdate: now });
      return;
    }
    e.delayMs = Math.min(e.delayMs * 2, this.policy.maxMs);
    e.lastUpdate = now;
  }

  reset(key: string): void {
    this.entries.delete(key);
  }

  /** Forgets keys under a prefix (a pod that went away). */
  forgetPrefix(prefix: string): void {
    for (const k of this.entries.keys()) if (k.startsWith(prefix)) this.entries.delete(k);
  }

  /** Drops entries unused for twice the maximum delay, as upstream's GC does, so memory stays bounded. */
  gc(now: number): void {
    for (const [k, e] of this.entries) if (now - e.lastUpdate > 2 * this.policy.maxMs) this.entries.delete(k);
  }
}
