// Host kernel settings that the daemons `skiff up` starts may change (the proxy turns route_localnet on for localhost
// NodePorts, as upstream's kube-proxy does and leaves on). `skiff up` notes their values before it starts them and
// `skiff down` puts them back, so that a machine is left as it was found.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';

/** The sysctls `skiff up` notes: what its proxy may set (proxy/iptables/route-localnet.ts). */
export const HOST_SYSCTLS = ['net.ipv4.conf.all.route_localnet'] as const;

const Recorded = z.record(z.string(), z.string());

/** What an earlier `skiff up` noted; a file that is not what this module writes counts as nothing noted. */
function readRecorded(path: string): Record<string, string> {
  if (!existsSync(path)) return {};
  try {
    const parsed = Recorded.safeParse(JSON.parse(readFileSync(path, 'utf8')));
    return parsed.success ? parsed.data : {};
  } catch {
    return {};
  }
}

export function hostSysctlsPath(dataDir: string): string {
  return join(dataDir, 'run', 'host-sysctls.json');
}

function sysctlFile(procSys: string, name: string): string {
  return join(procSys, ...name.split('.'));
}

/**
 * Notes the current values of `names` unless a value is already noted: after a `skiff up` whose `skiff down` never
 * ran, the current value may be the proxy's own, and the first one noted is what the host had.
 */
export async function recordHostSysctls(dataDir: string, names: readonly string[] = HOST_SYSCTLS, procSys = '/proc/sys'): Promise<void> {
  const path = hostSysctlsPath(dataDir);
  const recorded = readRecorded(path);
  let changed = false;
  for (const name of names) {
    if (recorded[name] !== undefined) continue;
    try {
      recorded[name] = (await readFile(sysctlFile(procSys, name), 'utf8')).trim();
      changed = true;
    } catch {
      // Not on this kernel: nothing to put back.
    }
  }
  if (!changed) return;
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify(recorded, null, 2)}\n`);
}

/** Puts back what `recordHostSysctls` noted; returns one line per setting changed, and forgets the record. */
export async function restoreHostSysctls(dataDir: string, procSys = '/proc/sys'): Promise<string[]> {
  const path = hostSysctlsPath(dataDir);
  if (!existsSync(path)) return [];
  const changes: string[] = [];
  for (const [name, value] of Object.entries(readRecorded(path))) {
    const file = sysctlFile(procSys, name);
    const current = (await readFile(file, 'utf8').catch(() => undefined))?.trim();
    if (current === undefined || current === value) continue;
    await writeFile(file, `${value}\n`);
    changes.push(`${name}: ${current} -> ${value}`);
  }
  await rm(path, { force: true });
  return changes;
}
