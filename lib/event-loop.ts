/**
 * Resolves on the event loop's next check phase, after pending I/O has been handled: what long work in slices awaits
 * between slices so that requests and timers are served in between (a resolved promise alone would not let them).
 */
export const nextTurn = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve));

/** The clock a DutyCyclePacer reads and waits by (the real one unless a test gives its own). */
export interface PacerClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

const realClock: PacerClock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
};

/**
 * What background work done in slices awaits between slices so that it takes at most `share` of the thread: after a
 * slice that ran for d ms it waits d * (1 - share) / share ms (the next turn, when that is under a millisecond). A
 * slice per turn alone takes whatever the turns leave: under a load of short turns a snapshot took a fifth of the
 * thread for half a second, and every request in that time waited a quarter longer. Paced, the same work takes longer
 * and slows them by `share` at most.
 */
export function dutyCyclePacer(share: number, clock: PacerClock = realClock): () => Promise<void> {
  if (!(share > 0 && share <= 1)) throw new RangeError(`pacer share must be in (0, 1], got ${share}`);
  let sliceStart = clock.now();
  return async () => {
    const spent = clock.now() - sliceStart;
    const rest = (spent * (1 - share)) / share;
    await (rest >= 1 ? clock.sleep(rest) : nextTurn());
    sliceStart = clock.now();
  };
}
