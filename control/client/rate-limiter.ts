import { realQueueClock, type QueueClock } from './workqueue.js';

/**
 * client-go's client-side rate limit (flowcontrol.NewTokenBucketRateLimiter): a bucket of `burst` tokens refilled
 * at `qps` per second; every request takes one, waiting its turn when the bucket is empty. Turns are kept in the
 * order requests asked for them: a request reserves the next token, even one not yet refilled, and waits until it is.
 * It keeps a busy control loop from taking the whole API server, as upstream's components are held to it
 * (kube-scheduler 50 requests/s with bursts of 100, kube-controller-manager 20 with bursts of 30).
 */

export interface RateLimit {
  /** Requests per second; 0 means client-go's default (5), a negative value no limit. */
  qps: number;
  /** Requests that may go at once after a quiet spell; at least 1. */
  burst: number;
}

/** client-go's DefaultQPS and DefaultBurst, which a rest.Config with QPS 0 gets. */
export const CLIENT_GO_DEFAULT_LIMIT: RateLimit = { qps: 5, burst: 10 };

export class TokenBucket {
  private readonly qps: number;
  private readonly burst: number;
  /** Tokens in the bucket at `at` (ms); negative when requests have reserved tokens still to come. */
  private tokens: number;
  private at: number;

  constructor(
    limit: RateLimit,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.qps = limit.qps === 0 ? CLIENT_GO_DEFAULT_LIMIT.qps : limit.qps;
    // A burst of 0 is client-go's DefaultBurst too, as rest.Config reads it (QPS and burst each on its own).
    this.burst = limit.burst === 0 ? CLIENT_GO_DEFAULT_LIMIT.burst : Math.max(1, Math.floor(limit.burst));
    this.tokens = this.burst;
    this.at = now();
  }

  /** Whether this bucket limits anything (a negative qps turns client-side limiting off, as in client-go). */
  get unlimited(): boolean {
    return this.qps < 0;
  }

  /** Takes the next token: how many ms the caller must wait before its request may go (0: now). */
  reserve(): number {
    if (this.unlimited) return 0;
    const now = this.now();
    if (now > this.at) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.at) / 1000) * this.qps);
      this.at = now;
    }
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.qps) * 1000;
  }
}

/** A RateLimiter that was closed: the requests still waiting for their turn, and any after, fail with this. */
export class RateLimiterClosedError extends Error {
  constructor() {
    super('client closed while its request waited for client-side rate limiting');
  }
}

/**
 * A TokenBucket that waits: resolves when the caller's request may go. Closing it fails every wait in progress (as
 * a cancelled context ends client-go's Wait), so a component that stops is not held up by a backlog of turns.
 */
export class RateLimiter {
  private readonly bucket: TokenBucket;
  private readonly waiting = new Set<{ timer: { cancel(): void }; fail: (err: Error) => void }>();
  private closed = false;

  constructor(
    readonly limit: RateLimit,
    private readonly clock: QueueClock = realQueueClock,
  ) {
    this.bucket = new TokenBucket(limit, () => clock.now());
  }

  /** Undefined when the request may go now, else a promise of its turn. */
  wait(): Promise<void> | undefined {
    if (this.closed) return Promise.reject(new RateLimiterClosedError());
    const ms = this.bucket.reserve();
    if (ms <= 0) return undefined;
    return new Promise<void>((resolve, reject) => {
      const entry = {
        timer: this.clock.setTimeout(() => {
          this.waiting.delete(entry);
          resolve();
        }, ms),
        fail: reject,
      };
      this.waiting.add(entry);
    });
  }

  close(): void {
    this.closed = true;
    for (const w of this.waiting) {
      w.timer.cancel();
      w.fail(new RateLimiterClosedError());
    }
    this.waiting.clear();
  }
}

/** kube-controller-manager's --kube-api-qps and --kube-api-burst defaults. */
export const CONTROLLER_MANAGER_LIMIT: RateLimit = { qps: 20, burst: 30 };

/** kube-scheduler's clientConnection defaults (qps 50, burst 100). */
export const SCHEDULER_LIMIT: RateLimit = { qps: 50, burst: 100 };

/**
 * A --kube-api-qps / --kube-api-burst pair as upstream reads it (qps a float, negative for no limit; burst a whole
 * number), over `defaults` for what is not given; or what is wrong with it.
 */
export function parseRateLimit(qpsText: string | undefined, burstText: string | undefined, defaults: RateLimit): RateLimit | string {
  const qps = qpsText === undefined ? defaults.qps : Number(qpsText);
  if (qpsText !== undefined && (qpsText.trim() === '' || !Number.isFinite(qps))) return `--kube-api-qps: expected a number such as ${defaults.qps}, got "${qpsText}"`;
  const burst = burstText === undefined ? defaults.burst : Number(burstText);
  if (burstText !== undefined && (!/^\d+$/.test(burstText.trim()) || !Number.isSafeInteger(burst))) return `--kube-api-burst: expected a whole number such as ${defaults.burst}, got "${burstText}"`;
  // client-go refuses a limiter that can never hand out a token.
  if (qps >= 0 && burst < 1) return '--kube-api-burst: must be at least 1 while --kube-api-qps is not negative';
  return { qps, burst };
}
