import { createHash } from 'node:crypto';

/**
 * The names of kube-proxy's iptables chains, as upstream's pkg/proxy/iptables/proxier.go makes them (so that
 * `iptables-save` on a Skiff node reads like one on a Kubernetes node), and the jumps from the built-in chains.
 */

export const KUBE_SERVICES = 'KUBE-SERVICES';
export const KUBE_EXTERNAL_SERVICES = 'KUBE-EXTERNAL-SERVICES';
export const KUBE_NODEPORTS = 'KUBE-NODEPORTS';
export const KUBE_POSTROUTING = 'KUBE-POSTROUTING';
export const KUBE_MARK_MASQ = 'KUBE-MARK-MASQ';
export const KUBE_FORWARD = 'KUBE-FORWARD';
export const KUBE_PROXY_FIREWALL = 'KUBE-PROXY-FIREWALL';
/**
 * Upstream's kubelet and kube-proxy both make this one (kubeletFirewallChain): it drops outside traffic to 127.0.0.0/8,
 * which route_localnet would otherwise let in. Skiff's agent does not make it, so the proxy's cleanup removes it.
 */
export const KUBE_FIREWALL = 'KUBE-FIREWALL';

export const FILTER_CHAINS = [KUBE_SERVICES, KUBE_EXTERNAL_SERVICES, KUBE_FORWARD, KUBE_NODEPORTS, KUBE_PROXY_FIREWALL] as const;
/** Every filter chain the proxy may make: KUBE-FIREWALL is written only while localhost NodePorts are on. */
export const CLEANUP_FILTER_CHAINS = [...FILTER_CHAINS, KUBE_FIREWALL] as const;
export const NAT_CHAINS = [KUBE_SERVICES, KUBE_NODEPORTS, KUBE_POSTROUTING, KUBE_MARK_MASQ] as const;

const SERVICE_CHAIN_PREFIXES = ['KUBE-SVC-', 'KUBE-SVL-', 'KUBE-EXT-', 'KUBE-FW-', 'KUBE-SEP-'];

/** The jumps from the built-in chains into ours; ensured one rule at a time (iptables -C / -I), never restored. */
export interface JumpRule {
  table: 'filter' | 'nat';
  from: string;
  to: string;
  /** Empty: a jump without a comment (upstream's KUBE-FIREWALL jumps have none). */
  comment: string;
  extra: string[];
}

const NEW = ['-m', 'conntrack', '--ctstate', 'NEW'];
export const JUMP_RULES: readonly JumpRule[] = [
  { table: 'filter', to: KUBE_EXTERNAL_SERVICES, from: 'INPUT', comment: 'kubernetes externally-visible service portals', extra: NEW },
  { table: 'filter', to: KUBE_EXTERNAL_SERVICES, from: 'FORWARD', comment: 'kubernetes externally-visible service portals', extra: NEW },
  { table: 'filter', to: KUBE_NODEPORTS, from: 'INPUT', comment: 'kubernetes health check service ports', extra: [] },
  { table: 'filter', to: KUBE_SERVICES, from: 'FORWARD', comment: 'kubernetes service portals', extra: NEW },
  { table: 'filter', to: KUBE_SERVICES, from: 'OUTPUT', comment: 'kubernetes service portals', extra: NEW },
  { table: 'filter', to: KUBE_FORWARD, from: 'FORWARD', comment: 'kubernetes forwarding rules', extra: [] },
  { table: 'filter', to: KUBE_PROXY_FIREWALL, from: 'INPUT', comment: 'kubernetes load balancer firewall', extra: NEW },
  { table: 'filter', to: KUBE_PROXY_FIREWALL, from: 'OUTPUT', comment: 'kubernetes load balancer firewall', extra: NEW },
  { table: 'filter', to: KUBE_PROXY_FIREWALL, from: 'FORWARD', comment: 'kubernetes load balancer firewall', extra: NEW },
  { table: 'filter', to: KUBE_FIREWALL, from: 'INPUT', comment: '', extra: [] },
  { table: 'filter', to: KUBE_FIREWALL, from: 'OUTPUT', comment: '', extra: [] },
  { table: 'nat', to: KUBE_SERVICES, from: 'OUTPUT', comment: 'kubernetes service portals', extra: [] },
  { table: 'nat', to: KUBE_SERVICES, from: 'PREROUTING', comment: 'kubernetes service portals', extra: [] },
  { table: 'nat', to: KUBE_POSTROUTING, from: 'POSTROUTING', comment: 'kubernetes postrouting rules', extra: [] },
];

/** The arguments of a jump rule after the chain name, as `iptables -t T -C FROM <args>` takes them. */
export function jumpRuleArgs(j: JumpRule): string[] {
  return [...j.extra, ...(j.comment ? ['-m', 'comment', '--comment', j.comment] : []), '-j', j.to];
}

/** A jump rule as iptables-save prints it and iptables-restore reads it: arguments with spaces quoted. */
export function jumpRuleText(j: JumpRule): string {
  return `${j.from} ${jumpRuleArgs(j)
    .map((a) => (/\s/.test(a) ? `"${a}"` : a))
    .join(' ')}`;
}

/** Chain names are asked for many times per sync; remember them (bounded, cleared when it grows too big). */
const hashCache = new Map<string, string>();

function hash16(text: string): string {
  let h = hashCache.get(text);
  if (h === undefined) {
    h = base32(createHash('sha256').update(text).digest()).slice(0, 16);
    if (hashCache.size >= 200_000) hashCache.clear();
    hashCache.set(text, h);
  }
  return h;
}

/** RFC 4648 base32 (Go's base32.StdEncoding), enough of it for chain names. */
export function base32(buf: Uint8Array): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of buf) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  while (out.length % 8) out += '=';
  return out;
}

/** Upstream's portProtoHash: servicePortName + lower-case protocol. */
export function portProtoHash(servicePortName: string, protocol: string): string {
  return hash16(servicePortName + protocol.toLowerCase());
}

export const serviceChainName = (spn: string, proto: string): string => `KUBE-SVC-${portProtoHash(spn, proto)}`;
export const serviceLocalChainName = (spn: string, proto: string): string => `KUBE-SVL-${portProtoHash(spn, proto)}`;
export const serviceExternalChainName = (spn: string, proto: string): string => `KUBE-EXT-${portProtoHash(spn, proto)}`;
export const serviceFirewallChainName = (spn: string, proto: string): string => `KUBE-FW-${portProtoHash(spn, proto)}`;
export const endpointChainName = (spn: string, proto: string, endpoint: string): string => `KUBE-SEP-${hash16(spn + proto.toLowerCase() + endpoint)}`;

export function isServiceChainName(chain: string): boolean {
  // Called for every chain of every sync: the common prefix first.
  return chain.startsWith('KUBE-') && SERVICE_CHAIN_PREFIXES.some((p) => chain.startsWith(p));
}
