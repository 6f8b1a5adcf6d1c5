import { randomUUID } from 'node:crypto';
import { ConflictError, NotFoundError } from '../../../errors/index.ts';
import type { AlertRow, DeliveryAttempt, NewWebhook, WebhookDeliveryRow, WebhookRow } from '../types.ts';
import { DELIVERY_STATES } from '../types.ts';
import * as check from '../validate.ts';
import { num, optNum, optStr, type Row, str } from './columns.ts';

// The webhooks and webhook_deliveries tables as both backends see them: columns, rows as
// objects, checked input and the errors of their operations. The SQL that reads and writes
// them is each backend's own.

export const WEBHOOK_COLUMNS = 'id, vault_id, url, secret_sealed, created_at, deleted_at';
export const DELIVERY_COLUMNS = `id, webhook_id, alert_id, alert, state, attempts, created_at, next_attempt_at,
  finished_at, last_status, last_error`;
const MAX_URL = 2048;
const DEFAULT_DELIVERY_LIST = 50;

export function toWebhook(row: Row): WebhookRow {
  return {
    id: str(row, 'id'),
    vaultId: str(row, 'vault_id'),
    url: str(row, 'url'),
    secretSealed: optStr(row, 'secret_sealed'),
    createdAt: num(row, 'created_at'),
    deletedAt: optNum(row, 'deleted_at'),
  };
}

export function toDelivery(row: Row): WebhookDeliveryRow {
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

/** The checked values of a new webhook, in WEBHOOK_COLUMNS order up to created_at. */
export function newWebhookValues(input: NewWebhook) {
  return [
    randomUUID(),
    input.vaultId,
    check.text('url', input.url, MAX_URL),
    input.secretSealed === null ? null : check.longText('secretSealed', input.secretSealed),
    check.whole('createdAt', input.createdAt),
  ] as const;
}

/**
 * One new delivery of this raise per webhook: id, webhook_id, alert_id, alert and
 * created_at (next_attempt_at is created_at again: due at once).
 */
export function newDeliveryValues(alert: AlertRow, webhookIds: readonly string[]) {
  const snapshot = JSON.stringify(alert);
  return webhookIds.map(
    (webhookId) => [randomUUID(), webhookId, alert.id, snapshot, alert.lastRaisedAt] as const,
  );
}

/** A claimed delivery as its claimer gets it: due again when the claim runs out. */
export function claimed(row: Row, until: number): WebhookDeliveryRow {
  return { ...toDelivery(row), nextAttemptAt: until };
}

export function webhookNotFound(id: string): NotFoundError {
  return new NotFoundError('WEBHOOK_NOT_FOUND', `no webhook with id ${id}`);
}

export function deliveryNotFound(id: string): NotFoundError {
  return new NotFoundError('DELIVERY_NOT_FOUND', `no webhook delivery with id ${id}`);
}

/** Checks a claim: due at `now`, leased until a later `until`, at most `limit` deliveries. */
export function checkClaim(now: number, until: number, limit: number): void {
  check.whole('now', now);
  check.after('until', check.whole('until', until), now);
  check.limit(limit);
}

/** The columns an attempt sets: [state, next_attempt_at, finished_at, last_status, last_error]. */
export function attemptColumns(
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

/** A delivered or abandoned delivery is final: no attempt is recorded on it any more. */
export function stillPending(delivery: WebhookDeliveryRow): void {
  if (delivery.state !== 'pending') {
    throw new ConflictError(
      'DELIVERY_FINISHED',
      `webhook delivery ${delivery.id} is already ${delivery.state}`,
    );
  }
}

/** How many deliveries a list returns at most. */
export function deliveryListLimit(options: { limit?: number } | undefined): number {
  return check.limit(options?.limit === undefined ? DEFAULT_DELIVERY_LIST : options.limit);
}
