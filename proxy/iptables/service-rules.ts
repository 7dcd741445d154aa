import { cidrContains } from '../options.js';
import { usableEndpoints, type EndpointInfo, type ServicePortInfo } from '../model.js';
import {
  endpointChainName,
  KUBE_MARK_MASQ,
  serviceChainName,
  serviceExternalChainName,
  serviceFirewallChainName,
  serviceLocalChainName,
} from './chains.js';

/**
 * The rules of one service port, rendered on their own (a "chunk") so that a sync re-renders only the service ports
 * whose Service or endpoints changed: upstream's proxier keeps no such cache and renders every service on every sync,
 * which costs about a second of CPU at 5,000 services. renderRules (rules.ts) puts the chunks together.
 */

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
  clusterDNS?: {
    serviceIP: string;
    address: string;
    port: number;
    /**
     * On 0.0.0.0: the port of the DNS server's UDP socket on 127.0.0.1 (ClusterDnsServer.loopbackPort). The node's
     * own UDP queries go there: REDIRECT sends them to 127.0.0.1, and the reply must leave from 127.0.0.1 for
     * conntrack to map it back to the Service IP.
     */
    loopbackPort?: number;
  };
}

export const DEFAULT_RENDER_OPTIONS: RenderOptions = {
  masqueradeMark: '0x4000',
  masqueradeAll: false,
  localhostNodePorts: false,
  randomFully: false,
};

/** Upstream's computeProbability: 1/n with ten decimals. */
export function probability(n: number): string {
  return (1 / n).toFixed(10);
}

/** A comment argument as iptables-restore reads it: quoted when it has spaces. */
function quoted(text: string): string {
  return /[\s"]/.test(text) ? `"${text.replace(/"/g, '\\"')}"` : text;
}

/** The comment match, as one argument string. */
export function comment(text: string): string {
  return `-m comment --comment ${quoted(text)}`;
}

export const chainLine = (chain: string): string => `:${chain} - [0:0]`;

/** Lines joined, each followed by a newline ('' for none): chunks are concatenated as they are. */
function block(lines: readonly string[]): string {
  return lines.length ? `${lines.join('\n')}\n` : '';
}

/** One service port's part of the ruleset. Every `*Text` is whole lines, each ending in a newline. */
export interface ServiceChunk {
  /** Its rules in the shared filter chains (KUBE-SERVICES, KUBE-EXTERNAL-SERVICES, KUBE-PROXY-FIREWALL), in order. */
  filter: readonly string[];
  /** Its rules in the shared nat chain KUBE-SERVICES. */
  natServicesText: string;
  /** Its rules in the shared nat chain KUBE-NODEPORTS. */
  natNodePortsText: string;
  /** The declarations (":CHAIN - [0:0]") of its own chains: KUBE-EXT, KUBE-FW, KUBE-SVC, KUBE-SVL, KUBE-SEP. */
  declText: string;
  /** The rules of its own chains. */
  ownText: string;
  /** Its nat rules as a full sync writes them: natServicesText + natNodePortsText + ownText. */
  natText: string;
  /** Its own chains in use (declared or not: a service with Local policy may have an unused SVC chain name). */
  active: readonly string[];
  natSharedRules: number;
  ownRules: number;
  ownChains: number;
}

/** Renders one service port, with the (candidate) endpoints of that port. Pure. */
export function renderServiceChunk(o: RenderOptions, svc: ServicePortInfo, candidates: readonly EndpointInfo[]): ServiceChunk {
  const proto = svc.protocol.toLowerCase();
  const name = svc.name;
  const pm = `-m ${proto} -p ${proto}`;
  const all = usableEndpoints(candidates);
  const local = usableEndpoints(candidates.filter((e) => e.local));
  const hasEndpoints = all.length > 0;

  const filter: string[] = [];
  const natServices: string[] = [];
  const natNodePorts: string[] = [];
  const decls: string[] = [];
  const own: string[] = [];
  const active: string[] = [];

  const clusterChain = serviceChainName(name, proto);
  const localChain = serviceLocalChainName(name, proto);
  const extChain = serviceExternalChainName(name, proto);

  const usesClusterEndpoints = !svc.internalPolicyLocal || (svc.externallyAccessible && !svc.externalPolicyLocal);
  const usesLocalEndpoints = svc.internalPolicyLocal || svc.externalPolicyLocal;
  const usesClusterPolicy = usesClusterEndpoints && all.length > 0;
  const usesLocalChain = usesLocalEndpoints && local.length > 0;
  // Endpoints reachable from here: all of them when Cluster policy is in use, else the local ones.
  const reachable = usesClusterEndpoints ? all : local;
  const sepChains = reachable.map((ep) => endpointChainName(name, proto, ep.endpoint));
  active.push(...sepChains);
  if (usesClusterPolicy) active.push(clusterChain);
  if (usesLocalChain) active.push(localChain);

  const internalChain = svc.internalPolicyLocal ? localChain : clusterChain;
  const hasInternal = svc.internalPolicyLocal ? local.length > 0 : hasEndpoints;
  const externalPolicyChain = svc.externalPolicyLocal ? localChain : clusterChain;
  const hasExternal = svc.externalPolicyLocal ? local.length > 0 : hasEndpoints;
  const usesExtChain = hasEndpoints && svc.externallyAccessible;
  if (usesExtChain) active.push(extChain);
  const fwChain = serviceFirewallChainName(name, proto);
  const usesFWChain = hasEndpoints && svc.loadBalancerIPs.length > 0 && svc.loadBalancerSourceRanges.length > 0;
  if (usesFWChain) active.push(fwChain);
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

  const dport = `--dport ${svc.port}`;
  const clusterIPComment = comment(`${name} cluster IP`);
  // The ClusterIP.
  if (hasInternal) natServices.push(`-A KUBE-SERVICES ${clusterIPComment} ${pm} -d ${svc.clusterIP} ${dport} -j ${internalChain}`);
  else filter.push(`-A KUBE-SERVICES ${comment(internalComment)} ${pm} -d ${svc.clusterIP} ${dport} -j ${internalTarget}`);
  // External IPs.
  for (const ip of svc.externalIPs) {
    if (hasEndpoints) natServices.push(`-A KUBE-SERVICES ${comment(`${name} external IP`)} ${pm} -d ${ip} ${dport} -j ${extChain}`);
    if (!hasExternal) filter.push(`-A KUBE-EXTERNAL-SERVICES ${comment(externalComment)} ${pm} -d ${ip} ${dport} -j ${externalTarget}`);
  }
  // Load-balancer ingress IPs.
  for (const ip of svc.loadBalancerIPs) {
    if (hasEndpoints) natServices.push(`-A KUBE-SERVICES ${comment(`${name} loadbalancer IP`)} ${pm} -d ${ip} ${dport} -j ${loadBalancerChain}`);
    // What the FW chain does not send on reaches the filter table still addressed to the LB IP: dropped there.
    if (usesFWChain) filter.push(`-A KUBE-PROXY-FIREWALL ${comment(`${name} traffic not accepted by ${fwChain}`)} ${pm} -d ${ip} ${dport} -j DROP`);
  }
  if (!hasExternal) {
    for (const ip of svc.loadBalancerIPs) filter.push(`-A KUBE-EXTERNAL-SERVICES ${comment(externalComment)} ${pm} -d ${ip} ${dport} -j ${externalTarget}`);
  }
  // The NodePort.
  if (svc.nodePort) {
    const np = `--dport ${svc.nodePort}`;
    if (hasEndpoints) natNodePorts.push(`-A KUBE-NODEPORTS ${comment(name)} ${pm} ${np} -j ${extChain}`);
    if (!hasExternal) filter.push(`-A KUBE-EXTERNAL-SERVICES ${comment(externalComment)} -m addrtype --dst-type LOCAL ${pm} ${np} -j ${externalTarget}`);
  }

  // The service's own chains.
  if (hasInternal) {
    const args = `${clusterIPComment} ${pm} -d ${svc.clusterIP} ${dport}`;
    if (o.masqueradeAll) own.push(`-A ${internalChain} ${args} -j ${KUBE_MARK_MASQ}`);
    else if (o.clusterCIDR) own.push(`-A ${internalChain} ${args} ! -s ${o.clusterCIDR} -j ${KUBE_MARK_MASQ}`);
  }

  if (usesExtChain) {
    decls.push(chainLine(extChain));
    if (!svc.externalPolicyLocal) {
      // Endpoints may be on other nodes: masquerade so that replies come back through this node.
      own.push(`-A ${extChain} ${comment(`masquerade traffic for ${name} external destinations`)} -j ${KUBE_MARK_MASQ}`);
    } else {
      if (o.clusterCIDR) own.push(`-A ${extChain} ${comment(`pod traffic for ${name} external destinations`)} -s ${o.clusterCIDR} -j ${clusterChain}`);
      own.push(`-A ${extChain} ${comment(`masquerade LOCAL traffic for ${name} external destinations`)} -m addrtype --src-type LOCAL -j ${KUBE_MARK_MASQ}`);
      own.push(`-A ${extChain} ${comment(`route LOCAL traffic for ${name} external destinations`)} -m addrtype --src-type LOCAL -j ${clusterChain}`);
    }
    if (hasExternal) own.push(`-A ${extChain} -j ${externalPolicyChain}`);
  }

  if (usesFWChain) {
    decls.push(chainLine(fwChain));
    // Only VIP-like load balancers that keep the client's address can be filtered by source here.
    const fw = comment(`${name} loadbalancer IP`);
    let allowFromNode = false;
    for (const cidr of svc.loadBalancerSourceRanges) {
      own.push(`-A ${fwChain} ${fw} -s ${cidr} -j ${extChain}`);
      if (o.nodeIP && cidrContains(cidr, o.nodeIP)) allowFromNode = true;
    }
    // The LB IP is often a local address: the node's own requests then arrive from the LB IP.
    if (allowFromNode) for (const ip of svc.loadBalancerIPs) own.push(`-A ${fwChain} ${fw} -s ${ip} -j ${extChain}`);
    own.push(`-A ${fwChain} ${comment(`other traffic to ${name} will be dropped by KUBE-PROXY-FIREWALL`)}`);
  }

  if (usesClusterPolicy) {
    decls.push(chainLine(clusterChain));
    serviceToEndpoints(own, svc, proto, clusterChain, all);
  }
  if (usesLocalChain) {
    decls.push(chainLine(localChain));
    serviceToEndpoints(own, svc, proto, localChain, local);
  }

  reachable.forEach((ep, i) => {
    const sep = sepChains[i]!;
    decls.push(chainLine(sep));
    const c = comment(name);
    // Hairpin: an endpoint reaching itself through the service must be masqueraded, or it would answer itself.
    own.push(`-A ${sep} ${c} -s ${ep.ip} -j ${KUBE_MARK_MASQ}`);
    const affinity = svc.affinitySeconds > 0 ? ` -m recent --name ${sep} --set` : '';
    own.push(`-A ${sep} ${c}${affinity} ${pm} -j DNAT --to-destination ${ep.endpoint}`);
  });

  const natServicesText = block(natServices);
  const natNodePortsText = block(natNodePorts);
  const ownText = block(own);
  return {
    filter,
    natServicesText,
    natNodePortsText,
    declText: block(decls),
    ownText,
    natText: natServicesText + natNodePortsText + ownText,
    active,
    natSharedRules: natServices.length + natNodePorts.length,
    ownRules: own.length,
    ownChains: decls.length,
  };
}

function serviceToEndpoints(rules: string[], svc: ServicePortInfo, proto: string, chain: string, endpoints: EndpointInfo[]): void {
  const seps = endpoints.map((ep) => endpointChainName(svc.name, proto, ep.endpoint));
  if (svc.affinitySeconds > 0) {
    endpoints.forEach((ep, i) => {
      rules.push(`-A ${chain} ${comment(`${svc.name} -> ${ep.endpoint}`)} -m recent --name ${seps[i]} --rcheck --seconds ${svc.affinitySeconds} --reap -j ${seps[i]}`);
    });
  }
  const n = endpoints.length;
  endpoints.forEach((ep, i) => {
    // Rule i matches with probability 1/(n-i) of what reaches it, so every endpoint gets 1/n; the last always matches.
    const stat = i < n - 1 ? ` -m statistic --mode random --probability ${probability(n - i)}` : '';
    rules.push(`-A ${chain} ${comment(`${svc.name} -> ${ep.endpoint}`)}${stat} -j ${seps[i]}`);
  });
}

interface CacheEntry {
  svc: ServicePortInfo;
  endpoints: readonly EndpointInfo[] | undefined;
  /** What the chunk was rendered from, when it had to be compared by content (see chunk()). */
  key: string | undefined;
  chunk: ServiceChunk;
}

/** What a render made that the next one may start from (when nothing it depends on changed). */
export interface RenderMemo {
  /** The service chains in use: returned as is, never changed afterwards. */
  active: ReadonlySet<string>;
  /** The shared chains' rules ("table/chain" → text). */
  shared: ReadonlyMap<string, string>;
}

/** What changed since the last render, as the chunks of this one were looked up. */
export interface RenderDelta {
  /** The last render's outcome; undefined for the first render, and after the options changed. */
  last: RenderMemo | undefined;
  /** Chains of the chunks replaced or forgotten, and of the chunks rendered anew (each a list of lists). */
  dropped: ReadonlyArray<readonly string[]>;
  added: ReadonlyArray<readonly string[]>;
  /** Whether some chunk's rules in the shared nat chains KUBE-SERVICES or KUBE-NODEPORTS changed (or came, or went). */
  natServicesChanged: boolean;
  natNodePortsChanged: boolean;
}

/**
 * The chunks of the last render, by service port name, each remembered with what it was rendered from. A chunk is
 * reused when the service port and its endpoints are the very objects it was rendered from (the proxier keeps them
 * until they change) or, failing that, equal in content; anything else renders the service port again. The cache
 * also notes what changed since the last render (RenderDelta), so that a render in which one service port changed
 * can update the last one's chain set and shared chains instead of going over all of them again.
 */
export class ServiceRulesCache {
  private optionsKey: string | undefined;
  private readonly entries = new Map<string, CacheEntry>();
  private sortedNames: string[] = [];
  private readonly sortedSet = new Set<string>();
  private last: RenderMemo | undefined;
  private dropped: Array<readonly string[]> = [];
  private added: Array<readonly string[]> = [];
  private natServicesChanged = false;
  private natNodePortsChanged = false;
  /** A render began and has not finished (it threw): what the next one sees changed is unknown. */
  private rendering = false;
  /** Service ports rendered (not taken from the cache) since the last begin(). */
  rendered = 0;

  /** Starts a render with these options: a change of options forgets every chunk. */
  begin(o: RenderOptions): void {
    const key = JSON.stringify(o);
    if (this.rendering) this.last = undefined;
    this.rendering = true;
    if (key !== this.optionsKey) {
      this.entries.clear();
      this.last = undefined;
      this.optionsKey = key;
    }
    this.rendered = 0;
    this.dropped = [];
    this.added = [];
    this.natServicesChanged = false;
    this.natNodePortsChanged = false;
  }

  /** The service ports by name (upstream's order: name, then protocol; names are unique, so by name). */
  sorted(services: ReadonlyMap<string, ServicePortInfo>): string[] {
    let same = services.size === this.sortedNames.length;
    if (same) {
      for (const name of services.keys()) {
        if (!this.sortedSet.has(name)) {
          same = false;
          break;
        }
      }
    }
    if (!same) {
      this.sortedNames = [...services.keys()].sort();
      this.sortedSet.clear();
      for (const n of this.sortedNames) this.sortedSet.add(n);
      // Service ports gone: forget their chunks.
      for (const [n, e] of this.entries) {
        if (services.has(n)) continue;
        this.entries.delete(n);
        this.replaced(e.chunk, undefined);
      }
    }
    return this.sortedNames;
  }

  chunk(o: RenderOptions, svc: ServicePortInfo, endpoints: readonly EndpointInfo[] | undefined): ServiceChunk {
    const e = this.entries.get(svc.name);
    let key: string | undefined;
    if (e) {
      if (e.svc === svc && e.endpoints === endpoints) return e.chunk;
      // Other objects (a render from freshly built maps): compare what they say.
      key = contentKey(svc, endpoints);
      e.key ??= contentKey(e.svc, e.endpoints);
      if (e.key === key) {
        e.svc = svc;
        e.endpoints = endpoints;
        return e.chunk;
      }
    }
    this.rendered++;
    const chunk = renderServiceChunk(o, svc, endpoints ?? []);
    this.entries.set(svc.name, { svc, endpoints, key, chunk });
    this.replaced(e?.chunk, chunk);
    return chunk;
  }

  /** What changed since the last render (call after every chunk of this one has been looked up). */
  delta(): RenderDelta {
    return { last: this.last, dropped: this.dropped, added: this.added, natServicesChanged: this.natServicesChanged, natNodePortsChanged: this.natNodePortsChanged };
  }

  /** Ends a render: what it made is what the next one starts from. */
  finish(memo: RenderMemo): void {
    this.last = memo;
    this.rendering = false;
  }

  private replaced(before: ServiceChunk | undefined, after: ServiceChunk | undefined): void {
    if (before?.active.length) this.dropped.push(before.active);
    if (after?.active.length) this.added.push(after.active);
    if ((before?.natServicesText ?? '') !== (after?.natServicesText ?? '')) this.natServicesChanged = true;
    if ((before?.natNodePortsText ?? '') !== (after?.natNodePortsText ?? '')) this.natNodePortsChanged = true;
  }
}

function contentKey(svc: ServicePortInfo, endpoints: readonly EndpointInfo[] | undefined): string {
  return `${JSON.stringify(svc)}\n${JSON.stringify(endpoints ?? [])}`;
}
