// batch/v1 CronJob: SetDefaults_CronJob, the cron schedule syntax (robfig/cron's ParseStandard messages), time zones.
import { describe, expect, it } from 'vitest';
import { cronJobKind, cronScheduleError, parseCronJob, parseCronSchedule, parseKindUpdate } from '../../../../../control/api/index.js';
import { lines, must } from '../apps/helpers.js';

function cronJob(edit: (c: any) => void = () => {}): any {
  const c: any = {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: 'hello', namespace: 'default' },
    spec: {
      schedule: '*/5 * * * *',
      jobTemplate: { spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'hello', image: 'busybox:1.36', command: ['date'] }] } } } },
    },
  };
  edit(c);
  return c;
}

describe('CronJob defaults', () => {
  it('fills in SetDefaults_CronJob but not the Job defaults of the template', () => {
    const c = must(parseCronJob(cronJob()));
    expect(c.spec).toMatchObject({ concurrencyPolicy: 'Allow', suspend: false, successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 1 });
    expect(c.spec.jobTemplate.spec.backoffLimit).toBeUndefined();
    expect(c.spec.jobTemplate.spec.template.spec.dnsPolicy).toBe('ClusterFirst');
  });
});

describe('CronJob validation', () => {
  const cases: Array<[string, (c: any) => void, string[]]> = [
    ['schedule required', (c) => (c.spec.schedule = ''), ['spec.schedule: Required value']],
    ['field count', (c) => (c.spec.schedule = '* * * *'), ['spec.schedule: Invalid value: "* * * *": expected exactly 5 fields, found 4: [* * * *]']],
    ['range above maximum', (c) => (c.spec.schedule = '0 24 * * *'), ['spec.schedule: Invalid value: "0 24 * * *": end of range (24) above maximum (23): 24']],
    [
      'not a number',
      (c) => (c.spec.schedule = 'x * * * *'),
      ['spec.schedule: Invalid value: "x * * * *": failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax'],
    ],
    ['unknown descriptor', (c) => (c.spec.schedule = '@fortnightly'), ['spec.schedule: Invalid value: "@fortnightly": unrecognized descriptor: @fortnightly']],
    [
      'TZ in the schedule',
      (c) => (c.spec.schedule = 'TZ=Europe/Paris 0 1 * * *'),
      ['spec.schedule: Invalid value: "TZ=Europe/Paris 0 1 * * *": cannot use TZ or CRON_TZ in schedule, use timeZone field instead'],
    ],
    ['unknown time zone', (c) => (c.spec.timeZone = 'Mars/Olympus'), ['spec.timeZone: Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus']],
    ['empty time zone', (c) => (c.spec.timeZone = ''), ['spec.timeZone: Invalid value: "": timeZone must be nil or non-empty string']],
    [
      'Local is not a time zone here',
      (c) => (c.spec.timeZone = 'Local'),
      ['spec.timeZone: Invalid value: "Local": timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones'],
    ],
    [
      'concurrencyPolicy',
      (c) => (c.spec.concurrencyPolicy = 'Queue'),
      ['spec.concurrencyPolicy: Unsupported value: "Queue": supported values: "Allow", "Forbid", "Replace"'],
    ],
    [
      'jobTemplate restartPolicy',
      (c) => delete c.spec.jobTemplate.spec.template.spec.restartPolicy,
      ['spec.jobTemplate.spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"'],
    ],
    [
      'jobTemplate selector is generated',
      (c) => (c.spec.jobTemplate.spec.selector = { matchLabels: { a: 'b' } }),
      ['spec.jobTemplate.spec.selector: Invalid value: {"matchLabels":{"a":"b"}}: `selector` will be auto-generated'],
    ],
    ['history limits', (c) => (c.spec.failedJobsHistoryLimit = -1), ['spec.failedJobsHistoryLimit: Invalid value: -1: must be greater than or equal to 0']],
    ['name at most 52 characters', (c) => (c.metadata.name = 'c'.repeat(53)), [`metadata.name: Invalid value: "${'c'.repeat(53)}": must be no more than 52 characters`]],
  ];
  it.each(cases)('%s', (_rule, edit, want) => {
    expect(lines(parseCronJob(cronJob(edit)))).toEqual(want);
  });

  it.each(['@hourly', '@daily', '@midnight', '@weekly', '@monthly', '@yearly', '@annually', '@every 1h30m', '0 0 1 jan,jul mon-fri', '*/15 9-17 * * 1-5', '0 12 ? * SUN'])(
    'accepts %s',
    (schedule) => {
      expect(lines(parseCronJob(cronJob((c) => (c.spec.schedule = schedule))))).toEqual([]);
    },
  );

  it('accepts IANA time zones', () => {
    expect(lines(parseCronJob(cronJob((c) => (c.spec.timeZone = 'America/New_York'))))).toEqual([]);
    expect(lines(parseCronJob(cronJob((c) => (c.spec.timeZone = 'Etc/UTC'))))).toEqual([]);
  });

  it('lets an old schedule keep its TZ prefix on update, but not together with timeZone', () => {
    const old = must(parseCronJob(cronJob()));
    old.spec.schedule = 'TZ=UTC 0 1 * * *';
    const next = cronJob((c) => (c.spec.schedule = 'TZ=UTC 0 2 * * *'));
    expect(lines(parseKindUpdate(cronJobKind, next, old))).toEqual([]);
    next.spec.timeZone = 'UTC';
    expect(lines(parseKindUpdate(cronJobKind, next, old))).toEqual([
      'spec.schedule: Invalid value: "TZ=UTC 0 2 * * *": cannot use both timeZone field and TZ or CRON_TZ in schedule',
    ]);
  });
});

describe('the cron parser', () => {
  it('expands fields', () => {
    const s = parseCronSchedule('*/20 1,3 * * mon');
    expect([...s.minutes]).toEqual([0, 20, 40]);
    expect([...s.hours]).toEqual([1, 3]);
    expect([...s.daysOfWeek]).toEqual([1]);
    expect(s.domStar).toBe(true);
    expect(s.dowStar).toBe(false);
  });
  it("reports robfig's errors", () => {
    expect(cronScheduleError('')).toBe('empty spec string');
    expect(cronScheduleError('5-1 * * * *')).toBe('beginning of range (5) beyond end of range (1): 5-1');
    expect(cronScheduleError('*/0 * * * *')).toBe('step of range should be a positive number: */0');
    expect(cronScheduleError('1-2-3 * * * *')).toBe('too many hyphens: 1-2-3');
    expect(cronScheduleError('0 0 0 * *')).toBe('beginning of range (0) below minimum (1): 0');
    expect(cronScheduleError('@every 1x')).toBe('failed to parse duration @every 1x: time: invalid duration "1x"');
    expect(cronScheduleError('CRON_TZ=Nowhere/City * * * * *')).toBe('provided bad location Nowhere/City: unknown time zone Nowhere/City');
  });
  it('parses @every durations', () => {
    expect(parseCronSchedule('@every 1h30m').everyMs).toBe(5_400_000);
  });
});
