// The patch schema table: every built-in kind Skiff serves has a root, and the table is consistent.
import { describe, expect, it } from 'vitest';
import { RESOURCES } from '../../../../../control/apiserver/resources.js';
import {
  acceptedPatchTypes,
  K8S_PATCH_SCHEMA,
  lookupPatchMeta,
  schemaForKind,
} from '../../../../../control/apiserver/patch/index.js';

describe('schemaForKind', () => {
  it('knows every resource the API server lets clients patch', () => {
    const missing = RESOURCES.filter((r) => r.verbs.includes('patch') && schemaForKind(r.group, r.version, r.kind) === undefined).map((r) => `${r.group}/${r.version}/${r.kind}`);
    expect(missing).toEqual([]);
  });

  it('is undefined for kinds without a Go struct (custom resources)', () => {
    expect(schemaForKind('example.com', 'v1', 'Widget')).toBeUndefined();
    expect(schemaForKind('', 'v1', 'Widget')).toBeUndefined();
    expect(schemaForKind('apps', 'v2', 'Deployment')).toBeUndefined();
    expect(acceptedPatchTypes('example.com', 'v1', 'Widget')).not.toContain('application/strategic-merge-patch+json');
    expect(acceptedPatchTypes('', 'v1', 'Pod')).toContain('application/strategic-merge-patch+json');
  });

  it('roots name types of the table and every referenced type exists', () => {
    for (const r of RESOURCES.filter((x) => x.verbs.includes('patch'))) {
      const root = schemaForKind(r.group, r.version, r.kind)!;
      expect(K8S_PATCH_SCHEMA[root], root).toBeDefined();
    }
    for (const [name, t] of Object.entries(K8S_PATCH_SCHEMA)) {
      for (const [field, f] of Object.entries(t.fields)) {
        if (f.type) expect(K8S_PATCH_SCHEMA[f.type], `${name}.${field} → ${f.type}`).toBeDefined();
        if (f.list?.strategy?.includes('merge') && f.type) expect(f.list.mergeKey, `${name}.${field}`).toBeTruthy();
      }
    }
  });
});

describe('upstream struct tags', () => {
  // [type, field, patchStrategy, patchMergeKey] as k8s.io/api 1.32 tags them ('' = no tag: replaced whole)
  const TAGS: Array<[string, string, string, string]> = [
    ['ObjectMeta', 'ownerReferences', 'merge', 'uid'],
    ['ObjectMeta', 'finalizers', 'merge', ''],
    ['PodSpec', 'containers', 'merge', 'name'],
    ['PodSpec', 'initContainers', 'merge', 'name'],
    ['PodSpec', 'ephemeralContainers', 'merge', 'name'],
    ['PodSpec', 'volumes', 'merge,retainKeys', 'name'],
    ['PodSpec', 'imagePullSecrets', 'merge', 'name'],
    ['PodSpec', 'hostAliases', 'merge', 'ip'],
    ['PodSpec', 'topologySpreadConstraints', 'merge', 'topologyKey'],
    ['PodSpec', 'schedulingGates', 'merge', 'name'],
    ['PodSpec', 'resourceClaims', 'merge,retainKeys', 'name'],
    ['PodSpec', 'tolerations', '', ''],
    ['Container', 'ports', 'merge', 'containerPort'],
    ['Container', 'env', 'merge', 'name'],
    ['Container', 'volumeMounts', 'merge', 'mountPath'],
    ['Container', 'volumeDevices', 'merge', 'devicePath'],
    ['Container', 'args', '', ''],
    ['Container', 'envFrom', '', ''],
    ['PodStatus', 'conditions', 'merge', 'type'],
    ['PodStatus', 'podIPs', 'merge', 'ip'],
    ['ServiceSpec', 'ports', 'merge', 'port'],
    ['NodeSpec', 'taints', '', ''],
    ['NodeSpec', 'podCIDRs', 'merge', ''],
    ['NodeStatus', 'addresses', 'merge', 'type'],
    ['NodeStatus', 'conditions', 'merge', 'type'],
    ['Endpoints', 'subsets', '', ''],
    ['DeploymentSpec', 'strategy', 'retainKeys', ''],
    ['WorkloadStatus', 'conditions', 'merge', 'type'],
    ['JobStatus', 'conditions', 'merge', 'type'],
    ['ServiceAccount', 'secrets', 'merge', 'name'],
  ];
  it.each(TAGS)('%s.%s: %j %j', (type, field, strategy, mergeKey) => {
    const meta = lookupPatchMeta(K8S_PATCH_SCHEMA, type, field);
    expect(meta.strategy ?? '').toBe(strategy);
    expect(meta.mergeKey ?? '').toBe(mergeKey);
  });

  it('reaches the pod template of every workload kind', () => {
    const path: Record<string, string[]> = {
      Deployment: ['spec', 'template', 'spec', 'containers'],
      ReplicaSet: ['spec', 'template', 'spec', 'containers'],
      StatefulSet: ['spec', 'template', 'spec', 'containers'],
      DaemonSet: ['spec', 'template', 'spec', 'containers'],
      Job: ['spec', 'template', 'spec', 'containers'],
      ReplicationController: ['spec', 'template', 'spec', 'containers'],
      PodTemplate: ['template', 'spec', 'containers'],
      CronJob: ['spec', 'jobTemplate', 'spec', 'template', 'spec', 'containers'],
      Pod: ['spec', 'containers'],
    };
    for (const [kind, fields] of Object.entries(path)) {
      let type: string | undefined = kind;
      let last = {};
      for (const f of fields) {
        last = lookupPatchMeta(K8S_PATCH_SCHEMA, type, f);
        type = (last as { type?: string }).type;
      }
      expect(last, kind).toEqual({ type: 'Container', strategy: 'merge', mergeKey: 'name' });
    }
  });
});
