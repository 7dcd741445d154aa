// batch/v1 Job: SetDefaults_Job, the generated selector, validation messages and the update rules.
import { describe, expect, it } from 'vitest';
import { generateJobSelector, jobKind, parseJob, parseKindUpdate, type Job } from '../../../../../control/api/index.js';
import { lines, must } from '../apps/helpers.js';

const UID = '6f0b5d7e-3f43-4c4e-9a8e-0d7f2c1b9a11';

function job(edit: (j: any) => void = () => {}): any {
  const j: any = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'pi', namespace: 'default', uid: UID },
    spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'pi', image: 'perl:5.34', command: ['perl', '-e', 'print 1'] }] } } },
  };
  edit(j);
  return j;
}

describe('Job defaults', () => {
  it('fills in SetDefaults_Job and the generated selector and labels', () => {
    const j = must(parseJob(job()));
    expect(j.spec).toMatchObject({
      completions: 1,
      parallelism: 1,
      backoffLimit: 6,
      completionMode: 'NonIndexed',
      suspend: false,
      manualSelector: false,
      podReplacementPolicy: 'TerminatingOrFailed',
      selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': UID } },
    });
    const labels = { 'batch.kubernetes.io/controller-uid': UID, 'batch.kubernetes.io/job-name': 'pi', 'controller-uid': UID, 'job-name': 'pi' };
    expect(j.spec.template.metadata.labels).toEqual(labels);
    // A Job without labels of its own takes its template's.
    expect(j.metadata.labels).toEqual(labels);
  });

  it('defaults only parallelism when completions is set, and the reverse leaves completions unset', () => {
    expect(must(parseJob(job((j) => (j.spec.completions = 5)))).spec).toMatchObject({ completions: 5, parallelism: 1 });
    const p = must(parseJob(job((j) => (j.spec.parallelism = 3)))).spec;
    expect(p.parallelism).toBe(3);
    expect(p.completions).toBeUndefined();
  });

  it('uses Failed replacement with a pod failure policy and MaxInt32 backoff with backoffLimitPerIndex', () => {
    const j = must(
      parseJob(
        job((x) => {
          x.spec.completionMode = 'Indexed';
          x.spec.completions = 3;
          x.spec.backoffLimitPerIndex = 1;
          x.spec.podFailurePolicy = { rules: [{ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget' }] }] };
        }),
      ),
    );
    expect(j.spec.podReplacementPolicy).toBe('Failed');
    expect(j.spec.backoffLimit).toBe(2147483647);
    expect(j.spec.podFailurePolicy?.rules[0]?.onPodConditions?.[0]).toEqual({ type: 'DisruptionTarget', status: 'True' });
  });

  it('keeps user labels and manual selectors', () => {
    const j = must(
      parseJob(
        job((x) => {
          x.metadata.labels = { team: 'a' };
          x.spec.manualSelector = true;
          x.spec.selector = { matchLabels: { run: 'pi' } };
          x.spec.template.metadata = { labels: { run: 'pi' } };
        }),
      ),
    );
    expect(j.metadata.labels).toEqual({ team: 'a' });
    expect(j.spec.selector).toEqual({ matchLabels: { run: 'pi' } });
    expect(j.spec.template.metadata.labels).toEqual({ run: 'pi' });
  });
});

describe('Job validation', () => {
  const cases: Array<[string, (j: any) => void, string[]]> = [
    [
      'restartPolicy must be OnFailure or Never',
      (j) => delete j.spec.template.spec.restartPolicy,
      ['spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"'],
    ],
    [
      'podFailurePolicy needs Never',
      (j) => {
        j.spec.template.spec.restartPolicy = 'OnFailure';
        j.spec.podFailurePolicy = { rules: [{ action: 'FailJob', onExitCodes: { operator: 'In', values: [42] } }] };
      },
      ['spec.template.spec.restartPolicy: Invalid value: "OnFailure": only "Never" is supported when podFailurePolicy is specified'],
    ],
    [
      'pod failure policy rules',
      (j) => (j.spec.podFailurePolicy = { rules: [{ action: 'Retry', onExitCodes: { operator: 'In', values: [3, 0, 3] } }, { action: 'Ignore' }] }),
      [
        'spec.podFailurePolicy.rules[0].action: Unsupported value: "Retry": supported values: "Count", "FailIndex", "FailJob", "Ignore"',
        'spec.podFailurePolicy.rules[0].onExitCodes.values[1]: Invalid value: 0: must not be 0 for the In operator',
        'spec.podFailurePolicy.rules[0].onExitCodes.values[2]: Duplicate value: 3',
        'spec.podFailurePolicy.rules[0].onExitCodes.values: Invalid value: [3,0,3]: must be ordered',
        'spec.podFailurePolicy.rules[1]: Invalid value: specifying one of OnExitCodes and OnPodConditions is required',
      ],
    ],
    [
      'podReplacementPolicy values',
      (j) => (j.spec.podReplacementPolicy = 'Always'),
      ['spec.podReplacementPolicy: Unsupported value: "Always": supported values: "Failed", "TerminatingOrFailed"'],
    ],
    ['counts non-negative', (j) => (j.spec.backoffLimit = -1), ['spec.backoffLimit: Invalid value: -1: must be greater than or equal to 0']],
    [
      'completionMode',
      (j) => (j.spec.completionMode = 'Ordered'),
      ['spec.completionMode: Unsupported value: "Ordered": supported values: "NonIndexed", "Indexed"'],
    ],
    [
      'Indexed needs completions',
      (j) => {
        j.spec.completionMode = 'Indexed';
        j.spec.parallelism = 2;
      },
      ['spec.completions: Required value: when completion mode is Indexed'],
    ],
    [
      'backoffLimitPerIndex requires Indexed',
      (j) => (j.spec.backoffLimitPerIndex = 1),
      ['spec.backoffLimitPerIndex: Invalid value: 1: requires indexed completion mode'],
    ],
    [
      'user labels conflicting with the generated ones',
      (j) => (j.spec.template.metadata = { labels: { 'job-name': 'other' } }),
      ['spec.template.metadata.labels[job-name]: Invalid value: {"batch.kubernetes.io/controller-uid":"6f0b5d7e-3f43-4c4e-9a8e-0d7f2c1b9a11","batch.kubernetes.io/job-name":"pi","controller-uid":"6f0b5d7e-3f43-4c4e-9a8e-0d7f2c1b9a11","job-name":"other"}: must be \'pi\''],
    ],
    [
      'a manual selector must match the template',
      (j) => {
        j.spec.manualSelector = true;
        j.spec.selector = { matchLabels: { run: 'pi' } };
      },
      ['spec.template.metadata.labels: Invalid value: {}: `selector` does not match template `labels`'],
    ],
    [
      'a manual selector is required',
      (j) => (j.spec.manualSelector = true),
      // A missing selector matches nothing, so upstream also reports the mismatch.
      ['spec.selector: Required value', 'spec.template.metadata.labels: Invalid value: {}: `selector` does not match template `labels`'],
    ],
    [
      'Indexed pod hostnames must be DNS labels',
      (j) => {
        j.metadata.name = 'a'.repeat(62);
        j.spec.completionMode = 'Indexed';
        j.spec.completions = 10;
      },
      [`metadata.name: Invalid value: "${'a'.repeat(62)}": will not able to create pod with invalid DNS label: ${'a'.repeat(62)}-9`],
    ],
  ];
  it.each(cases)('%s', (_rule, edit, want) => {
    expect(lines(parseJob(job(edit)))).toEqual(want);
  });

  it('takes managedBy only as a domain-prefixed path of at most 63 bytes (IsDomainPrefixedPath)', () => {
    expect(must(parseJob(job((j) => (j.spec.managedBy = 'kueue.x-k8s.io/multikueue')))).spec.managedBy).toBe('kueue.x-k8s.io/multikueue');
    expect(lines(parseJob(job((j) => (j.spec.managedBy = ''))))).toEqual(['spec.managedBy: Required value']);
    expect(lines(parseJob(job((j) => (j.spec.managedBy = 'example.com/'))))).toEqual(['spec.managedBy: Invalid value: "example.com/": must be a domain-prefixed path (such as "acme.io/foo")']);
    expect(lines(parseJob(job((j) => (j.spec.managedBy = 'Example.com/x'))))[0]).toMatch(/^spec\.managedBy: Invalid value: "Example\.com": a lowercase RFC 1123 subdomain must consist of/);
    expect(lines(parseJob(job((j) => (j.spec.managedBy = `example.com/${'a'.repeat(60)}`))))).toEqual(['spec.managedBy: Too long: may not be more than 63 bytes']);
  });

  it('needs the uid to generate the selector', () => {
    expect(lines(parseJob(job((j) => delete j.metadata.uid)))).toEqual(['metadata.uid: Required value']);
  });
});

describe('Job updates', () => {
  const old: Job = must(parseJob(job()));
  const stored = (edit: (j: any) => void = () => {}): any => {
    const j = JSON.parse(JSON.stringify(old));
    edit(j);
    return j;
  };

  it('allows changing parallelism, suspend and activeDeadlineSeconds', () => {
    expect(
      lines(
        parseKindUpdate(
          jobKind,
          stored((j) => {
            j.spec.parallelism = 4;
            j.spec.suspend = true;
            j.spec.activeDeadlineSeconds = 100;
          }),
          old,
        ),
      ),
    ).toEqual([]);
  });

  it('rejects template, completions, selector and completionMode changes', () => {
    const next = stored((j) => {
      j.spec.template.spec.containers[0].image = 'perl:5.36';
      j.spec.completions = 2;
    });
    const out = lines(parseKindUpdate(jobKind, next, old));
    expect(out).toHaveLength(2);
    expect(out[0]).toBe('spec.completions: Invalid value: 2: field is immutable');
    expect(out[1]).toMatch(/^spec\.template: Invalid value: \{.*\}: field is immutable$/);
  });

  it('lets a suspended, never-started Job change its scheduling directives', () => {
    const suspended: Job = must(parseJob(job((j) => (j.spec.suspend = true))));
    const next = JSON.parse(JSON.stringify(suspended));
    next.spec.template.spec.nodeSelector = { disk: 'ssd' };
    next.spec.template.metadata.annotations = { note: 'x' };
    expect(lines(parseKindUpdate(jobKind, next, suspended))).toEqual([]);
    next.spec.template.spec.containers[0].image = 'perl:5.36';
    expect(lines(parseKindUpdate(jobKind, next, suspended))[0]).toMatch(/^spec\.template: Invalid value: .*: field is immutable$/);
  });

  it('lets an Indexed Job change completions together with parallelism', () => {
    const indexed: Job = must(parseJob(job((j) => ((j.spec.completionMode = 'Indexed'), (j.spec.completions = 3), (j.spec.parallelism = 3)))));
    const next = JSON.parse(JSON.stringify(indexed));
    next.spec.completions = 5;
    expect(lines(parseKindUpdate(jobKind, next, indexed))).toEqual(['spec.completions: Invalid value: 5: can only be modified in tandem with spec.parallelism']);
    next.spec.parallelism = 5;
    expect(lines(parseKindUpdate(jobKind, next, indexed))).toEqual([]);
  });

  it('generateJobSelector is a no-op for manual selectors', () => {
    const j = must(parseJob(job((x) => ((x.spec.manualSelector = true), (x.spec.selector = { matchLabels: { a: 'b' } }), (x.spec.template.metadata = { labels: { a: 'b' } })))));
    expect(generateJobSelector(j)).toBe(j);
  });
});
