import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { KubeClient } from '../../../../control/client/index.js';
import { forbiddenMessage, NodeAuth, nodeRequestAttributes } from '../../../../agent/server/node-auth.js';

describe('nodeRequestAttributes (upstream node authorizer attributes)', () => {
  it.each([
    ['GET', '/stats/summary', 'get', 'stats'],
    ['GET', '/stats', 'get', 'stats'],
    ['GET', '/metrics', 'get', 'metrics'],
    ['GET', '/metrics/resource', 'get', 'metrics'],
    ['GET', '/logs/syslog', 'get', 'log'],
    ['POST', '/exec/default/web/web', 'create', 'proxy'],
    ['GET', '/exec/default/web/web', 'get', 'proxy'],
    ['POST', '/portForward/default/web', 'create', 'proxy'],
    ['GET', '/containerLogs/default/web/web', 'get', 'proxy'],
    ['GET', '/pods', 'get', 'proxy'],
    ['DELETE', '/pods/default/web', 'delete', 'proxy'],
    ['GET', '/statsz', 'get', 'proxy'],
    ['GET', '/metricsfoo', 'get', 'proxy'],
  ])('%s %s is %s nodes/%s', (method, path, verb, subresource) => {
    expect(nodeRequestAttributes(method, path, 'n1')).toEqual({ verb, resource: 'nodes', subresource, name: 'n1' });
  });

  it('words a refusal as the kubelet does', () => {
    expect(forbiddenMessage({ name: 'alice', groups: [] }, nodeRequestAttributes('GET', '/pods', 'n1'))).toBe('Forbidden (user=alice, verb=get, resource=nodes, subresource=proxy)');
  });
});

describe('NodeAuth', () => {
  const request = (headers: Record<string, string>): IncomingMessage => ({ headers, socket: {} }) as unknown as IncomingMessage;
  function fakeClient(answer: (body: { kind: string; spec: Record<string, unknown> }) => Record<string, unknown>): { client: KubeClient; calls: string[] } {
    const calls: string[] = [];
    const client = {
      create: async (_ref: unknown, _ns: unknown, body: { kind: string; spec: Record<string, unknown> }) => {
        calls.push(body.kind);
        return { ...body, status: answer(body) };
      },
    } as unknown as KubeClient;
    return { client, calls };
  }

  it('asks a TokenReview about a bearer token and a SubjectAccessReview about the request, caching both', async () => {
    let now = 0;
    const { client, calls } = fakeClient((b) =>
      b.kind === 'TokenReview'
        ? b.spec.token === 'good'
          ? { authenticated: true, user: { username: 'bob', uid: '7', groups: ['devs', 'system:authenticated'] } }
          : { authenticated: false }
        : { allowed: (b.spec as { user: string; resourceAttributes: { subresource: string } }).resourceAttributes.subresource === 'stats' },
    );
    const auth = new NodeAuth({ nodeName: 'n1', client, now: () => now });
    const bob = await auth.authenticate(request({ authorization: 'Bearer good' }));
    expect(bob).toEqual({ name: 'bob', uid: '7', groups: ['devs', 'system:authenticated'] });
    expect(await auth.authenticate(request({ authorization: 'Bearer bad' }))).toBeUndefined();
    expect(await auth.authenticate(request({}))).toBeUndefined();
    expect(await auth.authorize(bob!, nodeRequestAttributes('GET', '/stats/summary', 'n1'))).toBe(true);
    expect(await auth.authorize(bob!, nodeRequestAttributes('GET', '/pods', 'n1'))).toBe(false);
    expect(calls).toEqual(['TokenReview', 'TokenReview', 'SubjectAccessReview', 'SubjectAccessReview']);
    // Within the cache lifetimes nothing is asked again; a denial is forgotten sooner than an approval.
    await auth.authenticate(request({ authorization: 'Bearer good' }));
    await auth.authorize(bob!, nodeRequestAttributes('GET', '/stats/summary', 'n1'));
    await auth.authorize(bob!, nodeRequestAttributes('GET', '/pods', 'n1'));
    expect(calls).toHaveLength(4);
    now = 60_000;
    await auth.authorize(bob!, nodeRequestAttributes('GET', '/stats/summary', 'n1'));
    await auth.authorize(bob!, nodeRequestAttributes('GET', '/pods', 'n1'));
    expect(calls).toEqual(['TokenReview', 'TokenReview', 'SubjectAccessReview', 'SubjectAccessReview', 'SubjectAccessReview']);
  });

  it('without an API server accepts no tokens and allows whoever has a certificate', async () => {
    const auth = new NodeAuth({ nodeName: 'n1' });
    expect(await auth.authenticate(request({ authorization: 'Bearer x' }))).toBeUndefined();
    expect(await auth.authorize({ name: 'cert-user', groups: [] }, nodeRequestAttributes('GET', '/pods', 'n1'))).toBe(true);
  });
});
