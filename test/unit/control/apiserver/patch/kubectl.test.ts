// What kubectl sends and what the server must store: apply (three-way SMP as computed by kubectl), set image, label,
// annotate, scale, taint, rollout restart, patch --type strategic|merge|json, and the examples of the
// "Update API Objects in Place Using kubectl patch" task page.
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  applyPatch,
  clone,
  createMergePatch,
  mergePatch,
  PatchError,
  strategicMergePatch,
  UnsupportedPatchTypeError,
  type JsonObject,
  type JsonValue,
} from '../../../../../control/apiserver/patch/index.js';

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** A Deployment as the server stores it: defaults filled in, status present. */
const LIVE = parse(`
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: default
  uid: 7b3e4d2a-0000-4000-8000-000000000001
  resourceVersion: "42"
  generation: 1
  creationTimestamp: "2026-01-01T00:00:00Z"
  labels: {app: web, tier: frontend}
  annotations:
    deployment.kubernetes.io/revision: "1"
    ${LAST_APPLIED}: '{"old":true}'
spec:
  replicas: 2
  revisionHistoryLimit: 10
  progressDeadlineSeconds: 600
  selector: {matchLabels: {app: web}}
  strategy:
    type: RollingUpdate
    rollingUpdate: {maxSurge: 25%, maxUnavailable: 25%}
  template:
    metadata:
      creationTimestamp: null
      labels: {app: web}
    spec:
      containers:
      - name: nginx
        image: nginx:1.14
        imagePullPolicy: IfNotPresent
        ports: [{containerPort: 80, protocol: TCP}]
        env: [{name: A, value: "1"}, {name: B, value: "2"}, {name: C, value: "3"}]
        resources: {}
        terminationMessagePath: /dev/termination-log
        terminationMessagePolicy: File
      dnsPolicy: ClusterFirst
      restartPolicy: Always
      schedulerName: default-scheduler
      securityContext: {}
      terminationGracePeriodSeconds: 30
      tolerations: [{effect: NoSchedule, key: dedicated, value: test-team}]
      volumes: [{name: data, emptyDir: {}}]
status:
  observedGeneration: 1
  replicas: 2
  conditions:
  - {type: Available, status: "True", reason: MinimumReplicasAvailable}
  - {type: Progressing, status: "True", reason: NewReplicaSetAvailable}
`) as JsonObject;

/** The live object with `edit` applied to a copy. */
function expected(edit: (d: any) => void, base: JsonObject = LIVE): JsonObject {
  const d = clone(base);
  edit(d);
  return d;
}

const smp = (doc: JsonObject, patch: JsonValue): JsonObject =>
  applyPatch('strategic', doc, patch, { group: 'apps', version: 'v1', kind: 'Deployment' });
const container = (d: any, i = 0): any => d.spec.template.spec.containers[i];

describe('kubectl apply (client-side, three-way strategic merge patch)', () => {
  it('changed image: $setElementOrder plus the changed container by name, new last-applied annotation', () => {
    const patch = {
      metadata: { annotations: { [LAST_APPLIED]: '{"new":true}' } },
      spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'nginx' }], containers: [{ image: 'nginx:1.16', name: 'nginx' }] } } },
    };
    expect(smp(LIVE, patch)).toEqual(
      expected((d) => {
        d.metadata.annotations[LAST_APPLIED] = '{"new":true}';
        container(d).image = 'nginx:1.16';
      }),
    );
  });

  it('added container: appended where $setElementOrder puts it, server defaults of the others kept', () => {
    const patch = {
      spec: {
        template: {
          spec: {
            '$setElementOrder/containers': [{ name: 'nginx' }, { name: 'sidecar' }],
            containers: [{ image: 'busybox', name: 'sidecar', args: ['sleep', '3600'] }],
          },
        },
      },
    };
    expect(smp(LIVE, patch)).toEqual(
      expected((d) => d.spec.template.spec.containers.push({ image: 'busybox', name: 'sidecar', args: ['sleep', '3600'] })),
    );
  });

  it('added container next to a server-side injected one: the injected one stays after its live predecessor', () => {
    const live = expected((d) => d.spec.template.spec.containers.push({ name: 'injected', image: 'proxy' }));
    const patch = {
      spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'nginx' }, { name: 'sidecar' }], containers: [{ image: 'busybox', name: 'sidecar' }] } } },
    };
    const names = (smp(live, patch) as any).spec.template.spec.containers.map((c: any) => c.name);
    expect(names).toEqual(['nginx', 'sidecar', 'injected']);
  });

  it('removed container: a $patch delete element', () => {
    const live = expected((d) => d.spec.template.spec.containers.push({ name: 'sidecar', image: 'busybox' }));
    const patch = {
      spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'nginx' }], containers: [{ $patch: 'delete', name: 'sidecar' }] } } },
    };
    expect(smp(live, patch)).toEqual(LIVE);
  });

  it('removed label: null', () => {
    expect(smp(LIVE, { metadata: { labels: { tier: null } } })).toEqual(expected((d) => delete d.metadata.labels.tier));
  });

  it('reordered env: only $setElementOrder/env inside the container', () => {
    const patch = {
      spec: {
        template: {
          spec: {
            '$setElementOrder/containers': [{ name: 'nginx' }],
            containers: [{ '$setElementOrder/env': [{ name: 'C' }, { name: 'A' }, { name: 'B' }], name: 'nginx' }],
          },
        },
      },
    };
    expect(container(smp(LIVE, patch)).env).toEqual([
      { name: 'C', value: '3' },
      { name: 'A', value: '1' },
      { name: 'B', value: '2' },
    ]);
  });

  it('changed env value and removed env var in one container', () => {
    const patch: JsonValue = {
      spec: {
        template: {
          spec: {
            '$setElementOrder/containers': [{ name: 'nginx' }],
            containers: [
              {
                '$setElementOrder/env': [{ name: 'A' }, { name: 'C' }],
                env: [{ name: 'C', value: '30' }, { $patch: 'delete', name: 'B' }],
                name: 'nginx',
              },
            ],
          },
        },
      },
    };
    expect(container(smp(LIVE, patch)).env).toEqual([
      { name: 'A', value: '1' },
      { name: 'C', value: '30' },
    ]);
  });

  it('volume source switched: $retainKeys clears the old source', () => {
    const patch = {
      spec: {
        template: {
          spec: {
            '$setElementOrder/volumes': [{ name: 'data' }],
            volumes: [{ $retainKeys: ['configMap', 'name'], configMap: { name: 'cfg' }, emptyDir: null, name: 'data' }],
          },
        },
      },
    };
    expect((smp(LIVE, patch) as any).spec.template.spec.volumes).toEqual([{ name: 'data', configMap: { name: 'cfg' } }]);
  });

  it('strategy switched to Recreate: $retainKeys drops rollingUpdate (Deployment.spec.strategy is retainKeys)', () => {
    const patch = { spec: { strategy: { $retainKeys: ['type'], rollingUpdate: null, type: 'Recreate' } } };
    expect((smp(LIVE, patch) as any).spec.strategy).toEqual({ type: 'Recreate' });
  });

  it('removed field and replaced tolerations (a list without patch strategy)', () => {
    const patch = { spec: { revisionHistoryLimit: null, template: { spec: { tolerations: [{ effect: 'NoExecute', key: 'gpu', operator: 'Exists' }] } } } };
    expect(smp(LIVE, patch)).toEqual(
      expected((d) => {
        delete d.spec.revisionHistoryLimit;
        d.spec.template.spec.tolerations = [{ effect: 'NoExecute', key: 'gpu', operator: 'Exists' }];
      }),
    );
  });

  it('no change: an empty patch leaves the object as it is', () => {
    expect(smp(LIVE, {})).toEqual(LIVE);
  });
});

describe('imperative kubectl commands', () => {
  it('kubectl set image sends the container by name (SMP)', () => {
    const patch = { spec: { template: { spec: { containers: [{ image: 'nginx:1.17', name: 'nginx' }] } } } };
    expect(smp(LIVE, patch)).toEqual(expected((d) => (container(d).image = 'nginx:1.17')));
  });

  it('kubectl set env adds an env var by name (SMP)', () => {
    const patch = { spec: { template: { spec: { containers: [{ env: [{ name: 'D', value: '4' }], name: 'nginx' }] } } } };
    expect(container(smp(LIVE, patch)).env.map((e: any) => e.name)).toEqual(['D', 'A', 'B', 'C']);
  });

  it('kubectl label --overwrite / annotate send merge patches', () => {
    const label = { metadata: { labels: { tier: 'backend', env: 'prod' } } };
    expect(applyPatch('merge', LIVE, label, { group: 'apps', version: 'v1', kind: 'Deployment' })).toEqual(
      expected((d) => Object.assign(d.metadata.labels, { tier: 'backend', env: 'prod' })),
    );
    const unlabel = { metadata: { labels: { tier: null } } };
    expect(mergePatch(LIVE, unlabel)).toEqual(expected((d) => delete d.metadata.labels.tier));
    const annotate = { metadata: { annotations: { 'example.com/owner': 'team-a' } } };
    expect(mergePatch(LIVE, annotate)).toEqual(expected((d) => (d.metadata.annotations['example.com/owner'] = 'team-a')));
  });

  it('the merge patch kubectl label computes (CreateMergePatch of old and new) is just the label change', () => {
    const after = expected((d) => {
      d.metadata.labels.tier = 'backend';
      delete d.metadata.labels.app;
    });
    expect(createMergePatch(LIVE, after)).toEqual({ metadata: { labels: { app: null, tier: 'backend' } } });
    expect(mergePatch(LIVE, createMergePatch(LIVE, after))).toEqual(after);
  });

  it('kubectl scale sends a merge patch to the scale subresource', () => {
    const scale = { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'web', namespace: 'default' }, spec: { replicas: 2 }, status: { replicas: 2, selector: 'app=web' } };
    expect(applyPatch('merge', scale, { spec: { replicas: 5 } }, { group: 'autoscaling', version: 'v1', kind: 'Scale' })).toEqual({
      ...scale,
      spec: { replicas: 5 },
    });
  });

  it('kubectl rollout restart sets a template annotation (SMP)', () => {
    const patch = { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-01-02T00:00:00Z' } } } } };
    expect((smp(LIVE, patch) as any).spec.template.metadata).toEqual({
      creationTimestamp: null,
      labels: { app: 'web' },
      annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-01-02T00:00:00Z' },
    });
  });

  it('kubectl taint replaces Node.spec.taints whole (no patch strategy upstream)', () => {
    const node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, spec: { podCIDRs: ['10.0.0.0/24'], taints: [{ key: 'a', effect: 'NoSchedule' }] } };
    const out = applyPatch('strategic', node, { spec: { taints: [{ key: 'b', effect: 'NoExecute' }] } }, { group: '', version: 'v1', kind: 'Node' });
    expect(out).toEqual({ ...node, spec: { podCIDRs: ['10.0.0.0/24'], taints: [{ key: 'b', effect: 'NoExecute' }] } });
  });

  it('kubectl patch with a patch lacking the merge key fails like upstream (500, no reason)', () => {
    let err: PatchError | undefined;
    try {
      smp(LIVE, { spec: { template: { spec: { containers: [{ image: 'nginx' }] } } } });
    } catch (e) {
      err = e as PatchError;
    }
    expect(err).toBeInstanceOf(PatchError);
    expect(err?.code).toBe(500);
    expect(err?.reason).toBe('');
    expect(err?.message).toBe('map: map[image:nginx] does not contain declared merge key: name');
  });
});

describe('the kubectl patch task page', () => {
  const DEMO = parse(`
apiVersion: apps/v1
kind: Deployment
metadata: {name: patch-demo}
spec:
  replicas: 2
  selector: {matchLabels: {app: nginx}}
  template:
    metadata: {labels: {app: nginx}}
    spec:
      containers:
      - {name: patch-demo-ctr, image: nginx}
      tolerations:
      - {effect: NoSchedule, key: dedicated, value: test-team}
`) as JsonObject;

  it('strategic merge patch merges containers by name (the new one listed first)', () => {
    const out = smp(DEMO, { spec: { template: { spec: { containers: [{ name: 'patch-demo-ctr-2', image: 'redis' }] } } } }) as any;
    expect(out.spec.template.spec.containers).toEqual([
      { name: 'patch-demo-ctr-2', image: 'redis' },
      { name: 'patch-demo-ctr', image: 'nginx' },
    ]);
  });

  it('strategic merge patch replaces tolerations (no patch strategy)', () => {
    const out = smp(DEMO, { spec: { template: { spec: { tolerations: [{ effect: 'NoSchedule', key: 'disktype', value: 'ssd' }] } } } }) as any;
    expect(out.spec.template.spec.tolerations).toEqual([{ effect: 'NoSchedule', key: 'disktype', value: 'ssd' }]);
  });

  it('JSON merge patch replaces the containers list', () => {
    const out = mergePatch(DEMO, { spec: { template: { spec: { containers: [{ name: 'patch-demo-ctr-3', image: 'gcr.io/google-samples/node-hello:1.0' }] } } } }) as any;
    expect(out.spec.template.spec.containers).toEqual([{ name: 'patch-demo-ctr-3', image: 'gcr.io/google-samples/node-hello:1.0' }]);
  });

  it('retainKeys: type alone keeps rollingUpdate, with $retainKeys it is cleared', () => {
    const demo = expected((d) => (d.spec.strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: '30%' } }), DEMO);
    expect((smp(demo, { spec: { strategy: { type: 'Recreate' } } }) as any).spec.strategy).toEqual({ type: 'Recreate', rollingUpdate: { maxSurge: '30%' } });
    expect((smp(demo, { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' } } }) as any).spec.strategy).toEqual({ type: 'Recreate' });
  });

  it('JSON patch with positional arrays', () => {
    const out = applyPatch('json', DEMO, [{ op: 'replace', path: '/spec/template/spec/containers/0/image', value: 'newimage' }], {
      group: 'apps',
      version: 'v1',
      kind: 'Deployment',
    }) as any;
    expect(out.spec.template.spec.containers[0].image).toBe('newimage');
  });
});

describe('merge keys of other kinds', () => {
  it('Service ports merge by port', () => {
    const svc = { apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080, nodePort: 30080 }] } };
    const out = applyPatch('strategic', svc, { spec: { ports: [{ port: 80, targetPort: 9090 }] } }, { group: '', version: 'v1', kind: 'Service' }) as any;
    expect(out.spec.ports).toEqual([{ name: 'http', port: 80, protocol: 'TCP', targetPort: 9090, nodePort: 30080 }]);
  });

  it('finalizers merge as a set and $deleteFromPrimitiveList removes', () => {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', finalizers: ['a', 'b'] } };
    const target = { group: '', version: 'v1', kind: 'Pod' };
    expect((applyPatch('strategic', pod, { metadata: { finalizers: ['b', 'c'] } }, target) as any).metadata.finalizers).toEqual(['a', 'b', 'c']);
    expect((applyPatch('strategic', pod, { metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] } }, target) as any).metadata.finalizers).toEqual(['b']);
  });

  it('ownerReferences merge by uid', () => {
    const rs = { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'r', ownerReferences: [{ uid: 'u1', name: 'd1', kind: 'Deployment', apiVersion: 'apps/v1' }] } };
    const out = applyPatch('strategic', rs, { metadata: { ownerReferences: [{ uid: 'u1', controller: true }, { uid: 'u2', name: 'd2', kind: 'Deployment', apiVersion: 'apps/v1' }] } }, { group: 'apps', version: 'v1', kind: 'ReplicaSet' }) as any;
    expect(out.metadata.ownerReferences.map((o: any) => [o.uid, o.controller])).toEqual([
      ['u1', true],
      ['u2', undefined],
    ]);
  });

  it('Pod status conditions merge by type (kubelet status patches)', () => {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True' }] } };
    const patch = { status: { '$setElementOrder/conditions': [{ type: 'Ready' }, { type: 'PodScheduled' }], conditions: [{ type: 'Ready', status: 'True' }], phase: 'Running' } };
    const out = applyPatch('strategic', pod, patch, { group: '', version: 'v1', kind: 'Pod' }) as any;
    expect(out.status).toEqual({ phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }, { type: 'PodScheduled', status: 'True' }] });
  });

  it('Job template containers merge by name through CronJob.spec.jobTemplate', () => {
    const cj = {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name: 'c' },
      spec: { schedule: '* * * * *', jobTemplate: { spec: { template: { spec: { containers: [{ name: 'a', image: 'x', command: ['run'] }] } } } } },
    };
    const out = applyPatch('strategic', cj, { spec: { jobTemplate: { spec: { template: { spec: { containers: [{ name: 'a', image: 'y' }] } } } } } }, { group: 'batch', version: 'v1', kind: 'CronJob' }) as any;
    expect(out.spec.jobTemplate.spec.template.spec.containers).toEqual([{ name: 'a', image: 'y', command: ['run'] }]);
  });

  it('a strategic merge patch on a kind without a schema is refused with 415', () => {
    const target = { group: 'example.com', version: 'v1', kind: 'Widget' };
    expect(() => applyPatch('strategic', { spec: {} }, { spec: { a: 1 } }, target)).toThrow(UnsupportedPatchTypeError);
    try {
      applyPatch('strategic', { spec: {} }, { spec: { a: 1 } }, target);
    } catch (e) {
      expect((e as PatchError).toStatus()).toEqual({
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message:
          'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml',
        reason: 'UnsupportedMediaType',
        code: 415,
      });
    }
    // merge and JSON patches work on any kind
    expect(applyPatch('merge', { spec: {} }, { spec: { a: 1 } }, target)).toEqual({ spec: { a: 1 } });
  });

  it('strategicMergePatch with a root type name uses the built-in table', () => {
    expect(strategicMergePatch({ spec: { containers: [{ name: 'a', image: 'x' }] } }, { spec: { containers: [{ name: 'a', image: 'y' }] } }, 'Pod')).toEqual({
      spec: { containers: [{ name: 'a', image: 'y' }] },
    });
  });
});
