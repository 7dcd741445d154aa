import { describe, expect, it } from 'vitest';
import { parseCronSchedule } from '../../../../control/api/batch/cron.js';
import { nextActivation } from '../../../../control/controllers/cron-schedule.js';

const next = (spec: string, after: string, zone = 'UTC'): string => {
  const r = nextActivation(parseCronSchedule(spec), Date.parse(after), zone);
  return r === undefined ? 'none' : new Date(r).toISOString();
};

describe('nextActivation (robfig/cron Schedule.Next)', () => {
  it.each([
    ['* * * * *', '2026-01-01T00:00:00Z', '2026-01-01T00:01:00.000Z'],
    ['* * * * *', '2026-01-01T00:00:59.999Z', '2026-01-01T00:01:00.000Z'],
    ['*/15 * * * *', '2026-01-01T00:07:30Z', '2026-01-01T00:15:00.000Z'],
    ['@hourly', '2026-01-01T23:30:00Z', '2026-01-02T00:00:00.000Z'],
    ['@daily', '2026-02-28T12:00:00Z', '2026-03-01T00:00:00.000Z'],
    ['@weekly', '2026-01-01T00:00:00Z', '2026-01-04T00:00:00.000Z'],
    ['@monthly', '2026-01-15T00:00:00Z', '2026-02-01T00:00:00.000Z'],
    ['@yearly', '2026-01-15T00:00:00Z', '2027-01-01T00:00:00.000Z'],
    ['0 0 29 2 *', '2026-01-01T00:00:00Z', '2028-02-29T00:00:00.000Z'],
    ['0 0 * * 1', '2026-01-01T00:00:00Z', '2026-01-05T00:00:00.000Z'],
    // Neither day field is "*": either matches (Friday 2 January comes before the 13th).
    ['0 0 13 * 5', '2026-01-01T00:00:00Z', '2026-01-02T00:00:00.000Z'],
    // Day of month restricted, day of week "*": both must match, i.e. only the 13th.
    ['0 0 13 * *', '2026-01-01T00:00:00Z', '2026-01-13T00:00:00.000Z'],
    ['59 23 31 12 *', '2026-12-31T23:59:00Z', '2027-12-31T23:59:00.000Z'],
    ['30 9-17/4 * * mon-fri', '2026-01-02T13:30:00Z', '2026-01-02T17:30:00.000Z'],
    ['@every 90s', '2026-01-01T00:00:00.500Z', '2026-01-01T00:01:30.000Z'],
  ])('%s after %s is %s', (spec, after, want) => {
    expect(next(spec, after)).toBe(want);
  });

  it('gives up on schedules that never fire (30 February), as robfig does after five years', () => {
    expect(next('0 0 30 2 *', '2026-01-01T00:00:00Z')).toBe('none');
  });

  it('runs on the wall clock of CRON_TZ, of the CronJob time zone, across daylight saving time', () => {
    expect(next('CRON_TZ=Europe/Paris 0 9 * * *', '2026-01-01T00:00:00Z')).toBe('2026-01-01T08:00:00.000Z');
    expect(next('0 9 * * *', '2026-07-01T00:00:00Z', 'Europe/Paris')).toBe('2026-07-01T07:00:00.000Z');
    expect(next('TZ=America/New_York 0 0 * * *', '2026-01-01T00:00:00Z')).toBe('2026-01-01T05:00:00.000Z');
    // 02:30 does not exist in Paris on 29 March 2026 (clocks jump from 02:00 to 03:00): the next one is the 30th.
    expect(next('30 2 * * *', '2026-03-29T00:00:00Z', 'Europe/Paris')).toBe('2026-03-30T00:30:00.000Z');
    // 02:30 happens twice on 25 October 2026 (03:00 CEST becomes 02:00 CET): it fires at both, as robfig does.
    expect(next('30 2 * * *', '2026-10-25T00:00:00Z', 'Europe/Paris')).toBe('2026-10-25T00:30:00.000Z');
    expect(next('30 2 * * *', '2026-10-25T00:30:00Z', 'Europe/Paris')).toBe('2026-10-25T01:30:00.000Z');
    expect(next('30 2 * * *', '2026-10-25T01:30:00Z', 'Europe/Paris')).toBe('2026-10-26T01:30:00.000Z');
    expect(next('0 * * * *', '2026-10-25T00:30:00Z', 'Europe/Paris')).toBe('2026-10-25T01:00:00.000Z');
  });
});
