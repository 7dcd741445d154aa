import { horizontalPodAutoscalerKind, horizontalPodAutoscalerV1Kind } from '../../api/index.js';
import type { ResourceDef } from '../resources.js';
import { typedStrategy } from './apps-common.js';
import type { Strategy } from './strategy.js';

/**
 * HorizontalPodAutoscalers: v2 is the stored form (minReplicas 1, 80% CPU by default, behavior defaults). The v1
 * endpoint applies the same defaults and rules through hpaV1ToV2/hpaV2ToV1 (a v1 object's extra v2 content rides in
 * the autoscaling.alpha.kubernetes.io/* annotations).
 */
export function horizontalPodAutoscalerStrategy(def: ResourceDef): Strategy {
  return typedStrategy(def, def.version === 'v1' ? horizontalPodAutoscalerV1Kind : horizontalPodAutoscalerKind);
}
