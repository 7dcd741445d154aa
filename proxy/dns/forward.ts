import { createSocket } from 'node:dgram';
import { isIP } from 'node:net';
import { connect } from 'node:net';

/**
 * Forwarding to the node's own resolvers (the nameservers of the host's resolv.conf, as CoreDNS's
 * `forward . /etc/resolv.conf`): the query bytes go out unchanged, each server tried in turn within the timeout.
 */

export interface Upstream {
  /** Sends a raw query; resolves with the raw response, or rejects when no server answered in time. */
  forward(query: Buffer, protocol: 'udp' | 'tcp'): Promise<Buffer>;
}

export class ForwardError extends Error {}

function udpExchange(server: string, port: number, query: Buffer, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = createSocket(isIP(server) === 6 ? 'udp6' : 'udp4');
    const id = query.readUInt16BE(0);
    const timer = setTimeout(() => finish(new ForwardError(`${server}: no answer within ${timeoutMs} ms`)), timeoutMs);
    const finish = (err: Error | undefined, msg?: Buffer): void => {
      clearTimeout(timer);
      sock.close();
      if (err) reject(err);
      else resolve(msg as Buffer);
    };
    sock.on('error', (err) => finish(err));
    sock.on('message', (msg) => {
      // Only the answer to this query (a stray datagram to our port is ignored).
      if (msg.length >= 2 && msg.readUInt16BE(0) === id) finish(undefined, msg);
    });
    sock.send(query, port, server, (err) => err && finish(err));
  });
}

function tcpExchange(server: string, port: number, query: Buffer, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host: server, port });
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => finish(new ForwardError(`${server}: no answer within ${timeoutMs} ms`)), timeoutMs);
    const finish = (err: Error | undefined, msg?: Buffer): void => {
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(msg as Buffer);
    };
    sock.on('error', (err) => finish(err));
    sock.on('connect', () => {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(query.length);
      sock.write(Buffer.concat([len, query]));
    });
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) finish(undefined, buf.subarray(2, 2 + buf.readUInt16BE(0)));
    });
    sock.on('end', () => finish(new ForwardError(`${server}: connection closed before an answer`)));
  });
}

/** Forwards to `servers` ("ip" or "ip:port"), in order, each with its share of the timeout. */
export function resolverUpstream(servers: readonly string[], timeoutMs: number): Upstream {
  const parsed = servers.map((s) => {
    const m = /^(.*):(\d+)$/.exec(s);
    return m && isIP(m[1] ?? '') === 4 ? { host: m[1] as string, port: Number(m[2]) } : { host: s, port: 53 };
  });
  return {
    async forward(query, protocol) {
      if (parsed.length === 0) throw new ForwardError('no upstream nameservers');
      const per = Math.max(100, Math.floor(timeoutMs / parsed.length));
      const errors: string[] = [];
      for (const s of parsed) {
        try {
          return await (protocol === 'tcp' ? tcpExchange : udpExchange)(s.host, s.port, query, per);
        } catch (err) {
          errors.push(err instanceof Error ? err.message : String(err));
        }
      }
      throw new ForwardError(errors.join('; '));
    },
  };
}
