import { ApiError } from '../http/status.js';
import { findResource, type ResourceDef } from '../resources.js';
import type { Admission, RequestContext } from '../rest.js';
import { ObjectCache } from '../storage/object-cache.js';
import type { KubeObject, ObjectStorage } from '../storage/object-storage.js';

/** Namespaces that always exist and cannot be deleted, as upstream's NamespaceLifecycle plugin protects them. */
export const IMMORTAL_NAMESPACES = ['default', 'kube-system', 'kube-public'];

/**
 * NamespaceLifecycle: nothing is created in a namespace that does not exist or is being terminated, and the system
 * namespaces cannot be deleted.
 */
export function namespaceLifecycle(storage: ObjectStorage): Admission {
  const nsDef = findResource('', 'v1', 'namespaces') as ResourceDef;
  // Read from a watch-fed cache, as upstream's plugin reads its namespace lister: no store round trip per create.
  const namespaces = new ObjectCache(storage, nsDef);
  return {
    // Upstream's plugin is a mutating one and the first of the chain: nothing else looks at an object whose namespace
    // cannot take it.
    async mutate(op, def, obj) {
      if (op !== 'create' || !def.namespaced) return false;
      const ns = obj.metadata.namespace ?? '';
      const namespace = await namespaces.get(ns);
      if (!namespace) throw new ApiError(404, 'NotFound', `namespaces "${ns}" not found`, { name: ns, kind: 'namespaces' });
      const phase = (namespace.status as { phase?: string } | undefined)?.phase;
      if (namespace.metadata.deletionTimestamp || phase === 'Terminating') {
        throw new ApiError(403, 'Forbidden', `${def.group ? `${def.resource}.${def.group}` : def.resource} "${obj.metadata.name}" is forbidden: unable to create new content in namespace ${ns} because it is being terminated`, {
          name: obj.metadata.name ?? '',
          kind: def.resource,
          causes: [{ reason: 'NamespaceTerminating', message: `namespace ${ns} is being terminated`, field: 'metadata.namespace' }],
        });
      }
      return false;
    },
    async admit(op: 'create' | 'update' | 'delete', def: ResourceDef, obj: KubeObject, _old: KubeObject | undefined, _ctx: RequestContext): Promise<void> {
      if (def.group === '' && def.kind === 'Namespace' && op === 'delete' && IMMORTAL_NAMESPACES.includes(obj.metadata.name ?? '')) {
        throw new ApiError(403, 'Forbidden', `namespaces "${obj.metadata.name}" is forbidden: this namespace may not be deleted`, { name: obj.metadata.name ?? '', kind: 'namespaces' });
      }
    },
  };
}

/**
 * Runs admission plugins in order, as upstream's chain does: every plugin's mutating phase first, then every plugin's
 * validating phase; the first refusal wins.
 */
export function chainAdmission(plugins: Admission[]): Admission {
  return {
    async mutate(op, def, obj, old, ctx) {
      let changed = false;
      for (const p of plugins) if (p.mutate && (await p.mutate(op, def, obj, old, ctx))) changed = true;
      return changed;
    },
    async admit(op, def, obj, old, ctx) {
      for (const p of plugins) await p.admit(op, def, obj, old, ctx);
    },
    async rollback(op, def, obj, old) {
      for (const p of plugins) await p.rollback?.(op, def, obj, old);
    },
  };
}
