/**
 * Resolves on the event loop's next check phase, after pending I/O has been handled: what long work in slices awaits
 * between slices so that requests and timers are served in between (a resolved promise alone would not let them).
 */
export const nextTurn = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve));
