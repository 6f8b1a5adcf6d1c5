import {
  REPLICATION_COLUMNS as COLUMNS,
  replicationValues,
  toPackTally,
  toReplicationStatus,
} from '../shared/replication.ts';
import type { PackTally, ReplicationStatusRow } from '../types.ts';
import * as check from '../validate.ts';
import type { Db } from './db.ts';
import { getVault } from './vaults.ts';

export async function findReplicationStatus(
  db: Db,
  vaultId: string,
): Promise<ReplicationStatusRow | undefined> {
  const row = await db.get(`SELECT ${COLUMNS} FROM replication_status WHERE vault_id = $1`, vaultId);
  return row && toReplicationStatus(row);
}

export async function saveReplicationStatus(
  db: Db,
  status: ReplicationStatusRow,
): Promise<ReplicationStatusRow> {
  const values = replicationValues(status);
  return db.atomic(async (db) => {
    await getVault(db, status.vaultId);
    await db.run('DELETE FROM replication_status WHERE vault_id = $1', status.vaultId);
    const marks = values.map((_, i) => `$${i + 1}`).join(', ');
    const row = await db.get(
      `INSERT INTO replication_status (${COLUMNS}) VALUES (${marks}) RETURNING ${COLUMNS}`,
      ...values,
    );
    return toReplicationStatus(row!);
  });
}

export async function packsRecordedSince(db: Db, vaultId: string, since: number): Promise<PackTally> {
  check.whole('since', since);
  await getVault(db, vaultId);
  const row = await db.get(
    `SELECT COUNT(*)::bigint AS count, COALESCE(SUM(p.size), 0)::bigint AS bytes, MIN(p.created_at) AS oldest_at
     FROM packs p JOIN servers s ON s.id = p.server_id
     WHERE s.vault_id = $1 AND p.deleted_at IS NULL AND p.created_at >= $2`,
    vaultId,
    since,
  );
  return toPackTally(row!);
}
