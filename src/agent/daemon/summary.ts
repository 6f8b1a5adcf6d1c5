import { join } from 'node:path';
import type { JsonObject } from '../../vault/catalog/index.ts';
import { storedPolicy } from '../../vault/policy.ts';
import { nextRun } from '../../vault/schedule.ts';
import type { AgentState } from '../state.ts';
import { pendingReports } from './journal.ts';
import { lockOwner } from './lock.ts';
import { type RunRecord, readScheduleState, retryDelay } from './schedule-state.ts';

// The schedule as `offsite agent status` shows it: whether the daemon runs, the last
// backup and the last good one, the next one, and job reports still waiting to reach
// the vault. Read from the agent folder (and the policy, when the caller fetched it).

export interface ScheduleSummary {
  daemon: { running: boolean; pid: number | null };
  lastBackup: RunRecord | null;
  lastSuccess: RunRecord | null;
  failuresInARow: number;
  /** The next scheduled backup (or retry of a failed one), ISO; null without a schedule. */
  nextBackup: string | null;
  nextIsRetry: boolean;
  timeZone: string | null;
  reportsWaiting: number;
}

function describeRun(run: RunRecord): string {
  const what = run.snapshot ? `, snapshot ${run.snapshot.slice(0, 8)}` : '';
  const why = run.error ? `: ${run.error}` : '';
  const skipped = run.skipped ? `, ${run.skipped} files skipped` : '';
  return `${run.endedAt} ${run.status}${what}${skipped}${why}`;
}

function localTime(iso: string, timeZone: string): string {
  const f = new Intl.DateTimeFormat('en-GB', { timeZone, dateStyle: 'medium', timeStyle: 'short' });
  return `${f.format(Date.parse(iso))} ${timeZone}`;
}

function summaryLines(s: ScheduleSummary): string[] {
  const daemon = s.daemon.running ? `running (pid ${s.daemon.pid})` : 'not running';
  const last = s.lastBackup ? describeRun(s.lastBackup) : 'none yet';
  const lines = [`daemon:       ${daemon}`, `last backup:  ${last}`];
  if (s.lastSuccess && s.lastSuccess !== s.lastBackup && s.lastBackup?.status === 'failed') {
    lines.push(`last good:    ${describeRun(s.lastSuccess)} (${s.failuresInARow} failed since)`);
  }
  const next = s.nextBackup
    ? `${s.nextBackup}${s.timeZone ? ` (${localTime(s.nextBackup, s.timeZone)})` : ''}${s.nextIsRetry ? ', a retry' : ''}`
    : 'none scheduled (the policy has no schedule or no sources)';
  lines.push(`next backup:  ${next}`);
  if (s.reportsWaiting > 0) {
    lines.push(`reports:      ${s.reportsWaiting} job reports wait to reach the vault (journal)`);
  }
  return lines;
}

/**
 * The summary of the agent in `agent`'s folder. `policy` is the vault's policy as
 * `GET /v1/agent/whoami` returned it; without it, the policy the daemon last saw.
 */
export async function scheduleSummary(
  agent: Pick<AgentState, 'dir'>,
  options: { policy?: JsonObject | null; now?: number } = {},
): Promise<{ json: ScheduleSummary; lines: string[] }> {
  const now = options.now ?? Date.now();
  const state = await readScheduleState(agent.dir);
  const policy = storedPolicy((options.policy !== undefined ? options.policy : state?.policy) ?? null);
  const pid = await lockOwner(join(agent.dir, 'daemon.lock'));
  let next = policy?.sources ? nextRun(policy.schedule, now) : undefined;
  let nextIsRetry = false;
  const failures = state?.failures ?? 0;
  if (next !== undefined && failures > 0 && state?.lastRun) {
    const retryAt = Math.max(now, Date.parse(state.lastRun.endedAt) + retryDelay(failures));
    if (retryAt < next) [next, nextIsRetry] = [retryAt, true];
  }
  const json: ScheduleSummary = {
    daemon: { running: pid !== undefined, pid: pid ?? null },
    lastBackup: state?.lastRun ?? null,
    lastSuccess: state?.lastSuccess ?? null,
    failuresInARow: failures,
    nextBackup: next === undefined ? null : new Date(next).toISOString(),
    nextIsRetry,
    timeZone: policy?.schedule.timeZone ?? null,
    reportsWaiting: (await pendingReports(agent.dir)).length,
  };
  return { json, lines: summaryLines(json) };
}
