import { USAGE_COLUMNS as COLUMNS, toUsage, usageRange, usageValues } from '../shared/usage.ts';
import type { UsageListOptions, UsageRow } from '../types.ts';
import type { Db } from './db.ts';
import { getServerOfVault } from './servers.ts';
import { getVault } from './vaults.ts';

export async function recordUsage(db: Db, input: UsageRow): Promise<UsageRow> {
  const values = usageValues(input);
  return db.atomic(async (db) => {
    await getVault(db, input.vaultId);
    if (input.serverId !== null) await getServerOfVault(db, input.serverId, input.vaultId);
    const row = await db.get(
      `INSERT INTO usage_history (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (vault_id, server_id, day) DO UPDATE SET protected_bytes = excluded.protected_bytes,
         stored_bytes = excluded.stored_bytes, breakdown = excluded.breakdown
       RETURNING ${COLUMNS}`,
      ...values,
    );
    return toUsage(row!);
  });
}

export async function listUsage(
  db: Db,
  vaultId: string,
  fromDay: string,
  toDay: string,
  options?: UsageListOptions,
): Promise<UsageRow[]> {
  const range = usageRange(vaultId, fromDay, toDay);
  await getVault(db, vaultId);
  const select = `SELECT ${COLUMNS} FROM usage_history WHERE vault_id = $1 AND day >= $2 AND day <= $3`;
  // Byte order, as SQLite compares: 'YYYY-MM-DD' and ids sort the same in every locale then.
  const order = 'ORDER BY day COLLATE "C", server_id COLLATE "C"';
  if (options?.serverId === undefined) return (await db.all(`${select} ${order}`, ...range)).map(toUsage);
  const rows = await db.all(`${select} AND server_id = $4 ${order}`, ...range, options.serverId ?? '');
  return rows.map(toUsage);
}
