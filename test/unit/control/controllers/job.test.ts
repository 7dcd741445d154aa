import { describe, expect, it } from 'vitest';
import {
  backoffRemainingMs,
  completionIndex,
  ensureCondition,
  firstPendingIndexes,
  formatIndexes,
  indexedPodTemplate,
  isPodFailed,
  manageJob,
  matchPodFailurePolicy,
  matchSuccessPolicy,
  isIndexFailed,
  podsWithDelayedDeletion,
  replacementFailureCounts,
  nextBackoffRecord,
  parseIndexes,
  pastBackoffLimitOnFailure,
  podFinishedTime,
  activeDeadlineRemainingMs,
  type Job,
} from '../../../../control/controllers/job.js';
import type { Pod } from '../../../../control/controllers/objects.js';

const NOW = Date.parse('2026-01-01T00:10:00Z');
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

function job(spec: Partial<Job['spec']> = {}): Job {
  return { metadata: { name: 'j', namespace: 'default', uid: 'u' }, spec: { parallelism: 1, completions: 1, backoffLimit: 6, completionMode: 'NonIndexed', template: { spec: { containers: [{ name: 'c' }] } }, ...spec } };
}

function pod(name: string, opts: { phase?: string; ready?: boolean; index?: number; finishedAt?: number; deleting?: boolean; exitCode?: number; restarts?: number; node?: string } = {}): Pod {
  const phase = opts.phase ?? 'Running';
  return {
    metadata: {
      name,
      namespace: 'default',
      uid: `uid-${name}`,
      creationTimestamp: iso(NOW - 600_000),
      ...(opts.index !== undefined ? { annotations: { 'batch.kubernetes.io/job-completion-index': String(opts.index) } } : {}),
      ...(opts.deleting ? { deletionTimestamp: iso(NOW - 1000) } : {}),
    },
    spec: { ...(opts.node ? { nodeName: opts.node } : { nodeName: 'n1' }) },
    status: {
      phase,
      conditions: [{ type: 'Ready', status: opts.ready ? 'True' : 'False', ...(opts.finishedAt !== undefined ? { lastTransitionTime: iso(opts.finishedAt) } : {}) }],
      containerStatuses: [
        {
          name: 'c',
          restartCount: opts.restarts ?? 0,
          ...(opts.finishedAt !== undefined ? { state: { terminated: { exitCode: opts.exitCode ?? (phase === 'Succeeded' ? 0 : 1), finishedAt: iso(opts.finishedAt) } } } : {}),
        },
      ],
    },
  };
}

describe('pod failure back-off', () => {
  it.each([
    // failures after last success, seconds since the last failure, remaining seconds
    [0, 0, 0],
    [1, 0, 10],
    [1, 4, 6],
    [1, 10, 0],
    [2, 0, 20],
    [3, 5, 35],
    [4, 0, 80],
    [6, 0, 320],
    [7, 0, 600],
    [20, 0, 600],
    [7, 599, 1],
  ])('%i failures, last %is ago: wait %is', (failures, ago, want) => {
    expect(backoffRemainingMs({ failuresAfterLastSuccess: failures, lastFailureTime: NOW - ago * 1000 }, NOW)).toBe(want * 1000);
  });

  it('counts failures after the latest success and resets on a success with none after it', () => {
    const f1 = pod('f1', { phase: 'Failed', finishedAt: NOW - 50_000 });
    const f2 = pod('f2', { phase: 'Failed', finishedAt: NOW - 10_000 });
    const s = pod('s', { phase: 'Succeeded', finishedAt: NOW - 30_000 });
    expect(nextBackoffRecord(undefined, [], [f1, f2])).toEqual({ failuresAfterLastSuccess: 2, lastFailureTime: NOW - 10_000 });
    expect(nextBackoffRecord({ failuresAfterLastSuccess: 3, lastFailureTime: NOW - 90_000 }, [], [f1])).toEqual({ failuresAfterLastSuccess: 4, lastFailureTime: NOW - 50_000 });
    expect(nextBackoffRecord({ failuresAfterLastSuccess: 3, lastFailureTime: NOW }, [s], [f1, f2])).toEqual({ failuresAfterLastSuccess: 1, lastFailureTime: NOW - 10_000 });
    expect(nextBackoffRecord({ failuresAfterLastSuccess: 3, lastFailureTime: NOW }, [s], [])).toEqual({ failuresAfterLastSuccess: 0 });
    expect(nextBackoffRecord({ failuresAfterLastSuccess: 2, lastFailureTime: NOW }, [], [])).toEqual({ failuresAfterLastSuccess: 2, lastFailureTime: NOW });
  });

  it('takes a finish time from the containers, else from Ready=False, else from the deletion, else the creation', () => {
    expect(podFinishedTime(pod('a', { phase: 'Failed', finishedAt: NOW - 5000 }))).toBe(NOW - 5000);
    const readyOnly: Pod = { ...pod('b'), status: { phase: 'Failed', conditions: [{ type: 'Ready', status: 'False', lastTransitionTime: iso(NOW - 7000) }] } };
    expect(podFinishedTime(readyOnly)).toBe(NOW - 7000);
    const deleted: Pod = { metadata: { name: 'c', deletionTimestamp: iso(NOW), deletionGracePeriodSeconds: 30 }, status: {} };
    expect(podFinishedTime(deleted)).toBe(NOW - 30_000);
    expect(podFinishedTime({ metadata: { name: 'd', creationTimestamp: iso(NOW - 1000) }, status: {} })).toBe(NOW - 1000);
  });
});

describe('pod failure policy', () => {
  const failed = pod('p', { phase: 'Failed', finishedAt: NOW, exitCode: 42 });
  it.each([
    ['no policy', undefined, { countFailed: true }],
    ['FailJob on the exit code', [{ action: 'FailJob', onExitCodes: { operator: 'In', values: [42] } }], { countFailed: true, action: 'FailJob', failJobMessage: 'Container c for pod default/p failed with exit code 42 matching FailJob rule at index 0' }],
    ['Ignore on NotIn', [{ action: 'Ignore', onExitCodes: { operator: 'NotIn', values: [1] } }], { countFailed: false, action: 'Ignore' }],
    ['Count, first match wins', [{ action: 'Count', onExitCodes: { operator: 'In', values: [42] } }, { action: 'FailJob', onExitCodes: { operator: 'In', values: [42] } }], { countFailed: true, action: 'Count' }],
    ['other container', [{ action: 'FailJob', onExitCodes: { containerName: 'x', operator: 'In', values: [42] } }], { countFailed: true }],
    ['pod condition', [{ action: 'FailJob', onPodConditions: [{ type: 'Ready', status: 'False' }] }], { countFailed: true, action: 'FailJob', failJobMessage: 'Pod default/p has condition Ready matching FailJob rule at index 0' }],
    ['FailIndex', [{ action: 'FailIndex', onExitCodes: { operator: 'In', values: [42] } }], { countFailed: true, action: 'FailIndex' }],
    ['DisruptionTarget absent', [{ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget' }] }], { countFailed: true }],
  ])('%s', (_name, rules, want) => {
    expect(matchPodFailurePolicy(rules, failed)).toEqual(want);
  });

  it('treats a deleted unfinished pod as failed unless only Failed pods are replaced', () => {
    const going = pod('g', { deleting: true });
    expect(isPodFailed(going, job())).toBe(true);
    expect(isPodFailed(going, job({ podReplacementPolicy: 'Failed' }))).toBe(false);
    expect(isPodFailed(pod('s', { phase: 'Succeeded', deleting: true }), job())).toBe(false);
  });

  it('counts container restarts against backoffLimit with restartPolicy OnFailure', () => {
    const onFailure = (limit: number) => job({ backoffLimit: limit, template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'c' }] } } });
    expect(pastBackoffLimitOnFailure(onFailure(2), [pod('a', { restarts: 1 }), pod('b', { restarts: 1 })])).toBe(true);
    expect(pastBackoffLimitOnFailure(onFailure(3), [pod('a', { restarts: 1 }), pod('b', { restarts: 1 })])).toBe(false);
    expect(pastBackoffLimitOnFailure(onFailure(0), [pod('a', { restarts: 1 })])).toBe(true);
    expect(pastBackoffLimitOnFailure(job({ backoffLimit: 0 }), [pod('a', { restarts: 5 })])).toBe(false);
  });

  it('measures activeDeadlineSeconds from status.startTime, never while suspended', () => {
    const j = job({ activeDeadlineSeconds: 60 });
    expect(activeDeadlineRemainingMs(j, iso(NOW - 20_000), new Date(NOW))).toBe(40_000);
    expect(activeDeadlineRemainingMs(j, iso(NOW - 90_000), new Date(NOW))).toBe(0);
    expect(activeDeadlineRemainingMs({ ...j, spec: { ...j.spec, suspend: true } }, iso(NOW - 90_000), new Date(NOW))).toBeUndefined();
    expect(activeDeadlineRemainingMs(job(), iso(NOW), new Date(NOW))).toBeUndefined();
  });
});

describe('completion indexes', () => {
  it.each([
    [[], ''],
    [[0], '0'],
    [[0, 1], '0,1'],
    [[0, 1, 2], '0-2'],
    [[5, 0, 1, 3, 4, 7], '0,1,3-5,7'],
  ])('%j formats as "%s" and parses back', (ixs, s) => {
    expect(formatIndexes(ixs)).toBe(s);
    expect(parseIndexes(s, 100)).toEqual([...new Set(ixs)].sort((a, b) => a - b));
  });

  it('drops indexes beyond completions and reads the index from annotation or label', () => {
    expect(parseIndexes('0-3,9', 3)).toEqual([0, 1, 2]);
    expect(completionIndex(pod('a', { index: 4 }))).toBe(4);
    expect(completionIndex({ metadata: { labels: { 'batch.kubernetes.io/job-completion-index': '2' } } })).toBe(2);
    expect(completionIndex({ metadata: { annotations: { 'batch.kubernetes.io/job-completion-index': 'x' } } })).toBeUndefined();
  });

  it('picks the lowest indexes neither succeeded nor running', () => {
    expect(firstPendingIndexes(new Set([0, 2]), [pod('a', { index: 1 })], 2, 6)).toEqual([3, 4]);
    expect(firstPendingIndexes(new Set([0, 1]), [], 5, 3)).toEqual([2]);
  });

  it('builds an indexed pod: annotation, label, hostname, env var, generateName', () => {
    const { template, generateName } = indexedPodTemplate('work', { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', env: [{ name: 'X', value: '1' }] }] } }, 3);
    expect(generateName).toBe('work-3-');
    expect(template.metadata?.annotations).toEqual({ 'batch.kubernetes.io/job-completion-index': '3' });
    expect(template.metadata?.labels).toEqual({ a: 'b', 'batch.kubernetes.io/job-completion-index': '3' });
    expect(template.spec?.hostname).toBe('work-3');
    expect(template.spec?.containers?.[0]?.env).toEqual([{ name: 'X', value: '1' }, { name: 'JOB_COMPLETION_INDEX', valueFrom: { fieldRef: { fieldPath: "metadata.labels['batch.kubernetes.io/job-completion-index']" } } }]);
  });
});

describe('manageJob', () => {
  const running = (n: number, ready = true) => Array.from({ length: n }, (_, i) => pod(`r${i}`, { ready }));
  it.each([
    // name, spec, active pods, succeeded, create, delete count
    ['first pod', {}, 0, 0, 1, 0],
    ['parallelism within completions', { parallelism: 3, completions: 5 }, 0, 0, 3, 0],
    ['never more than completions left', { parallelism: 3, completions: 5 }, 1, 3, 1, 0],
    ['done: nothing', { parallelism: 3, completions: 5 }, 0, 5, 0, 0],
    ['too many active', { parallelism: 2, completions: 5 }, 4, 0, 0, 2],
    ['work queue: parallelism until the first success', { parallelism: 3, completions: undefined }, 1, 0, 2, 0],
    ['work queue: after a success, no new pods', { parallelism: 3, completions: undefined }, 1, 1, 0, 0],
    ['suspended: everything goes', { parallelism: 3, completions: 5, suspend: true }, 3, 0, 0, 3],
    ['parallelism 0', { parallelism: 0, completions: 5 }, 2, 0, 0, 2],
  ])('%s', (_name, spec, active, succeeded, create, del) => {
    const d = manageJob(job(spec as Partial<Job['spec']>), running(active), succeeded, new Set(), 0, 0);
    expect(d.create).toBe(create);
    expect(d.delete).toHaveLength(del);
  });

  it('deletes not-ready and unscheduled pods first', () => {
    const pods = [pod('ready', { ready: true }), pod('notready', { ready: false }), pod('pending', { phase: 'Pending', node: '' })];
    pods[2] = { ...pods[2], spec: {} } as Pod;
    const d = manageJob(job({ parallelism: 1, completions: 3 }), pods, 0, new Set(), 0, 0);
    expect(d.delete.map((p) => p.metadata.name)).toEqual(['pending', 'notready']);
  });

  it('holds creations during the back-off and, with podReplacementPolicy Failed, while pods terminate', () => {
    expect(manageJob(job(), [], 0, new Set(), 0, 5000)).toMatchObject({ create: 0, backoffMs: 5000 });
    expect(manageJob(job({ podReplacementPolicy: 'Failed' }), [], 0, new Set(), 1, 0).create).toBe(0);
    expect(manageJob(job({ podReplacementPolicy: 'TerminatingOrFailed' }), [], 0, new Set(), 1, 0).create).toBe(1);
  });

  it('Indexed: creates the missing indexes and removes duplicates and succeeded indexes', () => {
    const j = job({ completionMode: 'Indexed', completions: 4, parallelism: 4 });
    expect(manageJob(j, [pod('a', { index: 1, ready: true })], 1, new Set([0]), 0, 0)).toMatchObject({ create: 2, indexes: [2, 3] });
    const dup = manageJob(j, [pod('a', { index: 1, ready: true }), pod('b', { index: 1 }), pod('c', { index: 0, ready: true }), pod('d', { index: 9 })], 1, new Set([0]), 0, 0);
    expect(dup.delete.map((p) => p.metadata.name).sort()).toEqual(['b', 'c', 'd']);
  });
});

describe('conditions', () => {
  const now = new Date(NOW);
  it('adds, updates and never adds a False condition from nothing', () => {
    expect(ensureCondition([], 'Suspended', 'False', 'JobResumed', 'Job resumed', now)).toEqual({ conditions: [], changed: false });
    const added = ensureCondition([], 'Suspended', 'True', 'JobSuspended', 'Job suspended', now);
    expect(added.changed).toBe(true);
    expect(added.conditions[0]).toEqual({ type: 'Suspended', status: 'True', reason: 'JobSuspended', message: 'Job suspended', lastProbeTime: '2026-01-01T00:10:00Z', lastTransitionTime: '2026-01-01T00:10:00Z' });
    expect(ensureCondition(added.conditions, 'Suspended', 'True', 'JobSuspended', 'Job suspended', new Date(NOW + 5000)).changed).toBe(false);
    const flipped = ensureCondition(added.conditions, 'Suspended', 'False', 'JobResumed', 'Job resumed', new Date(NOW + 5000));
    expect(flipped.conditions[0]).toMatchObject({ status: 'False', reason: 'JobResumed', lastTransitionTime: '2026-01-01T00:10:05Z' });
  });
});

describe('success policy', () => {
  it.each([
    ['no policy', undefined, [0, 1], undefined],
    ['nothing succeeded', [{ succeededCount: 1 }], [], undefined],
    ['all listed indexes', [{ succeededIndexes: '0,2' }], [0, 2], 'Matched rules at index 0'],
    ['not all listed indexes', [{ succeededIndexes: '0-2' }], [0, 2], undefined],
    ['enough of the listed indexes', [{ succeededIndexes: '0-3', succeededCount: 2 }], [1, 3], 'Matched rules at index 0'],
    ['a count alone', [{ succeededIndexes: '9' }, { succeededCount: 2 }], [4, 5], 'Matched rules at index 1'],
    ['indexes beyond completions do not count', [{ succeededIndexes: '7-9' }], [1], undefined],
  ])('%s', (_name, rules, succeeded, want) => {
    expect(matchSuccessPolicy(rules, 6, new Set(succeeded))).toBe(want);
  });
});

describe('backoffLimitPerIndex', () => {
  const perIndex = (extra: Partial<Job['spec']> = {}) => job({ completionMode: 'Indexed', completions: 4, parallelism: 4, backoffLimitPerIndex: 1, ...extra });
  const failedAt = (name: string, index: number, count: number, at: number, ignored = 0): Pod => {
    const p = pod(name, { phase: 'Failed', finishedAt: at, index, exitCode: 3 });
    p.metadata.annotations = { ...p.metadata.annotations, 'batch.kubernetes.io/job-index-failure-count': String(count), ...(ignored ? { 'batch.kubernetes.io/job-index-ignored-failure-count': String(ignored) } : {}) };
    p.metadata.finalizers = ['batch.kubernetes.io/job-tracking'];
    return p;
  };

  it('fails an index once its counted failures reach the limit, or at once on FailIndex', () => {
    expect(isIndexFailed(perIndex(), failedAt('a', 0, 0, NOW))).toBe(false);
    expect(isIndexFailed(perIndex(), failedAt('a', 0, 1, NOW))).toBe(true);
    expect(isIndexFailed(perIndex({ backoffLimitPerIndex: 0 }), failedAt('a', 0, 0, NOW))).toBe(true);
    expect(isIndexFailed(perIndex({ podFailurePolicy: { rules: [{ action: 'FailIndex', onExitCodes: { operator: 'In', values: [3] } }] } }), failedAt('a', 0, 0, NOW))).toBe(true);
    expect(isIndexFailed(perIndex({ podFailurePolicy: { rules: [{ action: 'Ignore', onExitCodes: { operator: 'In', values: [3] } }] } }), failedAt('a', 0, 5, NOW))).toBe(false);
    expect(isIndexFailed(perIndex(), pod('r', { index: 0 }))).toBe(false);
  });

  it('carries the counts over to the replacement (ignored failures apart)', () => {
    expect(replacementFailureCounts(perIndex(), undefined)).toEqual({ 'batch.kubernetes.io/job-index-failure-count': '0' });
    expect(replacementFailureCounts(perIndex(), failedAt('a', 0, 2, NOW))).toEqual({ 'batch.kubernetes.io/job-index-failure-count': '3' });
    const ignoring = perIndex({ podFailurePolicy: { rules: [{ action: 'Ignore', onExitCodes: { operator: 'In', values: [3] } }] } });
    expect(replacementFailureCounts(ignoring, failedAt('a', 0, 2, NOW, 1))).toEqual({ 'batch.kubernetes.io/job-index-failure-count': '2', 'batch.kubernetes.io/job-index-ignored-failure-count': '2' });
  });

  it('keeps the latest failed pod of each index still to retry', () => {
    const older = failedAt('old', 1, 0, NOW - 60_000);
    const newer = failedAt('new', 1, 1, NOW - 5_000);
    const other = failedAt('x', 2, 0, NOW - 5_000);
    const done = failedAt('done', 3, 0, NOW - 5_000);
    const d = podsWithDelayedDeletion(perIndex(), [older, newer, other, done], [pod('run', { index: 2 })], new Set([3]), new Set());
    expect([...d.entries()].map(([ix, p]) => [ix, p.metadata.name])).toEqual([[1, 'new']]);
  });

  it('creates an index only once its own back-off has passed, and never a failed index', () => {
    const delayed = new Map([[1, failedAt('f', 1, 1, NOW - 5_000)]]);
    // Index 1 failed twice: 20 s of back-off, 5 s gone; index 0 failed for good; 2 and 3 go at once.
    const d = manageJob(perIndex(), [], 0, new Set(), 0, 0, { failed: new Set([0]), delayed, now: NOW });
    expect(d.indexes).toEqual([2, 3]);
    const waiting = manageJob(perIndex(), [pod('a', { index: 2 }), pod('b', { index: 3 })], 0, new Set(), 0, 0, { failed: new Set([0]), delayed, now: NOW });
    expect(waiting).toMatchObject({ create: 0, backoffMs: 15_000 });
  });
});
