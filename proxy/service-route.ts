import type { Logger } from '../lib/log.js';
import { CommandError, mustRun, type CommandRunner } from './exec.js';

/** The link the Service range and the pods' range are routed to: a bridge with no ports, so nothing sent to it leaves the node. */
export const SERVICE_ROUTE_DEVICE = 'skiff-svc0';
export const DEFAULT_SERVICE_CLUSTER_IP_RANGE = '10.96.0.0/12';
/** The metric of the pods' range on the link: above the 0 of the routes the kernel makes for a bridge's own prefix. */
export const POD_RANGE_METRIC = 1024;

/**
 * Routes the Service range, and the pods' range (--cluster-cidr) when given, to SERVICE_ROUTE_DEVICE.
 *
 * A ClusterIP is only an iptables rule: until the proxy has programmed it (a Service just made, a proxy not yet synced
 * or stopped), its packets would otherwise follow the default route off the machine, and whatever answers there is
 * taken for the Service. Routed to a link with no ports they end in "No route to host" instead, while DNAT in OUTPUT
 * and PREROUTING still sends served ones to their pods. (Upstream's ipvs mode routes ClusterIPs to its dummy
 * kube-ipvs0 likewise; a bridge serves because kernels without the dummy module are common in VMs.)
 *
 * The pods' range likewise: this node's own pods are on the agent's bridge, whose more specific route wins, but an
 * address of the range no pod here holds (a pod gone, another node's pod) would otherwise leave through the default
 * route too. Other nodes' pod ranges are not routed to their nodes (no pod network spans nodes yet): their packets end
 * here as well. The pods' range goes with a metric of its own (POD_RANGE_METRIC), so that when a node's bridge holds
 * the very same prefix (a cluster CIDR no wider than one node's range) the kernel's route of the bridge is neither
 * replaced nor outranked. Idempotent; routes on the link for other ranges are removed.
 */
export interface LinkRanges {
  /** The API server's --service-cluster-ip-range. */
  serviceRange: string;
  /** The pods' range (--cluster-cidr), when known. */
  podRange?: string | undefined;
}

export async function ensureLinkRoutes(run: CommandRunner, ranges: LinkRanges, log?: Logger): Promise<void> {
  const { serviceRange, podRange } = ranges;
  const link = await run('ip', ['-o', 'link', 'show', 'dev', SERVICE_ROUTE_DEVICE]);
  if (link.exitCode !== 0) {
    const args = ['link', 'add', SERVICE_ROUTE_DEVICE, 'type', 'bridge'];
    const added = await run('ip', args);
    if (added.exitCode !== 0 && !/exists/i.test(added.stderr)) throw new CommandError('ip', args, added);
    log?.info({ device: SERVICE_ROUTE_DEVICE, ranges }, 'routing the Service and pod ranges to a link of their own, so that no packet for them leaves the node');
  }
  await mustRun(run, 'ip', ['link', 'set', SERVICE_ROUTE_DEVICE, 'up']);
  await mustRun(run, 'ip', ['-4', 'route', 'replace', serviceRange, 'dev', SERVICE_ROUTE_DEVICE]);
  if (podRange !== undefined) await mustRun(run, 'ip', ['-4', 'route', 'replace', podRange, 'dev', SERVICE_ROUTE_DEVICE, 'metric', String(POD_RANGE_METRIC)]);
  const routes = await mustRun(run, 'ip', ['-4', '-o', 'route', 'show', 'dev', SERVICE_ROUTE_DEVICE]);
  for (const stale of staleRoutes(routes.stdout, podRange !== undefined ? [serviceRange, podRange] : [serviceRange])) await mustRun(run, 'ip', ['-4', 'route', 'del', stale, 'dev', SERVICE_ROUTE_DEVICE]);
}

/**
 * ensureLinkRoutes again every `periodMs` (the proxy's full resync period), so that a link or route someone removed
 * comes back, as upstream's ipvs proxier ensures its dummy link on each sync. Returns the function that stops it.
 */
export function keepLinkRoutes(run: CommandRunner, ranges: LinkRanges, periodMs: number, log: Logger): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    ensureLinkRoutes(run, ranges, log)
      .catch((err: unknown) => log.warn({ err: err instanceof Error ? err.message : String(err), ranges }, 'cannot route the Service and pod ranges to their link; retrying at the next resync'))
      .finally(() => (running = false));
  }, periodMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** Removes the link and with it its routes (`skiff proxy --cleanup`); a missing link is not an error. */
export async function removeRouteLink(run: CommandRunner): Promise<void> {
  const args = ['link', 'del', SERVICE_ROUTE_DEVICE];
  const r = await run('ip', args);
  if (r.exitCode !== 0 && !/cannot find device|does not exist/i.test(r.stderr)) throw new CommandError('ip', args, r);
}

/** The destinations in `ip -o route show dev X` output other than `ranges` (the kernel writes a /32 without its mask). */
export function staleRoutes(output: string, ranges: readonly string[]): string[] {
  const wanted = new Set(ranges.map(normalize));
  return output
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter((dst) => dst !== '' && !wanted.has(normalize(dst)));
}

function normalize(dst: string): string {
  return dst.includes('/') ? dst : `${dst}/32`;
}
