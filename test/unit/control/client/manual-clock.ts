import type { QueueClock } from '../../../../control/client/index.js';

/** A QueueClock that moves only when told to, firing the timers that fall due. */
export function manualClock(start = 0): QueueClock & { advance(ms: number): void } {
  let now = start;
  const timers: Array<{ at: number; fn: () => void; cancelled: boolean }> = [];
  return {
    now: () => now,
    setTimeout(fn, ms) {
      const t = { at: now + ms, fn, cancelled: false };
      timers.push(t);
      return { cancel: () => (t.cancelled = true) };
    },
    advance(ms) {
      now += ms;
      for (const t of timers.filter((x) => !x.cancelled && x.at <= now)) {
        t.cancelled = true;
        t.fn();
      }
    },
  };
}
