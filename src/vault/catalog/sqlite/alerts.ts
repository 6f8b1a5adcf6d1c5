import { randomUUID } from 'node:crypto';
import { NotFoundError } from '../../../errors/index.ts';
import type { AlertRow, NewAlert, RaisedAlert } from '../types.ts';
import { ALERT_SEVERITIES } from '../types.ts';
import * as check from '../validate.ts';
import { num, optNum, optStr, str } from './columns.ts';
import type { Db, Row } from './db.ts';
import { getServerOfVault } from './servers.ts';
import { getVault } from './vaults.ts';
import { queueDeliveries } from './webhooks.ts';

const COLUMNS = `id, vault_id, server_id, kind, severity, message, dedupe_key, raised_at, last_raised_at,
  occurrences, acknowledged_at, resolved_at`;

function toAlert(row: Row): AlertRow {
  return {
    id: str(row, 'id'),
    vaultId: str(row, 'vault_id'),
    serverId: optStr(row, 'server_id'),
    kind: str(row, 'kind'),
    severity: check.oneOf('severity', str(row, 'severity'), ALERT_SEVERITIES),
    message: str(row, 'message'),
    dedupeKey: str(row, 'dedupe_key'),
    raisedAt: num(row, 'raised_at'),
    lastRaisedAt: num(row, 'last_raised_at'),
    occurrences: num(row, 'occurrences'),
    acknowledgedAt: optNum(row, 'acknowledged_at'),
    resolvedAt: optNum(row, 'resolved_at'),
  };
}

export function raiseAlert(db: Db, input: NewAlert): RaisedAlert {
  const kind = check.text('kind', input.kind);
  const severity = check.oneOf('severity', input.severity, ALERT_SEVERITIES);
  const message = check.longText('message', input.message);
  const dedupeKey = check.text('dedupeKey', input.dedupeKey);
  const raisedAt = check.whole('raisedAt', input.raisedAt);
  return db.atomic(() => {
    getVault(db, input.vaultId);
    if (input.serverId !== null) getServerOfVault(db, input.serverId, input.vaultId);
    const again = db.get(
      `UPDATE alerts SET occurrences = occurrences + 1, last_raised_at = ?, message = ?, severity = ?
       WHERE vault_id = ? AND dedupe_key = ? AND resolved_at IS NULL RETURNING ${COLUMNS}`,
      raisedAt,
      message,
      severity,
      input.vaultId,
      dedupeKey,
    );
    if (again) return queued(db, { alert: toAlert(again), created: false });
    const row = db.get(
      `INSERT INTO alerts (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, NULL, NULL) RETURNING ${COLUMNS}`,
      randomUUID(),
      input.vaultId,
      input.serverId,
      kind,
      severity,
      message,
      dedupeKey,
      raisedAt,
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
  if (!row) throw new NotFoundError('ALERT_NOT_FOUND', `no alert with id ${id}`);
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

export function listAlerts(db: Db, vaultId: string, openOnly: boolean): AlertRow[] {
  getVault(db, vaultId);
  const open = openOnly ? 'AND resolved_at IS NULL' : '';
  return db
    .all(`SELECT ${COLUMNS} FROM alerts WHERE vault_id = ? ${open} ORDER BY raised_at DESC, id`, vaultId)
    .map(toAlert);
}
