import type { AlertRow } from './types.ts';

// The webhook part of the Catalog contract (./types.ts): webhooks and the queue of their
// deliveries, split out only to keep the contract file readable.

/** A URL a vault's alerts are POSTed to. */
export interface WebhookRow {
  id: string;
  vaultId: string;
  url: string;
  /** The signing secret as the service sealed it (the catalog never sees it in clear); null: unsigned. */
  secretSealed: string | null;
  createdAt: number;
  deletedAt: number | null;
}

export interface NewWebhook {
  vaultId: string;
  url: string;
  secretSealed: string | null;
  createdAt: number;
}

export const DELIVERY_STATES = ['pending', 'delivered', 'abandoned'] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];

/**
 * One raise of an alert, to be POSTed to one webhook. Raising an alert queues one per
 * live webhook of its vault, in the same transaction, so no raise is ever missed.
 */
export interface WebhookDeliveryRow {
  id: string;
  webhookId: string;
  alertId: string;
  /** The alert as it was when raised: what is sent, however the alert changes later. */
  alert: AlertRow;
  state: DeliveryState;
  attempts: number;
  createdAt: number;
  /** When a pending delivery is due (or its claim expires); null once finished. */
  nextAttemptAt: number | null;
  finishedAt: number | null;
  /** The HTTP status of the last attempt; null when it got no answer. */
  lastStatus: number | null;
  lastError: string | null;
}

/** The outcome of one attempt: delivered, try again at retryAt, or give up. */
export type DeliveryAttempt =
  | { at: number; outcome: 'delivered'; status: number }
  | { at: number; outcome: 'retry'; retryAt: number; status: number | null; error: string }
  | { at: number; outcome: 'abandoned'; status: number | null; error: string };
