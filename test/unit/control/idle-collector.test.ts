import { describe, expect, it } from 'vitest';
import { IdleCollector } from '../../../control/idle-collector.js';

/** A collector fed a scripted series of event-loop utilizations, counting its collections. */
function scripted(windows: number[]): { collector: IdleCollector; collections: () => number; stepAll: () => boolean[] } {
  let i = 0;
  let collections = 0;
  const collector = new IdleCollector({ utilization: () => windows[i++] ?? 0, collect: () => collections++ });
  return { collector, collections: () => collections, stepAll: () => windows.map(() => collector.step()) };
}

describe('IdleCollector: one full collection when the process goes quiet after work', () => {
  it('collects after a busy window followed by two quiet ones, once per burst', () => {
    const s = scripted([0.9, 0.6, 0.01, 0.01, 0.01, 0.01, 0.01]);
    expect(s.stepAll()).toEqual([false, false, false, true, false, false, false]);
    expect(s.collections()).toBe(1);
  });

  it('never collects in a process that stays idle or only ticks over', () => {
    const s = scripted([0.01, 0.03, 0.0, 0.04, 0.01, 0.02]);
    s.stepAll();
    expect(s.collections()).toBe(0);
  });

  it('waits out a trickle of work that is neither busy nor quiet, then collects', () => {
    // A burst, then a backlog worked off slowly (10-15% of the loop), then quiet.
    const s = scripted([0.95, 0.12, 0.1, 0.15, 0.01, 0.11, 0.01, 0.01]);
    expect(s.stepAll()).toEqual([false, false, false, false, false, false, false, true]);
  });

  it('collects again after the next burst, the window holding the collection aside', () => {
    const s = scripted([0.8, 0.0, 0.0, 0.0, 0.5, 0.0, 0.0, 0.0]);
    expect(s.stepAll()).toEqual([false, false, true, false, false, false, true, false]);
    expect(s.collections()).toBe(2);
  });

  it('settles a collection at the first window that is not quiet, or after settleWindows quiet ones', () => {
    const run = (windows: number[]): { settled: number[]; collected: boolean[] } => {
      let i = 0;
      const settled: number[] = [];
      const collector = new IdleCollector({ utilization: () => windows[i++] ?? 0, collect: () => undefined, settle: () => settled.push(i - 1), settleWindows: 3 });
      return { settled, collected: windows.map(() => collector.step()) };
    };
    // Quiet after the collection (window 2; window 3 holds its pause): settled at the third quiet window after that.
    expect(run([0.9, 0.01, 0.01, 0.9, 0.01, 0.01, 0.01, 0.01]).settled).toEqual([6]);
    // Work resumes (window 4): settled there, and the burst's own collection settles in its turn.
    const resumed = run([0.9, 0.01, 0.01, 0.01, 0.5, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01]);
    expect(resumed.collected).toEqual([false, false, true, false, false, false, true, false, false, false, false]);
    expect(resumed.settled).toEqual([4, 10]);
    // No collection, nothing to settle.
    expect(run([0.01, 0.01, 0.01, 0.01, 0.01]).settled).toEqual([]);
  });
});
