import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { SourceUpdate } from '../../../../agent/config/types.js';
import { parseHeaderFlag, UrlSource, type UrlSourceOptions } from '../../../../agent/config/url-source.js';
import { silentLogger } from '../../../../lib/log.js';
import { podDoc, podYaml, until } from './fixtures.js';

interface Reply {
  status: number;
  body: string;
  delayMs?: number;
}

let server: Server;
let url: string;
let reply: Reply;
let requests: IncomingHttpHeaders[];
let source: UrlSource | undefined;
let updates: SourceUpdate[];

beforeEach(async () => {
  reply = { status: 200, body: '' };
  requests = [];
  updates = [];
  server = createServer((req, res) => {
    requests.push(req.headers);
    const send = (): void => {
      res.writeHead(reply.status, { 'content-type': 'application/yaml' });
      res.end(reply.body);
    };
    if (reply.delayMs) setTimeout(send, reply.delayMs).unref();
    else send();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/pods`;
});

afterEach(async () => {
  await source?.stop();
  source = undefined;
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function makeSource(opts: Partial<UrlSourceOptions> = {}): UrlSource {
  source = new UrlSource({
    url,
    nodeName: 'node-1',
    logger: silentLogger(),
    onUpdate: (u) => updates.push(u),
    httpCheckFrequencyMs: 60_000,
    timeoutMs: 2000,
    ...opts,
  });
  return source;
}

const last = (): SourceUpdate | undefined => updates.at(-1);
const names = (u: SourceUpdate | undefined): string[] => (u?.pods ?? []).map((p) => p.metadata.name);

describe('UrlSource', () => {
  it('reads a Pod, a PodList and multi-document YAML', async () => {
    const s = makeSource();
    reply.body = JSON.stringify(podDoc('one'));
    await s.sync();
    expect(last()).toMatchObject({ source: 'url', errors: [], origins: [url] });
    expect(names(last())).toEqual(['one-node-1']);
    expect(last()?.pods[0]?.metadata.annotations?.['kubernetes.io/config.source']).toBe('http');

    reply.body = stringify({ apiVersion: 'v1', kind: 'PodList', items: [podDoc('a'), podDoc('b')] });
    await s.sync();
    expect(names(last())).toEqual(['a-node-1', 'b-node-1']);

    reply.body = `${podYaml('x')}---\n${podYaml('y')}`;
    await s.sync();
    expect(names(last())).toEqual(['x-node-1', 'y-node-1']);
  });

  it('sends the --manifest-url-header headers', async () => {
    reply.body = podYaml('one');
    const s = makeSource({ headers: parseHeaderFlag(['a:hello,b:again', 'b:beautiful', 'Authorization: Bearer x:y']) });
    await s.sync();
    expect(requests[0]).toMatchObject({ a: 'hello', b: 'again, beautiful', authorization: 'Bearer x:y' });
  });

  it('keeps the last good pods on a server error, garbage or a timeout, and recovers', async () => {
    reply.body = podYaml('web');
    const s = makeSource({ timeoutMs: 300 });
    await s.sync();
    const good = last()?.pods;
    expect(good).toHaveLength(1);

    reply.status = 500;
    await s.sync();
    expect(last()?.pods).toEqual(good);
    expect(last()?.errors).toEqual([{ origin: url, message: 'HTTP 500 Internal Server Error; keeping the last good pods' }]);

    reply.status = 200;
    reply.body = 'apiVersion: v1\nkind: Pod\n  : [ garbage\n';
    await s.sync();
    expect(last()?.pods).toEqual(good);
    expect(last()?.errors[0]?.message).toMatch(/^invalid YAML at line/);
    expect(last()?.errors.at(-1)?.message).toBe('keeping the 1 pod(s) last read from this URL');

    reply.body = podYaml('web');
    reply.delayMs = 2000;
    await s.sync();
    expect(last()?.pods).toEqual(good);
    expect(last()?.errors).toEqual([{ origin: url, message: 'no answer within 300 ms; keeping the last good pods' }]);

    reply.delayMs = 0;
    await s.sync();
    expect(last()).toMatchObject({ pods: good, errors: [] });
  });

  it('keeps nothing it never had when the URL is unreachable', async () => {
    const s = makeSource({ url: 'http://127.0.0.1:1/pods' });
    await s.sync();
    expect(last()?.pods).toEqual([]);
    expect(last()?.errors[0]?.message).toMatch(/^request failed: .*keeping the last good pods$/);
  });

  it('treats an empty body as no pods', async () => {
    reply.body = podYaml('web');
    const s = makeSource();
    await s.sync();
    reply.body = '';
    await s.sync();
    expect(last()).toMatchObject({ pods: [], errors: [] });
  });

  it('polls every period and pushes only changes', async () => {
    reply.body = podYaml('a');
    const s = makeSource({ httpCheckFrequencyMs: 30 });
    await s.start();
    await until(() => names(last()).join() === 'a-node-1', 10_000, 'first poll');
    await until(() => requests.length >= 4, 10_000, 'more polls');
    expect(updates).toHaveLength(1);
    reply.body = podYaml('b');
    await until(() => names(last()).join() === 'b-node-1', 10_000, 'the change');
  });
});

describe('parseHeaderFlag', () => {
  it('splits pairs on commas, keys on the first colon, and repeats keys in order', () => {
    expect(parseHeaderFlag(['a:hello,b:again,c:world', 'b:beautiful'])).toEqual({ a: ['hello'], b: ['again', 'beautiful'], c: ['world'] });
    expect(parseHeaderFlag('X-Token: abc:def ,')).toEqual({ 'X-Token': ['abc:def'] });
  });

  it('rejects a pair without a key', () => {
    expect(() => parseHeaderFlag('novalue')).toThrow(/"novalue" is not Key:Value/);
    expect(() => parseHeaderFlag(':v')).toThrow(/not Key:Value/);
  });
});
