import { describe, expect, it } from 'vitest';
import { SchedulingQueue } from '../../../../control/scheduler/queue.js';
import { FakeClock, pod } from './fixtures.js';

function makeQueue() {
  const clock = new FakeClock();
  const q = new SchedulingQueue({ clock });
  return { clock, q };
}

describe('SchedulingQueue', () => {
  it('pops by priority, then by arrival', async () => {
    const { clock, q } = makeQueue();
    q.add(pod('low', { priority: 1 }));
    clock.advance(1);
    q.add(pod('high', { priority: 100 }));
    clock.advance(1);
    q.add(pod('low2', { priority: 1 }));
    q.add(pod('mid', { priority: 50 }));
    const order: string[] = [];
    for (let i = 0; i < 4; i++) order.push((await q.pop())!.key);
    expect(order).toEqual(['default/high', 'default/mid', 'default/low', 'default/low2']);
  });

  it('a pop waits for the next add', async () => {
    const { q } = makeQueue();
    const next = q.pop();
    q.add(pod('p'));
    expect((await next)?.key).toBe('default/p');
  });

  it('keeps unschedulable pods until a cluster event, then backs them off 1s doubling to 10s', async () => {
    const { clock, q } = makeQueue();
    q.add(pod('p'));
    let qp = (await q.pop())!;
    q.requeueFailed(qp, 'unschedulable');
    expect(q.dump().unschedulable).toEqual(['default/p']);
    clock.advance(60_000);
    expect(q.dump().unschedulable).toEqual(['default/p']);
    // The event comes long after the 1 s backoff: straight to active.
    q.moveAllToActiveOrBackoff();
    expect(q.dump().active).toEqual(['default/p']);
    qp = (await q.pop())!;
    expect(qp.attempts).toBe(2);
    q.requeueFailed(qp, 'unschedulable');
    // An event right after the failure: the pod serves its 2 s backoff first.
    q.moveAllToActiveOrBackoff();
    expect(q.dump().backoff).toEqual(['default/p']);
    clock.advance(1999);
    expect(q.dump().backoff).toEqual(['default/p']);
    clock.advance(1);
    expect(q.dump().active).toEqual(['default/p']);
  });

  it('backoff durations', () => {
    const { q } = makeQueue();
    expect([1, 2, 3, 4, 5, 6].map((n) => q.backoffDuration(n))).toEqual([1000, 2000, 4000, 8000, 10_000, 10_000]);
  });

  it('errors go to backoff directly', async () => {
    const { clock, q } = makeQueue();
    q.add(pod('p'));
    q.requeueFailed((await q.pop())!, 'error');
    expect(q.dump().backoff).toEqual(['default/p']);
    clock.advance(1000);
    expect(q.dump().active).toEqual(['default/p']);
  });

  it('a cluster event during the attempt sends the failed pod to backoff, not unschedulable', async () => {
    const { q } = makeQueue();
    q.add(pod('p'));
    const qp = (await q.pop())!;
    q.moveAllToActiveOrBackoff();
    q.requeueFailed(qp, 'unschedulable');
    expect(q.dump()).toEqual({ active: [], backoff: ['default/p'], unschedulable: [] });
  });

  it('a pod deleted while it was being scheduled is dropped', async () => {
    const { q } = makeQueue();
    const p = pod('p');
    q.add(p);
    const qp = (await q.pop())!;
    q.delete(p);
    q.requeueFailed(qp, 'unschedulable');
    expect(q.dump()).toEqual({ active: [], backoff: [], unschedulable: [] });
  });

  it('a spec update moves an unschedulable pod; a status-only update does not', async () => {
    const { clock, q } = makeQueue();
    q.add(pod('p'));
    q.requeueFailed((await q.pop())!, 'unschedulable');
    clock.advance(5000);
    q.update(pod('p'), false);
    expect(q.dump().unschedulable).toEqual(['default/p']);
    q.update(pod('p', { cpu: '1' }), true);
    expect(q.dump().active).toEqual(['default/p']);
  });

  it('flushes pods left unschedulable too long', async () => {
    const clock = new FakeClock();
    const q = new SchedulingQueue({ clock, unschedulableTimeoutMs: 60_000 });
    q.add(pod('p'));
    q.requeueFailed((await q.pop())!, 'unschedulable');
    clock.advance(59_000);
    q.flushUnschedulableLeftover();
    expect(q.dump().unschedulable).toEqual(['default/p']);
    clock.advance(1000);
    q.flushUnschedulableLeftover();
    expect(q.dump().active).toEqual(['default/p']);
  });

  it('reports its lengths and closes', async () => {
    const seen: Array<Record<string, number>> = [];
    const q = new SchedulingQueue({ clock: new FakeClock(), onChange: (c) => seen.push(c) });
    q.add(pod('a'));
    expect(seen.at(-1)).toEqual({ active: 1, backoff: 0, unschedulable: 0 });
    await q.pop();
    const waiting = q.pop();
    q.close();
    expect(await waiting).toBeUndefined();
  });
});
