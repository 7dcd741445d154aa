// core/v1 Pod as zod schemas. Field names follow upstream exactly. Each schema's OUTPUT is the
// defaulted object (SetDefaults_* applied); enumerated strings stay `string` here because values
// outside the enum are reported by pod-validation.ts with upstream's messages, not by zod.
import { z } from 'zod';
import { ListMeta, ObjectMeta } from './meta.js';
import {
  applyPodDefaults,
  DEFAULT_NAMESPACE,
  DEFAULT_SCHEDULER_NAME,
  DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS,
  DEFAULT_VOLUME_FILE_MODE,
  defaultImagePullPolicy,
  TERMINATION_MESSAGE_PATH_DEFAULT,
} from './pod-defaults.js';

// Go's zero values mean "unset": an empty string or a 0 gets the default, like upstream's `if x == ""`.
const stringOr = (d: string) => z.string().optional().transform((v) => v || d);
const positiveOr = (d: number) => z.number().int().optional().transform((v) => v || d);
const modeOr = (d: number) => z.number().int().optional().transform((v) => v ?? d);
const int = () => z.number().int();
const loose = () => z.looseObject({});

/** intstr.IntOrString: a port number or a named port. */
export const IntOrString = z.union([z.number().int(), z.string()]);
export type IntOrString = z.output<typeof IntOrString>;

/** A resource.Quantity as written; numbers are normalised to their decimal text. Syntax is checked by validation. */
export const Quantity = z.union([z.string(), z.number()]).transform((v) => (typeof v === 'number' ? String(v).replace('e+', 'e') : v));
export type Quantity = z.output<typeof Quantity>;

export const ResourceList = z.record(z.string(), Quantity);
export type ResourceList = z.output<typeof ResourceList>;

export const ResourceRequirements = z.object({
  limits: ResourceList.optional(),
  requests: ResourceList.optional(),
  claims: z.array(z.object({ name: z.string().default(''), request: z.string().optional() })).optional(),
});
export type ResourceRequirements = z.output<typeof ResourceRequirements>;

export const ContainerPort = z.object({
  name: z.string().optional(),
  hostPort: int().optional(),
  containerPort: int().default(0),
  protocol: stringOr('TCP'),
  hostIP: z.string().optional(),
});
export type ContainerPort = z.output<typeof ContainerPort>;

const ObjectFieldSelector = z.object({ apiVersion: stringOr('v1'), fieldPath: z.string().default('') });
const ResourceFieldSelector = z.object({
  containerName: z.string().optional(),
  resource: z.string().default(''),
  divisor: Quantity.optional(),
});
const KeySelector = z.object({ name: z.string().default(''), key: z.string().default(''), optional: z.boolean().optional() });

export const EnvVarSource = z.object({
  fieldRef: ObjectFieldSelector.optional(),
  resourceFieldRef: ResourceFieldSelector.optional(),
  configMapKeyRef: KeySelector.optional(),
  secretKeyRef: KeySelector.optional(),
  fileKeyRef: loose().optional(),
});
export type EnvVarSource = z.output<typeof EnvVarSource>;

export const EnvVar = z.object({
  name: z.string().default(''),
  value: z.string().optional(),
  valueFrom: EnvVarSource.optional(),
});
export type EnvVar = z.output<typeof EnvVar>;

const EnvSourceRef = z.object({ name: z.string().default(''), optional: z.boolean().optional() });
export const EnvFromSource = z.object({
  prefix: z.string().optional(),
  configMapRef: EnvSourceRef.optional(),
  secretRef: EnvSourceRef.optional(),
});
export type EnvFromSource = z.output<typeof EnvFromSource>;

export const VolumeMount = z.object({
  name: z.string().default(''),
  readOnly: z.boolean().optional(),
  recursiveReadOnly: z.string().optional(),
  mountPath: z.string().default(''),
  subPath: z.string().optional(),
  mountPropagation: z.string().optional(),
  subPathExpr: z.string().optional(),
});
export type VolumeMount = z.output<typeof VolumeMount>;

export const ExecAction = z.object({ command: z.array(z.string()).optional() });
export const HTTPHeader = z.object({ name: z.string().default(''), value: z.string().default('') });
export const HTTPGetAction = z.object({
  path: stringOr('/'),
  port: IntOrString.default(0),
  host: z.string().optional(),
  scheme: stringOr('HTTP'),
  httpHeaders: z.array(HTTPHeader).optional(),
});
export type HTTPGetAction = z.output<typeof HTTPGetAction>;
export const TCPSocketAction = z.object({ port: IntOrString.default(0), host: z.string().optional() });
export const GRPCAction = z.object({ port: int().default(0), service: z.string().optional() });

export const Probe = z.object({
  exec: ExecAction.optional(),
  httpGet: HTTPGetAction.optional(),
  tcpSocket: TCPSocketAction.optional(),
  grpc: GRPCAction.optional(),
  initialDelaySeconds: int().default(0),
  timeoutSeconds: positiveOr(1),
  periodSeconds: positiveOr(10),
  successThreshold: positiveOr(1),
  failureThreshold: positiveOr(3),
  terminationGracePeriodSeconds: int().optional(),
});
export type Probe = z.output<typeof Probe>;

export const LifecycleHandler = z.object({
  exec: ExecAction.optional(),
  httpGet: HTTPGetAction.optional(),
  tcpSocket: TCPSocketAction.optional(),
  sleep: z.object({ seconds: int().default(0) }).optional(),
});
export type LifecycleHandler = z.output<typeof LifecycleHandler>;

export const Lifecycle = z.object({
  postStart: LifecycleHandler.optional(),
  preStop: LifecycleHandler.optional(),
  stopSignal: z.string().optional(),
});
export type Lifecycle = z.output<typeof Lifecycle>;

/** AppArmorProfile: the profile type (Localhost, RuntimeDefault, Unconfined; checked by validation) and, for Localhost, the name. */
export const AppArmorProfile = z.object({
  type: z.string().default(''),
  localhostProfile: z.string().optional(),
});
export type AppArmorProfile = z.output<typeof AppArmorProfile>;

const Capabilities = z.looseObject({ add: z.array(z.string()).optional(), drop: z.array(z.string()).optional() });

/** Container securityContext: the common fields typed, the rest accepted as-is. */
export const SecurityContext = z.looseObject({
  capabilities: Capabilities.optional(),
  privileged: z.boolean().optional(),
  seLinuxOptions: loose().optional(),
  windowsOptions: loose().optional(),
  runAsUser: int().optional(),
  runAsGroup: int().optional(),
  runAsNonRoot: z.boolean().optional(),
  readOnlyRootFilesystem: z.boolean().optional(),
  allowPrivilegeEscalation: z.boolean().optional(),
  procMount: z.string().optional(),
  seccompProfile: loose().optional(),
  appArmorProfile: AppArmorProfile.optional(),
});
export type SecurityContext = z.output<typeof SecurityContext>;

export const PodSecurityContext = z.looseObject({
  seLinuxOptions: loose().optional(),
  windowsOptions: loose().optional(),
  runAsUser: int().optional(),
  runAsGroup: int().optional(),
  runAsNonRoot: z.boolean().optional(),
  supplementalGroups: z.array(int()).optional(),
  supplementalGroupsPolicy: z.string().optional(),
  fsGroup: int().optional(),
  fsGroupChangePolicy: z.string().optional(),
  sysctls: z.array(z.object({ name: z.string().default(''), value: z.string().default('') })).optional(),
  seccompProfile: loose().optional(),
  appArmorProfile: AppArmorProfile.optional(),
  seLinuxChangePolicy: z.string().optional(),
});
export type PodSecurityContext = z.output<typeof PodSecurityContext>;

const ContainerFields = z
  .object({
    name: z.string().default(''),
    image: z.string().default(''),
    command: z.array(z.string()).optional(),
    args: z.array(z.string()).optional(),
    workingDir: z.string().optional(),
    ports: z.array(ContainerPort).optional(),
    envFrom: z.array(EnvFromSource).optional(),
    env: z.array(EnvVar).default([]),
    resources: ResourceRequirements.default({}),
    resizePolicy: z.array(loose()).optional(),
    restartPolicy: z.string().optional(),
    restartPolicyRules: z.array(loose()).optional(),
    volumeMounts: z.array(VolumeMount).default([]),
    volumeDevices: z.array(z.object({ name: z.string().default(''), devicePath: z.string().default('') })).optional(),
    livenessProbe: Probe.optional(),
    readinessProbe: Probe.optional(),
    startupProbe: Probe.optional(),
    lifecycle: Lifecycle.optional(),
    terminationMessagePath: stringOr(TERMINATION_MESSAGE_PATH_DEFAULT),
    terminationMessagePolicy: stringOr('File'),
    imagePullPolicy: z.string().optional(),
    securityContext: SecurityContext.optional(),
    stdin: z.boolean().optional(),
    stdinOnce: z.boolean().optional(),
    tty: z.boolean().optional(),
  });
const withPullPolicy = <C extends { image: string; imagePullPolicy?: string | undefined }>(c: C): C & { imagePullPolicy: string } => ({ ...c, imagePullPolicy: c.imagePullPolicy || defaultImagePullPolicy(c.image) });
export const Container = ContainerFields.transform(withPullPolicy);
export type Container = z.output<typeof Container>;

/**
 * A container added to a running pod through its ephemeralcontainers subresource (kubectl debug): a Container's
 * fields, defaulted as a Container's are, plus the container whose process namespace it joins. What it may not set
 * (ports, probes, lifecycle, resources) is refused by validation, as upstream does, not by the schema.
 */
export const EphemeralContainer = ContainerFields.extend({ targetContainerName: z.string().optional() }).transform(withPullPolicy);
export type EphemeralContainer = z.output<typeof EphemeralContainer>;

const KeyToPath = z.object({ key: z.string().default(''), path: z.string().default(''), mode: int().optional() });

export const HostPathVolumeSource = z.object({
  path: z.string().default(''),
  // nil means HostPathUnset (""): no check is made on what is at the path.
  type: z.string().optional().transform((v) => v ?? ''),
});
export const EmptyDirVolumeSource = z.object({ medium: z.string().optional(), sizeLimit: Quantity.optional() });
export const ConfigMapVolumeSource = z.object({
  name: z.string().optional(),
  items: z.array(KeyToPath).optional(),
  defaultMode: modeOr(DEFAULT_VOLUME_FILE_MODE),
  optional: z.boolean().optional(),
});
export const SecretVolumeSource = z.object({
  secretName: z.string().optional(),
  items: z.array(KeyToPath).optional(),
  defaultMode: modeOr(DEFAULT_VOLUME_FILE_MODE),
  optional: z.boolean().optional(),
});
export const ProjectedVolumeSource = z.object({
  sources: z.array(loose()).optional(),
  defaultMode: modeOr(DEFAULT_VOLUME_FILE_MODE),
});
export const DownwardAPIVolumeFile = z.object({
  path: z.string().default(''),
  fieldRef: ObjectFieldSelector.optional(),
  resourceFieldRef: ResourceFieldSelector.optional(),
  mode: int().optional(),
});
export type DownwardAPIVolumeFile = z.output<typeof DownwardAPIVolumeFile>;
export const DownwardAPIVolumeSource = z.object({
  items: z.array(DownwardAPIVolumeFile).optional(),
  defaultMode: modeOr(DEFAULT_VOLUME_FILE_MODE),
});
export const PersistentVolumeClaimVolumeSource = z.object({
  claimName: z.string().default(''),
  readOnly: z.boolean().optional(),
});

/**
 * Every VolumeSource member, in upstream's order (which decides which one a
 * "more than 1 volume type" error names). Sources Skiff does not model are accepted opaquely so
 * they still count as a source instead of silently becoming an emptyDir.
 */
export const VOLUME_SOURCE_KEYS = [
  'hostPath',
  'emptyDir',
  'gcePersistentDisk',
  'awsElasticBlockStore',
  'gitRepo',
  'secret',
  'nfs',
  'iscsi',
  'glusterfs',
  'flocker',
  'persistentVolumeClaim',
  'rbd',
  'cinder',
  'cephfs',
  'quobyte',
  'downwardAPI',
  'fc',
  'flexVolume',
  'configMap',
  'azureFile',
  'vsphereVolume',
  'photonPersistentDisk',
  'portworxVolume',
  'azureDisk',
  'storageos',
  'projected',
  'scaleIO',
  'csi',
  'ephemeral',
  'image',
] as const;
export type VolumeSourceKey = (typeof VOLUME_SOURCE_KEYS)[number];

export const Volume = z
  .object({
    name: z.string().default(''),
    hostPath: HostPathVolumeSource.optional(),
    emptyDir: EmptyDirVolumeSource.optional(),
    gcePersistentDisk: loose().optional(),
    awsElasticBlockStore: loose().optional(),
    gitRepo: loose().optional(),
    secret: SecretVolumeSource.optional(),
    nfs: loose().optional(),
    iscsi: loose().optional(),
    glusterfs: loose().optional(),
    flocker: loose().optional(),
    persistentVolumeClaim: PersistentVolumeClaimVolumeSource.optional(),
    rbd: loose().optional(),
    cinder: loose().optional(),
    cephfs: loose().optional(),
    quobyte: loose().optional(),
    downwardAPI: DownwardAPIVolumeSource.optional(),
    fc: loose().optional(),
    flexVolume: loose().optional(),
    configMap: ConfigMapVolumeSource.optional(),
    azureFile: loose().optional(),
    vsphereVolume: loose().optional(),
    photonPersistentDisk: loose().optional(),
    portworxVolume: loose().optional(),
    azureDisk: loose().optional(),
    storageos: loose().optional(),
    projected: ProjectedVolumeSource.optional(),
    scaleIO: loose().optional(),
    csi: loose().optional(),
    ephemeral: loose().optional(),
    image: loose().optional(),
  })
  // SetDefaults_Volume: a volume naming no source is an emptyDir.
  .transform((v) => (VOLUME_SOURCE_KEYS.some((k) => v[k] !== undefined) ? v : { ...v, emptyDir: {} }));
export type Volume = z.output<typeof Volume>;

export const Toleration = z.object({
  key: z.string().optional(),
  operator: z.string().optional(),
  value: z.string().optional(),
  effect: z.string().optional(),
  tolerationSeconds: int().optional(),
});
export type Toleration = z.output<typeof Toleration>;

/** Scheduling affinity is accepted and carried, not interpreted, by Skiff. */
export const Affinity = z.looseObject({
  nodeAffinity: loose().optional(),
  podAffinity: loose().optional(),
  podAntiAffinity: loose().optional(),
});
export type Affinity = z.output<typeof Affinity>;

export const PodDNSConfig = z.object({
  nameservers: z.array(z.string()).optional(),
  searches: z.array(z.string()).optional(),
  options: z.array(z.object({ name: z.string().default(''), value: z.string().optional() })).optional(),
});
export type PodDNSConfig = z.output<typeof PodDNSConfig>;

/** The annotation a kubelet puts on the API server's mirror of a static pod (its config hash). */
export const MIRROR_POD_ANNOTATION = 'kubernetes.io/config.mirror';

export const PodSpec = z.object({
  volumes: z.array(Volume).default([]),
  initContainers: z.array(Container).default([]),
  containers: z.array(Container).default([]),
  ephemeralContainers: z.array(EphemeralContainer).optional(),
  restartPolicy: stringOr('Always'),
  terminationGracePeriodSeconds: int()
    .optional()
    .transform((v) => v ?? DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS),
  activeDeadlineSeconds: int().optional(),
  dnsPolicy: stringOr('ClusterFirst'),
  nodeSelector: z.record(z.string(), z.string()).optional(),
  serviceAccountName: z.string().optional(),
  serviceAccount: z.string().optional(),
  automountServiceAccountToken: z.boolean().optional(),
  nodeName: z.string().optional(),
  hostNetwork: z.boolean().default(false),
  hostPID: z.boolean().optional(),
  hostIPC: z.boolean().optional(),
  shareProcessNamespace: z.boolean().optional(),
  securityContext: PodSecurityContext.default({}),
  imagePullSecrets: z.array(z.object({ name: z.string().default('') })).optional(),
  hostname: z.string().optional(),
  subdomain: z.string().optional(),
  affinity: Affinity.optional(),
  schedulerName: stringOr(DEFAULT_SCHEDULER_NAME),
  tolerations: z.array(Toleration).optional(),
  hostAliases: z.array(z.object({ ip: z.string().default(''), hostnames: z.array(z.string()).optional() })).optional(),
  priorityClassName: z.string().optional(),
  priority: int().optional(),
  dnsConfig: PodDNSConfig.optional(),
  readinessGates: z.array(z.object({ conditionType: z.string().default('') })).optional(),
  runtimeClassName: z.string().optional(),
  enableServiceLinks: z.boolean().default(true),
  preemptionPolicy: z.string().optional(),
  overhead: ResourceList.optional(),
  topologySpreadConstraints: z.array(loose()).optional(),
  setHostnameAsFQDN: z.boolean().optional(),
  os: z.object({ name: z.string().default('') }).optional(),
  hostUsers: z.boolean().optional(),
  schedulingGates: z.array(z.object({ name: z.string().default('') })).optional(),
  resourceClaims: z.array(loose()).optional(),
  resources: ResourceRequirements.optional(),
  hostnameOverride: z.string().optional(),
});
export type PodSpec = z.output<typeof PodSpec>;

// ---- status (written by the node agent; no defaults) ----

export const ContainerState = z.object({
  waiting: z.object({ reason: z.string().optional(), message: z.string().optional() }).optional(),
  running: z.object({ startedAt: z.string().optional() }).optional(),
  terminated: z
    .object({
      exitCode: int(),
      signal: int().optional(),
      reason: z.string().optional(),
      message: z.string().optional(),
      startedAt: z.string().optional(),
      finishedAt: z.string().optional(),
      containerID: z.string().optional(),
    })
    .optional(),
});
export type ContainerState = z.output<typeof ContainerState>;

export const ContainerStatus = z.object({
  name: z.string(),
  state: ContainerState.optional(),
  lastState: ContainerState.optional(),
  ready: z.boolean(),
  restartCount: int(),
  image: z.string(),
  imageID: z.string(),
  containerID: z.string().optional(),
  started: z.boolean().optional(),
  allocatedResources: ResourceList.optional(),
  resources: ResourceRequirements.optional(),
  volumeMounts: z.array(loose()).optional(),
  user: loose().optional(),
  allocatedResourcesStatus: z.array(loose()).optional(),
  stopSignal: z.string().optional(),
});
export type ContainerStatus = z.output<typeof ContainerStatus>;

export const PodCondition = z.object({
  type: z.string(),
  observedGeneration: int().optional(),
  status: z.string(),
  // metav1.Time serialises its zero value as null, which clients send back.
  lastProbeTime: z.string().nullable().optional(),
  lastTransitionTime: z.string().nullable().optional(),
  reason: z.string().optional(),
  message: z.string().optional(),
});
export type PodCondition = z.output<typeof PodCondition>;

export const PodStatus = z.object({
  observedGeneration: int().optional(),
  phase: z.string().optional(),
  conditions: z.array(PodCondition).optional(),
  message: z.string().optional(),
  reason: z.string().optional(),
  nominatedNodeName: z.string().optional(),
  hostIP: z.string().optional(),
  hostIPs: z.array(z.object({ ip: z.string() })).optional(),
  podIP: z.string().optional(),
  podIPs: z.array(z.object({ ip: z.string() })).optional(),
  startTime: z.string().optional(),
  initContainerStatuses: z.array(ContainerStatus).optional(),
  containerStatuses: z.array(ContainerStatus).optional(),
  qosClass: z.string().optional(),
  ephemeralContainerStatuses: z.array(ContainerStatus).optional(),
  resize: z.string().optional(),
  resourceClaimStatuses: z.array(loose()).optional(),
});
export type PodStatus = z.output<typeof PodStatus>;

// ---- Pod and PodList ----

/** Pod metadata: namespace "" defaults to "default", as the node agent does for static pods. */
export const PodMeta = ObjectMeta.extend({ namespace: stringOr(DEFAULT_NAMESPACE) });

const PodObject = z.object({
  apiVersion: z.literal('v1'),
  kind: z.literal('Pod'),
  // prefault (not default) so the nested defaults run on an absent metadata/spec too.
  metadata: PodMeta.prefault({}),
  spec: PodSpec.prefault({}),
  status: PodStatus.optional(),
});
/** The Pod before the Pod-only defaults that need the whole object (requests from limits, hostNetwork ports). */
export type PodBeforeDefaults = z.output<typeof PodObject>;

export const Pod = PodObject.transform((p) => applyPodDefaults(p));
export type Pod = z.output<typeof Pod>;

export const PodList = z.object({
  apiVersion: z.literal('v1'),
  kind: z.literal('PodList'),
  metadata: ListMeta.prefault({}),
  items: z.array(Pod).default([]),
});
export type PodList = z.output<typeof PodList>;
