import { SYSTEM_PRIORITY_CLASSES } from '../api/index.js';
import { ApiError } from './http/status.js';
import { findResource, type ResourceDef } from './resources.js';
import type { Rest } from './rest.js';

/** system-node-critical and system-cluster-critical, created at start as upstream's bootstrap (scheduling REST storage) does. */
export async function ensureSystemPriorityClasses(rest: Rest, now: () => Date = () => new Date()): Promise<void> {
  const def = findResource('scheduling.k8s.io', 'v1', 'priorityclasses') as ResourceDef;
  for (const pc of SYSTEM_PRIORITY_CLASSES) {
    if (await rest.storage.tryGet(def, undefined, pc.name)) continue;
    try {
      await rest.create(def, { strict: false, dryRun: false, now: now() }, {
        apiVersion: 'scheduling.k8s.io/v1',
        kind: 'PriorityClass',
        metadata: { name: pc.name },
        value: pc.value,
        globalDefault: pc.globalDefault,
        description: pc.description,
      });
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 409)) throw err;
    }
  }
}
