import { setTimeout as sleep } from 'node:timers/promises';
import type { BackupResult, Repository } from '../repo/index.ts';
import { snapshotPacks } from '../repo/index.ts';
import { permanentRefusal } from './jobs.ts';
import { keepIfRetryable, type PointCommit, postPointCommit } from './pending-points.ts';
import type { AgentState } from './state.ts';

// After a backup into the vault, its recovery point is committed: the vault records the
// snapshot with its statistics and the packs it needs. Until then the backup is not
// "completed" (DESIGN.md §2.4). A commit the vault could not take now is kept and sent
// before the next backup (./pending-points.ts).

export interface CommittedPoint {
  id: string;
  snapshot: string;
  packCount: number;
  committedAt: string;
}

/** Waits before each new try of a commit that failed for a passing reason (a restart). */
export const COMMIT_RETRY_DELAYS_MS: readonly number[] = [1_000, 3_000, 8_000];

export async function commitBackup(
  state: AgentState,
  repo: Repository,
  result: BackupResult,
  retryDelaysMs: readonly number[] = COMMIT_RETRY_DELAYS_MS,
): Promise<CommittedPoint> {
  const { snapshot } = result;
  const packs = await snapshotPacks(repo, Buffer.from(snapshot.tree, 'hex'));
  const stats = {
    ...snapshot.stats,
    hostname: snapshot.hostname,
    paths: snapshot.paths,
    tags: snapshot.tags,
  };
  const commit: PointCommit = { snapshot: result.id, time: snapshot.time, stats, packs };
  try {
    return (await postWithRetries(state, commit, retryDelaysMs)) as CommittedPoint;
  } catch (err) {
    if (await keepIfRetryable(state, commit, err).catch(() => false)) {
      const note = 'the recovery point is committed before the next backup';
      if (err instanceof Error) err.message = `${err.message} (${note})`;
    }
    throw err;
  }
}

/** A commit is idempotent (the same snapshot gives the same point), so it may be sent again. */
async function postWithRetries(state: AgentState, commit: PointCommit, delays: readonly number[]) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await postPointCommit(state, commit);
    } catch (err) {
      if (attempt >= delays.length || permanentRefusal(err) !== undefined) throw err;
      await sleep(delays[attempt]!);
    }
  }
}
