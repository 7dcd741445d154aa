import { describe, expect, it } from 'vitest';
import { dutyCyclePacer, type PacerClock } from '../../../lib/event-loop.js';

/** A clock that moves only when told to; sleeping records the wait and moves it on by that much. */
function fakeClock(): PacerClock & { at: number; slept: number[] } {
  const clock = {
    at: 1000,
    slept: [] as number[],
    now: () => clock.at,
    sleep: async (ms: number) => {
      clock.slept.push(ms);
      clock.at += ms;
    },
  };
  return clock;
}

describe('dutyCyclePacer', () => {
  it('waits after each slice so that the slices take the given share of the time', async () => {
    const clock = fakeClock();
    const pace = dutyCyclePacer(0.1, clock);
    clock.at += 3; // a slice of 3 ms
    await pace();
    clock.at += 2;
    await pace();
    expect(clock.slept.map((ms) => Math.round(ms * 1000) / 1000)).toEqual([27, 18]);
    // Five slice-milliseconds in 50 ms.
    expect(clock.at - 1000).toBeCloseTo(50, 6);
  });

  it('counts a slice from the end of the wait before it, and lets a slice too short to wait for go on next turn', async () => {
    const clock = fakeClock();
    const pace = dutyCyclePacer(0.5, clock);
    clock.at += 0.4; // under a millisecond of waiting owed: no timer
    await pace();
    clock.at += 4;
    await pace();
    expect(clock.slept).toEqual([4]);
  });

  it('refuses a share outside (0, 1]', () => {
    expect(() => dutyCyclePacer(0)).toThrow(RangeError);
    expect(() => dutyCyclePacer(1.5)).toThrow(RangeError);
    expect(() => dutyCyclePacer(Number.NaN)).toThrow(RangeError);
  });
});
