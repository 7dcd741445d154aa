import type { EndpointsMap, ServicePortMap } from '../model.js';
import { CLEANUP_FILTER_CHAINS, FILTER_CHAINS, isServiceChainName, JUMP_RULES, jumpRuleText, KUBE_FIREWALL, KUBE_FORWARD, KUBE_MARK_MASQ, KUBE_NODEPORTS, KUBE_POSTROUTING, KUBE_SERVICES, NAT_CHAINS } from './chains.js';
import { chainLine, comment, DEFAULT_RENDER_OPTIONS, ServiceRulesCache, type RenderOptions, type ServiceChunk } from './service-rules.js';

export * from './chains.js';
export { DEFAULT_RENDER_OPTIONS, probability, ServiceRulesCache, type RenderOptions } from './service-rules.js';

/**
 * The iptables ruleset of kube-proxy's iptables mode, rendered as iptables-restore text by pure code: Services and
 * their ready endpoints in, the nat and filter tables out. Chain names, rule order and comments follow upstream's
 * pkg/proxy/iptables/proxier.go. Each service port's rules come from a chunk (service-rules.ts) that a cache keeps
 * from one render to the next; this file puts the chunks and the shared rules together.
 */

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
  /**
   * The chunks of earlier renders, reused for service ports that did not change (the text is the same either way).
   * Without one, every service port is rendered.
   */
  cache?: ServiceRulesCache;
  /**
   * Each table the text writes also checks (`-C`) that the jumps from the built-in chains into the proxy's chains
   * are there: iptables-restore stops at the first missing one and applies nothing of that table, so the restore
   * that applies the rules notices a flush of the tables too (see failedJumpCheck). Where the checks go is a matter
   * of cost, which differs between the backends (measured at 100 and 1,000 services):
   * - "inline": in the table's own section, right after its chain declarations. Free with iptables-legacy (the table
   *   is read once anyway); iptables-nft then fetches the rules of every chain the section names: +11-23%.
   * - "separate": in sections of their own, before the rules, which name only the built-in chains: 0-7% with
   *   iptables-nft; iptables-legacy reads each table twice: +13-20%.
   * Undefined (the default): no checks, the text is only the rules.
   */
  checkJumps?: 'inline' | 'separate';
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
  /** Service ports rendered anew rather than taken from the cache. */
  renderedServicePorts: number;
  /** The rules of each shared chain ("table/chain" → text), for the next partial sync's previousShared. */
  shared: Map<string, string>;
}

/** The chain a rule line appends to ("-A CHAIN ..."), or '' for other lines. */
function ruleChain(line: string): string {
  return line.startsWith('-A ') ? line.slice(3, line.indexOf(' ', 3)) : '';
}

/** Whole lines (each ending in a newline) joined by newlines, as the shared map keeps a chain's rules. */
function joined(blocks: readonly string[]): string {
  const text = blocks.join('');
  return text.endsWith('\n') ? text.slice(0, -1) : text;
}

/**
 * Whether NodePorts answer on 127.0.0.0/8: --iptables-localhost-nodeports and NodePort addresses that include
 * loopback (none given means every local address). This is when upstream sets route_localnet=1 and adds the
 * KUBE-FIREWALL rule that keeps outside traffic to 127.0.0.0/8 out.
 */
export function localhostNodePortsActive(o: Pick<RenderOptions, 'localhostNodePorts' | 'nodePortIPs'>): boolean {
  if (!o.localhostNodePorts) return false;
  return !o.nodePortIPs?.length || o.nodePortIPs.some((ip) => ip.startsWith('127.'));
}

/** Renders the whole ruleset. Pure: the same input gives the same text, with or without a cache. */
export function renderRules(input: RenderInput): RenderResult {
  const o: RenderOptions = { ...DEFAULT_RENDER_OPTIONS, ...input.options };
  const cache = input.cache ?? new ServiceRulesCache();
  cache.begin(o);
  const mark = `${o.masqueradeMark}/${o.masqueradeMark}`;
  const changed = input.changedServices;

  const postrouting = [
    `-A ${KUBE_POSTROUTING} -m mark ! --mark ${mark} -j RETURN`,
    // Clear the mark so that a packet going through the stack again is not masqueraded twice.
    `-A ${KUBE_POSTROUTING} -j MARK --xor-mark ${o.masqueradeMark}`,
    `-A ${KUBE_POSTROUTING} ${comment('kubernetes service traffic requiring SNAT')} -j MASQUERADE${o.randomFully ? ' --random-fully' : ''}`,
  ];
  const markMasq = [`-A ${KUBE_MARK_MASQ} -j MARK --or-mark ${o.masqueradeMark}`];
  // The cluster DNS comes first, before any Service (such as kube-dns) with the same IP and port.
  const dns: string[] = [];
  if (o.clusterDNS) {
    const d = o.clusterDNS;
    const target = d.address === '0.0.0.0' ? `REDIRECT --to-ports ${d.port}` : `DNAT --to-destination ${d.address}:${d.port}`;
    // The node's own UDP queries (a local source address) go to the server's socket on 127.0.0.1, which answers from it.
    if (d.address === '0.0.0.0' && d.loopbackPort) {
      dns.push(`-A ${KUBE_SERVICES} ${comment('skiff cluster DNS')} -m addrtype --src-type LOCAL -m udp -p udp -d ${d.serviceIP}/32 --dport 53 -j REDIRECT --to-ports ${d.loopbackPort}`);
    }
    for (const proto of ['udp', 'tcp']) dns.push(`-A ${KUBE_SERVICES} ${comment('skiff cluster DNS')} -m ${proto} -p ${proto} -d ${d.serviceIP}/32 --dport 53 -j ${target}`);
  }
  // The NodePort jump must be the last rule of KUBE-SERVICES.
  const nodePortComment = comment('kubernetes service nodeports; NOTE: this must be the last rule in this chain');
  const nodePortJumps: string[] = [];
  if (!o.nodePortIPs?.length) {
    nodePortJumps.push(`-A ${KUBE_SERVICES} ${nodePortComment} -m addrtype --dst-type LOCAL${o.localhostNodePorts ? '' : ' ! -d 127.0.0.0/8'} -j ${KUBE_NODEPORTS}`);
  } else {
    for (const ip of o.nodePortIPs) {
      if (ip.startsWith('127.') && !o.localhostNodePorts) continue;
      nodePortJumps.push(`-A ${KUBE_SERVICES} ${nodePortComment} -d ${ip} -j ${KUBE_NODEPORTS}`);
    }
  }
  // route_localnet lets packets to 127.0.0.0/8 in from any interface (kubernetes#90259): drop those that are not
  // replies and were not DNATed to a NodePort's endpoint, as upstream does.
  const localnet = localhostNodePortsActive(o)
    ? [
        `-A ${KUBE_FIREWALL} ${comment('block incoming localnet connections')} -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP`,
      ]
    : [];
  const forward = [
    `-A ${KUBE_FORWARD} -m conntrack --ctstate INVALID -j DROP`,
    `-A ${KUBE_FORWARD} ${comment('kubernetes forwarding rules')} -m mark --mark ${mark} -j ACCEPT`,
    `-A ${KUBE_FORWARD} ${comment('kubernetes forwarding conntrack rule')} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
  ];

  // Every service port's chunk, in order; the shared chains' rules gathered from them.
  const chunks: ServiceChunk[] = [];
  const skipped: boolean[] = [];
  const filterServiceRules: string[] = [];
  const natServicesBlocks: string[] = [];
  const natNodePortsBlocks: string[] = [];
  let natSharedRules = 0;
  let ownRulesWritten = 0;
  let ownRulesSkipped = 0;
  let writtenNatChains = 0;
  for (const name of cache.sorted(input.services)) {
    const svc = input.services.get(name)!;
    const chunk = cache.chunk(o, svc, input.endpoints.get(name));
    // The service's own chains: skipped on a partial sync when neither the Service nor its Endpoints changed.
    const skip = changed !== undefined && !changed.has(svc.service);
    chunks.push(chunk);
    skipped.push(skip);
    for (const l of chunk.filter) filterServiceRules.push(l);
    if (chunk.natServicesText) natServicesBlocks.push(chunk.natServicesText);
    if (chunk.natNodePortsText) natNodePortsBlocks.push(chunk.natNodePortsText);
    natSharedRules += chunk.natSharedRules;
    if (skip) {
      ownRulesSkipped += chunk.ownRules;
    } else {
      ownRulesWritten += chunk.ownRules;
      writtenNatChains += chunk.ownChains;
    }
  }

  // The service chains in use: the last render's, updated with what changed since when there is one (a partial sync
  // among thousands of services changes a few chains), else gathered from every chunk.
  const delta = cache.delta();
  let active: Set<string>;
  if (delta.last && delta.dropped.length === 0 && delta.added.length === 0) {
    active = delta.last.active as Set<string>;
  } else if (delta.last) {
    active = new Set(delta.last.active);
    for (const cs of delta.dropped) for (const c of cs) active.delete(c);
    for (const cs of delta.added) for (const c of cs) active.add(c);
  } else {
    active = new Set();
    for (const chunk of chunks) for (const c of chunk.active) active.add(c);
  }

  // Service chains that exist but are no longer used: a chain line flushes them, -X deletes them. When the chains
  // known to exist are the ones the last render used, only those of the chunks replaced since may have gone.
  const deleted: string[] = [];
  const existing = input.existingNatChains ?? [];
  const candidates = delta.last !== undefined && existing === delta.last.active ? delta.dropped.flat() : existing instanceof Set ? existing : new Set(existing);
  for (const c of new Set(candidates)) {
    if (!isServiceChainName(c) || active.has(c)) continue;
    deleted.push(c);
  }
  deleted.sort();

  // The shared chains (KUBE-SERVICES, KUBE-NODEPORTS, the filter chains...) as written, by "table/chain".
  const filterByChain = new Map<string, string[]>(FILTER_CHAINS.map((c) => [c, []]));
  for (const l of [...filterServiceRules, ...forward]) filterByChain.get(ruleChain(l))?.push(l);
  const shared = new Map<string, string>();
  for (const [c, ls] of filterByChain) shared.set(`filter/${c}`, ls.join('\n'));
  shared.set(`filter/${KUBE_FIREWALL}`, localnet.join('\n'));
  const lines = (ls: readonly string[]): string => (ls.length ? `${ls.join('\n')}\n` : '');
  // The big shared chains are put together again only when a chunk's part of them changed.
  const lastShared = delta.last?.shared;
  const lastServices = delta.natServicesChanged ? undefined : lastShared?.get(`nat/${KUBE_SERVICES}`);
  const lastNodePorts = delta.natNodePortsChanged ? undefined : lastShared?.get(`nat/${KUBE_NODEPORTS}`);
  shared.set(`nat/${KUBE_SERVICES}`, lastServices ?? joined([lines(dns), ...natServicesBlocks, lines(nodePortJumps)]));
  shared.set(`nat/${KUBE_NODEPORTS}`, lastNodePorts ?? joined(natNodePortsBlocks));
  shared.set(`nat/${KUBE_POSTROUTING}`, postrouting.join('\n'));
  shared.set(`nat/${KUBE_MARK_MASQ}`, markMasq.join('\n'));

  // A partial sync leaves out the shared chains that are what they were after the last sync: restoring them again
  // would flush and re-add thousands of KUBE-SERVICES rules for a change that did not touch them.
  const prev = changed !== undefined ? input.previousShared : undefined;
  const written = (table: string, chain: string): boolean => {
    const key = `${table}/${chain}`;
    return prev === undefined || prev.get(key) !== shared.get(key);
  };

  const checkLines = (table: 'filter' | 'nat'): string => lines(JUMP_RULES.filter((j) => j.table === table).map((j) => `-C ${jumpRuleText(j)}`));
  const checks = (table: 'filter' | 'nat'): string => (input.checkJumps === 'inline' ? checkLines(table) : '');

  const out: string[] = [];
  const filterChainsOut = FILTER_CHAINS.filter((c) => written('filter', c));
  // As upstream, the chain is declared only with its rule: with localhost NodePorts off it stays as it is (empty).
  const firewallOut = localnet.length > 0 && written('filter', KUBE_FIREWALL);
  const filterOut = filterChainsOut.length > 0 || firewallOut;
  if (input.checkJumps === 'separate') {
    if (filterOut) out.push('*filter\n', checkLines('filter'), 'COMMIT\n');
    out.push('*nat\n', checkLines('nat'), 'COMMIT\n');
  }
  if (filterOut) {
    out.push('*filter\n', ...filterChainsOut.map((c) => `${chainLine(c)}\n`));
    if (firewallOut) out.push(`${chainLine(KUBE_FIREWALL)}\n`);
    out.push(checks('filter'));
    const writtenSet = new Set<string>(filterChainsOut);
    for (const l of filterServiceRules) if (writtenSet.has(ruleChain(l))) out.push(`${l}\n`);
    if (writtenSet.has(KUBE_FORWARD)) out.push(lines(forward));
    if (firewallOut) out.push(lines(localnet));
    out.push('COMMIT\n');
  }
  out.push('*nat\n');
  const services = written('nat', KUBE_SERVICES);
  const nodePorts = written('nat', KUBE_NODEPORTS);
  for (const c of NAT_CHAINS) if (written('nat', c)) out.push(`${chainLine(c)}\n`);
  chunks.forEach((chunk, i) => {
    if (!skipped[i]) out.push(chunk.declText);
  });
  for (const c of deleted) out.push(`${chainLine(c)}\n`);
  out.push(checks('nat'));
  if (written('nat', KUBE_POSTROUTING)) out.push(lines(postrouting));
  if (written('nat', KUBE_MARK_MASQ)) out.push(lines(markMasq));
  if (services) out.push(lines(dns));
  chunks.forEach((chunk, i) => {
    if (services && nodePorts && !skipped[i]) {
      out.push(chunk.natText);
      return;
    }
    if (services) out.push(chunk.natServicesText);
    if (nodePorts) out.push(chunk.natNodePortsText);
    if (!skipped[i]) out.push(chunk.ownText);
  });
  for (const c of deleted) out.push(`-X ${c}\n`);
  if (services) out.push(lines(nodePortJumps));
  out.push('COMMIT\n');

  cache.finish({ active, shared });
  const globalNatRules = postrouting.length + markMasq.length + dns.length + nodePortJumps.length;
  const natRules = globalNatRules + natSharedRules + ownRulesWritten;
  return {
    text: out.join(''),
    shared,
    activeNatChains: active,
    deletedNatChains: deleted,
    filterRules: filterServiceRules.length + forward.length + localnet.length,
    natRules,
    natRulesTotal: natRules + ownRulesSkipped,
    writtenNatChains,
    renderedServicePorts: cache.rendered,
  };
}

/**
 * The line of a restore text that iptables-restore reports as failed ("line N failed", as both the legacy and the
 * nft backends print it, or "Error occurred at line: N"), or undefined when stderr names none. A line starting with "-C " is a jump check that
 * found its jump missing.
 */
export function failedRestoreLine(stderr: string, text: string): string | undefined {
  // "Error occurred at line: N" is how a line that does not parse is reported (a check naming a deleted chain).
  const m = /line (\d+) failed|Error occurred at line: (\d+)/.exec(stderr);
  if (!m) return undefined;
  const n = Number(m[1] ?? m[2]);
  let at = 0;
  for (let i = 1; i < n; i++) {
    at = text.indexOf('\n', at) + 1;
    if (at === 0) return undefined;
  }
  const end = text.indexOf('\n', at);
  return text.slice(at, end < 0 ? undefined : end);
}

/**
 * The jump check an iptables-restore failure points at, or undefined when it points elsewhere: a "-C" line, or the
 * COMMIT of a section holding only checks (iptables-nft finds a rule missing when it commits the section).
 */
export function failedJumpCheck(stderr: string, text: string): string | undefined {
  const line = failedRestoreLine(stderr, text);
  if (line === undefined) return undefined;
  if (line.startsWith('-C ')) return line;
  if (line !== 'COMMIT') return undefined;
  const n = Number(/line (\d+) failed|Error occurred at line: (\d+)/.exec(stderr)?.slice(1).find(Boolean));
  const before = text.split('\n', n - 1);
  const start = before.map((l) => l.startsWith('*')).lastIndexOf(true);
  const section = before.slice(start + 1);
  return start >= 0 && section.length > 0 && section.every((l) => l.startsWith('-C ')) ? section.join('; ') : undefined;
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
  const filterOurs = CLEANUP_FILTER_CHAINS.filter((c) => filter.has(c));
  if (filterOurs.length) out.push('*filter', ...filterOurs.map(chainLine), ...filterOurs.map((c) => `-X ${c}`), 'COMMIT');
  if (natOurs.length) out.push('*nat', ...natOurs.map(chainLine), ...natOurs.map((c) => `-X ${c}`), 'COMMIT');
  return out.length ? `${out.join('\n')}\n` : '';
}
