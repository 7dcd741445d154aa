import { randomInt } from 'node:crypto';
import { MIRROR_POD_ANNOTATION } from '../../api/pod.js';
import { findResource, type ResourceDef } from '../resources.js';
import type { Admission } from '../rest.js';
import { generateNameSuffix } from '../name-suffix.js';
import { ObjectCache } from '../storage/object-cache.js';
import type { KubeObject, ObjectStorage } from '../storage/object-storage.js';
import { admissionForbidden, isPod } from './forbidden.js';

/**
 * ServiceAccount admission (upstream's plugin/pkg/admission/serviceaccount): a pod without a service account gets
 * "default"; a pod whose service account does not exist is refused (for "default" after a few retries, since the
 * service account controller creates it moments after its namespace); unless automountServiceAccountToken says no,
 * every container mounts a projected `kube-api-access-<suffix>` volume (a bound token, the cluster CA, the
 * namespace) at /var/run/secrets/kubernetes.io/serviceaccount; the account's imagePullSecrets are copied to pods
 * that name none. Mirror pods are never changed, and may not use service accounts or secrets.
 */

export const DEFAULT_SERVICE_ACCOUNT = 'default';
export const DEFAULT_API_TOKEN_MOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';
export const SERVICE_ACCOUNT_VOLUME_PREFIX = 'kube-api-access-';
/** Upstream's WarnOnlyBoundTokenExpirationSeconds: one hour and seven seconds, so expired-but-used tokens are noticed. */
export const BOUND_TOKEN_EXPIRATION_SECONDS = 3607;
const ENFORCE_MOUNTABLE_SECRETS_ANNOTATION = 'kubernetes.io/enforce-mountable-secrets';

export interface ServiceAccountAdmissionOptions {
  /** Add the token volume (upstream's MountServiceAccountToken, on by default). */
  mountServiceAccountToken?: boolean;
  /** Waits between lookups of the default service account (tests pass an instant one). */
  sleep?: (ms: number) => Promise<void>;
  /** The volume name suffix (tests pass a fixed one). */
  nameSuffix?: () => string;
}

type Json = Record<string, unknown>;
interface Container {
  name?: string;
  volumeMounts?: Array<{ name?: string; mountPath?: string; readOnly?: boolean }>;
  env?: Array<{ name?: string; valueFrom?: { secretKeyRef?: { name?: string } } }>;
  envFrom?: Array<{ secretRef?: { name?: string } }>;
}
interface PodSpec {
  serviceAccountName?: string;
  serviceAccount?: string;
  automountServiceAccountToken?: boolean;
  containers?: Container[];
  initContainers?: Container[];
  ephemeralContainers?: Container[];
  volumes?: Array<Json & { name?: string; secret?: { secretName?: string }; projected?: { sources?: Json[] } }>;
  imagePullSecrets?: Array<{ name?: string }>;
}
interface ServiceAccount {
  automountServiceAccountToken?: boolean;
  secrets?: Array<{ name?: string }>;
  imagePullSecrets?: Array<{ name?: string }>;
}

/** The projected volume upstream adds (TokenVolumeSource): the token, the cluster CA and the namespace, mode 0644. */
export function tokenVolumeSource(): Json {
  return {
    defaultMode: 420,
    sources: [
      { serviceAccountToken: { expirationSeconds: BOUND_TOKEN_EXPIRATION_SECONDS, path: 'token' } },
      { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
      { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
    ],
  };
}

/** shouldAutomount: the pod's preference, then the service account's, then yes. */
export function shouldAutomount(sa: ServiceAccount, spec: PodSpec): boolean {
  if (spec.automountServiceAccountToken !== undefined) return spec.automountServiceAccountToken;
  if (sa.automountServiceAccountToken !== undefined) return sa.automountServiceAccountToken;
  return true;
}

/**
 * mountServiceAccountToken: every container without a mount at the token path mounts the (one) token volume. Sets
 * `spec`'s members to changed copies (see Admission.mutate): the containers and lists it read are left as they were.
 */
export function mountServiceAccountToken(spec: PodSpec, suffix: () => string): void {
  const existing = (spec.volumes ?? []).find((v) => (v.name ?? '').startsWith(SERVICE_ACCOUNT_VOLUME_PREFIX));
  let volumeName: string | undefined = existing?.name;
  let needed = false;
  const mounted = (containers: PodSpec['containers']): PodSpec['containers'] =>
    containers?.map((c) => {
      if ((c.volumeMounts ?? []).some((m) => m.mountPath === DEFAULT_API_TOKEN_MOUNT_PATH)) return c;
      needed = true;
      volumeName ??= `${SERVICE_ACCOUNT_VOLUME_PREFIX}${suffix()}`;
      return { ...c, volumeMounts: [...(c.volumeMounts ?? []), { name: volumeName, readOnly: true, mountPath: DEFAULT_API_TOKEN_MOUNT_PATH }] };
    });
  const initContainers = mounted(spec.initContainers);
  const containers = mounted(spec.containers);
  if (!needed || volumeName === undefined) return;
  if (initContainers !== undefined) spec.initContainers = initContainers;
  if (containers !== undefined) spec.containers = containers;
  if (!existing) spec.volumes = [...(spec.volumes ?? []), { name: volumeName, projected: tokenVolumeSource() }];
}

/** Whether the pod names any secret (VisitPodSecretNames): volumes, projections, env, envFrom, pull secrets. */
function podSecretNames(spec: PodSpec): string[] {
  const names: string[] = [];
  for (const s of spec.imagePullSecrets ?? []) if (s.name) names.push(s.name);
  for (const v of spec.volumes ?? []) {
    if (v.secret?.secretName) names.push(v.secret.secretName);
    for (const src of v.projected?.sources ?? []) {
      const secret = src.secret as { name?: string } | undefined;
      if (secret?.name) names.push(secret.name);
    }
    for (const kind of ['azureFile', 'cephfs', 'cinder', 'flexVolume', 'iscsi', 'rbd', 'scaleIO', 'storageos', 'csi']) {
      const src = v[kind] as { secretName?: string; secretRef?: { name?: string }; nodePublishSecretRef?: { name?: string } } | undefined;
      const name = src?.secretName ?? src?.secretRef?.name ?? src?.nodePublishSecretRef?.name;
      if (name) names.push(name);
    }
  }
  for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? []), ...(spec.ephemeralContainers ?? [])]) {
    for (const e of c.env ?? []) if (e.valueFrom?.secretKeyRef?.name) names.push(e.valueFrom.secretKeyRef.name);
    for (const e of c.envFrom ?? []) if (e.secretRef?.name) names.push(e.secretRef.name);
  }
  return names;
}

/** limitSecretReferences: with kubernetes.io/enforce-mountable-secrets, only the account's secrets may be used. */
function secretReferenceError(sa: ServiceAccount, saName: string, spec: PodSpec): string | undefined {
  const mountable = new Set((sa.secrets ?? []).map((s) => s.name));
  for (const v of spec.volumes ?? []) {
    const name = v.secret?.secretName;
    if (name !== undefined && !mountable.has(name)) return `volume with secret.secretName="${name}" is not allowed because service account ${saName} does not reference that secret`;
  }
  const check = (containers: Container[] | undefined, label: string): string | undefined => {
    for (const c of containers ?? []) {
      for (const e of c.env ?? []) {
        const name = e.valueFrom?.secretKeyRef?.name;
        if (name !== undefined && !mountable.has(name)) return `${label} ${c.name} with envVar ${e.name} referencing secret.secretName="${name}" is not allowed because service account ${saName} does not reference that secret`;
      }
      for (const e of c.envFrom ?? []) {
        const name = e.secretRef?.name;
        if (name !== undefined && !mountable.has(name)) return `${label} ${c.name} with envFrom referencing secret.secretName="${name}" is not allowed because service account ${saName} does not reference that secret`;
      }
    }
    return undefined;
  };
  const containerError = check(spec.initContainers, 'init container') ?? check(spec.containers, 'container');
  if (containerError) return containerError;
  const pullable = new Set((sa.imagePullSecrets ?? []).map((s) => s.name));
  for (const [i, ref] of (spec.imagePullSecrets ?? []).entries()) {
    if (!pullable.has(ref.name)) return `imagePullSecrets[${i}].name="${ref.name}" is not allowed because service account ${saName} does not reference that imagePullSecret`;
  }
  return undefined;
}

export function serviceAccountAdmission(storage: ObjectStorage, opts: ServiceAccountAdmissionOptions = {}): Admission {
  const saDef = findResource('', 'v1', 'serviceaccounts') as ResourceDef;
  // Read from a watch-fed cache, as upstream's plugin reads its ServiceAccount lister (one not held is read from the
  // store, so the retries below still see an account made a moment ago).
  const accounts = new ObjectCache(storage, saDef);
  const mount = opts.mountServiceAccountToken ?? true;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const suffix = opts.nameSuffix ?? generateNameSuffix;
  // What the mutating phase looked up, for the validating phase of the same request (by the new pod's uid; bounded,
  // since a request refused in between never reaches the validating phase).
  const looked = new Map<string, KubeObject>();
  const remember = (uid: string | undefined, sa: KubeObject): void => {
    if (!uid) return;
    if (looked.size >= 1024) looked.clear();
    looked.set(uid, sa);
  };
  const recall = (uid: string | undefined): KubeObject | undefined => {
    const sa = uid ? looked.get(uid) : undefined;
    if (uid) looked.delete(uid);
    return sa;
  };

  /** getServiceAccount: "default" is looked up ten times 100-200 ms apart, as its controller may not have made it yet. */
  const lookup = async (namespace: string, name: string): Promise<KubeObject | undefined> => {
    const attempts = name === DEFAULT_SERVICE_ACCOUNT ? 10 : 1;
    const interval = 100 + randomInt(100);
    for (let i = 0; i < attempts; i++) {
      if (i > 0) await sleep(interval);
      const sa = await accounts.get(name, namespace);
      if (sa) return sa;
    }
    return undefined;
  };
  const notFound = (def: ResourceDef, pod: KubeObject, ns: string, name: string) =>
    admissionForbidden(def, pod, `error looking up service account ${ns}/${name}: serviceaccount "${name}" not found`);

  const mirrorPodError = (spec: PodSpec): string | undefined => {
    if (spec.serviceAccountName) return 'a mirror pod may not reference service accounts';
    if (podSecretNames(spec).length > 0) return 'a mirror pod may not reference secrets';
    for (const v of spec.volumes ?? []) {
      if ((v.projected?.sources ?? []).some((s) => s.serviceAccountToken !== undefined)) return 'a mirror pod may not use ServiceAccountToken volume projections';
    }
    return undefined;
  };

  return {
    async mutate(op, def, pod, _old, ctx) {
      if (op !== 'create' || !isPod(def)) return false;
      let spec = (pod.spec ?? {}) as PodSpec;
      if (pod.metadata.annotations?.[MIRROR_POD_ANNOTATION] !== undefined) return false;
      // Changed as a copy, member by member (see Admission.mutate).
      spec = { ...spec };
      const ns = pod.metadata.namespace ?? ctx.namespace ?? '';
      // The deprecated v1 field names the account when the current one does not, as upstream's conversion reads it.
      spec.serviceAccountName ||= spec.serviceAccount || DEFAULT_SERVICE_ACCOUNT;
      spec.serviceAccount = spec.serviceAccountName;
      const sa = await lookup(ns, spec.serviceAccountName);
      if (!sa) throw notFound(def, pod, ns, spec.serviceAccountName);
      remember(pod.metadata.uid, sa);
      const account = sa as unknown as ServiceAccount;
      if (mount && shouldAutomount(account, spec)) mountServiceAccountToken(spec, suffix);
      if ((spec.imagePullSecrets ?? []).length === 0 && (account.imagePullSecrets ?? []).length > 0) {
        spec.imagePullSecrets = (account.imagePullSecrets ?? []).map((s) => ({ name: s.name ?? '' }));
      }
      pod.spec = spec as unknown as KubeObject['spec'];
      return true;
    },
    async admit(op, def, pod, _old, ctx) {
      if (op !== 'create' || !isPod(def)) return;
      const spec = (pod.spec ?? {}) as PodSpec;
      if (pod.metadata.annotations?.[MIRROR_POD_ANNOTATION] !== undefined) {
        const why = mirrorPodError(spec);
        if (why) throw admissionForbidden(def, pod, why);
        return;
      }
      const ns = pod.metadata.namespace ?? ctx.namespace ?? '';
      if (!spec.serviceAccountName) throw admissionForbidden(def, pod, `no service account specified for pod ${ns}/${pod.metadata.name ?? ''}`);
      const recalled = recall(pod.metadata.uid);
      const sa = recalled?.metadata.name === spec.serviceAccountName ? recalled : await accounts.get(spec.serviceAccountName, ns);
      if (!sa) throw notFound(def, pod, ns, spec.serviceAccountName);
      if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(sa.metadata.annotations?.[ENFORCE_MOUNTABLE_SECRETS_ANNOTATION] ?? '')) {
        const why = secretReferenceError(sa as unknown as ServiceAccount, spec.serviceAccountName, spec);
        if (why) throw admissionForbidden(def, pod, why);
      }
    },
  };
}
