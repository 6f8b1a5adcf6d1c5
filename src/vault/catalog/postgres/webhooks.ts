import { str } from '../shared/columns.ts';
import * as shared from '../shared/webhooks.ts';
import type { AlertRow, DeliveryAttempt, NewWebhook, WebhookDeliveryRow, WebhookRow } from '../types.ts';
import * as check from '../validate.ts';
import type { Db } from './db.ts';
import { getLiveVault, getVault } from './vaults.ts';

// Webhooks and their delivery queue. A delivery is claimed by pushing its due time to the
// end of a lease, so a sender that dies mid-request leaves it due again, never lost; a
// delivered one is final, so it is never sent again after a restart. Two instances
// claiming at once cannot both take one delivery: SERIALIZABLE reruns one claim, which
// then finds it no longer due.

const DELIVERY_COLUMNS = shared.DELIVERY_COLUMNS;
const WEBHOOK_COLUMNS = shared.WEBHOOK_COLUMNS;

export async function createWebhook(db: Db, input: NewWebhook): Promise<WebhookRow> {
  const values = shared.newWebhookValues(input);
  return db.atomic(async (db) => {
    await getLiveVault(db, input.vaultId);
    const row = await db.get(
      `INSERT INTO webhooks (${WEBHOOK_COLUMNS}) VALUES ($1, $2, $3, $4, $5, NULL) RETURNING ${WEBHOOK_COLUMNS}`,
      ...values,
    );
    return shared.toWebhook(row!);
  });
}

export async function getWebhook(db: Db, id: string): Promise<WebhookRow> {
  const row = await db.get(`SELECT ${WEBHOOK_COLUMNS} FROM webhooks WHERE id = $1`, id);
  if (!row) throw shared.webhookNotFound(id);
  return shared.toWebhook(row);
}

export async function listWebhooks(db: Db, vaultId: string): Promise<WebhookRow[]> {
  await getVault(db, vaultId);
  const rows = await db.all(
    `SELECT ${WEBHOOK_COLUMNS} FROM webhooks WHERE vault_id = $1 AND deleted_at IS NULL
     ORDER BY created_at, id COLLATE "C"`,
    vaultId,
  );
  return rows.map(shared.toWebhook);
}

export async function deleteWebhook(db: Db, id: string, at: number): Promise<WebhookRow> {
  check.whole('at', at);
  return db.atomic(async (db) => {
    await getWebhook(db, id);
    await db.run('UPDATE webhooks SET deleted_at = $1 WHERE id = $2 AND deleted_at IS NULL', at, id);
    await db.run(
      `UPDATE webhook_deliveries SET state = 'abandoned', finished_at = $1, next_attempt_at = NULL,
         last_error = 'the webhook was deleted'
       WHERE webhook_id = $2 AND state = 'pending'`,
      at,
      id,
    );
    return getWebhook(db, id);
  });
}

/** Queues one delivery of this raise per live webhook of the alert's vault. Runs inside raiseAlert. */
export async function queueDeliveries(db: Db, alert: AlertRow): Promise<void> {
  const hooks = await db.all(
    'SELECT id FROM webhooks WHERE vault_id = $1 AND deleted_at IS NULL',
    alert.vaultId,
  );
  const sql = `INSERT INTO webhook_deliveries (${DELIVERY_COLUMNS})
    VALUES ($1, $2, $3, $4, 'pending', 0, $5, $5, NULL, NULL, NULL)`;
  const deliveries = shared.newDeliveryValues(
    alert,
    hooks.map((hook) => str(hook, 'id')),
  );
  for (const values of deliveries) await db.run(sql, ...values);
}

export async function claimWebhookDeliveries(
  db: Db,
  now: number,
  until: number,
  limit: number,
): Promise<WebhookDeliveryRow[]> {
  shared.checkClaim(now, until, limit);
  return db.atomic(async (db) => {
    const due = await db.all(
      `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries
       WHERE state = 'pending' AND next_attempt_at <= $1
       ORDER BY next_attempt_at, created_at, id COLLATE "C" LIMIT $2`,
      now,
      limit,
    );
    const ids = due.map((row) => str(row, 'id'));
    if (ids.length > 0) {
      await db.run(
        'UPDATE webhook_deliveries SET next_attempt_at = $1 WHERE id = ANY($2::text[])',
        until,
        ids,
      );
    }
    return due.map((row) => shared.claimed(row, until));
  });
}

async function getDelivery(db: Db, id: string): Promise<WebhookDeliveryRow> {
  const row = await db.get(`SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries WHERE id = $1`, id);
  if (!row) throw shared.deliveryNotFound(id);
  return shared.toDelivery(row);
}

export async function recordDeliveryAttempt(
  db: Db,
  id: string,
  attempt: DeliveryAttempt,
): Promise<WebhookDeliveryRow> {
  const columns = shared.attemptColumns(attempt);
  return db.atomic(async (db) => {
    shared.stillPending(await getDelivery(db, id));
    await db.run(
      `UPDATE webhook_deliveries SET state = $1, attempts = attempts + 1, next_attempt_at = $2, finished_at = $3,
         last_status = $4, last_error = $5
       WHERE id = $6`,
      ...columns,
      id,
    );
    return getDelivery(db, id);
  });
}

export async function listWebhookDeliveries(
  db: Db,
  webhookId: string,
  options?: { limit?: number },
): Promise<WebhookDeliveryRow[]> {
  const limit = shared.deliveryListLimit(options);
  await getWebhook(db, webhookId);
  const rows = await db.all(
    `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries WHERE webhook_id = $1
     ORDER BY created_at DESC, id COLLATE "C" DESC LIMIT $2`,
    webhookId,
    limit,
  );
  return rows.map(shared.toDelivery);
}
