/**
 * A bounded-frequency runner, after upstream's async.BoundedFrequencyRunner: `run()` asks for the function to be
 * called soon, but never sooner than `minIntervalMs` after the previous call started; it is called at least every
 * `maxIntervalMs` anyway; calls never overlap (a request during a call causes one more call after it); and
 * `retryAfter(ms)` asks for a call no later than ms from now, for failures.
 */
export class BoundedFrequencyRunner {
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private lastStart = -Infinity;
  private running: Promise<void> | undefined;
  private busy = false;
  /** While a call runs, the earliest time the next one was asked for. */
  private afterRunAt = Infinity;
  private stopped = true;

  constructor(
    private readonly fn: () => Promise<void>,
    private readonly minIntervalMs: number,
    private readonly maxIntervalMs: number,
    private readonly onError: (err: unknown) => void = () => {},
  ) {}

  /** Starts the periodic calls; the first one runs at once. */
  start(): void {
    this.stopped = false;
    this.schedule(Date.now());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
    await this.running;
  }

  /** Asks for a call as soon as the minimum interval allows. */
  run(): void {
    if (this.stopped) return;
    this.schedule(Math.max(Date.now(), this.lastStart + this.minIntervalMs));
  }

  /** Asks for a call within `ms` (still no sooner than the minimum interval). */
  retryAfter(ms: number): void {
    if (this.stopped) return;
    this.schedule(Math.max(Date.now() + ms, this.lastStart + this.minIntervalMs));
  }

  /** Resolves when the call in progress (if any) has finished. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private schedule(at: number): void {
    if (this.stopped) return;
    if (this.busy) {
      this.afterRunAt = Math.min(this.afterRunAt, at);
      return;
    }
    if (at >= this.timerAt) return;
    clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => this.fire(), Math.max(0, at - Date.now()));
    this.timer.unref?.();
  }

  private fire(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    if (this.stopped || this.busy) return;
    this.lastStart = Date.now();
    this.afterRunAt = Infinity;
    this.busy = true;
    this.running = (async () => {
      try {
        await this.fn();
      } catch (err) {
        this.onError(err);
      }
    })().finally(() => {
      this.busy = false;
      this.running = undefined;
      if (this.stopped) return;
      const next = Math.min(Math.max(this.afterRunAt, this.lastStart + this.minIntervalMs), this.lastStart + this.maxIntervalMs);
      this.afterRunAt = Infinity;
      this.schedule(next);
    });
  }
}
