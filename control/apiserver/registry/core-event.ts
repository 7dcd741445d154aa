import { Event, EventsV1Event, validateEvent, validateEventsV1Event, validateEventsV1EventUpdate, validateEventUpdate } from '../../api/index.js';
import type { ResourceDef } from '../resources.js';
import type { KubeObject } from '../storage/object-storage.js';
import { rec, str, typedStrategy } from './core-common.js';
import type { Strategy } from './strategy.js';

// Both APIs share one store, so an object may carry either API's field names.
const regardingOf = (o: KubeObject) => rec(o.involvedObject ?? o.regarding);
const reportingOf = (o: KubeObject) => str(o.reportingComponent ?? o.reportingController);

/** core/v1 events: legacy validation only (as upstream, for old clients) and the field selectors kubectl uses. */
export function coreEventStrategy(def: ResourceDef): Strategy {
  return typedStrategy(
    def,
    { schema: Event, validateCreate: validateEvent, validateUpdate: validateEventUpdate },
    {
      statusSubresource: false,
      fields: (o) => {
        const io = regardingOf(o);
        const source = str(rec(o.source ?? o.deprecatedSource).component) || reportingOf(o);
        return {
          'involvedObject.kind': str(io.kind),
          'involvedObject.namespace': str(io.namespace),
          'involvedObject.name': str(io.name),
          'involvedObject.uid': str(io.uid),
          'involvedObject.apiVersion': str(io.apiVersion),
          'involvedObject.resourceVersion': str(io.resourceVersion),
          'involvedObject.fieldPath': str(io.fieldPath),
          reason: str(o.reason),
          reportingComponent: reportingOf(o),
          source,
          type: str(o.type),
        };
      },
    },
  );
}

/** events.k8s.io/v1 events: legacy plus strict validation, only the series may change, regarding.* selectors. */
export function coreEventsV1Strategy(def: ResourceDef): Strategy {
  return typedStrategy(
    def,
    { schema: EventsV1Event, validateCreate: validateEventsV1Event, validateUpdate: validateEventsV1EventUpdate },
    {
      statusSubresource: false,
      fields: (o) => {
        const io = regardingOf(o);
        return {
          'regarding.kind': str(io.kind),
          'regarding.namespace': str(io.namespace),
          'regarding.name': str(io.name),
          'regarding.uid': str(io.uid),
          'regarding.apiVersion': str(io.apiVersion),
          'regarding.resourceVersion': str(io.resourceVersion),
          'regarding.fieldPath': str(io.fieldPath),
          reason: str(o.reason),
          reportingController: reportingOf(o),
          type: str(o.type),
        };
      },
    },
  );
}
