// The kubelet's AppArmor handling (pkg/security/apparmor and its admit handler, Kubernetes 1.32): the profile a
// container runs with (its own field, else its deprecated annotation, else the pod's field), and the admission of a
// pod that needs AppArmor on a host without it: rejected before anything of it starts, phase Failed, reason AppArmor.
import { existsSync, readFileSync } from 'node:fs';
import type { Container, Pod } from '../control/api/index.js';
import { APPARMOR_ANNOTATION_PREFIX, APPARMOR_VALUE_LOCALHOST_PREFIX, APPARMOR_VALUE_RUNTIME_DEFAULT, APPARMOR_VALUE_UNCONFINED, type AppArmorProfileValue } from '../control/api/apparmor.js';
import type { PodAdmitResult } from './sysctl-allowlist.js';

/** The reason of a pod rejected for AppArmor (upstream's AppArmorNotAdmittedReason). */
export const APPARMOR_NOT_ADMITTED_REASON = 'AppArmor';

/**
 * Whether the host enforces AppArmor, as runc's apparmor.IsEnabled (what the kubelet asks): the securityfs directory
 * exists and the module's `enabled` parameter reads Y. Paths injectable for tests.
 */
export function hostAppArmorEnabled(paths: { securityfs?: string; enabledParam?: string } = {}): boolean {
  const securityfs = paths.securityfs ?? '/sys/kernel/security/apparmor';
  const enabledParam = paths.enabledParam ?? '/sys/module/apparmor/parameters/enabled';
  if (!existsSync(securityfs)) return false;
  try {
    const buf = readFileSync(enabledParam, 'utf8');
    return buf.length > 1 && buf[0] === 'Y';
  } catch {
    return false;
  }
}

/** Upstream's getProfileFromPodAnnotations: the profile a deprecated annotation names, undefined when none or invalid. */
function profileFromAnnotation(annotations: Record<string, string> | undefined, containerName: string): AppArmorProfileValue | undefined {
  const value = annotations?.[APPARMOR_ANNOTATION_PREFIX + containerName];
  if (value === undefined) return undefined;
  if (value === APPARMOR_VALUE_RUNTIME_DEFAULT) return { type: 'RuntimeDefault' };
  if (value === APPARMOR_VALUE_UNCONFINED) return { type: 'Unconfined' };
  // An empty name is kept: admission rejects it.
  if (value.startsWith(APPARMOR_VALUE_LOCALHOST_PREFIX)) return { type: 'Localhost', localhostProfile: value.slice(APPARMOR_VALUE_LOCALHOST_PREFIX.length) };
  return undefined;
}

/**
 * Upstream's GetProfile: the container's own profile, else its annotation (static pods never had their annotations
 * copied into fields by an API server), else the pod's profile; undefined when none applies.
 */
export function appArmorProfileFor(pod: Pod, container: Pick<Container, 'name' | 'securityContext'>): AppArmorProfileValue | undefined {
  return container.securityContext?.appArmorProfile ?? profileFromAnnotation(pod.metadata.annotations, container.name) ?? pod.spec.securityContext?.appArmorProfile;
}

type AnyContainer = Pick<Container, 'name' | 'securityContext'>;
const allContainers = (pod: Pod): AnyContainer[] => [...pod.spec.initContainers, ...pod.spec.containers, ...(pod.spec.ephemeralContainers ?? [])];

/**
 * Upstream's isRequired: the pod asks for a profile other than Unconfined, in a field (pod or container) or an
 * annotation. (Upstream reads the annotations in Go's random map order and decides on the first AppArmor one; here
 * any annotation other than "unconfined" counts.)
 */
export function appArmorRequired(pod: Pod): boolean {
  const confining = (p: AppArmorProfileValue | undefined): boolean => p !== undefined && p.type !== 'Unconfined';
  if (confining(pod.spec.securityContext?.appArmorProfile)) return true;
  if (allContainers(pod).some((c) => confining(c.securityContext?.appArmorProfile))) return true;
  return Object.entries(pod.metadata.annotations ?? {}).some(([k, v]) => k.startsWith(APPARMOR_ANNOTATION_PREFIX) && v !== APPARMOR_VALUE_UNCONFINED);
}

/** Go's %q of a *v1.AppArmorProfile, as upstream's message prints it (a set name shows as its address there, here quoted). */
function goQuoteProfile(p: AppArmorProfileValue): string {
  const lp = p.localhostProfile === undefined ? '%!q(*string=<nil>)' : `%!q(*string=${JSON.stringify(p.localhostProfile)})`;
  return `&{${JSON.stringify(p.type)} ${lp}}`;
}

/**
 * Upstream's validator.Validate: undefined when the pod may run here, else why not (a pod needing AppArmor on a host
 * without it; a Localhost profile without a name).
 */
export function validateAppArmor(pod: Pod, hostEnabled: boolean): string | undefined {
  if (!appArmorRequired(pod)) return undefined;
  if (!hostEnabled) return 'AppArmor is not enabled on the host';
  for (const c of allContainers(pod)) {
    const p = appArmorProfileFor(pod, c);
    if (p?.type === 'Localhost' && (p.localhostProfile === undefined || p.localhostProfile.trim() === '')) return `invalid empty AppArmor profile name: ${goQuoteProfile(p)}`;
  }
  return undefined;
}

/** The kubelet's AppArmor admit handler. `hostEnabled` is read once at start (upstream checks the host only then). */
export class AppArmorAdmitHandler {
  constructor(private readonly hostEnabled: boolean) {}

  admit(pod: Pod & { status?: { phase?: string | undefined } | undefined }): PodAdmitResult {
    // A pod already running is not checked again (upstream: any phase but Pending; static pods are Pending until run).
    // A finished one is checked here: the agent does not set terminal pods aside on restart as the kubelet does, so
    // a pod rejected before must be rejected again rather than started.
    if (pod.status?.phase === 'Running') return { admit: true };
    const err = validateAppArmor(pod, this.hostEnabled);
    return err === undefined ? { admit: true } : { admit: false, reason: APPARMOR_NOT_ADMITTED_REASON, message: `Cannot enforce AppArmor: ${err}` };
  }
}

/**
 * dockershim's translation of a container's profile into Docker's SecurityOpt: Unconfined → "apparmor=unconfined",
 * Localhost → "apparmor=<name>", RuntimeDefault or none → no option (Docker applies docker-default itself, or nothing
 * for a privileged container).
 */
export function appArmorSecurityOpt(pod: Pod, container: AnyContainer): string | undefined {
  const p = appArmorProfileFor(pod, container);
  if (p?.type === 'Unconfined') return `apparmor=${APPARMOR_VALUE_UNCONFINED}`;
  if (p?.type === 'Localhost' && p.localhostProfile) return `apparmor=${p.localhostProfile}`;
  return undefined;
}
