import { findResource, type ResourceDef } from '../resources.js';
import { ObjectCache } from '../storage/object-cache.js';
import type { Admission } from '../rest.js';
import type { KubeObject, ObjectStorage } from '../storage/object-storage.js';
import { admissionForbidden, isPod } from './forbidden.js';

/**
 * Priority admission (upstream's plugin/pkg/admission/priority): a new pod's spec.priorityClassName is resolved to
 * spec.priority and spec.preemptionPolicy; a pod without one gets the globalDefault class (the lowest-valued one if
 * a race left several), or priority 0 and PreemptLowerPriority when there is none; an unknown class, or a priority
 * or preemption policy that disagrees with the class, is refused. Updates keep the priority set at creation. Only
 * one PriorityClass may be the global default.
 */

interface PriorityClassLike {
  metadata: KubeObject['metadata'];
  value?: number;
  globalDefault?: boolean;
  preemptionPolicy?: string;
}
interface PodSpec {
  priorityClassName?: string;
  priority?: number;
  preemptionPolicy?: string;
}

/** The default class (globalDefault, lowest value first), or none. */
export function defaultPriorityClass(classes: readonly PriorityClassLike[]): PriorityClassLike | undefined {
  let best: PriorityClassLike | undefined;
  for (const pc of classes) if (pc.globalDefault && (best === undefined || (best.value ?? 0) > (pc.value ?? 0))) best = pc;
  return best;
}

export function priorityAdmission(storage: ObjectStorage): Admission {
  const pcDef = findResource('scheduling.k8s.io', 'v1', 'priorityclasses') as ResourceDef;
  const isPriorityClass = (def: ResourceDef): boolean => def.group === 'scheduling.k8s.io' && def.resource === 'priorityclasses';
  // Read from a watch-fed cache, as upstream's plugin reads its PriorityClass lister: no store round trip per pod.
  const classes = new ObjectCache(storage, pcDef);
  const listClasses = async (): Promise<PriorityClassLike[]> => (await classes.list()) as unknown as PriorityClassLike[];
  return {
    async mutate(op, def, pod, old) {
      if (!isPod(def)) return false;
      // Updates reach this before decoding: a body that is not even shaped like a pod is left to validation.
      if (pod.spec !== undefined && (pod.spec === null || typeof pod.spec !== 'object' || Array.isArray(pod.spec))) return false;
      // Changed as a copy, member by member (see Admission.mutate).
      const spec = { ...((pod.spec ?? {}) as PodSpec) };
      pod.spec = spec as KubeObject['spec'];
      if (op === 'update') {
        // The priority set at creation stays; validation refuses any other change to it.
        const before = (old?.spec ?? {}) as PodSpec;
        let changed = false;
        if (spec.priority === undefined && before.priority !== undefined) {
          spec.priority = before.priority;
          changed = true;
        }
        if (spec.preemptionPolicy === undefined && before.preemptionPolicy !== undefined) {
          spec.preemptionPolicy = before.preemptionPolicy;
          changed = true;
        }
        return changed;
      }
      let name = spec.priorityClassName ?? '';
      let priority = 0;
      let policy: string | undefined = 'PreemptLowerPriority';
      if (name === '') {
        const dpc = defaultPriorityClass(await listClasses());
        if (dpc) {
          name = dpc.metadata.name ?? '';
          priority = dpc.value ?? 0;
          policy = dpc.preemptionPolicy;
        }
      } else {
        const pc = (await classes.get(name)) as PriorityClassLike | undefined;
        if (!pc) throw admissionForbidden(def, pod, `no PriorityClass with name ${name} was found`);
        priority = pc.value ?? 0;
        policy = pc.preemptionPolicy;
      }
      if (name) spec.priorityClassName = name;
      if (spec.priority !== undefined && spec.priority !== priority) {
        throw admissionForbidden(def, pod, `the integer value of priority (${spec.priority}) must not be provided in pod spec; priority admission controller computed ${priority} from the given PriorityClass name`);
      }
      spec.priority = priority;
      if (policy !== undefined) {
        if (spec.preemptionPolicy !== undefined && spec.preemptionPolicy !== policy) {
          throw admissionForbidden(def, pod, `the string value of PreemptionPolicy (${spec.preemptionPolicy}) must not be provided in pod spec; priority admission controller computed ${policy} from the given PriorityClass name`);
        }
        spec.preemptionPolicy = policy;
      }
      return true;
    },
    async admit(op, def, obj) {
      if (!isPriorityClass(def) || (op !== 'create' && op !== 'update')) return;
      if (!(obj as PriorityClassLike).globalDefault) return;
      const dpc = defaultPriorityClass(await listClasses());
      if (dpc && (op === 'create' || dpc.metadata.name !== obj.metadata.name)) {
        throw admissionForbidden(def, obj, `PriorityClass ${dpc.metadata.name} is already marked as default. Only one default can exist`);
      }
    },
  };
}
