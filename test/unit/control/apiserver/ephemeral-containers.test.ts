import { afterEach, describe, expect, it } from 'vitest';
import { startTestApiServer, type TestApiServer } from '../../../helpers/api-server.js';

interface PodBody {
  metadata: { name: string; resourceVersion: string; labels?: Record<string, string> };
  spec: { containers: { name: string; image: string }[]; ephemeralContainers?: Record<string, unknown>[] };
  status?: { phase?: string };
}
interface StatusBody {
  code: number;
  reason: string;
  message: string;
  details?: { causes?: { field: string; reason: string; message: string }[] };
}

const debuggerContainer = { name: 'debugger', image: 'busybox:1.36', command: ['sh'], stdin: true, tty: true, targetContainerName: 'app' };

describe('pods/ephemeralcontainers (kubectl debug)', () => {
  let api: TestApiServer | undefined;
  afterEach(async () => {
    await api?.close();
    api = undefined;
  });

  const pods = (): string => `${api?.base ?? ''}/api/v1/namespaces/default/pods`;
  const send = async (method: string, url: string, body: unknown, contentType = 'application/json'): Promise<{ status: number; body: unknown }> => {
    const res = await fetch(url, { method, body: JSON.stringify(body), headers: { 'Content-Type': contentType } });
    return { status: res.status, body: await res.json() };
  };
  const createPod = async (extra: Record<string, unknown> = {}): Promise<PodBody> => {
    const res = await send('POST', pods(), { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web' }, spec: { containers: [{ name: 'app', image: 'nginx:1.27' }], ...extra } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body as PodBody;
  };
  /** What kubectl debug sends: a strategic merge patch adding one ephemeral container. */
  const addEphemeral = (container: Record<string, unknown>): Promise<{ status: number; body: unknown }> =>
    send('PATCH', `${pods()}/web/ephemeralcontainers`, { spec: { ephemeralContainers: [container] } }, 'application/strategic-merge-patch+json');

  it('adds an ephemeral container, defaulted as a container is, and leaves the rest of the pod as stored', async () => {
    api = await startTestApiServer();
    const created = await createPod();
    // Anything besides the ephemeral containers in the body is ignored, as upstream's subresource does.
    const res = await send('PATCH', `${pods()}/web/ephemeralcontainers`, { metadata: { labels: { sneaky: 'yes' } }, spec: { ephemeralContainers: [debuggerContainer], containers: [{ name: 'app', image: 'other:1' }] } }, 'application/strategic-merge-patch+json');
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const pod = res.body as PodBody;
    expect(pod.spec.ephemeralContainers).toEqual([
      { ...debuggerContainer, imagePullPolicy: 'IfNotPresent', resources: {}, terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File' },
    ]);
    expect(pod.spec.containers[0]?.image).toBe('nginx:1.27');
    expect(pod.metadata.labels).toBeUndefined();
    expect(pod.status?.phase).toBe('Pending');
    expect(Number(pod.metadata.resourceVersion)).toBeGreaterThan(Number(created.metadata.resourceVersion));
    // GET of the subresource is the pod.
    const got = (await (await fetch(`${pods()}/web/ephemeralcontainers`)).json()) as PodBody & { kind: string };
    expect([got.kind, got.spec.ephemeralContainers?.map((c) => c.name)]).toEqual(['Pod', ['debugger']]);
  });

  it('refuses to change or remove an ephemeral container once added', async () => {
    api = await startTestApiServer();
    await createPod();
    expect((await addEphemeral(debuggerContainer)).status).toBe(200);
    const pod = (await (await fetch(`${pods()}/web`)).json()) as PodBody;
    const changed = await send('PUT', `${pods()}/web/ephemeralcontainers`, { ...pod, spec: { ...pod.spec, ephemeralContainers: [{ ...pod.spec.ephemeralContainers?.[0], image: 'busybox:1.37' }] } });
    expect(changed.status).toBe(422);
    expect((changed.body as StatusBody).message).toContain('existing ephemeral containers "debugger" may not be changed');
    const removed = await send('PUT', `${pods()}/web/ephemeralcontainers`, { ...pod, spec: { ...pod.spec, ephemeralContainers: [] } });
    expect(removed.status).toBe(422);
    expect((removed.body as StatusBody).message).toContain('existing ephemeral containers "debugger" may not be removed');
    // A second one is added after it (kubectl's two-way patch names the order it wants).
    const second = await send('PATCH', `${pods()}/web/ephemeralcontainers`, { spec: { '$setElementOrder/ephemeralContainers': [{ name: 'debugger' }, { name: 'debugger-2' }], ephemeralContainers: [{ name: 'debugger-2', image: 'busybox:1.36' }] } }, 'application/strategic-merge-patch+json');
    expect(second.status, JSON.stringify(second.body)).toBe(200);
    expect((second.body as PodBody).spec.ephemeralContainers?.map((c) => c.name)).toEqual(['debugger', 'debugger-2']);
  });

  it('refuses what an ephemeral container may not have, with upstream\'s field errors', async () => {
    api = await startTestApiServer();
    await createPod();
    const res = await addEphemeral({
      name: 'app',
      image: 'busybox:1.36',
      ports: [{ containerPort: 80 }],
      readinessProbe: { tcpSocket: { port: 80 } },
      resources: { limits: { cpu: '1' } },
      targetContainerName: 'nope',
    });
    expect(res.status).toBe(422);
    const causes = ((res.body as StatusBody).details?.causes ?? []).map((c) => `${c.reason} ${c.field}`);
    expect(causes).toEqual(
      expect.arrayContaining([
        'FieldValueDuplicate spec.ephemeralContainers[0].name',
        'FieldValueForbidden spec.ephemeralContainers[0].ports',
        'FieldValueForbidden spec.ephemeralContainers[0].readinessProbe',
        'FieldValueForbidden spec.ephemeralContainers[0].resources',
        'FieldValueNotFound spec.ephemeralContainers[0].targetContainerName',
      ]),
    );
    const pod = (await (await fetch(`${pods()}/web`)).json()) as PodBody;
    expect(pod.spec.ephemeralContainers).toBeUndefined();
  });

  it('keeps ephemeral containers out of creates and of updates of the pod itself', async () => {
    api = await startTestApiServer();
    const onCreate = await send('POST', pods(), { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'early' }, spec: { containers: [{ name: 'app', image: 'nginx:1.27' }], ephemeralContainers: [{ name: 'debugger', image: 'busybox:1.36' }] } });
    expect(onCreate.status).toBe(422);
    expect((onCreate.body as StatusBody).message).toContain('spec.ephemeralContainers: Forbidden: cannot be set on create');
    await createPod();
    const viaPod = await send('PATCH', `${pods()}/web`, { spec: { ephemeralContainers: [{ name: 'debugger', image: 'busybox:1.36' }] } }, 'application/strategic-merge-patch+json');
    expect(viaPod.status).toBe(422);
    expect((viaPod.body as StatusBody).message).toContain('pod updates may not change fields other than');
    // Once added through the subresource, an update of the pod itself (a label) keeps them.
    expect((await addEphemeral(debuggerContainer)).status).toBe(200);
    const labelled = await send('PATCH', `${pods()}/web`, { metadata: { labels: { debug: 'on' } } }, 'application/merge-patch+json');
    expect(labelled.status, JSON.stringify(labelled.body)).toBe(200);
    expect((labelled.body as PodBody).spec.ephemeralContainers?.map((c) => c.name)).toEqual(['debugger']);
  });

  it('refuses ephemeral containers in the mirror pod of a static pod', async () => {
    api = await startTestApiServer();
    const res = await send('POST', pods(), { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', annotations: { 'kubernetes.io/config.mirror': 'abc' } }, spec: { nodeName: 'n1', containers: [{ name: 'app', image: 'nginx:1.27' }] } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const added = await addEphemeral(debuggerContainer);
    expect(added.status).toBe(422);
    expect((added.body as StatusBody).message).toContain('static pods do not support ephemeral containers');
  });
});
