import { ConflictError, NotFoundError } from '../../../errors/index.ts';
import * as bitmap from '../bitmap.ts';
import type { NewPoint, PointListOptions, PointRow } from '../types.ts';
import { POINT_STATES } from '../types.ts';
import * as check from '../validate.ts';
import { num, optNum, type Row, str } from './columns.ts';

// The recovery_points table as both backends see it: columns, rows as objects, checked
// input and the errors of its operations. The SELECT and the state filters are plain SQL
// both dialects read alike; the rest of the SQL is each backend's own.

/** Points with their server's vault; filters name the tables p (points) and s (servers). */
export const POINT_SELECT = `SELECT p.id, p.server_id, s.vault_id, p.snapshot_name, p.time, p.stats, p.pack_count,
  p.committed_at, p.soft_deleted_at, p.deleted_at
  FROM recovery_points p JOIN servers s ON s.id = p.server_id`;

const STATE_FILTERS: Record<string, string> = {
  active: 'p.soft_deleted_at IS NULL AND p.deleted_at IS NULL',
  'soft-deleted': 'p.soft_deleted_at IS NOT NULL AND p.deleted_at IS NULL',
  deleted: 'p.deleted_at IS NOT NULL',
  all: '1 = 1',
};

export function toPoint(row: Row): PointRow {
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

/** What a commit inserts: id first, then pointValues. */
export const POINT_INSERT_COLUMNS =
  'id, server_id, snapshot_name, time, stats, packs, pack_count, committed_at';

/**
 * The checked values of a new point after its id (see POINT_INSERT_COLUMNS), and the pack
 * sequence numbers it references, as stored (sorted, each once).
 */
export function newPoint(input: NewPoint) {
  const snapshotName = check.text('snapshotName', input.snapshotName);
  const time = check.whole('time', input.time);
  const stats = check.jsonObject('stats', input.stats);
  const committedAt = check.whole('committedAt', input.committedAt);
  const packs = bitmap.encode(input.packSeqs);
  const values = [
    input.serverId,
    snapshotName,
    time,
    stats,
    packs,
    bitmap.count(packs),
    committedAt,
  ] as const;
  return { snapshotName, values, members: bitmap.decode(packs) };
}

/** A point must never reference a pack that is not there: it could not be restored. */
export function checkRecorded(members: readonly number[], nextPackSeq: number): void {
  const beyond = members.find((seq) => seq >= nextPackSeq);
  if (beyond !== undefined) {
    throw new NotFoundError('PACK_NOT_FOUND', `pack number ${beyond} was never recorded for this server`);
  }
}

export function packDeleted(seq: number): ConflictError {
  return new ConflictError('PACK_DELETED', `pack number ${seq} was deleted by garbage collection`, {
    hint: 'run the backup again: it uploads the data anew',
  });
}

export function pointExists(snapshotName: string): ConflictError {
  return new ConflictError('POINT_EXISTS', `snapshot ${snapshotName} is already committed`);
}

export function pointNotFound(id: string): NotFoundError {
  return new NotFoundError('POINT_NOT_FOUND', `no recovery point with id ${id}`);
}

/** A deleted point (its snapshot file is gone) can neither be soft-deleted nor come back. */
export function notDeleted(point: PointRow): PointRow {
  if (point.deletedAt !== null) {
    throw new ConflictError('POINT_DELETED', `recovery point ${point.snapshotName} is already deleted`);
  }
  return point;
}

/** The WHERE condition of the state asked for (default: active points). */
export function stateFilter(options: PointListOptions | undefined): string {
  const state = check.oneOf('state', options?.state ?? 'active', [...POINT_STATES, 'all']);
  return STATE_FILTERS[state]!;
}
