import type Dockerode from 'dockerode';
import type { Logger } from '../../lib/log.js';

export const LABEL_MANAGED = 'io.skiff.managed';
export const LABEL_POD_CIDR = 'io.skiff.pod-cidr';
/** The node whose agent created the network (the same label Skiff puts on pod containers). */
export const LABEL_NETWORK_NODE = 'io.skiff.node';

/** The docker network that holds one pod CIDR; named after the range so agents with different ranges can share a dockerd. */
export function podNetworkName(podCidr: string): string {
  return `skiff-${podCidr.replace(/[./:]/g, '-')}`;
}

/** The first usable address of an IPv4 CIDR: the bridge's own address, as a gateway. */
export function gatewayOf(podCidr: string): string {
  const [addr] = podCidr.split('/');
  const parts = (addr ?? '').split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new Error(`invalid pod CIDR "${podCidr}": expected an IPv4 CIDR such as 10.88.0.0/16`);
  }
  parts[3] = (parts[3] ?? 0) + 1;
  return parts.join('.');
}

/**
 * Makes sure the pod network exists: a Linux bridge Skiff creates (not docker0), so pod IPs come from --pod-cidr and
 * the kernel routes the whole range to that bridge, never to the default route.
 */
export async function ensurePodNetwork(docker: Dockerode, podCidr: string, logger: Logger, nodeName?: string): Promise<string> {
  const name = podNetworkName(podCidr);
  try {
    const info = (await docker.getNetwork(name).inspect()) as { Id: string };
    return info.Id;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode !== 404) throw err;
  }
  logger.info({ network: name, podCidr }, 'creating pod network');
  try {
    const net = await docker.createNetwork({
      Name: name,
      Driver: 'bridge',
      CheckDuplicate: true,
      IPAM: { Driver: 'default', Config: [{ Subnet: podCidr, Gateway: gatewayOf(podCidr) }] },
      Labels: { [LABEL_MANAGED]: 'true', [LABEL_POD_CIDR]: podCidr, ...(nodeName ? { [LABEL_NETWORK_NODE]: nodeName } : {}) },
    });
    return net.id;
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    // A concurrent agent may have created it between our inspect and create.
    if (/already exists/.test(msg)) return ((await docker.getNetwork(name).inspect()) as { Id: string }).Id;
    throw new Error(`cannot create pod network ${name} for --pod-cidr ${podCidr}: ${msg}`);
  }
}

export async function removePodNetwork(docker: Dockerode, podCidr: string): Promise<void> {
  try {
    await docker.getNetwork(podNetworkName(podCidr)).remove();
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode !== 404) throw err;
  }
}

/**
 * Removes every pod network an agent of `nodeName` created (found by label: its range, from the Node's spec.podCIDR,
 * is not known to whoever cleans up), and the one named after `legacyPodCidr` (networks made before the label).
 * Returns the names removed.
 */
export async function removeNodePodNetworks(docker: Dockerode, nodeName: string, legacyPodCidr?: string): Promise<string[]> {
  const nets = (await docker.listNetworks({ filters: { label: [`${LABEL_MANAGED}=true`, `${LABEL_NETWORK_NODE}=${nodeName}`] } })) as Array<{ Name: string }>;
  const names = new Set(nets.map((n) => n.Name));
  if (legacyPodCidr) names.add(podNetworkName(legacyPodCidr));
  const removed: string[] = [];
  for (const name of names) {
    try {
      await docker.getNetwork(name).remove();
      removed.push(name);
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode !== 404) throw err;
    }
  }
  return removed;
}
