import { describe, expect, it } from 'vitest';
import { EventCorrelator, type EventFacts } from '../../../../control/client/event-correlator.js';

const pod = (name: string): EventFacts['involvedObject'] => ({ kind: 'Pod', apiVersion: 'v1', namespace: 'default', name, uid: `uid-${name}` });
const failed = (name: string, message = '0/0 nodes are available'): EventFacts => ({ component: 'default-scheduler', involvedObject: pod(name), type: 'Warning', reason: 'FailedScheduling', message });

function withClock(opts: ConstructorParameters<typeof EventCorrelator>[0] = {}): { c: EventCorrelator; advance(ms: number): void } {
  let now = 1_000_000;
  return { c: new EventCorrelator({ ...opts, now: () => now }), advance: (ms) => (now += ms) };
}

describe('EventCorrelator', () => {
  it('creates an event the first time and bumps its count on exact repeats', () => {
    const { c } = withClock();
    expect(c.correlate(failed('a'), 'a.1')).toEqual({ action: 'create', key: expect.any(String), name: 'a.1', message: '0/0 nodes are available' });
    expect(c.correlate(failed('a'), 'a.2')).toMatchObject({ action: 'patch', name: 'a.1', count: 2 });
    expect(c.correlate(failed('a'), 'a.3')).toMatchObject({ action: 'patch', name: 'a.1', count: 3 });
    // Another object is another event.
    expect(c.correlate(failed('b'), 'b.1')).toMatchObject({ action: 'create', name: 'b.1' });
  });

  it('holds one source and object to a burst of 25, refilled at one event every 5 minutes', () => {
    const { c, advance } = withClock();
    for (let i = 0; i < 25; i++) expect(c.correlate(failed('a'), `a.${i}`).action).not.toBe('skip');
    expect(c.correlate(failed('a'), 'a.x')).toEqual({ action: 'skip' });
    // Other objects have their own budget.
    expect(c.correlate(failed('b'), 'b.1').action).toBe('create');
    advance(299_000);
    expect(c.correlate(failed('a'), 'a.y')).toEqual({ action: 'skip' });
    advance(1_000);
    // The skipped repeats were still counted, as upstream observes before it filters.
    expect(c.correlate(failed('a'), 'a.z')).toMatchObject({ action: 'patch', name: 'a.0', count: 28 });
    expect(c.correlate(failed('a'), 'a.w')).toEqual({ action: 'skip' });
  });

  it('combines the 10th distinct message of one reason within 10 minutes into one aggregate event', () => {
    const { c, advance } = withClock();
    for (let i = 1; i <= 9; i++) expect(c.correlate(failed('a', `message ${i}`), `a.${i}`)).toMatchObject({ action: 'create', message: `message ${i}` });
    expect(c.correlate(failed('a', 'message 10'), 'a.10')).toMatchObject({ action: 'create', name: 'a.10', message: '(combined from similar events): message 10' });
    expect(c.correlate(failed('a', 'message 11'), 'a.11')).toMatchObject({ action: 'patch', name: 'a.10', count: 2, message: '(combined from similar events): message 11' });
    // After 10 quiet minutes the messages are counted afresh.
    advance(600_001);
    expect(c.correlate(failed('a', 'message 12'), 'a.12')).toMatchObject({ action: 'create', name: 'a.12', message: 'message 12' });
  });

  it('creates a fresh event after a failed write, and counts on from one recreated in place of a vanished one', () => {
    const { c } = withClock();
    const first = c.correlate(failed('a'), 'a.1');
    c.forget(first.action === 'create' ? first.key : '');
    expect(c.correlate(failed('a'), 'a.2')).toMatchObject({ action: 'create', name: 'a.2' });
    const bump = c.correlate(failed('a'), 'a.3');
    expect(bump).toMatchObject({ action: 'patch', name: 'a.2', count: 2 });
    c.recreated(bump.action === 'patch' ? bump.key : '', 'a.3');
    expect(c.correlate(failed('a'), 'a.4')).toMatchObject({ action: 'patch', name: 'a.3', count: 2 });
  });

  it('forgets the least recently used keys beyond its cache size', () => {
    const { c } = withClock({ cacheSize: 2 });
    c.correlate(failed('a'), 'a.1');
    c.correlate(failed('b'), 'b.1');
    c.correlate(failed('c'), 'c.1');
    expect(c.correlate(failed('a'), 'a.2')).toMatchObject({ action: 'create', name: 'a.2' });
    expect(c.correlate(failed('c'), 'c.2')).toMatchObject({ action: 'patch', name: 'c.1' });
  });
});
