import { ingressCreateWarnings, ingressKind, type Ingress } from '../../api/index.js';
import { parseKind, type ParseResult } from '../../api/apps/common.js';
import type { ResourceDef } from '../resources.js';
import { typedStrategy } from './apps-common.js';
import type { Strategy } from './strategy.js';

/**
 * Ingresses: upstream's rules for rules, paths, backends and TLS; status reset on create and kept by the main
 * resource; generation bumped by spec changes; a warning for the deprecated kubernetes.io/ingress.class annotation.
 */
export function ingressStrategy(def: ResourceDef): Strategy {
  return typedStrategy<Ingress>(def, ingressKind, {
    parseCreate(input, opts): ParseResult<Ingress> {
      const r = parseKind(ingressKind, input, opts) as ParseResult<Ingress>;
      return r.ok ? { ...r, warnings: [...r.warnings, ...ingressCreateWarnings(r.object)] } : r;
    },
  });
}
