import { USAGE_COLUMNS as COLUMNS, toUsage, usageRange, usageValues } from '../shared/usage.ts';
import type { UsageListOptions, UsageRow } from '../types.ts';
import type { Db } from './db.ts';
import { getServerOfVault } from './servers.ts';
import { getVault } from './vaults.ts';

export function recordUsage(db: Db, input: UsageRow): UsageRow {
  const values = usageValues(input);
  return db.atomic(() => {
    getVault(db, input.vaultId);
    if (input.serverId !== null) getServerOfVault(db, input.serverId, input.vaultId);
    const row = db.get(
      `INSERT INTO usage_history (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (vault_id, server_id, day) DO UPDATE SET protected_bytes = excluded.protected_bytes,
         stored_bytes = excluded.stored_bytes, breakdown = excluded.breakdown
       RETURNING ${COLUMNS}`,
      ...values,
    );
    return toUsage(row!);
  });
}

export function listUsage(
  db: Db,
  vaultId: string,
  fromDay: string,
  toDay: string,
  options?: UsageListOptions,
): UsageRow[] {
  const range = usageRange(vaultId, fromDay, toDay);
  getVault(db, vaultId);
  const select = `SELECT ${COLUMNS} FROM usage_history WHERE vault_id = ? AND day >= ? AND day <= ?`;
  const order = 'ORDER BY day, server_id';
  if (options?.serverId === undefined) return db.all(`${select} ${order}`, ...range).map(toUsage);
  return db.all(`${select} AND server_id = ? ${order}`, ...range, options.serverId ?? '').map(toUsage);
}
