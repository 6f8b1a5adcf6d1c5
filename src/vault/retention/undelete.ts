import { ConflictError, NotFoundError } from '../../errors/index.ts';
import type { BlobStore } from '../../storage/index.ts';
import type { Catalog, PointRow, VaultRow } from '../catalog/index.ts';
import { pointSoftDeleteName, repoStore } from '../layout.ts';
import { withPointsLock } from './lock.ts';
import { saveHold } from './records.ts';

/**
 * Brings a soft-deleted point back. Storage first (a hold, so retention does not expire
 * it again at once, then the soft-delete record goes), the catalog last. The point is held
 * for the vault's soft-delete days (at least one), then retention counts it again. Runs
 * under the server's points lock, so no retention run on any instance works on the same
 * points meanwhile (POINTS_BUSY, 503, when one holds it too long).
 */
export async function undeletePoint(
  catalog: Catalog,
  region: BlobStore,
  vault: VaultRow,
  pointId: string,
  now: number,
): Promise<PointRow> {
  const found = await findPoint(catalog, vault, pointId);
  return withPointsLock(catalog, found.serverId, 'undelete', now, async () => {
    const point = await catalog.getPoint(found.id);
    if (point.deletedAt !== null) throw gone(point);
    if (point.softDeletedAt === null) return point;
    const snapshot = await repoStore(region, vault.id, point.serverId).head(
      `snapshots/${point.snapshotName}`,
    );
    if (snapshot === null) throw gone(point);
    await saveHold(region, point, now, Math.max(1, vault.softDeleteDays));
    await region.delete(pointSoftDeleteName(vault.id, point.serverId, point.id));
    return catalog.undeletePoint(point.id);
  });
}

/** The point, if it belongs to this vault; another vault's point is "not found" here. */
export async function findPoint(catalog: Catalog, vault: VaultRow, pointId: string): Promise<PointRow> {
  const missing = new NotFoundError(
    'POINT_NOT_FOUND',
    `vault ${vault.name} has no recovery point ${pointId}`,
    {
      hint: `list them with: offsite vault points ${vault.name} --all`,
    },
  );
  let point: PointRow;
  try {
    point = await catalog.getPoint(pointId);
  } catch (err) {
    if (err instanceof NotFoundError) throw missing;
    throw err;
  }
  if (point.vaultId !== vault.id) throw missing;
  return point;
}

function gone(point: PointRow): ConflictError {
  return new ConflictError(
    'POINT_DELETED',
    `recovery point ${point.id} is deleted for good and cannot come back`,
    {
      hint: 'its soft-delete period has passed; choose another recovery point',
    },
  );
}
