import { isIPv4 } from 'node:net';
import type { Answer, Packet, Question, SrvAnswer } from 'dns-packet';
import { endpointLabel, isHeadless, type ClusterDnsView, type DnsService } from './view.js';

/**
 * The cluster DNS's answers, after the Kubernetes DNS-Based Service Discovery specification as CoreDNS's kubernetes
 * plugin implements it (with kubeadm's Corefile: `pods insecure`, `ttl 30`, `fallthrough in-addr.arpa ip6.arpa`).
 * Pure: a query and the current view in, a response or "forward this upstream" out.
 *
 *   <svc>.<ns>.svc.<domain>              A: the ClusterIP, or the ready endpoint IPs of a headless service;
 *                                        CNAME for ExternalName; SRV: one per port
 *   <host>.<svc>.<ns>.svc.<domain>       A: the endpoint whose hostname (or dashed IP) is <host>
 *   _<port>._<proto>.<svc>.<ns>.svc...   SRV for a named port (per ready endpoint for headless services)
 *   <a-b-c-d>.<ns>.pod.<domain>          A: a.b.c.d
 *   d.c.b.a.in-addr.arpa                 PTR for service and endpoint IPs; other addresses go upstream
 *
 * Unknown names in the domain are NXDOMAIN, names that exist without records of the asked type NOERROR with no
 * answer; both carry the zone's SOA in the authority section. Names outside the domain are forwarded.
 */

export interface DnsAnswerConfig {
  /** The cluster domain, without a trailing dot (cluster.local). */
  domain: string;
  ttl: number;
}

export const DEFAULT_DNS_TTL = 30;

export type Resolution = { kind: 'answer'; response: Packet } | { kind: 'forward' };

const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
export type Rcode = keyof typeof RCODE;

const FLAG_AA = 1 << 10;
const FLAG_RD = 1 << 8;
const FLAG_RA = 1 << 7;

/** A response to `query` with the given rcode and sections; authoritative when `aa`. */
export function reply(query: Packet, rcode: Rcode, sections: { answers?: Answer[]; authorities?: Answer[]; additionals?: Answer[] } = {}, aa = true): Packet {
  const rd = (query.flags ?? 0) & FLAG_RD;
  return {
    id: query.id ?? 0,
    type: 'response',
    flags: (aa ? FLAG_AA : 0) | rd | FLAG_RA | RCODE[rcode],
    questions: query.questions ?? [],
    answers: sections.answers ?? [],
    authorities: sections.authorities ?? [],
    additionals: sections.additionals ?? [],
  };
}

export function soaRecord(cfg: DnsAnswerConfig, now: number): Answer {
  return {
    type: 'SOA',
    name: cfg.domain,
    ttl: cfg.ttl,
    class: 'IN',
    data: {
      mname: `ns.dns.${cfg.domain}`,
      rname: `hostmaster.${cfg.domain}`,
      // CoreDNS uses the time as the serial; any increasing number will do.
      serial: Math.floor(now / 1000) >>> 0,
      refresh: 7200,
      retry: 1800,
      expire: 86400,
      minimum: cfg.ttl,
    },
  };
}

function normalize(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

function inZone(name: string, zone: string): boolean {
  return name === zone || name.endsWith(`.${zone}`);
}

/** a.b.c.d from d.c.b.a.in-addr.arpa, or undefined when the name is not a full IPv4 reverse name. */
export function reverseIPv4(name: string): string | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.in-addr\.arpa$/.exec(name);
  if (!m) return undefined;
  const ip = `${m[4]}.${m[3]}.${m[2]}.${m[1]}`;
  return isIPv4(ip) ? ip : undefined;
}

interface Records {
  /** Whether the name exists (NOERROR even with no records of the asked type). */
  exists: boolean;
  answers: Answer[];
  additionals?: Answer[];
}

/** Whether a question asks for records of type t (ANY asks for all). */
function wants(q: Question, t: Question['type']): boolean {
  return q.type === t || (q.type as string) === 'ANY';
}

const NONE: Records = { exists: false, answers: [] };

export function answerQuery(query: Packet, view: ClusterDnsView, cfg: DnsAnswerConfig, now = Date.now()): Resolution {
  const q = query.questions?.[0];
  if (!q || (query.questions?.length ?? 0) !== 1) return { kind: 'answer', response: reply(query, 'FORMERR', {}, false) };
  const name = normalize(q.name);
  const domain = normalize(cfg.domain);
  if (name.endsWith('.in-addr.arpa') || name === 'in-addr.arpa') {
    const ip = reverseIPv4(name);
    const names = ip ? view.namesForIP(ip) : [];
    // Addresses the cluster does not know fall through to the upstream resolver, as kubeadm's Corefile.
    if (names.length === 0) return { kind: 'forward' };
    const answers: Answer[] = wants(q, 'PTR') ? names.map((n) => ({ type: 'PTR', name: q.name, ttl: cfg.ttl, class: 'IN', data: n.replace(/\.$/, '') })) : [];
    return { kind: 'answer', response: reply(query, 'NOERROR', { answers, ...(answers.length ? {} : { authorities: [soaRecord(cfg, now)] }) }) };
  }
  if (!inZone(name, domain)) return { kind: 'forward' };
  const labels = name === domain ? [] : name.slice(0, -(domain.length + 1)).split('.');
  const records = lookup(q, labels, view, { ...cfg, domain });
  const rcode: Rcode = records.exists ? 'NOERROR' : 'NXDOMAIN';
  return {
    kind: 'answer',
    response: reply(query, rcode, {
      answers: records.answers,
      ...(records.answers.length === 0 ? { authorities: [soaRecord({ ...cfg, domain }, now)] } : {}),
      ...(records.additionals?.length ? { additionals: records.additionals } : {}),
    }),
  };
}

function lookup(q: Question, labels: string[], view: ClusterDnsView, cfg: DnsAnswerConfig): Records {
  const zoneApex = labels.length === 0;
  if (zoneApex) {
    if (q.type === 'SOA') return { exists: true, answers: [soaRecord(cfg, Date.now())] };
    if (q.type === 'NS') return { exists: true, answers: [{ type: 'NS', name: q.name, ttl: cfg.ttl, class: 'IN', data: `ns.dns.${cfg.domain}` }] };
    return { exists: true, answers: [] };
  }
  const last = labels[labels.length - 1];
  if (last === 'svc') return lookupService(q, labels.slice(0, -1), view, cfg);
  if (last === 'pod') return lookupPod(q, labels.slice(0, -1), cfg);
  return NONE;
}

const a = (name: string, ip: string, ttl: number): Answer => ({ type: 'A', name, ttl, class: 'IN', data: ip });

/** <a-b-c-d>.<ns>.pod.<domain>: "pods insecure" answers for any dashed IPv4 address. */
function lookupPod(q: Question, labels: string[], cfg: DnsAnswerConfig): Records {
  if (labels.length === 1) return { exists: true, answers: [] }; // <ns>.pod.<domain>
  if (labels.length !== 2) return labels.length === 0 ? { exists: true, answers: [] } : NONE;
  const ip = (labels[0] ?? '').replace(/-/g, '.');
  if (!isIPv4(ip)) return NONE;
  return { exists: true, answers: wants(q, 'A') ? [a(q.name, ip, cfg.ttl)] : [] };
}

function serviceFQDN(svc: DnsService, cfg: DnsAnswerConfig): string {
  return `${svc.name}.${svc.namespace}.svc.${cfg.domain}`;
}

function lookupService(q: Question, labels: string[], view: ClusterDnsView, cfg: DnsAnswerConfig): Records {
  const ttl = cfg.ttl;
  // svc.<domain> and <ns>.svc.<domain> exist as names when there is something below them.
  if (labels.length === 0) return { exists: true, answers: [] };
  if (labels.length === 1) return view.hasNamespace(labels[0] ?? '') ? { exists: true, answers: [] } : NONE;
  const ns = labels[labels.length - 1] as string;
  const svcName = labels[labels.length - 2] as string;
  const svc = view.service(ns, svcName);
  if (!svc) return NONE;
  if (labels.length === 2) return serviceRecords(q, svc, view, cfg);
  if (labels.length === 3) {
    // <endpoint>.<svc>.<ns>.svc.<domain>
    const host = labels[0];
    const match = view.readyAddresses(ns, svcName).filter((x) => endpointLabel(x) === host);
    if (match.length === 0) return NONE;
    return { exists: true, answers: wants(q, 'A') ? match.map((m) => a(q.name, m.ip, ttl)) : [] };
  }
  if (labels.length === 4) {
    // _<port>._<proto>.<svc>.<ns>.svc.<domain>
    const [portLabel, protoLabel] = labels as [string, string];
    if (!portLabel.startsWith('_') || !protoLabel.startsWith('_')) return NONE;
    const portName = portLabel.slice(1);
    const proto = protoLabel.slice(1).toUpperCase();
    const port = svc.ports.find((p) => p.name.toLowerCase() === portName && p.protocol === proto);
    if (!port || svc.type === 'ExternalName') return NONE;
    if (!wants(q, 'SRV')) return { exists: true, answers: [] };
    return srvRecords(q.name, svc, [port], view, cfg);
  }
  return NONE;
}

function serviceRecords(q: Question, svc: DnsService, view: ClusterDnsView, cfg: DnsAnswerConfig): Records {
  const ttl = cfg.ttl;
  if (svc.type === 'ExternalName') {
    const target = normalize(svc.externalName ?? '');
    if (!target) return { exists: true, answers: [] };
    const answers: Answer[] = [{ type: 'CNAME', name: q.name, ttl, class: 'IN', data: target }];
    return { exists: true, answers };
  }
  if (q.type === 'SRV') return srvRecords(q.name, svc, svc.ports, view, cfg);
  if (!wants(q, 'A')) return { exists: true, answers: [] };
  if (isHeadless(svc)) return { exists: true, answers: view.readyAddresses(svc.namespace, svc.name).map((x) => a(q.name, x.ip, ttl)) };
  if (svc.clusterIP && isIPv4(svc.clusterIP)) return { exists: true, answers: [a(q.name, svc.clusterIP, ttl)] };
  return { exists: true, answers: [] };
}

function srvRecords(qname: string, svc: DnsService, ports: DnsService['ports'], view: ClusterDnsView, cfg: DnsAnswerConfig): Records {
  const ttl = cfg.ttl;
  const fqdn = serviceFQDN(svc, cfg);
  const targets: Array<{ target: string; port: number; ip: string }> = [];
  for (const p of ports) {
    if (isHeadless(svc)) {
      for (const { address, port } of view.readyAddressesWithPort(svc.namespace, svc.name, p.name, p.protocol)) {
        targets.push({ target: `${endpointLabel(address)}.${fqdn}`, port, ip: address.ip });
      }
    } else if (svc.clusterIP && isIPv4(svc.clusterIP)) {
      targets.push({ target: fqdn, port: p.port, ip: svc.clusterIP });
    }
  }
  // CoreDNS spreads a weight of 100 over the records of one priority.
  const weight = targets.length ? Math.floor(100 / targets.length) : 0;
  const answers: SrvAnswer[] = targets.map((t) => ({ type: 'SRV', name: qname, ttl, class: 'IN', data: { priority: 0, weight, port: t.port, target: t.target } }));
  const seen = new Set<string>();
  const additionals: Answer[] = [];
  for (const t of targets) {
    if (seen.has(t.target)) continue;
    seen.add(t.target);
    additionals.push(a(t.target, t.ip, ttl));
  }
  return { exists: true, answers, additionals };
}
