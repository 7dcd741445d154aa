import type { Informer } from '../client/index.js';
import type { Expectations } from './expectations.js';
import { controllerRef, keyOf, type Obj, type Pod } from './objects.js';
import { claimPods } from './replicaset.js';
import type { Requirement } from '../api/selectors.js';

/**
 * The pod event handlers DaemonSet and StatefulSet controllers share with the ReplicaSet controller's: a pod wakes its
 * controller (and counts towards its expectations); an orphan wakes every owner whose selector matches it.
 */
export function watchOwnedPods<O extends Obj>(opts: {
  pods: Informer<Pod>;
  owners: Informer<O>;
  kind: string;
  enqueue: (key: string) => void;
  selector: (owner: O) => Requirement[] | 'nothing';
  expectations?: Expectations;
}): void {
  const resolve = (pod: Pod): O | undefined => {
    const ref = controllerRef(pod);
    if (!ref || ref.kind !== opts.kind) return undefined;
    const owner = opts.owners.get(`${pod.metadata.namespace}/${ref.name}`);
    return owner && owner.metadata.uid === ref.uid ? owner : undefined;
  };
  const orphan = (pod: Pod): void => {
    if (pod.metadata.deletionTimestamp) return;
    for (const o of opts.owners.list()) {
      if (o.metadata.namespace !== pod.metadata.namespace) continue;
      const sel = opts.selector(o);
      if (sel !== 'nothing' && claimPods(o.metadata.uid ?? '', false, sel, [pod]).adopt.length) opts.enqueue(keyOf(o));
    }
  };
  opts.pods.addHandlers({
    onAdd: (pod) => {
      const owner = resolve(pod);
      if (owner) {
        opts.expectations?.creationObserved(keyOf(owner));
        opts.enqueue(keyOf(owner));
      } else if (!controllerRef(pod)) orphan(pod);
    },
    onUpdate: (old, pod) => {
      if (old.metadata.resourceVersion === pod.metadata.resourceVersion) return;
      const before = resolve(old);
      const owner = resolve(pod);
      if (before && before !== owner) opts.enqueue(keyOf(before));
      if (owner) {
        if (pod.metadata.deletionTimestamp && !old.metadata.deletionTimestamp) opts.expectations?.deletionObserved(keyOf(owner), keyOf(pod));
        opts.enqueue(keyOf(owner));
      } else if (!controllerRef(pod)) orphan(pod);
    },
    onDelete: (pod) => {
      const owner = resolve(pod);
      if (!owner) return;
      opts.expectations?.deletionObserved(keyOf(owner), keyOf(pod));
      opts.enqueue(keyOf(owner));
    },
  });
}
