import { describe, expect, it } from 'vitest';
import { WorkQueue } from '../../../../control/client/index.js';
import { manualClock } from './manual-clock.js';


describe('work queue', () => {
  it('queues a key once, and processes a key added while processing once more afterwards', async () => {
    const q = new WorkQueue(manualClock());
    q.add('a');
    q.add('a');
    q.add('b');
    expect(q.length).toBe(2);
    const k = await q.get();
    expect(k).toBe('a');
    q.add('a');
    expect(q.length).toBe(1);
    q.done('a');
    expect(q.length).toBe(2);
    expect(await q.get()).toBe('b');
    expect(await q.get()).toBe('a');
  });

  it('backs off failing keys exponentially and forgets on success', async () => {
    const clock = manualClock();
    const q = new WorkQueue(clock, 10, 1000);
    q.addRateLimited('x');
    expect(q.length).toBe(0);
    clock.advance(10);
    expect(q.length).toBe(1);
    await q.get();
    q.done('x');
    q.addRateLimited('x');
    clock.advance(10);
    expect(q.length).toBe(0);
    clock.advance(10);
    expect(q.length).toBe(1);
    expect(q.numRequeues('x')).toBe(2);
    q.forget('x');
    expect(q.numRequeues('x')).toBe(0);
  });

  it('hands keys to a waiting worker and releases workers on shutdown', async () => {
    const q = new WorkQueue(manualClock());
    const waiting = q.get();
    q.add('k');
    expect(await waiting).toBe('k');
    const idle = q.get();
    q.shutDown();
    expect(await idle).toBeUndefined();
  });
});
