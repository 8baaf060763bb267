import { describe, expect, it } from 'vitest';
import {
  type Cron,
  cronFires,
  inCronWindow,
  inWeeklyWindow,
  minuteOfWeek,
  parseCron,
  parseWeeklyTime,
} from '../../../src/policy/freeze-windows.ts';

function cron(text: string): Cron {
  const parsed = parseCron(text);
  if (typeof parsed === 'string') throw new Error(parsed);
  return parsed;
}

describe('weekly windows', () => {
  it.each([
    ['Mon 00:00', 0],
    ['mon 8:05', 485],
    ['Fri 16:00', 4 * 1440 + 960],
    ['Sunday 23:59', 6 * 1440 + 1439],
  ])('reads "%s" as minute %i of the week', (text, minute) => {
    expect(parseWeeklyTime(text)).toBe(minute);
  });

  it.each(['Fri', '16:00', 'Fri 24:00', 'Fri 16:60', 'Fr 16:00', 'Fridays 16:00'])(
    'rejects "%s" with a message',
    (text) => {
      expect(parseWeeklyTime(text)).toEqual(expect.stringContaining('must be a day and a UTC time'));
    },
  );

  it('counts minutes of the week from Monday 00:00 UTC, whatever offset the instant was written with', () => {
    expect(minuteOfWeek(new Date('2026-11-23T00:00:00Z'))).toBe(0); // a Monday
    expect(minuteOfWeek(new Date('2026-11-29T23:59:00Z'))).toBe(7 * 1440 - 1); // the Sunday after
    expect(minuteOfWeek(new Date('2026-11-23T00:30:00+01:00'))).toBe(7 * 1440 - 30); // Sunday 23:30 UTC
  });

  it('treats a window whose end is before its start as wrapping over the week boundary', () => {
    const from = 4 * 1440 + 960; // Fri 16:00
    const to = 480; // Mon 08:00
    expect(inWeeklyWindow(new Date('2026-11-29T12:00:00Z'), from, to)).toBe(true);
    expect(inWeeklyWindow(new Date('2026-11-25T12:00:00Z'), from, to)).toBe(false);
    expect(inWeeklyWindow(new Date('2026-11-25T12:00:00Z'), to, from)).toBe(true);
  });
});

describe('cron windows', () => {
  it('parses values, ranges, lists, steps and names', () => {
    const c = cron('*/15 9-17 1,15 jan-mar mon-fri');
    expect([...c.minutes]).toEqual([0, 15, 30, 45]);
    expect([...c.hours]).toEqual([9, 10, 11, 12, 13, 14, 15, 16, 17]);
    expect([...c.daysOfMonth]).toEqual([1, 15]);
    expect([...c.months]).toEqual([1, 2, 3]);
    expect([...c.daysOfWeek]).toEqual([1, 2, 3, 4, 5]);
    expect([...cron('0 0 * * 7').daysOfWeek]).toEqual([0]);
    expect([...cron('5/20 * * * *').minutes]).toEqual([5, 25, 45]);
  });

  it.each([
    ['0 1 * *', 'five fields'],
    ['60 1 * * *', 'minute field "60"'],
    ['0 1 0 * *', 'day of month field "0"'],
    ['0 1 * 13 *', 'month field "13"'],
    ['0 1 * * 8', 'day of week field "8"'],
    ['0 5-1 * * *', 'runs backwards'],
    ['*/0 * * * *', 'step "0"'],
    ['x * * * *', 'minute field "x"'],
  ])('rejects "%s" naming the problem', (text, message) => {
    expect(parseCron(text)).toEqual(expect.stringContaining(message));
  });

  it('fires on a day matching either day field when both are restricted, like classic cron', () => {
    const c = cron('0 12 1 * fri');
    expect(cronFires(c, new Date('2026-12-01T12:00:00Z'))).toBe(true); // the 1st, a Tuesday
    expect(cronFires(c, new Date('2026-11-27T12:00:00Z'))).toBe(true); // a Friday
    expect(cronFires(c, new Date('2026-11-26T12:00:00Z'))).toBe(false); // a Thursday, the 26th
    expect(cronFires(c, new Date('2026-11-27T12:01:00Z'))).toBe(false);
  });

  it('covers the duration after each firing, end exclusive', () => {
    const c = cron('0 1 * * *');
    expect(inCronWindow(c, 120, new Date('2026-11-25T00:59:59Z'))).toBe(false);
    expect(inCronWindow(c, 120, new Date('2026-11-25T01:00:00Z'))).toBe(true);
    expect(inCronWindow(c, 120, new Date('2026-11-25T02:59:59Z'))).toBe(true);
    expect(inCronWindow(c, 120, new Date('2026-11-25T03:00:00Z'))).toBe(false);
  });
});
