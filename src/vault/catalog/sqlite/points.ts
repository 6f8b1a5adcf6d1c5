import * as bitmap from '../bitmap.ts';
import { bytes } from '../shared/columns.ts';
import * as shared from '../shared/points.ts';
import type { NewPoint, PointListOptions, PointRow } from '../types.ts';
import * as check from '../validate.ts';
import { type Db, onDuplicate } from './db.ts';
import { deletedPackSeqs, nextPackSeq } from './packs.ts';
import { getServer } from './servers.ts';
import { getVault } from './vaults.ts';

const POINT_INSERT_COLUMNS = shared.POINT_INSERT_COLUMNS;
const SELECT = shared.POINT_SELECT;

export function commitPoint(db: Db, input: NewPoint): PointRow {
  const { snapshotName, values, members } = shared.newPoint(input);
  const sql = `INSERT INTO recovery_points (${POINT_INSERT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`;
  return db.atomic(() => {
    checkReferences(db, input.serverId, members);
    const id = check.idOrNew(input.id);
    onDuplicate(
      () => db.run(sql, id, ...values),
      () => shared.pointExists(snapshotName),
    );
    return getPoint(db, id);
  });
}

/** A point must never reference a pack that is not there: it could not be restored. */
function checkReferences(db: Db, serverId: string, members: readonly number[]): void {
  shared.checkRecorded(members, nextPackSeq(db, serverId));
  const deleted = deletedPackSeqs(db, serverId);
  const gone = members.find((seq) => deleted.has(seq));
  if (gone !== undefined) throw shared.packDeleted(gone);
}

export function getPoint(db: Db, id: string): PointRow {
  const row = db.get(`${SELECT} WHERE p.id = ?`, id);
  if (!row) throw shared.pointNotFound(id);
  return shared.toPoint(row);
}

export function getPointPacks(db: Db, id: string): Uint8Array {
  const row = db.get('SELECT packs FROM recovery_points WHERE id = ?', id);
  if (!row) throw shared.pointNotFound(id);
  return bytes(row, 'packs');
}

const NEWEST_FIRST = 'ORDER BY p.time DESC, p.committed_at DESC, p.id';

export function listPoints(db: Db, serverId: string, options?: PointListOptions): PointRow[] {
  const filter = shared.stateFilter(options);
  getServer(db, serverId);
  return db
    .all(`${SELECT} WHERE p.server_id = ? AND ${filter} ${NEWEST_FIRST}`, serverId)
    .map(shared.toPoint);
}

export function listVaultPoints(db: Db, vaultId: string, options?: PointListOptions): PointRow[] {
  const filter = shared.stateFilter(options);
  getVault(db, vaultId);
  return db.all(`${SELECT} WHERE s.vault_id = ? AND ${filter} ${NEWEST_FIRST}`, vaultId).map(shared.toPoint);
}

export function softDeletePoint(db: Db, id: string, at: number): PointRow {
  check.whole('at', at);
  return db.atomic(() => {
    const point = shared.notDeleted(getPoint(db, id));
    if (point.softDeletedAt !== null) return point;
    db.run('UPDATE recovery_points SET soft_deleted_at = ? WHERE id = ?', at, id);
    return getPoint(db, id);
  });
}

export function undeletePoint(db: Db, id: string): PointRow {
  return db.atomic(() => {
    shared.notDeleted(getPoint(db, id));
    db.run('UPDATE recovery_points SET soft_deleted_at = NULL WHERE id = ?', id);
    return getPoint(db, id);
  });
}

export function markPointDeleted(db: Db, id: string, at: number): PointRow {
  check.whole('at', at);
  return db.atomic(() => {
    const point = getPoint(db, id);
    if (point.deletedAt !== null) return point;
    db.run('UPDATE recovery_points SET deleted_at = ? WHERE id = ?', at, id);
    return getPoint(db, id);
  });
}

export function retainedPackBitmap(db: Db, serverId: string): Uint8Array {
  getServer(db, serverId);
  const rows = db.all(
    'SELECT packs FROM recovery_points WHERE server_id = ? AND deleted_at IS NULL',
    serverId,
  );
  return bitmap.union(rows.map((row) => bytes(row, 'packs')));
}
