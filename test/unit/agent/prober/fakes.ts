import type { Clock, TimerHandle } from '../../../../agent/prober/clock.js';
import type { ExecutorResult, ProbeExecutor } from '../../../../agent/prober/executor.js';
import type { ProbeSpec } from '../../../../agent/prober/types.js';

/** Lets pending promise callbacks (probe completions) run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
}

/** A clock whose timers fire only when the test advances it, in due order, with promises flushed between them. */
export class FakeClock implements Clock {
  private t: number;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();

  constructor(start = 1_000_000) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle as number);
  }

  pending(): number {
    return this.timers.size;
  }

  async advance(ms: number): Promise<void> {
    const target = this.t + ms;
    await flush();
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.timers) if (e[1].at <= target && (!next || e[1].at < next[1].at)) next = e;
      if (!next) break;
      this.timers.delete(next[0]);
      this.t = Math.max(this.t, next[1].at);
      next[1].fn();
      await flush();
    }
    this.t = target;
    await flush();
  }
}

export interface Call {
  kind: 'httpGet' | 'tcp' | 'exec';
  target: string;
  at: number;
}

/**
 * Answers probes from a script: `next` is consulted per call (default success). A 'hang' answer returns a promise
 * the test settles through `release()`.
 */
export class FakeExecutor implements ProbeExecutor {
  calls: Call[] = [];
  answer: ExecutorResult['result'] | 'hang' | 'error' = 'success';
  private hung: Array<(r: ExecutorResult) => void> = [];

  constructor(private readonly clock: Clock) {}

  httpGet(url: string): Promise<ExecutorResult> {
    return this.respond('httpGet', url);
  }
  tcp(host: string, port: number): Promise<ExecutorResult> {
    return this.respond('tcp', `${host}:${port}`);
  }
  exec(containerId: string, command: string[]): Promise<ExecutorResult> {
    return this.respond('exec', `${containerId} ${command.join(' ')}`);
  }

  release(result: ExecutorResult['result'] = 'success'): void {
    const waiting = this.hung;
    this.hung = [];
    for (const r of waiting) r({ result, output: '' });
  }

  inFlight(): number {
    return this.hung.length;
  }

  private respond(kind: Call['kind'], target: string): Promise<ExecutorResult> {
    this.calls.push({ kind, target, at: this.clock.now() });
    if (this.answer === 'hang') return new Promise((resolve) => this.hung.push(resolve));
    if (this.answer === 'error') return Promise.reject(new Error('runtime unavailable'));
    return Promise.resolve({ result: this.answer, output: '' });
  }
}

export function probe(overrides: Partial<ProbeSpec> = {}): ProbeSpec {
  return {
    exec: { command: ['true'] },
    timeoutSeconds: 1,
    periodSeconds: 10,
    successThreshold: 1,
    failureThreshold: 3,
    initialDelaySeconds: 0,
    ...overrides,
  };
}
