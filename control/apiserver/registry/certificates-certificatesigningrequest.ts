import { certificateSigningRequestKind } from '../../api/index.js';
import type { UserInfo } from '../authn.js';
import type { ResourceDef } from '../resources.js';
import type { KubeObject } from '../storage/object-storage.js';
import { str, typedStrategy } from './apps-common.js';
import type { PrepareContext, Strategy } from './strategy.js';

/**
 * CertificateSigningRequests: the request must be a valid, self-signed PEM CSR; the requester's identity is recorded
 * from the authenticated user (whatever the client claimed, as upstream's PrepareForCreate); the spec cannot change
 * after creation (a main-resource update keeps the stored one); spec.signerName is selectable.
 */
export function certificateSigningRequestStrategy(def: ResourceDef): Strategy {
  const base = typedStrategy(def, certificateSigningRequestKind, {
    generation: false,
    beforeUpdate: (obj, old) => ({ ...obj, spec: old.spec }),
    fields: (o) => ({ 'spec.signerName': str((o.spec as { signerName?: string } | undefined)?.signerName) }),
  });
  return {
    ...base,
    prepareCreate(obj: KubeObject, ctx: PrepareContext) {
      // The REST layer passes its whole request context; the user is there when the request was authenticated.
      const user = (ctx as PrepareContext & { user?: UserInfo }).user;
      if (!user) return base.prepareCreate(obj, ctx);
      const { username: _u, uid: _i, groups: _g, extra: _e, ...spec } = (obj.spec ?? {}) as Record<string, unknown>;
      const extra = Object.keys(user.extra ?? {}).length > 0 ? { extra: Object.fromEntries(Object.entries(user.extra ?? {}).map(([k, v]) => [k, [...v]])) } : {};
      const identity = { username: user.name, ...(user.uid ? { uid: user.uid } : {}), ...(user.groups.length ? { groups: [...user.groups] } : {}), ...extra };
      return base.prepareCreate({ ...obj, spec: { ...spec, ...identity } }, ctx);
    },
  };
}
