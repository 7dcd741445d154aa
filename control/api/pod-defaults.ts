// Defaulting rules from upstream pkg/apis/core/v1/defaults.go (SetDefaults_Pod, _PodSpec, _Container,
// _Probe, _HTTPGetAction, _Volume, _HostPathVolumeSource, the volume sources' DefaultMode) that
// depend on other fields. Constant defaults live on the schemas in pod.ts as `.default()`.
import type { Container, PodBeforeDefaults, ResourceList } from './pod.js';

export const DEFAULT_NAMESPACE = 'default';
export const DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS = 30;
export const DEFAULT_SCHEDULER_NAME = 'default-scheduler';
export const TERMINATION_MESSAGE_PATH_DEFAULT = '/dev/termination-log';
/** 0644: the mode upstream gives files projected from ConfigMaps, Secrets, downward API and projected volumes. */
export const DEFAULT_VOLUME_FILE_MODE = 0o644;

/**
 * The tag an image reference resolves to, as upstream's parsers.ParseImageName reports it:
 * "latest" when neither tag nor digest is given, "" when only a digest is.
 */
export function imageTag(image: string): string {
  const at = image.indexOf('@');
  const name = at >= 0 ? image.slice(0, at) : image;
  const lastSlash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  // A colon before the last '/' is a registry port (localhost:5000/app), not a tag.
  if (colon > lastSlash) return name.slice(colon + 1);
  return at >= 0 ? '' : 'latest';
}

/** Always for ":latest" (explicit or implied), IfNotPresent otherwise, as SetDefaults_Container does. */
export function defaultImagePullPolicy(image: string): 'Always' | 'IfNotPresent' {
  return imageTag(image) === 'latest' ? 'Always' : 'IfNotPresent';
}

// Requests copy any limit they lack. Upstream does this in SetDefaults_Pod only (not for pod
// templates), so it runs on Pod objects and not inside PodSpec.
function defaultRequestsFromLimits<C extends Container>(c: C): C {
  const limits = c.resources.limits;
  if (limits === undefined) return c;
  const requests: ResourceList = { ...limits, ...(c.resources.requests ?? {}) };
  return { ...c, resources: { ...c.resources, requests } };
}

// With host networking a container port is a host port, so hostPort mirrors containerPort.
function defaultHostNetworkPorts<C extends Container>(c: C): C {
  if (c.ports === undefined) return c;
  return { ...c, ports: c.ports.map((p) => (p.hostPort ? p : { ...p, hostPort: p.containerPort })) };
}

/** The Pod-level half of SetDefaults_Pod: runs after every nested default. */
export function applyPodDefaults(pod: PodBeforeDefaults): PodBeforeDefaults {
  const fix = (c: Container): Container => {
    const withRequests = defaultRequestsFromLimits(c);
    return pod.spec.hostNetwork ? defaultHostNetworkPorts(withRequests) : withRequests;
  };
  return {
    ...pod,
    spec: { ...pod.spec, containers: pod.spec.containers.map(fix), initContainers: pod.spec.initContainers.map(fix) },
  };
}
