import { BadInputError } from '../../../errors/index.ts';
import type { PackTally, ReplicationStatusRow } from '../types.ts';
import * as check from '../validate.ts';
import { num, optNum, type Row, str } from './columns.ts';

// The replication_status table and the pack tally as both backends see them: columns,
// rows as objects and checked input. The SQL is each backend's own.

export const REPLICATION_COLUMNS =
  'vault_id, secondary_region, listed_at, finished_at, copied_objects, copied_bytes, deleted_objects, ' +
  'pending_objects, pending_bytes, oldest_pending_at, synced_at, problems';

export function toReplicationStatus(row: Row): ReplicationStatusRow {
  return {
    vaultId: str(row, 'vault_id'),
    secondaryRegion: str(row, 'secondary_region'),
    listedAt: num(row, 'listed_at'),
    finishedAt: num(row, 'finished_at'),
    copiedObjects: num(row, 'copied_objects'),
    copiedBytes: num(row, 'copied_bytes'),
    deletedObjects: num(row, 'deleted_objects'),
    pendingObjects: num(row, 'pending_objects'),
    pendingBytes: num(row, 'pending_bytes'),
    oldestPendingAt: optNum(row, 'oldest_pending_at'),
    syncedAt: optNum(row, 'synced_at'),
    problems: check.parseArray(str(row, 'problems')).map(String),
  };
}

/** The checked values of a status row, in REPLICATION_COLUMNS order. */
export function replicationValues(input: ReplicationStatusRow) {
  return [
    input.vaultId,
    check.text('secondaryRegion', input.secondaryRegion),
    check.whole('listedAt', input.listedAt),
    check.whole('finishedAt', input.finishedAt),
    check.whole('copiedObjects', input.copiedObjects),
    check.whole('copiedBytes', input.copiedBytes),
    check.whole('deletedObjects', input.deletedObjects),
    check.whole('pendingObjects', input.pendingObjects),
    check.whole('pendingBytes', input.pendingBytes),
    check.optionalWhole('oldestPendingAt', input.oldestPendingAt),
    check.optionalWhole('syncedAt', input.syncedAt),
    problemList(input.problems),
  ] as const;
}

function problemList(value: unknown): string {
  if (!Array.isArray(value) || value.some((p) => typeof p !== 'string')) {
    throw new BadInputError('BAD_FIELD', 'problems: must be a list of strings');
  }
  return check.jsonArray('problems', value);
}

export function toPackTally(row: Row): PackTally {
  return { count: num(row, 'count'), bytes: num(row, 'bytes'), oldestAt: optNum(row, 'oldest_at') };
}
