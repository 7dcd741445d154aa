import { describe, expect, it } from 'vitest';
import { ApiPodDecoder, podIntent } from '../../../../agent/cluster/api-source.js';
import type { KubeObject } from '../../../../control/client/index.js';

const apiPod = (name: string, over: { resourceVersion?: string; labels?: Record<string, string>; status?: Record<string, unknown>; image?: string } = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {
    name,
    namespace: 'default',
    uid: `uid-${name}`,
    resourceVersion: over.resourceVersion ?? '1',
    managedFields: [{ manager: 'skiff', operation: 'Update' }],
    ...(over.labels ? { labels: over.labels } : {}),
  },
  spec: { nodeName: 'node1', containers: [{ name: 'web', image: over.image ?? 'skiff/web:1.0' }] },
  ...(over.status ? { status: over.status } : {}),
});

describe('podIntent', () => {
  it('drops the status, resourceVersion and managedFields and keeps the rest', () => {
    const intent = podIntent(apiPod('a', { resourceVersion: '7', labels: { app: 'web' }, status: { phase: 'Running' } }));
    expect(intent.status).toBeUndefined();
    expect(intent.metadata).toEqual({ name: 'a', namespace: 'default', uid: 'uid-a', labels: { app: 'web' } });
    expect(intent.spec).toEqual({ nodeName: 'node1', containers: [{ name: 'web', image: 'skiff/web:1.0' }] });
  });
});

describe('ApiPodDecoder', () => {
  it('decodes the pods for the agent, marked as coming from the api source', () => {
    const out = new ApiPodDecoder().decode([apiPod('a'), apiPod('b')]);
    expect(out.changed).toBe(true);
    expect(out.errors).toEqual([]);
    expect(out.pods.map((p) => p.metadata.name)).toEqual(['a', 'b']);
    expect(out.pods[0]?.metadata.annotations?.['kubernetes.io/config.source']).toBe('api');
    // Upstream's defaults are applied.
    expect(out.pods[0]?.spec.restartPolicy).toBe('Always');
  });

  it('reports no change for status updates and keeps the decoded pods', () => {
    const decoder = new ApiPodDecoder();
    const first = decoder.decode([apiPod('a'), apiPod('b')]);
    const second = decoder.decode([apiPod('a', { resourceVersion: '2', status: { phase: 'Running' } }), apiPod('b', { resourceVersion: '3', status: { phase: 'Pending' } })]);
    expect(second.changed).toBe(false);
    expect(second.pods[0]).toBe(first.pods[0]);
    expect(second.pods[1]).toBe(first.pods[1]);
  });

  it('reports a change of spec or labels, decoding only the pod that changed', () => {
    const decoder = new ApiPodDecoder();
    const first = decoder.decode([apiPod('a'), apiPod('b')]);
    const relabelled = decoder.decode([apiPod('a', { resourceVersion: '2', labels: { tier: 'front' } }), apiPod('b')]);
    expect(relabelled.changed).toBe(true);
    expect(relabelled.pods[0]?.metadata.labels).toEqual({ tier: 'front' });
    expect(relabelled.pods[1]).toBe(first.pods[1]);
    const newImage = decoder.decode([apiPod('a', { resourceVersion: '3', labels: { tier: 'front' }, image: 'skiff/web:2.0' }), apiPod('b')]);
    expect(newImage.changed).toBe(true);
    expect(newImage.pods[0]?.spec.containers[0]?.image).toBe('skiff/web:2.0');
  });

  it('takes an object of the same resourceVersion as the same pod without looking into it', () => {
    const decoder = new ApiPodDecoder();
    const first = decoder.decode([apiPod('a', { resourceVersion: '5' })]);
    // A relist hands out new copies of unchanged objects: same version, same decoded pod (the label, which a real
    // object of that version could not have, only shows that the copy was not looked into).
    const again = decoder.decode([apiPod('a', { resourceVersion: '5', labels: { copied: 'yes' } })]);
    expect(again.changed).toBe(false);
    expect(again.pods[0]).toBe(first.pods[0]);
    // A new version with a new intent is decoded.
    expect(decoder.decode([apiPod('a', { resourceVersion: '6', labels: { tier: 'front' } })]).pods[0]?.metadata.labels).toEqual({ tier: 'front' });
  });

  it('reports pods that come and go', () => {
    const decoder = new ApiPodDecoder();
    decoder.decode([apiPod('a')]);
    const added = decoder.decode([apiPod('a'), apiPod('b')]);
    expect(added.changed).toBe(true);
    expect(added.pods.map((p) => p.metadata.name)).toEqual(['a', 'b']);
    const removed = decoder.decode([apiPod('b')]);
    expect(removed.changed).toBe(true);
    expect(removed.pods.map((p) => p.metadata.name)).toEqual(['b']);
    expect(decoder.decode([apiPod('b')]).changed).toBe(false);
  });

  it('counts the first set as news even when it is empty', () => {
    const decoder = new ApiPodDecoder();
    expect(decoder.decode([])).toEqual({ pods: [], errors: [], changed: true });
    expect(decoder.decode([]).changed).toBe(false);
  });

  it('reports a pod that cannot run as an error, once per version of it', () => {
    const decoder = new ApiPodDecoder();
    const bad: KubeObject = { ...apiPod('bad'), spec: { nodeName: 'node1', containers: [] } };
    const out = decoder.decode([bad, apiPod('a')]);
    expect(out.changed).toBe(true);
    expect(out.pods.map((p) => p.metadata.name)).toEqual(['a']);
    expect(out.errors).toEqual([{ origin: 'api pod default/bad', message: expect.stringContaining('pod "bad" cannot run: spec.containers') }]);
    const again = decoder.decode([{ ...bad, status: { phase: 'Pending' } }, apiPod('a')]);
    expect(again.changed).toBe(false);
    expect(again.errors).toEqual(out.errors);
  });
});
