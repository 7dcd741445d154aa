// printPod: READY, STATUS and RESTARTS of pods in every state, and the wide columns, as upstream prints them
// (cases after pkg/printers/internalversion/printers_test.go, objects shaped as the API stores them).
import { describe, expect, it } from 'vitest';
import { podPrinter } from '../../../../../control/apiserver/printing/printers/pods.js';
import type { KubeObject } from '../../../../../control/apiserver/storage/object-storage.js';
import { ago, DAY, MIN, NOW, obj } from './fixtures.js';

type Status = Record<string, unknown>;

function pod(name: string, opts: { containers?: number | Array<Record<string, unknown>>; init?: number | Array<Record<string, unknown>>; status?: Status; spec?: Record<string, unknown>; meta?: Record<string, unknown> } = {}): KubeObject {
  const mk = (n: number | Array<Record<string, unknown>> | undefined, prefix: string): Array<Record<string, unknown>> | undefined => {
    if (n === undefined) return undefined;
    if (Array.isArray(n)) return n;
    return Array.from({ length: n }, (_, i) => ({ name: `${prefix}${i}`, image: 'busybox' }));
  };
  const containers = mk(opts.containers ?? 1, 'c');
  const init = mk(opts.init, 'init');
  return obj('Pod', 'v1', { name, namespace: 'default', ...(opts.meta ?? {}) }, {
    spec: { containers, ...(init ? { initContainers: init } : {}), ...(opts.spec ?? {}) },
    status: opts.status ?? {},
  });
}

const running = { running: { startedAt: ago(10 * MIN) } };
const waiting = (reason?: string) => ({ waiting: reason === undefined ? {} : { reason } });
const terminated = (t: Record<string, unknown>) => ({ terminated: { finishedAt: ago(MIN), ...t } });
const lastTerminated = (secondsAgo: number) => ({ terminated: { exitCode: 1, reason: 'Error', finishedAt: ago(secondsAgo) } });

/** The first four cells: NAME READY STATUS RESTARTS. */
function head(p: KubeObject): unknown[] {
  return podPrinter.cells(p, NOW).slice(0, 4);
}

describe('pod printer columns', () => {
  it('has upstream names, types and priorities', () => {
    expect(podPrinter.columns.map((c) => [c.name, c.type, c.format, c.priority])).toEqual([
      ['Name', 'string', 'name', 0],
      ['Ready', 'string', '', 0],
      ['Status', 'string', '', 0],
      ['Restarts', 'string', '', 0],
      ['Age', 'string', '', 0],
      ['IP', 'string', '', 1],
      ['Node', 'string', '', 1],
      ['Nominated Node', 'string', '', 1],
      ['Readiness Gates', 'string', '', 1],
    ]);
  });
});

describe('pod printer: upstream TestPrintPod cases', () => {
  const cases: Array<[string, KubeObject, unknown[]]> = [
    [
      'restarts summed, one ready running container',
      pod('test1', { containers: 2, status: { phase: 'podPhase', containerStatuses: [{ name: 'c0', ready: true, restartCount: 3, state: running }, { name: 'c1', restartCount: 3 }] } }),
      ['test1', '1/2', 'podPhase', '6'],
    ],
    [
      'a waiting reason overrides the phase',
      pod('test2', { containers: 2, status: { phase: 'podPhase', containerStatuses: [{ name: 'c0', ready: true, restartCount: 3, state: running }, { name: 'c1', restartCount: 3, state: waiting('ContainerWaitingReason') }] } }),
      ['test2', '1/2', 'ContainerWaitingReason', '6'],
    ],
    [
      'the first container wins over later ones',
      pod('test3', { containers: 2, status: { phase: 'podPhase', containerStatuses: [{ name: 'c0', restartCount: 3, state: waiting('ContainerWaitingReason') }, { name: 'c1', restartCount: 3, state: terminated({ reason: 'ContainerTerminatedReason' }) }] } }),
      ['test3', '0/2', 'ContainerWaitingReason', '6'],
    ],
    [
      'ready without running does not count',
      pod('test4', { containers: 2, status: { phase: 'podPhase', containerStatuses: [{ name: 'c0', ready: true, restartCount: 3, state: running }, { name: 'c1', ready: true, restartCount: 3 }] } }),
      ['test4', '1/2', 'podPhase', '6'],
    ],
    [
      'status.reason overrides the phase',
      pod('test5', { containers: 2, status: { reason: 'podReason', phase: 'podPhase', containerStatuses: [{ name: 'c0', ready: true, restartCount: 3, state: running }, { name: 'c1', ready: true, restartCount: 3 }] } }),
      ['test5', '1/2', 'podReason', '6'],
    ],
    [
      'one completed and one running container without Ready condition: NotReady',
      pod('test6', { containers: 2, status: { phase: 'Running', containerStatuses: [{ name: 'c0', ready: true, restartCount: 3, state: terminated({ reason: 'Completed', exitCode: 0 }) }, { name: 'c1', ready: true, restartCount: 3, state: running }] } }),
      ['test6', '1/2', 'NotReady', '6'],
    ],
    [
      'one completed and one running container with Ready condition: Running',
      pod('test6', {
        containers: 2,
        status: {
          phase: 'Running',
          conditions: [{ type: 'Ready', status: 'True' }],
          containerStatuses: [{ name: 'c0', ready: true, restartCount: 3, state: terminated({ reason: 'Completed', exitCode: 0 }) }, { name: 'c1', ready: true, restartCount: 3, state: running }],
        },
      }),
      ['test6', '1/2', 'Running', '6'],
    ],
    [
      'init container restarting',
      pod('test7', { init: 1, status: { phase: 'podPhase', initContainerStatuses: [{ name: 'init0', restartCount: 3, state: running, lastState: lastTerminated(10) }], containerStatuses: [{ name: 'c0', state: waiting() }] } }),
      ['test7', '0/1', 'Init:0/1', '3 (10s ago)'],
    ],
    [
      'two init containers, the first restarting',
      pod('test8', { init: 2, status: { phase: 'podPhase', initContainerStatuses: [{ name: 'init0', restartCount: 3, state: running, lastState: lastTerminated(10) }, { name: 'init1', state: waiting() }], containerStatuses: [{ name: 'c0', state: waiting() }] } }),
      ['test8', '0/1', 'Init:0/2', '3 (10s ago)'],
    ],
    [
      'first init container done, second restarting',
      pod('test9', { init: 2, status: { phase: 'podPhase', initContainerStatuses: [{ name: 'init0', state: terminated({ exitCode: 0 }) }, { name: 'init1', restartCount: 3, state: running, lastState: lastTerminated(10) }], containerStatuses: [{ name: 'c0', state: waiting() }] } }),
      ['test9', '0/1', 'Init:1/2', '3 (10s ago)'],
    ],
    [
      'init restarts of a completed init container count too',
      pod('test10', {
        init: 2,
        status: {
          phase: 'podPhase',
          initContainerStatuses: [
            { name: 'init0', restartCount: 2, state: terminated({ exitCode: 0 }), lastState: lastTerminated(2 * MIN) },
            { name: 'init1', restartCount: 3, state: running, lastState: lastTerminated(10) },
          ],
          containerStatuses: [{ name: 'c0', state: waiting() }],
        },
      }),
      ['test10', '0/1', 'Init:1/2', '5 (10s ago)'],
    ],
    [
      'after init, only the app containers restarts count',
      pod('test11', {
        init: 1,
        status: {
          phase: 'Running',
          initContainerStatuses: [{ name: 'init0', restartCount: 2, state: terminated({ exitCode: 0 }), lastState: lastTerminated(2 * MIN) }],
          containerStatuses: [{ name: 'c0', restartCount: 4, state: running, lastState: lastTerminated(20) }],
        },
      }),
      ['test11', '0/1', 'Running', '4 (20s ago)'],
    ],
    [
      'restarted 5d ago',
      pod('test12', { status: { phase: 'Running', containerStatuses: [{ name: 'c0', ready: true, restartCount: 3, state: running, lastState: lastTerminated(5 * DAY) }] } }),
      ['test12', '1/1', 'Running', '3 (5d ago)'],
    ],
    [
      'the latest restart of two containers',
      pod('test14', {
        containers: 2,
        status: {
          phase: 'Running',
          containerStatuses: [
            { name: 'c0', ready: true, restartCount: 6, state: running, lastState: lastTerminated(5 * DAY) },
            { name: 'c1', ready: true, restartCount: 3, state: running, lastState: lastTerminated(20 * DAY) },
          ],
        },
      }),
      ['test14', '2/2', 'Running', '9 (5d ago)'],
    ],
    [
      'scheduling gated',
      pod('test15', { containers: 2, status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'SchedulingGated' }] } }),
      ['test15', '0/2', 'SchedulingGated', '0'],
    ],
  ];
  it.each(cases)('%s', (_name, p, expected) => {
    expect(head(p)).toEqual(expected);
  });
});

describe('pod printer: restartable (sidecar) init containers', () => {
  const sidecars = [
    { name: 'restartable-init-1', image: 'sidecar', restartPolicy: 'Always' },
    { name: 'restartable-init-2', image: 'sidecar', restartPolicy: 'Always' },
  ];
  const cases: Array<[string, KubeObject, unknown[]]> = [
    [
      'first sidecar running but not started',
      pod('test1', {
        init: sidecars,
        status: {
          phase: 'Pending',
          conditions: [{ type: 'Initialized', status: 'False' }],
          initContainerStatuses: [
            { name: 'restartable-init-1', restartCount: 3, state: running, started: false, lastState: lastTerminated(10) },
            { name: 'restartable-init-2', state: waiting(), started: false },
          ],
          containerStatuses: [{ name: 'c0', state: waiting() }],
        },
      }),
      ['test1', '0/3', 'Init:0/2', '3 (10s ago)'],
    ],
    [
      'first sidecar started, second not',
      pod('test1', {
        init: sidecars,
        status: {
          phase: 'Pending',
          conditions: [{ type: 'Initialized', status: 'False' }],
          initContainerStatuses: [
            { name: 'restartable-init-1', restartCount: 3, state: running, started: true, lastState: lastTerminated(10) },
            { name: 'restartable-init-2', state: running, started: false },
          ],
          containerStatuses: [{ name: 'c0', state: waiting() }],
        },
      }),
      ['test1', '0/3', 'Init:1/2', '3 (10s ago)'],
    ],
    [
      'both sidecars started, app running',
      pod('test2', {
        init: sidecars,
        status: {
          phase: 'Running',
          conditions: [{ type: 'Initialized', status: 'True' }],
          initContainerStatuses: [
            { name: 'restartable-init-1', restartCount: 3, state: running, started: true, lastState: lastTerminated(10) },
            { name: 'restartable-init-2', state: running, started: true },
          ],
          containerStatuses: [{ name: 'c0', ready: true, restartCount: 4, state: running, lastState: lastTerminated(20) }],
        },
      }),
      ['test2', '1/3', 'Running', '7 (10s ago)'],
    ],
    [
      'sidecars killed, app completed',
      pod('test3', {
        init: sidecars,
        status: {
          phase: 'Succeeded',
          conditions: [{ type: 'Initialized', status: 'True' }],
          initContainerStatuses: [
            { name: 'restartable-init-1', restartCount: 3, state: terminated({ reason: 'Error', exitCode: 137 }), started: false, lastState: lastTerminated(10) },
            { name: 'restartable-init-2', state: terminated({ reason: 'Error', exitCode: 137 }), started: false },
          ],
          containerStatuses: [{ name: 'c0', restartCount: 4, state: terminated({ reason: 'Completed', exitCode: 0 }), lastState: lastTerminated(20) }],
        },
      }),
      ['test3', '0/3', 'Completed', '7 (10s ago)'],
    ],
    [
      'statuses for containers the spec does not have',
      pod('test4', {
        init: [
          { name: 'init1', image: 'initimage' },
          { name: 'sidecar1', image: 'sidecarimage', restartPolicy: 'Always' },
        ],
        containers: [{ name: 'container1', image: 'containerimage' }],
        status: { phase: 'Running', initContainerStatuses: [{ name: 'initinvalid' }, { name: 'init1' }, { name: 'sidecar1' }], containerStatuses: [{ name: 'containerinvalid' }, { name: 'container1' }] },
      }),
      ['test4', '0/2', 'Init:0/2', '0'],
    ],
  ];
  it.each(cases)('%s', (_name, p, expected) => {
    expect(head(p)).toEqual(expected);
  });
});

describe('pod printer: what kubectl shows for real pod lifecycles', () => {
  const cases: Array<[string, KubeObject, unknown[]]> = [
    ['pending, unscheduled', pod('p', { status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable' }] } }), ['p', '0/1', 'Pending', '0']],
    ['pulling the image', pod('p', { status: { phase: 'Pending', containerStatuses: [{ name: 'c0', restartCount: 0, ready: false, started: false, state: waiting('ContainerCreating') }] } }), ['p', '0/1', 'ContainerCreating', '0']],
    ['bad image', pod('p', { status: { phase: 'Pending', containerStatuses: [{ name: 'c0', state: waiting('ImagePullBackOff') }] } }), ['p', '0/1', 'ImagePullBackOff', '0']],
    ['running and ready', pod('p', { status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }], containerStatuses: [{ name: 'c0', ready: true, started: true, restartCount: 0, state: running }] } }), ['p', '1/1', 'Running', '0']],
    ['running, not ready', pod('p', { status: { phase: 'Running', containerStatuses: [{ name: 'c0', ready: false, started: true, restartCount: 0, state: running }] } }), ['p', '0/1', 'Running', '0']],
    [
      'crash looping',
      pod('p', { status: { phase: 'Running', containerStatuses: [{ name: 'c0', ready: false, restartCount: 4, state: waiting('CrashLoopBackOff'), lastState: lastTerminated(25) }] } }),
      ['p', '0/1', 'CrashLoopBackOff', '4 (25s ago)'],
    ],
    ['completed', pod('p', { status: { phase: 'Succeeded', containerStatuses: [{ name: 'c0', ready: false, restartCount: 0, state: terminated({ reason: 'Completed', exitCode: 0 }) }] } }), ['p', '0/1', 'Completed', '0']],
    ['failed with Error', pod('p', { status: { phase: 'Failed', containerStatuses: [{ name: 'c0', state: terminated({ reason: 'Error', exitCode: 1 }) }] } }), ['p', '0/1', 'Error', '0']],
    ['OOMKilled', pod('p', { status: { phase: 'Running', containerStatuses: [{ name: 'c0', restartCount: 1, state: terminated({ reason: 'OOMKilled', exitCode: 137 }), lastState: lastTerminated(3 * MIN) }] } }), ['p', '0/1', 'OOMKilled', '1 (3m ago)']],
    ['terminated without a reason: exit code', pod('p', { status: { phase: 'Failed', containerStatuses: [{ name: 'c0', state: terminated({ exitCode: 2 }) }] } }), ['p', '0/1', 'ExitCode:2', '0']],
    ['terminated by a signal', pod('p', { status: { phase: 'Failed', containerStatuses: [{ name: 'c0', state: terminated({ exitCode: 0, signal: 9 }) }] } }), ['p', '0/1', 'Signal:9', '0']],
    ['evicted', pod('p', { status: { phase: 'Failed', reason: 'Evicted', message: 'The node was low on resource: memory.' } }), ['p', '0/1', 'Evicted', '0']],
    [
      'init container running',
      pod('p', { init: 1, status: { phase: 'Pending', initContainerStatuses: [{ name: 'init0', ready: false, restartCount: 0, state: running }], containerStatuses: [{ name: 'c0', state: waiting('PodInitializing') }] } }),
      ['p', '0/1', 'Init:0/1', '0'],
    ],
    [
      'init container waiting to start (PodInitializing is not shown for init containers)',
      pod('p', { init: 2, status: { phase: 'Pending', initContainerStatuses: [{ name: 'init0', state: waiting('PodInitializing') }, { name: 'init1', state: waiting('PodInitializing') }], containerStatuses: [{ name: 'c0', state: waiting('PodInitializing') }] } }),
      ['p', '0/1', 'Init:0/2', '0'],
    ],
    [
      'init container crash looping',
      pod('p', { init: 1, status: { phase: 'Pending', initContainerStatuses: [{ name: 'init0', restartCount: 2, state: waiting('CrashLoopBackOff'), lastState: lastTerminated(40) }], containerStatuses: [{ name: 'c0', state: waiting('PodInitializing') }] } }),
      ['p', '0/1', 'Init:CrashLoopBackOff', '2 (40s ago)'],
    ],
    [
      'init container failed',
      pod('p', { init: 1, status: { phase: 'Failed', initContainerStatuses: [{ name: 'init0', state: terminated({ reason: 'Error', exitCode: 1 }) }], containerStatuses: [{ name: 'c0', state: waiting('PodInitializing') }] } }),
      ['p', '0/1', 'Init:Error', '0'],
    ],
    ['init container exit code', pod('p', { init: 1, status: { phase: 'Pending', initContainerStatuses: [{ name: 'init0', state: terminated({ exitCode: 3 }) }] } }), ['p', '0/1', 'Init:ExitCode:3', '0']],
    ['init container signal', pod('p', { init: 1, status: { phase: 'Pending', initContainerStatuses: [{ name: 'init0', state: terminated({ exitCode: 137, signal: 9 }) }] } }), ['p', '0/1', 'Init:Signal:9', '0']],
    [
      'init done, app containers initializing',
      pod('p', {
        init: 1,
        status: {
          phase: 'Pending',
          conditions: [{ type: 'Initialized', status: 'True' }],
          initContainerStatuses: [{ name: 'init0', state: terminated({ reason: 'Completed', exitCode: 0 }) }],
          containerStatuses: [{ name: 'c0', state: waiting('PodInitializing') }],
        },
      }),
      ['p', '0/1', 'PodInitializing', '0'],
    ],
    [
      'deleting',
      pod('p', { meta: { deletionTimestamp: ago(-30), deletionGracePeriodSeconds: 30 }, status: { phase: 'Running', containerStatuses: [{ name: 'c0', ready: true, state: running }] } }),
      ['p', '1/1', 'Terminating', '0'],
    ],
    [
      'deleting a pod that already succeeded keeps its status',
      pod('p', { meta: { deletionTimestamp: ago(-30) }, status: { phase: 'Succeeded', containerStatuses: [{ name: 'c0', state: terminated({ reason: 'Completed', exitCode: 0 }) }] } }),
      ['p', '0/1', 'Completed', '0'],
    ],
    [
      'on a lost node, being deleted',
      pod('p', { meta: { deletionTimestamp: ago(60) }, status: { phase: 'Running', reason: 'NodeLost', containerStatuses: [{ name: 'c0', ready: true, state: running }] } }),
      ['p', '1/1', 'Unknown', '0'],
    ],
    ['on a lost node', pod('p', { status: { phase: 'Unknown', reason: 'NodeLost' } }), ['p', '0/1', 'NodeLost', '0']],
  ];
  it.each(cases)('%s', (_name, p, expected) => {
    expect(head(p)).toEqual(expected);
  });

  it('prints the age from creationTimestamp', () => {
    expect(podPrinter.cells(pod('p', { meta: { creationTimestamp: ago(3 * DAY + 4 * 3600) } }), NOW)[4]).toBe('3d4h');
    expect(podPrinter.cells(pod('p', { meta: { creationTimestamp: undefined } }), NOW)[4]).toBe('<unknown>');
  });
});

describe('pod printer: wide columns', () => {
  it('prints IP, node, nominated node and readiness gates', () => {
    const p = pod('test1', {
      containers: 2,
      spec: { nodeName: 'test1', readinessGates: [{ conditionType: 'condition1' }, { conditionType: 'condition2' }, { conditionType: 'condition3' }] },
      status: {
        phase: 'podPhase',
        conditions: [
          { type: 'condition1', status: 'False' },
          { type: 'condition2', status: 'True' },
        ],
        podIP: '1.1.1.1',
        podIPs: [{ ip: '1.1.1.1' }, { ip: '2001:db8::' }],
        nominatedNodeName: 'node1',
        containerStatuses: [{ name: 'c0', ready: true, restartCount: 3, state: running }, { name: 'c1', restartCount: 3 }],
      },
      meta: { creationTimestamp: undefined },
    });
    expect(podPrinter.cells(p, NOW)).toEqual(['test1', '1/2', 'podPhase', '6', '<unknown>', '1.1.1.1', 'test1', 'node1', '1/3']);
  });

  it('prints <none> for what is not set', () => {
    const p = pod('test2', { containers: 2, status: { phase: 'podPhase', containerStatuses: [{ name: 'c0', ready: true, restartCount: 3, state: running }, { name: 'c1', restartCount: 3, state: waiting('ContainerWaitingReason') }] }, meta: { creationTimestamp: undefined } });
    expect(podPrinter.cells(p, NOW)).toEqual(['test2', '1/2', 'ContainerWaitingReason', '6', '<unknown>', '<none>', '<none>', '<none>', '<none>']);
  });

  it('falls back to status.podIP when podIPs is absent', () => {
    expect(podPrinter.cells(pod('p', { status: { phase: 'Running', podIP: '10.0.0.7' } }), NOW)[5]).toBe('10.0.0.7');
  });
});
