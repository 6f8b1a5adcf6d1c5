import type { BackupResult, Repository } from '../repo/index.ts';
import { snapshotPacks } from '../repo/index.ts';
import type { AgentState } from './state.ts';
import { agentClient } from './vault.ts';

// After a backup into the vault, its recovery point is committed: the vault records the
// snapshot with its statistics and the packs it needs. Until then the backup is not
// "completed" (DESIGN.md §2.4).

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
  return (await agentClient(state).call('POST', '/v1/agent/points', {
    snapshot: result.id,
    time: snapshot.time,
    stats,
    packs,
  })) as CommittedPoint;
}
