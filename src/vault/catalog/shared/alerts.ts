import { randomUUID } from 'node:crypto';
import { NotFoundError } from '../../../errors/index.ts';
import type { AlertRow, NewAlert } from '../types.ts';
import { ALERT_SEVERITIES } from '../types.ts';
import * as check from '../validate.ts';
import { num, optNum, optStr, type Row, str } from './columns.ts';

// The alerts table as both backends see it: columns, rows as objects, checked input and
// the errors of its operations. The SQL that reads and writes it is each backend's own.

export const ALERT_COLUMNS = `id, vault_id, server_id, kind, severity, message, dedupe_key, raised_at, last_raised_at,
  occurrences, acknowledged_at, resolved_at`;

export function toAlert(row: Row): AlertRow {
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

/**
 * The checked values of a raise: `repeat` for the open alert with its key, if any
 * (last_raised_at, message and severity, then vault_id and dedupe_key to find it);
 * `values` for a new alert otherwise, in ALERT_COLUMNS order up to raised_at
 * (last_raised_at is raised_at again).
 */
export function newAlert(input: NewAlert) {
  const kind = check.text('kind', input.kind);
  const severity = check.oneOf('severity', input.severity, ALERT_SEVERITIES);
  const message = check.longText('message', input.message);
  const dedupeKey = check.text('dedupeKey', input.dedupeKey);
  const raisedAt = check.whole('raisedAt', input.raisedAt);
  const { vaultId, serverId } = input;
  return {
    raisedAt,
    repeat: [raisedAt, message, severity, vaultId, dedupeKey] as const,
    values: [randomUUID(), vaultId, serverId, kind, severity, message, dedupeKey, raisedAt] as const,
  };
}

export function alertNotFound(id: string): NotFoundError {
  return new NotFoundError('ALERT_NOT_FOUND', `no alert with id ${id}`);
}
