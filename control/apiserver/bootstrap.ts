import { ApiError } from './http/status.js';
import { findResource, type ResourceDef } from './resources.js';
import type { Rest } from './rest.js';

/** The namespaces every cluster has, created at start as upstream's system namespaces controller does. */
export const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

export async function ensureSystemNamespaces(rest: Rest, now: () => Date = () => new Date()): Promise<void> {
  const def = findResource('', 'v1', 'namespaces') as ResourceDef;
  for (const name of SYSTEM_NAMESPACES) {
    try {
      await rest.create(def, { strict: false, dryRun: false, now: now() }, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 409)) throw err;
    }
  }
}
