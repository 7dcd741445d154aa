/**
 * Turns a probe spec into one executor call (upstream prober.go's runProbe): pick the handler, resolve named ports,
 * default the host to the pod IP, build the URL.
 */
import { joinHostPort, type ExecutorResult, type ProbeExecutor } from './executor.js';
import type { ContainerPortSpec, ProbeSpec } from './types.js';

export interface ProbeTarget {
  podIP: string | undefined;
  containerId: string;
  ports: ContainerPortSpec[] | undefined;
}

/** Thrown when a probe cannot be run at all (bad port, no handler): the attempt is thrown away, not failed. */
export class ProbeSetupError extends Error {
  override name = 'ProbeSetupError';
}

/**
 * A port as the probe names it: a number, a container port name, or (upstream's last resort) a number written as a
 * string.
 */
export function resolveProbePort(port: number | string, ports: ContainerPortSpec[] | undefined): number {
  let n: number;
  if (typeof port === 'number') {
    n = port;
  } else {
    const named = ports?.find((p) => p.name === port);
    n = named ? named.containerPort : /^\d+$/.test(port) ? Number(port) : NaN;
    if (Number.isNaN(n)) throw new ProbeSetupError(`cannot find port "${port}" in the container's ports`);
  }
  if (!Number.isInteger(n) || n <= 0 || n >= 65536) throw new ProbeSetupError(`invalid port number: ${n}`);
  return n;
}

/** scheme://host:port/path, with the scheme lower-cased and the path given a leading slash. */
export function probeUrl(scheme: string | undefined, host: string, port: number, path: string | undefined): string {
  const s = (scheme ?? 'http').toLowerCase() || 'http';
  const p = path ?? '';
  return `${s}://${joinHostPort(host, port)}${p.startsWith('/') ? p : `/${p}`}`;
}

export function runProbe(executor: ProbeExecutor, probe: ProbeSpec, target: ProbeTarget): Promise<ExecutorResult> {
  const timeoutMs = Math.max(1, probe.timeoutSeconds) * 1000;
  if (probe.exec) {
    const command = probe.exec.command ?? [];
    if (command.length === 0) return Promise.reject(new ProbeSetupError('exec probe has no command'));
    return executor.exec(target.containerId, command, timeoutMs);
  }
  try {
    if (probe.httpGet) {
      const g = probe.httpGet;
      const host = g.host || requirePodIP(target);
      const url = probeUrl(g.scheme, host, resolveProbePort(g.port, target.ports), g.path);
      return executor.httpGet(url, g.httpHeaders ?? [], timeoutMs);
    }
    if (probe.tcpSocket) {
      const t = probe.tcpSocket;
      return executor.tcp(t.host || requirePodIP(target), resolveProbePort(t.port, target.ports), timeoutMs);
    }
    if (probe.grpc) {
      if (!executor.grpc) throw new ProbeSetupError('grpc probes are not supported by this executor');
      // GRPCAction has no host: upstream always dials the pod IP.
      const port = resolveProbePort(probe.grpc.port, undefined);
      return executor.grpc(requirePodIP(target), port, probe.grpc.service ?? '', timeoutMs);
    }
  } catch (err) {
    return Promise.reject(err);
  }
  return Promise.reject(new ProbeSetupError('missing probe handler'));
}

function requirePodIP(target: ProbeTarget): string {
  if (!target.podIP) throw new ProbeSetupError('the pod has no IP yet');
  return target.podIP;
}
