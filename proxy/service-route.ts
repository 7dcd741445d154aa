import type { Logger } from '../lib/log.js';
import { CommandError, mustRun, type CommandRunner } from './exec.js';

/** The link the Service range is routed to: a bridge with no ports, so nothing sent to it leaves the node. */
export const SERVICE_ROUTE_DEVICE = 'skiff-svc0';
export const DEFAULT_SERVICE_CLUSTER_IP_RANGE = '10.96.0.0/12';

/**
 * Routes the Service range to SERVICE_ROUTE_DEVICE. A ClusterIP is only an iptables rule: until the proxy has
 * programmed it (a Service just made, a proxy not yet synced or stopped), its packets would otherwise follow the
 * default route off the machine, and whatever answers there is taken for the Service. Routed to a link with no ports
 * they end in "No route to host" instead, while DNAT in OUTPUT and PREROUTING still sends served ones to their pods.
 * (Upstream's ipvs mode routes ClusterIPs to its dummy kube-ipvs0 likewise; a bridge serves because kernels without
 * the dummy module are common in VMs.) Idempotent; routes on the link for other ranges are removed.
 */
export async function ensureServiceRoute(run: CommandRunner, range: string, log?: Logger): Promise<void> {
  const link = await run('ip', ['-o', 'link', 'show', 'dev', SERVICE_ROUTE_DEVICE]);
  if (link.exitCode !== 0) {
    const args = ['link', 'add', SERVICE_ROUTE_DEVICE, 'type', 'bridge'];
    const added = await run('ip', args);
    if (added.exitCode !== 0 && !/exists/i.test(added.stderr)) throw new CommandError('ip', args, added);
    log?.info({ device: SERVICE_ROUTE_DEVICE, range }, 'routing the Service range to a link of its own, so that no packet for it leaves the node');
  }
  await mustRun(run, 'ip', ['link', 'set', SERVICE_ROUTE_DEVICE, 'up']);
  await mustRun(run, 'ip', ['-4', 'route', 'replace', range, 'dev', SERVICE_ROUTE_DEVICE]);
  const routes = await mustRun(run, 'ip', ['-4', '-o', 'route', 'show', 'dev', SERVICE_ROUTE_DEVICE]);
  for (const stale of staleRoutes(routes.stdout, range)) await mustRun(run, 'ip', ['-4', 'route', 'del', stale, 'dev', SERVICE_ROUTE_DEVICE]);
}

/**
 * ensureServiceRoute now, then again every `periodMs` (the proxy's full resync period), so that a link or route someone
 * removed comes back, as upstream's ipvs proxier ensures its dummy link on each sync. Returns the function that stops it.
 */
export function keepServiceRoute(run: CommandRunner, range: string, periodMs: number, log: Logger): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    ensureServiceRoute(run, range, log)
      .catch((err: unknown) => log.warn({ err: err instanceof Error ? err.message : String(err), range }, 'cannot route the Service range to its link; retrying at the next resync'))
      .finally(() => (running = false));
  }, periodMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** Removes the link and with it its routes (`skiff proxy --cleanup`); a missing link is not an error. */
export async function removeServiceRoute(run: CommandRunner): Promise<void> {
  const args = ['link', 'del', SERVICE_ROUTE_DEVICE];
  const r = await run('ip', args);
  if (r.exitCode !== 0 && !/cannot find device|does not exist/i.test(r.stderr)) throw new CommandError('ip', args, r);
}

/** The destinations in `ip -o route show dev X` output other than `range` (the kernel writes a /32 without its mask). */
export function staleRoutes(output: string, range: string): string[] {
  const wanted = normalize(range);
  return output
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter((dst) => dst !== '' && normalize(dst) !== wanted);
}

function normalize(dst: string): string {
  return dst.includes('/') ? dst : `${dst}/32`;
}
