/**
 * Milliseconds since some epoch. Lease expiry reads time only through this, so tests (and a Raft leader, which
 * owns expiry) control it; the replicated state itself never depends on it.
 */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that moves only when told to. */
export class ManualClock implements Clock {
  constructor(private current = 0) {}

  now(): number {
    return this.current;
  }

  advance(ms: number): void {
    this.current += ms;
  }

  set(ms: number): void {
    this.current = ms;
  }
}
