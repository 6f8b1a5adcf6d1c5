import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { Catalog, NewAlert } from '../types.ts';
import { type Context, HOUR, makeVault, rejectsWith, T0 } from './context.ts';

const MINUTE = 60_000;

function alertInput(vaultId: string, message: string, at: number): NewAlert {
  return {
    vaultId,
    serverId: null,
    kind: 'backup-failed',
    severity: 'critical',
    message,
    dedupeKey: 'k',
    raisedAt: at,
  };
}

function hook(c: Catalog, vaultId: string, url = 'https://example.test/hook', at = T0) {
  return c.createWebhook({ vaultId, url, secretSealed: 'sealed-secret', createdAt: at });
}

export function webhookCases(ctx: Context): void {
  it('creates, lists, finds and deletes webhooks', async () => {
    const vault = await makeVault(ctx.catalog);
    const other = await makeVault(ctx.catalog, 'other');
    const a = await hook(ctx.catalog, vault.id, 'https://a.test/');
    const b = await ctx.catalog.createWebhook({
      vaultId: vault.id,
      url: 'http://b.test/',
      secretSealed: null,
      createdAt: T0 + 1,
    });
    await hook(ctx.catalog, other.id);
    assert.deepEqual(a, {
      id: a.id,
      vaultId: vault.id,
      url: 'https://a.test/',
      secretSealed: 'sealed-secret',
      createdAt: T0,
      deletedAt: null,
    });
    assert.deepEqual(await ctx.catalog.listWebhooks(vault.id), [a, b]);
    const deleted = await ctx.catalog.deleteWebhook(a.id, T0 + 5);
    assert.equal(deleted.deletedAt, T0 + 5);
    assert.equal((await ctx.catalog.deleteWebhook(a.id, T0 + 6)).deletedAt, T0 + 5);
    assert.deepEqual(await ctx.catalog.getWebhook(a.id), deleted);
    assert.deepEqual(await ctx.catalog.listWebhooks(vault.id), [b]);
  });

  it('refuses webhooks of unknown or deleted vaults, and unknown ids', async () => {
    const vault = await makeVault(ctx.catalog);
    await rejectsWith(hook(ctx.catalog, 'nope'), 'not-found', 'VAULT_NOT_FOUND');
    await rejectsWith(hook(ctx.catalog, vault.id, ''), 'bad-input', 'BAD_FIELD');
    await rejectsWith(ctx.catalog.getWebhook('nope'), 'not-found', 'WEBHOOK_NOT_FOUND');
    await rejectsWith(ctx.catalog.deleteWebhook('nope', T0), 'not-found', 'WEBHOOK_NOT_FOUND');
    await ctx.catalog.deleteVault(vault.id, T0 + 1);
    await rejectsWith(hook(ctx.catalog, vault.id), 'conflict', 'VAULT_DELETED');
  });
}

export function deliveryCases(ctx: Context): void {
  it('queues each raise once per live webhook of the vault, with the alert as raised', async () => {
    const vault = await makeVault(ctx.catalog);
    const other = await makeVault(ctx.catalog, 'other');
    const a = await hook(ctx.catalog, vault.id);
    const gone = await hook(ctx.catalog, vault.id);
    await ctx.catalog.deleteWebhook(gone.id, T0);
    const elsewhere = await hook(ctx.catalog, other.id);
    const first = await ctx.catalog.raiseAlert(alertInput(vault.id, 'first', T0));
    const again = await ctx.catalog.raiseAlert(alertInput(vault.id, 'again', T0 + MINUTE));
    const queued = await ctx.catalog.listWebhookDeliveries(a.id);
    assert.deepEqual(
      queued.map((d) => [d.alert.message, d.alert.occurrences, d.state, d.attempts, d.nextAttemptAt]),
      [
        ['again', 2, 'pending', 0, T0 + MINUTE],
        ['first', 1, 'pending', 0, T0],
      ],
    );
    assert.deepEqual(queued[1]!.alert, first.alert);
    assert.deepEqual(queued[0]!.alert, again.alert);
    assert.equal(queued[1]!.alertId, first.alert.id);
    assert.deepEqual(await ctx.catalog.listWebhookDeliveries(gone.id), []);
    assert.deepEqual(await ctx.catalog.listWebhookDeliveries(elsewhere.id), []);
  });

  it('claims due deliveries until the lease ends, then hands them out again', async () => {
    const vault = await makeVault(ctx.catalog);
    const a = await hook(ctx.catalog, vault.id);
    await ctx.catalog.raiseAlert(alertInput(vault.id, 'm', T0));
    assert.deepEqual(await ctx.catalog.claimWebhookDeliveries(T0 - 1, T0 + MINUTE, 10), []);
    const [claimed, ...rest] = await ctx.catalog.claimWebhookDeliveries(T0, T0 + MINUTE, 10);
    assert.equal(rest.length, 0);
    assert.equal(claimed!.webhookId, a.id);
    assert.equal(claimed!.nextAttemptAt, T0 + MINUTE);
    assert.deepEqual(await ctx.catalog.claimWebhookDeliveries(T0 + 1, T0 + 2 * MINUTE, 10), []);
    const reclaimed = await ctx.catalog.claimWebhookDeliveries(T0 + MINUTE, T0 + 2 * MINUTE, 10);
    assert.deepEqual(
      reclaimed.map((d) => d.id),
      [claimed!.id],
    );
    await rejectsWith(ctx.catalog.claimWebhookDeliveries(T0, T0, 10), 'bad-input', 'BAD_FIELD');
  });

  it('records retries, then a final delivery that never changes again', async () => {
    const vault = await makeVault(ctx.catalog);
    const a = await hook(ctx.catalog, vault.id);
    await ctx.catalog.raiseAlert(alertInput(vault.id, 'm', T0));
    const [d] = await ctx.catalog.claimWebhookDeliveries(T0, T0 + MINUTE, 10);
    const retry = await ctx.catalog.recordDeliveryAttempt(d!.id, {
      at: T0 + 1,
      outcome: 'retry',
      retryAt: T0 + HOUR,
      status: 500,
      error: 'HTTP 500',
    });
    assert.deepEqual(
      [retry.state, retry.attempts, retry.nextAttemptAt, retry.lastStatus, retry.lastError],
      ['pending', 1, T0 + HOUR, 500, 'HTTP 500'],
    );
    assert.deepEqual(await ctx.catalog.claimWebhookDeliveries(T0 + HOUR - 1, T0 + 2 * HOUR, 10), []);
    await ctx.catalog.claimWebhookDeliveries(T0 + HOUR, T0 + 2 * HOUR, 10);
    const done = await ctx.catalog.recordDeliveryAttempt(d!.id, {
      at: T0 + HOUR,
      outcome: 'delivered',
      status: 204,
    });
    assert.deepEqual(
      [done.state, done.attempts, done.nextAttemptAt, done.finishedAt, done.lastStatus, done.lastError],
      ['delivered', 2, null, T0 + HOUR, 204, null],
    );
    await rejectsWith(
      ctx.catalog.recordDeliveryAttempt(d!.id, { at: T0 + HOUR, outcome: 'delivered', status: 200 }),
      'conflict',
      'DELIVERY_FINISHED',
    );
    assert.deepEqual(await ctx.catalog.claimWebhookDeliveries(T0 + 9 * HOUR, T0 + 10 * HOUR, 10), []);
    assert.deepEqual(await ctx.catalog.listWebhookDeliveries(a.id), [done]);
  });

  it('abandons a delivery when told, and every pending one of a deleted webhook', async () => {
    const vault = await makeVault(ctx.catalog);
    const a = await hook(ctx.catalog, vault.id);
    const b = await hook(ctx.catalog, vault.id);
    await ctx.catalog.raiseAlert(alertInput(vault.id, 'm', T0));
    const [forA] = await ctx.catalog.listWebhookDeliveries(a.id);
    const given = await ctx.catalog.recordDeliveryAttempt(forA!.id, {
      at: T0 + 1,
      outcome: 'abandoned',
      status: null,
      error: 'connection refused',
    });
    assert.deepEqual([given.state, given.finishedAt, given.nextAttemptAt], ['abandoned', T0 + 1, null]);
    await ctx.catalog.deleteWebhook(b.id, T0 + 2);
    const [forB] = await ctx.catalog.listWebhookDeliveries(b.id);
    assert.deepEqual([forB!.state, forB!.finishedAt], ['abandoned', T0 + 2]);
    assert.deepEqual(await ctx.catalog.claimWebhookDeliveries(T0 + HOUR, T0 + 2 * HOUR, 10), []);
    await rejectsWith(
      ctx.catalog.recordDeliveryAttempt('nope', { at: T0, outcome: 'delivered', status: 200 }),
      'not-found',
      'DELIVERY_NOT_FOUND',
    );
  });

  it('keeps the queue as it was when the raise is rolled back', async () => {
    const vault = await makeVault(ctx.catalog);
    const a = await hook(ctx.catalog, vault.id);
    await assert.rejects(
      ctx.catalog.transaction(async (tx) => {
        await tx.raiseAlert(alertInput(vault.id, 'm', T0));
        throw new Error('stop');
      }),
      /stop/,
    );
    assert.deepEqual(await ctx.catalog.listWebhookDeliveries(a.id), []);
    assert.deepEqual(await ctx.catalog.listAlerts(vault.id), []);
  });
}
