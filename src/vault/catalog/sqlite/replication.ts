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

export function findReplicationStatus(db: Db, vaultId: string): ReplicationStatusRow | undefined {
  const row = db.get(`SELECT ${COLUMNS} FROM replication_status WHERE vault_id = ?`, vaultId);
  return row && toReplicationStatus(row);
}

export function saveReplicationStatus(db: Db, status: ReplicationStatusRow): ReplicationStatusRow {
  const values = replicationValues(status);
  return db.atomic(() => {
    getVault(db, status.vaultId);
    db.run('DELETE FROM replication_status WHERE vault_id = ?', status.vaultId);
    const marks = values.map(() => '?').join(', ');
    const row = db.get(
      `INSERT INTO replication_status (${COLUMNS}) VALUES (${marks}) RETURNING ${COLUMNS}`,
      ...values,
    );
    return toReplicationStatus(row!);
  });
}

export function packsRecordedSince(db: Db, vaultId: string, since: number): PackTally {
  check.whole('since', since);
  getVault(db, vaultId);
  const row = db.get(
    `SELECT COUNT(*) AS count, COALESCE(SUM(p.size), 0) AS bytes, MIN(p.created_at) AS oldest_at
     FROM packs p JOIN servers s ON s.id = p.server_id
     WHERE s.vault_id = ? AND p.deleted_at IS NULL AND p.created_at >= ?`,
    vaultId,
    since,
  );
  return toPackTally(row!);
}
