// Node (podCIDRs, taints, status quantities, update rules) and Events (core/v1 legacy rules, events.k8s.io/v1 strict rules).
import { describe, expect, it } from 'vitest';
import {
  Event,
  EventsV1Event,
  Node,
  validateEvent,
  validateEventsV1Event,
  validateEventsV1EventUpdate,
  validateNode,
  validateNodeUpdate,
} from '../../../../../control/api/index.js';
import { CIDR, decode, errorsOf, LABEL_KEY_NAME, LABEL_VALUE, updateErrorsOf, type Json } from './helpers.js';

const node = (spec: Json = {}, status?: Json, meta: Json = {}): Json => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name: 'node-1', ...meta },
  spec,
  ...(status ? { status } : {}),
});

describe('Node', () => {
  it('serves podCIDR as the first of podCIDRs, and allocatable as the capacity', () => {
    const n = decode(Node, node({ podCIDR: '10.244.1.0/24' }, { capacity: { cpu: 4, memory: '8Gi', pods: '110' } }));
    expect(n.spec.podCIDRs).toEqual(['10.244.1.0/24']);
    expect(n.spec.podCIDR).toBe('10.244.1.0/24');
    expect(n.status?.capacity).toEqual({ cpu: '4', memory: '8Gi', pods: '110' });
    expect(n.status?.allocatable).toEqual({ cpu: '4', memory: '8Gi', pods: '110' });
    const dual = decode(Node, node({ podCIDRs: ['10.244.1.0/24', 'fd00:1::/64'] }));
    expect(dual.spec.podCIDR).toBe('10.244.1.0/24');
  });

  const cases: Array<{ rule: string; spec?: Json; status?: Json; meta?: Json; want: string[] }> = [
    { rule: 'valid', spec: { podCIDRs: ['10.244.1.0/24'], unschedulable: true, taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] }, want: [] },
    { rule: 'no namespace', meta: { namespace: 'default' }, want: ['metadata.namespace: Forbidden: not allowed on this type'] },
    { rule: 'podCIDR syntax', spec: { podCIDR: '10.244.1.0' }, want: [`spec.podCIDRs[0]: Invalid value: "10.244.1.0": ${CIDR}`] },
    {
      rule: 'one CIDR per family',
      spec: { podCIDRs: ['10.244.1.0/24', '10.245.1.0/24'] },
      want: ['spec.podCIDRs: Invalid value: ["10.244.1.0/24","10.245.1.0/24"]: may specify no more than one CIDR for each IP family'],
    },
    { rule: 'dual-stack CIDRs', spec: { podCIDRs: ['10.244.1.0/24', 'fd00:1::/64'] }, want: [] },
    { rule: 'taint effect required', spec: { taints: [{ key: 'a' }] }, want: ['metadata.taints[0].effect: Required value'] },
    {
      rule: 'taint effect values',
      spec: { taints: [{ key: 'a', effect: 'NoEntry' }] },
      want: ['metadata.taints[0].effect: Unsupported value: "NoEntry": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"'],
    },
    { rule: 'taint key syntax', spec: { taints: [{ key: 'a b', effect: 'NoSchedule' }] }, want: [`metadata.taints[0].key: Invalid value: "a b": ${LABEL_KEY_NAME}`] },
    { rule: 'taint value syntax', spec: { taints: [{ key: 'a', value: '-x', effect: 'NoSchedule' }] }, want: [`metadata.taints[0].value: Invalid value: "-x": ${LABEL_VALUE}`] },
    {
      rule: 'taints unique by key and effect',
      spec: { taints: [{ key: 'a', effect: 'NoSchedule' }, { key: 'a', value: 'x', effect: 'NoSchedule' }, { key: 'a', effect: 'NoExecute' }] },
      want: ['metadata.taints[1]: Duplicate value: {"key":"a","value":"x","effect":"NoSchedule"}: taints must be unique by key and effect pair'],
    },
    {
      rule: 'capacity not negative',
      status: { capacity: { cpu: '-1' } },
      want: [
        'status.capacity.cpu: Invalid value: "-1": must be greater than or equal to 0',
        // allocatable was defaulted from capacity, and is checked too
        'status.allocatable.cpu: Invalid value: "-1": must be greater than or equal to 0',
      ],
    },
    {
      rule: 'pods are whole',
      status: { capacity: { pods: '1.5' }, allocatable: { pods: '1' } },
      want: ['status.capacity.pods: Invalid value: "1500m": must be an integer'],
    },
  ];
  it.each(cases)('$rule', ({ spec, status, meta, want }) => expect(errorsOf(Node, validateNode, node(spec, status, meta))).toEqual(want));

  it('lets podCIDRs be set once, then never changed', () => {
    expect(updateErrorsOf(Node, validateNodeUpdate, node({ podCIDR: '10.244.1.0/24' }), node())).toEqual([]);
    expect(updateErrorsOf(Node, validateNodeUpdate, node({ podCIDR: '10.244.2.0/24' }), node({ podCIDR: '10.244.1.0/24' }))).toEqual([
      'spec.podCIDRs: Forbidden: node updates may not change podCIDR except from "" to valid',
    ]);
    expect(updateErrorsOf(Node, validateNodeUpdate, node({}), node({ podCIDR: '10.244.1.0/24' }))).toEqual([
      'spec.podCIDRs: Forbidden: node updates may not change podCIDR except from "" to valid',
    ]);
  });

  it('lets providerID be set once, taints and unschedulable change freely', () => {
    expect(updateErrorsOf(Node, validateNodeUpdate, node({ providerID: 'skiff://b' }), node({ providerID: 'skiff://a' }))).toEqual([
      'spec.providerID: Forbidden: node updates may not change providerID except from "" to valid',
    ]);
    expect(updateErrorsOf(Node, validateNodeUpdate, node({ unschedulable: true, taints: [{ key: 'x', effect: 'NoExecute' }] }), node())).toEqual([]);
  });

  it('refuses duplicate status addresses', () => {
    const addrs = [{ type: 'InternalIP', address: '10.0.0.5' }, { type: 'Hostname', address: 'node-1' }, { type: 'InternalIP', address: '10.0.0.5' }];
    expect(updateErrorsOf(Node, validateNodeUpdate, node({}, { addresses: addrs }), node())).toEqual([
      'status.addresses[2]: Duplicate value: {"type":"InternalIP","address":"10.0.0.5"}',
    ]);
  });
});

const coreEvent = (extra: Json): Json => ({
  apiVersion: 'v1',
  kind: 'Event',
  metadata: { name: 'web.17a', namespace: 'default' },
  involvedObject: { kind: 'Pod', namespace: 'default', name: 'web' },
  reason: 'Started',
  type: 'Normal',
  ...extra,
});

describe('core/v1 Event', () => {
  const cases: Array<{ rule: string; extra: Json; want: string[] }> = [
    { rule: 'valid', extra: { message: 'Started container web', source: { component: 'kubelet', host: 'node-1' }, count: 1 }, want: [] },
    { rule: 'cluster-scoped object in default', extra: { involvedObject: { kind: 'Node', name: 'node-1' } }, want: [] },
    {
      rule: 'namespaces must agree',
      extra: { involvedObject: { kind: 'Pod', namespace: 'other', name: 'web' } },
      want: ['involvedObject.namespace: Invalid value: "other": does not match event.namespace'],
    },
    {
      rule: 'cluster-scoped object outside default',
      extra: { metadata: { name: 'e', namespace: 'prod' }, involvedObject: { kind: 'Node', name: 'n' } },
      want: ['involvedObject.namespace: Invalid value: "": does not match event.namespace'],
    },
    { rule: 'type is free-form for core/v1 clients', extra: { type: 'Info' }, want: [] },
    { rule: 'names are path segments, nothing stricter', extra: { metadata: { name: 'Web_1.17a:x', namespace: 'default' } }, want: [] },
    { rule: 'name may not contain a slash', extra: { metadata: { name: 'a/b', namespace: 'default' } }, want: ["metadata.name: Invalid value: \"a/b\": may not contain '/'"] },
    { rule: 'name required', extra: { metadata: { namespace: 'default' } }, want: ['metadata.name: Required value: name or generateName is required'] },
    {
      rule: 'eventTime brings the new rules',
      extra: { eventTime: '2026-01-01T00:00:00.000000Z', reason: '' },
      // Upstream checks the empty controller name's syntax as well.
      want: [
        'reportingController: Required value',
        'reportingController: Invalid value: "": name part must be non-empty',
        `reportingController: Invalid value: "": ${LABEL_KEY_NAME}`,
        'reportingInstance: Required value',
        'action: Required value',
        'reason: Required value',
      ],
    },
    {
      rule: 'reportingComponent is a qualified name',
      extra: { eventTime: '2026-01-01T00:00:00.000000Z', reportingComponent: 'a b', reportingInstance: 'x', action: 'Start' },
      want: [`reportingController: Invalid value: "a b": ${LABEL_KEY_NAME}`],
    },
    {
      rule: 'note length',
      extra: { eventTime: '2026-01-01T00:00:00.000000Z', reportingComponent: 'kubelet', reportingInstance: 'n', action: 'Start', message: 'x'.repeat(1025) },
      want: ['message: Invalid value: "": can have at most 1024 characters'],
    },
  ];
  it.each(cases)('$rule', ({ extra, want }) => expect(errorsOf(Event, validateEvent, coreEvent(extra))).toEqual(want));

  it('always has an involvedObject', () => {
    const { involvedObject: _drop, ...rest } = coreEvent({});
    expect(decode(Event, rest).involvedObject).toEqual({});
  });
});

const v1Event = (extra: Json): Json => ({
  apiVersion: 'events.k8s.io/v1',
  kind: 'Event',
  metadata: { name: 'web.17a', namespace: 'default' },
  eventTime: '2026-01-01T00:00:00.000000Z',
  regarding: { kind: 'Pod', namespace: 'default', name: 'web' },
  reason: 'Started',
  action: 'Start',
  reportingController: 'skiff.dev/agent',
  reportingInstance: 'agent-node-1',
  type: 'Normal',
  ...extra,
});

describe('events.k8s.io/v1 Event', () => {
  const cases: Array<{ rule: string; extra: Json; want: string[] }> = [
    { rule: 'valid', extra: { note: 'started' }, want: [] },
    { rule: 'eventTime required', extra: { eventTime: undefined }, want: ['eventTime: Required value'] },
    { rule: 'type Normal or Warning', extra: { type: 'Info' }, want: ['type: Invalid value: "": has invalid value: Info'] },
    {
      rule: 'deprecated fields must be unset',
      extra: { deprecatedCount: 2, deprecatedSource: { component: 'x' }, deprecatedFirstTimestamp: '2026-01-01T00:00:00Z' },
      want: ['firstTimestamp: Invalid value: "": needs to be unset', 'count: Invalid value: "": needs to be unset', 'source: Invalid value: "": needs to be unset'],
    },
    {
      rule: 'series',
      extra: { series: { count: 1 } },
      want: ['series.count: Invalid value: "": should be at least 2', 'series.lastObservedTime: Required value'],
    },
  ];
  it.each(cases)('$rule', ({ extra, want }) => {
    const input = v1Event(extra);
    for (const [k, v] of Object.entries(input)) if (v === undefined) delete input[k];
    expect(errorsOf(EventsV1Event, validateEventsV1Event, input)).toEqual(want);
  });

  it('only lets the series change on update', () => {
    const old = v1Event({});
    expect(updateErrorsOf(EventsV1Event, validateEventsV1EventUpdate, v1Event({ series: { count: 2, lastObservedTime: '2026-01-01T00:01:00.000000Z' } }), old)).toEqual([]);
    expect(updateErrorsOf(EventsV1Event, validateEventsV1EventUpdate, v1Event({ reason: 'Killed' }), old)).toEqual(['reason: Invalid value: "Killed": field is immutable']);
  });
});
