import { BadInputError } from '../errors/index.ts';
import { globToRegExp } from '../repo/backup/excludes.ts';
import type { RetentionPolicy } from '../repo/retention.ts';
import type { JsonObject } from './catalog/index.ts';

// A vault's backup policy, stored as JSON in VaultRow.policy: when agents back up
// (times of day on some weekdays, in an IANA time zone) and how long recovery points are
// kept (daily / weekly / monthly / yearly counts, optionally the last N), and what the
// agents back up (source paths and exclusions, optional). The vault's retention task
// applies the counts; agents read the schedule and the sources.

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export interface Schedule {
  /** 'HH:MM' (24 h), sorted, each once. */
  times: string[];
  /** 'daily', or the weekdays in week order. */
  days: 'daily' | Weekday[];
  timeZone: string;
}

/** Counts of buckets kept; 0 keeps none of that kind. */
export interface RetentionCounts {
  daily: number;
  weekly: number;
  monthly: number;
  yearly: number;
  /** The newest N points, whatever their day. */
  last?: number;
}

/** What the agents of the vault back up: absolute paths on each server, and patterns to skip. */
export interface Sources {
  paths: string[];
  /** Exclude patterns as `offsite backup --exclude` takes them. */
  excludes: string[];
}

export interface VaultPolicy {
  version: 1;
  schedule: Schedule;
  retention: RetentionCounts;
  /** Absent: agents have nothing to back up on their own (the daemon waits for sources). */
  sources?: Sources;
}

export const MAX_BACKUPS_PER_DAY = 24;
/** As a cloud backup vault allows (days, weeks, months, years of history). */
export const MAX_COUNTS: Readonly<Record<keyof RetentionCounts, number>> = {
  daily: 9999,
  weekly: 5163,
  monthly: 1188,
  yearly: 99,
  last: 9999,
};
export const MAX_SOURCE_PATHS = 100;
export const MAX_EXCLUDES = 1000;
const MAX_PATH_LENGTH = 4096;
const MAX_PATTERN_LENGTH = 1024;
const COUNT_KINDS = ['daily', 'weekly', 'monthly', 'yearly', 'last'] as const;
const TIME = /^([01]\d|2[0-3]):[0-5]\d$/;

type Problems = string[];

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function unknownFields(
  where: string,
  value: Record<string, unknown>,
  known: readonly string[],
  out: Problems,
) {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) out.push(`${where}${key}: unknown field`);
  }
}

export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return zone !== '';
  } catch {
    return false;
  }
}

function checkTimes(value: unknown, out: Problems): string[] {
  if (!Array.isArray(value) || value.length === 0) {
    out.push('schedule.times: give at least one time of day, e.g. ["02:00"]');
    return [];
  }
  if (value.length > MAX_BACKUPS_PER_DAY) out.push(`schedule.times: at most ${MAX_BACKUPS_PER_DAY} a day`);
  value.forEach((t, i) => {
    if (typeof t !== 'string' || !TIME.test(t))
      out.push(`schedule.times[${i}]: "${String(t)}" is not HH:MM (00:00 to 23:59)`);
  });
  const times = value.filter((t): t is string => typeof t === 'string');
  if (new Set(times).size !== times.length) out.push('schedule.times: a time is given twice');
  return [...times].sort();
}

function checkDays(value: unknown, out: Problems): Schedule['days'] {
  if (value === undefined || value === 'daily') return 'daily';
  if (!Array.isArray(value) || value.length === 0) {
    out.push(`schedule.days: "daily" or a list of weekdays (${WEEKDAYS.join(', ')})`);
    return 'daily';
  }
  value.forEach((d, i) => {
    if (!WEEKDAYS.includes(d as Weekday))
      out.push(`schedule.days[${i}]: "${String(d)}" is not one of ${WEEKDAYS.join(', ')}`);
  });
  const days = WEEKDAYS.filter((d) => value.includes(d));
  return days.length === WEEKDAYS.length ? 'daily' : days;
}

function checkSchedule(value: unknown, out: Problems): Schedule {
  if (!isObject(value)) {
    out.push('schedule: an object {times, days, timeZone}');
    return { times: [], days: 'daily', timeZone: 'UTC' };
  }
  unknownFields('schedule.', value, ['times', 'days', 'timeZone'], out);
  const timeZone = value.timeZone ?? 'UTC';
  if (typeof timeZone !== 'string' || !isTimeZone(timeZone)) {
    out.push(
      `schedule.timeZone: "${String(timeZone)}" is not an IANA time zone such as Europe/Berlin or UTC`,
    );
  }
  return {
    times: checkTimes(value.times, out),
    days: checkDays(value.days, out),
    timeZone: String(timeZone),
  };
}

function checkRetention(value: unknown, out: Problems): RetentionCounts {
  const counts: RetentionCounts = { daily: 0, weekly: 0, monthly: 0, yearly: 0 };
  if (!isObject(value)) {
    out.push('retention: an object {daily, weekly, monthly, yearly, last?}');
    return counts;
  }
  unknownFields('retention.', value, COUNT_KINDS, out);
  for (const kind of COUNT_KINDS) {
    const n = value[kind];
    if (n === undefined) continue;
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0 || n > MAX_COUNTS[kind]) {
      out.push(`retention.${kind}: a whole number from 0 to ${MAX_COUNTS[kind]}, not ${JSON.stringify(n)}`);
    } else {
      counts[kind] = n;
    }
  }
  if (COUNT_KINDS.every((k) => (counts[k] ?? 0) === 0) && out.every((p) => !p.startsWith('retention.'))) {
    out.push('retention: keep at least one recovery point (e.g. daily 7)');
  }
  if (counts.last === 0) delete counts.last;
  return counts;
}

/** Why a source path is refused, or undefined: absolute, no "." or ".." segment, no NUL. */
function pathProblem(path: string): string | undefined {
  if (path === '') return 'is empty';
  if (!path.startsWith('/')) return 'is not an absolute path (it must start with /)';
  if (path.includes('\0')) return 'contains a NUL character';
  if (path.length > MAX_PATH_LENGTH) return `is longer than ${MAX_PATH_LENGTH} characters`;
  if (path.split('/').some((s) => s === '.' || s === '..')) return 'has a "." or ".." segment';
  return undefined;
}

/** "/srv//data/" → "/srv/data": one spelling per folder, so backup sets stay the same. */
function tidyPath(path: string): string {
  const tidy = path.replace(/\/+/g, '/');
  return tidy.length > 1 ? tidy.replace(/\/$/, '') : tidy;
}

function checkPaths(value: unknown, out: Problems): string[] {
  if (!Array.isArray(value) || value.length === 0) {
    out.push('sources.paths: give at least one absolute path, e.g. ["/etc", "/srv"]');
    return [];
  }
  if (value.length > MAX_SOURCE_PATHS) out.push(`sources.paths: at most ${MAX_SOURCE_PATHS} paths`);
  const paths: string[] = [];
  value.forEach((p, i) => {
    const problem = typeof p === 'string' ? pathProblem(p) : 'is not a string';
    if (problem) out.push(`sources.paths[${i}]: ${JSON.stringify(p)} ${problem}`);
    else paths.push(tidyPath(p as string));
  });
  if (new Set(paths).size !== paths.length) out.push('sources.paths: a path is given twice');
  return paths;
}

function patternProblem(pattern: string): string | undefined {
  if (pattern.trim() === '') return 'is empty';
  if (pattern.trim().startsWith('#')) return 'starts with # (a comment, which would match nothing)';
  if (pattern.includes('\0')) return 'contains a NUL character';
  if (pattern.length > MAX_PATTERN_LENGTH) return `is longer than ${MAX_PATTERN_LENGTH} characters`;
  try {
    globToRegExp(pattern.trim());
  } catch {
    return 'is not a valid pattern (an unclosed "[")';
  }
  return undefined;
}

function checkExcludes(value: unknown, out: Problems): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    out.push('sources.excludes: a list of patterns, e.g. ["*.tmp", "/var/cache/**"]');
    return [];
  }
  if (value.length > MAX_EXCLUDES) out.push(`sources.excludes: at most ${MAX_EXCLUDES} patterns`);
  const excludes: string[] = [];
  value.forEach((p, i) => {
    const problem = typeof p === 'string' ? patternProblem(p) : 'is not a string';
    if (problem) out.push(`sources.excludes[${i}]: ${JSON.stringify(p)} ${problem}`);
    else excludes.push(p as string);
  });
  return [...new Set(excludes)];
}

function checkSources(value: unknown, out: Problems): Sources | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value)) {
    out.push('sources: an object {paths, excludes?}');
    return undefined;
  }
  unknownFields('sources.', value, ['paths', 'excludes'], out);
  return { paths: checkPaths(value.paths, out), excludes: checkExcludes(value.excludes, out) };
}

/** The policy as stored, or BadInputError BAD_POLICY naming every bad field. */
export function validatePolicy(input: unknown): VaultPolicy {
  const problems: Problems = [];
  if (!isObject(input)) {
    throw new BadInputError('BAD_POLICY', 'the policy must be a JSON object {schedule, retention, sources?}');
  }
  unknownFields('', input, ['version', 'schedule', 'retention', 'sources'], problems);
  if (input.version !== undefined && input.version !== 1) problems.push('version: only 1 is known');
  const schedule = checkSchedule(input.schedule, problems);
  const retention = checkRetention(input.retention, problems);
  const sources = checkSources(input.sources, problems);
  const policy: VaultPolicy = { version: 1, schedule, retention, ...(sources ? { sources } : {}) };
  if (problems.length > 0) {
    throw new BadInputError('BAD_POLICY', `the policy is not valid: ${problems.join('; ')}`, {
      hint: 'fix the fields named and send the whole policy again',
    });
  }
  return policy;
}

/** The policy a vault row holds; null when it has none. */
export function vaultPolicy(stored: JsonObject | null): VaultPolicy | null {
  return stored === null ? null : validatePolicy(stored);
}

/** As vaultPolicy, but a stored policy that no longer validates counts as none. */
export function storedPolicy(stored: JsonObject | null): VaultPolicy | null {
  try {
    return vaultPolicy(stored);
  } catch {
    return null;
  }
}

export function policyJson(policy: VaultPolicy): JsonObject {
  const { retention, schedule } = policy;
  return {
    version: 1,
    schedule: {
      times: [...schedule.times],
      days: schedule.days === 'daily' ? 'daily' : [...schedule.days],
      timeZone: schedule.timeZone,
    },
    retention: { ...retention },
    ...(policy.sources
      ? { sources: { paths: [...policy.sources.paths], excludes: [...policy.sources.excludes] } }
      : {}),
  };
}

/**
 * What would keep fewer points, e.g. "retention.daily 7 → 3"; empty when nothing shrinks.
 * Without a policy nothing expires, so any policy after none is a reduction. Sources and
 * the schedule may change freely: they decide what is backed up next, not what is kept.
 */
export function retentionReductions(old: VaultPolicy | null, next: VaultPolicy | null): string[] {
  if (next === null) return [];
  if (old === null) return ['retention: unlimited (no policy) → a policy that expires recovery points'];
  const shrinks: string[] = [];
  for (const kind of COUNT_KINDS) {
    const from = old.retention[kind] ?? 0;
    const to = next.retention[kind] ?? 0;
    if (to < from) shrinks.push(`retention.${kind} ${from} → ${to}`);
  }
  return shrinks;
}

export function isRetentionReduction(old: VaultPolicy | null, next: VaultPolicy | null): boolean {
  return retentionReductions(old, next).length > 0;
}

/** The counts as the engine's retention takes them (src/repo/retention.ts). */
export function engineRetention(policy: VaultPolicy): RetentionPolicy {
  const { daily, weekly, monthly, yearly, last } = policy.retention;
  return { daily, weekly, monthly, yearly, ...(last ? { last } : {}) };
}
