import { type BackupProgress, findParent, Repository, type SnapshotRef } from '../../repo/index.ts';
import type { Sources } from '../../vault/policy.ts';
import { backupToVault } from '../backup-job.ts';
import { finishJob, startJob } from '../jobs.ts';
import type { AgentState } from '../state.ts';
import { vaultRepoStore } from '../vault.ts';
import { errorFields, type Logger } from './log.ts';
import type { RunReason, RunRecord } from './schedule-state.ts';

// One scheduled backup: open the agent's repository in the vault, back up the policy's
// sources as a job (backupToVault reports it and commits the recovery point), and say
// how it went. A failure before the backup began (the vault unreachable, a wrong
// passphrase) is reported as a failed job too, so the vault (and its alerts) hear of it.

export interface BackupRun {
  agent: AgentState;
  sources: Sources;
  slot: number;
  reason: RunReason;
  passphrase: () => Promise<string>;
  hostname: string;
  /** The daemon's clock: the snapshot's time. */
  now: () => number;
  log: Logger;
  progressEveryMs: number;
}

const iso = (ms: number) => new Date(ms).toISOString();

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function reportUnstarted(run: BackupRun, startedAt: number, err: unknown): Promise<void> {
  const ticket = await startJob(run.agent, 'backup', startedAt);
  const undelivered = await finishJob(run.agent, ticket, { status: 'failed', error: message(err) });
  if (undelivered) run.log('warn', 'report-queued', { reason: undelivered });
}

async function open(run: BackupRun): Promise<{ repo: Repository; parent: SnapshotRef | undefined }> {
  const repo = await Repository.open(vaultRepoStore(run.agent), await run.passphrase());
  return { repo, parent: await findParent(repo, run.hostname, run.sources.paths) };
}

export async function runBackup(run: BackupRun): Promise<RunRecord> {
  const realStart = Date.now();
  const base = { slot: iso(run.slot), reason: run.reason, startedAt: iso(run.now()) };
  let opened: Awaited<ReturnType<typeof open>>;
  try {
    opened = await open(run);
  } catch (err) {
    await reportUnstarted(run, realStart, err);
    return { ...base, endedAt: iso(run.now()), status: 'failed', ...errorFields(err) };
  }
  const progress: BackupProgress = { files: 0, dirs: 0, bytes: 0, errors: 0 };
  const timer = setInterval(() => run.log('info', 'backup-progress', { ...progress }), run.progressEveryMs);
  try {
    const done = await backupToVault(run.agent, opened.repo, {
      paths: run.sources.paths,
      excludes: run.sources.excludes,
      hostname: run.hostname,
      parent: opened.parent,
      progress,
      now: () => new Date(run.now()),
    });
    if (done.undelivered) run.log('warn', 'report-queued', { reason: done.undelivered });
    const { stats } = done.result.snapshot;
    return {
      ...base,
      endedAt: iso(run.now()),
      status: done.result.errors.length > 0 ? 'warning' : 'succeeded',
      snapshot: done.result.id,
      point: done.point.id,
      bytesAdded: stats.bytesAddedStored + stats.treeBytesAddedStored,
      skipped: done.result.errors.length,
    };
  } catch (err) {
    return { ...base, endedAt: iso(run.now()), status: 'failed', ...errorFields(err) };
  } finally {
    clearInterval(timer);
  }
}
