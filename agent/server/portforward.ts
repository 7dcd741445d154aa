import type { Duplex } from 'node:stream';
import type { Logger } from '../../lib/log.js';
import { SpdySession, type SpdyStream } from '../../lib/spdy.js';
import type { WebSocketConnection } from '../../lib/websocket.js';

/**
 * Port-forward (portforward.k8s.io) on a SPDY session: for each forwarded connection the client opens an "error"
 * and a "data" stream carrying the same requestID and the pod port; we connect to that port inside the pod and copy
 * bytes both ways. A failure is written on the error stream, as the kubelet words it. kubectl 1.31+ tunnels the
 * same SPDY session in WebSocket binary messages (subprotocol SPDY/3.1+portforward.k8s.io).
 */

export const PORT_FORWARD_PROTOCOL = 'portforward.k8s.io';
export const PORT_FORWARD_TUNNEL_PROTOCOL = 'SPDY/3.1+portforward.k8s.io';

export interface PortForwardTarget {
  podName: string;
  podUid: string;
  connect(port: number): Promise<Duplex>;
}

interface Pair {
  error?: SpdyStream;
  data?: SpdyStream;
  started?: boolean;
}

export function servePortForward(session: SpdySession, target: PortForwardTarget, logger: Logger): void {
  const pairs = new Map<string, Pair>();
  session.on('error', (err: Error) => logger.debug({ err: err.message }, 'port-forward session error'));
  session.on('stream', (stream: SpdyStream) => {
    const type = stream.headers.streamtype;
    const portText = stream.headers.port ?? '';
    const key = `${stream.headers.requestid ?? portText}`;
    void stream.reply();
    if (type !== 'error' && type !== 'data') {
      stream.reset();
      return;
    }
    const pair = pairs.get(key) ?? {};
    pairs.set(key, pair);
    pair[type] = stream;
    // The client closes its end of the error stream at once: it only reads from it.
    if (type === 'error') stream.on('data', () => undefined);
    stream.on('close', () => {
      if (pair.error?.writable === false && pair.data?.writable === false) pairs.delete(key);
    });
    if (pair.data && pair.error && !pair.started) {
      pair.started = true;
      void forward(pair as Required<Pair>, portText, target, logger).finally(() => pairs.delete(key));
    }
  });
}

async function forward(pair: Required<Pair>, portText: string, target: PortForwardTarget, logger: Logger): Promise<void> {
  const port = Number(portText);
  const fail = (message: string): void => {
    pair.error.write(Buffer.from(`error forwarding port ${portText} to pod ${target.podName}, uid ${target.podUid}: ${message}`));
    pair.error.end();
    pair.data.end();
  };
  if (!Number.isInteger(port) || port < 1 || port > 65535) return fail(`invalid port ${JSON.stringify(portText)}`);
  // The client may send before the connection in the pod is up: keep what arrives meanwhile.
  const early: Buffer[] = [];
  let earlyEnd = false;
  const keep = (d: Buffer): void => void early.push(d);
  const keepEnd = (): void => void (earlyEnd = true);
  pair.data.on('data', keep);
  pair.data.on('end', keepEnd);
  let conn: Duplex;
  try {
    conn = await target.connect(port);
  } catch (err) {
    return fail(err instanceof Error ? err.message : String(err));
  } finally {
    pair.data.off('data', keep);
    pair.data.off('end', keepEnd);
  }
  for (const d of early) conn.write(d);
  if (earlyEnd) conn.end();
  await new Promise<void>((resolve) => {
    let failed = false;
    // Back-pressure: a client that reads slowly pauses the pod's side.
    conn.on('data', (d: Buffer) => {
      if (!pair.data.write(d)) {
        conn.pause();
        void pair.data.drained().then(() => conn.resume());
      }
    });
    conn.on('end', () => {
      pair.data.end();
      pair.error.end();
      resolve();
    });
    conn.on('error', (err) => {
      if (!failed) {
        failed = true;
        logger.debug({ err: err.message, port }, 'port-forward connection failed');
        fail(err.message);
      }
      resolve();
    });
    pair.data.on('data', (d: Buffer) => conn.write(d));
    pair.data.on('end', () => conn.end());
    pair.data.on('close', () => {
      conn.destroy();
      resolve();
    });
  });
}

/** A SPDY session over an HTTP connection already switched to SPDY/3.1. */
export function spdyOverSocket(socket: Duplex, head: Buffer): SpdySession {
  const session = new SpdySession({
    write: (d) => socket.write(d),
    end: () => socket.end(),
    congested: () => socket.writableNeedDrain,
    drained: () => new Promise((resolve) => (socket.writableNeedDrain && !socket.destroyed ? socket.once('drain', resolve).once('close', resolve) : resolve())),
  });
  socket.on('data', (d: Buffer) => session.receive(d));
  socket.on('close', () => session.close());
  socket.on('error', () => session.close());
  if (head.length > 0) session.receive(head);
  return session;
}

/** A SPDY session tunneled in WebSocket binary messages. */
export function spdyOverWebSocket(ws: WebSocketConnection): SpdySession {
  const session = new SpdySession({ write: (d) => ws.send(d), end: () => ws.close(), congested: () => ws.congested, drained: () => ws.drained() });
  ws.on('message', (d: Buffer) => session.receive(d));
  ws.on('close', () => session.close());
  return session;
}
