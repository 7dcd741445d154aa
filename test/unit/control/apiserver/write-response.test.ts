import { afterEach, describe, expect, it, vi } from 'vitest';
import { startTestApiServer, type TestApiServer } from '../../../helpers/api-server.js';

describe('the answer to a write', () => {
  let api: TestApiServer | undefined;
  afterEach(async () => {
    await api?.close();
    api = undefined;
  });
  const start = async (): Promise<string> => (api = await startTestApiServer()).base;

  it('is the object as stored and read back, made from the stored bytes rather than serialized again', async () => {
    const base = await start();
    const url = `${base}/api/v1/namespaces/default/configmaps`;
    const body = (data: Record<string, string>, extra: Record<string, unknown> = {}) => JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'answer', namespace: 'default', labels: { a: 'b' }, ...extra }, data });
    const stringify = vi.spyOn(JSON, 'stringify');
    // A serialization of the object with its resourceVersion is one of an answer: the store is written without it.
    const answersSerialized = (): number => stringify.mock.calls.filter(([v]) => (v as { metadata?: { name?: string; resourceVersion?: string } } | null)?.metadata?.name === 'answer' && (v as { metadata: { resourceVersion?: string } }).metadata.resourceVersion !== undefined).length;
    try {
      const created = await fetch(url, { method: 'POST', body: body({ k: 'v' }), headers: { 'Content-Type': 'application/json' } });
      expect(created.status).toBe(201);
      const createdObj = (await created.json()) as { metadata: { resourceVersion: string } };
      const updated = await fetch(`${url}/answer`, { method: 'PUT', body: body({ k: 'w' }), headers: { 'Content-Type': 'application/json' } });
      expect(updated.status).toBe(200);
      const updatedObj = (await updated.json()) as { metadata: { resourceVersion: string } };
      expect(answersSerialized()).toBe(0);
      stringify.mockRestore();
      const read = (await (await fetch(`${url}/answer`)).json()) as { metadata: { resourceVersion: string } };
      expect(updatedObj).toEqual(read);
      expect(Number(updatedObj.metadata.resourceVersion)).toBeGreaterThan(Number(createdObj.metadata.resourceVersion));
      expect(createdObj).toEqual({ ...read, metadata: { ...read.metadata, resourceVersion: createdObj.metadata.resourceVersion }, data: { k: 'v' } });
    } finally {
      stringify.mockRestore();
    }
  });

  it('leaves out empty metadata members as a read does', async () => {
    const base = await start();
    const created = await fetch(`${base}/api/v1/namespaces/default/configmaps`, { method: 'POST', body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'bare', namespace: 'default', labels: {}, annotations: {} } }), headers: { 'Content-Type': 'application/json' } });
    const obj = (await created.json()) as { metadata: Record<string, unknown> };
    expect(obj.metadata).not.toHaveProperty('labels');
    expect(obj.metadata).not.toHaveProperty('annotations');
    expect(obj).toEqual(await (await fetch(`${base}/api/v1/namespaces/default/configmaps/bare`)).json());
  });
});
