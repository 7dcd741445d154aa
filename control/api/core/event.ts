// core/v1 Event and events.k8s.io/v1 Event: upstream validates both as the internal Event (legacyValidateEvent),
// plus the stricter rules for objects written through events.k8s.io/v1. Field paths are the internal ones
// (involvedObject, message, reportingController), exactly as upstream reports them for either API.
import { z } from 'zod';
import { invalid, required, type FieldError } from '../errors.js';
import { ObjectMeta, validateObjectMeta } from '../meta.js';
import { isDNS1123Subdomain, isQualifiedName } from '../names.js';
import { immutableField, jsonEqual } from './common.js';
import { ObjectReference } from './endpoints.js';

const int = () => z.number().int();

export const EventSource = z.object({ component: z.string().optional(), host: z.string().optional() });
export const EventSeries = z.object({ count: int().optional(), lastObservedTime: z.string().optional() });

/** core/v1 Event. metav1.Time zero values are serialised as null by upstream clients, so nulls are accepted. */
export const Event = z.object({
  apiVersion: z.literal('v1'),
  kind: z.literal('Event'),
  metadata: ObjectMeta.prefault({}),
  involvedObject: ObjectReference.prefault({}),
  reason: z.string().optional(),
  message: z.string().optional(),
  source: EventSource.optional(),
  firstTimestamp: z.string().optional(),
  lastTimestamp: z.string().optional(),
  count: int().optional(),
  type: z.string().optional(),
  eventTime: z.string().optional(),
  series: EventSeries.optional(),
  action: z.string().optional(),
  related: ObjectReference.optional(),
  reportingComponent: z.string().optional(),
  reportingInstance: z.string().optional(),
});
export type Event = z.output<typeof Event>;

/** events.k8s.io/v1 Event. */
export const EventsV1Event = z.object({
  apiVersion: z.literal('events.k8s.io/v1'),
  kind: z.literal('Event'),
  metadata: ObjectMeta.prefault({}),
  eventTime: z.string().optional(),
  series: EventSeries.optional(),
  reportingController: z.string().optional(),
  reportingInstance: z.string().optional(),
  action: z.string().optional(),
  reason: z.string().optional(),
  regarding: ObjectReference.optional(),
  related: ObjectReference.optional(),
  note: z.string().optional(),
  type: z.string().optional(),
  deprecatedSource: EventSource.optional(),
  deprecatedFirstTimestamp: z.string().optional(),
  deprecatedLastTimestamp: z.string().optional(),
  deprecatedCount: int().optional(),
});
export type EventsV1Event = z.output<typeof EventsV1Event>;

/** The internal Event both APIs convert to. */
export interface InternalEvent {
  namespace: string;
  involvedObject: ObjectReference;
  reason: string;
  message: string;
  source: { component: string; host: string };
  firstTimestamp: string;
  lastTimestamp: string;
  count: number;
  type: string;
  eventTime: string;
  series?: { count: number; lastObservedTime: string };
  action: string;
  related?: ObjectReference;
  reportingController: string;
  reportingInstance: string;
}

export function internalFromCoreEvent(e: Event): InternalEvent {
  return {
    namespace: e.metadata.namespace ?? '',
    involvedObject: e.involvedObject,
    reason: e.reason ?? '',
    message: e.message ?? '',
    source: { component: e.source?.component ?? '', host: e.source?.host ?? '' },
    firstTimestamp: e.firstTimestamp ?? '',
    lastTimestamp: e.lastTimestamp ?? '',
    count: e.count ?? 0,
    type: e.type ?? '',
    eventTime: e.eventTime ?? '',
    ...(e.series ? { series: { count: e.series.count ?? 0, lastObservedTime: e.series.lastObservedTime ?? '' } } : {}),
    action: e.action ?? '',
    ...(e.related ? { related: e.related } : {}),
    reportingController: e.reportingComponent ?? '',
    reportingInstance: e.reportingInstance ?? '',
  };
}

export function internalFromEventsV1(e: EventsV1Event): InternalEvent {
  return {
    namespace: e.metadata.namespace ?? '',
    involvedObject: e.regarding ?? {},
    reason: e.reason ?? '',
    message: e.note ?? '',
    source: { component: e.deprecatedSource?.component ?? '', host: e.deprecatedSource?.host ?? '' },
    firstTimestamp: e.deprecatedFirstTimestamp ?? '',
    lastTimestamp: e.deprecatedLastTimestamp ?? '',
    count: e.deprecatedCount ?? 0,
    type: e.type ?? '',
    eventTime: e.eventTime ?? '',
    ...(e.series ? { series: { count: e.series.count ?? 0, lastObservedTime: e.series.lastObservedTime ?? '' } } : {}),
    action: e.action ?? '',
    ...(e.related ? { related: e.related } : {}),
    reportingController: e.reportingController ?? '',
    reportingInstance: e.reportingInstance ?? '',
  };
}

const LIMITS = { reportingInstance: 128, action: 128, reason: 128, message: 1024 };

/** legacyValidateEvent: the rules every Event passes, whichever API wrote it. */
export function legacyValidateEvent(e: InternalEvent): FieldError[] {
  const errs: FieldError[] = [];
  const ioNs = e.involvedObject.namespace ?? '';
  const mismatch = () => invalid('involvedObject.namespace', ioNs, 'does not match event.namespace');
  if (e.eventTime === '') {
    if (ioNs === '') {
      if (e.namespace !== '' && e.namespace !== 'default') errs.push(mismatch());
    } else if (e.namespace !== ioNs) errs.push(mismatch());
  } else {
    if (ioNs === '' && e.namespace !== 'default' && e.namespace !== 'kube-system') errs.push(mismatch());
    if (e.reportingController === '') errs.push(required('reportingController'));
    for (const m of isQualifiedName(e.reportingController)) errs.push(invalid('reportingController', e.reportingController, m));
    if (e.reportingInstance === '') errs.push(required('reportingInstance'));
    if (e.reportingInstance.length > LIMITS.reportingInstance)
      errs.push(invalid('reportingInstance', '', `can have at most ${LIMITS.reportingInstance} characters`));
    if (e.action === '') errs.push(required('action'));
    if (e.action.length > LIMITS.action) errs.push(invalid('action', '', `can have at most ${LIMITS.action} characters`));
    if (e.reason === '') errs.push(required('reason'));
    if (e.reason.length > LIMITS.reason) errs.push(invalid('reason', '', `can have at most ${LIMITS.reason} characters`));
    if (e.message.length > LIMITS.message) errs.push(invalid('message', '', `can have at most ${LIMITS.message} characters`));
  }
  for (const m of isDNS1123Subdomain(e.namespace)) errs.push(invalid('namespace', e.namespace, m));
  return errs;
}

function validateSeries(e: InternalEvent): FieldError[] {
  if (!e.series) return [];
  const errs: FieldError[] = [];
  if (e.series.count < 2) errs.push(invalid('series.count', '', 'should be at least 2'));
  if (e.series.lastObservedTime === '') errs.push(required('series.lastObservedTime'));
  return errs;
}

/** ValidatePathSegmentName: the name rule upstream's generic store applies to every object's metadata. */
export function pathSegmentName(name: string, _prefix: boolean): string[] {
  if (name === '.' || name === '..') return [`may not be '${name}'`];
  const errs: string[] = [];
  if (name.includes('/')) errs.push("may not contain '/'");
  if (name.includes('%')) errs.push("may not contain '%'");
  return errs;
}

/**
 * ValidateEventCreate for a core/v1 request: legacy validation only, for compatibility. When that passes, the
 * generic store's own metadata check runs, which only asks the name to be a usable path segment.
 */
export function validateEvent(e: Event): FieldError[] {
  const errs = legacyValidateEvent(internalFromCoreEvent(e));
  if (errs.length > 0) return errs;
  return validateObjectMeta(e.metadata, { namespaced: true, nameFn: pathSegmentName });
}

/** ValidateEventUpdate for a core/v1 request: legacy validation of the new object only. */
export function validateEventUpdate(e: Event, _old: Event): FieldError[] {
  return validateEvent(e);
}

/** ValidateEventCreate for events.k8s.io/v1: legacy plus strict rules. */
export function validateEventsV1Event(e: EventsV1Event): FieldError[] {
  const ie = internalFromEventsV1(e);
  const errs = legacyValidateEvent(ie);
  errs.push(...validateObjectMeta(e.metadata, { namespaced: true }));
  errs.push(...validateSeries(ie));
  if (ie.eventTime === '') errs.push(required('eventTime'));
  if (ie.type !== 'Normal' && ie.type !== 'Warning') errs.push(invalid('type', '', `has invalid value: ${ie.type}`));
  if (ie.firstTimestamp !== '') errs.push(invalid('firstTimestamp', '', 'needs to be unset'));
  if (ie.lastTimestamp !== '') errs.push(invalid('lastTimestamp', '', 'needs to be unset'));
  if (ie.count !== 0) errs.push(invalid('count', '', 'needs to be unset'));
  if (ie.source.component !== '' || ie.source.host !== '') errs.push(invalid('source', '', 'needs to be unset'));
  return errs;
}

/** ValidateEventUpdate for events.k8s.io/v1: only the series may change. */
export function validateEventsV1EventUpdate(e: EventsV1Event, old: EventsV1Event): FieldError[] {
  const n = internalFromEventsV1(e);
  const o = internalFromEventsV1(old);
  const errs = legacyValidateEvent(n);
  if (!jsonEqual(n.series, o.series)) errs.push(...validateSeries(n));
  const fields: Array<keyof InternalEvent> = [
    'involvedObject',
    'reason',
    'message',
    'source',
    'firstTimestamp',
    'lastTimestamp',
    'count',
    'type',
    'eventTime',
    'action',
    'related',
    'reportingController',
    'reportingInstance',
  ];
  for (const f of fields) errs.push(...immutableField(n[f], o[f], f));
  return errs;
}
