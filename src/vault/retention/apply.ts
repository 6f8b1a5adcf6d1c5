import type { BlobStore } from '../../storage/index.ts';
import type { Catalog, HeldLease, PointRow, ServerRow, VaultRow } from '../catalog/index.ts';
import { repoStore } from '../layout.ts';
import { storedPolicy, type VaultPolicy } from '../policy.ts';
import { saveSoftDeleteRecord } from '../records.ts';
import { expireRetiredKeys } from '../retired-keys.ts';
import { expiredPoints } from './expire.ts';
import { withPointsLock } from './lock.ts';
import { heldPoints, pointRecords, removePointRecords } from './records.ts';

// Retention of one vault (DESIGN.md §2.3, §4): points the policy lets go are
// soft-deleted, and points soft-deleted for the vault's softDeleteDays are deleted for
// good — their snapshot object first, then the catalog, then their records. Without a
// policy nothing expires; soft-deleted points still run out. Each server's points are
// worked on under its points lock (./lock.ts), which undelete takes too. Key slots
// retired by passphrase changes run out after the same days (../retired-keys.ts).

export const DAY_MS = 86_400_000;

export interface RetentionOutcome {
  /** Point ids soft-deleted by this run. */
  softDeleted: string[];
  /** Point ids deleted for good by this run. */
  deleted: string[];
  /** Key slots retired by passphrase changes longer ago than the soft-delete days. */
  retiredKeysDeleted: string[];
}

interface Scope {
  catalog: Catalog;
  region: BlobStore;
  vault: VaultRow;
  now: number;
  outcome: RetentionOutcome;
}

export async function applyRetention(
  catalog: Catalog,
  region: BlobStore,
  vault: VaultRow,
  now: number,
): Promise<RetentionOutcome> {
  const scope: Scope = {
    catalog,
    region,
    vault,
    now,
    outcome: { softDeleted: [], deleted: [], retiredKeysDeleted: [] },
  };
  // A stored policy that no longer validates expires nothing; soft-deleted points still run out.
  const policy = storedPolicy(vault.policy);
  for (const server of await catalog.listServers(vault.id)) {
    await withPointsLock(catalog, server.id, 'retention', now, async (lock) => {
      const records = await pointRecords(region, vault.id, server.id);
      if (policy) await expireServer(scope, server, policy, records);
      await purgeServer(scope, server, records, lock);
    });
    scope.outcome.retiredKeysDeleted.push(...(await expireRetiredKeys(region, vault, server.id, now)));
  }
  return scope.outcome;
}

async function expireServer(
  s: Scope,
  server: ServerRow,
  policy: VaultPolicy,
  records: ReadonlyMap<string, string[]>,
): Promise<void> {
  const active = await s.catalog.listPoints(server.id, { state: 'active' });
  const held = await heldPoints(s.region, records, s.now);
  for (const point of expiredPoints(active, policy, s.now, held)) {
    // Catalog first: a crash before the record leaves the point active after a rebuild,
    // which keeps data rather than losing it; the next run writes the missing record.
    const row = await s.catalog.softDeletePoint(point.id, s.now);
    await saveSoftDeleteRecord(s.region, row, s.now);
    s.outcome.softDeleted.push(point.id);
  }
}

function isDue(point: PointRow, vault: VaultRow, now: number): boolean {
  return point.softDeletedAt !== null && now - point.softDeletedAt >= vault.softDeleteDays * DAY_MS;
}

async function purgeServer(
  s: Scope,
  server: ServerRow,
  records: ReadonlyMap<string, string[]>,
  lock: HeldLease,
) {
  const repo = repoStore(s.region, s.vault.id, server.id);
  for (const point of await s.catalog.listPoints(server.id, { state: 'soft-deleted' })) {
    if (!isDue(point, s.vault, s.now)) {
      const names = records.get(point.id) ?? [];
      if (!names.some((n) => n.endsWith('.soft-deleted'))) {
        await saveSoftDeleteRecord(s.region, point, point.softDeletedAt!);
      }
      continue;
    }
    // Still ours (a run that stalled past its lease stops here), so no undelete is midway.
    await lock.confirm();
    await repo.delete(`snapshots/${point.snapshotName}`);
    const deleted = await s.catalog.markPointDeleted(point.id, s.now);
    await removePointRecords(s.region, deleted);
    s.outcome.deleted.push(point.id);
  }
  // Records left by a run that stopped between the catalog and the records.
  const leftOver = (await s.catalog.listPoints(server.id, { state: 'deleted' })).filter((p) =>
    records.has(p.id),
  );
  for (const point of leftOver) {
    if (!s.outcome.deleted.includes(point.id)) await removePointRecords(s.region, point);
  }
}
