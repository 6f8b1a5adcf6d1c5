// Retention policies: which snapshots `forget` keeps. Pure functions (no I/O, no clock:
// `now` is passed in), with restic's `forget` semantics; see docs/design.md, "Retention".
import { BadInputError } from '../errors/index.ts';
import type { SnapshotRef } from './snapshot.ts';

/**
 * What to keep. Counts are how many buckets of that kind to keep (0 or absent: none,
 * -1: every bucket). `within` is a duration such as "2y5m7d3h" before the newest
 * snapshot of the group; `tags` keeps every snapshot having any one of these tags.
 */
export interface RetentionPolicy {
  last?: number;
  hourly?: number;
  daily?: number;
  weekly?: number;
  monthly?: number;
  yearly?: number;
  within?: string;
  tags?: string[];
}

export interface Decision {
  ref: SnapshotRef;
  /** Why the snapshot is kept (e.g. "daily snapshot", "within 30d"); empty if removed. */
  reasons: string[];
}

export interface RetentionOptions {
  /** Snapshots after this instant are ignored when finding the newest one for `within`. */
  now: Date;
  /** IANA zone in which hours, days, weeks, months and years are counted (default: local). */
  timeZone?: string;
}

export interface SnapshotGroup {
  key: { hostname: string; paths: string[] };
  /** Newest first. */
  snapshots: SnapshotRef[];
}

/** A calendar duration: years, months and days move the wall clock, hours are elapsed time. */
export interface CalendarDuration {
  years: number;
  months: number;
  days: number;
  hours: number;
}

const COUNT_KINDS = ['last', 'hourly', 'daily', 'weekly', 'monthly', 'yearly'] as const;
type CountKind = (typeof COUNT_KINDS)[number];

/** Parses "2y5m7d3h" (units y, m, d, h, each at most once, any order). */
export function parseDuration(text: string): CalendarDuration {
  const duration: CalendarDuration = { years: 0, months: 0, days: 0, hours: 0 };
  const units = { y: 'years', m: 'months', d: 'days', h: 'hours' } as const;
  const s = text.trim();
  const fail = (why: string) =>
    new BadInputError('BAD_DURATION', `"${text}" is not a duration: ${why}`, {
      hint: 'write it like 2y5m7d3h (years, months, days, hours), e.g. 30d',
    });
  if (s === '') throw fail('it is empty');
  const seen = new Set<string>();
  for (const part of s.matchAll(/(\d+)([a-zA-Z]?)|(.)/gsy)) {
    const [, digits, unit, other] = part;
    if (other !== undefined) throw fail(`unexpected "${other}"`);
    if (!unit) throw fail(`no unit after ${digits}`);
    if (!(unit in units)) throw fail(`unknown unit "${unit}"`);
    if (seen.has(unit)) throw fail(`unit "${unit}" given twice`);
    seen.add(unit);
    const value = Number(digits);
    if (!Number.isSafeInteger(value)) throw fail(`${digits} is too large`);
    duration[units[unit as keyof typeof units]] = value;
  }
  return duration;
}

/** The canonical form used in reasons: "2y5m7d3h", zero parts left out. */
export function formatCalendarDuration(d: CalendarDuration): string {
  const parts: [number, string][] = [
    [d.years, 'y'],
    [d.months, 'm'],
    [d.days, 'd'],
    [d.hours, 'h'],
  ];
  return parts
    .filter(([n]) => n !== 0)
    .map(([n, unit]) => `${n}${unit}`)
    .join('');
}

function isZero(d: CalendarDuration): boolean {
  return d.years === 0 && d.months === 0 && d.days === 0 && d.hours === 0;
}

interface CheckedPolicy {
  counts: Record<CountKind, number>;
  within: CalendarDuration | undefined;
  tags: string[];
}

/** Validates a policy; refuses one that keeps nothing (it would remove every snapshot). */
export function validatePolicy(policy: RetentionPolicy): void {
  checkPolicy(policy);
}

function checkPolicy(policy: RetentionPolicy): CheckedPolicy {
  const counts = {} as Record<CountKind, number>;
  for (const kind of COUNT_KINDS) {
    const n = policy[kind] ?? 0;
    if (!Number.isSafeInteger(n) || n < -1) {
      throw new BadInputError(
        'BAD_POLICY',
        `keep-${kind} must be a whole number ≥ 0 (or -1 for all), not ${n}`,
      );
    }
    counts[kind] = n;
  }
  const within = policy.within === undefined ? undefined : parseDuration(policy.within);
  const tags = policy.tags ?? [];
  if (tags.some((t) => t === '')) throw new BadInputError('BAD_POLICY', 'keep-tag needs a non-empty tag');
  const empty = COUNT_KINDS.every((k) => counts[k] === 0) && (!within || isZero(within)) && tags.length === 0;
  if (empty) {
    throw new BadInputError('EMPTY_POLICY', 'no retention policy given: refusing to remove every snapshot', {
      hint: 'give at least one of --keep-last/-hourly/-daily/-weekly/-monthly/-yearly N, --keep-within, --keep-tag, or snapshot ids',
    });
  }
  return { counts, within: within && !isZero(within) ? within : undefined, tags };
}

// ---- Calendar arithmetic in an IANA time zone, through Intl.DateTimeFormat ----

interface Civil {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch {
      throw new BadInputError('BAD_TIME_ZONE', `"${timeZone}" is not a known time zone`, {
        hint: 'use an IANA name such as Europe/Berlin or UTC',
      });
    }
    formatters.set(timeZone, f);
  }
  return f;
}

function civilTime(ms: number, f: Intl.DateTimeFormat): Civil {
  const c: Civil = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0 };
  for (const { type, value } of f.formatToParts(ms)) {
    if (type in c) c[type as keyof Civil] = Number(value);
  }
  return c;
}

/** Wall-clock time read as if it were UTC, in ms; wall(t) − t is the zone's offset at t. */
function wallMs(ms: number, f: Intl.DateTimeFormat): number {
  const c = civilTime(ms, f);
  const subsecond = ((ms % 1000) + 1000) % 1000;
  return Date.UTC(c.year, c.month - 1, c.day, c.hour, c.minute, c.second) + subsecond;
}

/**
 * The instant at which the zone's clock shows `wall`. In a fall-back overlap the
 * earlier instant; in a spring-forward gap the clock is moved forward by the gap.
 */
function instantOfWall(wall: number, f: Intl.DateTimeFormat): number {
  const day = 86_400_000;
  const offsets = [wallMs(wall - day, f) - (wall - day), wallMs(wall + day, f) - (wall + day)];
  const valid = offsets.map((o) => wall - o).filter((t) => wallMs(t, f) === wall);
  if (valid.length > 0) return Math.min(...valid);
  return wall - offsets[0]!;
}

/** ISO 8601 week-numbering year and week of a calendar date: year * 100 + week. */
function isoWeek(year: number, month: number, day: number): number {
  const date = new Date(Date.UTC(year, month - 1, day));
  const weekday = date.getUTCDay() || 7; // Monday 1 … Sunday 7
  date.setUTCDate(date.getUTCDate() + 4 - weekday); // the Thursday of the same week
  const weekYear = date.getUTCFullYear();
  const week = Math.floor((date.getTime() - Date.UTC(weekYear, 0, 1)) / 86_400_000 / 7) + 1;
  return weekYear * 100 + week;
}

type Bucket = (c: Civil, position: number) => number;

const BUCKETS: Record<CountKind, { bucket: Bucket; reason: string }> = {
  last: { bucket: (_, position) => position, reason: 'last snapshot' },
  hourly: {
    bucket: (c) => ((c.year * 100 + c.month) * 100 + c.day) * 100 + c.hour,
    reason: 'hourly snapshot',
  },
  daily: { bucket: (c) => (c.year * 100 + c.month) * 100 + c.day, reason: 'daily snapshot' },
  weekly: { bucket: (c) => isoWeek(c.year, c.month, c.day), reason: 'weekly snapshot' },
  monthly: { bucket: (c) => c.year * 100 + c.month, reason: 'monthly snapshot' },
  yearly: { bucket: (c) => c.year, reason: 'yearly snapshot' },
};

// ---- Grouping and the policy ----

function timeOf(ref: SnapshotRef): number {
  return Date.parse(ref.snapshot.time);
}

/** Newest first; equal times by id (descending), so input order never matters. */
function newestFirst(a: SnapshotRef, b: SnapshotRef): number {
  return timeOf(b) - timeOf(a) || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

/** Groups snapshots by host and (sorted) paths; groups ordered by host, then paths. */
export function groupSnapshots(refs: readonly SnapshotRef[]): SnapshotGroup[] {
  const groups = new Map<string, SnapshotGroup>();
  for (const ref of refs) {
    const paths = [...ref.snapshot.paths].sort();
    const id = JSON.stringify([ref.snapshot.hostname, paths]);
    let group = groups.get(id);
    if (!group) {
      group = { key: { hostname: ref.snapshot.hostname, paths }, snapshots: [] };
      groups.set(id, group);
    }
    group.snapshots.push(ref);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, group]) => {
      group.snapshots.sort(newestFirst);
      return group;
    });
}

/** The instant before which snapshots are outside `within` (restic: strictly after is in). */
function withinCutoff(newest: number, d: CalendarDuration, f: Intl.DateTimeFormat): number {
  const w = new Date(wallMs(newest, f));
  w.setUTCFullYear(w.getUTCFullYear() - d.years, w.getUTCMonth() - d.months, w.getUTCDate() - d.days);
  return instantOfWall(w.getTime(), f) - d.hours * 3_600_000;
}

function applyToGroup(
  snapshots: SnapshotRef[],
  policy: CheckedPolicy,
  now: number,
  f: Intl.DateTimeFormat,
): { keep: Decision[]; remove: Decision[] } {
  const keep: Decision[] = [];
  const remove: Decision[] = [];
  // restic: the newest snapshot that is not in the future; none → everything is within.
  const newest = snapshots.map(timeOf).find((t) => t < now);
  const within = policy.within;
  const cutoff = within && newest !== undefined ? withinCutoff(newest, within, f) : Number.NEGATIVE_INFINITY;
  const remaining = { ...policy.counts };
  const lastBucket: Partial<Record<CountKind, number>> = {};
  snapshots.forEach((ref, position) => {
    const reasons: string[] = [];
    for (const tag of policy.tags) {
      if (ref.snapshot.tags.includes(tag)) reasons.push(`has tag ${tag}`);
    }
    const time = timeOf(ref);
    if (within && time > cutoff) reasons.push(`within ${formatCalendarDuration(within)}`);
    const civil = civilTime(time, f);
    const oldest = position === snapshots.length - 1;
    for (const kind of COUNT_KINDS) {
      if (remaining[kind] === 0) continue;
      const bucket = BUCKETS[kind].bucket(civil, position);
      const same = bucket === lastBucket[kind];
      // restic keeps the group's oldest snapshot too while a count is left, to keep the
      // longest history the counts allow.
      if (same && !oldest) continue;
      reasons.push(same ? `oldest ${BUCKETS[kind].reason}` : BUCKETS[kind].reason);
      lastBucket[kind] = bucket;
      if (remaining[kind] > 0) remaining[kind]--;
    }
    (reasons.length > 0 ? keep : remove).push({ ref, reasons });
  });
  return { keep, remove };
}

/**
 * Applies a retention policy the way restic's `forget` does, to each host + paths group
 * separately. Throws BadInputError EMPTY_POLICY for a policy that keeps nothing, and
 * BAD_POLICY / BAD_DURATION / BAD_TIME_ZONE for malformed input. Decisions are listed
 * group by group (as groupSnapshots orders them), newest first.
 */
export function applyPolicy(
  snapshots: readonly SnapshotRef[],
  policy: RetentionPolicy,
  options: RetentionOptions,
): { keep: Decision[]; remove: Decision[] } {
  const checked = checkPolicy(policy);
  const f = formatterFor(options.timeZone ?? new Intl.DateTimeFormat().resolvedOptions().timeZone);
  const now = options.now.getTime();
  const keep: Decision[] = [];
  const remove: Decision[] = [];
  for (const group of groupSnapshots(snapshots)) {
    const result = applyToGroup(group.snapshots, checked, now, f);
    keep.push(...result.keep);
    remove.push(...result.remove);
  }
  return { keep, remove };
}
