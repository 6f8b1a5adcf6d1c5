import { ConflictError, NotFoundError } from '../../errors/index.ts';
import type { Catalog, VaultRow, WebhookDeliveryRow, WebhookRow } from '../catalog/index.ts';
import { bad, fields, iso, plainText } from './input.ts';
import { sealSecret } from './sealing.ts';

// A vault's webhooks: URLs its alerts are POSTed to (see ./delivery.ts). The secret is
// write-only: it is sealed before it reaches the catalog and never shown again.

export const MAX_WEBHOOKS_PER_VAULT = 20;
const MAX_URL = 2048;
const MIN_SECRET = 16;
const MAX_SECRET = 256;

export interface NewWebhookInput {
  url: string;
  secret: string | null;
}

function webhookUrl(value: unknown): string {
  if (typeof value !== 'string' || value.length > MAX_URL)
    throw bad('url', `an http:// or https:// URL of at most ${MAX_URL} characters`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw bad('url', 'not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw bad('url', 'must start with http:// or https://');
  // A password in the URL would be shown by every list: secrets go in `secret`.
  if (url.username !== '' || url.password !== '')
    throw bad('url', 'must not hold a user name or password; use secret');
  if (url.hash !== '') throw bad('url', 'must not have a #fragment');
  return url.href;
}

export function parseWebhook(body: unknown): NewWebhookInput {
  const input = fields(body, ['url', 'secret'], '{url, secret?}');
  const secret =
    input.secret === undefined || input.secret === null
      ? null
      : plainText('secret', input.secret, MAX_SECRET);
  if (secret !== null && secret.length < MIN_SECRET) throw bad('secret', `at least ${MIN_SECRET} characters`);
  return { url: webhookUrl(input.url), secret };
}

export async function addWebhook(
  catalog: Catalog,
  vault: VaultRow,
  input: NewWebhookInput,
  key: Buffer,
  now: number,
): Promise<WebhookRow> {
  if ((await catalog.listWebhooks(vault.id)).length >= MAX_WEBHOOKS_PER_VAULT) {
    throw new ConflictError(
      'TOO_MANY_WEBHOOKS',
      `vault ${vault.name} already has ${MAX_WEBHOOKS_PER_VAULT} webhooks`,
      {
        hint: 'delete one first',
      },
    );
  }
  const secretSealed = input.secret === null ? null : sealSecret(key, vault.id, input.secret);
  return catalog.createWebhook({ vaultId: vault.id, url: input.url, secretSealed, createdAt: now });
}

/** A live webhook of this vault, or "not found". */
export async function webhookOfVault(catalog: Catalog, vaultId: string, id: string): Promise<WebhookRow> {
  const hook = await catalog.getWebhook(id);
  if (hook.vaultId !== vaultId || hook.deletedAt !== null) {
    throw new NotFoundError('WEBHOOK_NOT_FOUND', `no webhook with id ${id}`);
  }
  return hook;
}

/** Never the secret: only whether there is one. */
export function webhookJson(hook: WebhookRow) {
  return { id: hook.id, url: hook.url, signed: hook.secretSealed !== null, createdAt: iso(hook.createdAt) };
}

export function deliveryJson(d: WebhookDeliveryRow) {
  return {
    id: d.id,
    alert: { id: d.alertId, kind: d.alert.kind, severity: d.alert.severity, occurrence: d.alert.occurrences },
    state: d.state,
    attempts: d.attempts,
    createdAt: iso(d.createdAt),
    nextAttemptAt: iso(d.nextAttemptAt),
    finishedAt: iso(d.finishedAt),
    lastStatus: d.lastStatus,
    lastError: d.lastError,
  };
}
