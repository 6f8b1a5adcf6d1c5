import { str } from '../shared/columns.ts';
import * as shared from '../shared/webhooks.ts';
import type { AlertRow, DeliveryAttempt, NewWebhook, WebhookDeliveryRow, WebhookRow } from '../types.ts';
import * as check from '../validate.ts';
import type { Db } from './db.ts';
import { getLiveVault, getVault } from './vaults.ts';

// Webhooks and their delivery queue. A delivery is claimed by pushing its due time to the
// end of a lease, so a sender that dies mid-request leaves it due again, never lost; a
// delivered one is final, so it is never sent again after a restart.

const DELIVERY_COLUMNS = shared.DELIVERY_COLUMNS;
const WEBHOOK_COLUMNS = shared.WEBHOOK_COLUMNS;

export function createWebhook(db: Db, input: NewWebhook): WebhookRow {
  const values = shared.newWebhookValues(input);
  return db.atomic(() => {
    getLiveVault(db, input.vaultId);
    const row = db.get(
      `INSERT INTO webhooks (${WEBHOOK_COLUMNS}) VALUES (?, ?, ?, ?, ?, NULL) RETURNING ${WEBHOOK_COLUMNS}`,
      ...values,
    );
    return shared.toWebhook(row!);
  });
}

export function getWebhook(db: Db, id: string): WebhookRow {
  const row = db.get(`SELECT ${WEBHOOK_COLUMNS} FROM webhooks WHERE id = ?`, id);
  if (!row) throw shared.webhookNotFound(id);
  return shared.toWebhook(row);
}

export function listWebhooks(db: Db, vaultId: string): WebhookRow[] {
  getVault(db, vaultId);
  return db
    .all(
      `SELECT ${WEBHOOK_COLUMNS} FROM webhooks WHERE vault_id = ? AND deleted_at IS NULL ORDER BY created_at, id`,
      vaultId,
    )
    .map(shared.toWebhook);
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
  const sql = `INSERT INTO webhook_deliveries (${DELIVERY_COLUMNS})
    VALUES (?, ?, ?, ?, 'pending', 0, ?, ?, NULL, NULL, NULL)`;
  const deliveries = shared.newDeliveryValues(
    alert,
    hooks.map((hook) => str(hook, 'id')),
  );
  for (const values of deliveries) db.run(sql, ...values, alert.lastRaisedAt);
}

export function claimWebhookDeliveries(
  db: Db,
  now: number,
  until: number,
  limit: number,
): WebhookDeliveryRow[] {
  shared.checkClaim(now, until, limit);
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
    return due.map((row) => shared.claimed(row, until));
  });
}

function getDelivery(db: Db, id: string): WebhookDeliveryRow {
  const row = db.get(`SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries WHERE id = ?`, id);
  if (!row) throw shared.deliveryNotFound(id);
  return shared.toDelivery(row);
}

export function recordDeliveryAttempt(db: Db, id: string, attempt: DeliveryAttempt): WebhookDeliveryRow {
  const columns = shared.attemptColumns(attempt);
  return db.atomic(() => {
    shared.stillPending(getDelivery(db, id));
    db.run(
      `UPDATE webhook_deliveries SET state = ?, attempts = attempts + 1, next_attempt_at = ?, finished_at = ?,
         last_status = ?, last_error = ?
       WHERE id = ?`,
      ...columns,
      id,
    );
    return getDelivery(db, id);
  });
}

export function listWebhookDeliveries(
  db: Db,
  webhookId: string,
  options?: { limit?: number },
): WebhookDeliveryRow[] {
  const limit = shared.deliveryListLimit(options);
  getWebhook(db, webhookId);
  return db
    .all(
      `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries WHERE webhook_id = ?
       ORDER BY created_at DESC, id DESC LIMIT ?`,
      webhookId,
      limit,
    )
    .map(shared.toDelivery);
}
