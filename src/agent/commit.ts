import type { BackupResult, Repository } from '../repo/index.ts';
import { snapshotPacks } from '../repo/index.ts';
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

export async function commitBackup(
  state: AgentState,
  repo: Repository,
  result: BackupResult,
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
    return (await postPointCommit(state, commit)) as CommittedPoint;
  } catch (err) {
    if (await keepIfRetryable(state, commit, err).catch(() => false)) {
      const note = 'the recovery point is committed before the next backup';
      if (err instanceof Error) err.message = `${err.message} (${note})`;
    }
    throw err;
  }
}
