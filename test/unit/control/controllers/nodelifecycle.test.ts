import { describe, expect, it } from 'vitest';
import { allZonesFullyDisrupted, checkNodeHealth, computeZoneState, desiredTaints, markPodNotReady, podEviction, zoneOf, type NodeHealth } from '../../../../control/controllers/nodelifecycle.js';
import type { Node, Pod, Taint } from '../../../../control/controllers/objects.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const at = (s: number): Date => new Date(T0 + s * 1000);
const iso = (s: number): string => at(s).toISOString().replace(/\.\d{3}Z$/, 'Z');

function node(o: { ready?: string; heartbeat?: number; extra?: Array<{ type: string; status: string }>; taints?: Taint[]; unschedulable?: boolean } = {}): Node {
  return {
    metadata: { name: 'w1', creationTimestamp: iso(0) },
    spec: { ...(o.taints ? { taints: o.taints } : {}), ...(o.unschedulable ? { unschedulable: true } : {}) },
    status: {
      conditions: [
        ...(o.ready ? [{ type: 'Ready', status: o.ready, lastHeartbeatTime: iso(o.heartbeat ?? 0), lastTransitionTime: iso(0) }] : []),
        ...(o.extra ?? []).map((c) => ({ ...c, lastHeartbeatTime: iso(0), lastTransitionTime: iso(0) })),
      ],
    },
  };
}
const lease = (renew: number) => ({ metadata: { name: 'w1', namespace: 'kube-node-lease' }, spec: { renewTime: at(renew).toISOString() } });

describe('checkNodeHealth (injected clock)', () => {
  it('a node renewing its lease stays as it is; one silent past the grace period turns Unknown', () => {
    let h: NodeHealth | undefined;
    // Lease renewed every 10 s for a minute: never Unknown.
    for (let s = 0; s <= 60; s += 10) {
      const r = checkNodeHealth(h, node({ ready: 'True' }), lease(s), at(s));
      h = r.health;
      expect(r.conditions).toBeUndefined();
      expect(r.ready).toBe('True');
    }
    // Silent after 60 s: still fine at 110 s (exactly 50 s), Unknown at 111 s.
    expect(checkNodeHealth(h, node({ ready: 'True' }), lease(60), at(110)).conditions).toBeUndefined();
    const r = checkNodeHealth(h, node({ ready: 'True', extra: [{ type: 'MemoryPressure', status: 'False' }] }), lease(60), at(111));
    expect(r.ready).toBe('Unknown');
    expect(r.previousReady).toBe('True');
    expect(r.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.', lastTransitionTime: iso(111), lastHeartbeatTime: iso(0) });
    expect(r.conditions?.find((c) => c.type === 'MemoryPressure')).toMatchObject({ status: 'Unknown', reason: 'NodeStatusUnknown' });
    expect(r.conditions?.find((c) => c.type === 'DiskPressure')).toMatchObject({ status: 'Unknown', reason: 'NodeStatusNeverUpdated', message: 'Kubelet never posted node status.' });
    expect(r.conditions?.map((c) => c.type).sort()).toEqual(['DiskPressure', 'MemoryPressure', 'PIDPressure', 'Ready']);
  });

  it('a changed Ready heartbeat counts as hearing from the node, without a lease', () => {
    const h = checkNodeHealth(undefined, node({ ready: 'True', heartbeat: 0 }), undefined, at(0)).health;
    const h2 = checkNodeHealth(h, node({ ready: 'True', heartbeat: 40 }), undefined, at(40)).health;
    expect(checkNodeHealth(h2, node({ ready: 'True', heartbeat: 40 }), undefined, at(85)).conditions).toBeUndefined();
    expect(checkNodeHealth(h2, node({ ready: 'True', heartbeat: 40 }), undefined, at(91)).ready).toBe('Unknown');
  });

  it('honours --node-monitor-grace-period and, for a node that never reported, --node-startup-grace-period from its creation', () => {
    const h = checkNodeHealth(undefined, node({ ready: 'True' }), undefined, at(0)).health;
    expect(checkNodeHealth(h, node({ ready: 'True' }), undefined, at(5), { gracePeriodMs: 4000 }).ready).toBe('Unknown');
    expect(checkNodeHealth(undefined, node(), undefined, at(59)).conditions).toBeUndefined();
    const never = checkNodeHealth(undefined, node(), undefined, at(61));
    expect(never.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'Unknown', reason: 'NodeStatusNeverUpdated' });
    expect(checkNodeHealth(undefined, node(), undefined, at(3), { startupGracePeriodMs: 2000 }).ready).toBe('Unknown');
  });

  it('an Unknown node is not rewritten', () => {
    const h = checkNodeHealth(undefined, node({ ready: 'Unknown' }), undefined, at(0)).health;
    const r = checkNodeHealth(h, { ...node({ ready: 'Unknown', extra: [{ type: 'MemoryPressure', status: 'Unknown' }, { type: 'DiskPressure', status: 'Unknown' }, { type: 'PIDPressure', status: 'Unknown' }] }) }, undefined, at(100));
    expect(r.conditions).toBeUndefined();
    expect(r.ready).toBe('Unknown');
  });
});

describe('desiredTaints', () => {
  const keys = (t: Taint[]): string[] => t.map((x) => `${x.key}:${x.effect}`).sort();
  const table: Array<{ name: string; node: Node; ready: string; want: string[] }> = [
    { name: 'ready node: none', node: node({ ready: 'True' }), ready: 'True', want: [] },
    { name: 'unknown: unreachable', node: node({ ready: 'True' }), ready: 'Unknown', want: ['node.kubernetes.io/unreachable:NoExecute', 'node.kubernetes.io/unreachable:NoSchedule'] },
    { name: 'not ready: not-ready', node: node({ ready: 'False' }), ready: 'False', want: ['node.kubernetes.io/not-ready:NoExecute', 'node.kubernetes.io/not-ready:NoSchedule'] },
    { name: 'pressure and cordon', node: node({ ready: 'True', extra: [{ type: 'MemoryPressure', status: 'True' }, { type: 'DiskPressure', status: 'True' }, { type: 'PIDPressure', status: 'False' }], unschedulable: true }), ready: 'True', want: ['node.kubernetes.io/disk-pressure:NoSchedule', 'node.kubernetes.io/memory-pressure:NoSchedule', 'node.kubernetes.io/unschedulable:NoSchedule'] },
    { name: 'recovery drops the controller taints, keeps the user ones', node: node({ ready: 'True', taints: [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' }, { key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' }, { key: 'dedicated', effect: 'NoSchedule' }] }), ready: 'True', want: ['dedicated:NoSchedule'] },
    { name: 'unreachable replaces not-ready', node: node({ ready: 'False', taints: [{ key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' }, { key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' }] }), ready: 'Unknown', want: ['node.kubernetes.io/unreachable:NoExecute', 'node.kubernetes.io/unreachable:NoSchedule'] },
    { name: 'a node that never reported is not tainted', node: node(), ready: 'Unknown', want: [] },
  ];
  for (const c of table) it(c.name, () => expect(keys(desiredTaints(c.node, c.ready, at(10)))).toEqual(c.want));

  it('stamps the NoExecute taint with the time it was added and keeps it', () => {
    const t = desiredTaints(node({ ready: 'False' }), 'False', at(10)).find((x) => x.effect === 'NoExecute');
    expect(t?.timeAdded).toBe(iso(10));
    const again = desiredTaints(node({ ready: 'False', taints: [t as Taint, { key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' }] }), 'False', at(99));
    expect(again.find((x) => x.effect === 'NoExecute')?.timeAdded).toBe(iso(10));
  });
});

describe('podEviction', () => {
  const pod = (tolerations: unknown[]): Pod => ({ metadata: { name: 'p', namespace: 'default' }, spec: { nodeName: 'w1', tolerations } });
  const taint: Taint = { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: iso(100) };
  const table: Array<{ name: string; pod: Pod; taints: Taint[]; now: number; want: ReturnType<typeof podEviction> }> = [
    { name: 'no NoExecute taint', pod: pod([]), taints: [{ key: 'x', effect: 'NoSchedule' }], now: 100, want: { action: 'none' } },
    { name: 'untolerated: now', pod: pod([]), taints: [taint], now: 100, want: { action: 'evict' } },
    { name: 'tolerated for ever', pod: pod([{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' }]), taints: [taint], now: 1000, want: { action: 'none' } },
    { name: 'tolerated for 300 s: wait', pod: pod([{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }]), taints: [taint], now: 200, want: { action: 'wait', atMs: T0 + 400_000 } },
    { name: 'tolerated for 300 s: then evict', pod: pod([{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }]), taints: [taint], now: 400, want: { action: 'evict' } },
    { name: 'the shortest toleration wins', pod: pod([{ operator: 'Exists', tolerationSeconds: 600 }, { key: 'node.kubernetes.io/unreachable', operator: 'Exists', tolerationSeconds: 60 }]), taints: [taint], now: 150, want: { action: 'wait', atMs: T0 + 160_000 } },
    { name: 'one untolerated taint among tolerated ones', pod: pod([{ key: 'node.kubernetes.io/unreachable', operator: 'Exists' }]), taints: [taint, { key: 'other', effect: 'NoExecute' }], now: 100, want: { action: 'evict' } },
  ];
  for (const c of table) it(c.name, () => expect(podEviction(c.pod, c.taints, at(c.now))).toEqual(c.want));

  it('markPodNotReady flips Ready once', () => {
    const p: Pod = { metadata: { name: 'p' }, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }, { type: 'PodScheduled', status: 'True' }] } };
    const s = markPodNotReady(p, at(5));
    expect(s?.conditions).toEqual([{ type: 'Ready', status: 'False', lastTransitionTime: iso(5) }, { type: 'PodScheduled', status: 'True' }]);
    expect(markPodNotReady({ ...p, status: s ?? {} }, at(6))).toBeUndefined();
  });
});

describe('zone disruption', () => {
  const table: Array<{ name: string; statuses: Array<string | undefined>; want: ReturnType<typeof computeZoneState> }> = [
    { name: 'all ready', statuses: ['True', 'True'], want: 'Normal' },
    { name: 'one of two down', statuses: ['True', 'Unknown'], want: 'Normal' },
    { name: 'none ready', statuses: ['Unknown', 'False'], want: 'FullDisruption' },
    { name: 'never-reporting nodes do not count', statuses: [undefined, 'Unknown'], want: 'FullDisruption' },
    { name: 'only never-reporting nodes', statuses: [undefined], want: 'Normal' },
    { name: 'three of five down: partial', statuses: ['True', 'True', 'False', 'Unknown', 'Unknown'], want: 'PartialDisruption' },
    { name: 'three of seven down: normal', statuses: ['True', 'True', 'True', 'True', 'False', 'Unknown', 'Unknown'], want: 'Normal' },
  ];
  for (const c of table) it(c.name, () => expect(computeZoneState(c.statuses)).toBe(c.want));

  it('evictions stop only when every zone is fully disrupted', () => {
    expect(allZonesFullyDisrupted([{ zone: 'a', ready: 'Unknown' }, { zone: 'b', ready: 'True' }])).toBe(false);
    expect(allZonesFullyDisrupted([{ zone: 'a', ready: 'Unknown' }, { zone: 'b', ready: 'False' }])).toBe(true);
    expect(allZonesFullyDisrupted([])).toBe(false);
    const zoned: Node = { metadata: { name: 'x', labels: { 'topology.kubernetes.io/region': 'r', 'topology.kubernetes.io/zone': 'z' } } };
    expect(zoneOf(zoned)).toBe('r:\x00:z');
    expect(zoneOf(node())).toBe('');
  });

  it('in disruption mode the NoExecute taint is not wanted (and comes off), the NoSchedule one stays', () => {
    const n = node({ ready: 'True', taints: [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: iso(1) }] });
    expect(desiredTaints(n, 'Unknown', at(10), { noExecute: false }).map((t) => `${t.key}:${t.effect}`)).toEqual(['node.kubernetes.io/unreachable:NoSchedule']);
  });
});
