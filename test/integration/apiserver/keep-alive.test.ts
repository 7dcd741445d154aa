// Idle keep-alive connections stay open as long as upstream's API server keeps them (90 s), well past Node's default
// of 5 s, so a client pausing between bursts reuses its connection instead of paying for a new one (a TLS handshake).
import { Agent, request } from 'node:http';
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiServer } from '../../../control/apiserver/server.js';
import { MemoryStore } from '../../../control/store/index.js';
import { silentLogger } from '../../../lib/log.js';

function get(agent: Agent, port: number, path: string): Promise<{ status: number; socket: Socket }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, socket: req.socket as Socket }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('API server keep-alive', () => {
  let server: ApiServer | undefined;
  let store: MemoryStore | undefined;
  let agent: Agent | undefined;
  afterEach(async () => {
    agent?.destroy();
    await server?.close();
    await store?.close();
  });

  it('keeps an idle connection open past Node\'s default 5 s, so the next request reuses it', async () => {
    store = new MemoryStore();
    server = new ApiServer({ store, logger: silentLogger() });
    const port = await server.listen(0);
    agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const first = await get(agent, port, '/version');
    expect(first.status).toBe(200);
    let closed = false;
    first.socket.once('close', () => (closed = true));
    await new Promise((r) => setTimeout(r, 6_500));
    expect(closed).toBe(false);
    const second = await get(agent, port, '/version');
    expect(second.status).toBe(200);
    expect(second.socket).toBe(first.socket);
    // Closing the server does not wait for idle connections to time out: it ends them.
    await server.close();
    server = undefined;
    for (let i = 0; i < 100 && !closed; i++) await new Promise((r) => setTimeout(r, 50));
    expect(closed).toBe(true);
  }, 20_000);
});
