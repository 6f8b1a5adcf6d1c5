import { join } from 'node:path';
import { readIfExists, writeAtomic } from '../../util/index.ts';
import type { JsonObject } from '../../vault/catalog/index.ts';
import type { Schedule } from '../../vault/policy.ts';
import { nextRun, previousRun } from '../../vault/schedule.ts';

// What the daemon remembers between runs, in <agent dir>/daemon-state.json: up to which
// scheduled time backups are done, the last run and the last good one, the failures in a
// row, and the policy as last fetched (so an unreachable vault does not stop the
// schedule). From it and the clock, plan() decides: run now, or wait until when.
//
// Catching up: runs are slots of the schedule. The slot due is the latest one at or
// before now (previousRun); it runs when it is later than what is covered. However many
// slots passed while the daemon was stopped, only the latest is due, so one backup
// catches up. A failed run leaves its slot uncovered and is retried with backoff.

export type RunReason = 'scheduled' | 'catch-up' | 'retry';
export type RunStatus = 'succeeded' | 'warning' | 'failed' | 'abandoned';

export interface RunRecord {
  /** The scheduled time this run stands for. */
  slot: string;
  reason: RunReason;
  startedAt: string;
  endedAt: string;
  status: RunStatus;
  snapshot?: string;
  point?: string;
  bytesAdded?: number;
  skipped?: number;
  code?: string;
  error?: string;
}

export interface ScheduleState {
  version: 1;
  /** The schedule followed, as JSON: a different one starts afresh from the time it is seen. */
  schedule: string | null;
  /** Scheduled times at or before this are done, or came before the schedule was known. */
  coveredUntil: string;
  /** Failed runs in a row (0 after a good one). */
  failures: number;
  lastRun?: RunRecord;
  lastSuccess?: RunRecord;
  /** The vault's policy as last fetched. */
  policy?: JsonObject | null;
}

export type Plan =
  | { action: 'run'; slot: number; reason: RunReason }
  | { action: 'wait'; until: number; next: number | undefined; retryAt?: number };

/** A run starting later than this after its time is a catch-up. */
const LATE_MS = 60_000;
const RETRY_BASE_MS = 60_000;
const RETRY_MAX_MS = 3_600_000;
const DAY_MS = 86_400_000;

export function scheduleStateFile(agentDir: string): string {
  return join(agentDir, 'daemon-state.json');
}

/** The saved state; undefined when there is none or it is unreadable (then it starts afresh). */
export async function readScheduleState(agentDir: string): Promise<ScheduleState | undefined> {
  const text = await readIfExists(scheduleStateFile(agentDir));
  if (text === undefined) return undefined;
  try {
    const state = JSON.parse(text) as ScheduleState;
    if (state.version !== 1 || !Number.isFinite(Date.parse(state.coveredUntil))) return undefined;
    return { ...state, failures: Number.isSafeInteger(state.failures) ? state.failures : 0 };
  } catch {
    return undefined;
  }
}

export function writeScheduleState(agentDir: string, state: ScheduleState): Promise<void> {
  return writeAtomic(scheduleStateFile(agentDir), `${JSON.stringify(state, null, 2)}\n`, 0o600);
}

/** 1 min after the first failure, doubling up to an hour. */
export function retryDelay(failures: number): number {
  return Math.min(RETRY_BASE_MS * 2 ** Math.max(0, failures - 1), RETRY_MAX_MS);
}

/**
 * The state for this schedule. A first start, or a schedule other than the one followed,
 * counts from now: times before it were never promised, so there is nothing to catch up.
 */
export function adoptSchedule(
  state: ScheduleState | undefined,
  schedule: Schedule,
  now: number,
): ScheduleState {
  const key = JSON.stringify(schedule);
  if (!state) return { version: 1, schedule: key, coveredUntil: new Date(now).toISOString(), failures: 0 };
  if (state.schedule === key) return state;
  const covered = Math.max(now, Date.parse(state.coveredUntil));
  return { ...state, schedule: key, coveredUntil: new Date(covered).toISOString() };
}

/** `since`: when this daemon started; a time before it was missed while it was stopped. */
export function plan(state: ScheduleState, schedule: Schedule, now: number, since = now): Plan {
  const covered = Date.parse(state.coveredUntil);
  const slot = previousRun(schedule, now);
  const next = nextRun(schedule, now);
  if (slot !== undefined && slot > covered) {
    if (state.failures > 0 && state.lastRun) {
      const retryAt = Date.parse(state.lastRun.endedAt) + retryDelay(state.failures);
      if (now < retryAt) return { action: 'wait', until: retryAt, next, retryAt };
      return { action: 'run', slot, reason: 'retry' };
    }
    const missed = slot < since || now - slot > LATE_MS;
    return { action: 'run', slot, reason: missed ? 'catch-up' : 'scheduled' };
  }
  return { action: 'wait', until: next ?? now + DAY_MS, next };
}

/** The state after a run: a good one covers its slot; a failed one counts towards backoff. */
export function afterRun(state: ScheduleState, run: RunRecord): ScheduleState {
  const good = run.status === 'succeeded' || run.status === 'warning';
  if (good) {
    const covered = Math.max(Date.parse(state.coveredUntil), Date.parse(run.slot));
    return {
      ...state,
      coveredUntil: new Date(covered).toISOString(),
      failures: 0,
      lastRun: run,
      lastSuccess: run,
    };
  }
  // An abandoned run (the daemon was stopped) is no failure: its slot runs at the next start.
  return { ...state, lastRun: run, failures: run.status === 'failed' ? state.failures + 1 : state.failures };
}
