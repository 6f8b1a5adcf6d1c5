import type { Catalog, ServerRow, VaultRow } from '../catalog/index.ts';
import { storedPolicy } from '../policy.ts';
import { previousRun } from '../schedule.ts';
import { raiseIfChanged, resolveOpen } from './alerts.ts';

// "No backup within the policy's window" (DESIGN.md §4): a server whose newest recovery
// point is older than the last scheduled backup (plus a grace period for the backup to
// run and commit) gets an alert; a later point resolves it. Only committed points count:
// a backup is not done until its point is (invariant 4).

/** How long a scheduled backup may take before it counts as missed. */
export const MISSED_BACKUP_GRACE_MS = 2 * 3_600_000;
export const MISSED_BACKUP_KIND = 'backup-missed';

export function missedBackupKey(serverId: string): string {
  return `${MISSED_BACKUP_KIND}:${serverId}`;
}

async function checkServer(catalog: Catalog, vault: VaultRow, server: ServerRow, due: number, now: number) {
  const key = missedBackupKey(server.id);
  // A server registered after the run it would have missed is not late yet.
  if (server.registeredAt > due) return resolveOpen(catalog, vault.id, key, now);
  const [newest] = await catalog.listPoints(server.id);
  if (newest && newest.committedAt >= due - MISSED_BACKUP_GRACE_MS)
    return resolveOpen(catalog, vault.id, key, now);
  const since = newest ? `since ${new Date(newest.committedAt).toISOString()}` : 'ever';
  await raiseIfChanged(catalog, {
    vaultId: vault.id,
    serverId: server.id,
    kind: MISSED_BACKUP_KIND,
    severity: 'warning',
    message: `server ${server.name} missed its backup scheduled at ${new Date(due).toISOString()}: no recovery point ${since}`,
    dedupeKey: key,
    raisedAt: now,
  });
}

export async function checkMissedBackups(catalog: Catalog, vault: VaultRow, now: number): Promise<void> {
  const policy = storedPolicy(vault.policy);
  if (!policy) return;
  const due = previousRun(policy.schedule, now - MISSED_BACKUP_GRACE_MS);
  if (due === undefined) return;
  for (const server of await catalog.listServers(vault.id))
    await checkServer(catalog, vault, server, due, now);
}

export async function checkAllMissedBackups(catalog: Catalog, now: number): Promise<void> {
  for (const vault of await catalog.listVaults()) await checkMissedBackups(catalog, vault, now);
}
