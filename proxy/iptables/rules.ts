import { createHash } from 'node:crypto';
import { cidrContains } from '../options.js';
import { usableEndpoints, type EndpointInfo, type EndpointsMap, type ServicePortInfo, type ServicePortMap } from '../model.js';

/**
 * The iptables ruleset of kube-proxy's iptables mode, rendered as iptables-restore text by pure code: Services and
 * their ready endpoints in, the nat and filter tables out. Chain names, rule order and comments follow upstream's
 * pkg/proxy/iptables/proxier.go so that `iptables-save` on a Skiff node reads like one on a Kubernetes node.
 */

export const KUBE_SERVICES = 'KUBE-SERVICES';
export const KUBE_EXTERNAL_SERVICES = 'KUBE-EXTERNAL-SERVICES';
export const KUBE_NODEPORTS = 'KUBE-NODEPORTS';
export const KUBE_POSTROUTING = 'KUBE-POSTROUTING';
export const KUBE_MARK_MASQ = 'KUBE-MARK-MASQ';
export const KUBE_FORWARD = 'KUBE-FORWARD';
export const KUBE_PROXY_FIREWALL = 'KUBE-PROXY-FIREWALL';

export const FILTER_CHAINS = [KUBE_SERVICES, KUBE_EXTERNAL_SERVICES, KUBE_FORWARD, KUBE_NODEPORTS, KUBE_PROXY_FIREWALL] as const;
export const NAT_CHAINS = [KUBE_SERVICES, KUBE_NODEPORTS, KUBE_POSTROUTING, KUBE_MARK_MASQ] as const;

const SERVICE_CHAIN_PREFIXES = ['KUBE-SVC-', 'KUBE-SVL-', 'KUBE-EXT-', 'KUBE-FW-', 'KUBE-SEP-'];

/** The jumps from the built-in chains into ours; ensured one rule at a time (iptables -C / -I), never restored. */
export interface JumpRule {
  table: 'filter' | 'nat';
  from: string;
  to: string;
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
  { table: 'nat', to: KUBE_SERVICES, from: 'OUTPUT', comment: 'kubernetes service portals', extra: [] },
  { table: 'nat', to: KUBE_SERVICES, from: 'PREROUTING', comment: 'kubernetes service portals', extra: [] },
  { table: 'nat', to: KUBE_POSTROUTING, from: 'POSTROUTING', comment: 'kubernetes postrouting rules', extra: [] },
];

/** The arguments of a jump rule after the chain name, as `iptables -t T -C FROM <args>` takes them. */
export function jumpRuleArgs(j: JumpRule): string[] {
  return [...j.extra, '-m', 'comment', '--comment', j.comment, '-j', j.to];
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
  return SERVICE_CHAIN_PREFIXES.some((p) => chain.startsWith(p));
}

/** Upstream's computeProbability: 1/n with ten decimals. */
export function probability(n: number): string {
  return (1 / n).toFixed(10);
}

export interface RenderOptions {
  /** The fwmark bit marking packets to masquerade (upstream: 1 << --iptables-masquerade-bit, 14). */
  masqueradeMark: string;
  /** SNAT every packet sent to a ClusterIP (--masquerade-all). */
  masqueradeAll: boolean;
  /** Traffic from outside this CIDR to a ClusterIP is masqueraded (--cluster-cidr); also "pod" traffic for Local policy. */
  clusterCIDR?: string;
  /** Node IPs that accept NodePorts; undefined or empty: every local address (--nodeport-addresses). */
  nodePortIPs?: string[];
  /** Whether NodePorts answer on 127.0.0.0/8 (needs route_localnet; upstream --iptables-localhost-nodeports). */
  localhostNodePorts: boolean;
  /** Add --random-fully to the MASQUERADE rule. */
  randomFully: boolean;
  /** The node's IP: a loadBalancerSourceRanges entry containing it also admits traffic from the LB IPs themselves. */
  nodeIP?: string;
  /**
   * The cluster DNS (Skiff's addition): UDP and TCP port 53 of this Service IP go to the proxy's DNS server on this
   * node, REDIRECTed to `port` when it listens on every address, else DNATed to `address:port`.
   */
  clusterDNS?: { serviceIP: string; address: string; port: number };
}

export const DEFAULT_RENDER_OPTIONS: RenderOptions = {
  masqueradeMark: '0x4000',
  masqueradeAll: false,
  localhostNodePorts: false,
  randomFully: false,
};

export interface RenderInput {
  services: ServicePortMap;
  endpoints: EndpointsMap;
  options?: Partial<RenderOptions>;
  /**
   * Partial sync: only the per-service chains (SVC, SVL, EXT, FW, SEP) of these Services ("namespace/name") are
   * written; the others are left as they are in the kernel. Undefined: a full sync writing every chain.
   */
  changedServices?: ReadonlySet<string>;
  /** NAT chains known to exist (from iptables-save or earlier syncs); service chains among them no longer used are deleted. */
  existingNatChains?: Iterable<string>;
  /** Partial sync: the shared chains as the last successful sync wrote them; unchanged ones are left out. */
  previousShared?: ReadonlyMap<string, string>;
}

export interface RenderResult {
  /** iptables-restore input (for --noflush): *filter ... COMMIT *nat ... COMMIT. */
  text: string;
  /** Every service chain in use after this sync, written or not. */
  activeNatChains: Set<string>;
  /** Stale service chains this text deletes. */
  deletedNatChains: string[];
  filterRules: number;
  natRules: number;
  /** NAT rules that a full sync would have written (the kernel's count after this sync). */
  natRulesTotal: number;
  /** Service chains written (declared) by this text. */
  writtenNatChains: number;
  /** The rules of each shared chain ("table/chain" → text), for the next partial sync's previousShared. */
  shared: Map<string, string>;
}

class Lines {
  readonly lines: string[] = [];
  write(...parts: Array<string | readonly string[]>): void {
    this.lines.push(parts.flat().join(' '));
  }
  get count(): number {
    return this.lines.length;
  }
}

/** Counts the lines a partial sync leaves out (for the rule-count metric) without building them. */
class CountingLines extends Lines {
  private n = 0;
  override write(): void {
    this.n++;
  }
  override get count(): number {
    return this.n;
  }
}

/** A comment argument as iptables-restore reads it: quoted when it has spaces. */
function quoted(text: string): string {
  return /[\s"]/.test(text) ? `"${text.replace(/"/g, '\\"')}"` : text;
}

function comment(text: string): string[] {
  return ['-m', 'comment', '--comment', quoted(text)];
}

const chainLine = (chain: string): string => `:${chain} - [0:0]`;

function sortedServices(services: ServicePortMap): ServicePortInfo[] {
  return [...services.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.protocol < b.protocol ? -1 : a.protocol > b.protocol ? 1 : 0));
}

/** Renders the whole ruleset. Pure: the same input gives the same text. */
export function renderRules(input: RenderInput): RenderResult {
  const o: RenderOptions = { ...DEFAULT_RENDER_OPTIONS, ...input.options };
  const mark = `${o.masqueradeMark}/${o.masqueradeMark}`;
  const filterChains = new Lines();
  const filterRules = new Lines();
  const natChains = new Lines();
  const natRules = new Lines();
  const skippedChains = new CountingLines();
  const skippedRules = new CountingLines();

  for (const c of FILTER_CHAINS) filterChains.write(chainLine(c));
  for (const c of NAT_CHAINS) natChains.write(chainLine(c));

  natRules.write('-A', KUBE_POSTROUTING, '-m', 'mark', '!', '--mark', mark, '-j', 'RETURN');
  // Clear the mark so that a packet going through the stack again is not masqueraded twice.
  natRules.write('-A', KUBE_POSTROUTING, '-j', 'MARK', '--xor-mark', o.masqueradeMark);
  natRules.write('-A', KUBE_POSTROUTING, comment('kubernetes service traffic requiring SNAT'), '-j', 'MASQUERADE', o.randomFully ? ['--random-fully'] : []);
  natRules.write('-A', KUBE_MARK_MASQ, '-j', 'MARK', '--or-mark', o.masqueradeMark);

  // The cluster DNS comes first, before any Service (such as kube-dns) with the same IP and port.
  if (o.clusterDNS) {
    const d = o.clusterDNS;
    for (const proto of ['udp', 'tcp']) {
      const target = d.address === '0.0.0.0' ? ['REDIRECT', '--to-ports', String(d.port)] : ['DNAT', '--to-destination', `${d.address}:${d.port}`];
      natRules.write('-A', KUBE_SERVICES, comment('skiff cluster DNS'), '-m', proto, '-p', proto, '-d', `${d.serviceIP}/32`, '--dport', '53', '-j', target);
    }
  }

  const active = new Set<string>();
  let writtenNatChains = 0;

  for (const svc of sortedServices(input.services)) {
    const proto = svc.protocol.toLowerCase();
    const name = svc.name;
    const pm = ['-m', proto, '-p', proto];
    const candidates = input.endpoints.get(name) ?? [];
    const all = usableEndpoints(candidates);
    const local = usableEndpoints(candidates.filter((e) => e.local));
    const hasEndpoints = all.length > 0;

    const clusterChain = serviceChainName(name, proto);
    const localChain = serviceLocalChainName(name, proto);
    const extChain = serviceExternalChainName(name, proto);

    const usesClusterEndpoints = !svc.internalPolicyLocal || (svc.externallyAccessible && !svc.externalPolicyLocal);
    const usesLocalEndpoints = svc.internalPolicyLocal || svc.externalPolicyLocal;
    const usesClusterPolicy = usesClusterEndpoints && all.length > 0;
    const usesLocalChain = usesLocalEndpoints && local.length > 0;
    // Endpoints reachable from here: all of them when Cluster policy is in use, else the local ones.
    const reachable = usesClusterEndpoints ? all : local;
    for (const ep of reachable) active.add(endpointChainName(name, proto, ep.endpoint));
    if (usesClusterPolicy) active.add(clusterChain);
    if (usesLocalChain) active.add(localChain);

    const internalChain = svc.internalPolicyLocal ? localChain : clusterChain;
    const hasInternal = svc.internalPolicyLocal ? local.length > 0 : hasEndpoints;
    const externalPolicyChain = svc.externalPolicyLocal ? localChain : clusterChain;
    const hasExternal = svc.externalPolicyLocal ? local.length > 0 : hasEndpoints;
    const usesExtChain = hasEndpoints && svc.externallyAccessible;
    if (usesExtChain) active.add(extChain);
    const fwChain = serviceFirewallChainName(name, proto);
    const usesFWChain = hasEndpoints && svc.loadBalancerIPs.length > 0 && svc.loadBalancerSourceRanges.length > 0;
    if (usesFWChain) active.add(fwChain);
    const loadBalancerChain = usesFWChain ? fwChain : extChain;

    let internalTarget = '';
    let internalComment = '';
    let externalTarget = '';
    let externalComment = '';
    if (!hasEndpoints) {
      internalTarget = externalTarget = 'REJECT';
      internalComment = externalComment = `${name} has no endpoints`;
    } else {
      if (!hasInternal) {
        internalTarget = 'DROP';
        internalComment = `${name} has no local endpoints`;
      }
      if (!hasExternal) {
        externalTarget = 'DROP';
        externalComment = `${name} has no local endpoints`;
      }
    }

    const dport = ['--dport', String(svc.port)];
    // The ClusterIP.
    if (hasInternal) {
      natRules.write('-A', KUBE_SERVICES, comment(`${name} cluster IP`), pm, '-d', svc.clusterIP, dport, '-j', internalChain);
    } else {
      filterRules.write('-A', KUBE_SERVICES, comment(internalComment), pm, '-d', svc.clusterIP, dport, '-j', internalTarget);
    }
    // External IPs.
    for (const ip of svc.externalIPs) {
      if (hasEndpoints) natRules.write('-A', KUBE_SERVICES, comment(`${name} external IP`), pm, '-d', ip, dport, '-j', extChain);
      if (!hasExternal) filterRules.write('-A', KUBE_EXTERNAL_SERVICES, comment(externalComment), pm, '-d', ip, dport, '-j', externalTarget);
    }
    // Load-balancer ingress IPs.
    for (const ip of svc.loadBalancerIPs) {
      if (hasEndpoints) natRules.write('-A', KUBE_SERVICES, comment(`${name} loadbalancer IP`), pm, '-d', ip, dport, '-j', loadBalancerChain);
      // What the FW chain does not send on reaches the filter table still addressed to the LB IP: dropped there.
      if (usesFWChain) filterRules.write('-A', KUBE_PROXY_FIREWALL, comment(`${name} traffic not accepted by ${fwChain}`), pm, '-d', ip, dport, '-j', 'DROP');
    }
    if (!hasExternal) {
      for (const ip of svc.loadBalancerIPs) filterRules.write('-A', KUBE_EXTERNAL_SERVICES, comment(externalComment), pm, '-d', ip, dport, '-j', externalTarget);
    }
    // The NodePort.
    if (svc.nodePort) {
      const np = ['--dport', String(svc.nodePort)];
      if (hasEndpoints) natRules.write('-A', KUBE_NODEPORTS, comment(name), pm, np, '-j', extChain);
      if (!hasExternal) filterRules.write('-A', KUBE_EXTERNAL_SERVICES, comment(externalComment), '-m', 'addrtype', '--dst-type', 'LOCAL', pm, np, '-j', externalTarget);
    }

    // The service's own chains: skipped on a partial sync when neither the Service nor its Endpoints changed.
    const skip = input.changedServices !== undefined && !input.changedServices.has(svc.service);
    const chains = skip ? skippedChains : natChains;
    const rules = skip ? skippedRules : natRules;
    const declare = (c: string): void => {
      chains.write(chainLine(c));
      if (!skip) writtenNatChains++;
    };

    if (hasInternal) {
      const args = [comment(`${name} cluster IP`), pm, '-d', svc.clusterIP, dport].flat();
      if (o.masqueradeAll) rules.write('-A', internalChain, args, '-j', KUBE_MARK_MASQ);
      else if (o.clusterCIDR) rules.write('-A', internalChain, args, '!', '-s', o.clusterCIDR, '-j', KUBE_MARK_MASQ);
    }

    if (usesExtChain) {
      declare(extChain);
      if (!svc.externalPolicyLocal) {
        // Endpoints may be on other nodes: masquerade so that replies come back through this node.
        rules.write('-A', extChain, comment(`masquerade traffic for ${name} external destinations`), '-j', KUBE_MARK_MASQ);
      } else {
        if (o.clusterCIDR) rules.write('-A', extChain, comment(`pod traffic for ${name} external destinations`), '-s', o.clusterCIDR, '-j', clusterChain);
        rules.write('-A', extChain, comment(`masquerade LOCAL traffic for ${name} external destinations`), '-m', 'addrtype', '--src-type', 'LOCAL', '-j', KUBE_MARK_MASQ);
        rules.write('-A', extChain, comment(`route LOCAL traffic for ${name} external destinations`), '-m', 'addrtype', '--src-type', 'LOCAL', '-j', clusterChain);
      }
      if (hasExternal) rules.write('-A', extChain, '-j', externalPolicyChain);
    }

    if (usesFWChain) {
      declare(fwChain);
      // Only VIP-like load balancers that keep the client's address can be filtered by source here.
      const fw = [comment(`${name} loadbalancer IP`)].flat();
      let allowFromNode = false;
      for (const cidr of svc.loadBalancerSourceRanges) {
        rules.write('-A', fwChain, fw, '-s', cidr, '-j', extChain);
        if (o.nodeIP && cidrContains(cidr, o.nodeIP)) allowFromNode = true;
      }
      // The LB IP is often a local address: the node's own requests then arrive from the LB IP.
      if (allowFromNode) for (const ip of svc.loadBalancerIPs) rules.write('-A', fwChain, fw, '-s', ip, '-j', extChain);
      rules.write('-A', fwChain, comment(`other traffic to ${name} will be dropped by KUBE-PROXY-FIREWALL`));
    }

    if (usesClusterPolicy) {
      declare(clusterChain);
      writeServiceToEndpoints(rules, svc, clusterChain, all);
    }
    if (usesLocalChain) {
      declare(localChain);
      writeServiceToEndpoints(rules, svc, localChain, local);
    }

    for (const ep of reachable) {
      const sep = endpointChainName(name, proto, ep.endpoint);
      declare(sep);
      // Hairpin: an endpoint reaching itself through the service must be masqueraded, or it would answer itself.
      rules.write('-A', sep, comment(name), '-s', ep.ip, '-j', KUBE_MARK_MASQ);
      const affinity = svc.affinitySeconds > 0 ? ['-m', 'recent', '--name', sep, '--set'] : [];
      rules.write('-A', sep, comment(name), affinity, pm, '-j', 'DNAT', '--to-destination', ep.endpoint);
    }
  }

  // Service chains that exist but are no longer used: a chain line flushes them, -X deletes them.
  const deleted: string[] = [];
  for (const c of new Set(input.existingNatChains ?? [])) {
    if (!isServiceChainName(c) || active.has(c)) continue;
    deleted.push(c);
  }
  deleted.sort();
  for (const c of deleted) {
    natChains.write(chainLine(c));
    natRules.write('-X', c);
  }

  // The NodePort jump must be the last rule of KUBE-SERVICES.
  const nodePortComment = comment('kubernetes service nodeports; NOTE: this must be the last rule in this chain');
  if (!o.nodePortIPs?.length) {
    natRules.write('-A', KUBE_SERVICES, nodePortComment, '-m', 'addrtype', '--dst-type', 'LOCAL', o.localhostNodePorts ? [] : ['!', '-d', '127.0.0.0/8'], '-j', KUBE_NODEPORTS);
  } else {
    for (const ip of o.nodePortIPs) {
      if (ip.startsWith('127.') && !o.localhostNodePorts) continue;
      natRules.write('-A', KUBE_SERVICES, nodePortComment, '-d', ip, '-j', KUBE_NODEPORTS);
    }
  }

  filterRules.write('-A', KUBE_FORWARD, '-m', 'conntrack', '--ctstate', 'INVALID', '-j', 'DROP');
  filterRules.write('-A', KUBE_FORWARD, comment('kubernetes forwarding rules'), '-m', 'mark', '--mark', mark, '-j', 'ACCEPT');
  filterRules.write('-A', KUBE_FORWARD, comment('kubernetes forwarding conntrack rule'), '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', 'ACCEPT');

  // The shared chains (KUBE-SERVICES, KUBE-NODEPORTS, the filter chains...) as written, by "table/chain".
  const shared = new Map<string, string>();
  const sharedLines = (table: string, chains: readonly string[], lines: string[]): Map<string, string[]> => {
    const by = new Map<string, string[]>(chains.map((c) => [c, []]));
    for (const l of lines) {
      const chain = l.startsWith('-A ') ? l.slice(3, l.indexOf(' ', 3)) : '';
      by.get(chain)?.push(l);
    }
    for (const [c, ls] of by) shared.set(`${table}/${c}`, ls.join('\n'));
    return by;
  };
  sharedLines('filter', FILTER_CHAINS, filterRules.lines);
  sharedLines('nat', NAT_CHAINS, natRules.lines);
  // A partial sync leaves out the shared chains that are what they were after the last sync: restoring them again
  // would flush and re-add thousands of KUBE-SERVICES rules for a change that did not touch them.
  const prev = input.changedServices !== undefined ? input.previousShared : undefined;
  const unchanged = (table: string, chain: string): boolean => {
    const key = `${table}/${chain}`;
    return prev !== undefined && shared.has(key) && prev.get(key) === shared.get(key);
  };
  const keepLine = (table: string, l: string): boolean => {
    if (l.startsWith(':')) return !unchanged(table, l.slice(1, l.indexOf(' ')));
    if (l.startsWith('-A ')) return !unchanged(table, l.slice(3, l.indexOf(' ', 3)));
    return true;
  };
  const filterOut = prev ? [...filterChains.lines, ...filterRules.lines].filter((l) => keepLine('filter', l)) : [...filterChains.lines, ...filterRules.lines];
  const natOut = prev ? [...natChains.lines, ...natRules.lines].filter((l) => keepLine('nat', l)) : [...natChains.lines, ...natRules.lines];
  const text = [...(filterOut.length ? ['*filter', ...filterOut, 'COMMIT'] : []), '*nat', ...natOut, 'COMMIT', ''].join('\n');
  return {
    text,
    shared,
    activeNatChains: active,
    deletedNatChains: deleted,
    filterRules: filterRules.count,
    natRules: natRules.count - deleted.length,
    natRulesTotal: natRules.count + skippedRules.count - deleted.length,
    writtenNatChains,
  };
}

function writeServiceToEndpoints(rules: Lines, svc: ServicePortInfo, chain: string, endpoints: EndpointInfo[]): void {
  const proto = svc.protocol.toLowerCase();
  if (svc.affinitySeconds > 0) {
    for (const ep of endpoints) {
      const sep = endpointChainName(svc.name, proto, ep.endpoint);
      rules.write('-A', chain, comment(`${svc.name} -> ${ep.endpoint}`), '-m', 'recent', '--name', sep, '--rcheck', '--seconds', String(svc.affinitySeconds), '--reap', '-j', sep);
    }
  }
  const n = endpoints.length;
  endpoints.forEach((ep, i) => {
    const sep = endpointChainName(svc.name, proto, ep.endpoint);
    // Rule i matches with probability 1/(n-i) of what reaches it, so every endpoint gets 1/n; the last always matches.
    const stat = i < n - 1 ? ['-m', 'statistic', '--mode', 'random', '--probability', probability(n - i)] : [];
    rules.write('-A', chain, comment(`${svc.name} -> ${ep.endpoint}`), stat, '-j', sep);
  });
}

/** Chain names declared in an iptables-save dump of one table. */
export function chainsInSave(save: string): string[] {
  const out: string[] = [];
  for (const line of save.split('\n')) if (line.startsWith(':')) out.push(line.slice(1).split(' ')[0] ?? '');
  return out.filter(Boolean);
}

/**
 * The restore text that removes every chain Skiff's proxy made, given the current iptables-save output of the nat
 * and filter tables. The jumps from built-in chains must be deleted first (see JUMP_RULES).
 */
export function renderCleanup(natSave: string, filterSave: string, extraNatChains: readonly string[] = []): string {
  const nat = new Set(chainsInSave(natSave));
  const filter = new Set(chainsInSave(filterSave));
  const out: string[] = [];
  const natOurs = [...NAT_CHAINS, ...extraNatChains].filter((c) => nat.has(c));
  natOurs.push(...[...nat].filter(isServiceChainName).sort());
  const filterOurs = FILTER_CHAINS.filter((c) => filter.has(c));
  if (filterOurs.length) out.push('*filter', ...filterOurs.map(chainLine), ...filterOurs.map((c) => `-X ${c}`), 'COMMIT');
  if (natOurs.length) out.push('*nat', ...natOurs.map(chainLine), ...natOurs.map((c) => `-X ${c}`), 'COMMIT');
  return out.length ? `${out.join('\n')}\n` : '';
}
