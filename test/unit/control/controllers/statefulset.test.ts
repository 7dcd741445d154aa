import { describe, expect, it } from 'vitest';
import type { Pod } from '../../../../control/controllers/objects.js';
import { planUpdateRevision, revisionData, revisionsToTruncate, revisionTemplate, type ControllerRevision } from '../../../../control/controllers/revisions.js';
import { claimOwnerRefs, claimsFor, newStatefulSetPod, ordinalOf, planStatefulSet, statefulSetStatus, type StatefulSet } from '../../../../control/controllers/statefulset.js';

const NOW = new Date('2026-01-01T00:10:00Z');

function set(o: { replicas?: number; policy?: string; partition?: number; onDelete?: boolean; start?: number } = {}): StatefulSet {
  return {
    metadata: { name: 'db', namespace: 'default', uid: 'sts', generation: 3 },
    spec: {
      replicas: o.replicas ?? 3,
      serviceName: 'db',
      selector: { matchLabels: { app: 'db' } },
      template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'c', image: 'db:1' }] } },
      podManagementPolicy: o.policy ?? 'OrderedReady',
      updateStrategy: o.onDelete ? { type: 'OnDelete' } : { type: 'RollingUpdate', rollingUpdate: { partition: o.partition ?? 0 } },
      ...(o.start !== undefined ? { ordinals: { start: o.start } } : {}),
    },
  };
}

function pod(ord: number, o: { rev?: string; ready?: boolean; phase?: string; deleting?: boolean } = {}): Pod {
  return {
    metadata: { name: `db-${ord}`, namespace: 'default', labels: { app: 'db', 'controller-revision-hash': o.rev ?? 'db-new' }, ...(o.deleting ? { deletionTimestamp: NOW.toISOString() } : {}) },
    spec: {},
    status: { phase: o.phase ?? 'Running', conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True', lastTransitionTime: '2026-01-01T00:00:00Z' }] },
  };
}

const run = (s: StatefulSet, pods: Pod[], current = 'db-old') => planStatefulSet({ set: s, pods, currentRevision: current, updateRevision: 'db-new', now: NOW }).actions;

describe('planStatefulSet', () => {
  const table: Array<{ name: string; set: StatefulSet; pods: Pod[]; current?: string; want: ReturnType<typeof run> }> = [
    { name: 'OrderedReady creates ordinal 0 first', set: set(), pods: [], want: [{ type: 'create', ordinal: 0, revision: 'update' }] },
    { name: 'OrderedReady waits for a pod that is not ready', set: set(), pods: [pod(0, { ready: false })], want: [] },
    { name: 'OrderedReady creates the next once the previous is ready', set: set(), pods: [pod(0)], want: [{ type: 'create', ordinal: 1, revision: 'update' }] },
    { name: 'Parallel creates every missing pod at once', set: set({ policy: 'Parallel' }), pods: [pod(1, { ready: false })], want: [{ type: 'create', ordinal: 0, revision: 'update' }, { type: 'create', ordinal: 2, revision: 'update' }] },
    { name: 'ordinals.start shifts the names', set: set({ replicas: 1, start: 5 }), pods: [], want: [{ type: 'create', ordinal: 5, revision: 'update' }] },
    { name: 'a failed pod is deleted to be recreated', set: set(), pods: [pod(0, { phase: 'Failed' })], want: [{ type: 'delete', pod: 'db-0', reason: 'failed' }] },
    { name: 'scale down removes the highest ordinal first, one at a time', set: set({ replicas: 1 }), pods: [pod(0), pod(1), pod(2)], want: [{ type: 'delete', pod: 'db-2', reason: 'condemned' }] },
    { name: 'OrderedReady scale down waits for a terminating pod', set: set({ replicas: 1 }), pods: [pod(0), pod(1), pod(2, { deleting: true })], want: [] },
    { name: 'Parallel scale down removes all at once', set: set({ replicas: 1, policy: 'Parallel' }), pods: [pod(0), pod(1), pod(2)], want: [{ type: 'delete', pod: 'db-2', reason: 'condemned' }, { type: 'delete', pod: 'db-1', reason: 'condemned' }] },
    { name: 'rolling update deletes the highest old pod', set: set(), pods: [pod(0, { rev: 'db-old' }), pod(1, { rev: 'db-old' }), pod(2, { rev: 'db-old' })], want: [{ type: 'delete', pod: 'db-2', reason: 'update' }] },
    { name: 'rolling update waits for the updated pod to be ready', set: set(), pods: [pod(0, { rev: 'db-old' }), pod(1, { rev: 'db-old' }), pod(2, { ready: false })], want: [] },
    { name: 'rolling update goes on below an updated ready pod', set: set(), pods: [pod(0, { rev: 'db-old' }), pod(1, { rev: 'db-old' }), pod(2)], want: [{ type: 'delete', pod: 'db-1', reason: 'update' }] },
    { name: 'the partition stops the update', set: set({ partition: 2 }), pods: [pod(0, { rev: 'db-old' }), pod(1, { rev: 'db-old' }), pod(2)], want: [] },
    { name: 'below the partition a missing pod comes back at the current revision', set: set({ partition: 2, policy: 'Parallel' }), pods: [pod(1, { rev: 'db-old' }), pod(2)], want: [{ type: 'create', ordinal: 0, revision: 'current' }] },
    { name: 'OnDelete never deletes for an update', set: set({ onDelete: true }), pods: [pod(0, { rev: 'db-old' }), pod(1, { rev: 'db-old' }), pod(2, { rev: 'db-old' })], want: [] },
  ];
  for (const c of table) it(c.name, () => expect(run(c.set, c.pods, c.current)).toEqual(c.want));
});

describe('statefulset identities and status', () => {
  it('names, labels, hostname, subdomain and claims of a pod', () => {
    const s = set();
    s.spec.volumeClaimTemplates = [{ metadata: { name: 'data' }, spec: { resources: { requests: { storage: '1Gi' } } } }];
    const p = newStatefulSetPod(s, s.spec.template ?? {}, 'db-abc', 2);
    expect(p.metadata.name).toBe('db-2');
    expect(p.metadata.labels).toEqual({ app: 'db', 'statefulset.kubernetes.io/pod-name': 'db-2', 'apps.kubernetes.io/pod-index': '2', 'controller-revision-hash': 'db-abc' });
    expect(p.spec?.hostname).toBe('db-2');
    expect(p.spec?.subdomain).toBe('db');
    expect(p.spec?.volumes).toEqual([{ name: 'data', persistentVolumeClaim: { claimName: 'data-db-2' } }]);
    expect(claimsFor(s, 2)[0]?.metadata).toMatchObject({ name: 'data-db-2', labels: { app: 'db' } });
    expect(ordinalOf('db', p)).toBe(2);
    expect(ordinalOf('dbx', p)).toBeUndefined();
  });

  it('status: a finished rolling update makes the update revision current', () => {
    const during = statefulSetStatus(set(), [pod(0, { rev: 'db-old' }), pod(1), pod(2)], 'db-old', 'db-new', NOW);
    expect(during).toMatchObject({ replicas: 3, readyReplicas: 3, currentReplicas: 1, updatedReplicas: 2, currentRevision: 'db-old', updateRevision: 'db-new', availableReplicas: 3, observedGeneration: 3 });
    const done = statefulSetStatus(set(), [pod(0), pod(1), pod(2)], 'db-old', 'db-new', NOW);
    expect(done).toMatchObject({ currentReplicas: 3, updatedReplicas: 3, currentRevision: 'db-new' });
    const onDelete = statefulSetStatus(set({ onDelete: true }), [pod(0), pod(1), pod(2)], 'db-old', 'db-new', NOW);
    expect(onDelete.currentRevision).toBe('db-old');
  });
});

describe('claim retention policy', () => {
  const withPolicy = (whenDeleted: string, whenScaled: string): StatefulSet => {
    const s = set({ replicas: 2 });
    s.spec.persistentVolumeClaimRetentionPolicy = { whenDeleted, whenScaled };
    return s;
  };
  const p = (ord: number): Pod => ({ ...pod(ord), metadata: { ...pod(ord).metadata, uid: `pod-${ord}` } });
  const owners = (s: StatefulSet, ord: number, refs?: Parameters<typeof claimOwnerRefs>[0]): string[] => claimOwnerRefs(refs, s, p(ord)).map((r) => `${r.kind}/${r.name}${r.controller ? '*' : ''}`);
  const table: Array<{ deleted: string; scaled: string; inRange: string[]; scaledDown: string[] }> = [
    { deleted: 'Retain', scaled: 'Retain', inRange: [], scaledDown: [] },
    { deleted: 'Delete', scaled: 'Retain', inRange: ['StatefulSet/db*'], scaledDown: ['StatefulSet/db*'] },
    { deleted: 'Retain', scaled: 'Delete', inRange: [], scaledDown: ['Pod/db-5*'] },
    { deleted: 'Delete', scaled: 'Delete', inRange: ['StatefulSet/db*'], scaledDown: ['Pod/db-5*'] },
  ];
  for (const c of table) {
    it(`whenDeleted ${c.deleted}, whenScaled ${c.scaled}`, () => {
      expect(owners(withPolicy(c.deleted, c.scaled), 1)).toEqual(c.inRange);
      expect(owners(withPolicy(c.deleted, c.scaled), 5)).toEqual(c.scaledDown);
    });
  }
  it('drops stale references to the set or pod, and leaves a claim another controller owns alone', () => {
    const s = withPolicy('Delete', 'Retain');
    expect(owners(s, 1, [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'db', uid: 'old-uid', controller: true }])).toEqual(['StatefulSet/db*']);
    expect(owners(s, 1, [{ apiVersion: 'example.com/v1', kind: 'Thing', name: 't', uid: 't', controller: true }])).toEqual(['Thing/t*']);
  });
});

describe('controller revisions', () => {
  const owner = (image: string) => ({ metadata: { name: 'db', namespace: 'default', uid: 'u' }, spec: { template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'c', image }] } } } });
  const rev = (image: string, n: number, name = `db-${n}`): ControllerRevision => ({ metadata: { name, namespace: 'default' }, data: revisionData(owner(image).spec.template), revision: n });

  it('creates revision 1, reuses an equal newest one, renumbers an equal old one, and creates max+1 otherwise', () => {
    const first = planUpdateRevision(owner('db:1'), [], { apiVersion: 'apps/v1', kind: 'StatefulSet' });
    expect(first.create).toBe(true);
    expect(first.update.revision).toBe(1);
    expect(first.update.metadata.name).toMatch(/^db-[bcdfghjklmnpqrstvwxz2456789]+$/);
    expect(first.update.metadata.labels?.['controller-revision-hash']).toBe(first.update.metadata.name?.slice(3));
    expect(first.update.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'StatefulSet', uid: 'u', controller: true });
    expect(revisionTemplate(first.update)).toEqual(owner('db:1').spec.template);
    expect(planUpdateRevision(owner('db:2'), [rev('db:1', 1), rev('db:2', 2)], { apiVersion: 'apps/v1', kind: 'StatefulSet' })).toMatchObject({ create: false, renumber: false, update: { revision: 2 } });
    expect(planUpdateRevision(owner('db:1'), [rev('db:1', 1), rev('db:2', 2)], { apiVersion: 'apps/v1', kind: 'StatefulSet' })).toMatchObject({ create: false, renumber: true, update: { revision: 3, metadata: { name: 'db-1' } } });
    expect(planUpdateRevision(owner('db:3'), [rev('db:1', 1), rev('db:2', 2)], { apiVersion: 'apps/v1', kind: 'StatefulSet' })).toMatchObject({ create: true, update: { revision: 3 } });
  });

  it('a collision count changes the hash', () => {
    const a = planUpdateRevision(owner('db:1'), [], { apiVersion: 'apps/v1', kind: 'StatefulSet' });
    const b = planUpdateRevision(owner('db:1'), [], { apiVersion: 'apps/v1', kind: 'StatefulSet', collisionCount: 1 });
    expect(a.update.metadata.name).not.toBe(b.update.metadata.name);
  });

  it('truncates the oldest unused revisions beyond the limit', () => {
    const revs = [rev('a', 1), rev('b', 2), rev('c', 3), rev('d', 4)];
    expect(revisionsToTruncate(revs, new Set(['db-4']), 2).map((r) => r.metadata.name)).toEqual(['db-1']);
    expect(revisionsToTruncate(revs, new Set(['db-1', 'db-4']), 0).map((r) => r.metadata.name)).toEqual(['db-2', 'db-3']);
  });
});
