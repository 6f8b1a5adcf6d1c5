import { randomUUID } from 'node:crypto';
import { ConflictError, NotFoundError } from '../../../errors/index.ts';
import type { AlertRow, DeliveryAttempt, NewWebhook, WebhookDeliveryRow, WebhookRow } from '../types.ts';
import { DELIVERY_STATES } from '../types.ts';
import * as check from '../validate.ts';
import { num, optNum, optStr, str } from './columns.ts';
import type { Db, Row } from './db.ts';
import { getLiveVault, getVault } from './vaults.ts';

// Webhooks and their delivery queue. A delivery is claimed by pushing its due time to the
// end of a lease, so a sender that dies mid-request leaves it due again, never lost; a
// delivered one is final, so it is never sent again after a restart.

const WEBHOOK_COLUMNS = 'id, vault_id, url, secret_sealed, created_at, deleted_at';
const DELIVERY_COLUMNS = `id, webhook_id, alert_id, alert, state, attempts, created_at, next_attempt_at,
  finished_at, last_status, last_error`;
const MAX_URL = 2048;
const DEFAULT_DELIVERY_LIST = 50;

function toWebhook(row: Row): WebhookRow {
  return {
    id: str(row, 'id'),
    vaultId: str(row, 'vault_id'),
    url: str(row, 'url'),
    secretSealed: optStr(row, 'secret_sealed'),
    createdAt: num(row, 'created_at'),
    deletedAt: optNum(row, 'deleted_at'),
  };
}

function toDelivery(row: Row): WebhookDeliveryRow {
  return {
    id: str(row, 'id'),
    webhookId: str(row, 'webhook_id'),
    alertId: str(row, 'alert_id'),
    alert: check.parseObject(str(row, 'alert')) as unknown as AlertRow,
    state: check.oneOf('state', str(row, 'state'), DELIVERY_STATES),
    attempts: num(row, 'attempts'),
    createdAt: num(row, 'created_at'),
    nextAttemptAt: optNum(row, 'next_attempt_at'),
    finishedAt: optNum(row, 'finished_at'),
    lastStatus: optNum(row, 'last_status'),
    lastError: optStr(row, 'last_error'),
  };
}

export function createWebhook(db: Db, input: NewWebhook): WebhookRow {
  const values = [
    randomUUID(),
    input.vaultId,
    check.text('url', input.url, MAX_URL),
    input.secretSealed === null ? null : check.longText('secretSealed', input.secretSealed),
    check.whole('createdAt', input.createdAt),
  ];
  return db.atomic(() => {
    getLiveVault(db, input.vaultId);
    const row = db.get(
      `INSERT INTO webhooks (${WEBHOOK_COLUMNS}) VALUES (?, ?, ?, ?, ?, NULL) RETURNING ${WEBHOOK_COLUMNS}`,
      ...values,
    );
    return toWebhook(row!);
  });
}

export function getWebhook(db: Db, id: string): WebhookRow {
  const row = db.get(`SELECT ${WEBHOOK_COLUMNS} FROM webhooks WHERE id = ?`, id);
  if (!row) throw new NotFoundError('WEBHOOK_NOT_FOUND', `no webhook with id ${id}`);
  return toWebhook(row);
}

export function listWebhooks(db: Db, vaultId: string): WebhookRow[] {
  getVault(db, vaultId);
  return db
    .all(
      `SELECT ${WEBHOOK_COLUMNS} FROM webhooks WHERE vault_id = ? AND deleted_at IS NULL ORDER BY created_at, id`,
      vaultId,
    )
    .map(toWebhook);
}

export function deleteWebhook(db: Db, id: string, at: number): WebhookRow {
  check.whole('at', at);
  return db.atomic(() => {
    getWebhook(db, id);
    db.run('UPDATE webhooks SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL', at, id);
    db.run(
      `UPDATE webhook_deliveries SET state = 'abandoned', finished_at = ?, next_attempt_at = NULL,
         last_error = 'the webhook was deleted'
       WHERE webhook_id = ? AND state = 'pending'`,
      at,
      id,
    );
    return getWebhook(db, id);
  });
}

/** Queues one delivery of this raise per live webhook of the alert's vault. Runs inside raiseAlert. */
export function queueDeliveries(db: Db, alert: AlertRow): void {
  const hooks = db.all('SELECT id FROM webhooks WHERE vault_id = ? AND deleted_at IS NULL', alert.vaultId);
  const snapshot = JSON.stringify(alert);
  for (const hook of hooks) {
    db.run(
      `INSERT INTO webhook_deliveries (${DELIVERY_COLUMNS})
       VALUES (?, ?, ?, ?, 'pending', 0, ?, ?, NULL, NULL, NULL)`,
      randomUUID(),
      str(hook, 'id'),
      alert.id,
      snapshot,
      alert.lastRaisedAt,
      alert.lastRaisedAt,
    );
  }
}

export function claimWebhookDeliveries(
  db: Db,
  now: number,
  until: number,
  limit: number,
): WebhookDeliveryRow[] {
  check.whole('now', now);
  check.after('until', check.whole('until', until), now);
  check.limit(limit);
  return db.atomic(() => {
    const due = db.all(
      `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries
       WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, created_at, id LIMIT ?`,
      now,
      limit,
    );
    for (const row of due) {
      db.run('UPDATE webhook_deliveries SET next_attempt_at = ? WHERE id = ?', until, str(row, 'id'));
    }
    return due.map((row) => ({ ...toDelivery(row), nextAttemptAt: until }));
  });
}

function getDelivery(db: Db, id: string): WebhookDeliveryRow {
  const row = db.get(`SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries WHERE id = ?`, id);
  if (!row) throw new NotFoundError('DELIVERY_NOT_FOUND', `no webhook delivery with id ${id}`);
  return toDelivery(row);
}

/** The columns an attempt sets: [state, next_attempt_at, finished_at, last_status, last_error]. */
function attemptColumns(
  attempt: DeliveryAttempt,
): [string, number | null, number | null, number | null, string | null] {
  const at = check.whole('at', attempt.at);
  const status = attempt.status === null ? null : check.whole('status', attempt.status);
  if (attempt.outcome === 'delivered') return ['delivered', null, at, status, null];
  const error = check.longText('error', attempt.error);
  if (attempt.outcome === 'abandoned') return ['abandoned', null, at, status, error];
  check.oneOf('outcome', attempt.outcome, ['retry']);
  return ['pending', check.whole('retryAt', attempt.retryAt), null, status, error];
}

export function recordDeliveryAttempt(db: Db, id: string, attempt: DeliveryAttempt): WebhookDeliveryRow {
  const [state, next, finished, status, error] = attemptColumns(attempt);
  return db.atomic(() => {
    const delivery = getDelivery(db, id);
    if (delivery.state !== 'pending') {
      throw new ConflictError('DELIVERY_FINISHED', `webhook delivery ${id} is already ${delivery.state}`);
    }
    db.run(
      `UPDATE webhook_deliveries SET state = ?, attempts = attempts + 1, next_attempt_at = ?, finished_at = ?,
         last_status = ?, last_error = ?
       WHERE id = ?`,
      state,
      next,
      finished,
      status,
      error,
      id,
    );
    return getDelivery(db, id);
  });
}

export function listWebhookDeliveries(
  db: Db,
  webhookId: string,
  limit = DEFAULT_DELIVERY_LIST,
): WebhookDeliveryRow[] {
  check.limit(limit);
  getWebhook(db, webhookId);
  return db
    .all(
      `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries WHERE webhook_id = ?
       ORDER BY created_at DESC, id DESC LIMIT ?`,
      webhookId,
      limit,
    )
    .map(toDelivery);
}
