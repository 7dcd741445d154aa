import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { eventually } from '../integration/agent/harness.js';
import { ControlPlane } from './control-harness.js';

/**
 * The kubernetes/examples corpus against `skiff control` with the real kubectl: every manifest passes a server-side
 * dry run, and applying the workloads and services stores them with upstream's defaults filled in.
 */
const CORPUS = '/work/shared/manifests/kubernetes-examples';

type Obj = Record<string, any>;

interface Doc {
  file: string; // relative to CORPUS
  obj: Obj;
}

function corpusFiles(): string[] {
  return (readdirSync(CORPUS, { recursive: true }) as string[])
    .filter((f) => /\.(ya?ml|json)$/.test(f))
    .sort();
}

function corpusDocs(): Doc[] {
  const docs: Doc[] = [];
  for (const file of corpusFiles()) {
    const text = readFileSync(join(CORPUS, file), 'utf8');
    const parsed = file.endsWith('.json') ? [JSON.parse(text) as Obj] : parseAllDocuments(text).map((d) => d.toJS() as Obj | null);
    for (const obj of parsed) if (obj && typeof obj === 'object') docs.push({ file, obj });
  }
  return docs;
}

/**
 * Files that upstream's API server refuses too, so Skiff must refuse them with upstream's message. Exact: the test
 * fails when a file leaves or joins this list.
 */
const REJECTED_AS_UPSTREAM: Record<string, RegExp> = {
  // No spec.selector and no template labels to default it from (ValidateNonEmptySelector).
  '_archived/sysdig-cloud/sysdig-rc.yaml': /ReplicationController "sysdig-agent" is invalid: spec\.selector: Required value/,
  // Lower-case "tcp" is not one of the supported protocols.
  '_archived/volumes/aws_ebs/aws-ebs-web.yaml': /Pod "aws-web" is invalid: spec\.containers\[0\]\.ports\[0\]\.protocol: Unsupported value: "tcp": supported values: "SCTP", "TCP", "UDP"/,
  '_archived/volumes/cinder/cinder-web.yaml': /Pod "cinder-web" is invalid: spec\.containers\[0\]\.ports\[0\]\.protocol: Unsupported value: "tcp": supported values: "SCTP", "TCP", "UDP"/,
};

/**
 * Files with a kind Skiff does not serve at all (Ingress, CustomResourceDefinition, StorageClass, ...), with the
 * reason. The corpus has none today; the test fails if that changes, so a new file is looked at, not skipped.
 */
const UNSERVED_KINDS: Record<string, string> = {};

describe('kubernetes/examples manifests against skiff control', () => {
  const cp = new ControlPlane();
  const docs = corpusDocs();
  const files = corpusFiles();

  beforeAll(async () => {
    // API-level checks: the workload controllers would add ReplicaSets and pods these tests do not expect.
    await cp.start(['--controllers=*,-deployment,-replicaset,-replicationcontroller']);
  });
  afterAll(async () => {
    await cp.stop();
  });

  it('reads the whole corpus', () => {
    expect(files.length).toBe(178);
    expect(docs.length).toBeGreaterThan(files.length); // some files hold several documents
  });

  it('serves every kind the corpus uses, except the listed ones', () => {
    // api-resources -o wide is not needed: NAME SHORTNAMES APIVERSION NAMESPACED KIND, APIVERSION and KIND last-but-one and last.
    const served = new Set(
      cp
        .k(['api-resources', '--no-headers'])
        .trim()
        .split('\n')
        .map((l) => {
          const cols = l.trim().split(/\s+/);
          return `${cols[cols.length - 3]}/${cols[cols.length - 1]}`;
        }),
    );
    const unserved: Record<string, string> = {};
    for (const d of docs) {
      const key = `${d.obj.apiVersion}/${d.obj.kind}`;
      if (!served.has(key)) unserved[d.file] = key;
    }
    expect(Object.keys(unserved).sort()).toEqual(Object.keys(UNSERVED_KINDS).sort());
  });

  it('accepts every manifest in a server-side dry run (one kubectl run over the tree), storing nothing', () => {
    // Create the namespaces the manifests name; a dry run of a Namespace document creates nothing.
    const namespaces = new Set(docs.map((d) => d.obj.metadata?.namespace as string | undefined).filter((n): n is string => !!n && n !== 'default'));
    expect([...namespaces].sort()).toEqual(['gke-managed-system', 'monitoring', 'spark-cluster']);
    for (const ns of namespaces) cp.k(['create', 'namespace', ns]);

    const before = cp.k(['get', 'all,cm,secret,sa,ep,role,rolebinding,hpa', '-A', '-o', 'name']).split('\n').sort();
    const r = cp.kubectl(['apply', '--dry-run=server', '-R', '-f', CORPUS]);
    const errors = r.stderr.split('\n').filter((l) => l.trim() && !l.startsWith('Warning:'));
    const failedFiles = errors.map((l) => {
      const m = /error when (?:creating|patching|retrieving current configuration of)[^"]*"([^"]+)"/.exec(l);
      if (!m) throw new Error(`unexpected kubectl output: ${l}`);
      return relative(CORPUS, m[1] ?? '');
    });
    expect(failedFiles.sort()).toEqual(Object.keys(REJECTED_AS_UPSTREAM).concat(Object.keys(UNSERVED_KINDS)).sort());
    for (const [file, re] of Object.entries(REJECTED_AS_UPSTREAM)) {
      expect(errors.find((l) => l.includes(file))).toMatch(re);
    }
    const applied = r.stdout.split('\n').filter((l) => /^\S+\/\S+ (created|configured|unchanged) \(server dry run\)$/.test(l));
    const expectedOk = docs.filter((d) => !(d.file in REJECTED_AS_UPSTREAM) && !(d.file in UNSERVED_KINDS)).length;
    expect(applied.length).toBe(expectedOk);
    // The namespaces created above answer "configured"/"unchanged"; everything else is new.
    expect(applied.filter((l) => !l.startsWith('namespace/')).every((l) => l.includes(' created '))).toBe(true);
    const after = cp.k(['get', 'all,cm,secret,sa,ep,role,rolebinding,hpa', '-A', '-o', 'name']).split('\n').sort();
    expect(after).toEqual(before);
  });

  describe('kubectl apply of the workloads and services', () => {
    const KINDS = new Set(['Deployment', 'Service', 'StatefulSet', 'DaemonSet', 'ReplicationController', 'Pod']);
    // Each source file gets its own namespace, so same-named objects of different examples do not meet.
    const picked = docs.filter((d) => KINDS.has(d.obj.kind) && !(d.file in REJECTED_AS_UPSTREAM));
    const nsOf = new Map<string, string>();
    for (const d of picked) if (!nsOf.has(d.file)) nsOf.set(d.file, `ex-${nsOf.size}`);
    // The corpus has no ConfigMap and no Job: these two stand in for them.
    const extra: Doc[] = [
      { file: 'extra/configmap.yaml', obj: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'game-config' }, data: { 'game.properties': 'enemies=aliens\nlives=3\n', 'ui.properties': 'color.good=purple\n' } } },
      {
        file: 'extra/job.yaml',
        obj: { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'pi' }, spec: { template: { spec: { containers: [{ name: 'pi', image: 'perl:5.34.0', command: ['perl', '-Mbignum=bpi', '-wle', 'print bpi(2000)'] }], restartPolicy: 'Never' } } } },
      },
    ];
    nsOf.set('extra/configmap.yaml', 'ex-extra');
    nsOf.set('extra/job.yaml', 'ex-extra');
    const all = [...picked, ...extra];
    const key = (kind: string, ns: string, name: string): string => `${kind}/${ns}/${name}`;
    const sources = new Map<string, Obj>();
    const live = new Map<string, Obj>();

    beforeAll(async () => {
      // The namespaces go first, and the pods wait for each one's "default" service account, as upstream's e2e
      // framework waits: ServiceAccount admission refuses a pod whose account the controller (20 requests/s, as
      // upstream's) has not made yet after its second and a half of retries, so one file with 153 new namespaces and
      // their pods can outrun it, on Kubernetes as here.
      const namespaces = [...new Set(nsOf.values())];
      cp.k(['apply', '-f', cp.writeFile('namespaces.json', namespaces.map((name) => JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } })).join('\n'))]);
      await eventually(() => {
        const withAccount = new Set(cp.kubectl(['get', 'serviceaccounts', '-A', '--field-selector', 'metadata.name=default', '-o', 'jsonpath={.items[*].metadata.namespace}']).stdout.split(' '));
        return namespaces.every((ns) => withAccount.has(ns));
      }, 'the default service account of every ex-* namespace', 90_000);
      const out: Obj[] = [];
      for (const d of all) {
        const obj = structuredClone(d.obj);
        obj.metadata = { ...obj.metadata, namespace: nsOf.get(d.file) };
        sources.set(key(obj.kind, obj.metadata.namespace, obj.metadata.name), d.obj);
        out.push(obj);
      }
      const file = cp.writeFile('apply.json', out.map((o) => JSON.stringify(o)).join('\n'));
      cp.k(['apply', '-f', file]);
      const got = JSON.parse(cp.k(['get', 'deploy,svc,sts,ds,rc,pods,cm,jobs', '-A', '-o', 'json'])) as { items: Obj[] };
      // What the cluster adds by itself is left out: each namespace's kube-root-ca.crt, and the objects controllers
      // made (pods of daemon sets, stateful sets and jobs carry an ownerReference).
      const ownMade = (o: Obj): boolean => (o.kind === 'ConfigMap' && o.metadata.name === 'kube-root-ca.crt') || Boolean((o.metadata as { ownerReferences?: unknown[] }).ownerReferences?.length);
      for (const o of got.items) if (o.metadata.namespace.startsWith('ex-') && !ownMade(o)) live.set(key(o.kind, o.metadata.namespace, o.metadata.name), o);
    });

    it('creates every object', () => {
      expect([...live.keys()].sort()).toEqual([...sources.keys()].sort());
      expect(picked.filter((d) => d.obj.kind === 'Deployment').length).toBe(24);
      expect(picked.filter((d) => d.obj.kind === 'Service').length).toBe(52);
      expect(picked.filter((d) => d.obj.kind === 'StatefulSet').length).toBe(2);
    });

    function each(kind: string, check: (got: Obj, src: Obj, name: string) => void): void {
      let n = 0;
      for (const [k, src] of sources) {
        if (!k.startsWith(`${kind}/`)) continue;
        n++;
        const got = live.get(k);
        expect(got, k).toBeDefined();
        check(got!, src, k);
      }
      expect(n).toBeGreaterThan(0);
    }

    function expectPodSpecDefaults(got: Obj, src: Obj, where: string, restartPolicy = 'Always'): void {
      expect(got.restartPolicy, where).toBe(src.restartPolicy ?? restartPolicy);
      expect(got.dnsPolicy, where).toBe(src.dnsPolicy ?? 'ClusterFirst');
      expect(got.schedulerName, where).toBe(src.schedulerName ?? 'default-scheduler');
      expect(got.terminationGracePeriodSeconds, where).toBe(src.terminationGracePeriodSeconds ?? 30);
      expect(got.securityContext, where).toEqual(src.securityContext ?? {});
      if (src.hostNetwork) expect(got.hostNetwork, where).toBe(true);
      const containers = [...(src.initContainers ?? []), ...src.containers] as Obj[];
      const gotContainers = [...(got.initContainers ?? []), ...got.containers] as Obj[];
      containers.forEach((c, i) => {
        const g = gotContainers[i] as Obj;
        const at = `${where} container ${c.name}`;
        expect(g.name, at).toBe(c.name);
        expect(g.image, at).toBe(c.image);
        const tag = /:([^:/]+)$/.exec(c.image)?.[1];
        const pull = c.imagePullPolicy ?? (!tag || tag === 'latest' ? 'Always' : 'IfNotPresent');
        expect(g.imagePullPolicy, at).toBe(pull);
        expect(g.terminationMessagePath, at).toBe(c.terminationMessagePath ?? '/dev/termination-log');
        expect(g.terminationMessagePolicy, at).toBe(c.terminationMessagePolicy ?? 'File');
        expect(g.resources, at).toBeDefined();
        ((c.ports ?? []) as Obj[]).forEach((p, j) => {
          expect(g.ports[j].containerPort, at).toBe(p.containerPort);
          expect(g.ports[j].protocol, at).toBe(p.protocol ?? 'TCP');
        });
        for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
          if (!c[probe]) continue;
          expect(g[probe].timeoutSeconds, at).toBe(c[probe].timeoutSeconds ?? 1);
          expect(g[probe].periodSeconds, at).toBe(c[probe].periodSeconds ?? 10);
          expect(g[probe].successThreshold, at).toBe(c[probe].successThreshold ?? 1);
          expect(g[probe].failureThreshold, at).toBe(c[probe].failureThreshold ?? 3);
          if (c[probe].httpGet) expect(g[probe].httpGet.scheme, at).toBe(c[probe].httpGet.scheme ?? 'HTTP');
        }
        ((c.env ?? []) as Obj[]).forEach((e, j) => {
          if (e.valueFrom?.fieldRef) expect(g.env[j].valueFrom.fieldRef.apiVersion, at).toBe(e.valueFrom.fieldRef.apiVersion ?? 'v1');
        });
      });
      ((src.volumes ?? []) as Obj[]).forEach((v, i) => {
        const g = got.volumes[i];
        const at = `${where} volume ${v.name}`;
        expect(g.name, at).toBe(v.name);
        if (v.secret) expect(g.secret.defaultMode, at).toBe(v.secret.defaultMode ?? 420);
        if (v.configMap) expect(g.configMap.defaultMode, at).toBe(v.configMap.defaultMode ?? 420);
        if (v.hostPath) expect(g.hostPath.type, at).toBe(v.hostPath.type ?? '');
        if (v.emptyDir) expect(g.emptyDir, at).toEqual(v.emptyDir);
      });
    }

    it('fills in the Deployments: strategy, revisionHistoryLimit, progressDeadlineSeconds, replicas and the pod template', () => {
      each('Deployment', (got, src, k) => {
        expect(got.spec.replicas, k).toBe(src.spec.replicas ?? 1);
        expect(got.spec.revisionHistoryLimit, k).toBe(src.spec.revisionHistoryLimit ?? 10);
        expect(got.spec.progressDeadlineSeconds, k).toBe(src.spec.progressDeadlineSeconds ?? 600);
        if (!src.spec.strategy) expect(got.spec.strategy, k).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } });
        expect(got.metadata.generation, k).toBe(1);
        expect(got.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'], k).toBeDefined();
        expectPodSpecDefaults(got.spec.template.spec, src.spec.template.spec, k);
      });
    });

    it('fills in the Services: type, sessionAffinity, protocol, targetPort, cluster IP and IP family fields, node ports', () => {
      each('Service', (got, src, k) => {
        const type = src.spec.type ?? 'ClusterIP';
        expect(got.spec.type, k).toBe(type);
        expect(got.spec.sessionAffinity, k).toBe(src.spec.sessionAffinity ?? 'None');
        expect(got.spec.internalTrafficPolicy, k).toBe('Cluster');
        if (src.spec.clusterIP === 'None') {
          expect(got.spec.clusterIP, k).toBe('None');
          expect(got.spec.clusterIPs, k).toEqual(['None']);
        } else {
          expect(got.spec.clusterIP, k).toMatch(/^10\.(9[6-9]|10[0-9]|11[01])\.\d+\.\d+$/);
          expect(got.spec.clusterIPs, k).toEqual([got.spec.clusterIP]);
        }
        expect(got.spec.ipFamilies, k).toEqual(['IPv4']);
        expect(got.spec.ipFamilyPolicy, k).toBe('SingleStack');
        (src.spec.ports as Obj[]).forEach((p, i) => {
          const g = got.spec.ports[i];
          expect(g.port, k).toBe(p.port);
          expect(g.protocol, k).toBe(p.protocol ?? 'TCP');
          expect(g.targetPort, k).toBe(p.targetPort ?? p.port);
          if (type === 'NodePort' || type === 'LoadBalancer') {
            if (p.nodePort) expect(g.nodePort, k).toBe(p.nodePort);
            else {
              expect(g.nodePort, k).toBeGreaterThanOrEqual(30000);
              expect(g.nodePort, k).toBeLessThanOrEqual(32767);
            }
          } else expect(g.nodePort, k).toBeUndefined();
        });
        if (type === 'NodePort' || type === 'LoadBalancer') expect(got.spec.externalTrafficPolicy, k).toBe('Cluster');
        else expect(got.spec.externalTrafficPolicy, k).toBeUndefined();
        if (type === 'LoadBalancer') expect(got.spec.allocateLoadBalancerNodePorts, k).toBe(true);
        expect(got.status, k).toEqual({ loadBalancer: {} });
      });
    });

    it('fills in the StatefulSets: podManagementPolicy, updateStrategy, retention policy and claim templates', () => {
      each('StatefulSet', (got, src, k) => {
        expect(got.spec.replicas, k).toBe(src.spec.replicas ?? 1);
        expect(got.spec.podManagementPolicy, k).toBe(src.spec.podManagementPolicy ?? 'OrderedReady');
        expect(got.spec.updateStrategy, k).toEqual(src.spec.updateStrategy ?? { type: 'RollingUpdate', rollingUpdate: { partition: 0 } });
        expect(got.spec.revisionHistoryLimit, k).toBe(10);
        expect(got.spec.persistentVolumeClaimRetentionPolicy, k).toEqual({ whenDeleted: 'Retain', whenScaled: 'Retain' });
        ((src.spec.volumeClaimTemplates ?? []) as Obj[]).forEach((t, i) => {
          expect(got.spec.volumeClaimTemplates[i].spec.volumeMode, k).toBe('Filesystem');
        });
        expectPodSpecDefaults(got.spec.template.spec, src.spec.template.spec, k);
      });
    });

    it('fills in the DaemonSets and ReplicationControllers', () => {
      each('DaemonSet', (got, src, k) => {
        expect(got.spec.updateStrategy, k).toEqual(src.spec.updateStrategy ?? { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } });
        expect(got.spec.revisionHistoryLimit, k).toBe(10);
        expectPodSpecDefaults(got.spec.template.spec, src.spec.template.spec, k);
      });
      each('ReplicationController', (got, src, k) => {
        expect(got.spec.replicas, k).toBe(src.spec.replicas ?? 1);
        // The selector and the object's labels default to the template's labels.
        expect(got.spec.selector, k).toEqual(src.spec.selector ?? src.spec.template.metadata.labels);
        expect(got.metadata.labels, k).toEqual(src.metadata.labels ?? src.spec.template.metadata.labels);
        expectPodSpecDefaults(got.spec.template.spec, src.spec.template.spec, k);
      });
    });

    it('fills in the Pods', () => {
      each('Pod', (got, src, k) => {
        expectPodSpecDefaults(got.spec, src.spec, k);
        expect(got.spec.enableServiceLinks, k).toBe(true);
        expect(got.status.phase, k).toBe('Pending');
        expect(got.status.qosClass, k).toMatch(/^(BestEffort|Burstable|Guaranteed)$/);
        const resources = [...(src.spec.initContainers ?? []), ...src.spec.containers].map((c: Obj) => c.resources ?? {});
        if (resources.every((r: Obj) => !r.requests && !r.limits)) expect(got.status.qosClass, k).toBe('BestEffort');
      });
    });

    it('sets the QoS class from requests and limits (the cpu-manager examples)', () => {
      const qos = (file: string): unknown => [...live.values()].find((o) => o.kind === 'Pod' && o.metadata.namespace === nsOf.get(`_archived/cpu-manager/${file}`))?.status.qosClass;
      expect(qos('exclusive-1.yaml')).toBe('Guaranteed');
      expect(qos('exclusive-4.yaml')).toBe('Guaranteed');
      expect(qos('shared.yaml')).toBe('Burstable');
      expect(qos('be.yaml')).toBe('BestEffort');
    });

    it('stores the ConfigMap as given and fills in the Job: parallelism, completions, backoffLimit, selector and labels', () => {
      each('ConfigMap', (got, src) => {
        expect(got.data).toEqual(src.data);
      });
      each('Job', (got, src, k) => {
        expect(got.spec.parallelism, k).toBe(1);
        expect(got.spec.completions, k).toBe(1);
        expect(got.spec.backoffLimit, k).toBe(6);
        expect(got.spec.completionMode, k).toBe('NonIndexed');
        expect(got.spec.suspend, k).toBe(false);
        expect(got.spec.podReplacementPolicy, k).toBe('TerminatingOrFailed');
        const uid = got.metadata.uid as string;
        expect(got.spec.selector, k).toEqual({ matchLabels: { 'batch.kubernetes.io/controller-uid': uid } });
        expect(got.spec.template.metadata.labels, k).toEqual({ 'batch.kubernetes.io/controller-uid': uid, 'batch.kubernetes.io/job-name': 'pi', 'controller-uid': uid, 'job-name': 'pi' });
        expectPodSpecDefaults(got.spec.template.spec, src.spec.template.spec, k, 'Never');
      });
    });
  });
});
