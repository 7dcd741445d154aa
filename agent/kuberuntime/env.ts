import type { Container, Pod } from '../../control/api/index.js';
import { cpuMillis, memoryBytes } from '../../control/api/index.js';

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
}

export class EnvError extends Error {}

function fieldRefValue(ctx: EnvContext, fieldPath: string): string {
  const { pod } = ctx;
  const sub = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(fieldPath);
  if (sub) {
    const map = sub[1] === 'labels' ? pod.metadata.labels : pod.metadata.annotations;
    return map?.[sub[2] as string] ?? '';
  }
  switch (fieldPath) {
    case 'metadata.name':
      return pod.metadata.name ?? '';
    case 'metadata.namespace':
      return pod.metadata.namespace;
    case 'metadata.uid':
      return pod.metadata.uid ?? '';
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
      throw new EnvError(`unsupported fieldRef "${fieldPath}"`);
  }
}

function resourceValue(container: Container, resource: string, divisor: string | number | undefined): string {
  const [kind, name] = resource.split('.') as [string, string];
  const bag = kind === 'limits' ? container.resources?.limits : container.resources?.requests;
  const q = bag?.[name];
  if (name === 'cpu') {
    const millis = q !== undefined ? cpuMillis(q) : 0;
    const div = divisor !== undefined ? cpuMillis(divisor) : 1000;
    return String(Math.ceil(millis / (div || 1000)));
  }
  const bytes = q !== undefined ? memoryBytes(q) : 0;
  const div = divisor !== undefined ? memoryBytes(divisor) : 1;
  return String(Math.ceil(bytes / (div || 1)));
}

/** The container's environment, in upstream's order: service variables, envFrom, then env (later wins). */
export function containerEnv(container: Container, ctx: EnvContext): Array<{ name: string; value: string }> {
  const values = new Map<string, string>();
  for (const e of ctx.serviceEnv ?? []) values.set(e.name, e.value);
  const ns = ctx.pod.metadata.namespace;
  for (const from of container.envFrom ?? []) {
    const prefix = from.prefix ?? '';
    if (from.configMapRef || from.secretRef) {
      throw new EnvError(`envFrom ${from.configMapRef ? 'configMapRef' : 'secretRef'} needs the API server (static pods cannot reference it)`);
    }
    void prefix;
  }
  const lookup = (name: string): string | undefined => values.get(name);
  for (const e of container.env ?? []) {
    if (e.valueFrom) {
      const vf = e.valueFrom;
      if (vf.fieldRef) values.set(e.name, fieldRefValue(ctx, vf.fieldRef.fieldPath));
      else if (vf.resourceFieldRef) values.set(e.name, resourceValue(container, vf.resourceFieldRef.resource, vf.resourceFieldRef.divisor));
      else if (vf.configMapKeyRef) {
        const v = ctx.configMapKey?.(ns, vf.configMapKeyRef.name ?? '', vf.configMapKeyRef.key);
        if (v === undefined) {
          if (vf.configMapKeyRef.optional) continue;
          throw new EnvError(`configmap "${vf.configMapKeyRef.name}" key "${vf.configMapKeyRef.key}" not found`);
        }
        values.set(e.name, v);
      } else if (vf.secretKeyRef) {
        const v = ctx.secretKey?.(ns, vf.secretKeyRef.name ?? '', vf.secretKeyRef.key);
        if (v === undefined) {
          if (vf.secretKeyRef.optional) continue;
          throw new EnvError(`secret "${vf.secretKeyRef.name}" key "${vf.secretKeyRef.key}" not found`);
        }
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
