import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../integration/agent/harness.js';
import { ControlPlane } from './control-harness.js';

const KUBECTL_127 = '/usr/lib/google-cloud-sdk/bin/kubectl.1.27';
const KUBECTL_133 = '/usr/lib/google-cloud-sdk/bin/kubectl.1.33';

/** Admission, strict field validation, pod update rules, repeated deletes, aggregated discovery and HPA v1, with the real kubectl. */
describe('kubectl against skiff control: admission and API semantics', () => {
  const cp = new ControlPlane();
  beforeAll(async () => {
    await cp.start();
    // The service account controller gives every namespace its "default" account.
    await eventually(() => cp.kubectl(['get', 'sa', 'default', '-n', 'default']).code === 0, 'the default service account', 90_000);
  });
  afterAll(async () => {
    await cp.stop();
  });

  it('defaults the service account and resolves priority on new pods', () => {
    cp.k(['run', 'plain', '--image=skiff/web:1.0']);
    expect(cp.k(['get', 'pod', 'plain', '-o', 'jsonpath={.spec.serviceAccountName} {.spec.priority} {.spec.preemptionPolicy}'])).toBe('default 0 PreemptLowerPriority');
    expect(cp.k(['get', 'priorityclass', '-o', 'name'])).toBe('priorityclass.scheduling.k8s.io/system-cluster-critical\npriorityclass.scheduling.k8s.io/system-node-critical\n');
    cp.k(['run', 'crit', '--image=skiff/web:1.0', '--overrides={"spec":{"priorityClassName":"system-cluster-critical"}}']);
    expect(cp.k(['get', 'pod', 'crit', '-o', 'jsonpath={.spec.priority}'])).toBe('2000000000');
    const unknown = cp.kubectl(['run', 'gold', '--image=skiff/web:1.0', '--overrides={"spec":{"priorityClassName":"gold"}}']);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr.trim()).toBe('Error from server (Forbidden): pods "gold" is forbidden: no PriorityClass with name gold was found');
  });

  it('refuses a pod whose service account does not exist', () => {
    const r = cp.kubectl(['run', 'x', '--image=skiff/web:1.0', '--overrides={"spec":{"serviceAccountName":"builder"}}']);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim()).toBe('Error from server (Forbidden): pods "x" is forbidden: error looking up service account default/builder: serviceaccount "builder" not found');
  });

  it('applies LimitRange defaults and refuses what breaks its limits', async () => {
    await cp.namespace('limited');
    const lr = cp.writeFile('lr.yaml', 'apiVersion: v1\nkind: LimitRange\nmetadata:\n  name: cpu\nspec:\n  limits:\n  - type: Container\n    default: {cpu: 500m}\n    defaultRequest: {cpu: 100m}\n    max: {cpu: "1"}\n');
    cp.k(['apply', '-n', 'limited', '-f', lr]);
    cp.k(['run', 'web', '-n', 'limited', '--image=skiff/web:1.0']);
    expect(cp.k(['get', 'pod', 'web', '-n', 'limited', '-o', 'jsonpath={.spec.containers[0].resources.requests.cpu} {.spec.containers[0].resources.limits.cpu}'])).toBe('100m 500m');
    expect(cp.k(['get', 'pod', 'web', '-n', 'limited', '-o', 'jsonpath={.metadata.annotations.kubernetes\\.io/limit-ranger}'])).toBe('LimitRanger plugin set: cpu request for container web; cpu limit for container web');
    const big = cp.kubectl(['run', 'big', '-n', 'limited', '--image=skiff/web:1.0', '--overrides={"spec":{"containers":[{"name":"big","image":"skiff/web:1.0","resources":{"limits":{"cpu":"2"}}}]}}']);
    expect(big.stderr.trim()).toBe('Error from server (Forbidden): pods "big" is forbidden: maximum cpu usage per Container is 1, but limit is 2');
  });

  it('charges quota in admission and refuses what exceeds it', async () => {
    await cp.namespace('quoted');
    // The namespace's kube-root-ca.crt counts against count/configmaps, as upstream.
    await eventually(() => cp.kubectl(['get', 'configmap', 'kube-root-ca.crt', '-n', 'quoted']).code === 0, 'kube-root-ca.crt in quoted', 30_000);
    cp.k(['create', 'quota', 'small', '-n', 'quoted', '--hard=pods=2,count/configmaps=2']);
    // The resource quota controller fills in status.hard and status.used before admission enforces the quota.
    await eventually(() => cp.k(['get', 'quota', 'small', '-n', 'quoted', '-o', 'jsonpath={.status.used.count/configmaps}']) === '1', 'the quota controller to count kube-root-ca.crt', 60_000);
    cp.k(['create', 'configmap', 'one', '-n', 'quoted']);
    const two = cp.kubectl(['create', 'configmap', 'two', '-n', 'quoted']);
    expect(two.code).not.toBe(0);
    expect(two.stderr).toContain('configmaps "two" is forbidden: exceeded quota: small, requested: count/configmaps=1, used: count/configmaps=2, limited: count/configmaps=2');
    cp.k(['run', 'p1', '-n', 'quoted', '--image=skiff/web:1.0']);
    cp.k(['run', 'p2', '-n', 'quoted', '--image=skiff/web:1.0']);
    const p3 = cp.kubectl(['run', 'p3', '-n', 'quoted', '--image=skiff/web:1.0']);
    expect(p3.stderr.trim()).toBe('Error from server (Forbidden): pods "p3" is forbidden: exceeded quota: small, requested: pods=1, used: pods=2, limited: pods=2');
    await eventually(() => /count\/configmaps\s+2\s+2\n\s*pods\s+2\s+2/.test(cp.k(['describe', 'quota', 'small', '-n', 'quoted'])), 'kubectl describe quota to show the usage', 30_000);
  });

  it('answers unknown fields with 400 under Strict and warns under Warn, as upstream', () => {
    const file = cp.writeFile('strict.yaml', 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: strict\nspec:\n  containers:\n  - name: c\n    image: skiff/web:1.0\n    colour: red\n');
    const strict = cp.kubectl(['create', '-f', file]);
    expect(strict.code).not.toBe(0);
    expect(strict.stderr.trim()).toBe(`Error from server (BadRequest): error when creating "${file}": Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "spec.containers[0].colour"`);
    const warn = cp.kubectl(['create', '-f', file, '--validate=warn']);
    expect(warn.code).toBe(0);
    expect(warn.stderr).toContain('Warning: unknown field "spec.containers[0].colour"');
  });

  it('lets a pod update change only what upstream allows', () => {
    cp.k(['set', 'image', 'pod/plain', 'plain=skiff/web:2.0']);
    expect(cp.k(['get', 'pod', 'plain', '-o', 'jsonpath={.spec.containers[0].image}'])).toBe('skiff/web:2.0');
    const r = cp.kubectl(['patch', 'pod', 'plain', '-p', '{"spec":{"hostname":"other"}}']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(
      'The Pod "plain" is invalid: spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
    );
  });

  it('does not rewrite a terminating pod on a repeated delete unless the grace period gets shorter', () => {
    cp.k(['run', 'bound', '--image=skiff/web:1.0', '--overrides={"spec":{"nodeName":"node-a"}}']);
    cp.k(['delete', 'pod', 'bound', '--wait=false']);
    const first = cp.k(['get', 'pod', 'bound', '-o', 'jsonpath={.metadata.resourceVersion} {.metadata.deletionGracePeriodSeconds}']);
    expect(first).toMatch(/^\d+ 30$/);
    cp.k(['delete', 'pod', 'bound', '--wait=false']);
    cp.k(['delete', 'pod', 'bound', '--wait=false', '--grace-period=60']);
    expect(cp.k(['get', 'pod', 'bound', '-o', 'jsonpath={.metadata.resourceVersion} {.metadata.deletionGracePeriodSeconds}'])).toBe(first);
    cp.k(['delete', 'pod', 'bound', '--wait=false', '--grace-period=5']);
    expect(cp.k(['get', 'pod', 'bound', '-o', 'jsonpath={.metadata.deletionGracePeriodSeconds}'])).toBe('5');
  });

  it('serves aggregated discovery to kubectl 1.27, 1.32 and 1.33, and the legacy documents to plain JSON clients', () => {
    for (const bin of ['kubectl', KUBECTL_127, KUBECTL_133]) {
      // A discovery cache of its own, so every version really asks the server.
      const cache = `--cache-dir=${cp.dir}/cache-${bin.replace(/\W/g, '')}`;
      const verbose = cp.kubectl(['api-resources', '-v=8', cache], { bin });
      expect(verbose.code).toBe(0);
      expect(verbose.stderr).toMatch(/Content-Type: application\/json;g=apidiscovery\.k8s\.io;v=v2(beta1)?;as=APIGroupDiscoveryList/);
      // Everything came from /api and /apis: no per group-version discovery requests.
      expect(verbose.stderr).not.toMatch(/GET https:\/\/[^ ]+\/apis\/apps\/v1(\?| )/);
      const rows = cp.k(['api-resources', '--no-headers', cache], { bin });
      expect(rows).toMatch(/^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment$/m);
      expect(cp.k(['get', 'po', 'plain', '-o', 'name', cache], { bin })).toBe('pod/plain\n');
    }
    expect(JSON.parse(cp.k(['get', '--raw', '/apis'])).kind).toBe('APIGroupList');
  });

  it('explains fields with descriptions', () => {
    const out = cp.k(['explain', 'pod.spec.containers.image']);
    expect(out).toMatch(/FIELD: image <string>/);
    expect(out).toMatch(/DESCRIPTION:\n\s+The container image to run\./);
    expect(cp.k(['explain', 'deployment.spec.replicas'])).toMatch(/The number of pods wanted\. Defaults to 1\./);
  });

  it('creates and lists HorizontalPodAutoscalers through autoscaling/v1 as upstream (kubectl autoscale)', () => {
    cp.k(['create', 'deployment', 'web', '--image=skiff/web:1.0']);
    expect(cp.k(['autoscale', 'deployment', 'web', '--min=2', '--max=5', '--cpu-percent=70'])).toMatch(/horizontalpodautoscaler.autoscaling\/web autoscaled/);
    expect(cp.k(['get', 'hpa', 'web', '--no-headers'])).toMatch(/^web\s+Deployment\/web\s+cpu: <unknown>\/70%\s+2\s+5\s+0\s+/);
    const v2 = JSON.parse(cp.k(['get', '--raw', '/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/web']));
    expect(v2.spec.metrics).toEqual([{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }]);
    cp.k(['patch', 'hpa', 'web', '--subresource=status', '--type=merge', '-p', '{"status":{"currentReplicas":2,"desiredReplicas":2,"currentMetrics":[{"type":"Resource","resource":{"name":"cpu","current":{"averageUtilization":42}}}]}}']);
    const v1 = JSON.parse(cp.k(['get', '--raw', '/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers/web']));
    expect(v1.spec.targetCPUUtilizationPercentage).toBe(70);
    expect(v1.status.currentCPUUtilizationPercentage).toBe(42);
    expect(cp.k(['get', 'hpa', 'web', '--no-headers'])).toMatch(/cpu: 42%\/70%\s+2\s+5\s+2/);
  });
});
