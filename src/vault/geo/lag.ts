import type { Catalog, VaultRow } from '../catalog/index.ts';
import { lastStatus } from './replicate.ts';

// How far a vault's secondary is behind, cheaply: the last replication cycle's comparison
// (kept in the catalog) plus the packs recorded since it listed, which the catalog tallies
// in one query. Packs are nearly all the bytes; the small objects written since (indexes,
// snapshots, records) are counted by the next cycle.

export interface ReplicationLag {
  secondaryRegion: string;
  /** When the last complete comparison listed the primary; null: never compared. */
  checkedAt: number | null;
  /** When the last cycle, complete or not, ended. */
  lastRunAt: number | null;
  /** Everything the primary held at this time is in the secondary. */
  syncedAt: number | null;
  pendingObjects: number;
  pendingBytes: number;
  /** When the oldest object not copied yet was written; null when nothing is pending. */
  oldestPendingAt: number | null;
  lastRun: { copiedObjects: number; copiedBytes: number; deletedObjects: number } | null;
  problems: string[];
}

export async function replicationLag(catalog: Catalog, vault: VaultRow): Promise<ReplicationLag | null> {
  if (vault.secondaryRegion === null) return null;
  const status = await lastStatus(catalog, vault);
  const checkedAt = status && status.listedAt > 0 ? status.listedAt : null;
  const since = await catalog.packsRecordedSince(vault.id, checkedAt ?? 0);
  const oldest = [status?.oldestPendingAt ?? null, since.oldestAt].filter((t) => t !== null);
  return {
    secondaryRegion: vault.secondaryRegion,
    checkedAt,
    lastRunAt: status?.finishedAt ?? null,
    syncedAt: status?.syncedAt ?? null,
    pendingObjects: (status?.pendingObjects ?? 0) + since.count,
    pendingBytes: (status?.pendingBytes ?? 0) + since.bytes,
    oldestPendingAt: oldest.length > 0 ? Math.min(...oldest) : null,
    lastRun: status
      ? {
          copiedObjects: status.copiedObjects,
          copiedBytes: status.copiedBytes,
          deletedObjects: status.deletedObjects,
        }
      : null,
    problems: status?.problems ?? [],
  };
}
