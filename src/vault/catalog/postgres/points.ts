import * as bitmap from '../bitmap.ts';
import { bytes } from '../shared/columns.ts';
import * as shared from '../shared/points.ts';
import type { NewPoint, PointListOptions, PointRow } from '../types.ts';
import * as check from '../validate.ts';
import type { Db } from './db.ts';
import { onDuplicate } from './errors.ts';
import { firstDeletedPack, nextPackSeq } from './packs.ts';
import { getServer } from './servers.ts';
import { getVault } from './vaults.ts';

const POINT_INSERT_COLUMNS = shared.POINT_INSERT_COLUMNS;
const SELECT = shared.POINT_SELECT;

export async function commitPoint(db: Db, input: NewPoint): Promise<PointRow> {
  const { snapshotName, values, members } = shared.newPoint(input);
  const id = check.idOrNew(input.id);
  const sql = `INSERT INTO recovery_points (${POINT_INSERT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`;
  // Garbage collection marking a pack deleted while this commit checks it cannot slip in
  // between: under SERIALIZABLE one of the two transactions is refused and runs again.
  return db.atomic(async (db) => {
    await checkReferences(db, input.serverId, members);
    await onDuplicate(
      () => db.run(sql, id, ...values),
      () => shared.pointExists(snapshotName),
    );
    return getPoint(db, id);
  });
}

/** A point must never reference a pack that is not there: it could not be restored. */
async function checkReferences(db: Db, serverId: string, members: readonly number[]): Promise<void> {
  shared.checkRecorded(members, await nextPackSeq(db, serverId));
  const gone = members.length === 0 ? null : await firstDeletedPack(db, serverId, members);
  if (gone !== null) throw shared.packDeleted(gone);
}

export async function getPoint(db: Db, id: string): Promise<PointRow> {
  const row = await db.get(`${SELECT} WHERE p.id = $1`, id);
  if (!row) throw shared.pointNotFound(id);
  return shared.toPoint(row);
}

export async function getPointPacks(db: Db, id: string): Promise<Uint8Array> {
  const row = await db.get('SELECT packs FROM recovery_points WHERE id = $1', id);
  if (!row) throw shared.pointNotFound(id);
  return bytes(row, 'packs');
}

const NEWEST_FIRST = 'ORDER BY p.time DESC, p.committed_at DESC, p.id COLLATE "C"';

export async function listPoints(db: Db, serverId: string, options?: PointListOptions): Promise<PointRow[]> {
  const filter = shared.stateFilter(options);
  await getServer(db, serverId);
  return (await db.all(`${SELECT} WHERE p.server_id = $1 AND ${filter} ${NEWEST_FIRST}`, serverId)).map(
    shared.toPoint,
  );
}

export async function listVaultPoints(
  db: Db,
  vaultId: string,
  options?: PointListOptions,
): Promise<PointRow[]> {
  const filter = shared.stateFilter(options);
  await getVault(db, vaultId);
  return (await db.all(`${SELECT} WHERE s.vault_id = $1 AND ${filter} ${NEWEST_FIRST}`, vaultId)).map(
    shared.toPoint,
  );
}

export async function softDeletePoint(db: Db, id: string, at: number): Promise<PointRow> {
  check.whole('at', at);
  return db.atomic(async (db) => {
    const point = shared.notDeleted(await getPoint(db, id));
    if (point.softDeletedAt !== null) return point;
    await db.run('UPDATE recovery_points SET soft_deleted_at = $1 WHERE id = $2', at, id);
    return getPoint(db, id);
  });
}

export async function undeletePoint(db: Db, id: string): Promise<PointRow> {
  return db.atomic(async (db) => {
    shared.notDeleted(await getPoint(db, id));
    await db.run('UPDATE recovery_points SET soft_deleted_at = NULL WHERE id = $1', id);
    return getPoint(db, id);
  });
}

export async function markPointDeleted(db: Db, id: string, at: number): Promise<PointRow> {
  check.whole('at', at);
  return db.atomic(async (db) => {
    const point = await getPoint(db, id);
    if (point.deletedAt !== null) return point;
    await db.run('UPDATE recovery_points SET deleted_at = $1 WHERE id = $2', at, id);
    return getPoint(db, id);
  });
}

export async function retainedPackBitmap(db: Db, serverId: string): Promise<Uint8Array> {
  await getServer(db, serverId);
  const rows = await db.all(
    'SELECT packs FROM recovery_points WHERE server_id = $1 AND deleted_at IS NULL',
    serverId,
  );
  return bitmap.union(rows.map((row) => bytes(row, 'packs')));
}
