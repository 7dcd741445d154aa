import { afterEach, describe, expect, it } from 'vitest';
import { startTestApiServer, type TestApiServer } from '../../../helpers/api-server.js';

interface StatusBody {
  kind: string;
  code: number;
  reason: string;
  message: string;
  details?: { causes?: { field: string; reason: string; message: string }[] };
}

describe('pod sysctls through the API server', () => {
  let api: TestApiServer | undefined;
  afterEach(async () => {
    await api?.close();
    api = undefined;
  });

  const post = async (path: string, body: unknown): Promise<{ status: number; body: unknown }> => {
    const res = await fetch(`${api?.base ?? ''}${path}`, { method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });
    return { status: res.status, body: await res.json() };
  };
  const spec = (extra: Record<string, unknown>) => ({ containers: [{ name: 'app', image: 'nginx:1.27' }], ...extra });

  it('refuses bad, repeated and host-namespaced sysctls with a 422 naming each field', async () => {
    api = await startTestApiServer();
    const res = await post('/api/v1/namespaces/default/pods', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web' },
      spec: spec({
        hostNetwork: true,
        securityContext: { sysctls: [{ name: 'net.core.somaxconn', value: '1024' }, { name: 'kernel..x', value: '1' }, { name: '', value: '1' }, { name: 'kernel.sem', value: '1' }, { name: 'kernel.sem', value: '2' }] },
      }),
    });
    expect(res.status).toBe(422);
    const body = res.body as StatusBody;
    expect([body.kind, body.reason, body.code]).toEqual(['Status', 'Invalid', 422]);
    expect((body.details?.causes ?? []).map((c) => `${c.reason} ${c.field}: ${c.message}`)).toEqual([
      `FieldValueInvalid spec.securityContext.sysctls[0].name: Invalid value: "net.core.somaxconn": may not be specified when 'hostNetwork' is true`,
      'FieldValueInvalid spec.securityContext.sysctls[1].name: Invalid value: "kernel..x": must have at most 253 characters and match regex ^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\\./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$',
      'FieldValueRequired spec.securityContext.sysctls[2].name: Required value',
      'FieldValueDuplicate spec.securityContext.sysctls[4].name: Duplicate value: "kernel.sem"',
    ]);
  });

  it('accepts valid sysctls, and refuses a deployment whose template has an IPC sysctl with hostIPC', async () => {
    api = await startTestApiServer();
    const ok = await post('/api/v1/namespaces/default/pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web' }, spec: spec({ securityContext: { sysctls: [{ name: 'kernel.shm_rmid_forced', value: '1' }] } }) });
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
    const res = await post('/apis/apps/v1/namespaces/default/deployments', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: {
        selector: { matchLabels: { app: 'web' } },
        template: { metadata: { labels: { app: 'web' } }, spec: spec({ hostIPC: true, securityContext: { sysctls: [{ name: 'fs.mqueue.msg_max', value: '20' }] } }) },
      },
    });
    expect(res.status).toBe(422);
    expect((res.body as StatusBody).message).toContain(`spec.template.spec.securityContext.sysctls[0].name: Invalid value: "fs.mqueue.msg_max": may not be specified when 'hostIPC' is true`);
  });
});
