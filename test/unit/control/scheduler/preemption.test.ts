import { describe, expect, it } from 'vitest';
import { pickCandidate, preempt, selectVictimsOnNode, splitByPDBViolation } from '../../../../control/scheduler/preemption.js';
import { schedulePod } from '../../../../control/scheduler/schedule.js';
import { makePodInfo, Snapshot } from '../../../../control/scheduler/snapshot.js';
import type { PdbLike, SchedPod } from '../../../../control/scheduler/types.js';
import { info, node, on, pod } from './fixtures.js';

function run(s: Snapshot, p: SchedPod): ReturnType<typeof preempt> {
  const r = schedulePod(p, s);
  if ('node' in r) throw new Error(`fits on ${r.node}`);
  return preempt(makePodInfo(p, s.priority), s, r.diagnosis);
}

const victims = (r: ReturnType<typeof preempt>): string => ('node' in r ? `${r.node}: ${r.victims.map((v) => v.pod.metadata.name).join(',')}` : r.message);

describe('preemption', () => {
  it('evicts only lower-priority pods, as few as needed', () => {
    const s = Snapshot.from({ nodes: [node('n1', { cpu: '4' })], pods: [on('n1', 'low1', { cpu: '1', priority: 1 }), on('n1', 'low2', { cpu: '2', priority: 2 }), on('n1', 'high', { cpu: '1', priority: 100 })] });
    // The node is full and the pod needs 2 cpu. low2 (the more important victim) is offered a reprieve first, but
    // keeping it leaves only low1's 1 cpu to free; evicting low2 alone is enough, so low1 is reprieved.
    expect(victims(run(s, pod('p', { cpu: '2', priority: 50 })))).toBe('n1: low2');
  });

  it('prefers the node whose victims have the lowest priority', () => {
    const s = Snapshot.from({ nodes: [node('n1', { cpu: '1' }), node('n2', { cpu: '1' })], pods: [on('n1', 'a', { cpu: '1', priority: 5 }), on('n2', 'b', { cpu: '1', priority: 1 })] });
    expect(victims(run(s, pod('p', { cpu: '1', priority: 10 })))).toBe('n2: b');
  });

  it('prefers fewer victims at equal priorities', () => {
    const s = Snapshot.from({
      nodes: [node('n1', { cpu: '2' }), node('n2', { cpu: '2' })],
      pods: [on('n1', 'a', { cpu: '1', priority: 1 }), on('n1', 'b', { cpu: '1', priority: 1 }), on('n2', 'c', { cpu: '2', priority: 1 })],
    });
    expect(victims(run(s, pod('p', { cpu: '2', priority: 10 })))).toBe('n2: c');
  });

  it('honors PodDisruptionBudgets: a node without violations wins', () => {
    const pdb: PdbLike = { metadata: { name: 'db', namespace: 'default' }, spec: { selector: { matchLabels: { app: 'db' } } }, status: { disruptionsAllowed: 0 } };
    const s = Snapshot.from({
      nodes: [node('n1', { cpu: '1' }), node('n2', { cpu: '1' })],
      pods: [on('n1', 'db', { cpu: '1', priority: 1, labels: { app: 'db' } }), on('n2', 'web', { cpu: '1', priority: 5 })],
      pdbs: [pdb],
    });
    expect(victims(run(s, pod('p', { cpu: '1', priority: 10 })))).toBe('n2: web');
  });

  it('says why when no lower-priority pod helps', () => {
    const s = Snapshot.from({ nodes: [node('n1', { cpu: '1' }), node('n2', { cpu: '1', unschedulable: true })], pods: [on('n1', 'a', { cpu: '1', priority: 100 })] });
    expect(victims(run(s, pod('p', { cpu: '1', priority: 10 })))).toBe('preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, 1 Preemption is not helpful for scheduling.');
  });

  it('is not eligible with preemptionPolicy Never', () => {
    const s = Snapshot.from({ nodes: [node('n1', { cpu: '1' })], pods: [on('n1', 'a', { cpu: '1', priority: 1 })] });
    expect(victims(run(s, pod('p', { cpu: '1', priority: 10, preemptionPolicy: 'Never' })))).toBe('preemption: not eligible due to preemptionPolicy=Never.');
  });

  it('takes priority from the PriorityClass when spec.priority is unset', () => {
    const s = Snapshot.from({
      nodes: [node('n1', { cpu: '1' })],
      pods: [on('n1', 'a', { cpu: '1' })],
      priorityClasses: [{ metadata: { name: 'high' }, value: 1000 }],
    });
    expect(victims(run(s, pod('p', { cpu: '1', priorityClassName: 'high' })))).toBe('n1: a');
  });

  it('anti-affinity: evicting the conflicting lower-priority pod makes room', () => {
    const anti = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'web' } }, topologyKey: 'kubernetes.io/hostname' }] } };
    const s = Snapshot.from({ nodes: [node('n1')], pods: [on('n1', 'w', { labels: { app: 'web' }, priority: 1 }), on('n1', 'x', { priority: 1 })] });
    expect(victims(run(s, pod('p', { labels: { app: 'web' }, affinity: anti, priority: 10 })))).toBe('n1: w');
  });

  it('selectVictimsOnNode finds nothing without lower-priority pods', () => {
    const s = Snapshot.from({ nodes: [node('n1', { cpu: '1' })], pods: [on('n1', 'a', { cpu: '1', priority: 10 })] });
    expect(selectVictimsOnNode(makePodInfo(pod('p', { cpu: '1', priority: 10 })), s.nodes.get('n1')!, s)).toBeUndefined();
  });

  it('splitByPDBViolation spends the allowed disruptions in order', () => {
    const pdb: PdbLike = { metadata: { name: 'b', namespace: 'default' }, spec: { selector: { matchLabels: { app: 'x' } } }, status: { disruptionsAllowed: 1 } };
    const pods = [info(on('n', 'a', { labels: { app: 'x' } })), info(on('n', 'b', { labels: { app: 'x' } })), info(on('n', 'c'))];
    const r = splitByPDBViolation(pods, [pdb]);
    expect(r.violating.map((p) => p.pod.metadata.name)).toEqual(['b']);
    expect(r.nonViolating.map((p) => p.pod.metadata.name)).toEqual(['a', 'c']);
  });

  it('pickCandidate: fewest PDB violations first', () => {
    const a = { node: 'a', victims: [info(pod('x', { priority: 1 }))], numPDBViolations: 1 };
    const b = { node: 'b', victims: [info(pod('y', { priority: 9 })), info(pod('z', { priority: 9 }))], numPDBViolations: 0 };
    expect(pickCandidate([a, b])?.node).toBe('b');
  });
});
