import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { Logger } from '../../lib/log.js';
import { listenUdpWithLoopback } from '../udp-listen.js';
import type { RoundRobin } from './roundrobin.js';

/**
 * The userspace proxy's per-service-port listeners: TCP connections and UDP datagrams arriving at the listener are
 * relayed to an endpoint the round robin picks; a TCP connect failure moves on to the next endpoint.
 */

export interface ProxySocket {
  readonly port: number;
  /**
   * UDP on every address: the port of the listener's second socket, on 127.0.0.1, which the node's own datagrams are
   * redirected to (see listenUDP).
   */
  readonly loopbackPort?: number;
  close(): Promise<void>;
}

/** Upstream's endpointDialTimeouts: each retry waits longer. */
const DIAL_TIMEOUTS_MS = [250, 500, 1000, 2000];

function splitHostPort(endpoint: string): [string, number] {
  const i = endpoint.lastIndexOf(':');
  return [endpoint.slice(0, i), Number(endpoint.slice(i + 1))];
}

/** What the endpoint sends goes to the client through this buffer (see dial). */
const RELAY_BUFFER_BYTES = 64 * 1024;

/**
 * Connects to an endpoint whose replies go straight to `client`: each read lands in `buffer` (one per connection,
 * no allocation per chunk, no readable-stream machinery), and the next read waits until the client has taken the
 * chunk (it is written at once on loopback and LANs; else reading pauses until the client drains: backpressure).
 * No Nagle delay on the endpoint side, as Go's dialer (and so upstream's userspace proxy) has it.
 */
function dial(endpoint: string, timeoutMs: number, client: Socket, buffer: Buffer): Promise<Socket> {
  const [host, port] = splitHostPort(endpoint);
  return new Promise((resolve, reject) => {
    const s: Socket = connect({
      host,
      port,
      noDelay: true,
      onread: {
        buffer,
        callback: (n: number, buf: Uint8Array): boolean => {
          client.write(buf.subarray(0, n));
          if (client.writableLength === 0) return true;
          client.once('drain', () => s.resume());
          return false;
        },
      },
    });
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`dial ${endpoint}: timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    s.once('connect', () => {
      clearTimeout(timer);
      s.removeAllListeners('error');
      resolve(s);
    });
    s.once('error', (err) => {
      clearTimeout(timer);
      s.destroy();
      reject(err);
    });
  });
}

export interface ListenOptions {
  name: string;
  lb: RoundRobin;
  host: string;
  port?: number;
  logger: Logger;
  /** Counts connect failures (each failed dial). */
  onDialFailure?(endpoint: string, err: Error): void;
}

export async function listenTCP(o: ListenOptions): Promise<ProxySocket> {
  const conns = new Set<Socket>();
  const server: Server = createServer({ pauseOnConnect: true, noDelay: true }, (client) => {
    conns.add(client);
    client.once('close', () => conns.delete(client));
    client.on('error', () => client.destroy());
    void relay(client);
  });
  async function relay(client: Socket): Promise<void> {
    const clientIP = (client.remoteAddress ?? '').replace(/^::ffff:/, '');
    const attempts = Math.min(Math.max(o.lb.endpoints(o.name).length, 1), 8);
    const buffer = Buffer.allocUnsafe(RELAY_BUFFER_BYTES);
    for (let i = 0; i < attempts; i++) {
      const ep = o.lb.next(o.name, clientIP, i > 0);
      if (!ep) break;
      try {
        const upstream = await dial(ep, DIAL_TIMEOUTS_MS[Math.min(i, DIAL_TIMEOUTS_MS.length - 1)]!, client, buffer);
        if (client.destroyed) {
          upstream.destroy();
          return;
        }
        conns.add(upstream);
        upstream.once('close', () => conns.delete(upstream));
        upstream.on('error', () => client.destroy());
        client.on('error', () => upstream.destroy());
        // The endpoint's replies are relayed by dial's reader; its end (FIN) ends the client's side too.
        upstream.on('end', () => client.end());
        client.pipe(upstream);
        client.resume();
        return;
      } catch (err) {
        o.onDialFailure?.(ep, err as Error);
        o.logger.debug({ service: o.name, endpoint: ep, err: (err as Error).message }, 'connect to endpoint failed; trying the next');
      }
    }
    // No endpoint would take it: refuse (RST) rather than hang.
    client.resetAndDestroy();
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: o.host, port: o.port ?? 0 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  return {
    port: typeof addr === 'object' && addr ? addr.port : 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of conns) c.destroy();
        server.close(() => resolve());
      }),
  };
}

/** The UDP listener, with its second socket on 127.0.0.1 for the node's own datagrams (see listenUdpWithLoopback). */
export async function listenUDP(o: ListenOptions & { idleTimeoutMs?: number }): Promise<ProxySocket> {
  const flows = new Map<string, { upstream: UdpSocket; timer: NodeJS.Timeout }>();
  const idle = o.idleTimeoutMs ?? 250;
  const drop = (key: string): void => {
    const f = flows.get(key);
    if (!f) return;
    flows.delete(key);
    clearTimeout(f.timer);
    f.upstream.close();
  };
  const serve = (sock: UdpSocket, tag: string): void => {
    sock.on('message', (msg: Buffer, rinfo: RemoteInfo) => {
      const key = `${tag}${rinfo.address}:${rinfo.port}`;
      let f = flows.get(key);
      if (!f) {
        const ep = o.lb.next(o.name, rinfo.address);
        if (!ep) return;
        const [host, port] = splitHostPort(ep);
        const upstream = createSocket('udp4');
        upstream.on('message', (reply: Buffer) => {
          sock.send(reply, rinfo.port, rinfo.address);
          const cur = flows.get(key);
          if (cur) cur.timer.refresh();
        });
        upstream.on('error', (err) => {
          o.onDialFailure?.(ep, err);
          drop(key);
        });
        upstream.connect(port, host);
        f = { upstream, timer: setTimeout(() => drop(key), idle) };
        flows.set(key, f);
      }
      f.timer.refresh();
      const send = (): void => f!.upstream.send(msg);
      // connect() is asynchronous; send once it is done.
      try {
        f.upstream.remoteAddress();
        send();
      } catch {
        f.upstream.once('connect', send);
      }
    });
  };
  const { socket: sock, loopback } = await listenUdpWithLoopback(o.host, o.port ?? 0);
  serve(sock, '');
  if (loopback) serve(loopback, 'lo ');
  const sockets = loopback ? [sock, loopback] : [sock];
  return {
    port: sock.address().port,
    ...(loopback ? { loopbackPort: loopback.address().port } : {}),
    close: async () => {
      for (const k of [...flows.keys()]) drop(k);
      await Promise.all(sockets.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    },
  };
}
