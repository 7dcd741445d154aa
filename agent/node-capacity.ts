import { cpus, totalmem } from 'node:os';
import type { ResourceList } from '../control/api/index.js';

/**
 * What this host gives pods, in the units the kubelet reports a Node's capacity in: CPU cores, memory in Ki, and
 * ephemeral-storage (not measured: 0). With no reservations, allocatable is the same. The Node's status posts these
 * (cluster/node-status.ts) and the downward API reads them for a container without a limit (kuberuntime).
 */
export function hostCapacity(): ResourceList {
  return { cpu: String(cpus().length), memory: `${Math.floor(totalmem() / 1024)}Ki`, 'ephemeral-storage': '0' };
}

/** A Node's status.capacity (and allocatable): the host's figures and how many pods it takes (--max-pods). */
export function nodeCapacity(maxPods: number): ResourceList {
  return { ...hostCapacity(), pods: String(maxPods) };
}
