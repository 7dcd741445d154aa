import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { KubeClient, parseRateLimit, RateLimiter, RateLimiterClosedError, TokenBucket, type QueueClock } from '../../../../control/client/index.js';

/** A clock that moves only when told to, firing the timers that fall due; says which are still waiting. */
function handClock(): QueueClock & { advance(ms: number): void; sleeping(): number[] } {
  let now = 0;
  const timers: Array<{ at: number; fn: () => void }> = [];
  return {
    now: () => now,
    setTimeout(fn, ms) {
      const t = { at: now + ms, fn };
      timers.push(t);
      return { cancel: () => void timers.splice(timers.indexOf(t), 1) };
    },
    advance(ms) {
      now += ms;
      for (const t of timers.filter((x) => x.at <= now)) {
        timers.splice(timers.indexOf(t), 1);
        t.fn();
      }
    },
    sleeping: () => timers.map((t) => t.at - now),
  };
}

describe('TokenBucket (client-go token bucket)', () => {
  it('lets a burst through at once, then spaces requests 1/qps apart in the order they asked', () => {
    let now = 0;
    const bucket = new TokenBucket({ qps: 10, burst: 3 }, () => now);
    expect([bucket.reserve(), bucket.reserve(), bucket.reserve()]).toEqual([0, 0, 0]);
    // Each further request reserves the next token to come: 100 ms, then 200, then 300 from now.
    expect([bucket.reserve(), bucket.reserve(), bucket.reserve()].map(Math.round)).toEqual([100, 200, 300]);
    now = 300;
    // Every reserved token has come; the bucket is empty again.
    expect(Math.round(bucket.reserve())).toBe(100);
  });

  it('refills at qps after a quiet spell, never above the burst', () => {
    let now = 0;
    const bucket = new TokenBucket({ qps: 2, burst: 2 }, () => now);
    bucket.reserve();
    bucket.reserve();
    expect(Math.round(bucket.reserve())).toBe(500);
    now = 60_000;
    expect([bucket.reserve(), bucket.reserve()]).toEqual([0, 0]);
    expect(Math.round(bucket.reserve())).toBe(500);
  });

  it('reads qps 0 and burst 0 as client-go does (its defaults, 5/s and 10) and a negative qps as no limit', () => {
    const now = (): number => 0;
    const fiveBucket = new TokenBucket({ qps: 0, burst: 1 }, now);
    fiveBucket.reserve();
    expect(Math.round(fiveBucket.reserve())).toBe(200);
    // A burst of 0 is client-go's default burst, 10.
    const tenBucket = new TokenBucket({ qps: 1, burst: 0 }, now);
    expect(Array.from({ length: 10 }, () => tenBucket.reserve()).every((ms) => ms === 0)).toBe(true);
    expect(Math.round(tenBucket.reserve())).toBe(1000);
    const off = new TokenBucket({ qps: -1, burst: 1 }, now);
    expect(off.unlimited).toBe(true);
    expect(Array.from({ length: 1000 }, () => off.reserve()).every((ms) => ms === 0)).toBe(true);
  });

  it('RateLimiter waits on its clock only when the bucket is empty', async () => {
    const clock = handClock();
    const limiter = new RateLimiter({ qps: 1, burst: 1 }, clock);
    expect(limiter.wait()).toBeUndefined();
    const second = limiter.wait();
    expect(second).toBeInstanceOf(Promise);
    expect(clock.sleeping()).toEqual([1000]);
    clock.advance(1000);
    await second;
    expect(clock.sleeping()).toEqual([]);
  });

  it('closing fails the waits in progress and every later one, and cancels their timers', async () => {
    const clock = handClock();
    const limiter = new RateLimiter({ qps: 1, burst: 1 }, clock);
    limiter.wait();
    const waiting = [limiter.wait(), limiter.wait()];
    expect(clock.sleeping()).toEqual([1000, 2000]);
    limiter.close();
    for (const w of waiting) await expect(w).rejects.toBeInstanceOf(RateLimiterClosedError);
    expect(clock.sleeping()).toEqual([]);
    await expect(limiter.wait()).rejects.toBeInstanceOf(RateLimiterClosedError);
  });
});

describe('parseRateLimit (--kube-api-qps, --kube-api-burst)', () => {
  const defaults = { qps: 20, burst: 30 };
  it('keeps the defaults for what is not given and reads what is', () => {
    expect(parseRateLimit(undefined, undefined, defaults)).toEqual({ qps: 20, burst: 30 });
    expect(parseRateLimit('7.5', '12', defaults)).toEqual({ qps: 7.5, burst: 12 });
    expect(parseRateLimit('-1', '0', defaults)).toEqual({ qps: -1, burst: 0 });
  });
  it('says what is wrong with a bad value', () => {
    expect(parseRateLimit('fast', undefined, defaults)).toBe('--kube-api-qps: expected a number such as 20, got "fast"');
    expect(parseRateLimit('', undefined, defaults)).toMatch(/^--kube-api-qps: expected a number/);
    expect(parseRateLimit(undefined, '2.5', defaults)).toBe('--kube-api-burst: expected a whole number such as 30, got "2.5"');
    expect(parseRateLimit('5', '0', defaults)).toBe('--kube-api-burst: must be at least 1 while --kube-api-qps is not negative');
  });
});

describe('KubeClient with a rate limit', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    server = undefined;
  });

  /** An API server stand-in on 127.0.0.1 that answers every request with an empty object and counts them by User-Agent. */
  async function countingServer(): Promise<{ url: string; seen: string[] }> {
    const seen: string[] = [];
    server = createServer((req, res) => {
      seen.push(String(req.headers['user-agent']));
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{"metadata":{}}');
    });
    await new Promise<void>((r) => server?.listen(0, '127.0.0.1', () => r()));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
  }

  const pods = { group: '', version: 'v1', resource: 'pods' };

  it('sends a burst at once and holds the rest until the bucket refills; each limited client has a bucket of its own', async () => {
    const { url, seen } = await countingServer();
    const clock = handClock();
    const base = new KubeClient({ server: url }, 'skiff-test');
    const a = base.limited({ qps: 1, burst: 2 }, 'skiff-test/a', clock);
    const b = base.limited({ qps: 1, burst: 2 }, 'skiff-test/b', clock);
    expect(a.rateLimit).toEqual({ qps: 1, burst: 2 });
    expect(base.rateLimit).toBeUndefined();
    const calls = Array.from({ length: 4 }, (_, i) => a.get(pods, 'default', `p${i}`));
    const others = [b.get(pods, 'default', 'q0'), b.get(pods, 'default', 'q1')];
    await Promise.all(others);
    await expect.poll(() => seen.length, { timeout: 10_000 }).toBe(4);
    // a's burst of two and b's two went; a's other two wait 1 s and 2 s on the clock.
    expect(seen.filter((u) => u === 'skiff-test/a')).toHaveLength(2);
    expect(seen.filter((u) => u === 'skiff-test/b')).toHaveLength(2);
    expect(clock.sleeping()).toEqual([1000, 2000]);
    clock.advance(1000);
    clock.advance(1000);
    await Promise.all(calls);
    expect(seen.filter((u) => u === 'skiff-test/a')).toHaveLength(4);
    // The unlimited client it was made from never waits.
    await Promise.all(Array.from({ length: 10 }, (_, i) => base.get(pods, 'default', `r${i}`)));
    expect(seen.filter((u) => u === 'skiff-test')).toHaveLength(10);
    // Closing a limited client fails what waits in it, leaves the shared sockets open for the others.
    // (b's bucket refilled while the clock moved 2 s: two go at once, two wait.)
    const queued = ['q2', 'q3', 'q4', 'q5'].map((n) => b.get(pods, 'default', n));
    const fromA = a.get(pods, 'default', 'p4');
    b.close();
    await expect(Promise.allSettled(queued)).resolves.toMatchObject([{ status: 'fulfilled' }, { status: 'fulfilled' }, { status: 'rejected', reason: expect.any(RateLimiterClosedError) }, { status: 'rejected', reason: expect.any(RateLimiterClosedError) }]);
    clock.advance(1000);
    await expect(fromA).resolves.toEqual({ metadata: {} });
    await expect(base.get(pods, 'default', 'r10')).resolves.toEqual({ metadata: {} });
    base.close();
  });
});
