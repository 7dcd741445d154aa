/**
 * Container names and labels compatible with dockershim, so that `docker ps`, cAdvisor-style tools and people who
 * know Kubernetes on Docker recognise Skiff's containers. Annotations that dockershim stored as labels keep its
 * "annotation." prefix.
 */
export const LABEL_POD_NAME = 'io.kubernetes.pod.name';
export const LABEL_POD_NAMESPACE = 'io.kubernetes.pod.namespace';
export const LABEL_POD_UID = 'io.kubernetes.pod.uid';
export const LABEL_CONTAINER_NAME = 'io.kubernetes.container.name';
export const LABEL_DOCKER_TYPE = 'io.kubernetes.docker.type';
export const LABEL_SANDBOX_ID = 'io.kubernetes.sandbox.id';
export const LABEL_CONTAINER_HASH = 'annotation.io.kubernetes.container.hash';
export const LABEL_RESTART_COUNT = 'annotation.io.kubernetes.container.restartCount';
export const LABEL_GRACE_PERIOD = 'annotation.io.kubernetes.pod.terminationGracePeriod';
export const LABEL_TERMINATION_MESSAGE_PATH = 'annotation.io.kubernetes.container.terminationMessagePath';
export const LABEL_TERMINATION_MESSAGE_POLICY = 'annotation.io.kubernetes.container.terminationMessagePolicy';

/** Which agent owns the container: several agents may share one dockerd (docker-in-docker test clusters). */
export const LABEL_SKIFF_NODE = 'io.skiff.node';
export const LABEL_SKIFF_ATTEMPT = 'io.skiff.attempt';
export const LABEL_SKIFF_INIT = 'io.skiff.container.init';
/** dockershim had no ephemeral containers: this tells them apart in `docker ps` (decisions go by the pod's spec). */
export const LABEL_SKIFF_EPHEMERAL = 'io.skiff.container.ephemeral';
export const LABEL_SKIFF_HOST_NETWORK = 'io.skiff.pod.host-network';
export const LABEL_SKIFF_POD_SOURCE = 'io.skiff.pod.source';
export const LABEL_SKIFF_IMAGE = 'io.skiff.container.image';

export const TYPE_SANDBOX = 'podsandbox';
export const TYPE_CONTAINER = 'container';
export const SANDBOX_CONTAINER_NAME = 'POD';

/** Docker allows [a-zA-Z0-9][a-zA-Z0-9_.-]; pod and container names are DNS names already, so nothing to escape. */
export function sandboxName(podName: string, namespace: string, uid: string, attempt: number): string {
  return `k8s_${SANDBOX_CONTAINER_NAME}_${podName}_${namespace}_${uid}_${attempt}`;
}

export function containerName(name: string, podName: string, namespace: string, uid: string, attempt: number): string {
  return `k8s_${name}_${podName}_${namespace}_${uid}_${attempt}`;
}
