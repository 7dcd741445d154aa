import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { controllerMetrics, CONTROLLER_NAMES, MeteredQueue, selectControllers } from '../../../../control/controllers/index.js';
import { controllerRateLimit } from '../../../../control/controllers/manager.js';
import { CONTROLLER_MANAGER_LIMIT } from '../../../../control/client/index.js';
import { missingServiceAccounts } from '../../../../control/controllers/serviceaccount.js';
import { namespaceConditions } from '../../../../control/controllers/namespace.js';
import { Expectations } from '../../../../control/controllers/expectations.js';
import { decidePodGc } from '../../../../control/controllers/podgc.js';
import type { Pod } from '../../../../control/controllers/objects.js';

describe('controller selection', () => {
  it('runs every controller by default, and understands names, * and -name', () => {
    expect(selectControllers(undefined)).toEqual(CONTROLLER_NAMES);
    expect(selectControllers(['deployment', 'replicaset'])).toEqual(['replicaset', 'deployment']);
    expect(selectControllers(['*', '-garbagecollector'])).not.toContain('garbagecollector');
    expect(() => selectControllers(['nope'])).toThrow('unknown controller(s) "nope"');
    // Upstream's --controllers names.
    expect(CONTROLLER_NAMES).toEqual(expect.arrayContaining(['replicaset', 'replicationcontroller', 'deployment', 'endpoint', 'endpointslice', 'namespace', 'garbagecollector', 'serviceaccount', 'podgc', 'job', 'cronjob', 'ttl-after-finished', 'horizontalpodautoscaling', 'csrapproving', 'csrsigning', 'daemonset', 'statefulset', 'nodelifecycle', 'disruption', 'resourcequota']));
  });
});

describe('client-side rate limits per controller', () => {
  it("hold each controller to --kube-api-qps and --kube-api-burst, but for upstream's namespace and garbage collector exceptions", () => {
    expect(CONTROLLER_MANAGER_LIMIT).toEqual({ qps: 20, burst: 30 });
    expect(controllerRateLimit('deployment', CONTROLLER_MANAGER_LIMIT)).toEqual({ qps: 20, burst: 30 });
    expect(controllerRateLimit('namespace', CONTROLLER_MANAGER_LIMIT)).toEqual({ qps: 400, burst: 3000 });
    expect(controllerRateLimit('garbagecollector', CONTROLLER_MANAGER_LIMIT)).toEqual({ qps: 40, burst: 30 });
    // A negative qps (no limit) stays negative when scaled.
    expect(controllerRateLimit('namespace', { qps: -1, burst: 0 }).qps).toBeLessThan(0);
  });
});

describe('metrics', () => {
  it('reports workqueue depth, adds, retries and reconcile latency and errors per controller', async () => {
    const registry = new Registry();
    const m = controllerMetrics(registry);
    const q = new MeteredQueue('deployment', m);
    q.add('default/a');
    q.add('default/b');
    q.addRateLimited('default/c');
    m.reconciled('deployment', 0.02, false);
    m.reconciled('deployment', 0.5, true);
    const text = await registry.metrics();
    expect(text).toContain('workqueue_depth{name="deployment"} 2');
    expect(text).toContain('workqueue_adds_total{name="deployment"} 2');
    expect(text).toContain('workqueue_retries_total{name="deployment"} 1');
    expect(text).toContain('workqueue_work_duration_seconds_count{name="deployment"} 2');
    expect(text).toContain('controller_runtime_reconcile_errors_total{controller="deployment"} 1');
    expect(text).toContain('controller_runtime_reconcile_time_seconds_count{controller="deployment"} 2');
    // A second manager on the same registry reuses the metrics instead of failing to register them.
    expect(() => controllerMetrics(registry)).not.toThrow();
    q.shutDown();
  });
});

describe('expectations', () => {
  it('hold a controller back until its creations and deletions are observed, or expire', () => {
    let now = 0;
    const e = new Expectations(() => now);
    expect(e.satisfied('k')).toBe(true);
    e.expectCreations('k', 2);
    e.creationObserved('k');
    expect(e.satisfied('k')).toBe(false);
    e.creationObserved('k');
    expect(e.satisfied('k')).toBe(true);
    e.expectDeletions('k', ['ns/a']);
    expect(e.satisfied('k')).toBe(false);
    e.deletionObserved('k', 'ns/other');
    expect(e.satisfied('k')).toBe(false);
    now += 6 * 60 * 1000;
    expect(e.satisfied('k')).toBe(true);
  });
});

describe('namespace and serviceaccount decisions', () => {
  it('report the content left in a terminating namespace as upstream does', () => {
    const now = new Date('2026-01-01T00:00:00Z');
    const c = namespaceConditions([], { remaining: new Map([['pods.', 2]]), failures: [] }, now);
    expect(c.find((x) => x.type === 'NamespaceContentRemaining')).toMatchObject({ status: 'True', reason: 'SomeResourcesRemain', message: 'Some resources are remaining: pods. has 2 resource instances' });
    expect(c.find((x) => x.type === 'NamespaceDeletionContentFailure')).toMatchObject({ status: 'False', reason: 'ContentDeleted' });
  });
  it('want a default service account in active namespaces only', () => {
    expect(missingServiceAccounts({ metadata: { name: 'a' } }, [])).toEqual(['default']);
    expect(missingServiceAccounts({ metadata: { name: 'a' } }, ['default'])).toEqual([]);
    expect(missingServiceAccounts({ metadata: { name: 'a', deletionTimestamp: 't' } }, [])).toEqual([]);
  });
});

describe('pod GC decisions', () => {
  const pod = (name: string, o: { node?: string; phase?: string; created?: number; deleting?: boolean } = {}): Pod => ({
    metadata: { name, namespace: 'default', creationTimestamp: new Date(Date.UTC(2026, 0, 1, 0, o.created ?? 0)).toISOString(), ...(o.deleting ? { deletionTimestamp: 't' } : {}) },
    spec: { ...(o.node ? { nodeName: o.node } : {}) },
    status: { phase: o.phase ?? 'Running' },
  });
  it('keeps finished pods under the threshold, oldest going first', () => {
    const pods = [pod('new', { node: 'n1', phase: 'Succeeded', created: 3 }), pod('old', { node: 'n1', phase: 'Failed', created: 1 }), pod('mid', { node: 'n1', phase: 'Succeeded', created: 2 }), pod('running', { node: 'n1' })];
    expect(decidePodGc(pods, new Set(['n1']), new Map(), 0, { terminatedThreshold: 1 }).terminated).toEqual(['default/old', 'default/mid']);
  });
  it('force-deletes pods of a node missing longer than the quarantine, and unscheduled terminating pods', () => {
    const pods = [pod('lost', { node: 'gone' }), pod('fine', { node: 'n1' }), pod('stuck', { deleting: true }), pod('pending')];
    expect(decidePodGc(pods, new Set(['n1']), new Map([['gone', 0]]), 10_000)).toEqual({ terminated: [], orphaned: [], unscheduledTerminating: ['default/stuck'] });
    expect(decidePodGc(pods, new Set(['n1']), new Map([['gone', 0]]), 40_000).orphaned).toEqual(['default/lost']);
  });
});
