import { alertNotFound, ALERT_COLUMNS as COLUMNS, newAlert, toAlert } from '../shared/alerts.ts';
import type { AlertRow, NewAlert, RaisedAlert } from '../types.ts';
import * as check from '../validate.ts';
import type { Db } from './db.ts';
import { getServerOfVault } from './servers.ts';
import { getVault } from './vaults.ts';
import { queueDeliveries } from './webhooks.ts';

export function raiseAlert(db: Db, input: NewAlert): RaisedAlert {
  const { raisedAt, repeat, values } = newAlert(input);
  return db.atomic(() => {
    getVault(db, input.vaultId);
    if (input.serverId !== null) getServerOfVault(db, input.serverId, input.vaultId);
    const again = db.get(
      `UPDATE alerts SET occurrences = occurrences + 1, last_raised_at = ?, message = ?, severity = ?
       WHERE vault_id = ? AND dedupe_key = ? AND resolved_at IS NULL RETURNING ${COLUMNS}`,
      ...repeat,
    );
    if (again) return queued(db, { alert: toAlert(again), created: false });
    const row = db.get(
      `INSERT INTO alerts (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, NULL, NULL) RETURNING ${COLUMNS}`,
      ...values,
      raisedAt,
    );
    return queued(db, { alert: toAlert(row!), created: true });
  });
}

/** Every raise goes out to the vault's webhooks, queued in the raise's own transaction. */
function queued(db: Db, raised: RaisedAlert): RaisedAlert {
  queueDeliveries(db, raised.alert);
  return raised;
}

export function getAlert(db: Db, id: string): AlertRow {
  const row = db.get(`SELECT ${COLUMNS} FROM alerts WHERE id = ?`, id);
  if (!row) throw alertNotFound(id);
  return toAlert(row);
}

export function findOpenAlert(db: Db, vaultId: string, dedupeKey: string): AlertRow | undefined {
  const row = db.get(
    `SELECT ${COLUMNS} FROM alerts WHERE vault_id = ? AND dedupe_key = ? AND resolved_at IS NULL`,
    vaultId,
    dedupeKey,
  );
  return row && toAlert(row);
}

/** Sets a time column once; later calls keep the first time. */
function stamp(db: Db, id: string, column: 'acknowledged_at' | 'resolved_at', at: number): AlertRow {
  check.whole('at', at);
  return db.atomic(() => {
    getAlert(db, id);
    db.run(`UPDATE alerts SET ${column} = ? WHERE id = ? AND ${column} IS NULL`, at, id);
    return getAlert(db, id);
  });
}

export function acknowledgeAlert(db: Db, id: string, at: number): AlertRow {
  return stamp(db, id, 'acknowledged_at', at);
}

export function resolveAlert(db: Db, id: string, at: number): AlertRow {
  return stamp(db, id, 'resolved_at', at);
}

export function listAlerts(db: Db, vaultId: string, options?: { openOnly?: boolean }): AlertRow[] {
  getVault(db, vaultId);
  const open = options?.openOnly ? 'AND resolved_at IS NULL' : '';
  return db
    .all(`SELECT ${COLUMNS} FROM alerts WHERE vault_id = ? ${open} ORDER BY raised_at DESC, id`, vaultId)
    .map(toAlert);
}
