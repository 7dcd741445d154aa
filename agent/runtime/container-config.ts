import type { Container, Pod } from '../../control/api/index.js';
import { cpuMillis, memoryBytes } from '../../control/api/index.js';

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
  hostConfig: { Privileged?: boolean; CapAdd?: string[]; CapDrop?: string[]; ReadonlyRootfs?: boolean };
}

/** The parts of the pod and container security contexts that map onto Docker options. */
export function dockerSecurity(container: Container, pod: Pod): DockerSecurity {
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
  return user !== undefined ? { user, hostConfig } : { hostConfig };
}
