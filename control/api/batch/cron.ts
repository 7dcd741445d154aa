// The schedule syntax of CronJobs: robfig/cron/v3's ParseStandard (five fields or a @descriptor, optional
// TZ=/CRON_TZ= prefix), returning the same error texts so that validation messages match upstream's.

interface Bounds {
  min: number;
  max: number;
  names?: Record<string, number>;
}

const MINUTES: Bounds = { min: 0, max: 59 };
const HOURS: Bounds = { min: 0, max: 23 };
const DOM: Bounds = { min: 1, max: 31 };
const MONTHS: Bounds = {
  min: 1,
  max: 12,
  names: { jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12 },
};
const DOW: Bounds = { min: 0, max: 6, names: { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 } };

const DESCRIPTORS = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'];

/** A parsed five-field schedule: the allowed values of each field. */
export interface CronSchedule {
  minutes: Set<number>;
  hours: Set<number>;
  daysOfMonth: Set<number>;
  months: Set<number>;
  daysOfWeek: Set<number>;
  /** A field was "*" or "?" (cron's star bit: day-of-month/day-of-week OR rather than AND). */
  domStar: boolean;
  dowStar: boolean;
  /** @every: a fixed interval in milliseconds instead of fields. */
  everyMs?: number;
  timeZone?: string;
}

export class CronError extends Error {}

// Go's strconv.Atoi, with its error text.
function atoi(s: string): number {
  if (!/^[+-]?\d+$/.test(s)) throw new CronError(`strconv.Atoi: parsing ${JSON.stringify(s)}: invalid syntax`);
  return Number.parseInt(s, 10);
}

function mustParseInt(expr: string): number {
  let n: number;
  try {
    n = atoi(expr);
  } catch (e) {
    throw new CronError(`failed to parse int from ${expr}: ${(e as Error).message}`);
  }
  if (n < 0) throw new CronError(`negative number (${n}) not allowed: ${expr}`);
  return n;
}

function parseIntOrName(expr: string, names: Record<string, number> | undefined): number {
  const named = names?.[expr.toLowerCase()];
  return named !== undefined ? named : mustParseInt(expr);
}

function getRange(expr: string, r: Bounds, out: Set<number>): boolean {
  const rangeAndStep = expr.split('/');
  const lowAndHigh = (rangeAndStep[0] ?? '').split('-');
  const single = lowAndHigh.length === 1;
  let start: number;
  let end: number;
  let star = false;
  if (lowAndHigh[0] === '*' || lowAndHigh[0] === '?') {
    start = r.min;
    end = r.max;
    star = true;
  } else {
    start = parseIntOrName(lowAndHigh[0] ?? '', r.names);
    if (lowAndHigh.length === 1) end = start;
    else if (lowAndHigh.length === 2) end = parseIntOrName(lowAndHigh[1] ?? '', r.names);
    else throw new CronError(`too many hyphens: ${expr}`);
  }
  let step = 1;
  if (rangeAndStep.length === 2) {
    step = mustParseInt(rangeAndStep[1] ?? '');
    if (single) end = r.max;
    if (step > 1) star = false;
  } else if (rangeAndStep.length > 2) throw new CronError(`too many slashes: ${expr}`);
  if (start < r.min) throw new CronError(`beginning of range (${start}) below minimum (${r.min}): ${expr}`);
  if (end > r.max) throw new CronError(`end of range (${end}) above maximum (${r.max}): ${expr}`);
  if (start > end) throw new CronError(`beginning of range (${start}) beyond end of range (${end}): ${expr}`);
  if (step === 0) throw new CronError(`step of range should be a positive number: ${expr}`);
  for (let i = start; i <= end; i += step) out.add(i);
  return star;
}

function getField(field: string, r: Bounds): { values: Set<number>; star: boolean } {
  const values = new Set<number>();
  let star = false;
  for (const expr of field.split(',').filter((s) => s !== '')) star = getRange(expr, r, values) || star;
  return { values, star };
}

// Go's time.ParseDuration for @every (units ns, us, µs, ms, s, m, h; decimals allowed).
const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
function parseDuration(s: string): number {
  const bad = (): CronError => new CronError(`time: invalid duration ${JSON.stringify(s)}`);
  let rest = s;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    sign = rest.startsWith('-') ? -1 : 1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') throw bad();
  let total = 0;
  const re = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/;
  while (rest !== '') {
    const m = re.exec(rest);
    if (!m) throw bad();
    total += Number(m[1]) * (UNIT_MS[m[2] as string] ?? 0);
    rest = rest.slice(m[0].length);
  }
  return sign * total;
}

function all(r: Bounds): Set<number> {
  const s = new Set<number>();
  for (let i = r.min; i <= r.max; i++) s.add(i);
  return s;
}

function descriptor(spec: string, timeZone: string | undefined): CronSchedule {
  const one = (n: number) => new Set([n]);
  const base = { domStar: false, dowStar: false, ...(timeZone ? { timeZone } : {}) };
  switch (spec) {
    case '@yearly':
    case '@annually':
      return { ...base, minutes: one(0), hours: one(0), daysOfMonth: one(1), months: one(1), daysOfWeek: all(DOW), dowStar: true };
    case '@monthly':
      return { ...base, minutes: one(0), hours: one(0), daysOfMonth: one(1), months: all(MONTHS), daysOfWeek: all(DOW), dowStar: true };
    case '@weekly':
      return { ...base, minutes: one(0), hours: one(0), daysOfMonth: all(DOM), months: all(MONTHS), daysOfWeek: one(0), domStar: true };
    case '@daily':
    case '@midnight':
      return { ...base, minutes: one(0), hours: one(0), daysOfMonth: all(DOM), months: all(MONTHS), daysOfWeek: all(DOW), domStar: true, dowStar: true };
    case '@hourly':
      return { ...base, minutes: one(0), hours: all(HOURS), daysOfMonth: all(DOM), months: all(MONTHS), daysOfWeek: all(DOW), domStar: true, dowStar: true };
  }
  if (spec.startsWith('@every ')) {
    let ms: number;
    try {
      ms = parseDuration(spec.slice('@every '.length));
    } catch (e) {
      throw new CronError(`failed to parse duration ${spec}: ${(e as Error).message}`);
    }
    return { ...base, minutes: new Set(), hours: new Set(), daysOfMonth: new Set(), months: new Set(), daysOfWeek: new Set(), everyMs: ms };
  }
  throw new CronError(`unrecognized descriptor: ${spec}`);
}

/** True when `tz` names a time zone the runtime knows, matched case-sensitively as Go's LoadLocation does. */
export function isKnownTimeZone(tz: string): boolean {
  if (tz === 'UTC' || tz === '') return true;
  try {
    const resolved = new Intl.DateTimeFormat('en-US', { timeZone: tz }).resolvedOptions().timeZone;
    // Intl accepts any casing; Go's zoneinfo lookup does not.
    return resolved === tz || resolved.toLowerCase() !== tz.toLowerCase() || tz === 'Etc/UTC';
  } catch {
    return false;
  }
}

/** robfig/cron/v3 ParseStandard. Throws CronError with the library's message. */
export function parseCronSchedule(input: string): CronSchedule {
  if (input.length === 0) throw new CronError('empty spec string');
  let spec = input;
  let timeZone: string | undefined;
  if (spec.startsWith('TZ=') || spec.startsWith('CRON_TZ=')) {
    const i = spec.indexOf(' ');
    const eq = spec.indexOf('=');
    const name = i < 0 ? spec.slice(eq + 1) : spec.slice(eq + 1, i);
    if (!isKnownTimeZone(name)) throw new CronError(`provided bad location ${name}: unknown time zone ${name}`);
    timeZone = name;
    spec = i < 0 ? '' : spec.slice(i).trim();
  }
  if (spec.startsWith('@')) return descriptor(spec, timeZone);
  const fields = spec.split(/\s+/).filter((f) => f !== '');
  if (fields.length !== 5) throw new CronError(`expected exactly 5 fields, found ${fields.length}: [${fields.join(' ')}]`);
  const [mi, h, dom, mo, dow] = fields as [string, string, string, string, string];
  const minute = getField(mi, MINUTES);
  const hour = getField(h, HOURS);
  const dayOfMonth = getField(dom, DOM);
  const month = getField(mo, MONTHS);
  const dayOfWeek = getField(dow, DOW);
  // robfig treats 7 as Sunday only via names; numbers beyond 6 fail the bounds check above, as upstream.
  return {
    minutes: minute.values,
    hours: hour.values,
    daysOfMonth: dayOfMonth.values,
    months: month.values,
    daysOfWeek: dayOfWeek.values,
    domStar: dayOfMonth.star,
    dowStar: dayOfWeek.star,
    ...(timeZone ? { timeZone } : {}),
  };
}

/** The error text ParseStandard gives for a schedule, or undefined when it parses. */
export function cronScheduleError(spec: string): string | undefined {
  try {
    parseCronSchedule(spec);
    return undefined;
  } catch (e) {
    return e instanceof CronError ? e.message : String(e);
  }
}
