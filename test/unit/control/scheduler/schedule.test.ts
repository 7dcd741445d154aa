import { describe, expect, it } from 'vitest';
import { fitErrorMessage, reasonHistogram, schedulePod } from '../../../../control/scheduler/schedule.js';
import { Snapshot } from '../../../../control/scheduler/snapshot.js';
import { expr, node, on, pod, requiredNodeAffinity, setup } from './fixtures.js';

const message = (r: ReturnType<typeof schedulePod>): string => ('message' in r ? r.message : `scheduled on ${r.node}`);

describe('schedulePod', () => {
  it('words a failure as upstream: counts per reason, sorted', () => {
    const s = setup([node('n1', { unschedulable: true }), node('n2', { cpu: '1' }), node('n3', { cpu: '1' })]);
    expect(message(schedulePod(pod('p', { cpu: '2' }), s))).toBe('0/3 nodes are available: 1 node(s) were unschedulable, 2 Insufficient cpu.');
  });

  it('a node counts once per reason, the first failing filter wins', () => {
    const s = setup([
      node('n1', { unschedulable: true, cpu: '1' }),
      node('n2', { cpu: '1', memory: '1Gi' }),
      node('n3', { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] }),
      node('n4', { labels: { zone: 'b' } }),
    ]);
    const p = pod('p', { cpu: '2', memory: '2Gi', affinity: requiredNodeAffinity([expr('zone', 'NotIn', ['b'])]) });
    expect(message(schedulePod(p, s))).toBe(
      "0/4 nodes are available: 1 Insufficient cpu, 1 Insufficient memory, 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) had untolerated taint {dedicated: gpu}, 1 node(s) were unschedulable.",
    );
  });

  it('has its own message when there are no nodes', () => {
    expect(message(schedulePod(pod('p'), new Snapshot()))).toBe('no nodes available to schedule pods');
  });

  it('picks the best scored node: least allocated', () => {
    const s = setup([node('busy'), node('idle')], [on('busy', 'a', { cpu: '3', memory: '6Gi' })]);
    expect(message(schedulePod(pod('p', { cpu: '500m', memory: '512Mi' }), s))).toBe('scheduled on idle');
  });

  it('taint preference outweighs a little load', () => {
    const s = setup([node('soft', { taints: [{ key: 'k', effect: 'PreferNoSchedule' }] }), node('loaded')], [on('loaded', 'a', { cpu: '1' })]);
    expect(message(schedulePod(pod('p', { cpu: '100m' }), s))).toBe('scheduled on loaded');
  });

  it('breaks ties with the random source', () => {
    const s = setup([node('n1'), node('n2'), node('n3')]);
    expect(message(schedulePod(pod('p'), s, { random: () => 0.99 }))).toBe('scheduled on n1');
    expect(message(schedulePod(pod('p'), s, { random: () => 0 }))).toBe('scheduled on n3');
  });

  it('does not change the snapshot', () => {
    const s = setup([node('n1')]);
    schedulePod(pod('p', { cpu: '1' }), s);
    expect(s.nodes.get('n1')?.pods.size).toBe(0);
  });

  it('accounts for pods nominated to a node with at least its priority', () => {
    const s = setup([node('n1', { cpu: '2' })]);
    s.nominate(pod('big', { cpu: '2', priority: 100 }), 'n1');
    expect(message(schedulePod(pod('p', { cpu: '1', priority: 10 }), s))).toBe('0/1 nodes are available: 1 Insufficient cpu.');
    expect(message(schedulePod(pod('p', { cpu: '1', priority: 1000 }), s))).toBe('scheduled on n1');
  });

  it('schedules many pods by assuming each, filling nodes evenly', () => {
    const s = setup([node('n1', { cpu: '2' }), node('n2', { cpu: '2' })]);
    const placed: string[] = [];
    for (let i = 0; i < 4; i++) {
      const p = pod(`p${i}`, { cpu: '1' });
      const r = schedulePod(p, s);
      if (!('node' in r)) throw new Error(r.message);
      placed.push(r.node);
      s.setPod(p, { nodeName: r.node, assumed: true });
    }
    expect(placed.sort()).toEqual(['n1', 'n1', 'n2', 'n2']);
    expect(message(schedulePod(pod('p5', { cpu: '1' }), s))).toBe('0/2 nodes are available: 2 Insufficient cpu.');
  });
});

describe('fitErrorMessage', () => {
  it('appends the post-filter message', () => {
    const d = { numAllNodes: 2, nodeToStatus: new Map([['a', { ok: false as const, reasons: ['Insufficient cpu'] }], ['b', { ok: false as const, reasons: ['Insufficient cpu'] }]]) };
    expect(fitErrorMessage(d, 'preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.')).toBe(
      '0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.',
    );
  });

  it('sorts the histogram as strings (so 10 sorts before 2)', () => {
    const statuses = [...Array.from({ length: 10 }, () => ({ reasons: ['b'] })), { reasons: ['a'] }, { reasons: ['a'] }];
    expect(reasonHistogram(statuses)).toEqual(['10 b', '2 a']);
  });
});
