/**
 * Time windows of change freezes, all in UTC: a weekly span ("Fri 16:00" to "Mon 08:00", which may
 * wrap over the weekend), and a cron expression that opens a window of a fixed duration.
 * Parsers return a message instead of throwing, so the config schema can report it.
 */

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const DAY_NAMES = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];
const MINUTES_PER_DAY = 24 * 60;
const MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY;
const WEEKLY_TIME = /^([A-Za-z]+)\s+([01]?\d|2[0-3]):([0-5]\d)$/;

/** Minutes since Monday 00:00 UTC of a weekly time such as "Fri 16:00"; a message when malformed. */
export function parseWeeklyTime(text: string): number | string {
  const match = WEEKLY_TIME.exec(text.trim());
  const word = (match?.[1] ?? '').toLowerCase();
  const day = Math.max(DAYS.indexOf(word), DAY_NAMES.indexOf(word));
  if (!match || day === -1) return `must be a day and a UTC time such as "Fri 16:00" (got "${text}")`;
  return day * MINUTES_PER_DAY + Number(match[2]) * 60 + Number(match[3]);
}

/** Minutes since Monday 00:00 UTC of an instant. */
export function minuteOfWeek(at: Date): number {
  const day = (at.getUTCDay() + 6) % 7; // getUTCDay: Sunday is 0; weeks here start on Monday
  return day * MINUTES_PER_DAY + at.getUTCHours() * 60 + at.getUTCMinutes();
}

/** True when `at` lies in the weekly span [from, to); a span whose end is before its start wraps over Monday 00:00. */
export function inWeeklyWindow(at: Date, from: number, to: number): boolean {
  const t = minuteOfWeek(at);
  return from < to ? t >= from && t < to : t >= from || t < to;
}

/** A parsed cron expression: the allowed values of each of its five fields. */
export interface Cron {
  minutes: ReadonlySet<number>;
  hours: ReadonlySet<number>;
  daysOfMonth: ReadonlySet<number>;
  months: ReadonlySet<number>;
  /** 0 = Sunday … 6 = Saturday (7 is read as Sunday too). */
  daysOfWeek: ReadonlySet<number>;
  /** Classic cron: when both day fields are restricted, a day matching either one fires. */
  domRestricted: boolean;
  dowRestricted: boolean;
}

const FIELDS = [
  { name: 'minute', min: 0, max: 59, names: [] },
  { name: 'hour', min: 0, max: 23, names: [] },
  { name: 'day of month', min: 1, max: 31, names: [] },
  {
    name: 'month',
    min: 1,
    max: 12,
    names: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'],
  },
  { name: 'day of week', min: 0, max: 7, names: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] },
] as const;

/** Parses a five-field cron expression ("0 22 * * 1-5"); a message naming the bad field when malformed. */
export function parseCron(text: string): Cron | string {
  const parts = text.trim().split(/\s+/);
  if (parts.length !== 5) {
    return `must have five fields "minute hour day-of-month month day-of-week", e.g. "0 22 * * 1-5" (got "${text}")`;
  }
  const sets: Set<number>[] = [];
  for (const [index, field] of FIELDS.entries()) {
    const set = parseCronField(parts[index] ?? '', field);
    if (typeof set === 'string') return `${field.name} field "${parts[index]}": ${set}`;
    sets.push(set);
  }
  const [minutes, hours, daysOfMonth, months, daysOfWeek] = sets;
  if (!minutes || !hours || !daysOfMonth || !months || !daysOfWeek) return 'internal: missing cron field';
  if (daysOfWeek.delete(7)) daysOfWeek.add(0);
  return {
    minutes,
    hours,
    daysOfMonth,
    months,
    daysOfWeek,
    domRestricted: parts[2] !== '*',
    dowRestricted: parts[4] !== '*',
  };
}

function parseCronField(
  text: string,
  field: { min: number; max: number; names: readonly string[] },
): Set<number> | string {
  const out = new Set<number>();
  const value = (word: string): number | undefined => {
    const named = field.names.indexOf(word.toLowerCase());
    if (named !== -1) return named + (field.min === 1 ? 1 : 0);
    if (!/^\d+$/.test(word)) return undefined;
    const n = Number(word);
    return n >= field.min && n <= field.max ? n : undefined;
  };
  for (const item of text.split(',')) {
    const [range = '', stepText] = item.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) return `step "${stepText}" must be a positive whole number`;
    let from: number | undefined;
    let to: number | undefined;
    if (range === '*') {
      from = field.min;
      to = field.max;
    } else {
      const [a = '', b] = range.split('-');
      from = value(a);
      to = b === undefined ? (stepText === undefined ? from : field.max) : value(b);
    }
    if (from === undefined || to === undefined) {
      return `"${item}" is not a value, range or step between ${field.min} and ${field.max}`;
    }
    if (from > to) return `range "${range}" runs backwards`;
    for (let n = from; n <= to; n += step) out.add(n);
  }
  return out;
}

/** True when the cron expression fires at the minute of `at` (UTC). */
export function cronFires(cron: Cron, at: Date): boolean {
  if (!cron.minutes.has(at.getUTCMinutes()) || !cron.hours.has(at.getUTCHours())) return false;
  if (!cron.months.has(at.getUTCMonth() + 1)) return false;
  const dom = cron.daysOfMonth.has(at.getUTCDate());
  const dow = cron.daysOfWeek.has(at.getUTCDay());
  if (cron.domRestricted && cron.dowRestricted) return dom || dow;
  return dom && dow;
}

/**
 * True when a window of `durationMinutes` opened by the cron expression covers `at`: some firing
 * minute s has s <= at < s + duration. Checks each minute back over the duration (at most a week).
 */
export function inCronWindow(cron: Cron, durationMinutes: number, at: Date): boolean {
  const minute = Math.floor(at.getTime() / 60_000) * 60_000;
  for (let back = 0; back < Math.min(durationMinutes, MINUTES_PER_WEEK); back++) {
    if (cronFires(cron, new Date(minute - back * 60_000))) return true;
  }
  return false;
}
