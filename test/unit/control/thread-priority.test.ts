import { describe, expect, it } from 'vitest';
import { lowerBackgroundThreads, type ThreadPriorityDeps } from '../../../control/thread-priority.js';

/** A process's threads as /proc lists them, with the nice value each has; setPriority records the change. */
function fakeThreads(nice: Record<string, number>, gone: string[] = []): ThreadPriorityDeps & { nice: Record<string, number> } {
  return {
    nice,
    listThreads: () => [...Object.keys(nice), ...gone],
    getPriority: (id) => {
      const n = nice[String(id)];
      if (n === undefined) throw new Error('ESRCH');
      return n;
    },
    setPriority: (id, n) => {
      if (nice[String(id)] === undefined) throw new Error('ESRCH');
      nice[String(id)] = n;
    },
  };
}

describe('lowerBackgroundThreads', () => {
  it('runs every thread but the main one the given steps below the main thread', () => {
    const deps = fakeThreads({ '100': 0, '101': 0, '102': 0, '107': 0 });
    expect(lowerBackgroundThreads(10, 100, deps)).toEqual([101, 102, 107]);
    expect(deps.nice).toEqual({ '100': 0, '101': 10, '102': 10, '107': 10 });
  });

  it('counts from the main thread\'s own priority, stops at 19, and leaves threads already lower', () => {
    const deps = fakeThreads({ '200': 5, '201': 5, '202': 19 });
    expect(lowerBackgroundThreads(10, 200, deps)).toEqual([201]);
    expect(deps.nice).toEqual({ '200': 5, '201': 15, '202': 19 });
    const niced = fakeThreads({ '300': 15, '301': 15 });
    lowerBackgroundThreads(10, 300, niced);
    expect(niced.nice['301']).toBe(19);
  });

  it('skips a thread that ended between the listing and the change, and does nothing without /proc', () => {
    const deps = fakeThreads({ '400': 0, '401': 0 }, ['402']);
    expect(lowerBackgroundThreads(10, 400, deps)).toEqual([401]);
    const noProc: ThreadPriorityDeps = { ...deps, listThreads: () => { throw new Error('ENOENT'); } };
    expect(lowerBackgroundThreads(10, 400, noProc)).toEqual([]);
  });
});
