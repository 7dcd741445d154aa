import { describe, expect, it } from 'vitest';
import {
  buildNewReplicaSet,
  computeHash,
  DESIRED_REPLICAS,
  findNewReplicaSet,
  MAX_REPLICAS,
  newReplicaSetAnnotations,
  newRSNewReplicas,
  POD_TEMPLATE_HASH,
  REVISION,
  REVISION_HISTORY,
  replicaSetsToCleanUp,
  resolveFenceposts,
  rollbackTemplate,
  rolloutHistory,
  rolloutRecreate,
  rolloutRolling,
  rolloutStatus,
  rolloutStatusMessage,
  scaleDeployment,
} from '../../../../control/controllers/deployment.js';
import type { Deployment, Pod, ReplicaSet } from '../../../../control/controllers/objects.js';

const NOW = new Date('2026-01-01T01:00:00Z');
const tmpl = (image: string) => ({ metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image }] } });

function deployment(replicas: number, image: string, extra: Partial<Deployment['spec']> = {}): Deployment {
  return {
    metadata: { name: 'web', namespace: 'default', uid: 'd-uid', generation: 2 },
    spec: { replicas, selector: { matchLabels: { app: 'web' } }, template: tmpl(image), strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } }, progressDeadlineSeconds: 600, ...extra },
    status: { observedGeneration: 1 },
  };
}

let seq = 0;
function rs(d: Deployment, image: string, replicas: number, availableReplicas = replicas, revision = 1): ReplicaSet {
  const hash = computeHash(tmpl(image));
  seq++;
  return {
    metadata: {
      name: `web-${hash}`,
      namespace: 'default',
      uid: `rs-${image}`,
      generation: 1,
      creationTimestamp: new Date(Date.UTC(2026, 0, 1, 0, seq)).toISOString(),
      labels: { app: 'web', [POD_TEMPLATE_HASH]: hash },
      annotations: { [REVISION]: String(revision), [DESIRED_REPLICAS]: String(d.spec.replicas), [MAX_REPLICAS]: String((d.spec.replicas ?? 1) + 1) },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'd-uid', controller: true }],
    },
    spec: { replicas, selector: { matchLabels: { app: 'web', [POD_TEMPLATE_HASH]: hash } }, template: { metadata: { labels: { app: 'web', [POD_TEMPLATE_HASH]: hash } }, spec: tmpl(image).spec } },
    status: { replicas, readyReplicas: availableReplicas, availableReplicas, observedGeneration: 1 },
  };
}

describe('fenceposts', () => {
  const table: Array<[number, string | number, string | number, number, number]> = [
    [4, '25%', '25%', 1, 1],
    [10, '25%', '25%', 3, 2],
    [3, 0, 0, 0, 1],
    [5, 2, '50%', 2, 2],
    [1, '25%', '25%', 1, 0],
  ];
  for (const [replicas, surge, unavailable, wantSurge, wantUnavailable] of table) {
    it(`${replicas} replicas, maxSurge ${surge}, maxUnavailable ${unavailable}`, () => {
      const d = deployment(replicas, 'v1', { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: surge, maxUnavailable: unavailable } } });
      expect(resolveFenceposts(d)).toEqual({ maxSurge: wantSurge, maxUnavailable: wantUnavailable });
    });
  }
});

describe('RollingUpdate 25%/25% from 4 replicas when the template changes', () => {
  it('surges by one, never drops below 3 available, and ends with 4 new', () => {
    const d = deployment(4, 'v2');
    const old = rs(d, 'v1', 4);
    const draft = buildNewReplicaSet(d, [old], 0);
    expect(draft.metadata.name).toBe(`web-${computeHash(d.spec.template)}`);
    expect(draft.metadata.annotations?.[REVISION]).toBe('2');
    expect(draft.spec.selector?.matchLabels?.[POD_TEMPLATE_HASH]).toBe(computeHash(d.spec.template));
    // The new ReplicaSet is created with what maxSurge allows.
    const created = newRSNewReplicas(d, [draft, old], draft);
    expect(created).toBe(1);
    const state = { new: { spec: created, avail: 0 }, old: { spec: 4, avail: 4 } };
    const trace: Array<[number, number]> = [];
    const asRS = (): [ReplicaSet, ReplicaSet] => {
      const n = { ...draft, metadata: { ...draft.metadata, uid: 'rs-new' }, spec: { ...draft.spec, replicas: state.new.spec }, status: { replicas: state.new.spec, availableReplicas: state.new.avail } };
      const o = { ...old, spec: { ...old.spec, replicas: state.old.spec }, status: { replicas: state.old.spec, availableReplicas: state.old.avail } };
      return [n, o];
    };
    for (let round = 0; round < 20; round++) {
      const [n, o] = asRS();
      const steps = rolloutRolling(d, n, [o]);
      if (steps.length === 0) {
        if (state.new.avail === state.new.spec && state.old.avail === state.old.spec) break;
        // The pods of the scaled ReplicaSets become available (scale-downs take effect at once).
        state.new.avail = state.new.spec;
        state.old.avail = state.old.spec;
        continue;
      }
      for (const s of steps) {
        if (s.name === n.metadata.name) state.new.spec = s.replicas;
        else {
          state.old.spec = s.replicas;
          state.old.avail = Math.min(state.old.avail, s.replicas);
        }
      }
      trace.push([state.new.spec, state.old.spec]);
      expect(state.new.spec + state.old.spec).toBeLessThanOrEqual(5);
      expect(state.new.avail + state.old.avail).toBeGreaterThanOrEqual(3);
    }
    expect(trace).toEqual([
      [1, 3],
      [2, 3],
      [2, 1],
      [4, 1],
      [4, 0],
    ]);
  });

  it('takes unhealthy old replicas down first, without waiting for availability', () => {
    const d = deployment(4, 'v2');
    const old = rs(d, 'v1', 4, 2);
    const n = { ...rs(d, 'v2', 1, 0, 2) };
    // 5 pods, minAvailable 3, 1 new unavailable: one may go, and it is one of the two unhealthy old ones.
    expect(rolloutRolling(d, n, [old])).toEqual([{ name: old.metadata.name, replicas: 3 }]);
  });

  it('scales an oversized new ReplicaSet down to the deployment size', () => {
    const d = deployment(2, 'v2');
    const n = rs(d, 'v2', 5, 5, 2);
    expect(rolloutRolling(d, n, [])).toEqual([{ name: n.metadata.name, replicas: 2 }]);
  });
});

describe('Recreate', () => {
  const d = deployment(3, 'v2', { strategy: { type: 'Recreate' } });
  const podOf = (owner: ReplicaSet, phase = 'Running'): Pod => ({ metadata: { name: 'p', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: owner.metadata.name ?? '', uid: owner.metadata.uid ?? '', controller: true }] }, status: { phase } });
  it('scales every old ReplicaSet to zero first', () => {
    const a = rs(d, 'v1', 3);
    const b = rs(d, 'v0', 1);
    expect(rolloutRecreate(d, undefined, [a, b], [])).toEqual({ step: 'scaleDownOld', scale: [{ name: a.metadata.name, replicas: 0 }, { name: b.metadata.name, replicas: 0 }] });
  });
  it('waits while an old pod still runs, even a terminating one', () => {
    const a = { ...rs(d, 'v1', 0), status: { replicas: 0 } };
    expect(rolloutRecreate(d, undefined, [a], [podOf(a)])).toEqual({ step: 'waitForOldPods' });
    expect(rolloutRecreate(d, undefined, [a], [podOf(a, 'Succeeded')])).toEqual({ step: 'createNew' });
  });
  it('then creates the new ReplicaSet at full size, and is done', () => {
    expect(newRSNewReplicas(d, [], undefined)).toBe(3);
    const n = rs(d, 'v2', 3, 3, 2);
    expect(rolloutRecreate(d, n, [], [])).toEqual({ step: 'done' });
    expect(rolloutRecreate(d, { ...n, spec: { ...n.spec, replicas: 1 } }, [], [])).toEqual({ step: 'scaleUpNew', scale: [{ name: n.metadata.name, replicas: 3 }] });
  });
});

describe('revisions and rollback', () => {
  const d = deployment(2, 'v3');
  const r1 = rs(d, 'v1', 0, 0, 1);
  const r2 = rs(d, 'v2', 0, 0, 2);
  const r3 = rs(d, 'v3', 2, 2, 3);
  r1.metadata.annotations = { ...r1.metadata.annotations, 'kubernetes.io/change-cause': 'first' };

  it('rollout undo copies the previous revision template, without the hash label', () => {
    const t = rollbackTemplate(d, [r1, r2, r3]);
    expect(t).toEqual(tmpl('v2'));
    expect(rollbackTemplate(d, [r1, r2, r3], 1)).toEqual(tmpl('v1'));
    expect(() => rollbackTemplate(d, [r1, r2, r3], 7)).toThrow('unable to find specified revision 7 in history');
  });

  it('after the rollback, the old ReplicaSet becomes the new one with the next revision and its old one in history', () => {
    const rolledBack = { ...d, spec: { ...d.spec, template: rollbackTemplate(d, [r1, r2, r3], 1) } };
    const found = findNewReplicaSet(rolledBack, [r1, r2, r3]);
    expect(found?.metadata.name).toBe(r1.metadata.name);
    const ann = newReplicaSetAnnotations(rolledBack, r1, [r2, r3]);
    expect(ann?.[REVISION]).toBe('4');
    expect(ann?.[REVISION_HISTORY]).toBe('1');
    expect(ann?.[DESIRED_REPLICAS]).toBe('2');
  });

  it('rollout history lists revisions with their change cause', () => {
    expect(rolloutHistory(d, [r3, r1, r2])).toEqual([
      { revision: 1, replicaSet: r1.metadata.name, changeCause: 'first' },
      { revision: 2, replicaSet: r2.metadata.name },
      { revision: 3, replicaSet: r3.metadata.name },
    ]);
  });

  it('keeps revisionHistoryLimit old ReplicaSets, deleting the oldest scaled-down ones', () => {
    const limited = { ...d, spec: { ...d.spec, revisionHistoryLimit: 1 } };
    expect(replicaSetsToCleanUp(limited, [r2, r1])).toEqual([r1.metadata.name]);
    expect(replicaSetsToCleanUp(d, [r2, r1])).toEqual([]);
  });

  it('gives the same template the same hash, and a collision count a different one', () => {
    expect(computeHash(tmpl('v1'))).toBe(computeHash(tmpl('v1')));
    expect(computeHash(tmpl('v1'))).not.toBe(computeHash(tmpl('v2')));
    expect(computeHash(tmpl('v1'), 1)).not.toBe(computeHash(tmpl('v1')));
    expect(computeHash(tmpl('v1'))).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]+$/);
  });
});

describe('scaling', () => {
  it('a single active ReplicaSet takes the new size', () => {
    const d = deployment(5, 'v1');
    const only = rs(deployment(3, 'v1'), 'v1', 3);
    expect(scaleDeployment(d, only, [])).toEqual([{ name: only.metadata.name, replicas: 5 }]);
  });
  it('spreads a scale-up mid-rollout over both ReplicaSets in proportion', () => {
    const before = deployment(10, 'v2');
    const a = rs(before, 'v1', 6, 6);
    const b = rs(before, 'v2', 5, 0, 2);
    for (const x of [a, b]) x.metadata.annotations = { ...x.metadata.annotations, [MAX_REPLICAS]: '13' };
    const d = deployment(20, 'v2');
    const steps = scaleDeployment(d, b, [a]);
    const size = (n: string | undefined) => steps.find((s) => s.name === n)?.replicas;
    // 20 + 25% surge = 25 pods allowed in all.
    expect((size(a.metadata.name) ?? 0) + (size(b.metadata.name) ?? 0)).toBe(25);
    expect(size(a.metadata.name)).toBeGreaterThan(size(b.metadata.name) ?? 0);
  });
});

describe('status and conditions', () => {
  it('reports counts, Available and Progressing as a rollout moves and completes', () => {
    const d = deployment(4, 'v2');
    const old = rs(d, 'v1', 3, 3);
    const n = rs(d, 'v2', 2, 1, 2);
    const mid = rolloutStatus(d, [n, old], n, NOW);
    expect(mid.status).toMatchObject({ observedGeneration: 2, replicas: 5, updatedReplicas: 2, readyReplicas: 4, availableReplicas: 4, unavailableReplicas: 0 });
    const cond = (s: typeof mid.status, type: string) => s.conditions?.find((c) => c.type === type);
    expect(cond(mid.status, 'Available')).toMatchObject({ status: 'True', reason: 'MinimumReplicasAvailable' });
    expect(cond(mid.status, 'Progressing')).toMatchObject({ status: 'True', reason: 'ReplicaSetUpdated', message: `ReplicaSet "${n.metadata.name}" is progressing.` });
    expect(mid.requeueAfterMs).toBeGreaterThan(599_000);
    expect(rolloutStatusMessage({ ...d, status: mid.status }).message).toBe('Waiting for deployment "web" rollout to finish: 2 out of 4 new replicas have been updated...');

    const done = rs(d, 'v2', 4, 4, 2);
    const end = rolloutStatus({ ...d, status: mid.status }, [done, { ...old, spec: { ...old.spec, replicas: 0 }, status: { replicas: 0, availableReplicas: 0 } }], done, NOW);
    expect(cond(end.status, 'Progressing')).toMatchObject({ status: 'True', reason: 'NewReplicaSetAvailable' });
    expect(rolloutStatusMessage({ ...d, status: end.status })).toEqual({ message: 'deployment "web" successfully rolled out', done: true });
  });

  it('marks ProgressDeadlineExceeded once nothing moved for progressDeadlineSeconds', () => {
    const d = deployment(2, 'v2', { progressDeadlineSeconds: 60 });
    const n = rs(d, 'v2', 2, 0, 1);
    d.status = { observedGeneration: 2, replicas: 2, updatedReplicas: 2, readyReplicas: 0, availableReplicas: 0, conditions: [{ type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', lastUpdateTime: '2026-01-01T00:58:00Z', lastTransitionTime: '2026-01-01T00:58:00Z' }] };
    const r = rolloutStatus(d, [n], n, NOW);
    expect(r.status.conditions?.find((c) => c.type === 'Progressing')).toMatchObject({ status: 'False', reason: 'ProgressDeadlineExceeded' });
    expect(r.status.conditions?.find((c) => c.type === 'Available')).toMatchObject({ status: 'False', reason: 'MinimumReplicasUnavailable' });
    expect(() => rolloutStatusMessage({ ...d, status: r.status })).toThrow('exceeded its progress deadline');
  });
});
