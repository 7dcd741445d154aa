// Pod sysctls as upstream's API server validates them (pkg/apis/core/validation: validateSysctls and
// ValidateHostSysctl), and the sysctl name helpers the agent's allowlist shares (component-helpers'
// node/util/sysctl: NormalizeName, GetNamespace).
import { child, duplicate, index, invalid, required, type FieldError } from './errors.js';

/** One segment of a sysctl name (upstream's SysctlSegmentFmt). */
export const SYSCTL_SEGMENT_FMT = '[a-z0-9]([-_a-z0-9]*[a-z0-9])?';
/** A sysctl name whose segments are separated by `.` or `/` (upstream's SysctlContainSlashFmt). */
export const SYSCTL_CONTAIN_SLASH_FMT = `(${SYSCTL_SEGMENT_FMT}[\\./])*${SYSCTL_SEGMENT_FMT}`;
/** A sysctl name or a pattern ending in `*`, as the kubelet's allowlist takes them (SysctlContainSlashPatternFmt). */
export const SYSCTL_CONTAIN_SLASH_PATTERN_FMT = `(${SYSCTL_SEGMENT_FMT}[\\./])*([a-z0-9][-_a-z0-9]*)?[a-z0-9*]`;
export const SYSCTL_MAX_LENGTH = 253;

const SYSCTL_RE = new RegExp(`^${SYSCTL_CONTAIN_SLASH_FMT}$`);
const SYSCTL_PATTERN_RE = new RegExp(`^${SYSCTL_CONTAIN_SLASH_PATTERN_FMT}$`);

/** Upstream's IsValidSysctlName. */
export function isValidSysctlName(name: string): boolean {
  return name.length <= SYSCTL_MAX_LENGTH && SYSCTL_RE.test(name);
}

/** Upstream's IsValidSysctlPattern (policy validation, used for the kubelet's --allowed-unsafe-sysctls). */
export function isValidSysctlPattern(pattern: string): boolean {
  return pattern.length <= SYSCTL_MAX_LENGTH && SYSCTL_PATTERN_RE.test(pattern);
}

/**
 * A sysctl name in the dotted form: `net/ipv4/conf/eth0.100/rp_filter` (slashes first) becomes
 * `net.ipv4.conf.eth0/100.rp_filter`, dots and slashes swapped, as sysctl(8) reads it. A name whose first separator
 * is a dot is already in that form.
 */
export function normalizeSysctlName(name: string): string {
  const m = /[./]/.exec(name);
  if (!m || m[0] === '.') return name;
  return name.replace(/[./]/g, (c) => (c === '.' ? '/' : '.'));
}

/** The kernel namespace a sysctl belongs to; '' when it is not known to be namespaced. Upstream's names print as-is. */
export type SysctlNamespace = 'IPC' | 'Net' | '';

const NAME_TO_NAMESPACE: ReadonlyMap<string, SysctlNamespace> = new Map([
  ['kernel.sem', 'IPC'],
  ['kernel.shmall', 'IPC'],
  ['kernel.shmmax', 'IPC'],
  ['kernel.shmmni', 'IPC'],
  ['kernel.shm_rmid_forced', 'IPC'],
  // The prefixes of the kernel.shm* and kernel.msg* patterns.
  ['kernel.shm', 'IPC'],
  ['kernel.msgmax', 'IPC'],
  ['kernel.msgmnb', 'IPC'],
  ['kernel.msgmni', 'IPC'],
  ['kernel.msg', 'IPC'],
]);
const PREFIX_TO_NAMESPACE: ReadonlyArray<readonly [string, SysctlNamespace]> = [
  ['net', 'Net'],
  ['fs.mqueue', 'IPC'],
];

function namespaceOf(name: string): SysctlNamespace {
  const ns = NAME_TO_NAMESPACE.get(name);
  if (ns !== undefined) return ns;
  for (const [prefix, pns] of PREFIX_TO_NAMESPACE) if (name.startsWith(`${prefix}.`)) return pns;
  return '';
}

/**
 * Upstream's GetNamespace: the namespace of a sysctl or pattern, the name (normalized) or the pattern's part before
 * its first `*`, and whether it was a pattern.
 */
export function sysctlNamespace(sysctl: string): { namespace: SysctlNamespace; nameOrPrefix: string; prefixed: boolean } {
  let nameOrPrefix = normalizeSysctlName(sysctl);
  const star = nameOrPrefix.indexOf('*');
  const prefixed = star !== -1;
  if (prefixed) nameOrPrefix = nameOrPrefix.slice(0, star);
  return { namespace: namespaceOf(nameOrPrefix), nameOrPrefix, prefixed };
}

export interface SysctlValidationOptions {
  /**
   * Upstream's AllowNamespacedSysctlsForHostNetAndHostIPC: an update of an object that already had such a sysctl
   * (namespaced, on a pod sharing that namespace with the host) keeps it valid.
   */
  allowNamespacedSysctlsForHostNetAndHostIPC?: boolean;
}

/** Upstream's ValidateHostSysctl: a namespaced sysctl cannot apply to a pod sharing that namespace with the host. */
export function validateHostSysctl(name: string, spec: { hostNetwork?: boolean | undefined; hostIPC?: boolean | undefined }, path: string): FieldError | undefined {
  const { namespace } = sysctlNamespace(name);
  if (spec.hostNetwork === true && namespace === 'Net') return invalid(path, name, "may not be specified when 'hostNetwork' is true");
  if (spec.hostIPC === true && namespace === 'IPC') return invalid(path, name, "may not be specified when 'hostIPC' is true");
  return undefined;
}

/** Upstream's validateSysctls for `spec.securityContext.sysctls` (`path`). */
export function validateSysctls(
  sysctls: ReadonlyArray<{ name: string }> | undefined,
  spec: { hostNetwork?: boolean | undefined; hostIPC?: boolean | undefined },
  path: string,
  opts: SysctlValidationOptions = {},
): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  (sysctls ?? []).forEach((s, i) => {
    const p = child(index(path, i), 'name');
    if (s.name === '') errs.push(required(p));
    else if (!isValidSysctlName(s.name))
      errs.push(invalid(p, s.name, `must have at most ${SYSCTL_MAX_LENGTH} characters and match regex ${SYSCTL_RE.source}`));
    else if (names.has(s.name)) errs.push(duplicate(p, s.name));
    if (!opts.allowNamespacedSysctlsForHostNetAndHostIPC) {
      const host = validateHostSysctl(s.name, spec, p);
      if (host) errs.push(host);
    }
    names.add(s.name);
  });
  return errs;
}

/**
 * Upstream's GetValidationOptionsFromPodTemplate for a workload update: a template that already had a namespaced
 * sysctl its hostNetwork/hostIPC forbids may keep it (the rule came later than such objects).
 */
export function templateUpdateOptions(old: { spec: Parameters<typeof hasHostNamespacedSysctls>[0] } | undefined): SysctlValidationOptions {
  return old !== undefined && hasHostNamespacedSysctls(old.spec) ? { allowNamespacedSysctlsForHostNetAndHostIPC: true } : {};
}

/** True when the spec has a namespaced sysctl its host namespaces forbid (what lets an update keep one). */
export function hasHostNamespacedSysctls(spec: { hostNetwork?: boolean | undefined; hostIPC?: boolean | undefined; securityContext?: { sysctls?: ReadonlyArray<{ name: string }> | undefined } | undefined }): boolean {
  return (spec.securityContext?.sysctls ?? []).some((s) => validateHostSysctl(s.name, spec, '') !== undefined);
}
