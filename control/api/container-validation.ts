// Container rules of upstream's ValidatePodSpec: names, image, ports, env, mounts, probes,
// lifecycle hooks, resources, and the init-container (sidecar) restrictions.
import { validateAppArmorProfileField } from './apparmor.js';
import {
  child,
  duplicate,
  forbidden,
  index,
  invalid,
  key,
  notFound,
  notSupported,
  required,
  type FieldError,
} from './errors.js';
import { nameIsDNSSubdomain } from './meta.js';
import { isConfigMapKey, isEnvVarName, isHTTPHeaderName, isQualifiedName, isValidPortName, isValidPortNum } from './names.js';
import type {
  Container,
  ContainerPort,
  EphemeralContainer,
  EnvFromSource,
  EnvVar,
  HTTPGetAction,
  IntOrString,
  LifecycleHandler,
  Probe,
  ResourceRequirements,
  VolumeMount,
} from './pod.js';
import { compareQuantities, isNegativeQuantity, parseQuantity, quantityError } from './quantity.js';
import {
  dns1123Label,
  dns1123Subdomain,
  ENV_FIELD_PATHS,
  ENV_RESOURCE_PATHS,
  NONNEGATIVE,
  nonnegative,
  sorted,
  validateLocalDescendingPath,
  validateObjectFieldSelector,
} from './validation-util.js';

const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];

function validateContainerPorts(ports: ContainerPort[] | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  (ports ?? []).forEach((port, i) => {
    const p = index(path, i);
    if (port.name) {
      const msgs = isValidPortName(port.name);
      if (msgs.length > 0) errs.push(...msgs.map((m) => invalid(child(p, 'name'), port.name, m)));
      else if (names.has(port.name)) errs.push(duplicate(child(p, 'name'), port.name));
      else names.add(port.name);
    }
    if (port.containerPort === 0) errs.push(required(child(p, 'containerPort')));
    else errs.push(...isValidPortNum(port.containerPort).map((m) => invalid(child(p, 'containerPort'), port.containerPort, m)));
    if (port.hostPort) errs.push(...isValidPortNum(port.hostPort).map((m) => invalid(child(p, 'hostPort'), port.hostPort, m)));
    if (port.protocol === '') errs.push(required(child(p, 'protocol')));
    else if (!PROTOCOLS.includes(port.protocol)) errs.push(notSupported(child(p, 'protocol'), port.protocol, PROTOCOLS));
  });
  return errs;
}

function validateEnvVarValueFrom(ev: EnvVar, path: string): FieldError[] {
  const from = ev.valueFrom;
  if (!from) return [];
  const errs: FieldError[] = [];
  let sources = 0;
  if (from.fieldRef) {
    sources++;
    errs.push(...validateObjectFieldSelector(from.fieldRef, ENV_FIELD_PATHS, child(path, 'fieldRef')));
  }
  if (from.resourceFieldRef) {
    sources++;
    const rp = child(path, 'resourceFieldRef');
    const r = from.resourceFieldRef.resource;
    if (r === '') errs.push(required(child(rp, 'resource')));
    else if (!ENV_RESOURCE_PATHS.includes(r) && !/^(requests|limits)\.hugepages-/.test(r))
      errs.push(notSupported(child(rp, 'resource'), r, sorted(ENV_RESOURCE_PATHS)));
    const divisor = from.resourceFieldRef.divisor;
    const bad = divisor === undefined ? undefined : quantityError(divisor);
    if (divisor !== undefined && bad) errs.push(invalid(child(rp, 'divisor'), divisor, bad));
  }
  for (const which of ['configMapKeyRef', 'secretKeyRef'] as const) {
    const sel = from[which];
    if (!sel) continue;
    sources++;
    const sp = child(path, which);
    errs.push(...nameIsDNSSubdomain(sel.name, false).map((m) => invalid(child(sp, 'name'), sel.name, m)));
    if (sel.key === '') errs.push(required(child(sp, 'key')));
    else errs.push(...isConfigMapKey(sel.key).map((m) => invalid(child(sp, 'key'), sel.key, m)));
  }
  if (from.fileKeyRef) sources++;
  if (sources === 0)
    errs.push(invalid(path, '', 'must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`'));
  else if (ev.value) errs.push(invalid(path, '', 'may not be specified when `value` is not empty'));
  else if (sources > 1) errs.push(invalid(path, '', 'may not have more than one field specified at a time'));
  return errs;
}

export function validateEnv(env: EnvVar[], path: string): FieldError[] {
  const errs: FieldError[] = [];
  env.forEach((ev, i) => {
    const p = index(path, i);
    if (ev.name === '') errs.push(required(child(p, 'name')));
    else errs.push(...isEnvVarName(ev.name).map((m) => invalid(child(p, 'name'), ev.name, m)));
    errs.push(...validateEnvVarValueFrom(ev, child(p, 'valueFrom')));
  });
  return errs;
}

function validateEnvFrom(envFrom: EnvFromSource[] | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  (envFrom ?? []).forEach((ef, i) => {
    const p = index(path, i);
    if (ef.prefix) errs.push(...isEnvVarName(ef.prefix).map((m) => invalid(child(p, 'prefix'), ef.prefix, m)));
    let sources = 0;
    for (const which of ['configMapRef', 'secretRef'] as const) {
      const ref = ef[which];
      if (!ref) continue;
      sources++;
      if (ref.name === '') errs.push(required(child(p, which, 'name')));
      else errs.push(...dns1123Subdomain(ref.name, child(p, which, 'name')));
    }
    // Upstream reports these two at the list's path rather than the item's.
    if (sources === 0) errs.push(invalid(path, '', 'must specify one of: `configMapRef` or `secretRef`'));
    else if (sources > 1) errs.push(invalid(path, '', 'may not have more than one field specified at a time'));
  });
  return errs;
}

const MOUNT_PROPAGATIONS = ['Bidirectional', 'HostToContainer', 'None'];

function validateVolumeMounts(mounts: VolumeMount[], volumes: Set<string>, ctr: Container, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const mountPoints = new Set<string>();
  mounts.forEach((m, i) => {
    const p = index(path, i);
    if (m.name === '') errs.push(required(child(p, 'name')));
    if (!volumes.has(m.name)) errs.push(notFound(child(p, 'name'), m.name));
    if (m.mountPath === '') errs.push(required(child(p, 'mountPath')));
    if (mountPoints.has(m.mountPath)) errs.push(invalid(child(p, 'mountPath'), m.mountPath, 'must be unique'));
    mountPoints.add(m.mountPath);
    // Upstream names subPath/subPathExpr/mountPropagation errors at the list's path; kept for parity.
    if (m.subPath) errs.push(...validateLocalDescendingPath(m.subPath, child(path, 'subPath')));
    if (m.subPathExpr) {
      if (m.subPath) errs.push(invalid(child(p, 'subPathExpr'), m.subPathExpr, 'subPathExpr and subPath are mutually exclusive'));
      errs.push(...validateLocalDescendingPath(m.subPathExpr, child(path, 'subPathExpr')));
    }
    if (m.mountPropagation !== undefined) {
      const mp = child(path, 'mountPropagation');
      if (!MOUNT_PROPAGATIONS.includes(m.mountPropagation)) errs.push(notSupported(mp, m.mountPropagation, MOUNT_PROPAGATIONS));
      else if (m.mountPropagation === 'Bidirectional' && ctr.securityContext?.privileged !== true)
        errs.push(forbidden(mp, 'Bidirectional mount propagation is available only to privileged containers'));
    }
  });
  return errs;
}

function validatePortNumOrName(port: IntOrString, path: string): FieldError[] {
  if (typeof port === 'number') return isValidPortNum(port).map((m) => invalid(path, port, m));
  return isValidPortName(port).map((m) => invalid(path, port, m));
}

function validateHTTPGet(h: HTTPGetAction, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (h.path === '') errs.push(required(child(path, 'path')));
  errs.push(...validatePortNumOrName(h.port, child(path, 'port')));
  if (h.scheme !== 'HTTP' && h.scheme !== 'HTTPS') errs.push(notSupported(child(path, 'scheme'), h.scheme, ['HTTP', 'HTTPS']));
  for (const header of h.httpHeaders ?? [])
    errs.push(...isHTTPHeaderName(header.name).map((m) => invalid(child(path, 'httpHeaders'), header.name, m)));
  return errs;
}

type Handler = Pick<Probe, 'exec' | 'httpGet' | 'tcpSocket' | 'grpc'> & Pick<LifecycleHandler, 'sleep'>;

function validateHandler(h: Handler, path: string): FieldError[] {
  const errs: FieldError[] = [];
  let n = 0;
  const one = (name: string, check: () => FieldError[]): void => {
    if (n > 0) errs.push(forbidden(child(path, name), 'may not specify more than 1 handler type'));
    else {
      n++;
      errs.push(...check());
    }
  };
  if (h.exec) {
    const exec = h.exec;
    one('exec', () => ((exec.command ?? []).length === 0 ? [required(child(path, 'exec', 'command'))] : []));
  }
  if (h.httpGet) {
    const get = h.httpGet;
    one('httpGet', () => validateHTTPGet(get, child(path, 'httpGet')));
  }
  if (h.tcpSocket) {
    const tcp = h.tcpSocket;
    one('tcpSocket', () => validatePortNumOrName(tcp.port, child(path, 'tcpSocket', 'port')));
  }
  if (h.grpc) {
    const grpc = h.grpc;
    one('grpc', () => validatePortNumOrName(grpc.port, child(path, 'grpc', 'port')));
  }
  if (h.sleep) {
    const sleep = h.sleep;
    one('sleep', () => nonnegative(sleep.seconds, child(path, 'sleep', 'seconds')));
  }
  if (n === 0) errs.push(required(path, 'must specify a handler type'));
  return errs;
}

function validateProbe(probe: Probe | undefined, path: string): FieldError[] {
  if (!probe) return [];
  const { exec, httpGet, tcpSocket, grpc } = probe;
  const errs = validateHandler({ exec, httpGet, tcpSocket, grpc }, path);
  for (const f of ['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold'] as const)
    errs.push(...nonnegative(probe[f], child(path, f)));
  const grace = probe.terminationGracePeriodSeconds;
  if (grace !== undefined && grace <= 0) errs.push(invalid(child(path, 'terminationGracePeriodSeconds'), grace, 'must be greater than 0'));
  return errs;
}

function validateProbesAndLifecycle(ctr: Container, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (ctr.lifecycle) {
    for (const hook of ['postStart', 'preStop'] as const) {
      const h = ctr.lifecycle[hook];
      if (h) errs.push(...validateHandler(h, child(path, 'lifecycle', hook)));
    }
  }
  errs.push(...validateProbe(ctr.livenessProbe, child(path, 'livenessProbe')));
  if (ctr.livenessProbe && ctr.livenessProbe.successThreshold !== 1)
    errs.push(invalid(child(path, 'livenessProbe', 'successThreshold'), ctr.livenessProbe.successThreshold, 'must be 1'));
  errs.push(...validateProbe(ctr.readinessProbe, child(path, 'readinessProbe')));
  if (ctr.readinessProbe?.terminationGracePeriodSeconds !== undefined)
    errs.push(
      invalid(
        child(path, 'readinessProbe', 'terminationGracePeriodSeconds'),
        ctr.readinessProbe.terminationGracePeriodSeconds,
        'must not be set for readinessProbes',
      ),
    );
  errs.push(...validateProbe(ctr.startupProbe, child(path, 'startupProbe')));
  if (ctr.startupProbe && ctr.startupProbe.successThreshold !== 1)
    errs.push(invalid(child(path, 'startupProbe', 'successThreshold'), ctr.startupProbe.successThreshold, 'must be 1'));
  return errs;
}

// ---------------- resources ----------------

const STANDARD_CONTAINER_RESOURCES = ['cpu', 'memory', 'ephemeral-storage'];
const isHugePages = (name: string): boolean => name.startsWith('hugepages-');
// "Native" resources are unprefixed or in the kubernetes.io domain; everything else is an extended resource.
const isNative = (name: string): boolean => !name.includes('/') || name.split('/')[0]?.endsWith('kubernetes.io') === true;
const overcommitAllowed = (name: string): boolean => isNative(name) && !isHugePages(name);

function validateResourceName(name: string, path: string): FieldError[] {
  const errs = isQualifiedName(name).map((m) => invalid(path, name, m));
  if (errs.length > 0) return errs;
  if (!name.includes('/') && !STANDARD_CONTAINER_RESOURCES.includes(name) && !isHugePages(name))
    errs.push(invalid(path, name, 'must be a standard resource for containers'));
  return errs;
}

function validateQuantityValue(name: string, q: string, path: string): FieldError[] {
  const bad = quantityError(q);
  if (bad) return [invalid(path, q, bad)];
  if (isNegativeQuantity(q)) return [invalid(path, q, NONNEGATIVE)];
  // Extended resources are counted devices, so fractions make no sense.
  if (!isNative(name) && !Number.isInteger(parseQuantity(q))) return [invalid(path, q, 'must be an integer')];
  return [];
}

export function validateResourceRequirements(r: ResourceRequirements, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const limPath = child(path, 'limits');
  const reqPath = child(path, 'requests');
  const limits = r.limits ?? {};
  for (const [name, q] of Object.entries(limits)) {
    errs.push(...validateResourceName(name, key(limPath, name)));
    errs.push(...validateQuantityValue(name, q, key(limPath, name)));
  }
  for (const [name, q] of Object.entries(r.requests ?? {})) {
    const p = key(reqPath, name);
    errs.push(...validateResourceName(name, p));
    const qErrs = validateQuantityValue(name, q, p);
    errs.push(...qErrs);
    const limit = Object.hasOwn(limits, name) ? limits[name] : undefined;
    if (limit !== undefined) {
      if (qErrs.length > 0 || quantityError(limit)) continue;
      const cmp = compareQuantities(q, limit);
      if (cmp !== 0 && !overcommitAllowed(name))
        errs.push(invalid(reqPath, q, `must be equal to ${name} limit of ${limit}`));
      else if (cmp > 0) errs.push(invalid(reqPath, q, `must be less than or equal to ${name} limit of ${limit}`));
    } else if (!overcommitAllowed(name)) {
      errs.push(required(limPath, 'Limit must be set for non overcommitable resources'));
    }
  }
  return errs;
}

// ---------------- containers (whole) ----------------

const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'];

function validateContainer(ctr: Container, volumes: Set<string>, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (ctr.image === '') errs.push(required(child(path, 'image')));
  const tmp = ctr.terminationMessagePolicy;
  if (tmp === '') errs.push(required(child(path, 'terminationMessagePolicy'), "must be 'File' or 'FallbackToLogsOnError'"));
  else if (tmp !== 'File' && tmp !== 'FallbackToLogsOnError')
    errs.push(invalid(child(path, 'terminationMessagePolicy'), tmp, "must be 'File' or 'FallbackToLogsOnError'"));
  errs.push(...validateContainerPorts(ctr.ports, child(path, 'ports')));
  errs.push(...validateEnv(ctr.env, child(path, 'env')));
  errs.push(...validateEnvFrom(ctr.envFrom, child(path, 'envFrom')));
  errs.push(...validateVolumeMounts(ctr.volumeMounts, volumes, ctr, child(path, 'volumeMounts')));
  if (ctr.imagePullPolicy === '') errs.push(required(child(path, 'imagePullPolicy')));
  else if (!PULL_POLICIES.includes(ctr.imagePullPolicy))
    errs.push(notSupported(child(path, 'imagePullPolicy'), ctr.imagePullPolicy, PULL_POLICIES));
  errs.push(...validateResourceRequirements(ctr.resources, child(path, 'resources')));
  errs.push(...validateAppArmorProfileField(ctr.securityContext?.appArmorProfile, child(path, 'securityContext', 'appArmorProfile')));
  return errs;
}

function validateName(ctr: Container, seen: Set<string>, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const namePath = child(path, 'name');
  if (ctr.name === '') errs.push(required(namePath));
  else errs.push(...dns1123Label(ctr.name, namePath));
  if (seen.has(ctr.name)) errs.push(duplicate(namePath, ctr.name));
  else seen.add(ctr.name);
  return errs;
}

// Two containers (or one container twice) may not claim the same protocol/hostIP/hostPort.
// Each entry pairs a container with its own field path.
function checkHostPortConflicts(containers: [Container, string][]): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  for (const [c, path] of containers) {
    (c.ports ?? []).forEach((p, pi) => {
      if (!p.hostPort) return;
      const id = `${p.protocol}/${p.hostIP ?? ''}/${p.hostPort}`;
      if (seen.has(id)) errs.push(duplicate(child(index(child(path, 'ports'), pi), 'hostPort'), id));
      else seen.add(id);
    });
  }
  return errs;
}

export function validateContainers(containers: Container[], volumes: Set<string>, path: string): FieldError[] {
  if (containers.length === 0) return [required(path)];
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  containers.forEach((ctr, i) => {
    const p = index(path, i);
    errs.push(...validateName(ctr, seen, p));
    errs.push(...validateProbesAndLifecycle(ctr, p));
    // Only init containers have a per-container restartPolicy (it makes them sidecars).
    if (ctr.restartPolicy !== undefined) errs.push(forbidden(child(p, 'restartPolicy'), 'may not be set for non-init containers'));
    errs.push(...validateContainer(ctr, volumes, p));
  });
  errs.push(...checkHostPortConflicts(containers.map((c, i) => [c, index(path, i)])));
  return errs;
}

const INIT_ONLY_FIELDS = ['lifecycle', 'livenessProbe', 'readinessProbe', 'startupProbe'] as const;

export function validateInitContainers(init: Container[], regular: Container[], volumes: Set<string>, path: string): FieldError[] {
  const errs: FieldError[] = [];
  // Names are unique across init and app containers, so app names count as already seen.
  const seen = new Set(regular.map((c) => c.name));
  init.forEach((ctr, i) => {
    const p = index(path, i);
    errs.push(...validateName(ctr, seen, p));
    if (ctr.restartPolicy !== undefined && ctr.restartPolicy !== 'Always')
      errs.push(notSupported(child(p, 'restartPolicy'), ctr.restartPolicy, ['Always']));
    if (ctr.restartPolicy === 'Always') {
      errs.push(...validateProbesAndLifecycle(ctr, p));
    } else {
      for (const f of INIT_ONLY_FIELDS)
        if (ctr[f] !== undefined) errs.push(forbidden(child(p, f), 'may not be set for init containers without restartPolicy=Always'));
    }
    errs.push(...validateContainer(ctr, volumes, p));
    // Init containers run one at a time, so only a container's own ports can collide.
    errs.push(...checkHostPortConflicts([[ctr, p]]));
  });
  return errs;
}


/** What an ephemeral container may not set: it runs beside the workload, never as part of it (no traffic, no health, no resources). */
const EPHEMERAL_FORBIDDEN_FIELDS = ['ports', 'livenessProbe', 'readinessProbe', 'startupProbe', 'lifecycle', 'resizePolicy', 'restartPolicy'] as const;
const EPHEMERAL_FORBIDDEN = 'cannot be set for an Ephemeral Container';

/**
 * Upstream's validateEphemeralContainers: names unique across every container of the pod, the fields above refused,
 * no volume subPaths (bind mounts that would outlive the container), a targetContainerName that names a container or
 * init container, and the common container rules.
 */
export function validateEphemeralContainers(ephemeral: EphemeralContainer[] | undefined, regular: Container[], init: Container[], volumes: Set<string>, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const others = new Set([...regular, ...init].map((c) => c.name));
  const seen = new Set(others);
  (ephemeral ?? []).forEach((ctr, i) => {
    const p = index(path, i);
    errs.push(...validateName(ctr, seen, p));
    for (const f of EPHEMERAL_FORBIDDEN_FIELDS) if (ctr[f] !== undefined) errs.push(forbidden(child(p, f), EPHEMERAL_FORBIDDEN));
    const r = ctr.resources;
    if (Object.keys(r.limits ?? {}).length > 0 || Object.keys(r.requests ?? {}).length > 0 || (r.claims ?? []).length > 0) errs.push(forbidden(child(p, 'resources'), EPHEMERAL_FORBIDDEN));
    ctr.volumeMounts.forEach((m, mi) => {
      const mp = index(child(p, 'volumeMounts'), mi);
      if (m.subPath) errs.push(forbidden(child(mp, 'subPath'), EPHEMERAL_FORBIDDEN));
      if (m.subPathExpr) errs.push(forbidden(child(mp, 'subPathExpr'), EPHEMERAL_FORBIDDEN));
    });
    if (ctr.targetContainerName !== undefined && ctr.targetContainerName !== '' && !others.has(ctr.targetContainerName)) errs.push(notFound(child(p, 'targetContainerName'), ctr.targetContainerName));
    errs.push(...validateContainer(ctr, volumes, p));
  });
  return errs;
}
