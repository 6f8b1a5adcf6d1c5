import { type BackupOptions, type BackupResult, backup, type Repository } from '../repo/index.ts';
import { type CommittedPoint, commitBackup } from './commit.ts';
import { finishJob, startJob } from './jobs.ts';
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

export async function backupToVault(
  state: AgentState,
  repo: Repository,
  options: BackupOptions,
  hooks: { afterBackup?: () => void } = {},
): Promise<VaultBackup> {
  const jobId = await startJob(state, 'backup');
  let result: BackupResult;
  let point: CommittedPoint;
  try {
    try {
      result = await backup(repo, options);
    } finally {
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
