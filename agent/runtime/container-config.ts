import { join, relative } from 'node:path';
import type { Container, Pod } from '../../control/api/index.js';
import { cpuMillis, memoryBytes } from '../../control/api/index.js';
import { appArmorSecurityOpt } from '../apparmor.js';

/** cgroup v1/v2 CFS period used by the kubelet: limits become a quota per 100 ms. */
const CPU_PERIOD_US = 100_000;
/** The kubelet gives containers without a CPU request the minimum shares so they cannot starve the node. */
const MIN_SHARES = 2;

export interface DockerResourceConfig {
  CpuShares?: number;
  CpuQuota?: number;
  CpuPeriod?: number;
  Memory?: number;
}

/** CPU and memory requests/limits as Docker cgroup settings, computed the way the kubelet computes them. */
export function dockerResources(container: Container): DockerResourceConfig {
  const limits = container.resources?.limits ?? {};
  const requests = container.resources?.requests ?? {};
  const out: DockerResourceConfig = {};
  const cpuRequest = requests.cpu ?? limits.cpu;
  out.CpuShares = cpuRequest !== undefined ? Math.max(MIN_SHARES, Math.floor((cpuMillis(cpuRequest) * 1024) / 1000)) : MIN_SHARES;
  if (limits.cpu !== undefined) {
    out.CpuPeriod = CPU_PERIOD_US;
    // The kernel refuses quotas under 1 ms.
    out.CpuQuota = Math.max(1000, Math.floor((cpuMillis(limits.cpu) * CPU_PERIOD_US) / 1000));
  }
  if (limits.memory !== undefined) out.Memory = memoryBytes(limits.memory);
  return out;
}

export interface DockerSecurity {
  user?: string;
  /**
   * runAsGroup without runAsUser: the group goes with the image's own user (root when it names none), which only the
   * runtime can read; the kubelet fills runAsUser from the image the same way before dockershim joined them.
   */
  groupForImageUser?: number;
  hostConfig: {
    Privileged?: boolean;
    CapAdd?: string[];
    CapDrop?: string[];
    ReadonlyRootfs?: boolean;
    GroupAdd?: string[];
    SecurityOpt?: string[];
  };
  /**
   * A Localhost seccomp profile: the file the kubelet resolved under its seccomp directory. The runtime reads it
   * and passes its JSON in SecurityOpt ("seccomp=<json>"), as dockershim did, for the Engine API takes the profile
   * itself, not a path.
   */
  seccompProfilePath?: string;
}

/** Where the agent looks for Localhost seccomp profiles: <root-dir>/seccomp, as the kubelet's --seccomp-profile-root. */
export function seccompProfileRoot(rootDir: string): string {
  return join(rootDir, 'seccomp');
}

/** An error in the security settings that prevents the container's creation (a Localhost profile without a name). */
export class SecurityConfigError extends Error {}

/** The seccompProfile in effect for a container: its own, else the pod's. */
function effectiveSeccomp(container: Container, pod: Pod): { type?: unknown; localhostProfile?: unknown } | undefined {
  return container.securityContext?.seccompProfile ?? pod.spec.securityContext?.seccompProfile;
}

/**
 * The kubelet's seccomp choice with dockershim's translation: Unconfined → "seccomp=unconfined", RuntimeDefault →
 * Docker's default profile (no option), Localhost → the profile file under the seccomp root. An unset profile is
 * Unconfined, as upstream's kubelet runs it, unless the agent has seccompDefault (then RuntimeDefault): Docker's own
 * default for a container given no option would be its profile.
 */
function seccomp(container: Container, pod: Pod, seccompRoot: string | undefined, seccompDefault: boolean): { opt?: string; path?: string } {
  const profile = effectiveSeccomp(container, pod);
  switch (profile?.type ?? (seccompDefault ? 'RuntimeDefault' : 'Unconfined')) {
    case 'Unconfined':
      return { opt: 'seccomp=unconfined' };
    case 'Localhost': {
      const name = typeof profile?.localhostProfile === 'string' ? profile.localhostProfile : '';
      // Upstream's fieldProfile, word for word.
      if (!name) throw new SecurityConfigError('localhostProfile must be set if seccompProfile type is Localhost.');
      const root = seccompRoot ?? '';
      const path = join(root, name);
      if (!root || relative(root, path).startsWith('..')) throw new SecurityConfigError(`seccomp profile path ${JSON.stringify(name)} is outside the seccomp profile root`);
      return { path };
    }
    default:
      return {};
  }
}

/**
 * The parts of the pod and container security contexts that map onto Docker options. `seccompRoot` is where Localhost
 * seccomp profiles live (seccompProfileRoot of the agent's root dir); `seccompDefault` is the agent's setting.
 */
export function dockerSecurity(container: Container, pod: Pod, seccompRoot?: string, seccompDefault = false): DockerSecurity {
  const sc = container.securityContext ?? {};
  const psc = pod.spec.securityContext ?? {};
  const uid = sc.runAsUser ?? psc.runAsUser;
  const gid = sc.runAsGroup ?? psc.runAsGroup;
  const user = uid !== undefined ? (gid !== undefined ? `${uid}:${gid}` : String(uid)) : undefined;
  const hostConfig: DockerSecurity['hostConfig'] = {};
  if (sc.privileged) hostConfig.Privileged = true;
  if (sc.capabilities?.add?.length) hostConfig.CapAdd = sc.capabilities.add;
  if (sc.capabilities?.drop?.length) hostConfig.CapDrop = sc.capabilities.drop;
  if (sc.readOnlyRootFilesystem) hostConfig.ReadonlyRootfs = true;
  // The kubelet's determineEffectiveSecurityContext: fsGroup first, then the supplemental groups.
  const groups = [...(psc.fsGroup !== undefined ? [psc.fsGroup] : []), ...(psc.supplementalGroups ?? [])];
  if (groups.length > 0) hostConfig.GroupAdd = groups.map(String);
  const securityOpt: string[] = [];
  // securitycontext.AddNoNewPrivileges: only an explicit allowPrivilegeEscalation: false sets it.
  if (sc.allowPrivilegeEscalation === false) securityOpt.push('no-new-privileges');
  const seccompChoice = seccomp(container, pod, seccompRoot, seccompDefault);
  if (seccompChoice.opt) securityOpt.push(seccompChoice.opt);
  const appArmor = appArmorSecurityOpt(pod, container);
  if (appArmor) securityOpt.push(appArmor);
  if (securityOpt.length > 0) hostConfig.SecurityOpt = securityOpt;
  return {
    ...(user !== undefined ? { user } : {}),
    ...(uid === undefined && gid !== undefined ? { groupForImageUser: gid } : {}),
    hostConfig,
    ...(seccompChoice.path ? { seccompProfilePath: seccompChoice.path } : {}),
  };
}

/** Docker's User for a group given without a user: the image's user (its user part; root when empty) with that group. */
export function userWithGroup(imageUser: string, gid: number): string {
  const name = imageUser.split(':')[0] ?? '';
  return `${name === '' ? '0' : name}:${gid}`;
}

/** A Localhost seccomp profile's file as the SecurityOpt dockershim passed: its JSON compacted, after "seccomp=". */
export function seccompOptFromFile(path: string, content: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(content);
  } catch (err) {
    throw new SecurityConfigError(`cannot load seccomp profile ${JSON.stringify(path)}: ${err instanceof Error ? err.message : String(err)}`);
  }
  return `seccomp=${JSON.stringify(parsed)}`;
}

/**
 * The pod's sysctls, set on its sandbox (dockershim's HostConfig.Sysctls): the app containers join the sandbox's
 * network and IPC namespaces, so they see the namespaced ones (net.*, kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*).
 */
export function sandboxSysctls(pod: Pod): Record<string, string> | undefined {
  const list = pod.spec.securityContext?.sysctls ?? [];
  if (list.length === 0) return undefined;
  return Object.fromEntries(list.map((s) => [s.name, s.value]));
}
