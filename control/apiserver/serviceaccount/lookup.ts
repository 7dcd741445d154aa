import { findResource, type ResourceDef } from '../resources.js';
import type { ObjectStorage } from '../storage/object-storage.js';
import type { TokenLookup } from './tokens.js';

/** Token checks read the objects straight from storage (as upstream's authenticator reads through its getters). */
export function storageTokenLookup(storage: ObjectStorage): TokenLookup {
  const def = (resource: string): ResourceDef => findResource('', 'v1', resource) as ResourceDef;
  return {
    async serviceAccount(namespace, name) {
      const sa = await storage.tryGet(def('serviceaccounts'), namespace, name);
      return sa?.metadata.uid ? { uid: sa.metadata.uid } : undefined;
    },
    async pod(namespace, name) {
      const pod = await storage.tryGet(def('pods'), namespace, name);
      if (!pod?.metadata.uid) return undefined;
      const spec = pod.spec as { nodeName?: string; serviceAccountName?: string } | undefined;
      return {
        uid: pod.metadata.uid,
        ...(spec?.nodeName ? { nodeName: spec.nodeName } : {}),
        ...(spec?.serviceAccountName ? { serviceAccountName: spec.serviceAccountName } : {}),
        ...(pod.metadata.deletionTimestamp ? { deleting: true } : {}),
      };
    },
    async node(name) {
      const node = await storage.tryGet(def('nodes'), undefined, name);
      return node?.metadata.uid ? { uid: node.metadata.uid } : undefined;
    },
    async secret(namespace, name) {
      const secret = await storage.tryGet(def('secrets'), namespace, name);
      return secret?.metadata.uid ? { uid: secret.metadata.uid } : undefined;
    },
  };
}
