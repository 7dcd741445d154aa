// Upstream's ValidatePod / ValidatePodSpec (pkg/apis/core/validation) for the fields Skiff
// models, run on DEFAULTED objects as upstream does. Field paths and messages match upstream's,
// including a few of its quirks (noted inline) so that users see the errors kubectl would show.
// Container and volume rules live in container-validation.ts and volume-validation.ts.
import { isIP } from 'node:net';
import { child, forbidden, index, invalid, notSupported, required, type FieldError } from './errors.js';
import { validateContainers, validateEphemeralContainers, validateInitContainers } from './container-validation.js';
import { validateLabels, validateObjectMeta } from './meta.js';
import { inclusiveRangeError, isQualifiedName, isValidLabelValue } from './names.js';
import type { Pod, PodDNSConfig, PodSpec, Toleration } from './pod.js';
import { dns1123Label, dns1123Subdomain, MAX_INT32, nonnegative } from './validation-util.js';
import { validateSysctls, type SysctlValidationOptions } from './sysctl-validation.js';
import { validateVolumes } from './volume-validation.js';
import { type AppArmorSpec, validateAppArmorAnnotationsAndFieldsMatch, validateAppArmorPodAnnotations, validateAppArmorProfileField } from './apparmor.js';

const RESTART_POLICIES = ['Always', 'OnFailure', 'Never'];
const DNS_POLICIES = ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'];

function validateTolerations(tolerations: Toleration[] | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  (tolerations ?? []).forEach((t, i) => {
    const p = index(path, i);
    const k = t.key ?? '';
    const op = t.operator ?? '';
    const effect = t.effect ?? '';
    if (k !== '') errs.push(...isQualifiedName(k).map((m) => invalid(child(p, 'key'), k, m)));
    if (k === '' && op !== 'Exists')
      errs.push(invalid(child(p, 'operator'), op, 'operator must be Exists when `key` is empty, which means "match all values and all keys"'));
    if (t.tolerationSeconds !== undefined && effect !== 'NoExecute')
      errs.push(invalid(child(p, 'effect'), effect, "effect must be 'NoExecute' when `tolerationSeconds` is set"));
    if (op === 'Equal' || op === '') {
      const msgs = isValidLabelValue(t.value ?? '');
      if (msgs.length > 0) errs.push(invalid(child(p, 'operator'), t.value ?? '', msgs.join(';')));
    } else if (op === 'Exists') {
      if (t.value) errs.push(invalid(child(p, 'operator'), t, "value must be empty when `operator` is 'Exists'"));
    } else {
      errs.push(notSupported(child(p, 'operator'), op, ['Equal', 'Exists']));
    }
    if (effect !== '' && !['NoSchedule', 'PreferNoSchedule', 'NoExecute'].includes(effect))
      errs.push(notSupported(child(p, 'effect'), effect, ['NoSchedule', 'PreferNoSchedule', 'NoExecute']));
  });
  return errs;
}

function validateDNSConfig(cfg: PodDNSConfig | undefined, policy: string, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (policy === 'None') {
    if (!cfg) return [required(path, 'must provide `dnsConfig` when `dnsPolicy` is None')];
    if ((cfg.nameservers ?? []).length === 0)
      return [required(child(path, 'nameservers'), 'must provide at least one DNS nameserver when `dnsPolicy` is None')];
  }
  if (!cfg) return errs;
  const ns = cfg.nameservers ?? [];
  if (ns.length > 3) errs.push(invalid(child(path, 'nameservers'), ns, 'must not have more than 3 nameservers'));
  ns.forEach((n, i) => {
    if (isIP(n) === 0) errs.push(invalid(index(child(path, 'nameservers'), i), n, 'must be valid IP address'));
  });
  const searches = cfg.searches ?? [];
  if (searches.length > 32) errs.push(invalid(child(path, 'searches'), searches, 'must not have more than 32 search paths'));
  if (searches.join(' ').length > 2048)
    errs.push(invalid(child(path, 'searches'), searches, 'must not have more than 2048 characters (including spaces) in the search list'));
  searches.forEach((s, i) => {
    // A trailing dot (fully qualified) is fine.
    errs.push(...dns1123Subdomain(s.replace(/\.$/, ''), index(child(path, 'searches'), i)));
  });
  (cfg.options ?? []).forEach((o, i) => {
    if (o.name === '') errs.push(required(index(child(path, 'options'), i), 'must not be empty'));
  });
  return errs;
}

function validateHostNetwork(spec: PodSpec, path: string): FieldError[] {
  if (!spec.hostNetwork) return [];
  const errs: FieldError[] = [];
  spec.containers.forEach((c, ci) => {
    (c.ports ?? []).forEach((p, pi) => {
      if (p.hostPort !== p.containerPort)
        errs.push(
          invalid(
            child(index(child(index(path, ci), 'ports'), pi), 'containerPort'),
            p.containerPort,
            'must match `hostPort` when `hostNetwork` is true',
          ),
        );
    });
  });
  return errs;
}

/** Upstream's PodValidationOptions, for the rules that depend on the object being updated. */
export type PodValidationOptions = SysctlValidationOptions;

/** Upstream's ValidatePodSpec: also used by the API server for pod templates. `fieldPath` is the spec's own path. */
export function validatePodSpec(spec: PodSpec, fieldPath = 'spec', opts: PodValidationOptions = {}): FieldError[] {
  const errs: FieldError[] = [];
  const vols = validateVolumes(spec.volumes, child(fieldPath, 'volumes'));
  errs.push(...vols.errors);
  errs.push(...validateContainers(spec.containers, vols.names, child(fieldPath, 'containers')));
  errs.push(...validateInitContainers(spec.initContainers, spec.containers, vols.names, child(fieldPath, 'initContainers')));
  errs.push(...validateEphemeralContainers(spec.ephemeralContainers, spec.containers, spec.initContainers, vols.names, child(fieldPath, 'ephemeralContainers')));

  const rp = child(fieldPath, 'restartPolicy');
  if (spec.restartPolicy === '') errs.push(required(rp));
  else if (!RESTART_POLICIES.includes(spec.restartPolicy)) errs.push(notSupported(rp, spec.restartPolicy, RESTART_POLICIES));
  const dp = child(fieldPath, 'dnsPolicy');
  if (spec.dnsPolicy === '') errs.push(required(dp));
  else if (!DNS_POLICIES.includes(spec.dnsPolicy)) errs.push(notSupported(dp, spec.dnsPolicy, DNS_POLICIES));

  errs.push(...validateLabels(spec.nodeSelector, child(fieldPath, 'nodeSelector')));
  // Upstream's internal API keeps both in the pod's security context, hence the path.
  if (spec.shareProcessNamespace === true && spec.hostPID === true)
    errs.push(invalid(child(child(fieldPath, 'securityContext'), 'shareProcessNamespace'), true, 'ShareProcessNamespace and HostPID cannot both be enabled'));
  errs.push(...validateSysctls(spec.securityContext?.sysctls, spec, child(fieldPath, 'securityContext', 'sysctls'), opts));
  errs.push(...validateAppArmorProfileField(spec.securityContext?.appArmorProfile, child(fieldPath, 'securityContext', 'appArmorProfile')));
  errs.push(...validateHostNetwork(spec, child(fieldPath, 'containers')));
  errs.push(...validateDNSConfig(spec.dnsConfig, spec.dnsPolicy, child(fieldPath, 'dnsConfig')));
  if (spec.serviceAccountName) errs.push(...dns1123Subdomain(spec.serviceAccountName, child(fieldPath, 'serviceAccountName')));
  if (spec.nodeName) errs.push(...dns1123Subdomain(spec.nodeName, child(fieldPath, 'nodeName')));
  const ads = spec.activeDeadlineSeconds;
  if (ads !== undefined && (ads < 1 || ads > MAX_INT32))
    errs.push(invalid(child(fieldPath, 'activeDeadlineSeconds'), ads, inclusiveRangeError(1, MAX_INT32)));
  // Upstream's ValidatePodSpec has no rule for this field; a negative grace period has no sensible
  // meaning for a container stop, so Skiff rejects it with upstream's standard non-negative message.
  errs.push(...nonnegative(spec.terminationGracePeriodSeconds, child(fieldPath, 'terminationGracePeriodSeconds')));
  if (spec.hostname) errs.push(...dns1123Label(spec.hostname, child(fieldPath, 'hostname')));
  if (spec.subdomain) errs.push(...dns1123Label(spec.subdomain, child(fieldPath, 'subdomain')));
  errs.push(...validateTolerations(spec.tolerations, child(fieldPath, 'tolerations')));
  (spec.imagePullSecrets ?? []).forEach((s, i) => {
    if (s.name === '') errs.push(required(child(index(child(fieldPath, 'imagePullSecrets'), i), 'name')));
  });
  return errs;
}

/** Upstream's ValidatePodCreate checks (metadata, spec, and the pod-only image whitespace rule). */
export function validatePod(pod: Pod, opts: PodValidationOptions = {}): FieldError[] {
  const errs = validateObjectMeta(pod.metadata, { namespaced: true }, 'metadata');
  // ValidatePodSpecificAnnotations' AppArmor part.
  errs.push(...validateAppArmorPodAnnotations(pod.metadata.annotations, pod.spec, child('metadata', 'annotations')));
  errs.push(...validatePodSpec(pod.spec, 'spec', opts));
  for (const list of ['containers', 'initContainers'] as const) {
    pod.spec[list].forEach((c, i) => {
      if (c.image !== c.image.trim())
        errs.push(invalid(child(index(child('spec', list), i), 'image'), c.image, 'must not have leading or trailing whitespace'));
    });
  }
  return errs;
}

/**
 * What upstream's ValidatePodCreate refuses beyond the rules every pod write follows: ephemeral containers, which
 * only the pods/ephemeralcontainers subresource adds to a pod that exists (a static pod's manifest is a create too,
 * so the kubelet refuses them there as well), and, given the pod's annotations, AppArmor annotations that disagree
 * with the appArmorProfile fields.
 */
export function validatePodCreateOnly(spec: AppArmorSpec, annotations?: Record<string, string>): FieldError[] {
  const errs = (spec.ephemeralContainers ?? []).length > 0 ? [forbidden(child('spec', 'ephemeralContainers'), 'cannot be set on create')] : [];
  errs.push(...validateAppArmorAnnotationsAndFieldsMatch(annotations, spec, 'spec'));
  return errs;
}
