import { createHmac } from 'node:crypto';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { errnoCode, isOffsiteError } from '../../errors/index.ts';
import { Semaphore } from '../../util/index.ts';
import type { Catalog, DeliveryAttempt, WebhookDeliveryRow, WebhookRow } from '../catalog/index.ts';
import { alertJson } from './alerts.ts';
import { openSecret } from './sealing.ts';

// Sends queued alert raises to webhooks: one JSON POST each, signed with
// `X-Offsite-Signature: sha256=<hex HMAC-SHA256(secret, body)>` when the webhook has a
// secret, with a deadline, retried with growing delays, then given up. A delivery is
// marked delivered only after a 2xx answer, so one may arrive twice if the server dies in
// between; X-Offsite-Delivery (the same on every attempt) lets a receiver drop repeats.

/** The wait after the 1st, 2nd, ... failed attempt; after the last one the delivery is abandoned. */
export const RETRY_DELAYS_MS: readonly number[] = [
  30_000, 60_000, 120_000, 300_000, 600_000, 1_800_000, 3_600_000, 7_200_000, 14_400_000, 28_800_000,
];

export interface DeliveryOptions {
  /** From ./sealing.ts webhookSecretKey. */
  key: Buffer;
  now: () => number;
  /** Deadline of one POST, answer included; default 10 s. */
  timeoutMs?: number;
  /** Deliveries claimed at once; default 50. */
  batch?: number;
  /** POSTs in flight at once; default 4. */
  concurrency?: number;
}

export interface DeliveryCounts {
  delivered: number;
  retried: number;
  abandoned: number;
}

export function signature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

type PostResult = { status: number } | { status: null; error: string };

function describe(err: unknown): string {
  return errnoCode(err) ?? (err instanceof Error ? err.message : 'request failed');
}

/** One POST; never throws. Redirects are not followed (a 3xx is a failure). */
function post(
  url: string,
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<PostResult> {
  const target = new URL(url);
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: PostResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      resolve(result);
    };
    const req = send(target, {
      method: 'POST',
      agent: false,
      headers: { ...headers, 'content-length': Buffer.byteLength(body) },
    });
    const deadline = setTimeout(() => {
      finish({ status: null, error: `no answer within ${timeoutMs} ms` });
      req.destroy();
    }, timeoutMs);
    req.on('error', (err) => finish({ status: null, error: describe(err) }));
    req.on('response', (res: IncomingMessage) => {
      res.resume();
      res.on('error', (err) => finish({ status: null, error: describe(err) }));
      res.on('end', () => finish({ status: res.statusCode ?? 0 }));
    });
    req.end(body);
  });
}

async function body(catalog: Catalog, d: WebhookDeliveryRow, hook: WebhookRow): Promise<string> {
  const vault = await catalog.getVault(hook.vaultId);
  const names = new Map<string, string>();
  if (d.alert.serverId !== null) {
    const server = (await catalog.listServers(vault.id)).find((s) => s.id === d.alert.serverId);
    if (server) names.set(server.id, server.name);
  }
  return JSON.stringify({
    delivery: d.id,
    event: 'alert',
    vault: { id: vault.id, name: vault.name },
    alert: alertJson(d.alert, names),
  });
}

function headersFor(
  d: WebhookDeliveryRow,
  hook: WebhookRow,
  text: string,
  key: Buffer,
): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'offsite-vault',
    'x-offsite-event': 'alert',
    'x-offsite-delivery': d.id,
  };
  if (hook.secretSealed !== null) {
    headers['x-offsite-signature'] = signature(openSecret(key, hook.vaultId, hook.secretSealed), text);
  }
  return headers;
}

/** What to record after an attempt that ended with `result`. */
export function outcome(result: PostResult, attemptsBefore: number, at: number): DeliveryAttempt {
  if (result.status !== null && result.status >= 200 && result.status < 300) {
    return { at, outcome: 'delivered', status: result.status };
  }
  const error = result.status === null ? result.error : `answered HTTP ${result.status}`;
  const delay = RETRY_DELAYS_MS[attemptsBefore];
  if (delay === undefined) return { at, outcome: 'abandoned', status: result.status, error };
  return { at, outcome: 'retry', retryAt: at + delay, status: result.status, error };
}

async function deliverOne(
  catalog: Catalog,
  d: WebhookDeliveryRow,
  options: DeliveryOptions,
): Promise<DeliveryAttempt> {
  const hook = await catalog.getWebhook(d.webhookId);
  let attempt: DeliveryAttempt;
  try {
    const text = await body(catalog, d, hook);
    const result = await post(
      hook.url,
      text,
      headersFor(d, hook, text, options.key),
      options.timeoutMs ?? 10_000,
    );
    attempt = outcome(result, d.attempts, options.now());
  } catch (err) {
    // A secret that cannot be opened will not open on a retry either. Any other failure is
    // the server's own: the task logs it and the claim runs out, so the delivery comes back.
    if (!isOffsiteError(err) || err.code !== 'WEBHOOK_SECRET_UNREADABLE') throw err;
    attempt = { at: options.now(), outcome: 'abandoned', status: null, error: err.message };
  }
  try {
    await catalog.recordDeliveryAttempt(d.id, attempt);
  } catch (err) {
    // The webhook was deleted while the POST was in flight: its deliveries are already final.
    if (!isOffsiteError(err) || err.code !== 'DELIVERY_FINISHED') throw err;
  }
  return attempt;
}

/** Sends every delivery that is due now, a batch at a time. */
export async function deliverDueWebhooks(
  catalog: Catalog,
  options: DeliveryOptions,
): Promise<DeliveryCounts> {
  const counts: DeliveryCounts = { delivered: 0, retried: 0, abandoned: 0 };
  const timeoutMs = options.timeoutMs ?? 10_000;
  const batch = options.batch ?? 50;
  const limit = new Semaphore(options.concurrency ?? 4);
  for (let round = 0; round < 20; round++) {
    const now = options.now();
    // Claimed past the deadline: if this process dies mid-POST, the delivery is due again then.
    const due = await catalog.claimWebhookDeliveries(now, now + timeoutMs + 60_000, batch);
    // Settle every POST before reporting a failure, so none is left running unrecorded.
    const settled = await Promise.allSettled(
      due.map((d) => limit.run(() => deliverOne(catalog, d, options))),
    );
    for (const s of settled) {
      if (s.status === 'rejected') throw s.reason;
      if (s.value.outcome === 'delivered') counts.delivered++;
      else if (s.value.outcome === 'retry') counts.retried++;
      else counts.abandoned++;
    }
    if (due.length < batch) break;
  }
  return counts;
}
