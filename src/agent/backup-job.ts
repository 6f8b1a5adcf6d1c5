import { type BackupOptions, type BackupResult, backup, type Repository } from '../repo/index.ts';
import { type CommittedPoint, commitBackup } from './commit.ts';
import { finishJob, reportProgress, startJob } from './jobs.ts';
import { commitPendingPoints } from './pending-points.ts';
import type { AgentState } from './state.ts';

// One backup into the vault as a job: reported when it starts, run, its recovery point
// committed, and reported again as failed, warning (files skipped) or succeeded. Used by
// `offsite backup` and by the daemon alike.

export interface VaultBackup {
  result: BackupResult;
  point: CommittedPoint;
  /** Why the final job report did not reach the vault, if it did not. */
  undelivered?: string;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** How often a running backup tells the vault its progress. */
export const PROGRESS_EVERY_MS = 30_000;

export async function backupToVault(
  state: AgentState,
  repo: Repository,
  options: BackupOptions,
  hooks: { afterBackup?: () => void; progressEveryMs?: number } = {},
): Promise<VaultBackup> {
  // Points an earlier backup stored but could not commit come first: they are older.
  await commitPendingPoints(state).catch(() => undefined);
  const jobId = await startJob(state, 'backup');
  const progress = options.progress ?? { files: 0, dirs: 0, bytes: 0, errors: 0 };
  const ticker = setInterval(
    () => void reportProgress(state, jobId, progress.bytes),
    hooks.progressEveryMs ?? PROGRESS_EVERY_MS,
  );
  ticker.unref();
  let result: BackupResult;
  let point: CommittedPoint;
  try {
    try {
      result = await backup(repo, { ...options, progress });
    } finally {
      clearInterval(ticker);
      hooks.afterBackup?.();
    }
    point = await commitBackup(state, repo, result);
  } catch (err) {
    await finishJob(state, jobId, { status: 'failed', error: message(err) });
    throw err;
  }
  const { stats } = result.snapshot;
  const undelivered = await finishJob(state, jobId, {
    status: result.errors.length > 0 ? 'warning' : 'succeeded',
    bytes: stats.bytesAddedStored + stats.treeBytesAddedStored,
    skippedFiles: result.errors.map((e) => ({ path: e.path, error: e.message })),
  });
  return { result, point, ...(undelivered ? { undelivered } : {}) };
}
