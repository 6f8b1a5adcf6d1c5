import { alertNotFound, ALERT_COLUMNS as COLUMNS, newAlert, toAlert } from '../shared/alerts.ts';
import type { AlertRow, NewAlert, RaisedAlert } from '../types.ts';
import * as check from '../validate.ts';
import type { Db } from './db.ts';
import { getServerOfVault } from './servers.ts';
import { getVault } from './vaults.ts';
import { queueDeliveries } from './webhooks.ts';

export async function raiseAlert(db: Db, input: NewAlert): Promise<RaisedAlert> {
  const { repeat, values } = newAlert(input);
  return db.atomic(async (db) => {
    await getVault(db, input.vaultId);
    if (input.serverId !== null) await getServerOfVault(db, input.serverId, input.vaultId);
    const again = await db.get(
      `UPDATE alerts SET occurrences = occurrences + 1, last_raised_at = $1, message = $2, severity = $3
       WHERE vault_id = $4 AND dedupe_key = $5 AND resolved_at IS NULL RETURNING ${COLUMNS}`,
      ...repeat,
    );
    if (again) return queued(db, { alert: toAlert(again), created: false });
    const row = await db.get(
      `INSERT INTO alerts (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, 1, NULL, NULL) RETURNING ${COLUMNS}`,
      ...values,
    );
    return queued(db, { alert: toAlert(row!), created: true });
  });
}

/** Every raise goes out to the vault's webhooks, queued in the raise's own transaction. */
async function queued(db: Db, raised: RaisedAlert): Promise<RaisedAlert> {
  await queueDeliveries(db, raised.alert);
  return raised;
}

export async function getAlert(db: Db, id: string): Promise<AlertRow> {
  const row = await db.get(`SELECT ${COLUMNS} FROM alerts WHERE id = $1`, id);
  if (!row) throw alertNotFound(id);
  return toAlert(row);
}

export async function findOpenAlert(
  db: Db,
  vaultId: string,
  dedupeKey: string,
): Promise<AlertRow | undefined> {
  const row = await db.get(
    `SELECT ${COLUMNS} FROM alerts WHERE vault_id = $1 AND dedupe_key = $2 AND resolved_at IS NULL`,
    vaultId,
    dedupeKey,
  );
  return row && toAlert(row);
}

/** Sets a time column once; later calls keep the first time. */
async function stamp(
  db: Db,
  id: string,
  column: 'acknowledged_at' | 'resolved_at',
  at: number,
): Promise<AlertRow> {
  check.whole('at', at);
  return db.atomic(async (db) => {
    await getAlert(db, id);
    await db.run(`UPDATE alerts SET ${column} = $1 WHERE id = $2 AND ${column} IS NULL`, at, id);
    return getAlert(db, id);
  });
}

export async function acknowledgeAlert(db: Db, id: string, at: number): Promise<AlertRow> {
  return stamp(db, id, 'acknowledged_at', at);
}

export async function resolveAlert(db: Db, id: string, at: number): Promise<AlertRow> {
  return stamp(db, id, 'resolved_at', at);
}

export async function listAlerts(
  db: Db,
  vaultId: string,
  options?: { openOnly?: boolean },
): Promise<AlertRow[]> {
  await getVault(db, vaultId);
  const open = options?.openOnly ? 'AND resolved_at IS NULL' : '';
  const rows = await db.all(
    `SELECT ${COLUMNS} FROM alerts WHERE vault_id = $1 ${open} ORDER BY raised_at DESC, id COLLATE "C"`,
    vaultId,
  );
  return rows.map(toAlert);
}
