import { hostname, networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import { isIPv4 } from 'node:net';
import { parseArgs } from 'node:util';
import { flagHelpLines } from '../lib/command-flags.js';
import { parseDuration } from '../lib/duration.js';
import { parseGoBool } from '../lib/go-bool.js';
import { DEFAULT_SERVICE_CLUSTER_IP_RANGE, SERVICE_ROUTE_DEVICE } from './service-route.js';

/** `skiff proxy` settings, with kube-proxy's flag names. */
export interface ProxyConfig {
  kubeconfig?: string;
  master?: string;
  proxyMode: 'iptables' | 'userspace';
  minSyncPeriodMs: number;
  syncPeriodMs: number;
  cleanup: boolean;
  /** CIDRs whose addresses on this node accept NodePorts; empty: all local addresses. */
  nodePortAddresses: string[];
  clusterCIDR?: string;
  /** The Service range (the API server's --service-cluster-ip-range), routed to a link of Skiff's own on this node. */
  serviceClusterIPRange: string;
  /** host:port of /metrics and /healthz; port 0 disables. */
  metricsBindAddress: string;
  hostnameOverride?: string;
  masqueradeAll: boolean;
  masqueradeBit: number;
  /** iptables mode: NodePorts also answer on 127.0.0.0/8 (--iptables-localhost-nodeports, upstream default true). */
  localhostNodePorts: boolean;
  /** Userspace mode: where listeners bind. */
  bindAddress: string;
  udpTimeoutMs: number;
  /** Where endpoints come from: EndpointSlices (default, as upstream) or v1 Endpoints. */
  endpointsSource: 'endpointslices' | 'endpoints';
  /** The cluster DNS; undefined when --cluster-dns is not given (no DNS server). */
  dns?: DnsConfig;
  help: boolean;
}

export interface DnsConfig {
  /** The DNS Service IP pods are told to use (kubelet's --cluster-dns); its port 53 is redirected to the server. */
  clusterDNS: string;
  clusterDomain: string;
  bindAddress: string;
  port: number;
  /** The node's resolver configuration, whose nameservers answer names outside the cluster domain. */
  resolvConf: string;
  upstreamTimeoutMs: number;
}

export class ProxyConfigError extends Error {}

const FLAGS = [
  ['kubeconfig', 'string', 'Path to a kubeconfig file with the API server and credentials'],
  ['master', 'string', 'API server address, overriding the kubeconfig (e.g. http://127.0.0.1:6443)'],
  ['proxy-mode', 'string', 'Which proxy to use: iptables (default) or userspace'],
  ['min-sync-period', 'string', 'Minimum interval between rule syncs when Services or Endpoints change (default 1s)'],
  ['iptables-sync-period', 'string', 'Maximum interval between full rule resyncs (default 30s)'],
  ['cleanup', 'boolean', 'Remove every iptables rule and chain the proxy made, and its link for the Service and pod ranges, then exit'],
  ['nodeport-addresses', 'string', 'Comma-separated CIDRs of the node addresses that accept NodePorts (default: all local addresses)'],
  ['cluster-cidr', 'string', `The pods' range: ClusterIP traffic from outside it is masqueraded, and it is routed to the link ${SERVICE_ROUTE_DEVICE} (this node's own pods keep their bridge's narrower route) so that no packet for a pod leaves the node`],
  ['service-cluster-ip-range', 'string', `The API server's Service range; routed to the link ${SERVICE_ROUTE_DEVICE} so that no packet for an unserved ClusterIP leaves the node (default ${DEFAULT_SERVICE_CLUSTER_IP_RANGE})`],
  ['metrics-bind-address', 'string', 'host:port of the /metrics and /healthz endpoint (default 127.0.0.1:10249; port 0 disables)'],
  ['hostname-override', 'string', 'Node name to use instead of the hostname (for Local traffic policy)'],
  ['masquerade-all', 'boolean', 'SNAT all traffic sent to a ClusterIP'],
  ['iptables-masquerade-bit', 'string', 'Bit of the fwmark that marks packets to SNAT, 0-31 (default 14)'],
  ['iptables-localhost-nodeports', 'string', 'iptables mode: NodePorts also answer on 127.0.0.1 (sets net.ipv4.conf.all.route_localnet=1); true (default) or false'],
  ['bind-address', 'string', 'userspace mode: the address the service listeners bind to (default 0.0.0.0)'],
  ['udp-timeout', 'string', 'userspace mode: how long an idle UDP flow is kept (default 250ms)'],
  ['endpoints-source', 'string', 'Where endpoints come from: endpointslices (default) or endpoints (v1 Endpoints)'],
  ['cluster-dns', 'string', 'Serve cluster DNS for this Service IP (the kubelet\'s --cluster-dns, e.g. 10.96.0.10); its port 53 is redirected to the server'],
  ['cluster-domain', 'string', 'The cluster\'s DNS domain (default cluster.local)'],
  ['dns-bind-address', 'string', 'Address the DNS server listens on (default 0.0.0.0)'],
  ['dns-port', 'string', 'Port the DNS server listens on, UDP and TCP (default 10053)'],
  ['resolv-conf', 'string', 'Resolver configuration whose nameservers answer names outside the cluster domain (default /etc/resolv.conf)'],
  ['dns-upstream-timeout', 'string', 'How long forwarded DNS queries may take before SERVFAIL (default 2s)'],
  ['help', 'boolean', 'Show this help'],
] as const;

export function proxyHelp(): string {
  return ['Usage: skiff proxy [flags]', '', 'Programs Service ClusterIPs and NodePorts on this node, like kube-proxy.', '', 'Flags:', ...flagHelpLines(FLAGS.map(([n, , h]) => [`--${n}`, h] as const))].join('\n');
}

function duration(flag: string, v: string | undefined, def: number): number {
  if (v === undefined) return def;
  const ms = parseDuration(v);
  if (ms === undefined) throw new ProxyConfigError(`--${flag}: invalid duration "${v}" (expected e.g. "1s", "500ms", "1m")`);
  return ms;
}

/** Flags that are booleans upstream but default to true here, so they take a value: --flag, --flag=true, --flag=false. */
const BOOL_VALUE_FLAGS = ['--iptables-localhost-nodeports'];

function boolFlag(flag: string, v: string | undefined, def: boolean): boolean {
  if (v === undefined) return def;
  const b = parseGoBool(v);
  if (b === undefined) throw new ProxyConfigError(`--${flag}: invalid boolean "${v}" (expected true or false)`);
  return b;
}

const CIDR = /^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$/;

export function parseProxyFlags(argv: string[]): ProxyConfig {
  const options = Object.fromEntries(FLAGS.map(([n, t]) => [n, { type: t }])) as Record<string, { type: 'string' | 'boolean' }>;
  let values: Record<string, string | boolean | undefined>;
  // A Go bool flag: given bare it means true, and it also takes =true/=false.
  const args = argv.map((a) => (BOOL_VALUE_FLAGS.includes(a) ? `${a}=true` : a));
  try {
    values = parseArgs({ args, options, allowPositionals: false, strict: true }).values as Record<string, string | boolean | undefined>;
  } catch (err) {
    throw new ProxyConfigError(`${err instanceof Error ? err.message : String(err)}\nRun "skiff proxy --help" for the flags.`);
  }
  const str = (k: string): string | undefined => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  const mode = str('proxy-mode') ?? 'iptables';
  if (mode !== 'iptables' && mode !== 'userspace') throw new ProxyConfigError(`--proxy-mode: "${mode}" is not supported (expected iptables or userspace)`);
  const nodePortAddresses = (str('nodeport-addresses') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const c of nodePortAddresses) if (!CIDR.test(c)) throw new ProxyConfigError(`--nodeport-addresses: "${c}" is not an IPv4 CIDR`);
  const clusterCIDR = str('cluster-cidr');
  if (clusterCIDR !== undefined && !CIDR.test(clusterCIDR)) throw new ProxyConfigError(`--cluster-cidr: "${clusterCIDR}" is not an IPv4 CIDR`);
  const serviceClusterIPRange = str('service-cluster-ip-range') ?? DEFAULT_SERVICE_CLUSTER_IP_RANGE;
  if (!isNetworkCIDR(serviceClusterIPRange)) throw new ProxyConfigError(`--service-cluster-ip-range: "${serviceClusterIPRange}" is not an IPv4 network CIDR (e.g. ${DEFAULT_SERVICE_CLUSTER_IP_RANGE})`);
  const bit = Number(str('iptables-masquerade-bit') ?? '14');
  if (!Number.isInteger(bit) || bit < 0 || bit > 31) throw new ProxyConfigError(`--iptables-masquerade-bit: must be an integer 0-31`);
  const localhostNodePorts = boolFlag('iptables-localhost-nodeports', str('iptables-localhost-nodeports'), true);
  const metricsBindAddress = str('metrics-bind-address') ?? '127.0.0.1:10249';
  if (!/^[^:]*:\d+$/.test(metricsBindAddress)) throw new ProxyConfigError(`--metrics-bind-address: expected host:port, got "${metricsBindAddress}"`);
  const endpointsSource = str('endpoints-source') ?? 'endpointslices';
  if (endpointsSource !== 'endpointslices' && endpointsSource !== 'endpoints') throw new ProxyConfigError(`--endpoints-source: "${endpointsSource}" is not supported (expected endpointslices or endpoints)`);
  const cfg: ProxyConfig = {
    endpointsSource,
    proxyMode: mode,
    minSyncPeriodMs: duration('min-sync-period', str('min-sync-period'), 1000),
    syncPeriodMs: duration('iptables-sync-period', str('iptables-sync-period'), 30_000),
    cleanup: values.cleanup === true,
    nodePortAddresses,
    serviceClusterIPRange,
    metricsBindAddress,
    masqueradeAll: values['masquerade-all'] === true,
    masqueradeBit: bit,
    localhostNodePorts,
    bindAddress: str('bind-address') ?? '0.0.0.0',
    udpTimeoutMs: duration('udp-timeout', str('udp-timeout'), 250),
    help: values.help === true,
  };
  if (cfg.syncPeriodMs <= 0) throw new ProxyConfigError('--iptables-sync-period: must be greater than 0');
  if (cfg.minSyncPeriodMs > cfg.syncPeriodMs) throw new ProxyConfigError('--min-sync-period: must not exceed --iptables-sync-period');
  const kubeconfig = str('kubeconfig') ?? process.env.KUBECONFIG;
  if (kubeconfig) cfg.kubeconfig = kubeconfig;
  const master = str('master');
  if (master) cfg.master = master;
  if (clusterCIDR) cfg.clusterCIDR = clusterCIDR;
  const ho = str('hostname-override');
  if (ho) cfg.hostnameOverride = ho;
  const clusterDNS = str('cluster-dns');
  if (clusterDNS !== undefined) {
    if (!isIPv4(clusterDNS)) throw new ProxyConfigError(`--cluster-dns: "${clusterDNS}" is not an IPv4 address`);
    const domain = (str('cluster-domain') ?? 'cluster.local').replace(/\.$/, '').toLowerCase();
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(domain)) throw new ProxyConfigError(`--cluster-domain: "${domain}" is not a DNS domain`);
    const bind = str('dns-bind-address') ?? '0.0.0.0';
    if (!isIPv4(bind)) throw new ProxyConfigError(`--dns-bind-address: "${bind}" is not an IPv4 address`);
    const port = Number(str('dns-port') ?? '10053');
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new ProxyConfigError('--dns-port: must be a port number 1-65535');
    cfg.dns = {
      clusterDNS,
      clusterDomain: domain,
      bindAddress: bind,
      port,
      resolvConf: str('resolv-conf') ?? '/etc/resolv.conf',
      upstreamTimeoutMs: duration('dns-upstream-timeout', str('dns-upstream-timeout'), 2000),
    };
  }
  return cfg;
}

export function nodeName(cfg: ProxyConfig): string {
  return (cfg.hostnameOverride ?? hostname()).toLowerCase();
}

/** upstream's masquerade mark for a bit: 1 << bit, as hex. */
export function masqueradeMark(bit: number): string {
  return `0x${(2 ** bit).toString(16)}`;
}

function ipToInt(ip: string): number {
  return ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);
}

/** An IPv4 CIDR whose address is its network's (no host bits set), as `ip route` wants it. */
function isNetworkCIDR(cidr: string): boolean {
  if (!CIDR.test(cidr)) return false;
  const [base = '', bitsText] = cidr.split('/');
  const bits = Number(bitsText);
  if (!isIPv4(base) || bits > 32) return false;
  return ipToInt(base) % 2 ** (32 - bits) === 0;
}

export function cidrContains(cidr: string, ip: string): boolean {
  const [base, bitsText] = cidr.split('/');
  const bits = Number(bitsText);
  if (bits === 0) return true;
  const size = 2 ** (32 - bits);
  return Math.floor(ipToInt(ip) / size) === Math.floor(ipToInt(base ?? '') / size);
}

/** The node's IPv4 addresses inside the --nodeport-addresses CIDRs; undefined means all local addresses. */
export function nodePortIPs(cidrs: string[], ifaces: NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces()): string[] | undefined {
  if (cidrs.length === 0 || cidrs.includes('0.0.0.0/0')) return undefined;
  const ips = Object.values(ifaces)
    .flatMap((l) => l ?? [])
    .filter((a) => a.family === 'IPv4')
    .map((a) => a.address);
  return [...new Set(ips.filter((ip) => cidrs.some((c) => cidrContains(c, ip))))].sort();
}

/** The node's first non-internal IPv4 address (upstream's detected node IP). */
export function firstNodeIP(ifaces: NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces()): string | undefined {
  for (const l of Object.values(ifaces)) for (const a of l ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return undefined;
}
