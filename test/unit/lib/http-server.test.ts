import { createServer, request, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { closeServer, listenOn } from '../../../lib/http-server.js';

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await closeServer(s);
});
const server = (): Server => {
  const s = createServer((_req, res) => res.end('ok'));
  servers.push(s);
  return s;
};

/** Opens a socket to 127.0.0.1:port and resolves once it is connected; `closed` settles when the server ends it. */
function open(port: number, first: string): Promise<{ socket: Socket; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(first);
      resolve({ socket, closed: new Promise((r) => socket.once('close', () => r())) });
    });
    socket.once('error', reject);
    socket.on('data', () => undefined);
  });
}

describe('listenOn', () => {
  it('resolves with the port bound (0 picks one) and serves on it', async () => {
    const port = await listenOn(server(), 0, '127.0.0.1');
    expect(port).toBeGreaterThan(0);
    const body = await new Promise<string>((resolve, reject) => {
      request({ host: '127.0.0.1', port, path: '/' }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve(text));
      })
        .on('error', reject)
        .end();
    });
    expect(body).toBe('ok');
  });

  it('rejects when the port is taken instead of emitting an unhandled error', async () => {
    const port = await listenOn(server(), 0, '127.0.0.1');
    await expect(listenOn(server(), port, '127.0.0.1')).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });
});

describe('closeServer', () => {
  it('ends idle keep-alive connections and the upgraded sockets it is given, without waiting for the clients', async () => {
    const s = server();
    const upgraded = new Set<Duplex>();
    s.on('upgrade', (_req, socket: Duplex) => {
      upgraded.add(socket);
      socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\n');
    });
    const port = await listenOn(s, 0, '127.0.0.1');
    const idle = await open(port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n');
    const streaming = await open(port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\n');
    await new Promise<void>((resolve) => {
      const wait = (): void => void (upgraded.size > 0 ? resolve() : setTimeout(wait, 10));
      wait();
    });
    await closeServer(s, upgraded);
    await Promise.all([idle.closed, streaming.closed]);
    expect(s.listening).toBe(false);
  });

  it('does nothing for a server never started', async () => {
    await expect(closeServer(undefined)).resolves.toBeUndefined();
  });
});
