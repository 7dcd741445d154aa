import { describe, expect, it } from 'vitest';
import { Backoff, DEFAULT_CRASHLOOP_BACKOFF } from '../../../../agent/kuberuntime/backoff.js';

const T0 = 1_000_000_000;

describe('Backoff (CrashLoopBackOff)', () => {
  it('has upstream defaults: 10s initial, 300s maximum', () => {
    expect(DEFAULT_CRASHLOOP_BACKOFF.initialMs).toBe(10_000);
    expect(DEFAULT_CRASHLOOP_BACKOFF.maxMs).toBe(300_000);
  });

  it('lets the first restart happen at once', () => {
    const b = new Backoff(DEFAULT_CRASHLOOP_BACKOFF);
    expect(b.remaining('pod/app', T0, T0)).toBe(0);
    expect(b.delay('pod/app')).toBe(0);
  });

  it('doubles from 10s up to 300s and stays there', () => {
    const b = new Backoff(DEFAULT_CRASHLOOP_BACKOFF);
    const seen: number[] = [];
    for (let i = 0; i < 8; i++) {
      b.next('k', T0 + i * 1000, 1000);
      seen.push(b.delay('k'));
    }
    expect(seen).toEqual([10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000]);
  });

  it('counts the wait from the given time (the container finish time)', () => {
    const b = new Backoff(DEFAULT_CRASHLOOP_BACKOFF);
    b.next('k', T0);
    b.next('k', T0); // 20s now
    const finished = T0 + 5000;
    expect(b.remaining('k', finished, finished)).toBe(20_000);
    expect(b.remaining('k', finished, finished + 15_000)).toBe(5000);
    expect(b.remaining('k', finished, finished + 20_000)).toBe(0);
    expect(b.remaining('k', finished, finished + 60_000)).toBe(0);
  });

  it('starts again from the initial delay after a run at least resetAfterMs long', () => {
    const b = new Backoff(DEFAULT_CRASHLOOP_BACKOFF);
    for (let i = 0; i < 5; i++) b.next('k', T0);
    expect(b.delay('k')).toBe(160_000);
    b.next('k', T0, DEFAULT_CRASHLOOP_BACKOFF.resetAfterMs - 1);
    expect(b.delay('k')).toBe(300_000);
    b.next('k', T0, DEFAULT_CRASHLOOP_BACKOFF.resetAfterMs);
    expect(b.delay('k')).toBe(10_000);
  });

  it('keeps keys apart; reset and forgetPrefix drop them', () => {
    const b = new Backoff({ initialMs: 100, maxMs: 1000, resetAfterMs: 5000 });
    b.next('uid1/a', T0);
    b.next('uid1/a', T0);
    b.next('uid1/b', T0);
    b.next('uid2/a', T0);
    expect([b.delay('uid1/a'), b.delay('uid1/b'), b.delay('uid2/a')]).toEqual([200, 100, 100]);
    b.reset('uid1/b');
    expect(b.delay('uid1/b')).toBe(0);
    b.forgetPrefix('uid1/');
    expect(b.delay('uid1/a')).toBe(0);
    expect(b.delay('uid2/a')).toBe(100);
  });

  it('gc drops entries unused for more than twice the maximum, and only those', () => {
    const b = new Backoff({ initialMs: 100, maxMs: 1000, resetAfterMs: 5000 });
    b.next('old', T0);
    b.next('fresh', T0 + 1500);
    b.gc(T0 + 2000);
    expect(b.delay('old')).toBe(100);
    b.gc(T0 + 2001);
    expect(b.delay('old')).toBe(0);
    expect(b.delay('fresh')).toBe(100);
  });
});
