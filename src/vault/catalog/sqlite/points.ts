import { ConflictError, NotFoundError } from '../../../errors/index.ts';
import * as bitmap from '../bitmap.ts';
import type { NewPoint, PointListOptions, PointRow } from '../types.ts';
import { POINT_STATES } from '../types.ts';
import * as check from '../validate.ts';
import { bytes, num, optNum, str } from './columns.ts';
import type { Db, Row } from './db.ts';
import { uniqueViolation } from './db.ts';
import { deletedPackSeqs, nextPackSeq } from './packs.ts';
import { getServer } from './servers.ts';
import { getVault } from './vaults.ts';

const SELECT = `SELECT p.id, p.server_id, s.vault_id, p.snapshot_name, p.time, p.stats, p.pack_count,
  p.committed_at, p.soft_deleted_at, p.deleted_at
  FROM recovery_points p JOIN servers s ON s.id = p.server_id`;

const STATE_FILTERS: Record<string, string> = {
  active: 'p.soft_deleted_at IS NULL AND p.deleted_at IS NULL',
  'soft-deleted': 'p.soft_deleted_at IS NOT NULL AND p.deleted_at IS NULL',
  deleted: 'p.deleted_at IS NOT NULL',
  all: '1 = 1',
};

function toPoint(row: Row): PointRow {
  return {
    id: str(row, 'id'),
    serverId: str(row, 'server_id'),
    vaultId: str(row, 'vault_id'),
    snapshotName: str(row, 'snapshot_name'),
    time: num(row, 'time'),
    stats: check.parseObject(str(row, 'stats')),
    packCount: num(row, 'pack_count'),
    committedAt: num(row, 'committed_at'),
    softDeletedAt: optNum(row, 'soft_deleted_at'),
    deletedAt: optNum(row, 'deleted_at'),
  };
}

export function commitPoint(db: Db, input: NewPoint): PointRow {
  const snapshotName = check.text('snapshotName', input.snapshotName);
  const time = check.whole('time', input.time);
  const stats = check.jsonObject('stats', input.stats);
  const committedAt = check.whole('committedAt', input.committedAt);
  const packs = bitmap.encode(input.packSeqs);
  return db.atomic(() => {
    checkReferences(db, input.serverId, packs);
    const id = check.idOrNew(input.id);
    try {
      db.run(
        `INSERT INTO recovery_points (id, server_id, snapshot_name, time, stats, packs, pack_count, committed_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        id,
        input.serverId,
        snapshotName,
        time,
        stats,
        packs,
        bitmap.count(packs),
        committedAt,
      );
    } catch (err) {
      if (uniqueViolation(err)) {
        throw new ConflictError('POINT_EXISTS', `snapshot ${snapshotName} is already committed`);
      }
      throw err;
    }
    return getPoint(db, id);
  });
}

/** A point must never reference a pack that is not there: it could not be restored. */
function checkReferences(db: Db, serverId: string, packs: Uint8Array): void {
  const next = nextPackSeq(db, serverId);
  const members = bitmap.decode(packs);
  const beyond = members.find((seq) => seq >= next);
  if (beyond !== undefined) {
    throw new NotFoundError('PACK_NOT_FOUND', `pack number ${beyond} was never recorded for this server`);
  }
  const deleted = deletedPackSeqs(db, serverId);
  const gone = members.find((seq) => deleted.has(seq));
  if (gone !== undefined) {
    throw new ConflictError('PACK_DELETED', `pack number ${gone} was deleted by garbage collection`, {
      hint: 'run the backup again: it uploads the data anew',
    });
  }
}

export function getPoint(db: Db, id: string): PointRow {
  const row = db.get(`${SELECT} WHERE p.id = ?`, id);
  if (!row) throw new NotFoundError('POINT_NOT_FOUND', `no recovery point with id ${id}`);
  return toPoint(row);
}

export function getPointPacks(db: Db, id: string): Uint8Array {
  const row = db.get('SELECT packs FROM recovery_points WHERE id = ?', id);
  if (!row) throw new NotFoundError('POINT_NOT_FOUND', `no recovery point with id ${id}`);
  return bytes(row, 'packs');
}

function stateFilter(options: PointListOptions | undefined): string {
  const state = check.oneOf('state', options?.state ?? 'active', [...POINT_STATES, 'all']);
  return STATE_FILTERS[state]!;
}

const NEWEST_FIRST = 'ORDER BY p.time DESC, p.committed_at DESC, p.id';

export function listPoints(db: Db, serverId: string, options?: PointListOptions): PointRow[] {
  const filter = stateFilter(options);
  getServer(db, serverId);
  return db.all(`${SELECT} WHERE p.server_id = ? AND ${filter} ${NEWEST_FIRST}`, serverId).map(toPoint);
}

export function listVaultPoints(db: Db, vaultId: string, options?: PointListOptions): PointRow[] {
  const filter = stateFilter(options);
  getVault(db, vaultId);
  return db.all(`${SELECT} WHERE s.vault_id = ? AND ${filter} ${NEWEST_FIRST}`, vaultId).map(toPoint);
}

function pointDeleted(point: PointRow): ConflictError {
  return new ConflictError('POINT_DELETED', `recovery point ${point.snapshotName} is already deleted`);
}

export function softDeletePoint(db: Db, id: string, at: number): PointRow {
  check.whole('at', at);
  return db.atomic(() => {
    const point = getPoint(db, id);
    if (point.deletedAt !== null) throw pointDeleted(point);
    if (point.softDeletedAt !== null) return point;
    db.run('UPDATE recovery_points SET soft_deleted_at = ? WHERE id = ?', at, id);
    return getPoint(db, id);
  });
}

export function undeletePoint(db: Db, id: string): PointRow {
  return db.atomic(() => {
    const point = getPoint(db, id);
    if (point.deletedAt !== null) throw pointDeleted(point);
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
