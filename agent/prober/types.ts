/**
 * The prober's own view of the pod API. These are structural subsets of control/api's Container and Probe, so the
 * real (defaulted) types are assignable to them without this folder importing control/api.
 */

export type ProbeKind = 'liveness' | 'readiness' | 'startup';

/** A worker's current verdict, as upstream's results.Result. */
export type ProbeResult = 'success' | 'failure' | 'unknown';

/** What one probe attempt said. Errors (the probe could not be run at all) are not outcomes: they are thrown away. */
export type ProbeOutcome = 'success' | 'failure';

export interface HttpHeaderSpec {
  name: string;
  value: string;
}

export interface ProbeSpec {
  exec?: { command?: string[] } | null;
  httpGet?: {
    path?: string;
    port: number | string;
    host?: string;
    scheme?: string;
    httpHeaders?: HttpHeaderSpec[];
  } | null;
  tcpSocket?: { port: number | string; host?: string } | null;
  grpc?: { port: number; service?: string | null } | null;
  /** Defaulted by the API (1, 10, 1, 3, 0); the prober treats them as always set. */
  timeoutSeconds: number;
  periodSeconds: number;
  successThreshold: number;
  failureThreshold: number;
  initialDelaySeconds: number;
}

export interface ContainerPortSpec {
  name?: string;
  containerPort: number;
}

/** The parts of a container spec the prober reads. */
export interface ProbedContainerSpec {
  ports?: ContainerPortSpec[];
  livenessProbe?: ProbeSpec | null;
  readinessProbe?: ProbeSpec | null;
  startupProbe?: ProbeSpec | null;
}

export const PROBE_KINDS: readonly ProbeKind[] = ['startup', 'liveness', 'readiness'];

export function probeOf(spec: ProbedContainerSpec, kind: ProbeKind): ProbeSpec | undefined {
  const p = kind === 'liveness' ? spec.livenessProbe : kind === 'readiness' ? spec.readinessProbe : spec.startupProbe;
  return p ?? undefined;
}
