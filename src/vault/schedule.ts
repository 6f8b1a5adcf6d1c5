import type { Schedule, Weekday } from './policy.ts';

// When a policy's backups are due, in its time zone: the scheduled instant just before
// (or just after) a moment. Wall-clock times are turned into instants with
// Intl.DateTimeFormat, so a daylight-saving change moves them as a person expects: 02:30
// on a spring-forward night (a time that does not exist) runs at 03:30, and a repeated
// hour on a fall-back night runs once, at its first occurrence.

const DAY = 86_400_000;
const WEEKDAY_OF: Readonly<Record<string, Weekday>> = {
  Mon: 'mon',
  Tue: 'tue',
  Wed: 'wed',
  Thu: 'thu',
  Fri: 'fri',
  Sat: 'sat',
  Sun: 'sun',
};

interface Civil {
  year: number;
  month: number;
  day: number;
  weekday: Weekday;
  /** The wall clock read as if it were UTC, in ms: comparable, free of offsets. */
  wall: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      weekday: 'short',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

function civil(ms: number, timeZone: string): Civil {
  const parts: Record<string, string> = {};
  for (const p of formatter(timeZone).formatToParts(ms)) parts[p.type] = p.value;
  const [year, month, day] = [Number(parts.year), Number(parts.month), Number(parts.day)];
  const wall = Date.UTC(year, month - 1, day, Number(parts.hour), Number(parts.minute), Number(parts.second));
  return { year, month, day, weekday: WEEKDAY_OF[parts.weekday!]!, wall: wall + (ms % 1000) };
}

/**
 * The instant the wall clock of `timeZone` reads `wall`. Of a repeated hour, the first;
 * in a gap, the wall time shifted by the gap (as the offset before the change gives it).
 */
function instantOf(wall: number, timeZone: string): number {
  const offset = (at: number) => civil(at, timeZone).wall - at;
  const before = wall - offset(wall - 12 * 3_600_000);
  const after = wall - offset(wall + 12 * 3_600_000);
  const exact = [before, after].filter((at) => civil(at, timeZone).wall === wall);
  return exact.length > 0 ? Math.min(...exact) : before;
}

function minutes(time: string): number {
  const [h, m] = time.split(':').map(Number);
  return (h! * 60 + m!) * 60_000;
}

/** The scheduled instants of the local day `date` (a UTC-midnight wall value), earliest first. */
function runsOn(schedule: Schedule, date: number): number[] {
  const weekday = civil(instantOf(date + 12 * 3_600_000, schedule.timeZone), schedule.timeZone).weekday;
  if (schedule.days !== 'daily' && !schedule.days.includes(weekday)) return [];
  return schedule.times.map((t) => instantOf(date + minutes(t), schedule.timeZone));
}

function localDate(ms: number, timeZone: string): number {
  const c = civil(ms, timeZone);
  return Date.UTC(c.year, c.month - 1, c.day);
}

/** The last scheduled instant at or before `at`, looking back at most 8 days. */
export function previousRun(schedule: Schedule, at: number): number | undefined {
  const today = localDate(at, schedule.timeZone);
  for (let d = 0; d <= 8; d++) {
    const runs = runsOn(schedule, today - d * DAY).filter((r) => r <= at);
    if (runs.length > 0) return Math.max(...runs);
  }
  return undefined;
}

/** The first scheduled instant strictly after `at`, looking ahead at most 8 days. */
export function nextRun(schedule: Schedule, at: number): number | undefined {
  const today = localDate(at, schedule.timeZone);
  for (let d = 0; d <= 8; d++) {
    const runs = runsOn(schedule, today + d * DAY).filter((r) => r > at);
    if (runs.length > 0) return Math.min(...runs);
  }
  return undefined;
}
