export type { ContainerPortSpec, HttpHeaderSpec, ProbeKind, ProbeOutcome, ProbeResult, ProbeSpec, ProbedContainerSpec } from './types.js';
export { PROBE_KINDS, probeOf } from './types.js';
export type { ContainerView, ProbeState } from './state.js';
export {
  initialProbeState,
  initialResult,
  nextProbeAt,
  observeContainer,
  probeDue,
  recordOutcome,
  recordProbeError,
} from './state.js';
export type { Clock, TimerHandle } from './clock.js';
export { realClock } from './clock.js';
export type { ExecutorResult, ProbeExecutor, ProbeExecutorOptions } from './executor.js';
export { createProbeExecutor, KUBE_VERSION, PROBE_USER_AGENT, probeHeaders } from './executor.js';
export type { ProbeTarget } from './action.js';
export { ProbeSetupError, probeUrl, resolveProbePort, runProbe } from './action.js';
export type { ProbeChangeListener, ProbeCounter, ProbedContainer, ProbeManagerOptions } from './manager.js';
export { PROBER_PROBE_TOTAL, ProbeManager, proberResultLabel } from './manager.js';
