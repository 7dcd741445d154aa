import type { Socket } from 'node:dgram';
import { createServer, type Server, type Socket as TcpSocket } from 'node:net';
import dnsPacket, { type Packet } from 'dns-packet';
import { Counter, Histogram, type Registry } from 'prom-client';
import { silentLogger, type Logger } from '../../lib/log.js';
import { answerQuery, reply, type DnsAnswerConfig } from './answer.js';
import type { Upstream } from './forward.js';
import type { ClusterDnsView } from './view.js';
import { listenUdpWithLoopback } from '../udp-listen.js';

/**
 * The cluster DNS's sockets: UDP and TCP on one address and port. Each query is decoded, answered from the view
 * (answer.ts) or forwarded upstream (SERVFAIL when that fails), and encoded back; a query that cannot be decoded is
 * answered FORMERR when its ID can be read, and dropped otherwise. Nothing a client sends can stop the server.
 */

export interface DnsServerOptions {
  view: ClusterDnsView;
  upstream: Upstream;
  config: DnsAnswerConfig;
  /** Address and port to listen on (port 0: any, see `port` after start). */
  host: string;
  port: number;
  logger?: Logger;
  registry?: Registry;
}

const MAX_UDP = 512;
const FLAG_TC = 1 << 9;

interface DnsMetrics {
  requests: Counter<'proto' | 'rcode'>;
  duration: Histogram<'proto'>;
}

function createDnsMetrics(registry: Registry | undefined): DnsMetrics {
  const registers = registry ? [registry] : [];
  return {
    requests: new Counter({ name: 'skiff_dns_requests_total', help: 'DNS queries answered, by transport and response code', labelNames: ['proto', 'rcode'], registers }),
    duration: new Histogram({ name: 'skiff_dns_request_duration_seconds', help: 'Time to answer a DNS query', labelNames: ['proto'], buckets: [0.0005, 0.001, 0.005, 0.025, 0.1, 0.5, 2, 5], registers }),
  };
}

const RCODE_NAMES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];

export class ClusterDnsServer {
  private udp: Socket | undefined;
  /** On 0.0.0.0, a UDP socket on 127.0.0.1 for the node's own queries (see loopbackPort). */
  private loopback: Socket | undefined;
  private tcp: Server | undefined;
  private readonly connections = new Set<TcpSocket>();
  private readonly log: Logger;
  private readonly metrics: DnsMetrics;
  port = 0;
  /**
   * On 0.0.0.0: the port of a second UDP socket, on 127.0.0.1, that the userspace proxier redirects the node's own
   * queries to (REDIRECT in OUTPUT sends to 127.0.0.1, and the reply must leave from there for conntrack to map it
   * back to the DNS Service IP; the 0.0.0.0 socket would answer from the node's address). 0 otherwise.
   */
  loopbackPort = 0;

  constructor(private readonly opts: DnsServerOptions) {
    this.log = opts.logger ?? silentLogger();
    this.metrics = createDnsMetrics(opts.registry);
  }

  /** Answers one raw query: the raw response, or undefined when nothing can be sent back. Exposed for tests and the bench. */
  async handle(raw: Buffer, proto: 'udp' | 'tcp'): Promise<Buffer | undefined> {
    const start = process.hrtime.bigint();
    let query: Packet;
    try {
      query = dnsPacket.decode(raw);
    } catch {
      if (raw.length < 12) return undefined;
      // Echo the ID (and the question-less header) with FORMERR, as resolvers expect.
      return this.finish(dnsPacket.encode(reply({ id: raw.readUInt16BE(0), flags: 0, questions: [] }, 'FORMERR', {}, false)), proto, start);
    }
    if (query.type === 'response') return undefined;
    let out: Buffer;
    try {
      const r = answerQuery(query, this.opts.view, this.opts.config);
      if (r.kind === 'answer') out = dnsPacket.encode(r.response);
      else {
        try {
          out = await this.opts.upstream.forward(raw, proto);
        } catch (err) {
          this.log.debug({ name: query.questions?.[0]?.name, err: err instanceof Error ? err.message : String(err) }, 'upstream DNS failed');
          out = dnsPacket.encode(reply(query, 'SERVFAIL', {}, false));
        }
      }
    } catch (err) {
      this.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'cannot answer DNS query');
      out = dnsPacket.encode(reply({ id: query.id ?? 0, flags: query.flags ?? 0, questions: [] }, 'SERVFAIL', {}, false));
    }
    if (proto === 'udp') out = truncateForUdp(out, query);
    return this.finish(out, proto, start);
  }

  private finish(out: Buffer, proto: 'udp' | 'tcp', start: bigint): Buffer {
    this.metrics.requests.inc({ proto, rcode: RCODE_NAMES[out.length >= 4 ? out.readUInt16BE(2) & 0xf : 0] ?? 'OTHER' });
    this.metrics.duration.observe({ proto }, Number(process.hrtime.bigint() - start) / 1e9);
    return out;
  }

  async start(): Promise<void> {
    // With port 0 the UDP port is picked first and TCP takes the same number, which may be taken: pick again.
    for (let attempt = 1; ; attempt++) {
      try {
        await this.listen();
        return;
      } catch (err) {
        if (this.opts.port !== 0 || attempt >= 10 || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
      }
    }
  }

  /** Answers the queries a UDP socket receives, from that socket. */
  private serveUdp(udp: Socket): void {
    udp.on('message', (msg, rinfo) => {
      void this.handle(msg, 'udp').then((out) => {
        if (out) udp.send(out, rinfo.port, rinfo.address);
      });
    });
    udp.on('error', (err) => this.log.warn({ err: err.message }, 'DNS UDP socket error'));
  }

  private async listen(): Promise<void> {
    const { host } = this.opts;
    const { socket: udp, loopback } = await listenUdpWithLoopback(host, this.opts.port);
    this.serveUdp(udp);
    if (loopback) this.serveUdp(loopback);
    this.loopback = loopback;
    this.udp = udp;
    this.port = udp.address().port;
    this.loopbackPort = this.loopback?.address().port ?? 0;
    const tcp = createServer((sock) => this.serveTcp(sock));
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen(this.port, host, () => {
          tcp.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      udp.close();
      this.loopback?.close();
      this.udp = undefined;
      this.loopback = undefined;
      this.loopbackPort = 0;
      throw err;
    }
    tcp.on('error', (err) => this.log.warn({ err: err.message }, 'DNS TCP server error'));
    this.tcp = tcp;
    this.log.info({ address: `${host}:${this.port}`, domain: this.opts.config.domain }, 'cluster DNS listening (UDP and TCP)');
  }

  /** TCP: two-byte length-prefixed messages, several per connection, idle connections closed after 10 s. */
  private serveTcp(sock: TcpSocket): void {
    this.connections.add(sock);
    sock.setTimeout(10_000, () => sock.destroy());
    sock.on('close', () => this.connections.delete(sock));
    sock.on('error', () => sock.destroy());
    let buf = Buffer.alloc(0);
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
        buf = buf.subarray(2 + msg.length);
        void this.handle(Buffer.from(msg), 'tcp').then((out) => {
          if (!out || sock.destroyed) return;
          const len = Buffer.alloc(2);
          len.writeUInt16BE(out.length);
          sock.write(Buffer.concat([len, out]));
        });
      }
    });
  }

  async stop(): Promise<void> {
    for (const c of this.connections) c.destroy();
    await Promise.all([
      new Promise<void>((r) => (this.udp ? this.udp.close(() => r()) : r())),
      new Promise<void>((r) => (this.loopback ? this.loopback.close(() => r()) : r())),
      new Promise<void>((r) => (this.tcp ? this.tcp.close(() => r()) : r())),
    ]);
    this.udp = undefined;
    this.loopback = undefined;
    this.tcp = undefined;
  }
}

/** A UDP answer larger than the client accepts (512 bytes, or its EDNS size) goes back empty with TC set. */
function truncateForUdp(out: Buffer, query: Packet): Buffer {
  const opt = (query.additionals ?? []).find((a) => a.type === 'OPT') as { udpPayloadSize?: number } | undefined;
  const limit = Math.max(MAX_UDP, Math.min(opt?.udpPayloadSize ?? MAX_UDP, 4096));
  if (out.length <= limit) return out;
  const decoded = dnsPacket.decode(out);
  return dnsPacket.encode({ ...decoded, flags: (decoded.flags ?? 0) | FLAG_TC, answers: [], authorities: [], additionals: [] });
}
