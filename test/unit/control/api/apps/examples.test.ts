// Every object of the non-core kinds Skiff models (apps, batch, autoscaling, policy, rbac, ...) in the shared
// kubernetes/examples checkout must decode, default and validate, with upstream's defaults filled in.
import { describe, expect, it } from 'vitest';
import {
  formatFieldError,
  parseClusterRole,
  parseClusterRoleBinding,
  parseControllerRevision,
  parseCronJob,
  parseDaemonSet,
  parseDeployment,
  parseEndpointSlice,
  parseHorizontalPodAutoscaler,
  parseHorizontalPodAutoscalerV1,
  parseJob,
  parseLease,
  parsePodDisruptionBudget,
  parsePriorityClass,
  parseReplicaSet,
  parseRole,
  parseRoleBinding,
  parseStatefulSet,
} from '../../../../../control/api/index.js';
import { exampleDocuments } from '../../../../helpers/examples-corpus.js';


type Parser = (doc: unknown, opts?: { strict?: boolean }) => { ok: true; object: unknown; warnings: string[] } | { ok: false; errors: Parameters<typeof formatFieldError>[0][] };

const PARSERS: Record<string, Parser> = {
  'apps/v1/Deployment': parseDeployment,
  'apps/v1/ReplicaSet': parseReplicaSet,
  'apps/v1/StatefulSet': parseStatefulSet,
  'apps/v1/DaemonSet': parseDaemonSet,
  'apps/v1/ControllerRevision': parseControllerRevision,
  'batch/v1/Job': (doc, opts) => parseJob(withUid(doc), opts),
  'batch/v1/CronJob': parseCronJob,
  'autoscaling/v2/HorizontalPodAutoscaler': parseHorizontalPodAutoscaler,
  'autoscaling/v1/HorizontalPodAutoscaler': parseHorizontalPodAutoscalerV1,
  'policy/v1/PodDisruptionBudget': parsePodDisruptionBudget,
  'coordination.k8s.io/v1/Lease': parseLease,
  'discovery.k8s.io/v1/EndpointSlice': parseEndpointSlice,
  'scheduling.k8s.io/v1/PriorityClass': parsePriorityClass,
  'rbac.authorization.k8s.io/v1/Role': parseRole,
  'rbac.authorization.k8s.io/v1/ClusterRole': parseClusterRole,
  'rbac.authorization.k8s.io/v1/RoleBinding': parseRoleBinding,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': parseClusterRoleBinding,
};

// A Job's generated selector needs the uid the API server assigns before defaulting.
function withUid(doc: unknown): unknown {
  const d = doc as { metadata?: Record<string, unknown> };
  return { ...d, metadata: { ...(d.metadata ?? {}), uid: '0b0c3f3e-0000-4000-8000-000000000001' } };
}

interface Doc {
  where: string;
  kind: string;
  doc: Record<string, any>;
}

function documents(): Doc[] {
  const out: Doc[] = [];
  for (const { where, doc } of exampleDocuments()) {
    if (typeof doc !== 'object' || doc === null) continue;
    const v = doc as Record<string, any>;
    const k = `${String(v.apiVersion)}/${String(v.kind)}`;
    if (k in PARSERS) out.push({ where, kind: k, doc: v });
  }
  return out;
}

const docs = documents();

describe('kubernetes/examples objects of the apps, batch, autoscaling, policy and rbac groups', () => {
  it('finds them', () => {
    const kinds = new Set(docs.map((d) => d.kind));
    expect(docs.length).toBeGreaterThan(30);
    for (const k of ['apps/v1/Deployment', 'apps/v1/StatefulSet', 'apps/v1/DaemonSet', 'autoscaling/v2/HorizontalPodAutoscaler', 'rbac.authorization.k8s.io/v1/ClusterRoleBinding'])
      expect(kinds).toContain(k);
  });

  it.each(docs.map((d) => [d.where, d] as const))('%s validates', (_where, d) => {
    const r = (PARSERS[d.kind] as Parser)(d.doc, { strict: true });
    expect(r.ok ? [] : r.errors.map(formatFieldError)).toEqual([]);
    if (r.ok) expect(r.warnings).toEqual([]);
  });

  it('fills in Deployment defaults', () => {
    const deployments = docs.filter((d) => d.kind === 'apps/v1/Deployment');
    expect(deployments.length).toBeGreaterThan(10);
    for (const d of deployments) {
      const r = parseDeployment(d.doc);
      if (!r.ok) throw new Error(d.where);
      const spec = r.object.spec;
      expect(spec.revisionHistoryLimit).toBe(d.doc.spec?.revisionHistoryLimit ?? 10);
      expect(spec.progressDeadlineSeconds).toBe(d.doc.spec?.progressDeadlineSeconds ?? 600);
      expect(spec.replicas).toBe(d.doc.spec?.replicas ?? 1);
      if (!d.doc.spec?.strategy) expect(spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } });
      expect(spec.template.spec.restartPolicy).toBe('Always');
      expect(spec.template.spec.dnsPolicy).toBe('ClusterFirst');
      expect(spec.template.spec.containers.every((c) => c.terminationMessagePath === '/dev/termination-log')).toBe(true);
    }
  });

  it('fills in StatefulSet, DaemonSet and HPA defaults', () => {
    for (const d of docs.filter((x) => x.kind === 'apps/v1/StatefulSet')) {
      const r = parseStatefulSet(d.doc);
      if (!r.ok) throw new Error(d.where);
      expect(r.object.spec.podManagementPolicy).toBe('OrderedReady');
      expect(r.object.spec.updateStrategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { partition: 0 } });
      expect(r.object.spec.persistentVolumeClaimRetentionPolicy).toEqual({ whenDeleted: 'Retain', whenScaled: 'Retain' });
      expect(r.object.spec.revisionHistoryLimit).toBe(10);
      for (const t of r.object.spec.volumeClaimTemplates ?? []) {
        expect(t).toMatchObject({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', spec: { volumeMode: 'Filesystem' }, status: { phase: 'Pending' } });
      }
    }
    for (const d of docs.filter((x) => x.kind === 'apps/v1/DaemonSet')) {
      const r = parseDaemonSet(d.doc);
      if (!r.ok) throw new Error(d.where);
      expect(r.object.spec.updateStrategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } });
      expect(r.object.spec.revisionHistoryLimit).toBe(10);
    }
    for (const d of docs.filter((x) => x.kind === 'autoscaling/v2/HorizontalPodAutoscaler')) {
      const r = parseHorizontalPodAutoscaler(d.doc);
      if (!r.ok) throw new Error(d.where);
      // Partly-set behavior is completed from upstream's default rules.
      expect(r.object.spec.behavior?.scaleUp?.policies?.length).toBeGreaterThan(0);
      expect(r.object.spec.behavior?.scaleDown?.selectPolicy).toBe('Max');
    }
  });
});
