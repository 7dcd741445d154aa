import { afterEach, describe, expect, it } from 'vitest';
import { startTestApiServer, type TestApiServer } from '../../../helpers/api-server.js';

/** Bodies that are JSON but not objects, sent to every kind of write: a 400 Status each, and nothing written. */
describe('a write whose body is not an object', () => {
  let api: TestApiServer | undefined;
  afterEach(async () => {
    await api?.close();
    api = undefined;
  });

  it('gets 400 on resources and their subresources (scale, status, binding) alike, and changes nothing', async () => {
    api = await startTestApiServer();
    const { base } = api;
    const json = { 'Content-Type': 'application/json' };
    const created = await fetch(`${base}/apis/apps/v1/namespaces/default/deployments`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: { replicas: 2, selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } } }),
    });
    expect(created.status).toBe(201);
    const revision = async (): Promise<number> => (await api!.store.range({ key: '/', rangeEnd: '\0', countOnly: true })).header.revision;
    const before = await revision();
    const writes: Array<[string, string]> = [
      ['POST', '/api/v1/namespaces/default/configmaps'],
      ['PUT', '/apis/apps/v1/namespaces/default/deployments/d'],
      ['PUT', '/apis/apps/v1/namespaces/default/deployments/d/scale'],
      ['PUT', '/apis/apps/v1/namespaces/default/deployments/d/status'],
      ['POST', '/api/v1/namespaces/default/bindings'],
      ['POST', '/api/v1/namespaces/default/pods/p/binding'],
    ];
    for (const [method, path] of writes) {
      for (const body of ['null', '[]', '"x"', '5', 'true']) {
        const res = await fetch(`${base}${path}`, { method, headers: json, body });
        const status = (await res.json()) as { kind: string; code: number; message: string };
        expect([method, path, body, res.status, status.kind, status.message]).toEqual([method, path, body, 400, 'Status', 'the body of the request must be a JSON or YAML object']);
      }
    }
    expect(await revision()).toBe(before);
    const scale = (await (await fetch(`${base}/apis/apps/v1/namespaces/default/deployments/d/scale`)).json()) as { spec: { replicas: number } };
    expect(scale.spec.replicas).toBe(2);
  });
});
