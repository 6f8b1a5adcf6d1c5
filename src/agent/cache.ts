import { join } from 'node:path';
import { DiskCache, type Repository } from '../repo/index.ts';
import type { AgentState } from './state.ts';

// The agent's metadata cache: index files, snapshots and trees of its vault repository,
// in the agent folder (one subfolder per repository), trimmed to its size at most hourly.
// Deleting it is always safe: it is filled again from the vault.

export function agentCacheDir(state: AgentState, repoId: string): string {
  return join(state.dir, 'cache', repoId);
}

export async function attachCache(
  repo: Repository,
  state: AgentState,
  maxBytes?: number,
): Promise<DiskCache> {
  const cache = new DiskCache(agentCacheDir(state, repo.config.id), maxBytes);
  await cache.trimIfDue();
  repo.cache = cache;
  return cache;
}
