import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Pod } from '../../control/api/index.js';
import { formatResolvConf, parseResolvConf, type ResolvConf } from '../../lib/resolvconf.js';
import { podResolvConf, type KubeletDns } from './dns.js';
import { podDir } from './volumes.js';

/** The kubelet's DNS settings plus where the node's resolver configuration is (--resolv-conf). */
export interface PodDnsSettings extends KubeletDns {
  resolvConf: string;
}

/** Whether the agent writes the pod's /etc/resolv.conf (otherwise Docker's own stays, as before DNS existed). */
export function managesResolvConf(pod: Pod, dns: PodDnsSettings): boolean {
  return dns.clusterDNS.length > 0 || pod.spec.dnsPolicy === 'None' || pod.spec.dnsConfig !== undefined;
}

async function nodeResolvConf(path: string, hostNetwork: boolean): Promise<ResolvConf> {
  let conf: ResolvConf;
  try {
    conf = parseResolvConf(await readFile(path, 'utf8'));
  } catch {
    conf = { nameservers: [], searches: [], options: [] };
  }
  // A loopback resolver (systemd-resolved's 127.0.0.53) answers only in the node's network namespace, as Docker knows.
  if (!hostNetwork) conf.nameservers = conf.nameservers.filter((n) => !n.startsWith('127.') && n !== '::1');
  return conf;
}

/** Writes <pod dir>/resolv.conf; returns its path and the warnings to report as events. */
export async function writePodResolvConf(rootDir: string, pod: Pod, dns: PodDnsSettings): Promise<{ path: string; warnings: Array<[string, string]> }> {
  const host = await nodeResolvConf(dns.resolvConf, pod.spec.hostNetwork === true);
  const { conf, warnings } = podResolvConf(pod, dns, host);
  const dir = podDir(rootDir, pod.metadata.uid ?? '');
  await mkdir(dir, { recursive: true });
  const path = join(dir, 'resolv.conf');
  await writeFile(path, formatResolvConf(conf), { mode: 0o644 });
  return { path, warnings };
}
