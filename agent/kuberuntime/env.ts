import type { Container, Pod } from '../../control/api/index.js';
import type { ResourceList } from '../../control/api/index.js';
import { hostCapacity } from '../node-capacity.js';
import { containerResourceValue, DownwardAPIError, podFieldPathValue } from './downward-api.js';

/**
 * Expands `$(VAR)` references as the kubelet does: a reference to a defined variable is replaced, `$$` escapes a
 * dollar, and a reference to an undefined variable is left as written.
 */
export function expandVars(input: string, lookup: (name: string) => string | undefined): string {
  let out = '';
  for (let i = 0; i < input.length; i++) {
    const ch = input[i];
    if (ch !== '$' || i + 1 >= input.length) {
      out += ch;
      continue;
    }
    const next = input[i + 1];
    if (next === '$') {
      out += '$';
      i++;
      continue;
    }
    if (next === '(') {
      const close = input.indexOf(')', i + 2);
      if (close === -1) {
        // An incomplete reference is kept as written; what follows is still expanded ("$$" escapes), as upstream.
        out += '$(';
        i++;
        continue;
      }
      const name = input.slice(i + 2, close);
      const value = lookup(name);
      out += value ?? `$(${name})`;
      i = close;
      continue;
    }
    out += ch;
  }
  return out;
}

export interface EnvContext {
  pod: Pod;
  podIP?: string;
  hostIP?: string;
  /** Looks up ConfigMap and Secret keys; absent in static mode, where references are an error as upstream says. */
  configMapKey?(namespace: string, name: string, key: string): string | undefined;
  secretKey?(namespace: string, name: string, key: string): string | undefined;
  /** Service environment variables (FOO_SERVICE_HOST ...), added before the container's own. */
  serviceEnv?: Array<{ name: string; value: string }>;
  /**
   * Cluster mode: a whole ConfigMap's data (Secret's data, decoded), or undefined when it does not exist. With these,
   * references use upstream's messages ("configmap "x" not found", "couldn't find key k in ConfigMap ns/x").
   */
  configMap?(namespace: string, name: string): Record<string, string> | undefined;
  secret?(namespace: string, name: string): Record<string, string> | undefined;
  /** envFrom keys that are not valid variable names are skipped; this hears of them (the kubelet's event). */
  invalidEnvFromKeys?(kind: 'configMap' | 'secret', name: string, keys: string[]): void;
  /** What limits.* reads for a container without that limit (upstream: the node's allocatable); default this host. */
  nodeAllocatable?: ResourceList;
}

/** Upstream's IsEnvVarName (the kubelet's check on envFrom keys). */
export const isEnvVarName = (name: string): boolean => /^[-._a-zA-Z][-._a-zA-Z0-9]*$/.test(name);

function lookupKey(ctx: EnvContext, kind: 'configMap' | 'secret', ns: string, name: string, key: string, optional: boolean | undefined): string | undefined {
  const whole = kind === 'configMap' ? ctx.configMap : ctx.secret;
  if (whole) {
    const data = whole.call(ctx, ns, name);
    if (data === undefined) {
      if (optional) return undefined;
      throw new EnvError(`${kind === 'configMap' ? 'configmap' : 'secret'} "${name}" not found`);
    }
    if (!Object.hasOwn(data, key)) {
      if (optional) return undefined;
      throw new EnvError(`couldn't find key ${key} in ${kind === 'configMap' ? 'ConfigMap' : 'Secret'} ${ns}/${name}`);
    }
    return data[key];
  }
  const v = kind === 'configMap' ? ctx.configMapKey?.(ns, name, key) : ctx.secretKey?.(ns, name, key);
  if (v === undefined && !optional) throw new EnvError(`${kind === 'configMap' ? 'configmap' : 'secret'} "${name}" key "${key}" not found`);
  return v;
}

export class EnvError extends Error {}

/** podFieldSelectorRuntimeValue: the fields only the running pod knows, then the pod's metadata. */
function fieldRefValue(ctx: EnvContext, fieldPath: string): string {
  const { pod } = ctx;
  switch (fieldPath) {
    case 'spec.nodeName':
      return pod.spec.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec.serviceAccountName ?? '';
    case 'status.hostIP':
    case 'status.hostIPs':
      return ctx.hostIP ?? '';
    case 'status.podIP':
    case 'status.podIPs':
      return ctx.podIP ?? '';
    default:
      return asEnvError(() => podFieldPathValue(pod, fieldPath));
  }
}

/** The downward API's errors, as the environment's. */
function asEnvError(fn: () => string): string {
  try {
    return fn();
  } catch (err) {
    if (err instanceof DownwardAPIError) throw new EnvError(err.message);
    throw err;
  }
}

function envResourceValue(ctx: EnvContext, container: Container, resource: string, divisor: string | number | undefined): string {
  return asEnvError(() => containerResourceValue(container, resource, divisor, ctx.nodeAllocatable ?? hostCapacity()));
}

/** The container's environment, in upstream's order: service variables, envFrom, then env (later wins). */
export function containerEnv(container: Container, ctx: EnvContext): Array<{ name: string; value: string }> {
  const values = new Map<string, string>();
  for (const e of ctx.serviceEnv ?? []) values.set(e.name, e.value);
  const ns = ctx.pod.metadata.namespace;
  for (const from of container.envFrom ?? []) {
    const prefix = from.prefix ?? '';
    const kind = from.configMapRef ? 'configMap' : from.secretRef ? 'secret' : undefined;
    if (!kind) continue;
    const ref = (from.configMapRef ?? from.secretRef) as { name?: string; optional?: boolean };
    const whole = kind === 'configMap' ? ctx.configMap : ctx.secret;
    if (!whole) throw new EnvError(`envFrom ${kind}Ref needs the API server (static pods cannot reference it)`);
    const data = whole.call(ctx, ns, ref.name ?? '');
    if (data === undefined) {
      if (ref.optional) continue;
      throw new EnvError(`${kind === 'configMap' ? 'configmap' : 'secret'} "${ref.name}" not found`);
    }
    const invalid: string[] = [];
    for (const [k, v] of Object.entries(data)) {
      const key = prefix + k;
      if (!isEnvVarName(key)) {
        invalid.push(key);
        continue;
      }
      values.set(key, v);
    }
    if (invalid.length > 0) ctx.invalidEnvFromKeys?.(kind, ref.name ?? '', invalid.sort());
  }
  const lookup = (name: string): string | undefined => values.get(name);
  for (const e of container.env ?? []) {
    if (e.valueFrom) {
      const vf = e.valueFrom;
      if (vf.fieldRef) values.set(e.name, fieldRefValue(ctx, vf.fieldRef.fieldPath));
      else if (vf.resourceFieldRef) values.set(e.name, envResourceValue(ctx, container, vf.resourceFieldRef.resource, vf.resourceFieldRef.divisor));
      else if (vf.configMapKeyRef) {
        const v = lookupKey(ctx, 'configMap', ns, vf.configMapKeyRef.name ?? '', vf.configMapKeyRef.key, vf.configMapKeyRef.optional);
        if (v === undefined) continue;
        values.set(e.name, v);
      } else if (vf.secretKeyRef) {
        const v = lookupKey(ctx, 'secret', ns, vf.secretKeyRef.name ?? '', vf.secretKeyRef.key, vf.secretKeyRef.optional);
        if (v === undefined) continue;
        values.set(e.name, v);
      }
      continue;
    }
    values.set(e.name, expandVars(e.value ?? '', lookup));
  }
  return [...values].map(([name, value]) => ({ name, value }));
}

/** command and args with `$(VAR)` expanded against the container's environment. */
export function expandCommand(container: Container, env: Array<{ name: string; value: string }>): Container {
  const map = new Map(env.map((e) => [e.name, e.value]));
  const lookup = (n: string): string | undefined => map.get(n);
  return {
    ...container,
    ...(container.command ? { command: container.command.map((s) => expandVars(s, lookup)) } : {}),
    ...(container.args ? { args: container.args.map((s) => expandVars(s, lookup)) } : {}),
  };
}
