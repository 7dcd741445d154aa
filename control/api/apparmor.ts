// AppArmor profiles as Kubernetes 1.32 handles them in the API: the appArmorProfile field of the pod and container
// security contexts (ValidateAppArmorProfileField), the deprecated `container.apparmor.security.beta.kubernetes.io/<c>`
// annotations (their format, the container they name, their agreement with the fields on create, their immutability
// on update), and the pod strategy's version skew handling on create (fields copied into annotations and back).
// Messages and field paths are upstream's; the code is Skiff's.
import { child, forbidden, invalid, key, notSupported, required, tooLong, type FieldError } from './errors.js';

export const APPARMOR_ANNOTATION_PREFIX = 'container.apparmor.security.beta.kubernetes.io/';
export const APPARMOR_VALUE_RUNTIME_DEFAULT = 'runtime/default';
export const APPARMOR_VALUE_UNCONFINED = 'unconfined';
export const APPARMOR_VALUE_LOCALHOST_PREFIX = 'localhost/';

export const APPARMOR_PROFILE_TYPES = ['Localhost', 'RuntimeDefault', 'Unconfined'] as const;
/** PATH_MAX - 1, upstream's limit on a Localhost profile's name. */
const MAX_LOCALHOST_PROFILE_LENGTH = 4095;

/** An AppArmorProfile as the API holds it (the schema's output: type defaults to "", which validation refuses). */
export interface AppArmorProfileValue {
  type: string;
  localhostProfile?: string | undefined;
}

/** Upstream's ValidateAppArmorProfileField: a profile, when set, names its type; Localhost and only it names a profile. */
export function validateAppArmorProfileField(profile: AppArmorProfileValue | undefined, path: string): FieldError[] {
  if (profile === undefined) return [];
  const lp = child(path, 'localhostProfile');
  switch (profile.type) {
    case 'Localhost': {
      const name = profile.localhostProfile;
      if (name === undefined) return [required(lp, 'must be set when AppArmor type is Localhost')];
      const errs: FieldError[] = [];
      if (name.trim() !== name) errs.push(invalid(lp, name, 'must not be padded with whitespace'));
      else if (name === '') errs.push(required(lp, 'must be set when AppArmor type is Localhost'));
      // Go's len() counts bytes.
      if (Buffer.byteLength(name, 'utf8') > MAX_LOCALHOST_PROFILE_LENGTH) errs.push(tooLong(lp, MAX_LOCALHOST_PROFILE_LENGTH));
      return errs;
    }
    case 'RuntimeDefault':
    case 'Unconfined':
      return profile.localhostProfile !== undefined ? [invalid(lp, profile.localhostProfile, 'can only be set when AppArmor type is Localhost')] : [];
    case '':
      return [required(child(path, 'type'), 'type is required when appArmorProfile is set')];
    default:
      return [notSupported(child(path, 'type'), profile.type, APPARMOR_PROFILE_TYPES)];
  }
}

/** Upstream's ValidateAppArmorProfileFormat: an annotation value's syntax; undefined when fine. */
export function appArmorProfileFormatError(value: string): string | undefined {
  if (value === '' || value === APPARMOR_VALUE_RUNTIME_DEFAULT || value === APPARMOR_VALUE_UNCONFINED) return undefined;
  if (!value.startsWith(APPARMOR_VALUE_LOCALHOST_PREFIX)) return `invalid AppArmor profile name: ${JSON.stringify(value)}`;
  return undefined;
}

/** What the AppArmor rules read of a container. */
interface ContainerLike {
  name: string;
  securityContext?: { appArmorProfile?: AppArmorProfileValue | undefined } | undefined;
}

/** What the AppArmor rules read of a pod spec (a decoded spec, or a compacted one whose lists may be absent). */
export interface AppArmorSpec {
  containers?: ContainerLike[] | undefined;
  initContainers?: ContainerLike[] | undefined;
  ephemeralContainers?: ContainerLike[] | undefined;
  securityContext?: { appArmorProfile?: AppArmorProfileValue | undefined } | undefined;
  os?: { name: string } | undefined;
}

/** podshelper.VisitContainersWithPath: init containers, containers, ephemeral containers, with their paths. */
function visitContainers(spec: AppArmorSpec, specPath: string, fn: (c: ContainerLike, path: string) => void): void {
  for (const list of ['initContainers', 'containers', 'ephemeralContainers'] as const) {
    (spec[list] ?? []).forEach((c, i) => fn(c, `${child(specPath, list)}[${i}]`));
  }
}

/**
 * Upstream's ValidateAppArmorPodAnnotations (part of ValidatePodSpecificAnnotations, for pods and pod templates):
 * each AppArmor annotation names a container of the pod and holds a well-formed value. Keys in sorted order (Go's
 * map order is random; sorting keeps the output stable).
 */
export function validateAppArmorPodAnnotations(annotations: Record<string, string> | undefined, spec: AppArmorSpec, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  visitContainers(spec, 'spec', (c) => names.add(c.name));
  for (const k of Object.keys(annotations ?? {}).sort()) {
    if (!k.startsWith(APPARMOR_ANNOTATION_PREFIX)) continue;
    const container = k.slice(APPARMOR_ANNOTATION_PREFIX.length);
    const value = annotations?.[k] ?? '';
    if (!names.has(container)) errs.push(invalid(key(path, k), container, 'container not found'));
    const err = appArmorProfileFormatError(value);
    if (err !== undefined) errs.push(invalid(key(path, k), value, err));
  }
  return errs;
}

/**
 * Upstream's validateAppArmorAnnotationsAndFieldsMatchOnCreate (pod create, pod templates): where a container has
 * both an effective profile (its own, else the pod's) and an annotation, they say the same.
 */
export function validateAppArmorAnnotationsAndFieldsMatch(annotations: Record<string, string> | undefined, spec: AppArmorSpec, specPath: string): FieldError[] {
  if (spec.os?.name === 'windows') return [];
  const errs: FieldError[] = [];
  const podProfile = spec.securityContext?.appArmorProfile;
  visitContainers(spec, specPath, (c, cPath) => {
    const profile = c.securityContext?.appArmorProfile ?? podProfile;
    if (profile === undefined) return;
    const annotation = annotations?.[APPARMOR_ANNOTATION_PREFIX + c.name];
    if (annotation === undefined) return;
    const p = child(cPath, 'securityContext', 'appArmorProfile');
    const typeMismatch = forbidden(child(p, 'type'), 'apparmor type in annotation and field must match');
    switch (profile.type) {
      case 'Unconfined':
        if (annotation !== APPARMOR_VALUE_UNCONFINED) errs.push(typeMismatch);
        break;
      case 'RuntimeDefault':
        if (annotation !== APPARMOR_VALUE_RUNTIME_DEFAULT) errs.push(typeMismatch);
        break;
      case 'Localhost':
        if (!annotation.startsWith(APPARMOR_VALUE_LOCALHOST_PREFIX)) errs.push(typeMismatch);
        else if (profile.localhostProfile === undefined || annotation.slice(APPARMOR_VALUE_LOCALHOST_PREFIX.length) !== profile.localhostProfile)
          errs.push(forbidden(child(p, 'localhostProfile'), 'apparmor profile in annotation and field must match'));
        break;
    }
  });
  return errs;
}

/** Upstream's ValidatePodSpecificAnnotationUpdates for AppArmor: the annotations are fixed once the pod exists. */
export function validateAppArmorAnnotationUpdates(next: Record<string, string> | undefined, old: Record<string, string> | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const n = next ?? {};
  const o = old ?? {};
  for (const k of Object.keys(o).sort()) {
    if (!k.startsWith(APPARMOR_ANNOTATION_PREFIX) || (k in n && n[k] === o[k])) continue;
    errs.push(forbidden(key(path, k), 'may not remove or update AppArmor annotations'));
  }
  for (const k of Object.keys(n).sort()) {
    if (!k.startsWith(APPARMOR_ANNOTATION_PREFIX) || k in o) continue;
    errs.push(forbidden(key(path, k), 'may not add AppArmor annotations'));
  }
  return errs;
}

/** The annotation value a profile stands for (upstream's appArmorAnnotationForField); "" for none. */
export function appArmorAnnotationForField(profile: AppArmorProfileValue): string {
  switch (profile.type) {
    case 'Unconfined':
      return APPARMOR_VALUE_UNCONFINED;
    case 'RuntimeDefault':
      return APPARMOR_VALUE_RUNTIME_DEFAULT;
    case 'Localhost':
      return profile.localhostProfile !== undefined ? APPARMOR_VALUE_LOCALHOST_PREFIX + profile.localhostProfile : '';
    default:
      return '';
  }
}

/** The profile an annotation value stands for (upstream's apparmorFieldForAnnotation); undefined for none. */
export function appArmorFieldForAnnotation(value: string): AppArmorProfileValue | undefined {
  if (value === APPARMOR_VALUE_UNCONFINED) return { type: 'Unconfined' };
  if (value === APPARMOR_VALUE_RUNTIME_DEFAULT) return { type: 'RuntimeDefault' };
  if (value.startsWith(APPARMOR_VALUE_LOCALHOST_PREFIX)) {
    const name = value.slice(APPARMOR_VALUE_LOCALHOST_PREFIX.length);
    if (name !== '') return { type: 'Localhost', localhostProfile: name };
  }
  return undefined;
}

const sameProfile = (a: AppArmorProfileValue | undefined, b: AppArmorProfileValue | undefined): boolean =>
  a !== undefined && b !== undefined && a.type === b.type && a.localhostProfile === b.localhostProfile;

/** A pod as the version skew handling reads and changes it. */
export interface AppArmorPod {
  metadata: { annotations?: Record<string, string> | undefined };
  spec: AppArmorSpec;
}

/**
 * The pod strategy's applyAppArmorVersionSkew on create, as Kubernetes 1.32 does it (before validation): a container
 * without an AppArmor annotation gets one from its profile (its own, else the pod's), so that older kubelets enforce
 * it; a container with an annotation but no profile of its own gets the annotation's profile, unless it is the pod's
 * (or the annotation makes no valid profile), and the client a deprecation warning. Changes `pod` in place; returns
 * the warnings. Windows pods are left alone.
 */
export function applyAppArmorVersionSkew(pod: AppArmorPod): string[] {
  const spec = pod.spec;
  if (spec.os?.name === 'windows') return [];
  const warnings: string[] = [];
  const podProfile = spec.securityContext?.appArmorProfile;
  visitContainers(spec, 'spec', (c) => {
    const k = APPARMOR_ANNOTATION_PREFIX + c.name;
    const annotation = pod.metadata.annotations?.[k];
    const own = c.securityContext?.appArmorProfile;
    if (annotation === undefined) {
      const value = own !== undefined ? appArmorAnnotationForField(own) : podProfile !== undefined ? appArmorAnnotationForField(podProfile) : '';
      if (value !== '') pod.metadata.annotations = { ...pod.metadata.annotations, [k]: value };
      return;
    }
    if (own !== undefined) return;
    let field = appArmorFieldForAnnotation(annotation);
    if (field !== undefined && validateAppArmorProfileField(field, '').length > 0) field = undefined;
    let warn = field === undefined;
    if (field !== undefined && !sameProfile(field, podProfile)) {
      c.securityContext = { ...c.securityContext, appArmorProfile: field };
      warn = true;
    }
    if (warn) warnings.push(`${key('metadata.annotations', k)}: deprecated since v1.30; use the "appArmorProfile" field instead`);
  });
  return warnings;
}
