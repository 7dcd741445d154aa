import type { Logger } from '../../lib/log.js';
import { mustRun, type CommandRunner } from '../exec.js';

/** The sysctl that lets the kernel route packets to 127.0.0.0/8 arriving on other interfaces (upstream sysctlRouteLocalnet). */
export const ROUTE_LOCALNET = 'net.ipv4.conf.all.route_localnet';

/**
 * Sets route_localnet=1 unless it is already (upstream's EnsureSysctl), through the proxy's command runner so that it
 * lands in the network namespace the proxy programs. Returns whether it had to be changed.
 */
export async function ensureRouteLocalnet(run: CommandRunner, log: Logger): Promise<boolean> {
  const current = (await mustRun(run, 'sysctl', ['-n', ROUTE_LOCALNET])).stdout.trim();
  if (current === '1') return false;
  // Upstream's words, so that an operator finds the same advice.
  log.info(
    { sysctl: ROUTE_LOCALNET, from: current, to: '1' },
    'Setting route_localnet=1 to allow node-ports on localhost; to change this either disable iptables.localhostNodePorts (--iptables-localhost-nodeports) or set nodePortAddresses (--nodeport-addresses) to filter loopback addresses',
  );
  await mustRun(run, 'sysctl', ['-q', '-w', `${ROUTE_LOCALNET}=1`]);
  return true;
}
