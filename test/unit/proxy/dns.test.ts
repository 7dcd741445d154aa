import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import dnsPacket, { type Packet, type RecordType } from 'dns-packet';
import { afterEach, describe, expect, it } from 'vitest';
import { answerQuery, reverseIPv4, type DnsAnswerConfig } from '../../../proxy/dns/answer.js';
import { resolverUpstream, type Upstream } from '../../../proxy/dns/forward.js';
import { ClusterDnsServer } from '../../../proxy/dns/server.js';
import { ClusterDnsView } from '../../../proxy/dns/view.js';
import type { EndpointSlice } from '../../../control/api/discovery/endpointslice.js';
import { eps, svc } from './fixtures.js';

/** What dns-packet's decode returns beyond its declared type. */
interface Decoded extends Packet {
  rcode: string;
  flag_aa: boolean;
  flag_rd: boolean;
  flag_tc: boolean;
}

const ttlOf = (a: unknown): number | undefined => (a as { ttl?: number } | undefined)?.ttl;

const cfg: DnsAnswerConfig = { domain: 'cluster.local', ttl: 30 };

function query(name: string, type: RecordType, id = 7): Packet {
  return { id, type: 'query', flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type, class: 'IN' }] };
}

function slice(name: string, service: string, endpoints: EndpointSlice['endpoints'], ports = [{ name: '', port: 8080, protocol: 'TCP' }], ns = 'default'): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, namespace: ns, labels: { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4',
    endpoints,
    ports,
  } as EndpointSlice;
}

/** A view with a ClusterIP service, a headless one with hostnames, an ExternalName one and a kube-dns one. */
function clusterView(): ClusterDnsView {
  const v = new ClusterDnsView('cluster.local');
  v.onServiceAdd(svc('web', { clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80 }, { name: 'dns', port: 53, protocol: 'UDP' }] }));
  v.onServiceAdd(svc('db', { ns: 'data', clusterIP: 'None', ports: [{ name: 'pg', port: 5432 }] }));
  v.onServiceAdd({ ...svc('ext'), spec: { type: 'ExternalName', externalName: 'example.org', ports: [] } } as never);
  v.onEndpointSliceAdd(
    slice(
      'db-abc',
      'db',
      [
        { addresses: ['10.244.1.5'], hostname: 'db-0', conditions: { ready: true } },
        { addresses: ['10.244.1.6'], conditions: { ready: true } },
        { addresses: ['10.244.1.7'], hostname: 'db-2', conditions: { ready: false } },
      ],
      [{ name: 'pg', port: 5432, protocol: 'TCP' }],
      'data',
    ),
  );
  v.onEndpointSliceAdd(slice('web-1', 'web', [{ addresses: ['10.244.0.9'], conditions: { ready: true } }], [{ name: 'http', port: 8080, protocol: 'TCP' }]));
  return v;
}

function answer(view: ClusterDnsView, name: string, type: RecordType): Decoded {
  const r = answerQuery(query(name, type), view, cfg, 1_700_000_000_000);
  if (r.kind !== 'answer') throw new Error(`${name} was forwarded`);
  // Through the wire format, as a client sees it.
  return dnsPacket.decode(dnsPacket.encode(r.response)) as unknown as Decoded;
}

const data = (p: Packet): unknown[] => (p.answers ?? []).map((a) => ('data' in a ? a.data : undefined));

describe('cluster DNS answers', () => {
  it('A for a ClusterIP service, authoritative, TTL 30, the question echoed', () => {
    const p = answer(clusterView(), 'web.default.svc.cluster.local', 'A');
    expect(p.id).toBe(7);
    expect(p.rcode).toBe('NOERROR');
    expect(p.flag_aa).toBe(true);
    expect(p.flag_rd).toBe(true);
    expect(p.questions?.[0]?.name).toBe('web.default.svc.cluster.local');
    expect(p.answers).toEqual([{ name: 'web.default.svc.cluster.local', type: 'A', ttl: 30, class: 'IN', flush: false, data: '10.96.0.20' }]);
  });

  it('names are case-insensitive and may end with a dot', () => {
    expect(data(answer(clusterView(), 'WEB.Default.svc.cluster.local.', 'A'))).toEqual(['10.96.0.20']);
  });

  it('AAAA for an IPv4 service is NOERROR with no answer and the SOA in authority', () => {
    const p = answer(clusterView(), 'web.default.svc.cluster.local', 'AAAA');
    expect(p.rcode).toBe('NOERROR');
    expect(p.answers).toEqual([]);
    expect(p.authorities?.[0]?.type).toBe('SOA');
    expect(p.authorities?.[0]?.name).toBe('cluster.local');
    expect(ttlOf(p.authorities?.[0])).toBe(30);
  });

  it('headless services answer with their ready endpoint IPs only', () => {
    expect(data(answer(clusterView(), 'db.data.svc.cluster.local', 'A')).sort()).toEqual(['10.244.1.5', '10.244.1.6']);
  });

  it('endpoints by hostname, or by dashed IP without one', () => {
    const v = clusterView();
    expect(data(answer(v, 'db-0.db.data.svc.cluster.local', 'A'))).toEqual(['10.244.1.5']);
    expect(data(answer(v, '10-244-1-6.db.data.svc.cluster.local', 'A'))).toEqual(['10.244.1.6']);
    // Not ready: not there.
    expect(answer(v, 'db-2.db.data.svc.cluster.local', 'A').rcode).toBe('NXDOMAIN');
  });

  it('SRV for a named port of a ClusterIP service, with the address as additional', () => {
    const p = answer(clusterView(), '_http._tcp.web.default.svc.cluster.local', 'SRV');
    expect(p.answers).toEqual([
      { name: '_http._tcp.web.default.svc.cluster.local', type: 'SRV', ttl: 30, class: 'IN', flush: false, data: { priority: 0, weight: 100, port: 80, target: 'web.default.svc.cluster.local' } },
    ]);
    expect(p.additionals?.map((a) => [a.name, a.type, 'data' in a ? a.data : undefined])).toEqual([['web.default.svc.cluster.local', 'A', '10.96.0.20']]);
    // The protocol must match.
    expect(answer(clusterView(), '_http._udp.web.default.svc.cluster.local', 'SRV').rcode).toBe('NXDOMAIN');
    expect(data(answer(clusterView(), '_dns._udp.web.default.svc.cluster.local', 'SRV'))).toEqual([{ priority: 0, weight: 100, port: 53, target: 'web.default.svc.cluster.local' }]);
  });

  it('SRV for a headless service: one per ready endpoint, targets named after the endpoints', () => {
    const p = answer(clusterView(), '_pg._tcp.db.data.svc.cluster.local', 'SRV');
    expect(data(p)).toEqual([
      { priority: 0, weight: 50, port: 5432, target: 'db-0.db.data.svc.cluster.local' },
      { priority: 0, weight: 50, port: 5432, target: '10-244-1-6.db.data.svc.cluster.local' },
    ]);
    expect(p.additionals?.map((a) => ('data' in a ? a.data : undefined))).toEqual(['10.244.1.5', '10.244.1.6']);
  });

  it('SRV on the service name lists every port', () => {
    expect(data(answer(clusterView(), 'web.default.svc.cluster.local', 'SRV'))).toEqual([
      { priority: 0, weight: 50, port: 80, target: 'web.default.svc.cluster.local' },
      { priority: 0, weight: 50, port: 53, target: 'web.default.svc.cluster.local' },
    ]);
  });

  it('ExternalName is a CNAME', () => {
    const p = answer(clusterView(), 'ext.default.svc.cluster.local', 'A');
    expect(p.answers?.map((a) => [a.type, 'data' in a ? a.data : undefined, ttlOf(a)])).toEqual([['CNAME', 'example.org', 30]]);
  });

  it('pod records: a-b-c-d.<ns>.pod.<domain>', () => {
    expect(data(answer(clusterView(), '10-244-3-4.default.pod.cluster.local', 'A'))).toEqual(['10.244.3.4']);
    expect(answer(clusterView(), '10-244-3-999.default.pod.cluster.local', 'A').rcode).toBe('NXDOMAIN');
  });

  it('PTR for service IPs and endpoint (pod) IPs; unknown addresses go upstream', () => {
    const v = clusterView();
    expect(data(answer(v, '20.0.96.10.in-addr.arpa', 'PTR'))).toEqual(['web.default.svc.cluster.local']);
    expect(data(answer(v, '5.1.244.10.in-addr.arpa', 'PTR'))).toEqual(['db-0.db.data.svc.cluster.local']);
    expect(data(answer(v, '9.0.244.10.in-addr.arpa', 'PTR'))).toEqual(['10-244-0-9.web.default.svc.cluster.local']);
    expect(answerQuery(query('1.1.168.192.in-addr.arpa', 'PTR'), v, cfg).kind).toBe('forward');
    expect(reverseIPv4('4.3.2.1.in-addr.arpa')).toBe('1.2.3.4');
    expect(reverseIPv4('3.2.1.in-addr.arpa')).toBeUndefined();
  });

  it('NXDOMAIN for unknown names in the domain, with the SOA in authority', () => {
    const v = clusterView();
    for (const name of ['nope.default.svc.cluster.local', 'web.other.svc.cluster.local', 'x.y.cluster.local', 'a.b.c.d.web.default.svc.cluster.local']) {
      const p = answer(v, name, 'A');
      expect(p.rcode, name).toBe('NXDOMAIN');
      expect(p.flag_aa, name).toBe(true);
      expect(p.authorities?.map((a) => a.type), name).toEqual(['SOA']);
    }
    // A namespace that has services exists as a name.
    expect(answer(v, 'default.svc.cluster.local', 'A').rcode).toBe('NOERROR');
    expect(answer(v, 'cluster.local', 'SOA').answers?.[0]?.type).toBe('SOA');
  });

  it('names outside the domain are forwarded', () => {
    expect(answerQuery(query('example.org', 'A'), clusterView(), cfg).kind).toBe('forward');
    expect(answerQuery(query('notcluster.local', 'A'), clusterView(), cfg).kind).toBe('forward');
  });

  it('answers follow informer events at once', () => {
    const v = clusterView();
    v.onServiceAdd(svc('late', { clusterIP: '10.96.0.99' }));
    expect(data(answer(v, 'late.default.svc.cluster.local', 'A'))).toEqual(['10.96.0.99']);
    v.onServiceDelete(svc('late'));
    expect(answer(v, 'late.default.svc.cluster.local', 'A').rcode).toBe('NXDOMAIN');
    expect(answerQuery(query('99.0.96.10.in-addr.arpa', 'PTR'), v, cfg).kind).toBe('forward');
    v.onEndpointSliceDelete(slice('db-abc', 'db', [], [], 'data'));
    expect(data(answer(v, 'db.data.svc.cluster.local', 'A'))).toEqual([]);
  });

  it('reads v1 Endpoints too (the fallback source)', () => {
    const v = new ClusterDnsView('cluster.local');
    v.onServiceAdd(svc('h', { clusterIP: 'None' }));
    v.onEndpointsAdd(eps('h', ['10.244.2.1', { ip: '10.244.2.2', hostname: 'two' } as never]));
    expect(data(answer(v, 'h.default.svc.cluster.local', 'A'))).toEqual(['10.244.2.1', '10.244.2.2']);
    expect(data(answer(v, 'two.h.default.svc.cluster.local', 'A'))).toEqual(['10.244.2.2']);
  });

  it('a query with no question is FORMERR', () => {
    const r = answerQuery({ id: 3, type: 'query', flags: 0, questions: [] }, clusterView(), cfg);
    expect(r.kind === 'answer' && r.response.flags! & 0xf).toBe(1);
  });
});

// ---- the server on real sockets (127.0.0.1), with an upstream the test runs --------------------------------------

const closers: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (closers.length) await closers.pop()?.();
});

/** A fake upstream resolver on 127.0.0.1 that answers every A query with 192.0.2.1; or stays silent. */
async function fakeResolver(silent = false): Promise<string> {
  const sock = createSocket('udp4');
  sock.on('message', (msg, r) => {
    if (silent) return;
    const q = dnsPacket.decode(msg);
    const name = q.questions?.[0]?.name ?? '';
    sock.send(dnsPacket.encode({ id: q.id ?? 0, type: 'response', flags: dnsPacket.RECURSION_AVAILABLE, questions: q.questions ?? [], answers: [{ type: 'A', name, ttl: 60, data: '192.0.2.1' }] }), r.port, r.address);
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  closers.push(() => new Promise<void>((r) => sock.close(() => r())));
  return `127.0.0.1:${sock.address().port}`;
}

async function startServer(upstream: Upstream): Promise<ClusterDnsServer> {
  const server = new ClusterDnsServer({ view: clusterView(), upstream, config: cfg, host: '127.0.0.1', port: 0 });
  await server.start();
  closers.push(() => server.stop());
  return server;
}

function udpAsk(port: number, msg: Buffer): Promise<Decoded> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.on('message', (m) => {
      s.close();
      resolve(dnsPacket.decode(m) as unknown as Decoded);
    });
    s.on('error', reject);
    s.send(msg, port, '127.0.0.1');
  });
}

function tcpAsk(port: number, msg: Buffer): Promise<Decoded> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port }, () => s.write(dnsPacket.streamEncode(dnsPacket.decode(msg))));
    let buf = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        s.destroy();
        resolve(dnsPacket.streamDecode(buf) as unknown as Decoded);
      }
    });
    s.on('error', reject);
  });
}

describe('cluster DNS server', () => {
  it('answers cluster names over UDP and TCP, and forwards others to the upstream resolver', async () => {
    const server = await startServer(resolverUpstream([await fakeResolver()], 2000));
    const q = dnsPacket.encode(query('web.default.svc.cluster.local', 'A'));
    expect(data(await udpAsk(server.port, q))).toEqual(['10.96.0.20']);
    expect(data(await tcpAsk(server.port, q))).toEqual(['10.96.0.20']);
    const fwd = await udpAsk(server.port, dnsPacket.encode(query('example.org', 'A', 99)));
    expect(fwd.id).toBe(99);
    expect(data(fwd)).toEqual(['192.0.2.1']);
  });

  it('SERVFAIL when the upstream does not answer in time', async () => {
    const server = await startServer(resolverUpstream([await fakeResolver(true)], 200));
    const p = await udpAsk(server.port, dnsPacket.encode(query('example.org', 'A', 5)));
    expect(p.id).toBe(5);
    expect(p.rcode).toBe('SERVFAIL');
  });

  it('garbage gets FORMERR (when it has an ID) and the server keeps serving', async () => {
    const server = await startServer(resolverUpstream([], 100));
    const junk = Buffer.from([0x12, 0x34, 0x01, 0x00, 0x00, 0x05, 0, 0, 0, 0, 0, 0, 0xff, 0xff]);
    const p = await udpAsk(server.port, junk);
    expect(p.id).toBe(0x1234);
    expect(p.rcode).toBe('FORMERR');
    expect(await server.handle(Buffer.from([1, 2, 3]), 'udp')).toBeUndefined();
    expect(data(await udpAsk(server.port, dnsPacket.encode(query('web.default.svc.cluster.local', 'A'))))).toEqual(['10.96.0.20']);
  });

  it('a UDP answer too big for 512 bytes comes back truncated (TC), and whole over TCP', async () => {
    const v = new ClusterDnsView('cluster.local');
    v.onServiceAdd(svc('big', { clusterIP: 'None' }));
    v.onEndpointSliceAdd(slice('big-1', 'big', Array.from({ length: 60 }, (_, i) => ({ addresses: [`10.244.9.${i + 1}`], conditions: { ready: true } }))));
    const server = new ClusterDnsServer({ view: v, upstream: resolverUpstream([], 100), config: cfg, host: '127.0.0.1', port: 0 });
    await server.start();
    closers.push(() => server.stop());
    const q = dnsPacket.encode(query('big.default.svc.cluster.local', 'A'));
    const udp = await udpAsk(server.port, q);
    expect(udp.flag_tc).toBe(true);
    expect(udp.answers).toEqual([]);
    expect((await tcpAsk(server.port, q)).answers).toHaveLength(60);
  });
});
