import type { UsageListOptions, UsageRow } from '../types.ts';
import * as check from '../validate.ts';
import { keyOrNull, num, str } from './columns.ts';
import type { Db, Row } from './db.ts';
import { getServerOfVault } from './servers.ts';
import { getVault } from './vaults.ts';

const COLUMNS = 'vault_id, server_id, day, protected_bytes, stored_bytes, breakdown';

function toUsage(row: Row): UsageRow {
  return {
    vaultId: str(row, 'vault_id'),
    serverId: keyOrNull(row, 'server_id'),
    day: str(row, 'day'),
    protectedBytes: num(row, 'protected_bytes'),
    storedBytes: num(row, 'stored_bytes'),
    breakdown: check.parseObject(str(row, 'breakdown')),
  };
}

export function recordUsage(db: Db, input: UsageRow): UsageRow {
  const values = [
    input.vaultId,
    input.serverId ?? '',
    check.day('day', input.day),
    check.whole('protectedBytes', input.protectedBytes),
    check.whole('storedBytes', input.storedBytes),
    check.jsonObject('breakdown', input.breakdown),
  ];
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
  const range = [vaultId, check.day('fromDay', fromDay), check.day('toDay', toDay)];
  getVault(db, vaultId);
  const select = `SELECT ${COLUMNS} FROM usage_history WHERE vault_id = ? AND day >= ? AND day <= ?`;
  const order = 'ORDER BY day, server_id';
  if (options?.serverId === undefined) return db.all(`${select} ${order}`, ...range).map(toUsage);
  return db.all(`${select} AND server_id = ? ${order}`, ...range, options.serverId ?? '').map(toUsage);
}
