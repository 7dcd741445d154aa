import { isDeepStrictEqual } from 'node:util';
import { daemonSetKind } from '../../api/index.js';
import type { ResourceDef } from '../resources.js';
import type { KubeObject } from '../storage/object-storage.js';
import { typedStrategy } from './apps-common.js';
import type { Prepared, Strategy } from './strategy.js';

/** Where apps/v1 keeps the DaemonSet's template generation (upstream's internal spec.templateGeneration). */
export const TEMPLATE_GENERATION_ANNOTATION = 'deprecated.daemonset.template.generation';

const templateOf = (o: KubeObject): unknown => (o.spec as { template?: unknown } | undefined)?.template;

function withTemplateGeneration(p: Prepared, generation: number): Prepared {
  if (!p.ok) return p;
  p.obj.metadata = { ...p.obj.metadata, annotations: { ...(p.obj.metadata.annotations ?? {}), [TEMPLATE_GENERATION_ANNOTATION]: String(generation) } };
  return p;
}

/**
 * DaemonSets: upstream's defaults (RollingUpdate maxUnavailable 1, maxSurge 0) and validation; the selector is
 * immutable. The template generation starts at 1 and goes up with every template change, as upstream's strategy keeps it.
 */
export function daemonSetStrategy(def: ResourceDef): Strategy {
  const base = typedStrategy(def, daemonSetKind);
  return {
    ...base,
    prepareCreate: (obj, ctx) => withTemplateGeneration(base.prepareCreate(obj, ctx), 1),
    prepareUpdate: (obj, old, ctx) => {
      const p = base.prepareUpdate(obj, old, ctx);
      if (!p.ok) return p;
      const before = Number(old.metadata.annotations?.[TEMPLATE_GENERATION_ANNOTATION] ?? '1');
      const prev = Number.isInteger(before) && before > 0 ? before : 1;
      return withTemplateGeneration(p, isDeepStrictEqual(JSON.parse(JSON.stringify(templateOf(p.obj) ?? null)), JSON.parse(JSON.stringify(templateOf(old) ?? null))) ? prev : prev + 1);
    },
  };
}
