import type { ResourceDef } from '../resources.js';
import type { Admission, RequestContext } from '../rest.js';
import type { KubeObject } from '../storage/object-storage.js';

export const TAINT_NODE_NOT_READY = 'node.kubernetes.io/not-ready';
export const TAINT_NODE_UNREACHABLE = 'node.kubernetes.io/unreachable';
/** --default-not-ready-toleration-seconds and --default-unreachable-toleration-seconds. */
export const DEFAULT_TOLERATION_SECONDS = 300;

interface Toleration {
  key?: string;
  operator?: string;
  effect?: string;
  tolerationSeconds?: number;
}

/** True when one of the tolerations already covers the NoExecute taint `key` (an empty key or effect covers all). */
function covers(tolerations: readonly Toleration[], key: string): boolean {
  return tolerations.some((t) => (!t.key || t.key === key) && (!t.effect || t.effect === 'NoExecute'));
}

/**
 * DefaultTolerationSeconds: a new pod that does not tolerate the not-ready and unreachable NoExecute taints gets
 * tolerations for them lasting 300 s (the flags' defaults), so taint-based eviction moves it five minutes after its
 * node fails rather than at once.
 */
export function defaultTolerationSeconds(opts: { notReadySeconds?: number; unreachableSeconds?: number } = {}): Admission {
  return {
    // A mutating plugin, as upstream's: the tolerations it adds are then defaulted and validated with the rest.
    async mutate(op: 'create' | 'update', def: ResourceDef, obj: KubeObject, _old: KubeObject | undefined, _ctx: RequestContext): Promise<boolean> {
      if (op !== 'create' || def.group !== '' || def.kind !== 'Pod') return false;
      const spec = (obj.spec ?? {}) as { tolerations?: Toleration[] };
      const tolerations = [...(spec.tolerations ?? [])];
      if (!covers(tolerations, TAINT_NODE_NOT_READY)) {
        tolerations.push({ key: TAINT_NODE_NOT_READY, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: opts.notReadySeconds ?? DEFAULT_TOLERATION_SECONDS });
      }
      if (!covers(tolerations, TAINT_NODE_UNREACHABLE)) {
        tolerations.push({ key: TAINT_NODE_UNREACHABLE, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: opts.unreachableSeconds ?? DEFAULT_TOLERATION_SECONDS });
      }
      if (tolerations.length === (spec.tolerations ?? []).length) return false;
      obj.spec = { ...spec, tolerations };
      return true;
    },
    async admit(): Promise<void> {},
  };
}
