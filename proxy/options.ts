import { hostname, networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { parseDuration } from '../lib/duration.js';

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
  /** host:port of /metrics and /healthz; port 0 disables. */
  metricsBindAddress: string;
  hostnameOverride?: string;
  masqueradeAll: boolean;
  masqueradeBit: number;
  /** Userspace mode: where listeners bind. */
  bindAddress: string;
  udpTimeoutMs: number;
  help: boolean;
}

export class ProxyConfigError extends Error {}

const FLAGS = [
  ['kubeconfig', 'string', 'Path to a kubeconfig file with the API server and credentials'],
  ['master', 'string', 'API server address, overriding the kubeconfig (e.g. http://127.0.0.1:6443)'],
  ['proxy-mode', 'string', 'Which proxy to use: iptables (default) or userspace'],
  ['min-sync-period', 'string', 'Minimum interval between rule syncs when Services or Endpoints change (default 1s)'],
  ['iptables-sync-period', 'string', 'Maximum interval between full rule resyncs (default 30s)'],
  ['cleanup', 'boolean', 'Remove every iptables rule and chain the proxy made, then exit'],
  ['nodeport-addresses', 'string', 'Comma-separated CIDRs of the node addresses that accept NodePorts (default: all local addresses)'],
  ['cluster-cidr', 'string', 'The pod CIDR; ClusterIP traffic from outside it is masqueraded'],
  ['metrics-bind-address', 'string', 'host:port of the /metrics and /healthz endpoint (default 127.0.0.1:10249; port 0 disables)'],
  ['hostname-override', 'string', 'Node name to use instead of the hostname (for Local traffic policy)'],
  ['masquerade-all', 'boolean', 'SNAT all traffic sent to a ClusterIP'],
  ['iptables-masquerade-bit', 'string', 'Bit of the fwmark that marks packets to SNAT, 0-31 (default 14)'],
  ['bind-address', 'string', 'userspace mode: the address the service listeners bind to (default 0.0.0.0)'],
  ['udp-timeout', 'string', 'userspace mode: how long an idle UDP flow is kept (default 250ms)'],
  ['help', 'boolean', 'Show this help'],
] as const;

export function proxyHelp(): string {
  return ['Usage: skiff proxy [flags]', '', 'Programs Service ClusterIPs and NodePorts on this node, like kube-proxy.', '', 'Flags:', ...FLAGS.map(([n, , h]) => `  --${n.padEnd(24)} ${h}`)].join('\n');
}

function duration(flag: string, v: string | undefined, def: number): number {
  if (v === undefined) return def;
  const ms = parseDuration(v);
  if (ms === undefined) throw new ProxyConfigError(`--${flag}: invalid duration "${v}" (expected e.g. "1s", "500ms", "1m")`);
  return ms;
}

const CIDR = /^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$/;

export function parseProxyFlags(argv: string[]): ProxyConfig {
  const options = Object.fromEntries(FLAGS.map(([n, t]) => [n, { type: t }])) as Record<string, { type: 'string' | 'boolean' }>;
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: argv, options, allowPositionals: false, strict: true }).values as Record<string, string | boolean | undefined>;
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
  const bit = Number(str('iptables-masquerade-bit') ?? '14');
  if (!Number.isInteger(bit) || bit < 0 || bit > 31) throw new ProxyConfigError(`--iptables-masquerade-bit: must be an integer 0-31`);
  const metricsBindAddress = str('metrics-bind-address') ?? '127.0.0.1:10249';
  if (!/^[^:]*:\d+$/.test(metricsBindAddress)) throw new ProxyConfigError(`--metrics-bind-address: expected host:port, got "${metricsBindAddress}"`);
  const cfg: ProxyConfig = {
    proxyMode: mode,
    minSyncPeriodMs: duration('min-sync-period', str('min-sync-period'), 1000),
    syncPeriodMs: duration('iptables-sync-period', str('iptables-sync-period'), 30_000),
    cleanup: values.cleanup === true,
    nodePortAddresses,
    metricsBindAddress,
    masqueradeAll: values['masquerade-all'] === true,
    masqueradeBit: bit,
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
