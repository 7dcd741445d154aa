// The apps/v1 strategies behind the generic REST layer: defaults stored (and omitempty fields dropped), a fresh
// status on create that main-resource updates keep, generation bumped only on real spec changes, immutable selectors,
// field selectors.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseSelection, Rest, selects } from '../../../../../control/apiserver/rest.js';
import type { MemoryStore } from '../../../../../control/store/index.js';
import { ctx, def, freshRest, rejection } from './fixture.js';

let store: MemoryStore;
let rest: Rest;
beforeEach(() => {
  ({ store, rest } = freshRest());
});
afterEach(async () => {
  await store.close();
});

const template = (image = 'nginx:1.25') => ({ metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image }] } });
const deploymentBody = (image?: string) => ({ metadata: { name: 'web' }, spec: { selector: { matchLabels: { app: 'web' } }, template: template(image) } });

describe('Deployment strategy', () => {
  const deployments = def('deployments', 'apps');

  it('stores the defaulted object with an empty status and generation 1', async () => {
    const created = await rest.create(deployments, ctx('default'), { ...deploymentBody(), status: { replicas: 9 } });
    expect(created.apiVersion).toBe('apps/v1');
    expect(created.metadata.generation).toBe(1);
    expect(created.status).toEqual({});
    const spec = created.spec as any;
    expect(spec).toMatchObject({
      replicas: 1,
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
    });
    // omitempty: no empty lists, no false host* flags.
    expect(spec.template.spec.hostNetwork).toBeUndefined();
    expect(spec.template.spec.volumes).toBeUndefined();
    expect(spec.template.spec.containers[0].env).toBeUndefined();
    expect(spec.template.spec.containers[0].terminationMessagePath).toBe('/dev/termination-log');
    const read = await rest.get(deployments, ctx('default'), 'web');
    expect(read.spec).toEqual(created.spec);
  });

  it('reports validation errors as upstream', async () => {
    const msg = await rejection(rest.create(deployments, ctx('default'), { metadata: { name: 'web' }, spec: { template: template() } }));
    expect(msg).toBe(
      'Deployment.apps "web" is invalid: [spec.selector: Required value, spec.template.metadata.labels: Invalid value: {"app":"web"}: `selector` does not match template `labels`]',
    );
  });

  it('bumps generation only when the defaulted spec changes, and keeps status on main updates', async () => {
    await rest.create(deployments, ctx('default'), deploymentBody());
    await rest.update(deployments, ctx('default'), 'web', { metadata: { name: 'web' }, status: { replicas: 1, readyReplicas: 1, availableReplicas: 1 } }, 'status');
    // The same manifest again (without the server's defaults): nothing changed.
    const same = await rest.update(deployments, ctx('default'), 'web', deploymentBody());
    expect(same.metadata.generation).toBe(1);
    expect(same.status).toEqual({ replicas: 1, readyReplicas: 1, availableReplicas: 1 });
    const changed = await rest.update(deployments, ctx('default'), 'web', { ...deploymentBody('nginx:1.27'), status: {} });
    expect(changed.metadata.generation).toBe(2);
    expect(changed.status).toEqual({ replicas: 1, readyReplicas: 1, availableReplicas: 1 });
    // A metadata-only change does not count.
    const labelled = await rest.update(deployments, ctx('default'), 'web', { ...deploymentBody('nginx:1.27'), metadata: { name: 'web', labels: { team: 'a' } } });
    expect(labelled.metadata.generation).toBe(2);
  });

  it('refuses a changed selector', async () => {
    await rest.create(deployments, ctx('default'), deploymentBody());
    const body = deploymentBody() as any;
    body.spec.selector.matchLabels.tier = 'front';
    body.spec.template.metadata.labels.tier = 'front';
    expect(await rejection(rest.update(deployments, ctx('default'), 'web', body))).toBe(
      'Deployment.apps "web" is invalid: spec.selector: Invalid value: {"matchLabels":{"app":"web","tier":"front"}}: field is immutable',
    );
  });

  it('validates status writes', async () => {
    await rest.create(deployments, ctx('default'), deploymentBody());
    expect(await rejection(rest.update(deployments, ctx('default'), 'web', { metadata: { name: 'web' }, status: { observedGeneration: -1 } }, 'status'))).toBe(
      'Deployment.apps "web" is invalid: status.observedGeneration: Invalid value: -1: must be greater than or equal to 0',
    );
  });

  it('rejects unknown fields under strict validation', async () => {
    const body = deploymentBody() as any;
    body.spec.replica = 2;
    expect(await rejection(rest.create(deployments, ctx('default'), body))).toBe('Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.replica"');
  });
});

describe('ReplicaSet, StatefulSet, DaemonSet, ControllerRevision strategies', () => {
  it('selects ReplicaSets by status.replicas', async () => {
    const rs = def('replicasets', 'apps');
    const created = await rest.create(rs, ctx('default'), { metadata: { name: 'web-1' }, spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: template() } });
    expect(created.status).toEqual({ replicas: 0 });
    const sel = parseSelection(rs, new URLSearchParams({ fieldSelector: 'status.replicas=0' }));
    expect(selects(rs, sel, created)).toBe(true);
    expect(selects(rs, parseSelection(rs, new URLSearchParams({ fieldSelector: 'status.replicas=2' })), created)).toBe(false);
  });

  it('forbids StatefulSet spec changes outside the mutable fields', async () => {
    const sts = def('statefulsets', 'apps');
    const body = { metadata: { name: 'db' }, spec: { serviceName: 'db', selector: { matchLabels: { app: 'web' } }, template: template() } };
    const created = await rest.create(sts, ctx('default'), body);
    expect((created.spec as any).podManagementPolicy).toBe('OrderedReady');
    expect(created.status).toEqual({ replicas: 0, availableReplicas: 0 });
    const scaled = await rest.update(sts, ctx('default'), 'db', { ...body, spec: { ...body.spec, replicas: 3 } });
    expect(scaled.metadata.generation).toBe(2);
    expect(await rejection(rest.update(sts, ctx('default'), 'db', { ...body, spec: { ...body.spec, serviceName: 'other' } }))).toBe(
      "StatefulSet.apps \"db\" is invalid: spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
    );
  });

  it('defaults DaemonSets and keeps their selector', async () => {
    const ds = def('daemonsets', 'apps');
    const created = await rest.create(ds, ctx('kube-system'), { metadata: { name: 'agent' }, spec: { selector: { matchLabels: { app: 'web' } }, template: template() } });
    expect((created.spec as any).updateStrategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } });
    expect(created.status).toEqual({ currentNumberScheduled: 0, numberMisscheduled: 0, desiredNumberScheduled: 0, numberReady: 0 });
    // The template generation lives in an annotation, bumped by template changes only.
    expect(created.metadata.annotations?.['deprecated.daemonset.template.generation']).toBe('1');
    const body = { metadata: { name: 'agent' }, spec: { selector: { matchLabels: { app: 'web' } }, template: template() } };
    const same = await rest.update(ds, ctx('kube-system'), 'agent', { ...body, spec: { ...body.spec, minReadySeconds: 5 } });
    expect(same.metadata.annotations?.['deprecated.daemonset.template.generation']).toBe('1');
    expect(same.metadata.generation).toBe(2);
    const changed = await rest.update(ds, ctx('kube-system'), 'agent', { ...body, spec: { ...body.spec, minReadySeconds: 5, template: template('other:2') } });
    expect(changed.metadata.annotations?.['deprecated.daemonset.template.generation']).toBe('2');
    const status = await rest.update(ds, ctx('kube-system'), 'agent', { ...changed, status: { ...(changed.status as object), numberReady: 0 } }, 'status');
    expect(status.metadata.annotations?.['deprecated.daemonset.template.generation']).toBe('2');
  });

  it('keeps ControllerRevision data immutable', async () => {
    const cr = def('controllerrevisions', 'apps');
    await rest.create(cr, ctx('default'), { metadata: { name: 'web-1' }, data: { spec: { a: 1 } }, revision: 1 });
    expect(await rejection(rest.update(cr, ctx('default'), 'web-1', { metadata: { name: 'web-1' }, data: { spec: { a: 2 } }, revision: 1 }))).toBe(
      'ControllerRevision.apps "web-1" is invalid: data: Invalid value: {"spec":{"a":2}}: field is immutable',
    );
  });
});
