import type { JumpRule } from '../iptables/rules.js';

/**
 * The userspace mode's iptables rules (upstream's KUBE-PORTALS-* and KUBE-NODEPORT-* chains): traffic for a
 * service's ClusterIP:port (and NodePort) is redirected to the proxy's own listener for that service port.
 */

export const PORTALS_CONTAINER = 'KUBE-PORTALS-CONTAINER';
export const PORTALS_HOST = 'KUBE-PORTALS-HOST';
export const NODEPORT_CONTAINER = 'KUBE-NODEPORT-CONTAINER';
export const NODEPORT_HOST = 'KUBE-NODEPORT-HOST';
export const USERSPACE_NAT_CHAINS = [PORTALS_CONTAINER, PORTALS_HOST, NODEPORT_CONTAINER, NODEPORT_HOST] as const;

const LOCAL = ['-m', 'addrtype', '--dst-type', 'LOCAL'];
export const USERSPACE_JUMP_RULES: readonly JumpRule[] = [
  { table: 'nat', from: 'PREROUTING', to: PORTALS_CONTAINER, comment: 'handle ClusterIPs; NOTE: this must be before the NodePort rules', extra: [] },
  { table: 'nat', from: 'OUTPUT', to: PORTALS_HOST, comment: 'handle ClusterIPs; NOTE: this must be before the NodePort rules', extra: [] },
  { table: 'nat', from: 'PREROUTING', to: NODEPORT_CONTAINER, comment: 'handle service NodePorts; NOTE: this must be the last rule in the chain', extra: LOCAL },
  { table: 'nat', from: 'OUTPUT', to: NODEPORT_HOST, comment: 'handle service NodePorts; NOTE: this must be the last rule in the chain', extra: LOCAL },
];

/** One service port and where its listener is. */
export interface Portal {
  name: string;
  protocol: 'TCP' | 'UDP' | 'SCTP';
  clusterIP: string;
  port: number;
  nodePort: number;
  externalIPs: string[];
  /** The port the proxy listens on for this service port. */
  proxyPort: number;
  /**
   * Where the node's own traffic goes instead (the OUTPUT chains), when the listener has a socket on 127.0.0.1 for it
   * (UDP on every address, see socket.ts listenUDP).
   */
  loopbackPort?: number;
}

/** The proxy's cluster DNS server, whose Service IP's port 53 is sent to it (as iptables mode does in KUBE-SERVICES). */
export interface ClusterDnsPortal {
  serviceIP: string;
  /** Where the DNS server listens: 0.0.0.0 (REDIRECT to `port`) or one address (DNAT to address:port). */
  address: string;
  port: number;
  /**
   * On 0.0.0.0, the port of the server's UDP socket on 127.0.0.1, where the node's own UDP queries go (the OUTPUT
   * chain), for the reply to leave from 127.0.0.1 (see socket.ts listenUDP).
   */
  loopbackPort?: number;
}

/**
 * iptables-restore text (for --noflush) of every portal. With the listener on all addresses REDIRECT is enough;
 * with a specific listen address, traffic is DNATed to it. The cluster DNS comes first, before any Service (such as
 * kube-dns) with the same IP and port.
 */
export function renderUserspaceRules(portals: Portal[], listenIP = '0.0.0.0', clusterDNS?: ClusterDnsPortal): string {
  const lines = ['*nat', ...USERSPACE_NAT_CHAINS.map((c) => `:${c} - [0:0]`)];
  const redirect = (address: string, port: number): string => (address === '0.0.0.0' ? `-j REDIRECT --to-ports ${port}` : `-j DNAT --to-destination ${address}:${port}`);
  const target = (port: number): string => redirect(listenIP, port);
  if (clusterDNS) {
    for (const proto of ['udp', 'tcp']) {
      for (const chain of [PORTALS_CONTAINER, PORTALS_HOST]) {
        const port = chain === PORTALS_HOST && proto === 'udp' && clusterDNS.address === '0.0.0.0' ? (clusterDNS.loopbackPort ?? clusterDNS.port) : clusterDNS.port;
        lines.push(`-A ${chain} -m comment --comment "skiff cluster DNS" -p ${proto} -m ${proto} -d ${clusterDNS.serviceIP}/32 --dport 53 ${redirect(clusterDNS.address, port)}`);
      }
    }
  }
  const sorted = [...portals].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.protocol.localeCompare(b.protocol)));
  for (const p of sorted) {
    const proto = p.protocol.toLowerCase();
    const c = `-m comment --comment ${/\s/.test(p.name) ? `"${p.name}"` : p.name}`;
    // REDIRECT in OUTPUT sends to 127.0.0.1: to the listener's loopback socket when it has one.
    const hostPort = listenIP === '0.0.0.0' ? (p.loopbackPort ?? p.proxyPort) : p.proxyPort;
    for (const ip of [p.clusterIP, ...p.externalIPs]) {
      lines.push(`-A ${PORTALS_CONTAINER} ${c} -p ${proto} -m ${proto} -d ${ip}/32 --dport ${p.port} ${target(p.proxyPort)}`);
      lines.push(`-A ${PORTALS_HOST} ${c} -p ${proto} -m ${proto} -d ${ip}/32 --dport ${p.port} ${target(hostPort)}`);
    }
    if (p.nodePort) {
      lines.push(`-A ${NODEPORT_CONTAINER} ${c} -p ${proto} -m ${proto} --dport ${p.nodePort} ${target(p.proxyPort)}`);
      lines.push(`-A ${NODEPORT_HOST} ${c} -p ${proto} -m ${proto} --dport ${p.nodePort} ${target(hostPort)}`);
    }
  }
  lines.push('COMMIT', '');
  return lines.join('\n');
}
