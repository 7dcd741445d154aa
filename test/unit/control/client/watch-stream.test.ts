import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { KubeClient, type WatchEvent } from '../../../../control/client/index.js';
import type { InProcessReply } from '../../../../control/client/kubeconfig.js';

const PODS = { group: '', version: 'v1', resource: 'pods' };
const event = (name: string, type = 'ADDED'): string => JSON.stringify({ type, object: { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' } } });

/** Watches until the stream ends; answers the events' types and names, and the error it ended with. */
async function watchAll(client: KubeClient): Promise<{ events: string[]; err: Error | undefined }> {
  const events: string[] = [];
  return new Promise((resolve, reject) => {
    client
      .watch(PODS, {}, (e: WatchEvent) => events.push(`${e.type} ${e.object.metadata.name}`), (err) => resolve({ events, err }))
      .catch(reject);
  });
}

describe('KubeClient.watch reads the event stream line by line', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

  it('over HTTP, whatever the chunks: lines split across them, several in one, blank ones', async () => {
    const [a, b, c] = [event('a'), event('b', 'MODIFIED'), event('c', 'DELETED')];
    const chunks = [a.slice(0, 10), `${a.slice(10)}\n${b}\n\n`, '  \n', `${c.slice(0, 5)}`, `${c.slice(5)}\n`];
    server = createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      let i = 0;
      const next = (): void => {
        if (i === chunks.length) return void res.end();
        res.write(chunks[i++]);
        setTimeout(next, 5);
      };
      next();
    });
    await new Promise<void>((r) => (server as Server).listen(0, '127.0.0.1', r));
    const client = new KubeClient({ server: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
    const got = await watchAll(client);
    client.close();
    expect(got.events).toEqual(['ADDED a', 'MODIFIED b', 'DELETED c']);
    expect(got.err).toBeUndefined();
  });

  it('in process, one whole line per chunk, and mixed with partial ones', async () => {
    const reply = Object.assign(Readable.from([`${event('a')}\n`, '\n', `${event('b')}\n${event('c')}`, '\n', `${event('d')}\n`], { objectMode: true }), { statusCode: 200, headers: {} }) as InProcessReply;
    const client = new KubeClient({ server: 'http://apiserver.loopback', exchange: () => Promise.resolve(reply) });
    const got = await watchAll(client);
    expect(got.events).toEqual(['ADDED a', 'ADDED b', 'ADDED c', 'ADDED d']);
    expect(got.err).toBeUndefined();
  });

  it('ends the watch with an error on a line that is not JSON, delivering nothing after it', async () => {
    const reply = Object.assign(Readable.from([`${event('a')}\n`, '{"type":\n', `${event('b')}\n`], { objectMode: true }), { statusCode: 200, headers: {} }) as InProcessReply;
    const client = new KubeClient({ server: 'http://apiserver.loopback', exchange: () => Promise.resolve(reply) });
    const got = await watchAll(client);
    expect(got.events).toEqual(['ADDED a']);
    expect(got.err).toBeInstanceOf(SyntaxError);
  });
});
