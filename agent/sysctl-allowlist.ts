// The kubelet's sysctl admission (pkg/kubelet/sysctl): a pod may only ask for the safe sysctls and those the node's
// --allowed-unsafe-sysctls allows, and none of a namespace it shares with the host. A pod asking for more is rejected
// before anything of it starts: phase Failed, reason SysctlForbidden.
import type { Pod } from '../control/api/index.js';
import {
  isValidSysctlPattern,
  normalizeSysctlName,
  SYSCTL_CONTAIN_SLASH_PATTERN_FMT,
  SYSCTL_MAX_LENGTH,
  sysctlNamespace,
  type SysctlNamespace,
} from '../control/api/sysctl-validation.js';

/** The reason of a pod rejected for its sysctls (upstream's ForbiddenReason). */
export const SYSCTL_FORBIDDEN_REASON = 'SysctlForbidden';

/**
 * Upstream's safe sysctls as of Kubernetes 1.32, each with the kernel release that namespaced it when that is newer
 * than the kernels Kubernetes supports: namespaced and isolated, so every pod may set them.
 */
export const SAFE_SYSCTLS: ReadonlyArray<{ name: string; kernel?: string }> = [
  { name: 'kernel.shm_rmid_forced' },
  { name: 'net.ipv4.ip_local_port_range' },
  { name: 'net.ipv4.tcp_syncookies' },
  { name: 'net.ipv4.ping_group_range' }, // 1.18
  { name: 'net.ipv4.ip_unprivileged_port_start' }, // 1.22
  { name: 'net.ipv4.ip_local_reserved_ports', kernel: '3.16' }, // 1.27
  { name: 'net.ipv4.tcp_keepalive_time', kernel: '4.5' }, // 1.29
  { name: 'net.ipv4.tcp_fin_timeout', kernel: '4.6' }, // 1.29
  { name: 'net.ipv4.tcp_keepalive_intvl', kernel: '4.5' }, // 1.29
  { name: 'net.ipv4.tcp_keepalive_probes', kernel: '4.5' }, // 1.29
  { name: 'net.ipv4.tcp_rmem', kernel: '4.15' }, // 1.32
  { name: 'net.ipv4.tcp_wmem', kernel: '4.15' }, // 1.32
];

/** The leading numeric components of a kernel release ("6.1.0-18-amd64" → [6, 1, 0]); undefined when there are none. */
function kernelVersion(release: string | undefined): number[] | undefined {
  const m = /^(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(release ?? '');
  if (!m) return undefined;
  return [m[1], m[2], m[3]].map((x) => Number(x ?? 0));
}

function atLeast(have: number[], want: number[]): boolean {
  for (let i = 0; i < Math.max(have.length, want.length); i++) {
    const a = have[i] ?? 0;
    const b = want[i] ?? 0;
    if (a !== b) return a > b;
  }
  return true;
}

/**
 * Upstream's SafeSysctlAllowlist: the safe sysctls this kernel (its `os.release()`) namespaces. A sysctl that needs a
 * newer kernel is left out, as is any with a kernel requirement when the release cannot be read.
 */
export function safeSysctlAllowlist(kernelRelease: string | undefined): string[] {
  const have = kernelVersion(kernelRelease);
  return SAFE_SYSCTLS.filter((s) => s.kernel === undefined || (have !== undefined && atLeast(have, kernelVersion(s.kernel) ?? []))).map((s) => s.name);
}

/**
 * Why a sysctl pattern cannot be allowed (upstream's NewAllowlist errors), or undefined when it can: it must be a
 * sysctl name or a prefix ending in `*`, and of a namespace the kernel isolates per pod (IPC or network).
 */
export function sysctlPatternError(pattern: string): string | undefined {
  if (!isValidSysctlPattern(pattern))
    return `sysctl ${JSON.stringify(pattern)} must have at most ${SYSCTL_MAX_LENGTH} characters and match regex ${SYSCTL_CONTAIN_SLASH_PATTERN_FMT}`;
  const { namespace, nameOrPrefix } = sysctlNamespace(pattern);
  if (namespace === '') return `the sysctls ${JSON.stringify(nameOrPrefix)} are not known to be namespaced`;
  return undefined;
}

/** Upstream's patternAllowlist: sysctl names and prefixes (from patterns ending in `*`) with their namespaces. */
export class SysctlAllowlist {
  private readonly sysctls = new Map<string, SysctlNamespace>();
  private readonly prefixes = new Map<string, SysctlNamespace>();

  /** Throws on a pattern sysctlPatternError refuses (the agent refuses to start, as the kubelet does). */
  constructor(patterns: readonly string[]) {
    for (const p of patterns) {
      const err = sysctlPatternError(p);
      if (err !== undefined) throw new Error(err);
      const { namespace, nameOrPrefix, prefixed } = sysctlNamespace(p);
      (prefixed ? this.prefixes : this.sysctls).set(nameOrPrefix, namespace);
    }
  }

  /** Why the sysctl is not allowed for a pod with these host namespaces (upstream's validateSysctl), or undefined. */
  check(name: string, hostNetwork: boolean, hostIPC: boolean): string | undefined {
    const sysctl = normalizeSysctlName(name);
    const hostError = (ns: SysctlNamespace): string | undefined =>
      (ns === 'IPC' && hostIPC) || (ns === 'Net' && hostNetwork) ? `${JSON.stringify(sysctl)} not allowed with host ${ns} enabled` : undefined;
    const exact = this.sysctls.get(sysctl);
    if (exact !== undefined) return hostError(exact);
    for (const [prefix, ns] of this.prefixes) if (sysctl.startsWith(prefix)) return hostError(ns);
    return `${JSON.stringify(sysctl)} not allowlisted`;
  }

  /** Upstream's Admit: the first sysctl of the pod that is not allowed rejects it. */
  admit(pod: Pod): PodAdmitResult {
    for (const s of pod.spec.securityContext?.sysctls ?? []) {
      const err = this.check(s.name, pod.spec.hostNetwork === true, pod.spec.hostIPC === true);
      if (err !== undefined) return { admit: false, reason: SYSCTL_FORBIDDEN_REASON, message: `forbidden sysctl: ${err}` };
    }
    return { admit: true };
  }
}

/** What an admission check says about a pod (upstream's PodAdmitResult). */
export type PodAdmitResult = { admit: true } | { admit: false; reason: string; message: string };

/** The node's allowlist: the safe sysctls for this kernel and the --allowed-unsafe-sysctls patterns. */
export function nodeSysctlAllowlist(allowedUnsafeSysctls: readonly string[], kernelRelease: string | undefined): SysctlAllowlist {
  return new SysctlAllowlist([...safeSysctlAllowlist(kernelRelease), ...allowedUnsafeSysctls]);
}
