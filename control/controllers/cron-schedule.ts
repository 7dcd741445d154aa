/**
 * robfig/cron/v3's Schedule.Next on the schedules control/api parses: the first activation strictly after a time,
 * computed on the wall clock of the schedule's time zone (CRON_TZ=/TZ= prefix, a CronJob's spec.timeZone, or the
 * controller's local zone), at minute granularity, giving up after five years as the library does. Daylight saving
 * time as robfig, which walks real time: a wall time skipped when clocks go forward does not fire that day; one
 * repeated when they go back fires at both occurrences. Pure: no clock.
 */
import type { CronSchedule } from '../api/batch/cron.js';

interface Wall {
  year: number;
  month: number; // 1-12
  day: number;
  hour: number;
  minute: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The zone a schedule without one runs in: the process's (upstream uses the controller manager's time.Local). */
export function localTimeZone(): string {
  return new Intl.DateTimeFormat().resolvedOptions().timeZone;
}

/** Wall-clock fields of an instant in a zone (seconds dropped). */
export function wallClock(ms: number, timeZone: string): Wall {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(ms))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return { year: parts.year ?? 1970, month: parts.month ?? 1, day: parts.day ?? 1, hour: parts.hour ?? 0, minute: parts.minute ?? 0 };
}

/** The zone's offset from UTC at an instant, in ms. */
export function zoneOffsetMs(ms: number, timeZone: string): number {
  const w = wallClock(ms, timeZone);
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute) - Math.floor(ms / 60_000) * 60_000;
}

/**
 * The instant a wall-clock time names in a zone: in the hour repeated when clocks go back, the first one after
 * `afterMs` (robfig walks real time through both); in a gap when they go forward, an instant whose wall clock
 * differs (the caller skips it).
 */
function instantOf(w: Wall, timeZone: string, afterMs = -Infinity): number {
  const wallMs = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute);
  const day = 86_400_000;
  const candidates = [wallMs - zoneOffsetMs(wallMs - day, timeZone), wallMs - zoneOffsetMs(wallMs + day, timeZone)].sort((a, b) => a - b);
  const same = (ms: number): boolean => {
    const x = wallClock(ms, timeZone);
    return x.year === w.year && x.month === w.month && x.day === w.day && x.hour === w.hour && x.minute === w.minute;
  };
  const valid = candidates.filter(same);
  return valid.find((c) => c > afterMs) ?? valid[0] ?? (candidates[0] as number);
}

const daysIn = (year: number, month: number): number => new Date(Date.UTC(year, month, 0)).getUTCDate();
const weekday = (w: Wall): number => new Date(Date.UTC(w.year, w.month - 1, w.day)).getUTCDay();

function dayMatches(s: CronSchedule, w: Wall): boolean {
  const dom = s.daysOfMonth.has(w.day);
  const dow = s.daysOfWeek.has(weekday(w));
  return s.domStar || s.dowStar ? dom && dow : dom || dow;
}

/**
 * The first activation of `s` strictly after `afterMs`, or undefined when none comes within five years (an
 * impossible schedule such as 30 February). `defaultZone` applies when the schedule names none.
 */
export function nextActivation(s: CronSchedule, afterMs: number, defaultZone: string = localTimeZone()): number | undefined {
  if (s.everyMs !== undefined) {
    // ConstantDelaySchedule: whole seconds, at least one.
    const delay = Math.max(1000, Math.floor(s.everyMs / 1000) * 1000);
    return Math.floor(afterMs / 1000) * 1000 + delay;
  }
  const zone = s.timeZone ?? defaultZone;
  // The upcoming minute (seconds are always 0 in a five-field schedule).
  let w = wallClock(Math.floor(afterMs / 60_000) * 60_000 + 60_000, zone);
  const yearLimit = w.year + 5;
  for (let guard = 0; guard < 100_000; guard++) {
    if (w.year > yearLimit) return undefined;
    if (!s.months.has(w.month)) {
      w = w.month === 12 ? { year: w.year + 1, month: 1, day: 1, hour: 0, minute: 0 } : { year: w.year, month: w.month + 1, day: 1, hour: 0, minute: 0 };
      continue;
    }
    if (!dayMatches(s, w)) {
      const next = w.day + 1;
      w = next > daysIn(w.year, w.month) ? (w.month === 12 ? { year: w.year + 1, month: 1, day: 1, hour: 0, minute: 0 } : { year: w.year, month: w.month + 1, day: 1, hour: 0, minute: 0 }) : { ...w, day: next, hour: 0, minute: 0 };
      continue;
    }
    if (!s.hours.has(w.hour)) {
      if (w.hour === 23) {
        const next = w.day + 1;
        w = next > daysIn(w.year, w.month) ? (w.month === 12 ? { year: w.year + 1, month: 1, day: 1, hour: 0, minute: 0 } : { year: w.year, month: w.month + 1, day: 1, hour: 0, minute: 0 }) : { ...w, day: next, hour: 0, minute: 0 };
      } else w = { ...w, hour: w.hour + 1, minute: 0 };
      continue;
    }
    if (!s.minutes.has(w.minute)) {
      if (w.minute === 59) {
        // Into the next hour: go through the checks again from the month down.
        const ms = instantOf({ ...w, minute: 59 }, zone, afterMs) + 60_000;
        w = wallClock(ms, zone);
      } else w = { ...w, minute: w.minute + 1 };
      continue;
    }
    const at = instantOf(w, zone, afterMs);
    const seen = wallClock(at, zone);
    // A wall time inside a DST gap does not exist: robfig, walking real hours, never meets it and moves on.
    if (seen.hour !== w.hour || seen.minute !== w.minute || at <= afterMs) {
      if (w.hour === 23) {
        const next = w.day + 1;
        w = next > daysIn(w.year, w.month) ? (w.month === 12 ? { year: w.year + 1, month: 1, day: 1, hour: 0, minute: 0 } : { year: w.year, month: w.month + 1, day: 1, hour: 0, minute: 0 }) : { ...w, day: next, hour: 0, minute: 0 };
      } else w = { ...w, hour: w.hour + 1, minute: 0 };
      continue;
    }
    return at;
  }
  return undefined;
}
