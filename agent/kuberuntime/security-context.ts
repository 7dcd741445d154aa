import type { Container, Pod } from '../../control/api/index.js';

/**
 * The kubelet's runAsNonRoot check (upstream's verifyRunAsNonRoot), made before a container is created: a refusal
 * leaves the container waiting in CreateContainerConfigError and is tried again at later syncs.
 */

const MAX_INT32 = 2_147_483_647;

/** The pod as upstream's format.Pod prints it: name_namespace(uid). */
function podDesc(pod: Pod): string {
  return `${pod.metadata.name ?? ''}_${pod.metadata.namespace}(${pod.metadata.uid ?? ''})`;
}

/** Go's %q of a plain string. */
const quoted = (s: string): string => JSON.stringify(s);

/** The effective runAsNonRoot and runAsUser: the container's own, else the pod's. */
function effective(pod: Pod, container: Container): { runAsNonRoot?: boolean; runAsUser?: number } {
  const sc = container.securityContext ?? {};
  const psc = pod.spec.securityContext ?? {};
  return { runAsNonRoot: sc.runAsNonRoot ?? psc.runAsNonRoot, runAsUser: sc.runAsUser ?? psc.runAsUser };
}

/** Whether the check needs the image's configured user: runAsNonRoot is on and no runAsUser decides it. */
export function needsImageUser(pod: Pod, container: Container): boolean {
  const e = effective(pod, container);
  return e.runAsNonRoot === true && e.runAsUser === undefined;
}

/**
 * The image's user as dockershim reported it (getUserFromImageUser): the part before ":" of Config.User, a uid when
 * numeric, else a user name; neither when the image sets none, which the kubelet then takes as root (uid 0).
 */
export function imageUserOf(configUser: string | undefined): { uid: number } | { username: string } {
  const user = (configUser ?? '').split(':')[0] ?? '';
  if (user === '') return { uid: 0 };
  // strconv.ParseInt: an optional sign and decimal digits.
  if (/^[+-]?\d+$/.test(user)) return { uid: Number(user) };
  return { username: user };
}

/**
 * Upstream's verifyRunAsNonRoot with its messages: undefined when the container may run, else why not.
 * `imageUser` is the image's Config.User; it is only looked at when needsImageUser says so.
 */
export function verifyRunAsNonRoot(pod: Pod, container: Container, imageUser: string | undefined): string | undefined {
  const e = effective(pod, container);
  if (e.runAsNonRoot !== true) return undefined;
  const where = `(pod: ${quoted(podDesc(pod))}, container: ${container.name})`;
  if (e.runAsUser !== undefined) {
    return e.runAsUser === 0 ? `container's runAsUser breaks non-root policy ${where}` : undefined;
  }
  const user = imageUserOf(imageUser);
  if ('username' in user) {
    return `container has runAsNonRoot and image has non-numeric user (${user.username}), cannot verify user is non-root ${where}`;
  }
  if (user.uid === 0) return `container has runAsNonRoot and image will run as root ${where}`;
  if (user.uid < 0 || user.uid > MAX_INT32) {
    return `container has runAsNonRoot and image has an invalid user id (${user.uid}). (Must be 1-(${MAX_INT32})): must be between 0 and ${MAX_INT32}, inclusive ${where}`;
  }
  return undefined;
}
