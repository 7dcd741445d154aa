import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiError } from '../../../../../control/apiserver/http/status.js';
import { agentError, chooseContainer, containerLogsPath, nodeEndpoint, parsePodLogOptions, servePodLog } from '../../../../../control/apiserver/proxy/pod-log.js';
import type { KubeObject } from '../../../../../control/apiserver/storage/object-storage.js';

const pod = (containers: string[], inits: string[] = [], nodeName?: string): KubeObject =>
  ({ metadata: { name: 'web', namespace: 'default' }, spec: { ...(nodeName ? { nodeName } : {}), containers: containers.map((name) => ({ name })), initContainers: inits.map((name) => ({ name })) } }) as KubeObject;

const catchErr = (fn: () => unknown): ApiError => {
  try {
    fn();
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error('no error');
};

describe('pods/log options and container choice (upstream LogLocation)', () => {
  it('parses the query and validates as ValidatePodLogOptions', () => {
    expect(parsePodLogOptions('web', new URLSearchParams('container=a&follow=true&tailLines=5&timestamps=1&limitBytes=10&sinceSeconds=60'))).toEqual({
      container: 'a',
      follow: true,
      previous: false,
      timestamps: true,
      tailLines: 5,
      sinceSeconds: 60,
      limitBytes: 10,
    });
    const e = catchErr(() => parsePodLogOptions('web', new URLSearchParams('tailLines=-1')));
    expect(e.code).toBe(422);
    expect(e.message).toBe('PodLogOptions "web" is invalid: tailLines: Invalid value: -1: must be greater than or equal to 0');
    expect(catchErr(() => parsePodLogOptions('web', new URLSearchParams('limitBytes=0'))).message).toContain('limitBytes: Invalid value: 0: must be greater than 0');
    expect(catchErr(() => parsePodLogOptions('web', new URLSearchParams('follow=maybe'))).code).toBe(400);
    const since = parsePodLogOptions('web', new URLSearchParams('sinceTime=2026-01-01T00:00:00Z'), new Date('2026-01-01T00:01:00Z'));
    expect(since.sinceSeconds).toBe(60);
  });

  it('needs a container name when the pod has several, as upstream words it', () => {
    expect(chooseContainer(pod(['only']), undefined)).toBe('only');
    expect(catchErr(() => chooseContainer(pod(['a', 'b']), undefined)).message).toBe('a container name must be specified for pod web, choose one of: [a b]');
    expect(catchErr(() => chooseContainer(pod(['a', 'b'], ['init']), undefined)).message).toBe('a container name must be specified for pod web, choose one of: [a b] or one of the init containers: [init]');
    expect(catchErr(() => chooseContainer(pod(['a']), 'z')).message).toBe('container z is not valid for pod web');
    expect(chooseContainer(pod(['a'], ['init']), 'init')).toBe('init');
  });

  it('finds the node API from the InternalIP and the reported port, and builds the agent path', () => {
    const node = { metadata: { name: 'n1' }, status: { addresses: [{ type: 'Hostname', address: 'n1' }, { type: 'InternalIP', address: '192.0.2.7' }], daemonEndpoints: { kubeletEndpoint: { Port: 10255 } } } } as KubeObject;
    expect(nodeEndpoint(node)).toEqual({ host: '192.0.2.7', port: 10255 });
    expect(containerLogsPath('default', 'web', 'a', { follow: true, previous: false, timestamps: false, tailLines: 3 })).toBe('/containerLogs/default/web/a?follow=true&tailLines=3');
  });

  it('turns agent errors into Statuses with the agent message', () => {
    const e = agentError(400, JSON.stringify({ kind: 'Status', message: 'container "a" in pod "web" not found' }), 'web');
    expect([e.code, e.reason, e.message]).toEqual([400, 'BadRequest', 'container "a" in pod "web" not found']);
    expect(agentError(404, 'plain text', 'web').message).toBe('plain text');
  });
});

describe('servePodLog', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
  });
  const listen = async (s: Server): Promise<number> => {
    servers.push(s);
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    return (s.address() as AddressInfo).port;
  };

  it('streams the agent body through, cut at limitBytes, and passes agent errors on', async () => {
    const agentPort = await listen(
      createServer((req, res) => {
        if (req.url?.includes('/missing')) {
          res.writeHead(400, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify({ kind: 'Status', message: 'container "missing" in pod "web" not found' }));
          return;
        }
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.write(`path=${req.url}\n`);
        setTimeout(() => res.end('second chunk\n'), 50);
      }),
    );
    const objects: Record<string, KubeObject> = {
      'pods/web': pod(['app', 'missing'], [], 'n1'),
      'nodes/n1': { metadata: { name: 'n1' }, status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: agentPort } } } } as KubeObject,
    };
    const api = await listen(
      createServer((req, res) => {
        const url = new URL(req.url ?? '/', 'http://x');
        servePodLog({ get: async (def, _ctx, name) => objects[`${def.resource}/${name}`] as KubeObject }, { namespace: 'default', strict: false, dryRun: false, now: new Date() }, 'web', url.searchParams, req, res).catch(
          (err: unknown) => {
            const e = err as ApiError;
            res.writeHead(e.code ?? 500, { 'Content-Type': 'application/json' });
            res.end(JSON.stringify(e.toStatus()));
          },
        );
      }),
    );
    const ok = await fetch(`http://127.0.0.1:${api}/?container=app&follow=true&tailLines=2`);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('path=/containerLogs/default/web/app?follow=true&tailLines=2\nsecond chunk\n');
    const limited = await fetch(`http://127.0.0.1:${api}/?container=app&limitBytes=4`);
    expect(await limited.text()).toBe('path');
    const bad = await fetch(`http://127.0.0.1:${api}/?container=missing`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toBe('container "missing" in pod "web" not found');
  });
});
